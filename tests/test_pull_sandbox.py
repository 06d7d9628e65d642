"""The pull engine against the sandbox over real sockets: resume, never twice, incremental, errors.

Every request the engine makes goes through ``client.transport.request``; a recorder wrapped around
it counts detail requests per order id across clients (a new client = a kernel restart).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from kounta_nb import Kounta
from kounta_nb.errors import ConfigError, PullError
from kounta_nb.pull import PullStore, dry_run, pull_orders
from kounta_nb.pull import job as pull_job

SINCE, UNTIL = "2026-05-26", "2026-05-27"  # two local days (a date-only until includes its day)
FAST = 60_000  # client-side requests/minute when the sandbox does not limit


class Recorder:
    """Counts what went through ``transport.request`` for every attached client."""

    DETAIL = re.compile(r"/orders/(\d+)$")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, int, bool]] = []

    def attach(self, client: Kounta) -> Kounta:
        original = client.transport.request

        def request(method: str, url: str, **kw: Any) -> Any:
            response = original(method, url, **kw)
            with self.lock:
                self.calls.append((urlsplit(response.url).path, response.status_code, bool(response.revalidated)))
            return response

        client.transport.request = request  # type: ignore[method-assign]
        return client

    def details(self) -> Counter[int]:
        with self.lock:
            return Counter(int(m.group(1)) for p, _, _ in self.calls if (m := self.DETAIL.search(p)))

    def lists(self) -> list[tuple[str, int, bool]]:
        with self.lock:
            return [c for c in self.calls if c[0].endswith("/orders/complete")]


def _client(handle: Any, tmp_path: Path, rec: Recorder, rate: float = FAST) -> Kounta:
    client = Kounta.sandbox(handle=handle, rate_limit=rate, cache=tmp_path / "http.sqlite")
    return rec.attach(client)


def _site(client: Kounta) -> int:
    return int(client.sites()[0]["id"])


def _truth(client: Kounta, site: int, since: str = SINCE, until: str = UNTIL) -> set[int]:
    return {int(o["id_str"]) for o in client.orders(site=site, status="complete", since=since, until=until)}


def test_pull__every_order_once_with_details_and_frames(sandbox: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    client = _client(sandbox, tmp_path, rec)
    site = _site(client)
    threads_then: list[set[str]] = []  # the malloc arenas are limited before the pull's threads start
    monkeypatch.setattr(pull_job, "limit_malloc_arenas",
                        lambda: threads_then.append({t.name for t in threading.enumerate()}) or True)
    job = pull_orders(client, SINCE, UNTIL, site=site, store=tmp_path / "pull.sqlite", progress=False, workers=6)
    assert len(threads_then) == 1 and not any(n.startswith("kounta-pull") for n in threads_then[0])
    job.wait(60)
    truth = _truth(client, site)
    assert job.state == "finished" and job.done
    details = rec.details()
    assert set(details) == truth and max(details.values()) == 1
    tables = job.frames()
    assert set(tables) == {"orders", "lines", "payments", "options", "listed"}
    assert tables["orders"]["id"].is_unique and set(tables["orders"]["id"].astype(int)) == truth
    assert len(tables["listed"]) == len(truth)
    p = job.progress
    assert p.details_done == p.details_total == len(truth) and p.listing_done and p.requests_to_go == 0
    # complete: estimates are the exact totals, with zero-width intervals
    by_product = job.estimate(by="product", metric="quantity")
    exact = tables["lines"].groupby("product_name")["quantity"].sum()
    assert by_product["exact"].all() and (by_product["lo"] == by_product["hi"]).all()
    assert by_product["estimate"].sort_index().to_dict() == pytest.approx(exact[exact != 0].sort_index().to_dict())
    by_day = job.estimate(by="day")
    assert list(by_day.index) == ["2026-05-26", "2026-05-27"]
    assert "finished" in repr(job) and "<table" in job._repr_html_()


def test_pull__cancel_is_prompt_and_resume_in_a_new_client_fetches_nothing_twice(sandbox: Any, tmp_path: Path) -> None:
    rec = Recorder()
    store = tmp_path / "pull.sqlite"
    client = _client(sandbox, tmp_path, rec, rate=900)  # 15/s: slow enough to stop half way
    site = _site(client)
    job = pull_orders(client, SINCE, UNTIL, site=site, store=store, progress=False, workers=4)
    deadline = time.monotonic() + 20
    while job.progress.details_done < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    job.cancel()
    took = time.monotonic() - started
    assert job.state == "cancelled" and job.done
    assert took < 1.5, took  # < 1 s plus one in-flight request
    before = sum(rec.details().values())
    time.sleep(0.3)
    assert sum(rec.details().values()) == before  # nothing moves after cancel() returned
    assert 30 <= job.progress.details_done < job.progress.details_total
    job.wait()  # a cancelled job is not an error

    # "kernel restart": a new client, a new job with the same parameters, the same store
    client2 = _client(sandbox, tmp_path, rec)
    job2 = pull_orders(client2, SINCE, UNTIL, site=site, store=store, progress=False, workers=6)
    job2.wait(60)
    truth = _truth(client2, site)
    details = rec.details()
    assert set(details) == truth
    assert max(details.values()) == 1, [k for k, v in details.items() if v > 1]
    assert job2.progress.details_reused == before
    assert {int(o["id_str"]) for o in job2.orders} == truth


def test_pull__rerun_makes_zero_detail_requests_and_revalidates_lists(sandbox: Any, tmp_path: Path) -> None:
    rec = Recorder()
    store = tmp_path / "pull.sqlite"
    client = _client(sandbox, tmp_path, rec)
    site = _site(client)
    first = pull_orders(client, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    fetched = sum(rec.details().values())
    lists_before = len(rec.lists())

    rec2 = Recorder()
    client2 = _client(sandbox, tmp_path, rec2)
    again = pull_orders(client2, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    assert sum(rec2.details().values()) == 0
    lists = rec2.lists()
    assert lists and all(revalidated for _, _, revalidated in lists)  # 304s through the ETag cache
    assert len(lists) <= lists_before
    assert again.progress.details_reused == fetched == first.progress.details_done
    assert len(again.orders) == len(first.orders)


def test_pull__incremental_fetches_only_new_orders(sandbox_factory: Any, tmp_path: Path) -> None:
    handle = sandbox_factory()
    rec = Recorder()
    store = tmp_path / "pull.sqlite"
    client = _client(handle, tmp_path, rec)
    site = _site(client)
    first = pull_orders(client, "2026-05-28", site=site, store=store, progress=False).wait(60)
    old = {int(o["id_str"]) for o in first.orders}
    assert old
    with pytest.raises(ConfigError, match="last"):
        pull_orders(client, "last", site=None, store=store, progress=False)  # no earlier all-sites pull

    handle.advance(86400)  # one trading day later
    rec2 = Recorder()
    client2 = _client(handle, tmp_path, rec2)
    job = pull_orders(client2, "last", site=site, store=store, progress=False).wait(60)
    new = {int(o["id_str"]) for o in job.orders} - old
    assert new, "the sandbox day should bring new orders"
    details = rec2.details()
    assert set(details) == new and max(details.values()) == 1
    assert job.progress.details_reused > 0  # the overlap window was listed but not fetched again
    everything = _truth(client2, site, "2026-05-28", "2026-06-01")
    assert old | new == everything


def test_pull__revoked_token_fails_with_reconnect_and_resumes(sandbox_factory: Any, tmp_path: Path) -> None:
    handle = sandbox_factory()
    rec = Recorder()
    store = tmp_path / "pull.sqlite"
    client = _client(handle, tmp_path, rec, rate=900)
    site = _site(client)
    job = pull_orders(client, SINCE, UNTIL, site=site, store=store, progress=False, workers=4)
    deadline = time.monotonic() + 20
    while job.progress.details_done < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    handle.revoke()
    handle.expire_tokens()
    with pytest.raises(PullError, match="reconnect") as info:
        job.wait(30)
    assert "\n" not in str(info.value) and "resume" in str(info.value)
    assert job.state == "failed" and job.progress.error
    done = job.progress.details_done

    client2 = _client(handle, tmp_path, rec)  # log in again
    job2 = pull_orders(client2, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    truth = _truth(client2, site)
    details = rec.details()
    assert set(details) == truth and max(details.values()) == 1
    assert job2.progress.details_reused >= done


def test_pull__dry_run_is_close_to_the_real_count(sandbox: Any, tmp_path: Path) -> None:
    client = Kounta.sandbox(handle=sandbox, rate_limit=FAST, cache=False)
    site = _site(client)
    plan = dry_run(client, "2026-05-15", "2026-05-29", site=site)
    real = len(_truth(client, site, "2026-05-15", "2026-05-29"))
    assert real / 2 <= plan.orders <= real * 2, (plan.orders, real)
    assert plan.requests == plan.list_requests + plan.detail_requests
    assert plan.probe_requests <= 1 + 3 * 4
    assert "orders" in str(plan) and "requests/minute" in str(plan)
    small = dry_run(client, "2026-05-28T10:00", "2026-05-28T10:30", site=site)
    assert small.exact and small.orders == len(_truth(client, site, "2026-05-28T10:00", "2026-05-28T10:30"))


def test_pull__bad_arguments_are_one_sentence_errors(sandbox: Any, tmp_path: Path) -> None:
    client = Kounta.sandbox(handle=sandbox, rate_limit=FAST, cache=False)
    store = PullStore(tmp_path / "pull.sqlite")
    with pytest.raises(ConfigError, match="not before"):  # the shared dates.check_range sentence
        pull_orders(client, UNTIL, SINCE, store=store, progress=False)
    with pytest.raises(ConfigError, match="date"):
        pull_orders(client, "the day before", store=store, progress=False)
    with pytest.raises(ConfigError, match="status"):
        pull_orders(client, SINCE, store=store, progress=False, status="finished")
    with pytest.raises(ConfigError, match="workers"):
        pull_orders(client, SINCE, store=store, progress=False, workers=0)
    job = pull_orders(client, "2026-05-28T10:00", "2026-05-28T11:00", site=_site(client), store=store,
                      progress=False).wait(30)
    with pytest.raises(ConfigError, match="one of"):
        job.estimate(by="colour")  # type: ignore[arg-type]


def test_pull__site_all_and_status_any_mean_what_they_mean_everywhere(sandbox: Any, tmp_path: Path) -> None:
    """``site="all"`` and ``status="any"`` work in the pull and the dry run as in ``Kounta.orders``,
    ``tables.fetch`` and the magics: every site, every status (the same pull as ``None``)."""
    client = Kounta.sandbox(handle=sandbox, rate_limit=FAST, cache=False)
    window = ("2026-05-27", "2026-05-27")  # one whole local day
    listed = client.orders(since=window[0], until=window[1], site="all", status="any")
    assert len({o["site_id"] for o in listed}) > 1 and {o["status"] for o in listed} != {"COMPLETE"}
    store = tmp_path / "pull.sqlite"
    job = pull_orders(client, *window, site="All ", status="ANY", store=store, progress=False,
                      details=False).wait(60)
    assert job.state == "finished" and job.key.startswith("site=*|status=*|")
    assert {o["id"] for o in job.store.summaries(job.key)} == {o["id"] for o in listed}
    again = pull_orders(client, *window, store=store, status=None, progress=False, details=False)
    assert again.wait(60).key == job.key
    every = dry_run(client, *window, site="all", status="any")
    assert abs(every.orders - len(listed)) <= len(listed) * 0.1
    complete = dry_run(client, *window, site="all")
    assert abs(complete.orders - sum(o["status"] == "COMPLETE" for o in listed)) <= len(listed) * 0.1


def test_pull__same_pull_twice_returns_the_running_job_and_shows_a_bar(sandbox: Any, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    client = Kounta.sandbox(handle=sandbox, rate_limit=600, cache=False)
    site = _site(client)
    job = pull_orders(client, SINCE, UNTIL, site=site, store=tmp_path / "p.sqlite", progress=True, workers=2)
    again = pull_orders(client, SINCE, UNTIL, site=site, store=tmp_path / "p.sqlite", progress=False)
    assert again is job
    time.sleep(1.0)
    p = job.progress
    assert p.state in ("listing", "fetching") and p.requests_done > 0 and p.eta_s is not None
    job.cancel()
    assert "Kounta pull" in capsys.readouterr().err


def test_pull__network_faults_and_429s_still_give_every_order_once(sandbox_factory: Any, tmp_path: Path) -> None:
    handle = sandbox_factory(fault_5xx=0.03, fault_drop=0.02, fault_429=0.004, fault_truncate=0.02, fault_seed=3)
    rec = Recorder()
    client = Kounta.sandbox(handle=handle, rate_limit=FAST, cache=tmp_path / "http.sqlite", backoff_base=0.01)
    rec.attach(client)
    site = _site(client)
    job = pull_orders(client, SINCE, UNTIL, site=site, store=tmp_path / "p.sqlite", progress=False, workers=6)
    job.wait(90)
    handle.set_options(fault_5xx=0.0, fault_drop=0.0, fault_429=0.0, fault_truncate=0.0)
    truth = _truth(client, site)
    details = rec.details()
    assert set(details) == truth and max(details.values()) == 1
    assert client.stats.retries > 0  # the faults happened and were absorbed below the engine


def test_pull__the_client_method_starts_the_same_engine(sandbox: Any, tmp_path: Path) -> None:
    rec = Recorder()
    client = _client(sandbox, tmp_path, rec)
    site = _site(client)
    job = client.pull_orders(SINCE, UNTIL, site=site, store=tmp_path / "pull.sqlite", progress=False)
    assert job.wait(60).state == "finished"
    assert set(job.frames()["orders"]["id"].astype(int)) == _truth(client, site)
    with pytest.raises(ConfigError, match="workers"):
        client.pull_orders(SINCE, store=tmp_path / "pull.sqlite", progress=False, workers=0)


_KILLED_CHILD = """
import json, sys, time
from types import SimpleNamespace
from kounta_nb import Kounta
from kounta_nb.pull import pull_orders
handle = SimpleNamespace(**json.loads(sys.argv[1]))
client = Kounta.sandbox(handle=handle, rate_limit=900, cache=sys.argv[2])
job = pull_orders(client, sys.argv[3], sys.argv[4], site=int(sys.argv[5]), store=sys.argv[6],
                  progress=False, workers=4)
