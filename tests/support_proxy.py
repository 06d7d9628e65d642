"""A fault-injecting HTTP proxy on 127.0.0.1 in front of a sandbox, for the client's contract tests.

It forwards every request to the upstream server over a real socket (keeping ``Host``, so the
sandbox's ``X-Next-Page`` and ``Location`` URLs point back at the proxy) and asks ``rule(method,
path)`` what to do with it:

- ``"pass"``: forward and answer normally;
- ``"drop"``: close the connection without forwarding (the server never saw the request);
- ``"lost"``: forward, let the server carry the request out, then close the connection without
  answering — the "did my POST land?" case.

``proxy.log`` lists ``(method, path, action)`` for every request.

:func:`blackhole` stands in for a network that swallows packets: a port where connecting waits
for the client's connect timeout instead of being refused at once.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Rule = Callable[[str, str], str]


class FaultProxy:
    """``FaultProxy(upstream_url, rule)``; ``.api_base`` is the proxied ``/v1/``; stop with ``.stop()``."""

    def __init__(self, upstream: str, rule: Rule | None = None) -> None:
        self.upstream = urlsplit(upstream)
        self.rule: Rule = rule or (lambda method, path: "pass")
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def _any(self) -> None:
                outer._handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_base(self) -> str:
        return self.url + "/v1/"

    def actions(self, action: str, method: str | None = None) -> int:
        """How many requests (of ``method``) got ``action``."""
        with self._lock:
            return sum(1 for m, _, a in self.log if a == action and (method is None or m == method))

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = urlsplit(h.path).path
        action = self.rule(h.command, path)
        with self._lock:
            self.log.append((h.command, path, action))
        if action == "drop":
            h.close_connection = True
            h.connection.close()
            return
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            headers = {k: v for k, v in h.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request(h.command, h.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            data = answer.read()
        finally:
            conn.close()
        if action == "lost":
            h.close_connection = True
            h.connection.close()
            return
        h.send_response(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in ("connection", "transfer-encoding", "content-length", "keep-alive"):
                h.send_header(key, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def flaky(seed: int, **chances: float) -> Rule:
    """A seeded rule: ``flaky(1, POST_lost=0.5, GET_drop=0.3)`` — keys are ``<METHOD>_<action>``
    (``*`` for any method); the first that draws wins, else ``"pass"``."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def rule(method: str, path: str) -> str:
        if "/companies/" not in path:
            return "pass"
        with lock:
            for key, chance in chances.items():
                who, _, action = key.partition("_")
                if who in (method, "*") and rng.random() < chance:
                    return action
        return "pass"

    return rule


@contextlib.contextmanager
def blackhole(port: int) -> Iterator[None]:
    """Make ``127.0.0.1:port`` (a port nothing listens on any more) swallow connection attempts.

    A listener that never accepts, with its queue filled: the kernel then drops every new SYN, so
    a client's connect waits for its connect timeout — a dead network on a train, rather than a
    closed port's immediate refusal.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", port))
        listener.listen(0)
        for _ in range(16):  # the queue holds one connection on Linux; fill it, whatever its size
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.settimeout(0.5)
            try:
                filler.connect(("127.0.0.1", port))
            except OSError:  # timed out: the queue is full
                filler.close()
                break
            fillers.append(filler)
        else:
            raise RuntimeError(f"could not fill the listen queue of port {port}")
        yield
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
