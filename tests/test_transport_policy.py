"""The transport's policy, tested without sockets: small pure decisions and the decision table
(what the executor does after each kind of answer), in the manner of requests-cache's
``policy/actions.py`` tests."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import requests

from kounta_nb import settings
from kounta_nb.errors import (
    APIError,
    AuthError,
    NotFoundError,
    RateLimitError,
    TokenExpiredError,
    TransportError,
)
from kounta_nb.transport import (
    Action,
    Answer,
    Attempt,
    RequestStats,
    backoff_delay,
    cacheable,
    decide,
    error_for,
    is_limit_exceeded,
    may_serve_stale,
    rate_limit_delay,
    timeouts,
)


def test_rate_limit_delay__reset_epoch_and_retry_after_forms():
    now = 1_000_000.0
    assert rate_limit_delay({"X-Ratelimit-Reset": str(now + 7)}, now) == pytest.approx(7)
    assert rate_limit_delay({"Retry-After": "3"}, now) == 3
    assert rate_limit_delay({"Retry-After": "Thu, 01 Jan 1970 00:00:10 GMT"}, 5.0) == pytest.approx(5)
    assert rate_limit_delay({"Retry-After": "0"}, now) is None
    assert rate_limit_delay({}, now) is None
    assert rate_limit_delay({"X-Ratelimit-Reset": str(now - 5)}, now) is None
    assert rate_limit_delay({"Retry-After": "nonsense"}, now) is None
    assert rate_limit_delay({"Retry-After": "99999"}, now) == 120.0


def test_is_limit_exceeded__429_and_legacy_200_body():
    assert is_limit_exceeded(429, b"")
    assert is_limit_exceeded(200, b"Limit exceeded")
    assert not is_limit_exceeded(200, b'[{"id": 1}]')


def test_backoff_delay__grows_with_jitter_and_caps():

    rng = random.Random(1)
    assert 0.25 <= backoff_delay(0, base=0.5, rng=rng) <= 0.5
    assert 2.0 <= backoff_delay(3, base=0.5, rng=rng) <= 4.0
    assert backoff_delay(30, base=0.5, cap=10, rng=rng) <= 10


def test_error_for__maps_statuses_to_the_tree():
    assert isinstance(error_for(404, b'{"error":"not_found"}'), NotFoundError)
    assert isinstance(error_for(401, b'{"error":"invalid_client"}'), AuthError)
    assert isinstance(error_for(429, b"Limit exceeded"), RateLimitError)
    err = error_for(400, b'{"error":"invalid_request","error_description":"first_name is required"}',
                    method="POST", path="/v1/companies/1/customers")
    assert isinstance(err, APIError) and err.status == 400 and err.error == "invalid_request"
    assert str(err) == "Kounta answered 400 for POST /v1/companies/1/customers: first_name is required."
    html = error_for(502, b"<html><body>Bad gateway</body></html>", "text/html")
    assert "HTML page" in str(html)


def test_request_stats__snapshot_and_subtraction():
    stats = RequestStats()
    stats.add(requests=2, downloaded=1)
    before = stats.snapshot()
    stats.add(requests=3, revalidated=3, waited_s=0.5)
    delta = stats.snapshot() - before
    assert (delta.requests, delta.downloaded, delta.revalidated, delta.waited_s) == (3, 0, 3, 0.5)
    assert before.requests == 2




def test_cacheable__only_complete_json_with_etag():
    def response(status: int, body: bytes, etag: str | None) -> requests.Response:
        r = requests.Response()
        r.status_code = status
        r._content = body
        if etag:
            r.headers["ETag"] = etag
        return r

    assert cacheable(response(200, b"[1]", '"x"'))
    assert not cacheable(response(200, b"[1", '"x"'))
    assert not cacheable(response(200, b"Limit exceeded", '"x"'))
    assert not cacheable(response(200, b"[1]", None))
    assert cacheable(response(429, b"Limit exceeded", None))


# ------------------------------------------------------------------ the decision table

GET = Attempt("GET", "/v1/companies/1/orders", max_retries=2, max_rate_limit_retries=2,
              backoff_base=0.5, backoff_max=10.0)
POST = Attempt("POST", "/v1/companies/1/orders", max_retries=2)
OAUTH = Attempt("GET", "/v1/companies/1/sites", max_retries=2, oauth=True, can_refresh=True)
JSON = "application/json"
OK = Answer(200, b'[{"id": 1}]', JSON, {"ETag": '"a"'})
DROPPED = Answer(failure=requests.ConnectionError("reset"))
CUT = Answer(failure=requests.exceptions.ChunkedEncodingError("IncompleteRead"))
EXPIRED = Answer(401, b'{"error": "invalid_token", "error_description": "The access token expired"}', JSON)
#: A GET in offline mode while an outage is being served from the cache, with retries left.
OUTAGE = Attempt("GET", "/v1/companies/1/orders", max_retries=6, offline=True, outage=True)

# (answer, attempt so far) → (action, error type or None)
TABLE = [
    ("a 200 with JSON", OK, GET, Action.RETURN, None),
    ("a 304 turned into the cached answer", Answer(200, b"[]", JSON), GET, Action.RETURN, None),
    ("a 201 with an empty body", Answer(201, b"", JSON), POST, Action.RETURN, None),
    ("a dropped connection", DROPPED, GET, Action.RETRY, None),
    ("a dropped connection, retries used up", DROPPED, Attempt("GET", "/x", max_retries=2, retries=2),
     Action.FAIL, TransportError),
    ("a cut-off body, retries used up", CUT, Attempt("GET", "/x", max_retries=0), Action.FAIL, TransportError),
    ("a POST without an answer is never resent blindly", DROPPED, POST, Action.FAIL, TransportError),
    ("a 500", Answer(500, b"{}", JSON), GET, Action.RETRY, None),
    ("a 503, retries used up", Answer(503, b"{}", JSON), Attempt("GET", "/x", max_retries=1, retries=1),
     Action.FAIL, APIError),
    ("a 500 on a POST", Answer(500, b"{}", JSON), POST, Action.FAIL, APIError),
    ("a 429 with Retry-After", Answer(429, b"", "", {"Retry-After": "3"}), GET, Action.WAIT, None),
    ("a 200 Limit exceeded", Answer(200, b"Limit exceeded", "text/plain"), GET, Action.WAIT, None),
    ("a 429, rate-limit retries used up", Answer(429, b"", ""),
     Attempt("GET", "/x", max_rate_limit_retries=2, limited=2), Action.FAIL, RateLimitError),
    ("an expired token", EXPIRED, OAUTH, Action.REFRESH, None),
    ("an expired token after a refresh", EXPIRED, Attempt("GET", "/x", oauth=True, can_refresh=True, refreshed=True),
     Action.FAIL, TokenExpiredError),
    ("an expired token that cannot refresh", EXPIRED, Attempt("GET", "/x", oauth=True), Action.FAIL,
     TokenExpiredError),
    ("Basic credentials refused as expired", EXPIRED, GET, Action.FAIL, AuthError),
    ("an empty 200 with a refreshable token", Answer(200, b"", JSON), OAUTH, Action.REFRESH, None),
    ("an empty 200 with Basic credentials", Answer(200, b"", JSON), GET, Action.RETRY, None),
    ("JSON cut short", Answer(200, b'[{"id": 1', JSON), GET, Action.RETRY, None),
    ("JSON cut short, retries used up", Answer(200, b'[{"id": 1', JSON),
     Attempt("GET", "/x", max_retries=1, retries=1), Action.FAIL, TransportError),
    ("plain text that is not JSON", Answer(200, b"hello", "text/plain"), GET, Action.RETURN, None),
    ("a 404", Answer(404, b'{"error": "not_found"}', JSON), GET, Action.FAIL, NotFoundError),
    ("a 403", Answer(403, b'{"error": "forbidden"}', JSON), GET, Action.FAIL, AuthError),
    ("a 400", Answer(400, b'{"error": "invalid_request"}', JSON), POST, Action.FAIL, APIError),
    # offline mode: once an outage is established, a GET gets one attempt, then the cache answers
    ("offline outage: a dropped connection fails at once", DROPPED, OUTAGE, Action.FAIL, TransportError),
    ("offline outage: a cut-off body fails at once", CUT, OUTAGE, Action.FAIL, TransportError),
    ("offline outage: a 503 fails at once", Answer(503, b"{}", JSON), OUTAGE, Action.FAIL, APIError),
    ("offline outage: JSON cut short fails at once", Answer(200, b'[{"id": 1', JSON), OUTAGE, Action.FAIL,
     TransportError),
    ("offline outage: a 200 is returned (and ends the outage)", OK, OUTAGE, Action.RETURN, None),
    ("offline outage: a 404 is the API's answer", Answer(404, b'{"error": "not_found"}', JSON), OUTAGE,
     Action.FAIL, NotFoundError),
    ("offline outage: a 429 still waits", Answer(429, b"", "", {"Retry-After": "3"}), OUTAGE, Action.WAIT, None),
    ("offline outage: an expired token still refreshes", EXPIRED,
     Attempt("GET", "/x", oauth=True, can_refresh=True, offline=True, outage=True), Action.REFRESH, None),
    ("offline outage: an empty 200 with a refreshable token still refreshes", Answer(200, b"", JSON),
     Attempt("GET", "/x", oauth=True, can_refresh=True, offline=True, outage=True), Action.REFRESH, None),
    ("offline mode, no outage yet: the full ladder", DROPPED, Attempt("GET", "/x", offline=True),
     Action.RETRY, None),
    ("offline mode off during an outage: the full ladder", DROPPED, Attempt("GET", "/x", outage=True),
     Action.RETRY, None),
    ("offline outage: a 5xx on a GET with offline mode off retries", Answer(503, b"{}", JSON),
     Attempt("GET", "/x", outage=True), Action.RETRY, None),
    ("offline outage: a PUT keeps its retries (writes are never answered from the cache)", DROPPED,
     Attempt("PUT", "/x", offline=True, outage=True), Action.RETRY, None),
    ("offline outage: a POST without an answer still fails at once", DROPPED,
     Attempt("POST", "/x", offline=True, outage=True), Action.FAIL, TransportError),
]


@pytest.mark.parametrize(("answer", "attempt", "action", "error"), [row[1:] for row in TABLE],
                         ids=[row[0] for row in TABLE])
def test_decide__table(answer, attempt, action, error):
    decision = decide(answer, attempt, rng=random.Random(0), now=1_000_000.0)
    assert decision.action is action
    if error is None:
        assert decision.error is None
    else:
        assert type(decision.error) is error or isinstance(decision.error, error)
        assert "\n" not in str(decision.error) and str(decision.error)


def test_decide__retry_delays_grow_and_wait_follows_the_headers():
    rng = random.Random(3)
    first = decide(DROPPED, GET, rng=rng)
    third = decide(DROPPED, Attempt("GET", "/x", max_retries=5, retries=3, backoff_base=0.5), rng=rng)
    assert 0.25 <= first.delay <= 0.5 and 2.0 <= third.delay <= 4.0
    wait = decide(Answer(429, b"", "", {"X-Ratelimit-Reset": "1000007"}), GET, now=1_000_000.0)
    assert wait.action is Action.WAIT and wait.delay == pytest.approx(7)
    blind = decide(Answer(429, b"", ""), GET, rng=random.Random(0))
    assert 0.5 <= blind.delay <= 1.0  # no reset given: a back-off from a whole second


def test_decide__messages_say_what_failed_and_after_how_many_retries():
    gave_up = decide(DROPPED, Attempt("GET", "/v1/companies/1/sites", max_retries=2, retries=2))
    assert str(gave_up.error) == ("GET /v1/companies/1/sites failed: the connection failed or was "
                                  "dropped (after 2 retries).")
    cut = decide(CUT, Attempt("GET", "/v1/x", max_retries=0))
    assert str(cut.error) == "GET /v1/x failed: the answer was cut off."
    limited = decide(Answer(429, b"", "", {"Retry-After": "9"}), Attempt("GET", "/v1/x", limited=12))
    assert isinstance(limited.error, RateLimitError) and limited.error.retry_after == 9


def test_attempt__after_counts_what_was_done():
    state = GET
    for decision in (decide(DROPPED, state), decide(Answer(429, b"", ""), state), decide(EXPIRED, OAUTH)):
        state = state.after(decision)
    assert (state.retries, state.limited, state.refreshed) == (1, 1, True)
    assert state.after(decide(OK, state)) == state


def test_may_serve_stale__only_when_the_api_could_not_be_reached():
    assert may_serve_stale(TransportError("GET /x failed: the connection failed or was dropped."))
    assert may_serve_stale(APIError(503, "unavailable"))
    assert not may_serve_stale(APIError(404, "not_found"))
    assert not may_serve_stale(NotFoundError(404))
    assert not may_serve_stale(RateLimitError("limited"))
    assert not may_serve_stale(TokenExpiredError())
    assert not may_serve_stale(AuthError("refused"))


def _attempts_until_done(answer: Answer, attempt: Attempt) -> int:
    """How many attempts the executor makes when every one gets ``answer``."""
    made = 0
    while True:
        made += 1
        decision = decide(answer, attempt, rng=random.Random(0))
        if decision.action not in (Action.RETRY, Action.WAIT, Action.REFRESH):
            return made
        attempt = attempt.after(decision)


def test_decide__an_offline_outage_costs_one_attempt_not_the_ladder():
    ladder = Attempt("GET", "/x", max_retries=6, offline=True)
    assert _attempts_until_done(DROPPED, ladder) == 7  # what establishes the outage
    assert _attempts_until_done(DROPPED, OUTAGE) == 1
    assert _attempts_until_done(Answer(502, b"", "text/html"), OUTAGE) == 1
    assert _attempts_until_done(DROPPED, Attempt("GET", "/x", max_retries=6, outage=True)) == 7  # offline off
    # an outage established by another thread while this request was retrying ends its ladder too
    midway = Attempt("GET", "/x", max_retries=6, offline=True, retries=3, outage=True)
    assert decide(DROPPED, midway).action is Action.FAIL


def test_decide__an_offline_outage_failure_says_so_in_one_line_without_back_off():
    failed = decide(DROPPED, OUTAGE, rng=random.Random(0))
    assert failed.delay == 0
    assert str(failed.error) == ("GET /v1/companies/1/orders failed: the connection failed or was dropped "
                                 "(offline mode: one attempt, since the API was already unreachable).")
    assert may_serve_stale(failed.error)
    server = decide(Answer(503, b'{"error": "unavailable"}', JSON), OUTAGE)
    assert isinstance(server.error, APIError) and server.error.status == 503 and may_serve_stale(server.error)


def test_attempt__one_try_only_for_gets_in_offline_mode_during_an_outage():
    assert OUTAGE.one_try
    assert not Attempt("GET", "/x", offline=True).one_try
    assert not Attempt("GET", "/x", outage=True).one_try
    for method in ("HEAD", "PUT", "PATCH", "DELETE", "POST"):
        assert not Attempt(method, "/x", offline=True, outage=True).one_try, method
    assert not GET.offline and not GET.outage  # both off unless the executor says otherwise


def test_timeouts__offline_gets_give_up_connecting_quickly():
    offline = Attempt("GET", "/x", offline=True)
    cap = settings.OFFLINE_CONNECT_TIMEOUT_S
    assert cap < settings.TIMEOUT[0]
    assert timeouts((10.0, 60.0), offline) == (cap, 60.0)
    assert timeouts(20.0, offline) == (cap, 20.0)  # one number is requests' both-timeouts form
    assert timeouts(None, offline) == (cap, None)
    assert timeouts((1.0, 5.0), offline) == (1.0, 5.0)  # a shorter one stays
    assert timeouts((10.0, 60.0), replace(offline, outage=True)) == (cap, 60.0)
    # offline mode off, and writes: exactly as configured
    assert timeouts((10.0, 60.0), GET) == (10.0, 60.0)
    assert timeouts(20.0, GET) == 20.0
    assert timeouts(None, GET) is None
    assert timeouts((10.0, 60.0), Attempt("PUT", "/x", offline=True)) == (10.0, 60.0)
