"""Rate limits, latency and injected faults of the sandbox, over real sockets."""

from __future__ import annotations

import http.client
import time

import pytest
import requests
from support_sandbox import api, basic_session, bearer_session, oauth_token

from kounta_nb.sandbox.faults import FaultInjector
from kounta_nb.sandbox.limits import SlidingWindowQuota


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


# -- the limiter itself ------------------------------------------------------------------------

def test_limiter__sliding_window_refuses_then_recovers():
    clock = FakeClock()
    limiter = SlidingWindowQuota(clock=clock, wall=lambda: 1_700_000_000.0)
    assert all(limiter.hit("k", 3).allowed for _ in range(3))
    refused = limiter.hit("k", 3)
    assert not refused.allowed and refused.retry_after == 60 and refused.reset_epoch == 1_700_000_060
    clock.t += 30
    assert not limiter.hit("k", 3).allowed
    clock.t += 30.01
    assert limiter.hit("k", 3).allowed


def test_limiter__time_scale_shrinks_the_window():
    clock = FakeClock()
    limiter = SlidingWindowQuota(clock=clock, wall=lambda: 0.0)
    for _ in range(5):
        assert limiter.hit("k", 5, time_scale=10).allowed
    assert limiter.hit("k", 5, time_scale=10).retry_after == 6
    clock.t += 6.01
    assert limiter.hit("k", 5, time_scale=10).allowed


def test_limiter__keys_are_independent():
    limiter = SlidingWindowQuota(clock=FakeClock())
    assert limiter.hit("a", 1).allowed and not limiter.hit("a", 1).allowed
    assert limiter.hit("b", 1).allowed


def test_faults__same_seed_same_sequence():
    def draws(seed):
        f = FaultInjector(seed)
        return [f.draw(p_5xx=0.2, p_429=0.2, p_drop=0.1, p_truncate=0.1, p_slow=0.1) for _ in range(200)]

    assert draws(5) == draws(5) != draws(6)
    kinds = {d.kind for d in draws(5) if d}
    assert kinds == {"5xx", "429", "drop", "truncate", "slow"}
    assert FaultInjector(1).draw() is None


def test_faults__429_comes_in_storms():
    f = FaultInjector(3)
    seq = [f.draw(p_429=0.05) for _ in range(3000)]
    kinds = ["x" if d else "." for d in seq]
    runs = [len(r) for r in "".join(kinds).split(".") if r]
    assert runs and max(runs) > 1 and max(runs) <= 5 * 2  # a storm lasts 1-5 requests (two may touch)


# -- rate limits over HTTP ---------------------------------------------------------------------

