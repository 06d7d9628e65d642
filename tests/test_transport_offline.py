"""Contract: offline is explicit.

Only with ``offline=True`` does a failed GET come back from the cache, and then every such answer
says so (``stale=True``, ``fetched_at`` = when it was stored) and one ``KountaWarning`` per
outage says how old the data is. Nothing is printed.
"""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import pytest
from support_sandbox import fresh_sandbox  # noqa: F401  (fixture)
from support_transport import DAY, NO_FAULTS, a_site, client, quiet

from kounta_nb.errors import ConfigError, KountaWarning, NotFoundError, TransportError
from kounta_nb.transport import Transport


@pytest.fixture
def offline(fresh_sandbox, tmp_path):  # noqa: F811
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
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
