"""A new user's first session in a real JupyterLab and a real Chromium (Debian's, never downloaded).

Open a notebook, ``%load_ext kounta_nb``, ``%kounta login``, choose the sandbox, complete the
sandbox's consent page in the new tab (log in, pick the company, Grant Access), come back
automatically, pick a venue, ``%kounta orders --since 7d`` and see the table. The screenshot goes to
``artifacts/browser-first-session.png``; with ``KOUNTA_NB_UPDATE_SCREENSHOT=1`` it also replaces the
README's ``docs/screenshot.png``. JupyterLab is the session's shared server
(``support_jupyter.jupyter_server``, under a JupyterHub-like base URL).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from support_jupyter import JupyterServer

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "id": "first", "metadata": {},
               "outputs": [], "source": ""}],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _open_notebook(context, server: JupyterServer, name: str):  # type: ignore[no-untyped-def]
    """Create an empty notebook, open it in a new page and wait for its kernel."""
    (server.root / name).write_text(json.dumps(NOTEBOOK), encoding="utf-8")
    page = context.new_page()
    # A workspace of its own, so Lab does not reopen the other tests' notebooks beside it.
    workspace = Path(name).stem
    page.goto(f"{server.url}/lab/workspaces/{workspace}/tree/{name}?token={server.token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content")
    _wait_for_kernel(page)
    return page


def _consent(context, login) -> None:  # type: ignore[no-untyped-def]
    """Open the authorise link (a new tab), log in with the demo login the widget shows, pick the
    company, Grant Access."""
    from playwright.sync_api import expect

    email = login.locator(".kounta-nb-demo-email").inner_text()
    password = login.locator(".kounta-nb-demo-password").inner_text()
    assert (email, password) == ("demo@kounta.test", "kounta")
    with context.expect_page() as opened:
        login.locator("a.kounta-nb-authorize").click()
    tab = opened.value
    tab.locator("input[name=email]").fill(email)
    tab.locator("input[name=password]").fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.locator("select[name=company_id]").select_option(label="Harbour Lane Hospitality")
    tab.get_by_role("button", name="Grant Access").click()
    expect(tab.locator("#kounta-nb-result")).to_have_attribute("data-ok", "true")
    expect(tab.locator("body")).to_contain_text("You can close this tab")
    tab.close()


# For every visible text field of the widget: its placeholder's rendered width and the room the
# input gives it (content box), measured with the input's own font.
_PLACEHOLDER_ROOM = """
els => els.filter(el => el.offsetParent !== null && el.placeholder).map(el => {
  const cs = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  const room = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return [el.placeholder, ctx.measureText(el.placeholder).width, room];
})
"""


def _assert_placeholders_fit(login, expected: int) -> None:  # type: ignore[no-untyped-def]
    """No text field of the login widget cuts its placeholder (as rendered by Chromium)."""
    fields = login.locator("input[type=text], input[type=password]")
    measured = fields.evaluate_all(_PLACEHOLDER_ROOM)
    assert len(measured) == expected, measured
    for placeholder, needed, room in measured:
        assert needed <= room, f"placeholder {placeholder!r} needs {needed:.0f}px, the field gives {room:.0f}px"


def _artifacts() -> Path:
    folder = REPO / "artifacts"
    folder.mkdir(exist_ok=True)
    return folder


def _wait_for_kernel(page) -> None:  # type: ignore[no-untyped-def]
    """Wait until the notebook's kernel is idle, accepting the kernel dialog if Lab shows it."""
    from playwright.sync_api import expect

    dialog = page.locator(".jp-Dialog")
    idle = page.locator(".jp-StatusBar-Item", has_text="Python 3 (ipykernel) | Idle")
    expect(idle.or_(dialog).first).to_be_visible()
    if dialog.count():
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(idle).to_be_visible()


def _run_cell(page, code: str) -> None:  # type: ignore[no-untyped-def]
    """Type ``code`` into the last cell and run it (Shift+Enter adds the next cell)."""
    editor = page.locator(".jp-Notebook .jp-Cell").last.locator(".cm-content")
    editor.click()
    page.keyboard.insert_text(code)
    page.keyboard.press("Shift+Enter")


