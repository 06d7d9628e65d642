"""How an API path finds its handler: path scopes, then a route table as data.

An API path is ``/v1/companies/{c}/`` followed by optional *scopes* — ``sites/{s}``,
``registers/{r}``, ``staff/{st}``, ``customers/{cu}`` in any order, each at most once — and then a
resource path matched against :data:`kounta_nb.sandbox.routes.ROUTES`. A :class:`Route` names the
method, the segments (literals or typed placeholders), the scopes it accepts and its handler.
A scope the route does not accept is a 404 ("No such resource under that path"); a path that
matches with another method is a 405 with ``Allow``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from .orders import ORDER_STATUSES
from .web import ErrorReply, JsonAnswer, RawAnswer, Request, not_found

if TYPE_CHECKING:
    from .app import SandboxApp

__all__ = [
    "SCOPES", "STATUS_SEGMENTS", "ApiCall", "Answer", "Route", "parse_day", "resolve",
    "strip_scopes", "int_id", "route",
]

Answer = JsonAnswer | RawAnswer
#: Path segment → scope name (``sites/{s}/…`` scopes a request to a site).
SCOPES = {"sites": "site", "registers": "register", "staff": "staff", "customers": "customer"}
#: Lower-case order status path segments (``/orders/complete``) → the status.
STATUS_SEGMENTS = {s.lower(): s for s in ORDER_STATUSES}


@dataclass(slots=True)
class ApiCall:
    """One authenticated API request, resolved to a company, its scopes and path parameters."""

    app: SandboxApp
    req: Request
    company: Any
    grant_email: str | None
    suffix: bool  # the path ended in .json
    scope: dict[str, int] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def options(self) -> Any:
        return self.app.options

    def url(self, path: str) -> str:
        """An absolute URL for an API path under this company, in the request's style."""
        return f"{self.req.base}/v1/companies/{self.company.id}/{path}" + (".json" if self.suffix else "")

    def body(self) -> dict[str, Any]:
        return self.req.json_object()


def strip_scopes(call: ApiCall, rest: list[str], staff_me: Callable[[ApiCall], dict]) -> list[str]:
    """Take scope pairs off the front of ``rest`` while a resource path follows them."""
    company = call.company
    tables = {"site": company.sites, "register": company.registers, "staff": company.staff,
              "customer": company.customers}
    while len(rest) > 2 and rest[0] in SCOPES:
        key = SCOPES[rest[0]]
        if key in call.scope:
            raise not_found("A path filter appears twice")
        value = staff_me(call)["id"] if key == "staff" and rest[1] == "me" else int_id(rest[1])
        if value not in tables[key]:
            raise not_found(f"No {key} {value} in this company")
        call.scope[key] = value
        rest = rest[2:]
    return rest


def int_id(value: str) -> int:
    if not value.isdigit() or len(value) > 20:
        raise not_found()
    return int(value)


def parse_day(value: str) -> date:
    """A ``YYYY-MM-DD`` path segment, or 404."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise not_found(f"{value!r} is not a date in YYYY-MM-DD form") from None


#: Placeholder kinds: segment → value, or None when the segment is not of that kind.
_KINDS: dict[str, Callable[[str], Any]] = {
    "id": lambda s: int(s) if s.isdigit() and len(s) <= 20 else None,
    "day": lambda s: s if len(s) == 10 and s[4] == "-" else None,  # parsed (404 when bad) below
    "status": lambda s: STATUS_SEGMENTS.get(s),
    "text": lambda s: s or None,
}


@dataclass(frozen=True, slots=True)
class Route:
    """``method`` + ``pattern`` (literals and ``{name:kind}`` placeholders; a final ``*rest``
    takes the remaining segments) → ``handler``; ``scopes`` are the path scopes it accepts."""

    method: str
    pattern: tuple[str, ...]
    handler: Callable[[ApiCall], Answer]
    scopes: frozenset[str] = frozenset()

    def match(self, segments: Sequence[str]) -> dict[str, Any] | None:
        params: dict[str, Any] = {}
        for i, part in enumerate(self.pattern):
            if part == "*rest":
                params["rest"] = list(segments[i:])
                return params
            if i >= len(segments):
                return None
            seg = segments[i]
            if part.startswith("{"):
                name, _, kind = part[1:-1].partition(":")
                value = _KINDS[kind or "id"](seg)
                if value is None:
                    return None
                params[name] = parse_day(value) if kind == "day" else value
            elif part != seg:
                return None
        return params if len(segments) == len(self.pattern) else None


def route(method: str, path: str, handler: Callable[[ApiCall], Answer], scopes: str = "") -> Route:
    """A :class:`Route` from ``"sites/{site}"``-style text and space-separated scope names."""
    pattern = tuple(p for p in path.split("/") if p) if path else ()
    return Route(method, pattern, handler, frozenset(scopes.split()))


def resolve(routes: Sequence[Route], call: ApiCall, segments: list[str]) -> Answer:
    """Find the route for ``call`` and run it (404 / 405 when there is none)."""
    method = {"PATCH": "PUT", "HEAD": "GET"}.get(call.req.method, call.req.method)
    allowed: list[str] = []
    scoped_out = False
    for candidate in routes:
        params = candidate.match(segments)
        if params is None:
            continue
        if not set(call.scope) <= candidate.scopes:
            scoped_out = True
            continue
        if candidate.method != method:
            allowed.append(candidate.method)
            continue
        call.params = params
        return candidate.handler(call)
    if allowed:
        allow = ", ".join(dict.fromkeys(allowed))
        raise ErrorReply(405, "method_not_allowed", f"{method} is not allowed here; use {allow}.",
                         [("Allow", allow)])
    if scoped_out:
        raise not_found("No such resource under that path")
    raise not_found(f"Nothing lives at {call.req.path[:80]}")