while True:
    print(job.progress.details_done, flush=True)
    time.sleep(0.05)
"""


def test_pull__a_process_killed_mid_pull_resumes_with_every_order_once(sandbox: Any, tmp_path: Path) -> None:
    """SIGKILL (a closed laptop, a dead kernel): nothing stored is fetched again on resume."""
    import json
    import os
    import signal
    import subprocess
    import sys

    rec = Recorder()
    client = _client(sandbox, tmp_path, rec)
    site = _site(client)
    store = tmp_path / "pull.sqlite"
    fields = ("api_base", "authorize_url", "token_url", "redirect_uri", "client_id", "client_secret",
              "username", "password")
    handle = json.dumps({name: getattr(sandbox, name) for name in fields})
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_CHILD, handle, str(tmp_path / "child-http.sqlite"), SINCE, UNTIL,
         str(site), str(store)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None
        for line in child.stdout:
            if int(line) >= 40:
                break
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()  # a ResourceWarning otherwise
    saved = set(PullStore(store).detail_versions())
    assert len(saved) >= 40

    job = pull_orders(client, SINCE, UNTIL, site=site, store=store, progress=False, workers=6)
    job.wait(60)
    truth = _truth(client, site)
    fetched = rec.details()
    assert not saved & set(fetched), "a detail stored before the kill was fetched again"
    assert saved | set(fetched) == truth and max(fetched.values()) == 1
    orders = job.frames()["orders"]
    assert orders["id"].is_unique and set(orders["id"].astype(int)) == truth
    assert job.progress.details_reused == len(saved)
