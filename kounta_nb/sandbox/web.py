"""Requests and answers of the sandbox's HTTP layer: what a handler reads and what it returns.

- :class:`Request` — the parts of a WSGI request the sandbox looks at, and the public origin of
  the server as the client sees it (behind a reverse proxy too, see :func:`public_origin`).
- :class:`JsonAnswer` / :class:`RawAnswer` — what handlers return; :class:`ErrorReply` — what
  they raise; :func:`render` turns an answer into ``(status, headers, body)`` with the ETag and
  the ``If-None-Match`` → 304 rule of docs/api.md §3.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

__all__ = [
    "JSON_TYPE",
    "ErrorReply",
    "Headers",
    "JsonAnswer",
    "RawAnswer",
    "Reply",
    "Request",
    "bad_request",
    "not_found",
    "public_origin",
    "render",
    "render_error",
    "stable_json",
    "status_line",
]

#: (status, headers, body) — what every part of the HTTP layer hands to the WSGI gateway.
Headers = list[tuple[str, str]]
Reply = tuple[int, Headers, bytes]
JSON_TYPE = "application/json; charset=utf-8"


class ErrorReply(Exception):
    """An error answer, raised by a handler: OAuth-style JSON ``{"error", "error_description"}``
    (or ``{"message"}`` when ``legacy``, as some old answers had)."""

    def __init__(self, status: int, error: str, description: str, headers: Headers | None = None, *,
                 legacy: bool = False) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description
        self.headers = headers or []
        self.legacy = legacy


def not_found(what: str = "No such resource") -> ErrorReply:
    return ErrorReply(404, "not_found", f"{what}.")


def bad_request(message: str) -> ErrorReply:
    return ErrorReply(400, "invalid_request", message)


@dataclass(slots=True)
class JsonAnswer:
    """A JSON answer before serialisation."""

    body: Any
    status: int = 200
    headers: Headers = field(default_factory=list)


@dataclass(slots=True)
class RawAnswer:
    """An answer that is already bytes (redirects, 201, 204)."""

    status: int
    headers: Headers
    body: bytes


def status_line(status: int) -> str:
    """``"404 Not Found"`` (the reason phrase from :class:`http.HTTPStatus`)."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def stable_json(obj: Any, pretty: bool) -> bytes:
    """The same bytes for the same value (so ETags are stable); indented when ``pretty``."""
    if pretty:
        return json.dumps(obj, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def _etag_matches(header: str, etag: str) -> bool:
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            candidate = candidate[2:]
        if candidate == etag:
            return True
    return False


def render(method: str, if_none_match: str | None, answer: JsonAnswer | RawAnswer, pretty: bool) -> Reply:
    """An answer as ``(status, headers, body)``: JSON with a strong ETag on a GET/HEAD 200, and
    304 with no body when ``If-None-Match`` names it."""
    if isinstance(answer, RawAnswer):
        return answer.status, answer.headers, answer.body
    body = stable_json(answer.body, pretty)
    headers = [("Content-Type", JSON_TYPE), *answer.headers]
    if method in ("GET", "HEAD") and answer.status == 200:
        etag = _etag(body)
        headers.append(("ETag", etag))
        if if_none_match and _etag_matches(if_none_match, etag):
            return 304, [("ETag", etag), *answer.headers], b""
    return answer.status, headers, body


def render_error(exc: ErrorReply, pretty: bool) -> Reply:
    payload = {"message": exc.description} if exc.legacy else \
        {"error": exc.error, "error_description": exc.description}
    return exc.status, [("Content-Type", JSON_TYPE), *exc.headers], stable_json(payload, pretty)


# -- the public origin, behind a reverse proxy or not --------------------------------------------

_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::\d{1,5})?$")
_PREFIX = re.compile(r"^(?:/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+$")


def _last(value: str | None) -> str | None:
    """The value the nearest proxy added: the last of a comma-separated header."""
    if not value:
        return None
    last = value.split(",")[-1].strip()
    return last or None


def _forwarded_pairs(header: str | None) -> dict[str, str]:
    """The last element of an RFC 7239 ``Forwarded`` header as ``{name: value}``."""
    element = _last(header)
    if element is None:
        return {}
    out = {}
    for pair in element.split(";"):
        name, sep, value = pair.partition("=")
        if sep:
            out[name.strip().lower()] = value.strip().strip('"')
    return out


def _trusts_proxy(remote_addr: str | None) -> bool:
    """Forwarding headers count only from a peer on this machine (or an in-process mount)."""
    if not remote_addr:
        return True
    with contextlib.suppress(ValueError):
        return ipaddress.ip_address(remote_addr.split("%", 1)[0]).is_loopback
    return False


