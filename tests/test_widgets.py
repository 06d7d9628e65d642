"""The login, venue-picker and expired-notice widgets, driven in Python (set values, observe,
``.click()``), with the OAuth consent page followed over HTTP like a browser would."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import ipywidgets as widgets
import pytest
import requests
from support_widgets import _part, consent, synced_state, tree

from kounta_nb.callback import lookup_pending
from kounta_nb.session import Session, load_choices
from kounta_nb.widgets import ExpiredNotice, LoginWidget, VenuePicker

TLB = 1202


@pytest.fixture
def session(live_sandbox, monkeypatch, tmp_path) -> Iterator[Session]:
    """A session whose embedded sandbox is the module's live sandbox (and a private Jupyter
    runtime directory for the server-route registry)."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    state = Session()
    state.sandbox_handle = live_sandbox
    yield state
    state.sandbox_handle = None
    state.close()


# -- the sandbox login through the real consent page ----------------------------------------------


def test_login__sandbox_button_opens_authorize_link_in_new_tab(session):
    login = LoginWidget(session)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    assert login.stage == "waiting"
    assert login.authorize_url.startswith(session.sandbox_handle.authorize_url + "?")
    link = login._link.value
    assert 'target=\'_blank\'' in link and "kounta-nb-authorize" in link
    assert login.redirect_uri.startswith("http://127.0.0.1:") and login.redirect_uri.endswith("/kounta_nb/callback")
    login.close()


def test_login__sandbox_full_flow_returns_automatically(session):
    login = LoginWidget(session)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    landing = consent(login.authorize_url, company="Harbour Lane Hospitality")
    assert landing.startswith(login.redirect_uri + "?")
    tab = requests.get(landing, timeout=30)  # the browser following the redirect
    assert tab.status_code == 200 and "Connected to Kounta" in tab.text
    assert login.stage == "connected" and "Harbour Lane Hospitality" in login.message
    assert session.client is not None and session.client.company_id
    assert isinstance(login.picker, VenuePicker) and login.picker in tree(login)
    token = session.client.credentials.token
    state = synced_state(login)
    assert token.access_token not in state and token.refresh_token not in state
    assert session.sandbox_handle.client_secret not in state
    login.close()


