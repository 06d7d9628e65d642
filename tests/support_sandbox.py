"""Fixtures and helpers for tests that need a running sandbox over real sockets.

The fixtures reach every test module through ``pytest_plugins`` in conftest.py: name them as
arguments. Import the helpers (``basic_session``, ``oauth_token``, ``api``, …) as usual.

- ``sandbox``: one session-wide server (one month of history, frozen clock at ``SANDBOX_NOW``).
  Do not change its options or revoke its tokens; use ``fresh_sandbox`` for that.
- ``fresh_sandbox``: a new server per test (same data), free to be reconfigured.
- ``sandbox_factory``: ``sandbox_factory(**options)`` starts more servers, all stopped at teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from kounta_nb.sandbox.server import SandboxHandle, start_sandbox

#: The frozen "now" of test sandboxes: Friday 29 May 2026, 14:00 in Sydney.
SANDBOX_NOW = datetime(2026, 5, 29, 4, 0, tzinfo=UTC)
#: Options of the shared test sandbox (small history: starts and answers fast).
SANDBOX_OPTIONS: dict[str, Any] = {"seed": 7, "months": 1, "now": SANDBOX_NOW}


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxHandle]:
    """A session-wide sandbox on a real socket; treat it as read-mostly."""
    with start_sandbox(**SANDBOX_OPTIONS) as handle:
        yield handle


@pytest.fixture
def fresh_sandbox() -> Iterator[SandboxHandle]:
    """A sandbox of its own for one test (change options, expire or revoke tokens freely)."""
    with start_sandbox(**SANDBOX_OPTIONS) as handle:
        yield handle


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxHandle]]:
    """``make(**options)`` → a started sandbox; every one is stopped after the test."""
    started: list[SandboxHandle] = []

    def make(**options: Any) -> SandboxHandle:
        handle = start_sandbox(**{**SANDBOX_OPTIONS, **options})
        started.append(handle)
        return handle

    yield make
    for handle in started:
        handle.stop()


def basic_session(handle: SandboxHandle) -> requests.Session:
    """A session with the demo add-on's Basic credentials and ``Accept: application/json``."""
    session = requests.Session()
    session.auth = (handle.client_id, handle.client_secret)
    session.headers["Accept"] = "application/json"
    return session


def bearer_session(token: str) -> requests.Session:
    """A session that sends ``Authorization: Bearer <token>`` and ``Accept: application/json``."""
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
    return session


def company_ids(handle: SandboxHandle) -> dict[str, int]:
    """``{"developer": id, "other": id}``: Basic reaches the first, only OAuth the second."""
    info = handle.info()
    dev = next(c["id"] for c in info["companies"] if c["developer"])
    other = next(c["id"] for c in info["companies"] if not c["developer"])
    return {"developer": dev, "other": other}


def authorize_code(handle: SandboxHandle, company_id: int | None = None, *, state: str = "st-123",
                   redirect_uri: str | None = None) -> str:
    """Go through the real authorise page (login, pick company, Grant Access); return the code."""
    redirect_uri = redirect_uri or handle.redirect_uri
    params = {"response_type": "code", "client_id": handle.client_id,
              "redirect_uri": redirect_uri, "state": state}
    browser = requests.Session()
    page = browser.get(handle.authorize_url, params=params)
    assert page.status_code == 200 and 'name="email"' in page.text
    consent = browser.post(handle.authorize_url, data={**params, "email": handle.username,
                                                       "password": handle.password})
    assert consent.status_code == 200 and 'name="company_id"' in consent.text
    session = consent.text.split('name="session" value="', 1)[1].split('"', 1)[0]
    if company_id is None:
        company_id = int(consent.text.split('<option value="', 1)[1].split('"', 1)[0])
    done = browser.post(handle.authorize_url, allow_redirects=False,
                        data={**params, "session": session, "company_id": str(company_id),
                              "decision": "grant"})
    assert done.status_code == 302, done.text
    query = parse_qs(urlsplit(done.headers["Location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


def oauth_token(handle: SandboxHandle, company_id: int | None = None) -> dict[str, Any]:
    """A token response for ``company_id`` obtained through the full code flow over HTTP."""
    code = authorize_code(handle, company_id)
    response = requests.post(handle.token_url, data={
        "grant_type": "authorization_code", "code": code, "client_id": handle.client_id,
        "client_secret": handle.client_secret, "redirect_uri": handle.redirect_uri})
    assert response.status_code == 200, response.text
    return response.json()


def api(handle: SandboxHandle, path: str) -> str:
    """Absolute URL of an API path under ``/v1/`` (e.g. ``"companies/me/orders"``)."""
    return handle.api_base + path.lstrip("/")
