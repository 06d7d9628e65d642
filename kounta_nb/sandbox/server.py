"""Serve the sandbox over real sockets: a threaded HTTP/1.1 server on 127.0.0.1.

``start_sandbox(**options)`` starts it on a background thread and returns a :class:`SandboxHandle`
(a context manager). The server speaks HTTP/1.1 with keep-alive and exact ``Content-Length``,
and it is the piece that carries out the network faults the app asks for: a *dropped*
connection is closed without a byte of response, a *truncated* body announces its full length
but stops half-way and the connection is closed.
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import unquote

from .app import FAULT_KEY, SERVER_KEY, SandboxApp, SandboxOptions
from .oauth import CLIENT_ID, CLIENT_SECRET, LOGIN_EMAIL, LOGIN_PASSWORD

__all__ = [
    "SandboxHandle", "SandboxServer", "start_sandbox", "HOST",
]

HOST = "127.0.0.1"


_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The ``Date`` header value, formatted at most once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class _Handler(BaseHTTPRequestHandler):
    """A minimal, fast WSGI gateway with keep-alive."""

    protocol_version = "HTTP/1.1"
    server_version = "KountaSandbox/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: SandboxServer

    def _serve(self) -> None:
        path, _, query = self.path.partition("?")
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            body = self._read_chunked()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": HOST,
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            SERVER_KEY: True,
        }
        for key, value in self.headers.items():
            name = key.upper().replace("-", "_")
            if name == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif name != "CONTENT_LENGTH":
                environ["HTTP_" + name] = value
        reply: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            reply[:] = [status, headers]

        chunks = self.server.app(environ, start_response)
        payload = b"".join(chunks)
        fault = environ.get(FAULT_KEY)
        if fault == "drop":
            self._drop()
            return
        status, headers = reply
        lines = [f"HTTP/1.1 {status}", f"Date: {_http_date()}", f"Server: {self.server_version}"]
        lines.extend(f"{k}: {v}" for k, v in headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if fault == "truncate":
            self.wfile.write(head + payload[: len(payload) // 2])
            self.wfile.flush()
            self._drop()
            return
        self.wfile.write(head + payload)
        self.log_request(status.split(" ", 1)[0], len(payload))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.verbose:
            super().log_message(format, *args)


class SandboxServer(ThreadingMixIn, HTTPServer):
    """The threaded server; tracks open connections so :meth:`stop` can close idle keep-alives."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, app: SandboxApp, port: int = 0, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away mid-answer (Ctrl-C in the notebook, a stopped pull, stop()
        # closing the socket) is not the sandbox's error: no traceback into the notebook.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        """Close every open connection (used on stop)."""
        with self._open_lock:
            conns = list(self._open)
            self._open.clear()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                conn.close()


class SandboxHandle:
    """A running sandbox: its URLs, the demo credentials, and its control knobs.

    Use it as a context manager, or call :meth:`stop`.
    """

    client_id = CLIENT_ID
    client_secret = CLIENT_SECRET
    username = LOGIN_EMAIL
    password = LOGIN_PASSWORD

    def __init__(self, server: SandboxServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.app: SandboxApp = server.app
        port = server.server_address[1]
        self.port: int = port
        self.url = f"http://{HOST}:{port}"
        self.api_base = self.url + "/v1/"
        self.authorize_url = self.url + "/authorize"
        self.token_url = self.url + "/v1/token"
        self.redirect_uri = self.url + "/oauth/done"
        self.app.url = self.url
        self._stopped = False

    # -- control knobs (the same as the /_sandbox/ endpoints) ----------------------------------
    @property
    def options(self) -> SandboxOptions:
        """The live options (read-only view; change them with :meth:`set_options`)."""
        return self.app.options

    @property
    def business(self) -> Any:
        """The data layer behind the server."""
        return self.app.business

    def set_options(self, **changes: Any) -> SandboxOptions:
        """Change options at run time (faults, rate limits, latency, token TTL, …)."""
        return self.app.set_options(**changes)

    def revoke(self, refresh_token: str | None = None) -> int:
        """Revoke one refresh token, or all of them: refreshing becomes impossible."""
        return self.app.tokens.revoke(refresh_token)

    def expire_tokens(self, in_seconds: float = 0.0) -> int:
        """Expire every access token now, or ``in_seconds`` from now."""
        return self.app.tokens.expire_all(in_seconds)

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock forward."""
        self.app.business.clock.advance(seconds)

    def stats(self) -> dict[str, Any]:
        """Requests served so far, by status."""
        return self.app.stats()

    def info(self) -> dict[str, Any]:
        """What ``GET /_sandbox/info`` answers."""
        return self.app.info(self.url)

    # -- lifecycle -----------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop serving and close every connection (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<SandboxHandle {self.url} {state}>"


def start_sandbox(port: int = 0, *, verbose: bool = False, **options: Any) -> SandboxHandle:
    """Start the sandbox on ``127.0.0.1:port`` (0 = a free port) in a background thread.

    ``options`` are :class:`~kounta_nb.sandbox.app.SandboxOptions` fields (``seed``, ``months``,
    ``live``, ``latency_ms``, ``rate_limit``, ``fault_5xx``, …).
    """
    known = set(SandboxOptions.__dataclass_fields__)
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"start_sandbox() got an unknown option {unknown[0]!r}; "
                        f"known options: {', '.join(sorted(known - {'FROZEN'}))}.")
    app = SandboxApp(SandboxOptions(**options))
    server = SandboxServer(app, port, verbose=verbose)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"kounta-sandbox-{server.server_address[1]}", daemon=True)
    thread.start()
    return SandboxHandle(server, thread)
