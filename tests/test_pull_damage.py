"""Files are disposable or repairable, never a dead end (issue 10 §5), for the pull store.

Each kind of damage (zero bytes, cut short, garbled header, garbled pages, not a database at all)
is moved aside with one KountaWarning and the pull starts again from the API, over real sockets;
a store removed or replaced while a pull runs stops the pull with one sentence instead of writing
into the void and reporting success; no sqlite3 error reaches the user, in Python or the magics.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from test_pull_store import _fill, _order

from kounta_nb import Kounta
from kounta_nb.errors import DataFileError, KountaWarning, PullError
from kounta_nb.pull import PullStore, pull_orders

SINCE, UNTIL = "2026-05-27T11:00", "2026-05-27T14:00"  # a café lunch: a few dozen orders
FAST = 60_000


def _healthy(path: Path, n: int = 400) -> None:
    store = PullStore(path)
    _fill(store, [_order(i) for i in range(n)])
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


def _zero(path: Path) -> None:
    path.write_bytes(b"")


def _cut_short(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 2)


def _garbled_header(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.write(b"\x00garbage" * 4)


def _garbled_pages(path: Path) -> None:
    size = path.stat().st_size
    rng = random.Random(5)
    with open(path, "r+b") as fh:
        for page in range(2, size // 4096, 3):  # every third page after the schema, in place
            fh.seek(page * 4096 + 16)
            fh.write(bytes(rng.getrandbits(8) for _ in range(2000)))


def _not_a_database(path: Path) -> None:
    path.write_text("these are my notes, not a database\n" * 200)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "zero-byte": _zero,
    "cut short": _cut_short,
    "garbled header": _garbled_header,
    "garbled pages": _garbled_pages,
    "not a database": _not_a_database,
}


def _one_warning(action: Callable[[], Any]) -> tuple[Any, str]:
    with pytest.warns(KountaWarning) as seen:
        result = action()
    messages = [str(w.message) for w in seen]
    assert len(seen) == 1 and issubclass(seen[0].category, KountaWarning), messages
    assert "\n" not in messages[0]
    return result, messages[0]


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_damage__each_kind_is_moved_aside_once_and_a_fresh_store_works(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "pull.sqlite"
    _healthy(path)
    DAMAGE[kind](path)
    damaged_bytes = path.read_bytes()
    store, message = _one_warning(lambda: PullStore(path))
    assert "damaged" in message and "moved aside" in message and "starts again from the API" in message
    (aside,) = tmp_path.glob("pull.sqlite.corrupt-*")
    assert aside.read_bytes() == damaged_bytes  # kept for inspection, untouched
    assert store.counts() == {"orders": 0, "details": 0, "pulls": 0}
    _fill(store, [_order(1)])
    assert store.counts()["details"] == 1
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_damage__a_damaged_store_pull_starts_again_from_the_api(sandbox: Any, tmp_path: Path) -> None:
    client = Kounta.sandbox(handle=sandbox, rate_limit=FAST, cache=tmp_path / "http.sqlite")
    site = int(client.sites()[0]["id"])
    path = tmp_path / "pull.sqlite"
    first = pull_orders(client, SINCE, UNTIL, site=site, store=path, progress=False).wait(60)
    truth = {int(o["id_str"]) for o in first.orders}
    assert truth
    first.store.close()
    _garbled_pages(path)
    job, message = _one_warning(lambda: pull_orders(client, SINCE, UNTIL, site=site, store=path, progress=False))
    job.wait(60)
    assert job.state == "finished" and job.progress.details_fetched == len(truth)  # all fetched again
    assert {int(o["id_str"]) for o in job.orders} == truth


def _slow_pull(handle: Any, tmp_path: Path, path: Path) -> Any:
    client = Kounta.sandbox(handle=handle, rate_limit=600, cache=tmp_path / "http.sqlite")
    site = int(client.sites()[0]["id"])
    job = pull_orders(client, "2026-05-26", "2026-05-27", site=site, store=path, progress=False, workers=3)
    deadline = time.monotonic() + 30
    while job.progress.details_done < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not job.done
    return job


@pytest.mark.parametrize("how", ["removed", "replaced"])
def test_damage__a_store_removed_or_replaced_mid_pull_fails_with_one_line(how: str, sandbox: Any,
                                                                          tmp_path: Path) -> None:
    path = tmp_path / "pull.sqlite"
    job = _slow_pull(sandbox, tmp_path, path)
    for side in ("", "-wal", "-shm"):
        Path(f"{path}{side}").unlink(missing_ok=True)
    if how == "replaced":
        sqlite3.connect(path).close()
    with pytest.raises(PullError, match=how) as info:
        job.wait(30)
    assert "\n" not in str(info.value) and job.state == "failed"
    assert isinstance(info.value.__cause__, DataFileError)
    if how == "removed":
        assert not path.exists()  # nothing was written into a new file behind the user's back


def test_damage__magics_background_pull_on_a_damaged_store_is_one_warning_and_runs(
    sandbox: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``%kounta orders … --background`` on a garbled default store: one KountaWarning line, no
    sqlite3 traceback, and the pull runs from the API."""
    from IPython.core.interactiveshell import InteractiveShell
    from support_magics import magics_of, run

    from kounta_nb.pull.store import store_path

    client = Kounta.sandbox(handle=sandbox, rate_limit=FAST, cache=False)
    path = store_path(client.api_base, client.company_id)
    _healthy(path)
    _garbled_header(path)
    ip = InteractiveShell.instance()
    run(ip, "%load_ext kounta_nb")
    try:
        magics_of(ip).session.sandbox_handle = sandbox
        run(ip, "%kounta sandbox")
        capsys.readouterr()
        job = run(ip, f"%kounta orders --since {SINCE} --until {UNTIL} --background")
        err = capsys.readouterr().err
        shown = [line for line in err.splitlines() if "KountaWarning" in line]
        assert len(shown) == 1 and "damaged" in shown[0], err  # the magics show it as one line
        assert "Traceback" not in err and "sqlite3" not in err
        assert job.wait(60).state == "finished" and len(job.orders) > 0
    finally:
        # the session must not stop the shared sandbox when the extension is unloaded
        magics = ip.magics_manager.registry.get("KountaMagics")
        if magics is not None:
            magics.session.sandbox_handle = None
        ip.run_line_magic("unload_ext", "kounta_nb")
