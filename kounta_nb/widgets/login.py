"""The login widget: connect a notebook to Kounta (or to the embedded sandbox) without a token in sight.

Like a real integration (WISK's connection flow, docs/api.md §2): a button opens Kounta's login page in a
new tab, the user logs in, picks the company and clicks **Grant Access**; the browser comes back
and the notebook carries on — then the venue picker appears.

The return leg (see :mod:`kounta_nb.callback`): a loopback listener when the redirect URI is a
``127.0.0.1``/``localhost`` address, the Jupyter server route when it ends in
``/kounta_nb/callback`` elsewhere, and always a field to paste the address the browser ended on.

Secrets: the client secret typed into the Password field is moved into a plain Python attribute
and the field is emptied at once; no synced trait ever holds a secret or a token (widget state is
saved into the notebook file).
"""

from __future__ import annotations

import html
import os
import threading
from typing import Any
from urllib.parse import urlsplit

import ipywidgets as widgets
from traitlets import Unicode

from .. import settings
from ..auth import is_loopback
from ..callback import (
    CALLBACK_PATH,
    CallbackResult,
    CallbackServer,
    forget_pending,
    register_pending,
)
from ..errors import ConfigError, KountaError
from ..session import Session
from .venue import VenuePicker

__all__ = [
    "LoginWidget", "FIELD_CH", "LABEL_CH", "PLACEHOLDERS", "text_ch",
]

def _remote_kernel() -> bool:
    """Whether the kernel runs behind JupyterHub or Binder (its 127.0.0.1 is not the browser's)."""
    return any(os.environ.get(name) for name in ("JUPYTERHUB_SERVICE_PREFIX", "BINDER_SERVICE_HOST"))


#: Every placeholder a text field of the login can show (the field widths are sized for them).
PLACEHOLDERS = {
    "client_id": "your add-on's client id",
    "secret": "your add-on's client secret",
    "secret_env": "taken from $KOUNTA_CLIENT_SECRET",
    "secret_kept": "secret received (kept in memory only)",
    "address": "…or paste the address the browser ended on",
}
#: Width of the field labels ("Client id", "Secret", "Address") and their gap, in ``ch``.
LABEL_CH = 10


def text_ch(text: str) -> float:
    """A generous width estimate of ``text`` in ``ch`` (the width of "0"): capitals and symbols
    are wider than digits in proportional fonts, lower case narrower."""
    return sum(1.3 if ch.isupper() or ch in "$@%&_—…" else 1.0 for ch in text)


#: One width for every field, so that they line up and none cuts its placeholder: the label,
#: the longest placeholder, and room for the input's padding and border.
FIELD_CH = LABEL_CH + int(max(text_ch(p) for p in PLACEHOLDERS.values())) + 4


def _field_layout() -> widgets.Layout:
    # max_width keeps a narrow output area from scrolling sideways (then, and only then, a long
    # placeholder may be cut).
    return widgets.Layout(width=f"{FIELD_CH}ch", max_width="100%")


def _field_style() -> dict[str, str]:
    return {"description_width": f"{LABEL_CH}ch"}


def _line(text: str, kind: str = "info") -> str:
    colour = {"info": "inherit", "ok": "#1a7f37", "error": "#c62828"}[kind]
    return f"<span class='kounta-nb-status kounta-nb-{kind}' style='color:{colour}'>{html.escape(text)}</span>"


