"""Transport: cache + ETag revalidation, company isolation, retries, rate limits, redirects, errors."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from support_client import BASIC, FakeKounta

from kounta_nb.auth import BasicCredentials, OAuthCredentials, Token
from kounta_nb.errors import (
    APIError,
    AuthError,
    ConfigError,
    RateLimitError,
    TokenExpiredError,
    TransportError,
)
from kounta_nb.transport import RequestStats, Transport


@pytest.fixture
def fake() -> Iterator[FakeKounta]:
    server = FakeKounta().start()
    yield server
    server.stop()


def basic_transport(fake: FakeKounta, tmp_path, **kw) -> Transport:
    creds = BasicCredentials(*BASIC, company_id=101)
    kw.setdefault("rate_limit", 60_000)
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("cache_path", tmp_path / "cache.sqlite")
    return Transport(fake.api_base, creds, **kw)


def oauth_transport(fake: FakeKounta, tmp_path, company: int = 101, ttl: float | None = None, **kw) -> Transport:
    access, refresh = fake.issue(company, ttl)
    token = Token(access, refresh, time.time() + (ttl if ttl is not None else 3600), company_id=company)
    creds = OAuthCredentials(token, client_id=BASIC[0], client_secret=BASIC[1], token_url=fake.api_base + "token")
    kw.setdefault("rate_limit", 60_000)
    kw.setdefault("backoff_base", 0.01)
    kw.setdefault("cache_path", tmp_path / "cache.sqlite")
    return Transport(fake.api_base, creds, **kw)


# ------------------------------------------------------------------ caching


def test_cache__second_get_revalidates_with_if_none_match_and_gets_304(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    t.request("GET", "companies/me")  # the company is verified before anything is cached
    t.stats = RequestStats()
    first = t.request("GET", "companies/101/sites")
    second = t.request("GET", "companies/101/sites")
    assert (first.from_cache, first.revalidated) == (False, False)
    assert (second.from_cache, second.revalidated) == (True, True)
    assert second.json() == first.json()
    sent = [e for e in fake.log if e["path"].endswith("/sites")]
    assert sent[0]["if_none_match"] is None and sent[1]["if_none_match"]
    assert (t.stats.downloaded, t.stats.revalidated) == (1, 1)


def test_cache__survives_a_new_transport_on_the_same_file(fake, tmp_path):
    basic_transport(fake, tmp_path).request("GET", "companies/101/sites")
    again = basic_transport(fake, tmp_path).request("GET", "companies/101/sites")
    assert again.revalidated


def test_cache__companies_never_share_entries(fake, tmp_path):
    a = oauth_transport(fake, tmp_path, 101)
    b = oauth_transport(fake, tmp_path, 202)
    # The very same URL in the very same cache file, for two companies.
    assert a.request("GET", "companies/me").json()["id"] == 101
    me_b = b.request("GET", "companies/me")
    assert me_b.json()["id"] == 202 and not me_b.from_cache
    assert a.request("GET", "companies/me").revalidated
    assert b.request("GET", "companies/me").json()["id"] == 202


def test_cache__token_refresh_keeps_entries(fake, tmp_path):
    t = oauth_transport(fake, tmp_path)
    t.request("GET", "companies/101/sites")
    fake.expire_all()
    again = t.request("GET", "companies/101/sites")
    assert again.revalidated  # new token, same cache entry


def test_cache__no_secret_in_the_cache_file(fake, tmp_path):
    t = oauth_transport(fake, tmp_path)
    t.request("GET", "companies/101/sites")
    fake.expire_all()
    t.request("GET", "companies/101/orders")
    t.close()
    raw = (tmp_path / "cache.sqlite").read_bytes()
    for extra in tmp_path.glob("cache.sqlite-*"):
        raw += extra.read_bytes()
    assert b"SECRET" not in raw
    assert b"Bearer" not in raw
    with sqlite3.connect(tmp_path / "cache.sqlite") as db:
        assert db.execute("select count(*) from responses").fetchone()[0] >= 2


def test_cache__settled_order_is_revalidated_too(fake, tmp_path):
    # No "settled order" shortcut: an old COMPLETE order is asked for again (a 304), because
    # another client may have added a payment or changed its notes.
    t = basic_transport(fake, tmp_path)
    oid = fake.orders[101][1]["id"]  # COMPLETE, created in May
    t.request("GET", f"companies/101/orders/{oid}")
    count = len(fake.log)
    again = t.request("GET", f"companies/101/orders/{oid}")
    assert again.from_cache and again.revalidated
    assert len(fake.log) == count + 1 and fake.log[-1]["if_none_match"]
    assert t.stats.from_cache == 0


def test_cached__stored_answer_without_a_request(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    oid = fake.orders[101][1]["id"]
    assert t.cached(f"companies/101/orders/{oid}") is None  # nothing stored (and not verified)
    first = t.request("GET", f"companies/101/orders/{oid}")
    count = len(fake.log)
    hit = t.cached(f"companies/101/orders/{oid}")
    assert hit is not None and hit.from_cache and not hit.revalidated and not hit.stale
    assert hit.json() == first.json() and hit.status_code == 200
    assert len(fake.log) == count and t.stats.from_cache == 1
    assert t.cached(f"companies/101/orders/{oid}", {"x": "1"}) is None  # other params, other entry
    assert basic_transport(fake, tmp_path, cache_path=False).cached(f"companies/101/orders/{oid}") is None


def test_store_false__no_if_none_match_and_nothing_stored(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    oid = fake.orders[101][1]["id"]
    first = t.request("GET", f"companies/101/orders/{oid}", store=False)
    assert not first.from_cache and t.cached(f"companies/101/orders/{oid}") is None
    t.request("GET", f"companies/101/orders/{oid}")  # now stored
    again = t.request("GET", f"companies/101/orders/{oid}", store=False)
    assert not again.from_cache and not again.revalidated
    assert fake.log[-1]["if_none_match"] is None


def test_cache__pending_order_always_revalidates(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    oid = fake.orders[101][0]["id"]  # PENDING
    t.request("GET", f"companies/101/orders/{oid}")
    again = t.request("GET", f"companies/101/orders/{oid}")
    assert again.revalidated


def test_cache__changed_record_is_downloaded_again(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    oid = fake.orders[101][0]["id"]
    t.request("GET", f"companies/101/orders/{oid}")
    fake.orders[101][0]["notes"] = "changed"
    again = t.request("GET", f"companies/101/orders/{oid}")
    assert not again.from_cache and again.json()["notes"] == "changed"


def test_cache__disabled_with_false(fake, tmp_path):
    t = basic_transport(fake, tmp_path, cache_path=False)
    t.request("GET", "companies/101/sites")
    again = t.request("GET", "companies/101/sites")
    assert not again.from_cache
    assert not (tmp_path / "cache.sqlite").exists()


# ------------------------------------------------------------------ retries and faults


@pytest.mark.parametrize("fault", ["500", "drop", "truncate", "short-json", "429", "429-retry-after", "limit200"])
def test_faults__idempotent_get_recovers_with_identical_body(fake, tmp_path, fault):
    t = basic_transport(fake, tmp_path, cache_path=False)
    clean = t.request("GET", "companies/101/orders").json()
    fake.faults.extend([fault, fault])
    again = t.request("GET", "companies/101/orders").json()
    assert again == clean
    assert t.stats.retries >= 2
    if fault.startswith("429") or fault == "limit200":
        assert t.stats.rate_limited == 2


def test_faults__bad_body_is_not_cached(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    fake.faults.append("short-json")
    t.request("GET", "companies/101/sites")
    again = t.request("GET", "companies/101/sites")
    assert again.revalidated and isinstance(again.json(), list)


def test_faults__gives_up_with_a_clear_transport_error(fake, tmp_path):
    t = basic_transport(fake, tmp_path, cache_path=False, max_retries=2)
    fake.faults.extend(["drop"] * 3)
    with pytest.raises(TransportError, match=r"GET /v1/companies/101/sites failed: .*after 2 retries"):
        t.request("GET", "companies/101/sites")


def test_faults__rate_limit_error_after_allowed_retries(fake, tmp_path):
    t = basic_transport(fake, tmp_path, cache_path=False, max_rate_limit_retries=1)
    fake.faults.extend(["429-retry-after"] * 2)
    with pytest.raises(RateLimitError):
        t.request("GET", "companies/101/sites")


def test_faults__post_is_never_retried_blindly(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    fake.faults.append("500")
    with pytest.raises(APIError) as info:
        t.request("POST", "companies/101/orders", json={"site_id": 11})
    assert info.value.status == 500
    assert sum(1 for e in fake.log if e["method"] == "POST") == 1


def test_faults__html_error_page_is_a_readable_api_error(fake, tmp_path):
    t = basic_transport(fake, tmp_path, max_retries=0)
    fake.faults.append("html")
    with pytest.raises(APIError, match="HTML page"):
        t.request("GET", "companies/101/sites")


def test_not_found_is_a_lookup_error(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    with pytest.raises(LookupError):
        t.request("GET", "companies/101/orders/5")


# ------------------------------------------------------------------ tokens


@pytest.mark.parametrize("shape", ["oauth", "message"])
def test_tokens__expired_token_is_refreshed_and_the_call_retried_once(fake, tmp_path, shape):
    fake.expiry_shape = shape
    t = oauth_transport(fake, tmp_path)
    before = t.credentials.token.access_token
    fake.expire_all()
    assert t.request("GET", "companies/101/sites").json()[0]["id"] == 11
    assert t.credentials.token.access_token != before


def test_tokens__refreshed_ahead_of_expiry(fake, tmp_path):
    t = oauth_transport(fake, tmp_path, ttl=30)  # inside REFRESH_MARGIN_S
    t.request("GET", "companies/101/sites")
    # the refresh comes before the first API request (which verifies the company for the cache)
    assert [e["path"] for e in fake.log][:3] == ["/v1/token", "/v1/companies/me", "/v1/companies/101/sites"]


def test_tokens__revoked_refresh_token_raises_token_expired(fake, tmp_path):
    t = oauth_transport(fake, tmp_path)
    fake.revoke_all()
    fake.expire_all()
    with pytest.raises(TokenExpiredError, match="reconnect"):
        t.request("GET", "companies/101/sites")


def test_tokens__refresh_without_new_refresh_token_keeps_the_old_one(fake, tmp_path):
    fake.refresh_omits_refresh_token = True
    t = oauth_transport(fake, tmp_path)
    old_refresh = t.credentials.token.refresh_token
    fake.expire_all()
    t.request("GET", "companies/101/sites")
    assert t.credentials.token.refresh_token == old_refresh


def test_tokens__basic_refused_is_auth_error(fake, tmp_path):
    t = Transport(fake.api_base, BasicCredentials("cid", "wrong"), cache_path=False)
    with pytest.raises(AuthError, match="401"):
        t.request("GET", "companies/me")


def test_tokens__concurrent_expiry_refreshes_once(fake, tmp_path):
    t = oauth_transport(fake, tmp_path)
    fake.expire_all()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: t.request("GET", "companies/101/sites").json(), range(16)))
    assert all(r == results[0] for r in results)
    assert sum(1 for e in fake.log if e["path"] == "/v1/token") == 1


# ------------------------------------------------------------------ redirects, hosts, threads


def test_redirect__same_host_keeps_authorization(fake, tmp_path):
    fake.me_redirect = True
    t = basic_transport(fake, tmp_path, cache_path=False)
    assert t.request("GET", "companies/me").json()["id"] == 101
    hop = [e for e in fake.log if e["path"] == "/v1/companies/101"][0]
    assert hop["authorization"].startswith("Basic ")


def test_redirect__other_host_drops_authorization(fake, tmp_path):
    t = basic_transport(fake, tmp_path, cache_path=False)
    body = t.request("GET", "companies/101/offhost").json()
    assert body == {"authorization": None}


def test_url_for__refuses_to_send_credentials_elsewhere(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    with pytest.raises(ConfigError, match="not the API host"):
        t.request("GET", "https://evil.example/v1/companies/me")


def test_threads__shared_transport_with_cache(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    t.request("GET", "companies/me")
    t.stats = RequestStats()
    ids = [r["id"] for r in fake.orders[101]]

    def fetch(oid: int) -> int:
        return t.request("GET", f"companies/101/orders/{oid}").json()["id"]

    with ThreadPoolExecutor(8) as pool:
        first = list(pool.map(fetch, ids))
        second = list(pool.map(fetch, ids))
    assert first == second == ids
    stats = t.stats.snapshot()
    assert stats.downloaded == len(ids)
    assert stats.revalidated == len(ids)


def test_no_secret_in_repr_logs_or_errors(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    t = oauth_transport(fake, tmp_path)
    fake.expire_all()
    t.request("GET", "companies/101/sites")
    fake.revoke_all()
    fake.expire_all()
    with pytest.raises(TokenExpiredError) as info:
        t.request("GET", "companies/101/sites")
    text = repr(t) + repr(t.credentials) + repr(t.credentials.token) + str(info.value) + caplog.text
    assert "SECRET" not in text and "csecret" not in text


# ------------------------------------------------------------------ closing


def test_close__waits_for_requests_in_flight_then_refuses_new_ones(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    t.request("GET", "companies/101/sites")  # the cache file exists and holds an entry
    fake.faults.append("slow")
    with ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(t.request, "GET", "companies/101/orders")
        deadline = time.monotonic() + 5
        while not any(e["path"].endswith("/orders") for e in fake.api_requests()):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        t.close()  # from another thread, mid-request
        assert t.closed
        assert t._cache is not None and t._cache.available and t._users == 1  # the cache stays open for the request
        response = in_flight.result(timeout=10)
    assert response.status_code == 200 and response.json()
    assert t._users == 0
    with pytest.raises(TransportError, match="closed") as info:
        t.request("GET", "companies/101/sites")
    assert "\n" not in str(info.value)
    with pytest.raises(TransportError, match="closed"):
        t.forget("companies/101/sites")
    t.close()  # twice is fine
    # the SQLite file was closed cleanly and is usable by the next client
    again = basic_transport(fake, tmp_path)
    assert again.request("GET", "companies/101/sites").revalidated


def test_close__many_threads_mid_pull_never_crash(fake, tmp_path):
    t = basic_transport(fake, tmp_path)
    errors: list[BaseException] = []
    done = threading.Event()

    def worker() -> None:
        while not done.is_set():
            try:
                t.request("GET", "companies/101/orders")
            except TransportError as exc:
                errors.append(exc)
                return

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for th in threads:
        th.start()
    time.sleep(0.3)
    t.close()
    done.set()
    for th in threads:
        th.join(10)
    assert not any(th.is_alive() for th in threads)
    assert all("closed" in str(e) for e in errors)
