"""The sandbox's HTTP layer: a WSGI application that behaves like the Kounta API.

Everything in docs/api.md §1–4 is reproduced here on top of the data layer (``business.py``):
formats (``.json`` or ``Accept``, else 406; JSON bodies only, else 400; ``X-Pretty-Print``),
Basic and OAuth authentication, 25-record abridged pages with an absolute ``X-Next-Page``,
strong ``ETag`` / ``If-None-Match`` → 304, OAuth-style error bodies, every endpoint of §4 with its
writes, rate limits, latency and seeded faults. ``make_app()`` returns the WSGI callable;
``server.py`` serves it over real sockets.

The pieces: :mod:`.web` (requests, answers, the public origin behind a proxy), :mod:`.options`
(the knobs), :mod:`.routing` + :mod:`.routes` (scopes and the route table), :mod:`.reads`,
:mod:`.writes` / :mod:`.order_writes`, :mod:`.listing` (pages and filters), :mod:`.control`.
Choices the reference leaves open are listed in docs/sandbox.md. A few that shape every answer:

- ``Accept`` must name ``application/json`` (``*/*`` alone gets 406, docs/api.md §1).
- A token (or Basic pair) used on another company's path gets **403** ``access_denied``.
- POST answers 201 with an empty body (``created_body="null"`` sends ``null``) and a ``Location``
  in the style of the request (``.json`` suffix kept). Payments have no URL of their own, so a new
  payment's ``Location`` is its order, and ``PUT …/payments/{n}`` returns the order.
- Every odd request gets a proper HTTP answer: a handler's bug is a JSON 500, never a dropped
  connection.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from email.utils import formatdate
from typing import Any

from . import control
from .faults import FaultInjector
from .limits import SlidingWindowQuota
from .listing import ORDER_ITEM, PAGE_SIZE, IdsMemo
from .oauth import CLIENT_ID, CLIENT_SECRET, AccessGrant, AuthorizeFlow, TokenRegistry, _basic_pair
from .options import LEGACY_PAGES, SandboxOptions
from .orders import ORDER_STATUSES
from .reads import staff_me
from .routes import ROUTES
from .routing import ApiCall, int_id, resolve, strip_scopes
from .web import (
    JSON_TYPE,
    ErrorReply,
    Reply,
    Request,
    not_found,
    render,
    render_error,
    stable_json,
    status_line,
)

__all__ = [
    "LEGACY_PAGES", "ORDER_ITEM", "ORDER_STATUSES", "PAGE_SIZE", "SandboxApp", "SandboxOptions",
    "make_app", "EXPIRING_KEY", "FAULT_KEY", "SERVER_KEY",
]

#: Environ key through which the app asks the server to drop or truncate a response.
FAULT_KEY = "kounta_nb.sandbox.fault"
#: Set on a request whose access token is in its last ``expiry_empty_s`` seconds.
EXPIRING_KEY = "kounta_nb.sandbox.expiring"
#: Environ key a real-socket server sets, so the app knows it can drop/truncate for real.
SERVER_KEY = "kounta_nb.sandbox.server"
_BEARER_CHALLENGE = [("WWW-Authenticate", 'Bearer realm="Kounta", error="invalid_token"')]


class SandboxApp:
    """The WSGI application. ``business`` is the data layer; ``options`` the live knobs."""

    def __init__(self, options: SandboxOptions | None = None, business: Any = None) -> None:
        self.options = options or SandboxOptions()
        if business is None:
            from .business import Business, Clock

            clock = Clock(now=self.options.now, live=self.options.live, speed=float(self.options.live_speed))
            business = Business(seed=self.options.seed, months=self.options.months, clock=clock,
                                extra_sites=self.options.extra_sites)
        self.business = business
        self.tokens = TokenRegistry()
        self.flow = AuthorizeFlow(business, self.tokens)
        self.quota = SlidingWindowQuota()
        self.faults = FaultInjector(self.options.fault_seed)
        self._jitter = random.Random(self.options.fault_seed + 1)
        #: Held while a write reads, changes and stores a record.
        self.write_lock = threading.RLock()
        #: Matching order ids per list query (legacy page numbers, ``X-Pages``).
        self.order_ids_memo = IdsMemo()
        self._recon_memo: dict[tuple[int, int, date], list[dict]] = {}
        self._stats_lock = threading.Lock()
        self._by_status: Counter[int] = Counter()
        self._faults: Counter[str] = Counter()
        self._requests = 0
        self._rate_limited = 0
        self.url = ""  # set by the server once it knows its port

    # -- WSGI ----------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            req = Request.from_environ(environ)
            status, headers, body = self.handle(req)
        except Exception:  # a bug must answer 500 like a real server, not kill the connection
            traceback.print_exc(file=sys.stderr)
            status, headers, body = render_error(ErrorReply(
                500, "server_error", "The sandbox failed to answer this request."), pretty=False)
        fault = environ.get(FAULT_KEY)
        if fault == "drop" and not environ.get(SERVER_KEY):
            # Mounted in-process there is no socket to close: fail the way a dropped connection does.
            raise ConnectionResetError("The sandbox dropped the connection (injected fault).")
        headers = [h for h in headers if h[0].lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        if str(environ.get("REQUEST_METHOD", "")).upper() == "HEAD":
            body = b""
        if fault == "truncate" and not environ.get(SERVER_KEY):
            body = body[: len(body) // 2]
        start_response(status_line(status), headers)
        return [body]

    def handle(self, req: Request) -> Reply:
        """Route one request to its answer, counting it in the statistics."""
        status, headers, body = self._route(req)
        with self._stats_lock:
            self._requests += 1
            if req.environ.get(FAULT_KEY) != "drop":
                self._by_status[status] += 1
        return status, headers, body

    def _route(self, req: Request) -> Reply:
        path = req.path
        if path.startswith("/_sandbox/"):
            return control.control(self, req)
        if path in ("/authorize", "/authorize/"):
            if req.method not in ("GET", "POST"):
                return render_error(ErrorReply(405, "method_not_allowed", "Use GET or POST on /authorize.",
                                               [("Allow", "GET, POST")]), False)
            form = req.form() if req.method == "POST" else {}
            # the sandbox's own /oauth/done page, as the client reaches it (behind a proxy too)
            own = (f"{req.base}/oauth/done",)
            return self.flow.authorize(req.method, req.query, form, tuple(self.options.redirect_uris) + own)
        if path == "/oauth/done":
            full = f"{req.base}{path}" + (f"?{req.query_string}" if req.query_string else "")
            return self.flow.done_page(full, req.query)
        if path in ("/v1/token", "/v1/token.json"):
            self._latency()
            if req.method != "POST":
                return render_error(ErrorReply(405, "invalid_request", "The token endpoint only accepts POST.",
                                               [("Allow", "POST")]), False)
            return self.flow.token(req.headers.get("content-type", ""), req.body(),
                                   req.headers.get("authorization", ""),
                                   float(self.options.token_ttl), self.options.refresh_omits_token)
        if path == "/" or path == "":
            return control.index_page(self, req)
        if path.startswith("/v1/"):
            return self._api(req)
        return render_error(not_found(f"Nothing lives at {path[:80]}"), False)

    # -- the API pipeline ----------------------------------------------------------------------
    def _api(self, req: Request) -> Reply:
        pretty = req.headers.get("x-pretty-print", "").strip() in ("1", "true")
        self._latency()
        opts = self.options
        truncate = False
        if req.path.startswith("/v1/companies"):
            fault = self.faults.draw(p_5xx=opts.fault_5xx, p_429=opts.fault_429, p_drop=opts.fault_drop,
                                     p_truncate=opts.fault_truncate, p_slow=opts.fault_slow)
            if fault is not None:
                with self._stats_lock:
                    self._faults[fault.kind] += 1
                if fault.kind == "drop":
                    req.environ[FAULT_KEY] = "drop"
                    return 500, [], b""
                if fault.kind == "5xx":
                    return _server_error(fault.status)
                if fault.kind == "429":
                    return self._limited(int(time.time()) + 1, 1)
                if fault.kind == "slow":
                    time.sleep(opts.slow_ms / 1000.0)
                truncate = fault.kind == "truncate"
        try:
            status, headers, body = self._api_call(req, pretty)
        except ErrorReply as exc:
            return render_error(exc, pretty)
        if truncate and len(body) > 1:
            req.environ[FAULT_KEY] = "truncate"
        return status, headers, body

    def _api_call(self, req: Request, pretty: bool) -> Reply:
        segments = req.path[len("/v1/"):].strip("/").split("/")
        suffix = segments[-1].endswith(".json")
        if suffix:
            segments[-1] = segments[-1][: -len(".json")]
        if not suffix and "application/json" not in req.headers.get("accept", "").lower():
            raise ErrorReply(406, "not_acceptable",
                             "Add .json to the path or send Accept: application/json; no other format is served.")
        company_id, email, key, kind = self._authenticate(req)
        if self.options.rate_limit:
            limit = self.options.rate_basic if kind == "basic" else self.options.rate_oauth
            decision = self.quota.hit(key, int(limit), float(self.options.time_scale))
            if not decision.allowed:
                with self._stats_lock:
                    self._rate_limited += 1
                return self._limited(decision.reset_epoch, decision.retry_after)
        if req.environ.get(EXPIRING_KEY) and req.method == "GET":
            return 200, [("Content-Type", JSON_TYPE)], b""
        if len(segments) < 2 or segments[0] != "companies":
            raise not_found(f"Nothing lives at {req.path[:80]}")
        if req.method in ("POST", "PUT", "PATCH"):
            ctype = req.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/json":
                raise ErrorReply(400, "invalid_request",
                                 "Send the request body as JSON with the header Content-Type: application/json.")
        target = segments[1]
        if target == "me":
            cid = company_id
        else:
            cid = int_id(target)
            if cid != company_id:
                raise ErrorReply(403, "access_denied", f"These credentials do not give access to company {cid}.")
        call = ApiCall(self, req, self.business.companies[cid], email, suffix)
        if target == "me" and len(segments) == 2 and self.options.me_redirect and req.method == "GET":
            return 302, [("Location", f"{req.base}/v1/companies/{cid}" + (".json" if suffix else ""))], b""
        rest = strip_scopes(call, segments[2:], staff_me)
        answer = resolve(ROUTES, call, rest)
        return render(req.method, req.headers.get("if-none-match"), answer, pretty)

    def _authenticate(self, req: Request) -> tuple[int, str | None, str, str]:
        """(company id, login e-mail or None, rate-limit key, "basic"|"oauth") or 401."""
        header = req.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer" and value.strip():
            found = self.tokens.check(value.strip())
            if found == "expired_token":
                if self.options.expiry_style == "legacy":
                    raise ErrorReply(400, "expired_token", "The access token provided has expired", legacy=True)
                raise ErrorReply(401, "expired_token", "The access token provided has expired", _BEARER_CHALLENGE)
            if not isinstance(found, AccessGrant):
                raise ErrorReply(401, "invalid_token", "The access token provided is invalid", _BEARER_CHALLENGE)
            window = float(self.options.expiry_empty_s)
            if window and found.expires_at - time.monotonic() <= window:
                req.environ[EXPIRING_KEY] = True
            return found.company_id, found.email, "oauth:" + value.strip(), "oauth"
        if scheme == "basic":
            pair = _basic_pair(header)
            if pair is None or pair[0] != CLIENT_ID or pair[1] != CLIENT_SECRET:
                raise ErrorReply(401, "invalid_client", "The client credentials are invalid.",
                                 [("WWW-Authenticate", 'Basic realm="Kounta"')])
            return self.business.developer_company_id, None, "basic:" + pair[0], "basic"
        raise ErrorReply(401, "invalid_request",
                         "The request has no credentials: send Basic client credentials or a Bearer access token.",
                         [("WWW-Authenticate", 'Bearer realm="Kounta"')])

    def _limited(self, reset_epoch: int, retry_after: int) -> Reply:
        retry = formatdate(reset_epoch, usegmt=True) if self.options.retry_after_date else str(retry_after)
        return int(self.options.limit_status), [
            ("Content-Type", "text/plain; charset=utf-8"), ("X-Ratelimit-Reset", str(reset_epoch)),
            ("Retry-After", retry)], b"Limit exceeded"

    def _latency(self) -> None:
        base = float(self.options.latency_ms)
        jitter = float(self.options.jitter_ms)
        if base <= 0 and jitter <= 0:
            return
        extra = self._jitter.uniform(0.0, jitter) if jitter > 0 else 0.0
        time.sleep((base + extra) / 1000.0)

    # -- shared state for the handlers ---------------------------------------------------------
    def reconciliations_on(self, company: Any, site_id: int, day: date) -> list[dict]:
        """``company.reconciliations_on`` remembered for closed books (a week old or more).

        A reconciliation needs its whole trading day generated, so scans such as
        ``/reconciliations/unprocessed`` would regenerate the history on every call; a closed day
        only changes through our own PUT, which clears this memo.
        """
        if day > company.last_day() - timedelta(days=7):
            return list(company.reconciliations_on(site_id, day))
        key = (company.id, site_id, day)
        found = self._recon_memo.get(key)
        if found is None:
            found = self._recon_memo[key] = company.reconciliations_on(site_id, day)
        return found

    def forget_reconciliations(self) -> None:
        self._recon_memo.clear()

    # -- control -------------------------------------------------------------------------------
    def info(self, origin: str | None = None) -> dict[str, Any]:
        """What ``GET /_sandbox/info`` answers: URLs, demo credentials, companies, options."""
        return control.info(self, origin)

    def stats(self) -> dict[str, Any]:
        """Requests served so far, by status, plus injected faults and rate-limit refusals."""
        with self._stats_lock:
            return {"requests": self._requests,
                    "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                    "faults": dict(self._faults), "rate_limited": self._rate_limited}

    def set_options(self, **changes: Any) -> SandboxOptions:
        """Change options at run time; raises ``ValueError`` for unknown or frozen names."""
        known = {f.name for f in dataclasses.fields(SandboxOptions)}
        for name in changes:
            if name not in known:
                raise ValueError(f"Unknown sandbox option {name!r}.")
            if name in SandboxOptions.FROZEN:
                raise ValueError(f"Sandbox option {name!r} is fixed once the sandbox has started.")
        trial = dataclasses.replace(self.options, **changes)  # validates
        if "redirect_uris" in changes:
            trial.redirect_uris = tuple(trial.redirect_uris)
        for name in changes:
            setattr(self.options, name, getattr(trial, name))
        if "fault_seed" in changes:
            self.faults.reseed(int(self.options.fault_seed))
        if {"rate_limit", "rate_basic", "rate_oauth", "time_scale"} & set(changes):
            self.quota.reset()
        return self.options


def _server_error(status: int) -> Reply:
    if status == 500:
        body = stable_json({"error": "server_error",
                            "error_description": "An unexpected error occurred; please try again."}, False)
        return 500, [("Content-Type", JSON_TYPE)], body
    line = status_line(status)
    html = f"<html><head><title>{line}</title></head><body><h1>{line}</h1></body></html>"
    headers = [("Content-Type", "text/html")]
    if status == 503:
        headers.append(("Retry-After", "1"))
    return status, headers, html.encode()


def make_app(options: SandboxOptions | None = None, **overrides: Any) -> SandboxApp:
    """The sandbox as a WSGI application (mount it in-process or serve it with ``server.py``)."""
    if options is None:
        options = SandboxOptions(**overrides)
    elif overrides:
        options = dataclasses.replace(options, **overrides)
    return SandboxApp(options)