def test_login__sandbox_on_jupyterhub_logs_in_from_the_kernel(session, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/ann/")
    login = LoginWidget(session)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    assert login.stage == "connected" and "inside the kernel" in login.message
    assert login.authorize_url is None and isinstance(login.picker, VenuePicker)
    login.close()


def test_login__second_company_from_the_consent_dropdown(session):
    login = LoginWidget(session)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    requests.get(consent(login.authorize_url, company="Brunswick Street Bakehouse"), timeout=30)
    assert session.company_name == "Brunswick Street Bakehouse"
    login.close()


def test_login__state_mismatch_is_one_clear_line(session):
    login = LoginWidget(session)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    landing = consent(login.authorize_url)
    parts = urlsplit(landing)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged"
    forged = urlunsplit(parts._replace(query=urlencode(query)))
    tab = requests.get(forged, timeout=30)
    assert tab.status_code == 400 and "did not complete" in tab.text
    assert login.stage == "failed" and "state" in login.message.lower()
    assert "\n" not in login.message and session.client is None
    login.close()


def test_login__access_denied_is_reported(session):
    login = LoginWidget(session)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    requests.get(consent(login.authorize_url, decision="deny"), timeout=30)
    assert login.stage == "failed" and "denied" in login.message.lower()
    login.close()


def test_login__paste_the_address_when_the_kernel_cannot_be_reached(session):
    done_page = session.sandbox_handle.url + "/oauth/done"
    login = LoginWidget(session, redirect_uri=done_page)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    assert "paste" in login.message
    landing = consent(login.authorize_url)
    assert landing.startswith(done_page + "?")
    shown = requests.get(landing, timeout=30)
    assert shown.status_code == 200
    _part(login, widgets.Text, "Address").value = landing
    assert login.stage == "connected", login.message
    assert _part(login, widgets.Text, "Address").value == ""  # the one-time code left the field
    login.close()


def test_login__paste_garbage_says_what_to_paste(session):
    login = LoginWidget(session, redirect_uri=session.sandbox_handle.url + "/oauth/done")
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    _part(login, widgets.Text, "Address").value = "hello"
    assert login.stage == "failed" and "?code=" in login.message
    login.close()


def test_login__server_route_registers_the_pending_login(session):
    # A Jupyter server's route (here on a loopback host, so the sandbox accepts it).
    route = "http://localhost:8888/user/ann/kounta_nb/callback"
    login = LoginWidget(session, redirect_uri=route)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    assert login.redirect_uri == route
    state = parse_qs(urlsplit(login.authorize_url).query)["state"][0]
    port = lookup_pending(state)
    assert port == login._listener.port
    landing = consent(login.authorize_url)
    assert landing.startswith(route + "?")
    # What the server extension does with the browser's request: forward it to that port.
    tab = requests.get(f"http://127.0.0.1:{port}/kounta_nb/callback?{urlsplit(landing).query}", timeout=30)
    assert tab.status_code == 200 and login.stage == "connected"
    assert lookup_pending(state) is None
    login.close()


def test_login__nothing_pending_tells_the_tab(session):
    login = LoginWidget(session)
    result = login.complete("http://127.0.0.1:1/kounta_nb/callback?code=x&state=y")
    assert not result.ok and login.stage == "failed"


def _all_text(widget: widgets.Widget) -> str:
    """Every word the widget shows: HTML values, descriptions, placeholders, the status line."""
    parts = [getattr(widget, "message", "")]
    for w in tree(widget):
        parts += [str(getattr(w, name, "") or "") for name in ("value", "description", "placeholder")]
    return "\n".join(parts)


def test_login__sandbox_shows_its_demo_login_and_the_link_reads_well(session):
    login = LoginWidget(session)
    assert "demo@kounta.test" not in _all_text(login)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    handle = session.sandbox_handle
    shown = login._demo_login.value
    assert f">{handle.username}</code>" in shown and f">{handle.password}</code>" in shown
    assert "Open the sandbox login page ↗" in login._link.value
    assert "the the" not in _all_text(login).lower()
    # What the widget shows is what the consent page takes.
    email = shown.split("kounta-nb-demo-email'>", 1)[1].split("<", 1)[0]
    password = shown.split("kounta-nb-demo-password'>", 1)[1].split("<", 1)[0]
    assert (email, password) == (handle.username, handle.password) == ("demo@kounta.test", "kounta")
    requests.get(consent(login.authorize_url), timeout=30)
    assert login.stage == "connected" and login._demo_login.value == ""
    assert "the the" not in _all_text(login).lower()
    login.close()


def test_login__real_kounta_shows_no_demo_login(session):
    login = LoginWidget(session, client_id="my-addon", client_secret="my-addon-secret")
    _part(login, widgets.Button, "Log in with Kounta").click()
    assert login.stage == "waiting"
    assert "Open the Kounta login page ↗" in login._link.value
    assert login._demo_login.value == "" and "the the" not in _all_text(login).lower()
    login.close()


def _ch(css: str) -> float:
    assert css.endswith("ch"), css
    return float(css[:-2])


def test_fields__wide_enough_for_label_and_every_placeholder(session, monkeypatch):
    from kounta_nb.widgets.login import PLACEHOLDERS

    fields_seen = 0
    for env_secret in (False, True):
        if env_secret:
            monkeypatch.setenv("KOUNTA_CLIENT_SECRET", "from-the-environment")
        login = LoginWidget(session)
        fields = [w for w in tree(login) if isinstance(w, widgets.Text | widgets.Password)]
        assert {f.description for f in fields} == {"Client id", "Secret", "Address"}
        secret = _part(login, widgets.Password, "Secret")
        secret.value = "typed-in"  # the placeholder changes to say where the secret went
        for field in fields:
            width, label = _ch(field.layout.width), _ch(field.style.description_width)
            assert len(field.description) + 1 <= label
            # Independent of the widget's own estimate: every character counted as a capital
            # letter would be too much, 1.3ch for capitals and symbols plus the input's padding.
            shown = [field.placeholder] + (
                [PLACEHOLDERS["secret"], PLACEHOLDERS["secret_env"]] if field is secret else []
            )
            for text in shown:
                room = width - label - 3
                need = sum(1.3 if c.isupper() or not c.isalnum() and c != " " else 1.0 for c in text)
                assert need <= room, (field.description, text, need, room)
            assert field.layout.max_width == "100%"
            fields_seen += 1
        assert len({f.layout.width for f in fields}) == 1  # they line up
        login.close()
    assert fields_seen == 6


# -- the client secret never stays in a widget ----------------------------------------------------


def test_secret__field_is_emptied_at_once_and_never_synced(session):
    login = LoginWidget(session)
    field = _part(login, widgets.Password, "Secret")
    field.value = "s3cr3t-value"
    assert field.value == ""
    assert "s3cr3t-value" not in synced_state(login)
    assert "kept in memory" in field.placeholder
    login.close()


def test_secret__missing_credentials_is_one_line(session):
    login = LoginWidget(session)
    _part(login, widgets.Button, "Log in with Kounta").click()
    assert login.stage == "failed" and "client id and secret" in login.message
    login.close()


def test_oauth_login__real_kounta_link_uses_the_fields(session):
    login = LoginWidget(session)
    _part(login, widgets.Text, "Client id").value = "my-addon"
    _part(login, widgets.Password, "Secret").value = "my-addon-secret"
    _part(login, widgets.Button, "Log in with Kounta").click()
    assert login.stage == "waiting"
    assert login.authorize_url.startswith("https://my.kounta.com/authorize?")
    assert "client_id=my-addon" in login.authorize_url
    assert login.redirect_uri == f"http://127.0.0.1:{login._listener.port}/kounta_nb/callback"
    assert login._secret is None and "my-addon-secret" not in synced_state(login)
    login.close()


def test_oauth_login__configured_loopback_uri_is_listened_on_exactly(session, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("KOUNTA_REDIRECT_URI", f"http://127.0.0.1:{port}/callback")
    monkeypatch.setenv("KOUNTA_CLIENT_ID", "my-addon")
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", "my-addon-secret")
    login = LoginWidget(session)
    _part(login, widgets.Button, "Log in with Kounta").click()
    assert login.redirect_uri == f"http://127.0.0.1:{port}/callback"
    assert login._listener.port == port and login._listener.path == "/callback"
    assert "my-addon-secret" not in synced_state(login)
    login.close()


def test_basic_login__own_company(session, live_sandbox, monkeypatch):
    monkeypatch.setenv("KOUNTA_API_BASE", live_sandbox.api_base)
    login = LoginWidget(session)
    _part(login, widgets.Text, "Client id").value = live_sandbox.client_id
    _part(login, widgets.Password, "Secret").value = live_sandbox.client_secret
    _part(login, widgets.Button, "Basic (my own company)").click()
    assert login.stage == "connected" and session.company_name == "Harbour Lane Hospitality"
    assert live_sandbox.client_secret not in synced_state(login)
    login.close()


# -- the venue picker -------------------------------------------------------------------------------


def _connected(session: Session, **kwargs: Any) -> LoginWidget:
    login = LoginWidget(session, **kwargs)
    _part(login, widgets.Button, "Try the sandbox (no account)").click()
    requests.get(consent(login.authorize_url, company="Harbour Lane Hospitality"), timeout=30)
    assert login.stage == "connected", login.message
    return login


def test_venue__dropdown_lists_sites_and_sets_the_default(session):
    login = _connected(session)
    dropdown = login.picker.dropdown
    labels = [label for label, _ in dropdown.options]
    assert labels[0] == "All sites" and "The Lane Bar (TLB)" in labels and len(labels) == 4
    seen: list[Any] = []
    session.observe(lambda change: seen.append(change["new"]), "site_id")
    dropdown.value = TLB
    assert session.site_id == TLB and seen == [TLB]
    assert load_choices(session.client.company_id)["site"] == TLB
    assert "The Lane Bar" in login.picker._note.value
    login.close()


def test_venue__remembered_on_the_next_login(session):
    _connected(session).picker.dropdown.value = TLB
    again = _connected(session)
    assert session.site_id == TLB and again.picker.dropdown.value == TLB
    again.close()


def test_venue__parameter_and_environment_override_memory(session, monkeypatch):
    _connected(session).picker.dropdown.value = TLB
    monkeypatch.setenv("KOUNTA_SITE", "Marlow Dining Room")
    assert _connected(session).picker.dropdown.value == 1203
    assert _connected(session, site="HLC").picker.dropdown.value == 1201


def test_venue__follows_the_session(session):
    login = _connected(session)
    session.choose_site("TLB")
    assert login.picker.dropdown.value == TLB
    session.choose_site(None)
    assert login.picker.dropdown.value == 0
    login.close()


def test_venue__needs_a_connection(session):
    from kounta_nb.errors import ConfigError

    with pytest.raises(ConfigError, match="%kounta login"):
        VenuePicker(Session())


# -- token expired ------------------------------------------------------------------------------------


def test_expired__reconnect_restarts_the_login(session):
    notice = ExpiredNotice(session)
    assert "Token expired — reconnect" in notice.children[0].value
    _part(notice, widgets.Button, "Reconnect").click()
    assert isinstance(notice.login, LoginWidget) and notice.login in notice.children
    _part(notice, widgets.Button, "Try the sandbox (no account)").click()
    requests.get(consent(notice.login.authorize_url), timeout=30)
    assert notice.login.stage == "connected" and session.client is not None
    notice.login.close()
