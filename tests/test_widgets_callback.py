"""The loopback listener of the OAuth return leg, on its own."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import requests

from kounta_nb.callback import CallbackResult, CallbackServer, lookup_pending, register_pending


def test_listener__hands_the_full_url_to_the_handler_and_shows_the_outcome():
    seen: list[str] = []

    def handler(url: str) -> CallbackResult:
        seen.append(url)
        return CallbackResult(True, "Connected to Test Co.")

    listener = CallbackServer(handler)
    try:
        answer = requests.get(f"{listener.redirect_uri}?code=c1&state=s1", timeout=10)
        assert answer.status_code == 200 and "Connected to Test Co." in answer.text
        assert 'data-ok=\'true\'' in answer.text
        assert seen == [f"http://127.0.0.1:{listener.port}/kounta_nb/callback?code=c1&state=s1"]
        assert requests.get(f"http://127.0.0.1:{listener.port}/favicon.ico", timeout=10).status_code == 404
    finally:
        listener.stop()
        listener.stop()


def test_listener__a_failing_handler_still_answers_the_tab():
    def handler(url: str) -> CallbackResult:
        raise RuntimeError("token endpoint exploded\nsecond line")

    listener = CallbackServer(handler, path="/cb")
    try:
        answer = requests.get(f"http://127.0.0.1:{listener.port}/cb?code=x", timeout=10)
        assert answer.status_code == 400 and "token endpoint exploded" in answer.text
        assert "second line" not in answer.text
    finally:
        listener.stop()


def test_pending_registry__state_to_port(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    register_pending("state-1", 4321)
    assert lookup_pending("state-1") == 4321
    assert lookup_pending("state-2") is None
    # Jupyter's runtime dir when jupyter_core is installed (it is, with any Jupyter server)
    folder = tmp_path if importlib.util.find_spec("jupyter_core") else Path(os.environ["KOUNTA_CONFIG_DIR"])
    stored = next(folder.rglob("*.json"))
    assert "state-1" not in stored.read_text() and oct(stored.stat().st_mode)[-3:] == "600"