def test_browser__first_session_with_the_sandbox(jupyter_server: JupyterServer) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=45_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1100})
            context.set_default_timeout(45_000)
            page = _open_notebook(context, jupyter_server, "first.ipynb")

            # 1. Load the extension and ask for the login widget.
            _run_cell(page, "%load_ext kounta_nb\n%kounta login")
            login = page.locator(".kounta-nb-login")
            expect(login).to_be_visible()
            expect(login.locator("input[type=password]")).to_be_visible()
            _assert_placeholders_fit(login, expected=2)  # client id and secret
            login.screenshot(path=str(_artifacts() / "browser-login-widget.png"))

            # 2. "Try the sandbox (no account)" → a link that opens the consent page in a new tab,
            #    and the sandbox's demo login beside it.
            login.get_by_role("button", name="Try the sandbox (no account)").click()
            link = login.locator("a.kounta-nb-authorize")
            expect(link).to_be_visible()
            expect(link).to_have_text("Open the sandbox login page ↗")
            assert link.get_attribute("target") == "_blank"
            expect(login.locator(".kounta-nb-demo-login")).to_contain_text("demo@kounta.test")
            _assert_placeholders_fit(login, expected=3)  # and the paste-back address
            login.screenshot(path=str(_artifacts() / "browser-login-waiting.png"))

            # 3. The sandbox's consent page: log in, pick the company, Grant Access.
            _consent(context, login)

            # 4. Back in the notebook, automatically: connected, then the venue picker.
            expect(login.locator(".kounta-nb-ok")).to_contain_text("Connected to Harbour Lane Hospitality")
            venue = login.locator(".kounta-nb-venue select")
            expect(venue).to_be_visible()
            venue.select_option(label="The Lane Bar (TLB)")
            expect(login.locator(".kounta-nb-venue-note")).to_contain_text("The Lane Bar")

            # 5. The first query: a table of last week's orders at that venue.
            _run_cell(page, "%kounta orders --since 7d")
            table = page.locator(".jp-OutputArea-output table.dataframe").last
            expect(table).to_be_visible(timeout=60_000)
            expect(table).to_contain_text("TLB")
            assert "Traceback" not in page.locator(".jp-Notebook").inner_text()

            # 6. Saved to disk, the notebook holds no secret and no token.
            page.keyboard.press("Escape")
            page.keyboard.press("Control+s")
            saved = jupyter_server.root / "first.ipynb"
            deadline = time.monotonic() + 20
            while "--since 7d" not in saved.read_text(encoding="utf-8"):
                assert time.monotonic() < deadline, "the notebook was not saved"
                time.sleep(0.2)
            text = saved.read_text(encoding="utf-8")
            for secret in ("sandbox-secret", "access_token", "refresh_token", "Bearer"):
                assert secret not in text, secret

            shot = _artifacts() / "browser-first-session.png"
            page.locator(".jp-NotebookPanel").screenshot(path=str(shot))
            if os.environ.get("KOUNTA_NB_UPDATE_SCREENSHOT"):  # the README's picture, on request only
                shutil.copyfile(shot, REPO / "docs" / "screenshot.png")
        finally:
            browser.close()


def test_browser__return_through_the_jupyter_server_route(jupyter_server: JupyterServer) -> None:
    """The JupyterHub/Binder return leg: the redirect URI is the Jupyter server's own
    ``/kounta_nb/callback``; the server extension hands the login to the waiting kernel."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=45_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(45_000)
            page = _open_notebook(context, jupyter_server, "hub.ipynb")
            _run_cell(
                page,
                # The secret field's longest placeholder says where the secret comes from.
                "import os; os.environ['KOUNTA_CLIENT_SECRET'] = 'placeholder-check'\n"
                "%load_ext kounta_nb\n"
                f"%config Kounta.redirect_uri = '{jupyter_server.url}/kounta_nb/callback'\n"
                "%kounta login",
            )
            login = page.locator(".kounta-nb-login")
            try:
                expect(login).to_be_visible()
            except AssertionError:
                page.screenshot(path=str(_artifacts() / "browser-failure-hub.png"))
                raise
            expect(login.locator("input[type=password]")).to_have_attribute(
                "placeholder", "taken from $KOUNTA_CLIENT_SECRET"
            )
            _assert_placeholders_fit(login, expected=2)
            # A secret typed in leaves the field at once; the placeholder says where it went.
            secret = login.locator("input[type=password]")
            secret.fill("typed-in-secret")
            secret.press("Enter")
            expect(secret).to_have_attribute("placeholder", "secret received (kept in memory only)")
            expect(secret).to_have_value("")
            _assert_placeholders_fit(login, expected=2)
            login.get_by_role("button", name="Try the sandbox (no account)").click()
            expect(login.locator(".kounta-nb-status")).to_contain_text("continues by itself")
            link = login.locator("a.kounta-nb-authorize")
            assert quote(f"{jupyter_server.url}/kounta_nb/callback", safe="") in (link.get_attribute("href") or "")
            _assert_placeholders_fit(login, expected=3)
            _consent(context, login)
            expect(login.locator(".kounta-nb-ok")).to_contain_text("Connected to Harbour Lane Hospitality")
            expect(login.locator(".kounta-nb-venue select")).to_be_visible()
        finally:
            browser.close()
