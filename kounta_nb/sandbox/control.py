"""The sandbox's own pages: ``/`` (a plain-text summary) and the control endpoints under
``/_sandbox/`` (JSON, no authentication, for the machine the sandbox runs on)::

    GET  /_sandbox/info     URLs, demo credentials, companies, options, now
    GET  /_sandbox/stats    requests served by status, injected faults, rate-limit refusals
    POST /_sandbox/options  {"name": value, …}: change options at run time
    POST /_sandbox/revoke   {"refresh_token": …} or {} for all: refreshing becomes impossible
    POST /_sandbox/expire   every access token expires now
    POST /_sandbox/clock    {"advance": seconds}

A request that came through a reverse proxy (it carries ``Forwarded`` or ``X-Forwarded-*``) gets
403 here: behind Binder or JupyterHub the API is shared with the browser, the knobs are not.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .oauth import CLIENT_ID, CLIENT_SECRET, LOGIN_EMAIL, LOGIN_PASSWORD
from .web import ErrorReply, Reply, Request, not_found, render_error, stable_json

if TYPE_CHECKING:
    from .app import SandboxApp

__all__ = ["control", "index_page", "info"]

_FORWARDING = ("forwarded", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-prefix")


def _ok(body: Any) -> Reply:
    return 200, [("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")], \
        stable_json(body, True)


def info(app: SandboxApp, base: str | None = None) -> dict[str, Any]:
    """What ``GET /_sandbox/info`` answers: URLs, demo credentials, companies, options."""
    url = base or app.url
    companies = []
    for cid, company in sorted(app.business.companies.items()):
        companies.append({
            "id": cid, "name": company.record.get("name"), "timezone": str(company.tz),
            "developer": cid == app.business.developer_company_id,
            "first_day": company.first_day.isoformat(), "last_day": company.last_day().isoformat(),
            "sites": [{"id": s["id"], "name": s.get("name"), "code": s.get("code")}
                      for _, s in sorted(company.sites.items())],
        })
    return {
        "url": url, "api_base": f"{url}/v1/", "authorize_url": f"{url}/authorize",
        "token_url": f"{url}/v1/token",
        "credentials": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                        "redirect_uri": f"{url}/oauth/done", "username": LOGIN_EMAIL,
                        "password": LOGIN_PASSWORD},
        "companies": companies, "options": app.options.as_json(),
        "now": app.business.clock.now().isoformat(), "tokens": app.tokens.counts(),
    }


def index_page(app: SandboxApp, req: Request) -> Reply:
    """``GET /``: where things are, in plain text."""
    about = info(app, req.base)
    lines = [f"Kounta sandbox at {req.base}", "", f"API base:      {about['api_base']}",
             f"Authorise at:  {about['authorize_url']}", f"Token URL:     {about['token_url']}", "",
             *(f"{k:14} {v}" for k, v in about["credentials"].items()), "",
             "Companies:", *(f"  {c['id']}  {c['name']}" for c in about["companies"]), "",
             "Control: GET /_sandbox/info, /_sandbox/stats; POST /_sandbox/options, /revoke, /expire, /clock"]
    return 200, [("Content-Type", "text/plain; charset=utf-8")], ("\n".join(lines) + "\n").encode()


def control(app: SandboxApp, req: Request) -> Reply:
    """One control endpoint (see the module)."""
    name = req.path[len("/_sandbox/"):].strip("/")
    if any(h in req.headers for h in _FORWARDING):
        return render_error(ErrorReply(403, "access_denied",
                                       "The sandbox's control endpoints answer only on the machine it runs on."), True)
    try:
        if name == "info" and req.method == "GET":
            return _ok(info(app, req.base))
        if name == "stats" and req.method == "GET":
            return _ok(app.stats())
        if req.method != "POST" or name not in ("options", "revoke", "expire", "clock"):
            return render_error(not_found(f"No control endpoint {req.method} /_sandbox/{name[:40]}"), True)
        raw = req.body().decode("utf-8", errors="replace").strip()
        body = json.loads(raw) if raw else {}
        if not isinstance(body, dict):
            raise ValueError("The body must be a JSON object.")
        if name == "options":
            return _ok(app.set_options(**body).as_json())
        if name == "revoke":
            return _ok({"revoked": app.tokens.revoke(body.get("refresh_token"))})
        if name == "expire":
            return _ok({"expired": app.tokens.expire_all()})
        app.business.clock.advance(float(body.get("advance", 0)))
        return _ok({"now": app.business.clock.now().isoformat()})
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        return render_error(ErrorReply(400, "invalid_request", str(exc)), True)
