"""Fresh or an error, on the pull re-run path (issue 10 §1), over real sockets.

Another client changes 10 COMPLETE orders (a PUT of notes on five, a new payment on five). The
re-run of the same pull returns the new bodies at a cost of its list pages + 10 detail requests; a
brand-new HTTP cache on the same store returns them too (the store keyed each body by its own
``updated_at``); and a body older than the list says is never stored as current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_pull_sandbox import SINCE, UNTIL, Recorder, _client, _site

from kounta_nb import Kounta
from kounta_nb.errors import PullError
from kounta_nb.pull import pull_orders


def _change_ten(handle: Any, ids: list[int]) -> None:
    other = Kounta.sandbox(handle=handle, rate_limit=60_000, cache=False)  # another client, elsewhere
    for oid in ids[:5]:
        other.update_order(oid, {"notes": f"changed by another client {oid}"})
    for oid in ids[5:]:
        other.add_payment(oid, {"method_id": 612, "amount": 1.25})
    other.close()


def test_fresh__a_rerun_after_changes_returns_the_new_bodies_for_list_pages_plus_k(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    store = tmp_path / "pull.sqlite"
    client = _client(fresh_sandbox, tmp_path, Recorder())
    site = _site(client)
    first = pull_orders(client, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    before = {int(o["id_str"]): o for o in first.orders}
    ids = sorted(before)[::7][:10]
    _change_ten(fresh_sandbox, ids)

    rec = Recorder()
    client2 = _client(fresh_sandbox, tmp_path, rec)  # a restart: same HTTP cache file, same store
    again = pull_orders(client2, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    details = rec.details()
    assert set(details) == set(ids) and max(details.values()) == 1
    pulled = [c for c in rec.calls if not c[0].endswith("/sites")]  # resolve_site reads the site list
    assert len(pulled) == len(rec.lists()) + len(ids)  # list pages + k, nothing else
    assert again.progress.details_fetched == len(ids) and again.progress.details_reused == len(before) - len(ids)
    now = {int(o["id_str"]): o for o in again.orders}
    for oid in ids[:5]:
        assert now[oid]["notes"] == f"changed by another client {oid}"
    for oid in ids[5:]:
        assert len(now[oid]["payments"]) == len(before[oid]["payments"]) + 1
        assert now[oid]["updated_at"] > before[oid]["updated_at"]
    unchanged = set(before) - set(ids)
    assert all(now[oid] == before[oid] for oid in unchanged)
    notes = again.frames()["orders"].set_index("id")["notes"]
    assert notes[str(ids[0])] == f"changed by another client {ids[0]}"

    # a brand-new HTTP cache on the same store: the same new bodies, and no detail asked again
    rec3 = Recorder()
    client3 = rec3.attach(Kounta.sandbox(handle=fresh_sandbox, rate_limit=60_000, cache=tmp_path / "new-http.sqlite"))
    third = pull_orders(client3, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    assert sum(rec3.details().values()) == 0
    assert {int(o["id_str"]): o for o in third.orders} == now


class _Stale:
    """A detail answer replaying an old body (a lagging replica, a proxy's cache)."""

    status_code = 200
    revalidated = False

    def __init__(self, body: dict[str, Any], url: str) -> None:
        self._body = body
        self.url = url
        self.headers: dict[str, str] = {}
        self.content = json.dumps(body).encode()

    def json(self) -> Any:
        return json.loads(self.content)


def test_fresh__a_body_older_than_its_listing_is_retried_then_fails_and_is_not_stored(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kounta_nb.pull import scheduler

    monkeypatch.setattr(scheduler, "STALE_BACKOFF_S", 0.01)
    store = tmp_path / "pull.sqlite"
    client = _client(fresh_sandbox, tmp_path, Recorder())
    site = _site(client)
    first = pull_orders(client, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    before = {int(o["id_str"]): o for o in first.orders}
    ids = sorted(before)[:10]
    _change_ten(fresh_sandbox, ids)

    rec = Recorder()
    client2 = _client(fresh_sandbox, tmp_path, rec)
    honest = client2.transport.request
    lagging = ids[0]

    def request(method: str, url: str, **kw: Any) -> Any:
        response = honest(method, url, **kw)
        if url.endswith(f"/orders/{lagging}"):
            return _Stale(before[lagging], response.url)
        return response

    client2.transport.request = request  # type: ignore[method-assign]
    job = pull_orders(client2, SINCE, UNTIL, site=site, store=store, progress=False, workers=2)
    with pytest.raises(PullError, match="older version") as info:
        job.wait(60)
    assert "\n" not in str(info.value)
    assert rec.details()[lagging] == 1 + scheduler.STALE_RETRIES  # asked again before giving up
    versions = first.store.detail_versions([lagging])
    assert versions[lagging][0] == before[lagging]["updated_at"]  # the old one stays marked old

    # an honest transport later: the lagging order is fetched again, and it is the new body
    client3 = _client(fresh_sandbox, tmp_path, Recorder())
    done = pull_orders(client3, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    fresh = {int(o["id_str"]): o for o in done.orders}[lagging]
    assert fresh["notes"] == f"changed by another client {lagging}"
