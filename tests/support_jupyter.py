"""One JupyterLab server for the tests that need a real one (the browser tests, the server route of
the OAuth return leg), started once per test session (per xdist worker) on first use.

- ``jupyter_server``: a :class:`JupyterServer` — JupyterLab on 127.0.0.1 with a random token and
  port, kounta_nb's server extension enabled, and a hub-like base URL (``/user/ann/``, as under
  JupyterHub or Binder). Its configuration, runtime, settings and IPython directories are
  temporary, and so are the ``KOUNTA_CONFIG_DIR`` / ``KOUNTA_CACHE_DIR`` its kernels inherit; the
  developer's own ``KOUNTA_*`` variables are not passed on.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The server's base URL path, as JupyterHub gives a user's server.
BASE_PATH = "/user/ann"


@dataclass(frozen=True)
class JupyterServer:
    """A running server: ``url`` (with the base path, no trailing slash), its ``token``, the
    ``root`` its notebooks live in and the ``runtime_dir`` it shares with its kernels."""

    url: str
    token: str
    root: Path
    runtime_dir: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """JupyterLab with kounta_nb's server extension (see the module docstring)."""
    tmp_path = tmp_path_factory.mktemp("jupyter_server")
    root, home = tmp_path / "work", tmp_path / "home"
    root.mkdir()
    # No news or update checks: the browser tests must not wait on (or see) those notifications.
    settings_dir = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings_dir.mkdir(parents=True)
    (settings_dir / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
    )
    # A session fixture starts before the autouse clean_environ of its first test: leave the
    # developer's KOUNTA_* variables out here.
    env = {key: value for key, value in os.environ.items() if not key.startswith("KOUNTA_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(
        JUPYTER_CONFIG_DIR=str(home / "config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"),
        IPYTHONDIR=str(home / "ipython"),
        KOUNTA_CONFIG_DIR=str(home / "kounta-config"),
        KOUNTA_CACHE_DIR=str(home / "kounta-cache"),
    )
    port, token = _free_port(), secrets.token_hex(16)
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--ServerApp.base_url={BASE_PATH}/", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            '--ServerApp.jpserver_extensions={"kounta_nb.server_ext": True}',
        ],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}{BASE_PATH}"
    try:
        deadline = time.monotonic() + 45
        while True:
            assert process.poll() is None, log_path.read_text()
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "JupyterLab did not start in 45 s"
                time.sleep(0.2)
        yield JupyterServer(url, token, root, home / "runtime")
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