class LoginWidget(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """Client id / secret fields, **Log in with Kounta**, **Try the sandbox (no account)**,
    **Basic (my own company)**, the authorise link, a paste field, one status line, then the
    venue picker.

    ``stage`` is ``"start"``, ``"waiting"`` (authorise page opened), ``"connected"`` or
    ``"failed"``; ``message`` is the status line's text. Neither is synced to the browser.
    """

    stage = Unicode("start")
    message = Unicode("")

    def __init__(
        self,
        session: Session,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        site: str | int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._secret: str | None = client_secret
        self._redirect_config = redirect_uri
        self._site = site
        self._flow: Any = None
        self._pending_url: str | None = None
        self._state: str | None = None
        self._mode = "loopback"
        self._client_options: dict[str, Any] = {}
        self._listener: CallbackServer | None = None
        self._lock = threading.Lock()
        self.picker: VenuePicker | None = None

        env_id = client_id or os.environ.get(settings.ENV_CLIENT_ID, "")
        env_secret = bool(os.environ.get(settings.ENV_CLIENT_SECRET))
        self._title = widgets.HTML("<b>Connect to Kounta</b>")
        self._client_id_field = widgets.Text(
            value=env_id,
            description="Client id",
            placeholder=PLACEHOLDERS["client_id"],
            layout=_field_layout(),
            style=_field_style(),
        )
        self._secret_field = widgets.Password(
            value="",
            description="Secret",
            placeholder=PLACEHOLDERS["secret_env" if env_secret else "secret"],
            continuous_update=False,
            layout=_field_layout(),
            style=_field_style(),
        )
        self._login_button = widgets.Button(
            description="Log in with Kounta", button_style="primary", icon="sign-in"
        )
        self._basic_button = widgets.Button(
            description="Basic (my own company)", tooltip="Basic auth: your developer company only"
        )
        self._sandbox_button = widgets.Button(
            description="Try the sandbox (no account)", button_style="info"
        )
        self._link = widgets.HTML("")
        # The sandbox's demo login, shown while its consent page waits (it is published, made up
        # and only valid on the sandbox: not a secret).
        self._demo_login = widgets.HTML("")
        self._paste_field = widgets.Text(
            description="Address",
            placeholder=PLACEHOLDERS["address"],
            continuous_update=False,
            layout=_field_layout(),
            style=_field_style(),
        )
        self._finish_button = widgets.Button(description="Finish login")
        self._paste_row = widgets.HBox([self._paste_field, self._finish_button])
        self._paste_row.layout.display = "none"
        self._status = widgets.HTML("")
        self._venue_box = widgets.VBox([])
        for part in (self._login_button, self._basic_button, self._sandbox_button, self._finish_button):
            part.layout.width = "auto"
        self.add_class("kounta-nb-login")
        self._form = widgets.VBox(
            [
                self._client_id_field,
                self._secret_field,
                widgets.HBox([self._login_button, self._sandbox_button, self._basic_button]),
            ]
        )
        self.children = [
            self._title,
            self._form,
            self._link,
            self._demo_login,
            self._paste_row,
            self._status,
            self._venue_box,
        ]
        self._secret_field.observe(self._on_secret_value, "value")
        self._login_button.on_click(self._on_login_click)
        self._basic_button.on_click(self._on_basic_click)
        self._sandbox_button.on_click(self._on_sandbox_click)
        self._finish_button.on_click(self._on_finish_click)
        self._paste_field.observe(self._on_paste_value, "value")

    # -- parts the tests and the magics reach ------------------------------------------------------

    @property
    def authorize_url(self) -> str | None:
        """The consent-page URL of the pending login (None before one starts or after it ends)."""
        return self._pending_url

    @property
    def redirect_uri(self) -> str | None:
        """Where the consent page sends the browser back for the pending login."""
        return self._flow.redirect_uri if self._flow is not None else None

    # -- handlers ----------------------------------------------------------------------------------

    def _on_secret_value(self, change: dict[str, Any]) -> None:
        if change["new"]:
            self._secret = change["new"]
            self._secret_field.value = ""
            self._secret_field.placeholder = PLACEHOLDERS["secret_kept"]

    def _on_login_click(self, _button: Any = None) -> None:
        self._guard(self._start_oauth)

    def _on_sandbox_click(self, _button: Any = None) -> None:
        self._guard(self._start_sandbox)

    def _on_basic_click(self, _button: Any = None) -> None:
        self._guard(self._basic_login)

    def _on_finish_click(self, _button: Any = None) -> None:
        url, self._paste_field.value = self._paste_field.value, ""
        if url.strip():
            self.complete(url)

    def _on_paste_value(self, change: dict[str, Any]) -> None:
        # The address carries a one-time code: take it out of the synced field straight away.
        if change["new"].strip():
            self._paste_field.value = ""
            self.complete(change["new"])

    # -- the flows -----------------------------------------------------------------------------------

    def _credentials(self) -> tuple[str, str]:
        client_id = self._client_id_field.value.strip() or os.environ.get(settings.ENV_CLIENT_ID, "")
        secret = self._secret or os.environ.get(settings.ENV_CLIENT_SECRET, "")
        if not client_id or not secret:
            raise ConfigError(
                "Enter your add-on's client id and secret (or set KOUNTA_CLIENT_ID and "
                "KOUNTA_CLIENT_SECRET), or try the sandbox."
            )
        return client_id, secret

    def _start_oauth(self) -> None:
        from ..client import Kounta

        client_id, secret = self._credentials()
        # Nothing configured: a random-port loopback URI (RFC 8252 §7.3), as for the sandbox.
        configured = self._redirect_config or os.environ.get(settings.ENV_REDIRECT_URI, "")
        redirect = self._prepare_return(configured)
        self._client_options = self.session.client_options()
        flow = Kounta.oauth(client_id, secret, redirect, **self._flow_options())
        self._secret = None
        self._demo_login.value = ""
        self._begin(flow, "Kounta", "the Kounta login page")

    def _start_sandbox(self) -> None:
        from ..auth import OAuthFlow

        self._set_status("Starting the sandbox…")
        handle = self.session.start_sandbox()
        if _remote_kernel() and not self._redirect_config:
            self._sandbox_from_kernel(handle)
            return
        redirect = self._prepare_return(self._redirect_config or "", paste_page=handle.redirect_uri)
        flow = OAuthFlow(
            handle.client_id,
            handle.client_secret,
            redirect,
            authorize_url=handle.authorize_url,
            token_url=handle.token_url,
            api_base=handle.api_base,
        )
        self._client_options = self.session.sandbox_options()
        self._demo_login.value = (
            "<span class='kounta-nb-demo-login'>Sandbox demo login: e-mail "
            f"<code class='kounta-nb-demo-email'>{html.escape(handle.username)}</code>, password "
            f"<code class='kounta-nb-demo-password'>{html.escape(handle.password)}</code> "
            "(a made-up account that only the sandbox knows).</span>"
        )
        self._begin(flow, "the sandbox", "the sandbox login page")

    def _sandbox_from_kernel(self, handle: Any) -> None:
        """On JupyterHub/Binder the sandbox listens on the kernel's 127.0.0.1, which the
        browser cannot open: go through its consent page from the kernel instead."""
        from ..client import Kounta

        self._stop_listener()
        client = Kounta.sandbox(handle=handle, **self.session.sandbox_options())
        self._connected(client)
        self._set_status(
            f"Connected to {self.session.company_name} (the sandbox runs inside the kernel, out "
            "of your browser's reach, so its consent page was completed for you).",
            "ok",
        )

    def _basic_login(self) -> None:
        from ..client import Kounta

        client_id, secret = self._credentials()
        self._set_status("Connecting with Basic auth…")
        client = Kounta.basic(client_id, secret, **self.session.client_options())
        self._secret = None
        self._connected(client)

    def _flow_options(self) -> dict[str, Any]:
        options = self.session.client_options()
        return {key: options[key] for key in ("api_base", "authorize_url") if options.get(key)}

    def _prepare_return(self, configured: str, *, paste_page: str | None = None) -> str:
        """Start the kernel-side listener that fits the redirect URI and return the URI.

        No URI configured: a random loopback port. A URI ending in ``/kounta_nb/callback``: the
        Jupyter server route, forwarding to a random-port listener. Another loopback URI: listen
        on exactly its port and path (a registered add-on needs the exact URI); when that port is
        taken, or for ``paste_page`` (the sandbox's ``/oauth/done``) or any other URI, there is
        no listener and the paste field finishes the login.
        """
        self._stop_listener()
        port, path, mode = 0, CALLBACK_PATH, "paste"
        if not configured:
            mode = "loopback"
        elif configured == paste_page:
            mode = "paste"
        elif urlsplit(configured).path.rstrip("/").endswith(CALLBACK_PATH):
            mode = "server"
        elif is_loopback(configured):
            parts = urlsplit(configured)
            port, path, mode = parts.port or 80, parts.path or "/", "loopback"
        self._mode = mode
        if mode != "paste":
            try:
                self._listener = CallbackServer(self.complete, port=port, path=path)
            except OSError:
                if not configured:  # a random loopback port: there is no URI to paste on
                    raise
                self._mode = "paste"
        if configured or self._listener is None:
            return configured
        return self._listener.redirect_uri

    def _begin(self, flow: Any, where: str, page: str) -> None:
        """Show the link to ``page`` (the consent page of ``where``) and wait for the return."""
        url, state = flow.authorization_url()
        with self._lock:
            self._flow = flow
            self._pending_url = url
            self._state = state
        if self._mode == "server" and self._listener is not None:
            register_pending(state, self._listener.port)
        self._link.value = (
            f"<a class='kounta-nb-authorize' href='{html.escape(url, quote=True)}' target='_blank' "
            "rel='noopener' style='display:inline-block;padding:4px 12px;border-radius:3px;"
            "background:#1976d2;color:white;text-decoration:none'>"
            f"Open {html.escape(page)} ↗</a>"
        )
        self._paste_row.layout.display = "flex"
        self.stage = "waiting"
        after = (
            "log in, pick the company and click Grant Access; this notebook continues by itself."
            if self._mode != "paste"
            else "log in, pick the company, click Grant Access, then paste the address you end on below."
        )
        self._set_status(f"Opened a login to {where}: {after}")

    def complete(self, url: str) -> CallbackResult:
        """Finish the pending login with the address the browser was redirected to.

        Called by the loopback listener, the Jupyter server route (through the listener) and the
        paste field. Returns what to tell the browser tab; the widget shows the same line.
        """
        with self._lock:
            flow = self._flow
            if flow is None:
                result = CallbackResult(False, "No login is waiting: click a login button first.")
                self._fail(result.message)
                return result
            try:
                from ..callback import parse_redirect
                from ..client import Kounta

                parse_redirect(url)
                token = flow.fetch_token(authorization_response=url.strip())
                client = Kounta.from_flow(flow, token, **self._client_options)
            except KountaError as exc:
                self._fail(str(exc))
                return CallbackResult(False, str(exc))
            self._flow = None
            self._pending_url = None
            state, self._state = self._state, None
        if state:
            forget_pending(state)
        try:
            self._connected(client)
        except KountaError as exc:
            self._fail(str(exc))
            return CallbackResult(False, str(exc))
        threading.Thread(target=self._stop_listener, daemon=True).start()
        return CallbackResult(True, f"Connected to {self.session.company_name}.")

    def _connected(self, client: Any) -> None:
        if self._site is not None:
            self.session.preferred_site = str(self._site)
        self.session.connect(client)
        self._link.value = ""
        self._demo_login.value = ""
        self._paste_row.layout.display = "none"
        self._form.layout.display = "none"  # done with credentials; `%kounta login` starts over
        self.stage = "connected"
        self._set_status(f"Connected to {self.session.company_name}.", "ok")
        self.picker = VenuePicker(self.session)
        self._venue_box.children = [self.picker]

    # -- plumbing ------------------------------------------------------------------------------------

    def _guard(self, action: Any) -> None:
        try:
            action()
        except KountaError as exc:
            self._fail(str(exc))

    def _fail(self, text: str) -> None:
        self.stage = "failed"
        self._set_status(text.splitlines()[0] if text else "Login failed.", "error")

    def _set_status(self, text: str, kind: str = "info") -> None:
        self.message = text
        self._status.value = _line(text, kind)

    def _stop_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()

    def close(self) -> None:
        """Stop listening and close the widget and its parts."""
        self._stop_listener()
        super().close()