def test_rate_limit__off_by_default(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    assert all(s.get(api(fresh_sandbox, "companies/me.json")).status_code == 200 for _ in range(70))


def test_rate_limit__429_plain_text_with_reset_and_retry_after(sandbox_factory):
    handle = sandbox_factory(rate_limit=True, rate_basic=5)
    s = basic_session(handle)
    codes = [s.get(api(handle, "companies/me.json")).status_code for _ in range(5)]
    assert codes == [200] * 5
    r = s.get(api(handle, "companies/me.json"))
    assert r.status_code == 429 and r.text == "Limit exceeded"
    assert r.headers["Content-Type"].startswith("text/plain")
    reset = int(r.headers["X-Ratelimit-Reset"])
    assert time.time() + 50 < reset <= time.time() + 61
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert handle.stats()["rate_limited"] == 1


def test_rate_limit__per_token_and_oauth_has_its_own_limit(sandbox_factory):
    handle = sandbox_factory(rate_limit=True, rate_basic=2, rate_oauth=4)
    basic = basic_session(handle)
    t1 = bearer_session(oauth_token(handle)["access_token"])
    t2 = bearer_session(oauth_token(handle)["access_token"])
    url = api(handle, "companies/me.json")
    assert [basic.get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert [t1.get(url).status_code for _ in range(5)] == [200, 200, 200, 200, 429]
    assert t2.get(url).status_code == 200


def test_rate_limit__time_scale_window_recovers(sandbox_factory):
    handle = sandbox_factory(rate_limit=True, rate_basic=3, time_scale=120)  # a 0.5 s window
    s = basic_session(handle)
    url = api(handle, "companies/me.json")
    assert [s.get(url).status_code for _ in range(4)] == [200, 200, 200, 429]
    time.sleep(0.55)
    assert s.get(url).status_code == 200


def test_rate_limit__switched_on_at_run_time(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    url = api(fresh_sandbox, "companies/me.json")
    assert s.get(url).status_code == 200
    fresh_sandbox.set_options(rate_limit=True, rate_basic=1)
    assert [s.get(url).status_code for _ in range(2)] == [200, 429]


# -- latency -----------------------------------------------------------------------------------

def test_latency__fixed_plus_jitter(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    url = api(fresh_sandbox, "companies/me.json")
    s.get(url)
    fresh_sandbox.set_options(latency_ms=80, jitter_ms=40)
    took = []
    for _ in range(5):
        t0 = time.perf_counter()
        s.get(url)
        took.append(time.perf_counter() - t0)
    assert min(took) >= 0.08 and max(took) < 0.5


# -- injected faults ---------------------------------------------------------------------------

def test_faults__5xx(fresh_sandbox):
    fresh_sandbox.set_options(fault_5xx=1.0)
    s = basic_session(fresh_sandbox)
    codes = {s.get(api(fresh_sandbox, "companies/me.json")).status_code for _ in range(30)}
    assert codes == {500, 502, 503}
    r500 = next(r for r in (s.get(api(fresh_sandbox, "companies/me.json")) for _ in range(30))
                if r.status_code == 500)
    assert r500.json()["error"] == "server_error"
    assert fresh_sandbox.stats()["faults"]["5xx"] >= 30


def test_faults__429_storm(fresh_sandbox):
    fresh_sandbox.set_options(fault_429=1.0)
    s = basic_session(fresh_sandbox)
    r = s.get(api(fresh_sandbox, "companies/me.json"))
    assert r.status_code == 429 and r.text == "Limit exceeded" and "X-Ratelimit-Reset" in r.headers


def test_faults__dropped_connection(fresh_sandbox):
    fresh_sandbox.set_options(fault_drop=1.0)
    with pytest.raises(requests.ConnectionError):
        basic_session(fresh_sandbox).get(api(fresh_sandbox, "companies/me.json"))
    fresh_sandbox.set_options(fault_drop=0.0)
    assert basic_session(fresh_sandbox).get(api(fresh_sandbox, "companies/me.json")).status_code == 200


def test_faults__truncated_body_announces_more_than_it_sends(fresh_sandbox):
    fresh_sandbox.set_options(fault_truncate=1.0)
    conn = http.client.HTTPConnection("127.0.0.1", fresh_sandbox.port, timeout=5)
    conn.request("GET", "/v1/companies/me/products.json",
                 headers={"Authorization": "Basic a291bnRhLW5iLXNhbmRib3g6c2FuZGJveC1zZWNyZXQ="})
    response = conn.getresponse()
    announced = int(response.getheader("Content-Length"))
    with pytest.raises(http.client.IncompleteRead) as caught:
        response.read()
    assert 0 < len(caught.value.partial) < announced
    conn.close()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        basic_session(fresh_sandbox).get(api(fresh_sandbox, "companies/me/products.json"))


def test_faults__slow_response(fresh_sandbox):
    fresh_sandbox.set_options(fault_slow=1.0, slow_ms=150)
    t0 = time.perf_counter()
    r = basic_session(fresh_sandbox).get(api(fresh_sandbox, "companies/me.json"))
    assert r.status_code == 200 and time.perf_counter() - t0 >= 0.15


def test_faults__not_on_token_oauth_or_control_paths(fresh_sandbox):
    fresh_sandbox.set_options(fault_5xx=1.0, fault_drop=0.0)
    token = oauth_token(fresh_sandbox)  # the authorise page and /v1/token are unaffected
    assert token["access_token"]
    assert requests.get(fresh_sandbox.url + "/_sandbox/stats").status_code == 200


def test_faults__seeded_sequence_is_reproducible(sandbox_factory):
    def codes(handle):
        s = basic_session(handle)
        return [s.get(api(handle, "companies/me.json")).status_code for _ in range(40)]

    a = sandbox_factory(fault_5xx=0.3, fault_429=0.2, fault_seed=11)
    b = sandbox_factory(fault_5xx=0.3, fault_429=0.2, fault_seed=11)
    first = codes(a)
    assert first == codes(b) and {200, 429} <= set(first) and set(first) - {200, 429}


def test_faults__in_process_wsgi_drop_and_truncate():
    import io
    from datetime import UTC, datetime
    from wsgiref.util import setup_testing_defaults

    from kounta_nb.sandbox.app import make_app

    def call(app):
        environ: dict = {}
        setup_testing_defaults(environ)
        environ.update({"PATH_INFO": "/v1/companies/me/products.json", "wsgi.input": io.BytesIO(),
                        "HTTP_AUTHORIZATION": "Basic a291bnRhLW5iLXNhbmRib3g6c2FuZGJveC1zZWNyZXQ="})
        seen: dict = {}
        body = b"".join(app(environ, lambda status, headers: seen.update(headers=dict(headers))))
        return seen["headers"], body

    now = datetime(2026, 5, 29, 4, tzinfo=UTC)
    with pytest.raises(ConnectionResetError):
        call(make_app(months=1, now=now, fault_drop=1.0))
    headers, body = call(make_app(months=1, now=now, fault_truncate=1.0))
    assert 0 < len(body) < int(headers["Content-Length"])


def test_rate_limit__old_style_200_and_http_date_retry_after(sandbox_factory):
    from email.utils import parsedate_to_datetime

    handle = sandbox_factory(rate_limit=True, rate_basic=1, limit_status=200, retry_after_date=True)
    s = basic_session(handle)
    url = api(handle, "companies/me.json")
    assert s.get(url).headers["Content-Type"].startswith("application/json")
    r = s.get(url)
    assert r.status_code == 200 and r.text == "Limit exceeded"
    when = parsedate_to_datetime(r.headers["Retry-After"]).timestamp()
    assert abs(when - int(r.headers["X-Ratelimit-Reset"])) < 1