def public_origin(environ: dict[str, Any], headers: dict[str, str]) -> tuple[str, str]:
    """``(scheme://host[:port], path prefix)`` of this server as the client addressed it.

    The sandbox listens on 127.0.0.1, so behind a TLS-terminating reverse proxy (Binder,
    JupyterHub, nginx) the proxy is a process on the same machine. Like werkzeug's ``ProxyFix``
    configured for one proxy, it trusts exactly one hop — the *last* value of each forwarding
    header, the one the nearest proxy added — and only from a loopback peer: ``X-Forwarded-Proto``
    (else ``Forwarded: proto=``), ``X-Forwarded-Host`` (else ``Forwarded: host=``),
    ``X-Forwarded-Port`` and ``X-Forwarded-Prefix``. Values that are not a plain scheme
    (``http``/``https``), host[:port], port or path are ignored, so a header can never put another
    scheme, a user part or a path into the absolute URLs the sandbox writes (``X-Next-Page``,
    ``Location``). Without such headers the origin is ``wsgi.url_scheme`` and ``Host``.
    """
    scheme = str(environ.get("wsgi.url_scheme") or "http")
    host = headers.get("host") or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
    if not _HOST.match(host):
        host = f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '80')}"
    prefix = ""
    if _trusts_proxy(environ.get("REMOTE_ADDR")):
        forwarded = _forwarded_pairs(headers.get("forwarded"))
        proto = (_last(headers.get("x-forwarded-proto")) or forwarded.get("proto") or "").lower()
        if proto in ("http", "https"):
            scheme = proto
        fwd_host = _last(headers.get("x-forwarded-host")) or forwarded.get("host")
        if fwd_host and _HOST.match(fwd_host):
            host = fwd_host
        port = _last(headers.get("x-forwarded-port"))
        if port and port.isdigit() and 0 < int(port) < 65536:
            host = _strip_port(host) + f":{port}"
        fwd_prefix = _last(headers.get("x-forwarded-prefix"))
        if fwd_prefix and _PREFIX.match(fwd_prefix.rstrip("/") or "/x"):
            prefix = fwd_prefix.rstrip("/")
    if (scheme, _port_of(host)) in (("https", "443"), ("http", "80")):
        host = _strip_port(host)
    return f"{scheme}://{host}", prefix


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host[: host.index("]") + 1]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _port_of(host: str) -> str | None:
    rest = host[host.index("]") + 1:] if host.startswith("[") else host
    return rest.rsplit(":", 1)[1] if ":" in rest else None


@dataclass(slots=True)
class Request:
    """The parts of a WSGI request the sandbox looks at."""

    environ: dict[str, Any]
    method: str
    path: str
    query_string: str
    query: dict[str, str]
    headers: dict[str, str]
    origin: str  # scheme://host[:port] as the client addressed this server
    prefix: str = ""  # the path a reverse proxy serves us under (X-Forwarded-Prefix), or ""

    @classmethod
    def from_environ(cls, environ: dict[str, Any]) -> Request:
        """Read method, path, query and headers from a WSGI environ."""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        qs = environ.get("QUERY_STRING", "")
        path = environ.get("PATH_INFO", "/")
        if isinstance(path, str):
            # PEP 3333: PATH_INFO is latin-1-decoded bytes; recover the UTF-8 text.
            with contextlib.suppress(UnicodeError):
                path = path.encode("latin-1").decode("utf-8")
        origin, prefix = public_origin(environ, headers)
        return cls(environ, str(environ.get("REQUEST_METHOD", "GET")).upper(), path, qs,
                   dict(parse_qsl(qs, keep_blank_values=True)), headers, origin, prefix)

    @property
    def base(self) -> str:
        """Origin plus the proxy's path prefix: where ``/v1/…`` paths of this server live."""
        return self.origin + self.prefix

    def body(self) -> bytes:
        """The raw request body (read once, cached)."""
        cached = self.environ.get("kounta_nb.sandbox.body")
        if cached is not None:
            return bytes(cached)
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        stream = self.environ.get("wsgi.input")
        data = stream.read(length) if (stream is not None and length > 0) else b""
        self.environ["kounta_nb.sandbox.body"] = data
        return bytes(data)

    def form(self) -> dict[str, str]:
        """The body as an HTML form (``application/x-www-form-urlencoded``)."""
        return dict(parse_qsl(self.body().decode("utf-8", errors="replace"), keep_blank_values=True))

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object, or a 400."""
        try:
            data = json.loads(self.body().decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise bad_request("The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise bad_request("The request body must be a JSON object.")
        return data
