"""The Jupyter-server route of the OAuth return leg (JupyterHub / Binder), through a real
``jupyter server`` with ``kounta_nb.server_ext`` enabled, and the login widget in this process."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import ipywidgets as widgets
import pytest
import requests
from support_magics import live_sandbox  # noqa: F401
from support_widgets import _part, consent

from kounta_nb.session import Session
from kounta_nb.widgets import LoginWidget


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """``(base URL, token, runtime dir)`` of a Jupyter server with the kounta_nb extension, base_url /user/ann/."""
    tmp_path = tmp_path_factory.mktemp("jupyter_server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = secrets.token_hex(16)
    env = dict(os.environ)
    env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         "--ServerApp.base_url=/user/ann/", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={tmp_path}",
         '--ServerApp.jpserver_extensions={"kounta_nb.server_ext": True}'],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/user/ann/"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}api/status?token={token}", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "jupyter server did not start"
                time.sleep(0.2)
        yield base, token, str(tmp_path / "runtime")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def session(live_sandbox, jupyter_server, monkeypatch) -> Iterator[Session]:  # noqa: F811
    # A kernel inherits the server's environment, so both see the same runtime directory.
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", jupyter_server[2])
    state = Session()
    state.sandbox_handle = live_sandbox
    yield state
    state.sandbox_handle = None
    state.close()


def test_server_route__forwards_the_redirect_to_the_kernel(jupyter_server, session):
    base, token, _runtime = jupyter_server
    route = f"{base}kounta_nb/callback"
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


def test_server_route__needs_the_jupyter_login(jupyter_server):
    base, _token, _runtime = jupyter_server
    answer = requests.get(f"{base}kounta_nb/callback?code=x&state=y", allow_redirects=False, timeout=30)
    assert answer.status_code in (302, 403)


def test_server_route__kernel_gone_is_explained(jupyter_server, session):
    base, token, _runtime = jupyter_server
    login = LoginWidget(session, redirect_uri=f"{base}kounta_nb/callback")
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    landing = consent(login.authorize_url)
    login.close()  # the listener stops, as when the kernel is shut down
    tab = requests.get(f"{landing}&token={token}", timeout=30)
    assert tab.status_code == 502 and "no longer running" in tab.text
