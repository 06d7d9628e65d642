"""Contract: offline is explicit.

Only with ``offline=True`` does a failed GET come back from the cache, and then every such answer
says so (``stale=True``, ``fetched_at`` = when it was stored) and one ``KountaWarning`` per
outage says how old the data is. Nothing is printed.

And offline mode is quick about it: once a GET has used up its retries and was served from the
cache (the outage is established), each later GET makes one attempt, with no back-off, until the
API answers again; a GET in offline mode gives up connecting after
``settings.OFFLINE_CONNECT_TIMEOUT_S``. Attempts are counted by a proxy that drops every
connection (or by the transport's own request counter), never timed.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support_proxy import FaultProxy, blackhole
from support_transport import DAY, NO_FAULTS, a_site, client, quiet

from kounta_nb import Kounta
from kounta_nb.errors import APIError, ConfigError, KountaWarning, NotFoundError, TransportError
from kounta_nb.transport import Transport

#: The default retry ladder (settings.MAX_RETRIES = 6: seven attempts), with a quick back-off.
LADDER = {"rate_limit": 100_000, "backoff_base": 0.001, "max_retries": 6}
ATTEMPTS = 1 + 6


@pytest.fixture
def offline(fresh_sandbox, tmp_path):
    k = client(fresh_sandbox, tmp_path / "http.sqlite")
    site = a_site(k)
    oid = k.orders(site=site, since=DAY, until=DAY)[0]["id"]
    path = f"companies/{k.company_id}/orders/{oid}"
    stored_before = datetime.now(UTC)
    first = k.transport.request("GET", path)
    k.transport.offline = True
    yield fresh_sandbox, k, path, first, stored_before
    k.close()


def test_offline__default_is_off():
    assert Transport.__init__.__kwdefaults__["offline"] is False
    with pytest.raises(ConfigError):
        Transport("http://127.0.0.1:1/v1/", None, offline="yes", cache_path=False)  # type: ignore[arg-type]


def test_offline__a_failed_get_answers_stale_with_its_age_and_one_warning(offline, capfd, caplog):
    handle, k, path, first, stored_before = offline
    capfd.readouterr()
    handle.set_options(fault_drop=1.0)
    with pytest.warns(KountaWarning) as caught:
        answers = [k.transport.request("GET", path) for _ in range(3)]
        k.transport.request("GET", f"companies/{k.company_id}/sites")
    for answer in answers:
        assert answer.stale and answer.from_cache and not answer.revalidated
        assert answer.json() == first.json()
        assert stored_before - timedelta(seconds=1) <= answer.fetched_at <= datetime.now(UTC)
    ours = [w for w in caught if issubclass(w.category, KountaWarning)]
    assert len(ours) == 1, [str(w.message) for w in ours]
    text = str(ours[0].message)
    assert "\n" not in text and "Offline mode" in text and "old" in text and "cached data from" in text
    assert k.stats.stale == 4
    quiet(capfd, caplog)


def test_offline__a_new_outage_warns_again_and_a_good_answer_is_fresh(offline):
    handle, k, path, first, _ = offline
    handle.set_options(fault_drop=1.0)
    with pytest.warns(KountaWarning):
        assert k.transport.request("GET", path).stale
    handle.set_options(**NO_FAULTS)
    back = k.transport.request("GET", path)
    assert not back.stale and back.revalidated
    handle.set_options(fault_5xx=1.0)
    with pytest.warns(KountaWarning, match="Offline mode"):
        assert k.transport.request("GET", path).stale


def test_offline__nothing_cached_still_raises(offline):
    handle, k, path, first, _ = offline
    handle.set_options(fault_drop=1.0)
    with pytest.raises(TransportError):
        k.transport.request("GET", f"companies/{k.company_id}/taxes")


def test_offline__an_answer_from_the_api_is_never_replaced_by_the_cache(offline):
    handle, k, path, first, _ = offline
    with pytest.raises(NotFoundError):
        k.transport.request("GET", f"companies/{k.company_id}/orders/5")
    # a write is never answered from the cache
    handle.set_options(fault_drop=1.0)
    with pytest.raises(TransportError):
        k.transport.request("PUT", path, json={"notes": "x"})


def test_offline__off_means_the_same_outage_is_an_error(offline):
    handle, k, path, first, _ = offline
    k.transport.offline = False
    handle.set_options(fault_drop=1.0)
    with pytest.raises(TransportError):
        k.transport.request("GET", path)


# -- an established outage: one attempt per request ----------------------------------------------------


@pytest.fixture
def proxied(sandbox, tmp_path) -> Iterator[tuple[FaultProxy, Kounta]]:
    """An offline-mode client with the default retry ladder, behind a proxy that can drop everything."""
    proxy = FaultProxy(sandbox.url)
    k = Kounta.basic(sandbox.client_id, sandbox.client_secret, api_base=proxy.api_base,
                     cache=tmp_path / "http.sqlite", token_store=False, offline=True, **LADDER)  # fmt: skip
    yield proxy, k
    k.close()
    proxy.stop()


def _drop(method: str, path: str) -> str:
    return "drop"


def _ours(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, KountaWarning)]


def test_offline__an_established_outage_costs_one_attempt_per_request(proxied, capfd, caplog):
    proxy, k = proxied
    site = a_site(k)
    fresh = k.orders(site=site, since=DAY, until=DAY)
    pages = fresh.meta["stats"]["requests"]
    assert pages >= 5 and not fresh.meta["stale"]
    sites = f"companies/{k.company_id}/sites"
    capfd.readouterr()

    proxy.rule = _drop
    with pytest.warns(KountaWarning) as caught:
        first = k.orders(site=site, since=DAY, until=DAY)  # the first page establishes the outage
        assert proxy.actions("drop") == ATTEMPTS + (pages - 1)
        again = k.orders(site=site, since=DAY, until=DAY)  # the same outage: one attempt a page
        assert proxy.actions("drop") == ATTEMPTS + 2 * pages - 1
        assert k.transport.request("GET", sites).stale
        assert proxy.actions("drop") == ATTEMPTS + 2 * pages
        # nothing cached: still an error, of one line, after one attempt too
        with pytest.raises(TransportError) as nothing:
            k.transport.request("GET", f"companies/{k.company_id}/taxes")
        assert proxy.actions("drop") == ATTEMPTS + 2 * pages + 1
    assert "\n" not in str(nothing.value) and "one attempt" in str(nothing.value)
    for stale in (first, again):
        assert list(stale) == list(fresh) and stale.meta["stale"] is True and stale.meta["stale_since"]
    assert len(_ours(caught)) == 1 and "Offline mode" in _ours(caught)[0]

    # The network comes back: the first answer is fresh (304s here) and ends the outage ...
    proxy.rule = lambda method, path: "pass"
    back = k.orders(site=site, since=DAY, until=DAY)
    assert list(back) == list(fresh) and back.meta["stale"] is False
    assert back.meta["stats"]["revalidated"] == pages and back.meta["stats"]["stale"] == 0
    # ... so the next outage is established by the full ladder again, and warned about again.
    proxy.rule = _drop
    dropped = proxy.actions("drop")
    with pytest.warns(KountaWarning, match="Offline mode"):
        assert k.transport.request("GET", sites).stale
    assert proxy.actions("drop") == dropped + ATTEMPTS
    quiet(capfd, caplog)


def test_offline__threads_share_the_outage_and_its_one_warning(proxied):
    proxy, k = proxied
    site = a_site(k)
    listing = k.orders(site=site, since=DAY, until=DAY)
    paths = [f"companies/{k.company_id}/orders/{r['id']}" for r in listing[:48]]
    for path in paths:
        k.transport.request("GET", path)
    proxy.rule = _drop

    def get(path: str) -> Any:
        return k.transport.request("GET", path)

    with pytest.warns(KountaWarning) as caught:
        # Eight threads at once while no outage is known yet: each may be retrying when the
        # outage begins, but it begins once, so there is one warning.
        with ThreadPoolExecutor(8) as pool:
            opening = list(pool.map(get, paths[:8]))
        assert len(_ours(caught)) == 1
        assert proxy.actions("drop") <= 8 * ATTEMPTS
        # Established: 40 requests over 8 threads cost 40 attempts, and no further warning.
        dropped = proxy.actions("drop")
        with ThreadPoolExecutor(8) as pool:
            rest = list(pool.map(get, paths[8:]))
        assert proxy.actions("drop") == dropped + len(paths) - 8
    assert len(_ours(caught)) == 1
    assert all(answer.stale and answer.from_cache for answer in opening + rest)


def test_offline__writes_and_offline_off_keep_the_full_ladder(proxied):
    proxy, k = proxied
    path = f"companies/{k.company_id}/sites"
    k.transport.request("GET", path)
    proxy.rule = _drop
    with pytest.warns(KountaWarning):
        assert k.transport.request("GET", path).stale  # the outage is established
    dropped = proxy.actions("drop")
    # a write is never answered from the cache, so it keeps every retry it has
    with pytest.raises(TransportError):
        k.transport.request("PUT", f"companies/{k.company_id}/customers/1", json={"first_name": "x"})
    assert proxy.actions("drop") == dropped + ATTEMPTS
    # offline mode turned off in the middle of the outage: fresh or an error, every retry, each time
    k.transport.offline = False
    for _ in range(2):
        with pytest.raises(TransportError, match=r"after 6 retries"):
            k.transport.request("GET", path)
    assert proxy.actions("drop") == dropped + 3 * ATTEMPTS


def test_offline__a_5xx_outage_costs_one_attempt_per_request_too(fresh_sandbox, tmp_path):
    k = client(fresh_sandbox, tmp_path / "http.sqlite", offline=True, **LADDER)
    paths = [f"companies/{k.company_id}/{what}" for what in ("sites", "categories", "staff", "registers")]
    for path in paths:
        k.transport.request("GET", path)
    fresh_sandbox.set_options(fault_5xx=1.0)
    before = k.stats.snapshot()
    with pytest.warns(KountaWarning, match="Offline mode"):
        answers = [k.transport.request("GET", path) for path in paths]
    assert all(answer.stale for answer in answers)
    assert (k.stats.snapshot() - before).requests == ATTEMPTS + len(paths) - 1
    before = k.stats.snapshot()
    with pytest.raises(APIError) as nothing:  # nothing cached: the 5xx itself, one line, one attempt
        k.transport.request("GET", f"companies/{k.company_id}/taxes")
    assert (k.stats.snapshot() - before).requests == 1
    assert nothing.value.status >= 500 and "\n" not in str(nothing.value)
    fresh_sandbox.set_options(**NO_FAULTS)
    assert not k.transport.request("GET", paths[0]).stale
    k.close()


def test_offline__a_network_that_swallows_packets_is_given_up_on_quickly(fresh_sandbox, tmp_path):
    # Configured to wait ten minutes for a connection: offline mode waits about 3 s instead.
    k = client(fresh_sandbox, tmp_path / "http.sqlite", offline=True, max_retries=0, timeout=(600.0, 60.0))
    path = f"companies/{k.company_id}/sites"
    first = k.transport.request("GET", path)
    port = int(fresh_sandbox.url.rsplit(":", 1)[1])
    fresh_sandbox.stop()  # closes every connection, so the next request must connect afresh
    answers: list[Any] = []
    with blackhole(port), pytest.warns(KountaWarning):  # the stale answer says so
        # Not a timing assertion: this thread joins long after the capped timeout and long before
        # the configured one; a connect that was not capped would still be waiting.
        worker = threading.Thread(target=lambda: answers.append(k.transport.request("GET", path)), daemon=True)
        worker.start()
        worker.join(timeout=120)
        assert not worker.is_alive(), "offline mode waited for the configured connect timeout"
    (answer,) = answers
    assert answer.stale and answer.json() == first.json()
    assert k.stats.requests == 3  # companies/me, the fresh GET, one attempt at the dead network
    k.close()
