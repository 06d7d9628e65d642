"""auth: tokens, expiry detection, the OAuth code flow, the consent form, the 0600 token file."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from support_client import BASIC, FakeKounta
from support_sandbox import company_ids

from kounta_nb.auth import (
    BasicCredentials,
    OAuthCredentials,
    OAuthFlow,
    Token,
    TokenStore,
    is_loopback,
    says_token_expired,
)
from kounta_nb.consent import consent_login
from kounta_nb.errors import AuthError, ConfigError, StateMismatchError, TokenExpiredError


@pytest.fixture
def fake() -> Iterator[FakeKounta]:
    server = FakeKounta().start()
    yield server
    server.stop()


def flow_for(fake: FakeKounta) -> OAuthFlow:
    return OAuthFlow(BASIC[0], BASIC[1], "http://127.0.0.1:9/callback",
                     authorize_url=fake.url + "/authorize", token_url=fake.api_base + "token")


# ------------------------------------------------------------------ tokens


def test_token__repr_shows_no_secret():
    token = Token("ACCESS-xyz", "REFRESH-xyz", 1_800_000_000.0, company_id=7)
    for text in (repr(token), str(token), f"{token}"):
        assert "xyz" not in text
        assert "company=7" in text and "refreshable=True" in text


def test_token__from_response_keeps_the_previous_refresh_token():
    old = Token("a1", "r1", None, company_id=5)
    new = Token.from_response({"access_token": "a2", "expires_in": 3600}, previous=old, now=lambda: 100.0)
    assert (new.access_token, new.refresh_token, new.expires_at, new.company_id) == ("a2", "r1", 3700.0, 5)
    newer = Token.from_response({"access_token": "a3", "refresh_token": "r3"}, previous=new)
    assert newer.refresh_token == "r3" and newer.expires_at is None


def test_token__from_response_without_access_token_is_auth_error():
    with pytest.raises(AuthError, match="without an access token"):
        Token.from_response({"error": "x"})


def test_token__expired_with_margin():
    token = Token("a", None, 1000.0)
    assert not token.expired(now=lambda: 900.0)
    assert token.expired(margin=200, now=lambda: 900.0)
    assert not Token("a").expired()


@pytest.mark.parametrize(("status", "body", "expected"), [
    (401, {"error": "expired_token", "error_description": "The access token provided has expired"}, True),
    (401, {"error": "invalid_token"}, True),
    (400, {"message": "The access token provided has expired"}, True),
    (401, {"error": "invalid_client", "error_description": "bad secret"}, False),
    (400, {"error": "invalid_grant"}, False),
    (400, {"error": "invalid_request", "error_description": "first_name is required"}, False),
    (403, {"error": "expired_token"}, False),
    (401, b"The access token provided has expired", True),
])
def test_says_token_expired(status, body, expected):
    assert says_token_expired(status, body) is expected


def test_credentials__reprs_and_namespace():
    basic = BasicCredentials("id", "topsecret")
    assert "topsecret" not in repr(basic) and basic.cache_namespace is None
    basic.company_id = 9
    assert basic.cache_namespace == "company-9"
    oauth = OAuthCredentials(Token("acc-SECRET", "ref-SECRET", company_id=3), client_id="c", client_secret="s")
    assert "SECRET" not in repr(oauth) and oauth.cache_namespace == "company-3"
    with pytest.raises(ConfigError):
        BasicCredentials("id", "")


def test_credentials__refresh_without_refresh_token_is_token_expired(fake):
    import requests

    creds = OAuthCredentials(Token("a", None), client_id="c", client_secret="s", token_url=fake.api_base + "token")
    with pytest.raises(TokenExpiredError):
        creds.refresh(requests.Session())


def test_credentials__refresh_calls_on_refresh(fake):
    import requests

    access, refresh = fake.issue(101)
    seen = []
    creds = OAuthCredentials(Token(access, refresh, company_id=101), client_id=BASIC[0], client_secret=BASIC[1],
                             token_url=fake.api_base + "token", on_refresh=seen.append)
    creds.refresh(requests.Session())
    assert len(seen) == 1 and seen[0].access_token != access and seen[0].company_id == 101
    # A stale header from before the refresh: another thread already refreshed, nothing to do.
    creds.refresh(requests.Session(), stale=f"Bearer {access}")
    assert len(seen) == 1


# ------------------------------------------------------------------ OAuth flow


def test_flow__authorization_url_carries_state_and_redirect(fake):
    flow = flow_for(fake)
    url, state = flow.authorization_url()
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(fake.url + "/authorize?")
    assert query["response_type"] == ["code"] and query["client_id"] == [BASIC[0]]
    assert query["state"] == [state] and query["redirect_uri"] == ["http://127.0.0.1:9/callback"]
    assert flow.state == state and "csecret" not in url


def test_flow__fetch_token_from_the_redirect_url(fake):
    flow = flow_for(fake)
    _, state = flow.authorization_url()
    token = flow.fetch_token(f"http://127.0.0.1:9/callback?code=code-202&state={state}")
    assert token.access_token.startswith("acc-202") and token.refresh_token
    body = [e for e in fake.log if e["path"] == "/v1/token"]
    assert len(body) == 1


def test_flow__state_mismatch(fake):
    flow = flow_for(fake)
    flow.authorization_url()
    with pytest.raises(StateMismatchError, match="CSRF"):
        flow.fetch_token("http://127.0.0.1:9/callback?code=code-202&state=forged")
    assert not [e for e in fake.log if e["path"] == "/v1/token"]


def test_flow__redirect_without_a_pending_state(fake):
    with pytest.raises(StateMismatchError):
        flow_for(fake).fetch_token("http://127.0.0.1:9/callback?code=code-202&state=x")


def test_flow__access_denied(fake):
    flow = flow_for(fake)
    _, state = flow.authorization_url()
    with pytest.raises(AuthError, match="denied"):
        flow.fetch_token(f"http://127.0.0.1:9/callback?error=access_denied&state={state}")


def test_flow__code_with_its_state_and_bad_code(fake):
    flow = flow_for(fake)
    _, state = flow.authorization_url()
    assert flow.fetch_token(code="code-101", state=state).access_token.startswith("acc-101")
    _, state = flow.authorization_url()
    with pytest.raises(AuthError, match="refused"):
        flow.fetch_token(code="nonsense", state=state)
    with pytest.raises(ConfigError):
        flow.fetch_token()


def test_flow__a_code_without_its_state_is_refused_unless_said_explicitly(fake):
    flow = flow_for(fake)
    with pytest.raises(StateMismatchError, match="needs the state"):
        flow.fetch_token(code="code-101")
    with pytest.raises(StateMismatchError, match="no pending state"):
        flow.fetch_token(code="code-101", state="s")
    flow.authorization_url()
    with pytest.raises(StateMismatchError, match="does not match"):
        flow.fetch_token(code="code-101", state="forged")
    assert not [e for e in fake.log if e["path"] == "/v1/token"]  # the code was never sent
    assert flow.fetch_token(code="code-101", verify_state=False).access_token.startswith("acc-101")
    other = flow_for(fake)
    token = other.fetch_token("http://127.0.0.1:9/callback?code=code-202", verify_state=False)
    assert token.access_token.startswith("acc-202")


def test_is_loopback__one_test_for_the_package():
    assert is_loopback("http://127.0.0.1:8888/x") and is_loopback("http://localhost/x")
    assert is_loopback("http://[::1]:9/cb")
    assert not is_loopback("https://127.0.0.1/x") and not is_loopback("http://example.com/x")


def test_flow__insecure_non_loopback_urls_are_refused():
    flow = OAuthFlow("c", "s", "http://127.0.0.1:9/cb", authorize_url="http://example.com/authorize")
    with pytest.raises(ConfigError, match="HTTPS"):
        flow.authorization_url()
    assert "s'" not in repr(flow)


# ------------------------------------------------------------------ consent form (real sandbox)


def test_consent_login__walks_the_real_form_and_picks_the_company(sandbox):
    other = company_ids(sandbox)["other"]
    flow = OAuthFlow(sandbox.client_id, sandbox.client_secret, sandbox.redirect_uri,
                     authorize_url=sandbox.authorize_url, token_url=sandbox.token_url)
    url, state = flow.authorization_url()
    landed = consent_login(url, email=sandbox.username, password=sandbox.password,
                           redirect_uri=sandbox.redirect_uri, company=other)
    assert landed.startswith(sandbox.redirect_uri) and f"state={state}" in landed
    token = flow.fetch_token(landed)
    import requests

    me = requests.get(sandbox.api_base + "companies/me", headers={
        "Authorization": f"Bearer {token.access_token}", "Accept": "application/json"}).json()
    assert me["id"] == other


def test_consent_login__wrong_password(sandbox):
    flow = OAuthFlow(sandbox.client_id, sandbox.client_secret, sandbox.redirect_uri,
                     authorize_url=sandbox.authorize_url, token_url=sandbox.token_url)
    url, _ = flow.authorization_url()
    with pytest.raises(AuthError, match="did not accept"):
        consent_login(url, email=sandbox.username, password="wrong", redirect_uri=sandbox.redirect_uri)


def test_consent_login__unknown_company_lists_the_choices(sandbox):
    flow = OAuthFlow(sandbox.client_id, sandbox.client_secret, sandbox.redirect_uri,
                     authorize_url=sandbox.authorize_url, token_url=sandbox.token_url)
    url, _ = flow.authorization_url()
    with pytest.raises(ConfigError, match="choose one of"):
        consent_login(url, email=sandbox.username, password=sandbox.password,
                      redirect_uri=sandbox.redirect_uri, company="No Such Venue")


# ------------------------------------------------------------------ token file


def test_store__file_is_0600_in_a_0700_directory(tmp_path):
    store = TokenStore(tmp_path / "cfg" / "tokens.json")
    store.save("https://api.kounta.com/v1/", Token("a", "r", 5.0, company_id=1))
    assert stat.S_IMODE((tmp_path / "cfg" / "tokens.json").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cfg").stat().st_mode) == 0o700
    assert [p.name for p in (tmp_path / "cfg").iterdir()] == ["tokens.json"]  # no temp files left


def test_store__one_entry_per_api_base_and_company(tmp_path):
    store = TokenStore(tmp_path / "tokens.json")
    store.save("https://a/v1/", Token("a1", "r1", company_id=1))
    store.save("https://a/v1/", Token("a2", "r2", company_id=2))
    store.save("https://b/v1/", Token("b1", "rb", company_id=1))
    store.save("https://a/v1/", Token("a1-new", "r1", company_id=1))
    assert store.load("https://a/v1/", 1).access_token == "a1-new"
    assert store.load("https://b/v1/", 1).access_token == "b1"
    assert store.load("https://a/v1/").access_token == "a1-new"  # most recent
    assert store.companies("https://a/v1/") == [1, 2]
    store.delete("https://a/v1/", 1)
    assert store.load("https://a/v1/", 1) is None and store.load("https://a/v1/", 2) is not None
    data = json.loads((tmp_path / "tokens.json").read_text())
    assert len(data["tokens"]) == 2
    assert "tokens.json" in repr(store) and "a2" not in repr(store)


def test_store__default_path_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KOUNTA_CONFIG_DIR", str(tmp_path / "conf"))
    TokenStore().save("https://a/v1/", Token("a", company_id=1))
    assert (tmp_path / "conf" / "tokens.json").exists()


def test_store__needs_a_company(tmp_path):
    with pytest.raises(ConfigError):
        TokenStore(tmp_path / "t.json").save("https://a/v1/", Token("a"))
