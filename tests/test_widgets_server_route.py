"""The Jupyter-server route of the OAuth return leg (JupyterHub / Binder), through a real Jupyter
server with ``kounta_nb.server_ext`` enabled (the session's shared one, under ``/user/ann/``:
``support_jupyter``), and the login widget in this process."""

from __future__ import annotations

from collections.abc import Iterator

import ipywidgets as widgets
import pytest
import requests
from support_jupyter import JupyterServer
from support_widgets import _part, consent

from kounta_nb.session import Session
from kounta_nb.widgets import LoginWidget


@pytest.fixture
def session(live_sandbox, jupyter_server: JupyterServer, monkeypatch) -> Iterator[Session]:
    # A kernel inherits the server's environment, so both see the same runtime directory.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(jupyter_server.runtime_dir))
    state = Session()
    state.sandbox_handle = live_sandbox
    yield state
    state.sandbox_handle = None
    state.close()


def test_server_route__forwards_the_redirect_to_the_kernel(jupyter_server: JupyterServer, session):
    token = jupyter_server.token
    route = f"{jupyter_server.url}/kounta_nb/callback"
    login = LoginWidget(session, redirect_uri=route)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    assert login.redirect_uri == route and "continues by itself" in login.message
    landing = consent(login.authorize_url)
    assert landing.startswith(route + "?")
    # The user's browser carries the Jupyter login; here the token stands in for the cookie.
    tab = requests.get(f"{landing}&token={token}", timeout=30)
    assert tab.status_code == 200 and "Connected to Kounta" in tab.text
    assert login.stage == "connected" and session.company_name == "Harbour Lane Hospitality"
    # The login is finished: the same redirect again is refused by the route.
    again = requests.get(f"{landing}&token={token}", timeout=30)
    assert again.status_code == 400 and "unknown or already finished" in again.text
    login.close()


def test_server_route__needs_the_jupyter_login(jupyter_server: JupyterServer):
    url = f"{jupyter_server.url}/kounta_nb/callback?code=x&state=y"
    answer = requests.get(url, allow_redirects=False, timeout=30)
    assert answer.status_code in (302, 403)


def test_server_route__kernel_gone_is_explained(jupyter_server: JupyterServer, session):
    token = jupyter_server.token
    login = LoginWidget(session, redirect_uri=f"{jupyter_server.url}/kounta_nb/callback")
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    landing = consent(login.authorize_url)
    login.close()  # the listener stops, as when the kernel is shut down
    tab = requests.get(f"{landing}&token={token}", timeout=30)
    assert tab.status_code == 502 and "no longer running" in tab.text
