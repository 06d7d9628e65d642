"""The return leg of the OAuth login: getting ``?code=…&state=…`` back into the kernel.

Three ways, chosen by where the kernel runs (see ``kounta_nb.widgets.login``):

1. **Loopback** (a kernel on the user's own machine): :class:`CallbackServer` listens on
   ``127.0.0.1:<random port>`` and the redirect URI is ``http://127.0.0.1:<port>/kounta_nb/callback``
   (RFC 8252 §7.3). The browser lands there directly.
2. **Jupyter server route** (JupyterHub, Binder): the redirect URI is the Jupyter server's
   ``<base_url>kounta_nb/callback``; the server extension in :mod:`kounta_nb.server_ext` looks the
   ``state`` up in the small registry below and forwards the request to the kernel's loopback
   listener (server and kernel share a machine even when the browser does not).
3. **Paste**: the user copies the address the browser ended on into the login widget.

The registry (in Jupyter's runtime directory, shared by the server and its kernels) holds only a
hash of ``state`` and a port number — never a code or a token.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import settings
from .errors import ConfigError
from .files import write_private_text

__all__ = [
    "CALLBACK_PATH",
    "CallbackResult",
    "CallbackServer",
    "forget_pending",
    "lookup_pending",
    "parse_redirect",
    "register_pending",
    "result_page",
    "PENDING_TTL_S",
]

#: The path of the redirect URI, on the loopback listener and on the Jupyter server alike.
CALLBACK_PATH = "/kounta_nb/callback"
#: Pending logins older than this are ignored by the server route.
PENDING_TTL_S = 30 * 60


class CallbackResult:
    """What the login handler made of a redirect: ``ok`` and one sentence for the browser tab."""

    def __init__(self, ok: bool, message: str) -> None:
        self.ok = ok
        self.message = message

    def __repr__(self) -> str:
        return f"CallbackResult(ok={self.ok}, message={self.message!r})"


def parse_redirect(url: str) -> dict[str, str]:
    """The query parameters of a redirected URL (``code``, ``state``, ``error``…), one value each.

    Raises ``ConfigError`` when the text is not an address with a ``code`` or an ``error`` in it.
    """
    text = (url or "").strip()
    query = urlsplit(text).query if "?" in text else ""
    params = {key: values[-1] for key, values in parse_qs(query).items()}
    if "code" not in params and "error" not in params:
        raise ConfigError(
            "That address has no login result in it: paste the full address of the page "
            "Kounta sent you to (it contains ?code=…&state=…)."
        )
    return params


def result_page(result: CallbackResult) -> bytes:
    """The small HTML page the browser tab shows after the redirect."""
    title = "Connected to Kounta" if result.ok else "Kounta login did not complete"
    hint = (
        "You can close this tab and go back to your notebook."
        if result.ok
        else "Go back to your notebook and start the login again."
    )
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:sans-serif;max-width:36em;margin:4em auto'>"
        f"<h1 id='kounta-nb-result' data-ok='{str(result.ok).lower()}'>{html.escape(title)}</h1>"
        f"<p>{html.escape(result.message)}</p><p>{html.escape(hint)}</p></body></html>"
    )
    return body.encode("utf-8")


class CallbackServer:
    """A one-purpose HTTP listener on 127.0.0.1 that hands OAuth redirects to ``handler``.

    ``handler(url)`` receives the full redirected URL and returns a :class:`CallbackResult`; it
    runs on the listener's thread, so the browser tab shows the real outcome of the token exchange.
    Requests whose ``Host`` is not ``127.0.0.1:<port>`` or ``localhost:<port>`` get a 400 and
    never reach the handler (the code in them is not consumed).
    """

    def __init__(
        self, handler: Callable[[str], CallbackResult], *, port: int = 0, path: str = CALLBACK_PATH
    ) -> None:
        self._handler = handler
        self.path = path
        outer = self

        class _Request(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                # Only requests addressed to this listener by a loopback name: a page elsewhere
                # cannot make the browser deliver a code here under another Host (DNS rebinding).
                if (self.headers.get("Host") or "").strip().lower() not in outer.hosts:
                    self._answer(400, b"Bad Host")
                    return
                if urlsplit(self.path).path != outer.path:
                    self._answer(404, b"Not found")
                    return
                url = f"http://127.0.0.1:{outer.port}{self.path}"
                try:
                    result = outer._handler(url)
                except Exception as exc:  # the tab must always get an answer
                    result = CallbackResult(False, _one_line(exc))
                self._answer(200 if result.ok else 400, result_page(result), "text/html; charset=utf-8")

            def _answer(self, status: int, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                # The request line carries the authorisation code: never log it.
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Request)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="kounta-nb-callback", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """The port the listener is bound to."""
        return int(self._server.server_address[1])

    @property
    def hosts(self) -> frozenset[str]:
        """The ``Host`` values this listener answers: ``127.0.0.1:<port>`` and ``localhost:<port>``."""
        return frozenset({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:<port><path>`` (the path defaults to ``/kounta_nb/callback``)."""
        return f"http://127.0.0.1:{self.port}{self.path}"

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def __repr__(self) -> str:
        return f"CallbackServer(port={self.port})"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


# --- the registry shared with the Jupyter server extension ------------------------------------


def _pending_dir() -> Path:
    """Jupyter's runtime directory, which the server and its kernels share (the kernels'
    connection files live there too); kounta_nb's config directory outside Jupyter."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return settings.config_dir() / "pending"
    return Path(jupyter_runtime_dir()) / "kounta_nb-pending"


def _key(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()[:40]


def register_pending(state: str, port: int) -> None:
    """Tell the Jupyter server route which loopback port waits for the login with ``state``
    (a 0600 file in a 0700 directory)."""
    write_private_text(_pending_dir() / f"{_key(state)}.json", json.dumps({"port": port, "created": time.time()}))


def lookup_pending(state: str) -> int | None:
    """The loopback port registered for ``state``, or None when unknown or stale."""
    path = _pending_dir() / f"{_key(state)}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if time.time() - float(entry.get("created", 0)) > PENDING_TTL_S:
        return None
    port = entry.get("port")
    return int(port) if isinstance(port, int) else None


def forget_pending(state: str) -> None:
    """Remove the registry entry of a finished or abandoned login."""
    (_pending_dir() / f"{_key(state)}.json").unlink(missing_ok=True)
