"""Jupyter server extension: the OAuth return leg for kernels the browser cannot reach.

On JupyterHub or Binder the kernel's ``127.0.0.1`` is not the browser's, so a loopback redirect
URI cannot work. Enable this extension (``jupyter server extension enable kounta_nb.server_ext``,
or ``--ServerApp.jpserver_extensions='{"kounta_nb.server_ext": True}'``) and set the redirect URI
to ``<server URL><base_url>kounta_nb/callback`` (``%config Kounta.redirect_uri = …`` or
``KOUNTA_REDIRECT_URI``). The handler — behind Jupyter's own login, so only the notebook's user
reaches it — looks up which kernel listener waits for the request's ``state`` and forwards the
request there; the kernel does the token exchange and the page shows its outcome.
"""

from __future__ import annotations

from typing import Any

import tornado.web
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado.httpclient import AsyncHTTPClient

from .callback import CALLBACK_PATH, CallbackResult, lookup_pending, result_page

__all__ = ["CallbackHandler"]


class CallbackHandler(JupyterHandler):
    """``GET <base_url>kounta_nb/callback?code=…&state=…`` → the waiting kernel's listener."""

    @tornado.web.authenticated
    async def get(self) -> None:
        state = self.get_argument("state", default="")
        port = lookup_pending(state) if state else None
        if port is None:
            self._page(
                400,
                CallbackResult(
                    False,
                    "This login is unknown or already finished: run `%kounta login` in the "
                    "notebook and use the new link.",
                ),
            )
            return
        target = f"http://127.0.0.1:{port}{CALLBACK_PATH}?{self.request.query}"
        try:
            response = await AsyncHTTPClient().fetch(target, raise_error=False, request_timeout=60)
        except OSError:  # connection refused: the listener (and so the kernel) is gone
            response = None
        if response is None or response.code == 599:
            self._page(
                502,
                CallbackResult(
                    False, "The notebook kernel that started this login is no longer running."
                ),
            )
            return
        self.set_status(response.code)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(response.body)

    def _page(self, status: int, result: CallbackResult) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(result_page(result))


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": "kounta_nb.server_ext"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    web_app = serverapp.web_app
    route = url_path_join(web_app.settings["base_url"], CALLBACK_PATH.lstrip("/"))
    web_app.add_handlers(".*$", [(route, CallbackHandler)])
    serverapp.log.info("kounta_nb: OAuth callback route at %s", route)
