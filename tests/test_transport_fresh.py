"""Contract: fresh or an error.

Every value the library returns is what the API would answer now, or the call raises one
``KountaError``. A cached body is returned only after a 304; a failed revalidation (dropped
connections, cut-off bodies, 5xx after the retries) raises ``TransportError``/``APIError`` and
never hands back yesterday's data — and nothing of requests-cache's logging reaches stderr.

All over real sockets: the real client against the sandbox, faults from its knobs.
"""

from __future__ import annotations

import pytest
from support_transport import DAY, NO_FAULTS, a_site, client, quiet

from kounta_nb import tables
from kounta_nb.errors import APIError, KountaError, TransportError


@pytest.fixture
def warm(fresh_sandbox, tmp_path):
    """Client A with a warm HTTP cache: orders of a day, one order, lines and payments read once."""
    k = client(fresh_sandbox, tmp_path / "http.sqlite")
    site = a_site(k)
    listing = k.orders(site=site, since=DAY, until=DAY)
    oid = listing[0]["id"]
    k.order(oid)
    for name in ("orders", "lines", "payments"):
        tables.fetch(k, name, site=site, since=DAY, until=DAY, limit=5)
    yield fresh_sandbox, k, site, oid
    k.close()


def _reads(k, site, oid):
    """Every read path of the contract, each a zero-argument call."""
    return {
        "orders()": lambda: k.orders(site=site, since=DAY, until=DAY),
        "order(id)": lambda: k.order(oid),
        "tables orders": lambda: tables.fetch(k, "orders", site=site, since=DAY, until=DAY, limit=5),
        "tables lines": lambda: tables.fetch(k, "lines", site=site, since=DAY, until=DAY, limit=5),
        "tables payments": lambda: tables.fetch(k, "payments", site=site, since=DAY, until=DAY, limit=5),
    }


def test_fresh__all_connections_dropped_is_an_error_never_old_data(warm, capfd, caplog):
    handle, k, site, oid = warm
    capfd.readouterr()
    handle.set_options(fault_drop=1.0)
    for name, read in _reads(k, site, oid).items():
        with pytest.raises(TransportError, match="failed") as info:
            read()
        assert "\n" not in str(info.value), name
    quiet(capfd, caplog)
    # the transport (and its cache) still work once the API answers again
    handle.set_options(**NO_FAULTS)
    assert k.order(oid)["id"] == oid


def test_fresh__cut_off_bodies_after_a_change_are_an_error_never_old_data(warm, capfd, caplog):
    handle, k, site, oid = warm
    other = client(handle, False)
    other.update_order(oid, {"notes": "changed by another client"})
    capfd.readouterr()
    handle.set_options(fault_truncate=1.0)
    # The list page and the order changed: their answers are bodies, and every body is cut off.
    for name in ("orders()", "order(id)", "tables orders", "tables payments"):
        with pytest.raises(TransportError, match="cut off|incomplete"):
            _reads(k, site, oid)[name]()
    quiet(capfd, caplog)
    handle.set_options(**NO_FAULTS)
    assert k.order(oid)["notes"] == "changed by another client"


def test_fresh__unchanged_answers_confirmed_by_304_are_served_even_when_bodies_would_be_cut(warm):
    # A 304 has no body to cut: the API confirmed the cached copy, which is then fresh.
    handle, k, site, oid = warm
    handle.set_options(fault_truncate=1.0)
    before = k.stats.snapshot()
    assert k.order(oid)["id"] == oid
    delta = k.stats.snapshot() - before
    assert (delta.revalidated, delta.downloaded) == (1, 0)


def test_fresh__server_errors_after_the_retries_are_an_error_never_old_data(warm, capfd, caplog):
    handle, k, site, oid = warm
    capfd.readouterr()
    handle.set_options(fault_5xx=1.0)
    for name, read in _reads(k, site, oid).items():
        with pytest.raises(APIError) as info:
            read()
        assert info.value.status >= 500, name
    quiet(capfd, caplog)


def test_fresh__a_fresh_process_with_the_api_down_raises_too(warm, tmp_path, capfd, caplog):
    handle, k, site, oid = warm
    k.close()
    handle.set_options(fault_drop=1.0)
    again = client(handle, tmp_path / "http.sqlite")
    capfd.readouterr()
    with pytest.raises(KountaError):
        again.order(oid)
    quiet(capfd, caplog)
    again.close()


def test_fresh__every_cached_read_is_a_304_not_a_cache_hit(warm):
    handle, k, site, oid = warm
    before = handle.stats()["requests"]
    stats = k.stats.snapshot()
    listing = k.orders(site=site, since=DAY, until=DAY)
    k.order(oid)
    delta = k.stats.snapshot() - stats
    pages = -(-len(listing) // 25) + (len(listing) % 25 == 0)  # the last page may be empty
    assert delta.from_cache == 0 and delta.downloaded == 0
    assert delta.revalidated == delta.requests >= pages + 1
    assert handle.stats()["requests"] - before == delta.requests
