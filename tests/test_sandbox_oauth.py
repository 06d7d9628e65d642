"""The sandbox's authentication: Basic, the authorise pages, the token endpoint, token lifetimes."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from support_sandbox import (
    api,
    authorize_code,
    basic_session,
    bearer_session,
    company_ids,
    oauth_token,
)

from kounta_nb.sandbox import oauth


def _params(handle, **over):
    return {"response_type": "code", "client_id": handle.client_id,
            "redirect_uri": handle.redirect_uri, "state": "xyz", **over}


def _exchange(handle, code, *, as_json=False, path="/v1/token", **over):
    body = {"grant_type": "authorization_code", "code": code, "client_id": handle.client_id,
            "client_secret": handle.client_secret, "redirect_uri": handle.redirect_uri, **over}
    url = handle.url + path
    return requests.post(url, json=body) if as_json else requests.post(url, data=body)


# -- Basic -------------------------------------------------------------------------------------

def test_basic__reaches_only_the_developer_company(sandbox):
    s = basic_session(sandbox)
    ids = company_ids(sandbox)
    assert s.get(api(sandbox, "companies/me.json")).json()["id"] == ids["developer"]
    assert s.get(api(sandbox, f"companies/{ids['other']}.json")).status_code == 403


def test_basic__wrong_secret_is_401_invalid_client(sandbox):
    r = requests.get(api(sandbox, "companies/me.json"), auth=(sandbox.client_id, "nope"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_auth__no_credentials_is_401(sandbox):
    r = requests.get(api(sandbox, "companies/me.json"))
    assert r.status_code == 401 and set(r.json()) == {"error", "error_description"}


# -- the authorise page ------------------------------------------------------------------------

def test_authorize__login_page_has_the_documented_fields(sandbox):
    page = requests.get(sandbox.authorize_url, params=_params(sandbox))
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    for field in ('name="email"', 'name="password"', 'name="state" value="xyz"'):
        assert field in page.text


def test_authorize__consent_page_lists_every_company_of_the_user(sandbox):
    info = sandbox.info()
    r = requests.post(sandbox.authorize_url, data={**_params(sandbox), "email": sandbox.username,
                                                   "password": sandbox.password})
    assert '<select id="company_id" name="company_id">' in r.text
    assert 'name="decision" value="grant"' in r.text and 'name="decision" value="deny"' in r.text
    assert "Grant Access" in r.text
    for company in info["companies"]:
        assert f'<option value="{company["id"]}">' in r.text


def test_authorize__grant_redirects_with_code_and_state(sandbox):
    ids = company_ids(sandbox)
    code = authorize_code(sandbox, ids["other"], state="s-42")
    token = _exchange(sandbox, code).json()
    me = bearer_session(token["access_token"]).get(api(sandbox, "companies/me.json")).json()
    assert me["id"] == ids["other"]


def test_authorize__one_post_with_everything_also_works(sandbox):
    r = requests.post(sandbox.authorize_url, allow_redirects=False, data={
        **_params(sandbox), "email": sandbox.username, "password": sandbox.password,
        "company_id": str(company_ids(sandbox)["developer"]), "decision": "grant"})
    assert r.status_code == 302
    q = parse_qs(urlsplit(r.headers["Location"]).query)
    assert q["state"] == ["xyz"] and q["code"][0]


def test_authorize__deny_redirects_with_access_denied(sandbox):
    r = requests.post(sandbox.authorize_url, allow_redirects=False, data={
        **_params(sandbox), "email": sandbox.username, "password": sandbox.password, "decision": "deny"})
    assert r.status_code == 302
    loc = r.headers["Location"]
    assert loc.startswith(sandbox.redirect_uri + "?")
    assert parse_qs(urlsplit(loc).query) == {"error": ["access_denied"], "state": ["xyz"]}


def test_authorize__wrong_password_shows_the_form_again(sandbox):
    r = requests.post(sandbox.authorize_url, allow_redirects=False, data={
        **_params(sandbox), "email": sandbox.username, "password": "wrong", "decision": "grant"})
    assert r.status_code == 200 and "incorrect" in r.text and 'name="password"' in r.text


@pytest.mark.parametrize("over", [{"client_id": "someone-else"},
                                  {"redirect_uri": "https://evil.example/callback"},
                                  {"redirect_uri": ""}])
def test_authorize__bad_client_or_redirect_uri_is_an_error_page_without_redirect(sandbox, over):
    for method in ("get", "post"):
        kwargs = {"params": _params(sandbox, **over)} if method == "get" else {
            "data": {**_params(sandbox, **over), "email": sandbox.username, "password": sandbox.password,
                     "decision": "grant"}}
        r = getattr(requests, method)(sandbox.authorize_url, allow_redirects=False, **kwargs)
        assert r.status_code == 400 and "Location" not in r.headers
        assert r.headers["Content-Type"].startswith("text/html")


def test_authorize__any_loopback_redirect_uri_is_registered(sandbox):
    for uri in ("http://127.0.0.1:8765/callback", "http://localhost:9999/x/y"):
        code = authorize_code(sandbox, redirect_uri=uri)
        assert _exchange(sandbox, code, redirect_uri=uri).status_code == 200


def test_authorize__missing_state_or_wrong_response_type_redirects_with_error(sandbox):
    r = requests.get(sandbox.authorize_url, params=_params(sandbox, state=""), allow_redirects=False)
    assert r.status_code == 302 and "error=invalid_request" in r.headers["Location"]
    r = requests.get(sandbox.authorize_url, params=_params(sandbox, response_type="token"), allow_redirects=False)
    assert r.status_code == 302 and "error=unsupported_response_type" in r.headers["Location"]


def test_oauth_done__shows_the_full_redirected_url(sandbox):
    url = sandbox.redirect_uri + "?code=abc123&state=xyz"
    page = requests.get(url)
    assert page.status_code == 200 and "code=abc123&amp;state=xyz" in page.text
    assert sandbox.redirect_uri in page.text


# -- the token endpoint ------------------------------------------------------------------------

@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("path", ["/v1/token", "/v1/token.json"])
def test_token__form_or_json_body_on_both_paths(sandbox, as_json, path):
    r = _exchange(sandbox, authorize_code(sandbox), as_json=as_json, path=path)
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["access_token", "refresh_token", "expires_in", "token_type", "scope"]
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] is None
    assert r.headers["Cache-Control"] == "no-store"


def test_token__client_credentials_in_basic_header(sandbox):
    code = authorize_code(sandbox)
    r = requests.post(sandbox.token_url, auth=(sandbox.client_id, sandbox.client_secret),
                      data={"grant_type": "authorization_code", "code": code, "redirect_uri": sandbox.redirect_uri})
    assert r.status_code == 200


def test_token__code_is_single_use(sandbox):
    code = authorize_code(sandbox)
    assert _exchange(sandbox, code).status_code == 200
    again = _exchange(sandbox, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_token__code_is_short_lived(sandbox, monkeypatch):
    monkeypatch.setattr(oauth, "CODE_TTL_S", 0.05)
    code = authorize_code(sandbox)
    time.sleep(0.1)
    r = _exchange(sandbox, code)
    assert r.status_code == 400 and "expired" in r.json()["error_description"]


def test_token__redirect_uri_must_match(sandbox):
    r = _exchange(sandbox, authorize_code(sandbox), redirect_uri="http://127.0.0.1:1/other")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_token__wrong_secret_is_401_invalid_client(sandbox):
    r = _exchange(sandbox, authorize_code(sandbox), client_secret="wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


@pytest.mark.parametrize("body,error", [({"grant_type": "password"}, "unsupported_grant_type"),
                                        ({}, "invalid_request"),
                                        ({"grant_type": "refresh_token"}, "invalid_request"),
                                        ({"grant_type": "refresh_token", "refresh_token": "x"}, "invalid_grant"),
                                        ({"grant_type": "authorization_code", "code": "x"}, "invalid_grant")])
def test_token__bad_requests_are_400(sandbox, body, error):
    r = requests.post(sandbox.token_url, data={"client_id": sandbox.client_id,
                                               "client_secret": sandbox.client_secret, **body})
    assert r.status_code == 400 and r.json()["error"] == error


def test_token__refresh_token_is_reusable(sandbox):
    first = oauth_token(sandbox)
    body = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
    a = requests.post(sandbox.token_url, data=body).json()
    b = requests.post(sandbox.token_url, json=body).json()
    assert a["access_token"] != b["access_token"] != first["access_token"]
    assert a["refresh_token"] == b["refresh_token"] == first["refresh_token"]
    for token in (a, b):
        assert bearer_session(token["access_token"]).get(api(sandbox, "companies/me.json")).status_code == 200


def test_token__refresh_may_omit_refresh_token(fresh_sandbox):
    fresh_sandbox.set_options(refresh_omits_token=True)
    first = oauth_token(fresh_sandbox)
    assert "refresh_token" in first  # the code exchange always returns one
    r = requests.post(fresh_sandbox.token_url, data={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"],
        "client_id": fresh_sandbox.client_id, "client_secret": fresh_sandbox.client_secret}).json()
    assert "refresh_token" not in r and r["access_token"]


# -- bearer tokens on the API ------------------------------------------------------------------

def test_bearer__unknown_token_is_401_invalid_token(sandbox):
    r = bearer_session("not-a-token").get(api(sandbox, "companies/me.json"))
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_bearer__expired_token_is_401_expired_token(sandbox_factory):
    handle = sandbox_factory(token_ttl=0.3)
    token = oauth_token(handle)
    s = bearer_session(token["access_token"])
    assert token["expires_in"] == 1
    assert s.get(api(handle, "companies/me.json")).status_code == 200
    time.sleep(0.4)
    r = s.get(api(handle, "companies/me.json"))
    assert r.status_code == 401
    assert r.json() == {"error": "expired_token", "error_description": "The access token provided has expired"}


def test_bearer__expire_tokens_knob_then_refresh_recovers(fresh_sandbox):
    token = oauth_token(fresh_sandbox)
    s = bearer_session(token["access_token"])
    assert fresh_sandbox.expire_tokens() >= 1
    assert s.get(api(fresh_sandbox, "companies/me.json")).json()["error"] == "expired_token"
    fresh = requests.post(fresh_sandbox.token_url, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_id": fresh_sandbox.client_id, "client_secret": fresh_sandbox.client_secret}).json()
    assert bearer_session(fresh["access_token"]).get(api(fresh_sandbox, "companies/me.json")).status_code == 200


def test_bearer__empty_200_in_the_last_seconds_before_expiry(sandbox_factory):
    """docs/api.md §2: some integrators saw an empty 200 where a record was expected around expiry."""
    handle = sandbox_factory(expiry_empty_s=0.5)
    token = oauth_token(handle)
    s = bearer_session(token["access_token"])
    assert s.get(api(handle, "companies/me.json")).json()["id"]  # an hour left: a normal answer
    handle.expire_tokens(in_seconds=0.4)
    r = s.get(api(handle, "companies/me.json"))
    assert r.status_code == 200 and r.content == b"" and "json" in r.headers["Content-Type"]
    time.sleep(0.5)
    assert s.get(api(handle, "companies/me.json")).json()["error"] == "expired_token"


def test_bearer__token_for_one_company_on_another_company_path(sandbox):
    ids = company_ids(sandbox)
    token = oauth_token(sandbox, ids["other"])
    s = bearer_session(token["access_token"])
    assert s.get(api(sandbox, f"companies/{ids['other']}/sites.json")).status_code == 200
    r = s.get(api(sandbox, f"companies/{ids['developer']}/sites.json"))
    assert r.status_code == 403 and r.json()["error"] == "access_denied"


def test_revoke__refresh_becomes_impossible(fresh_sandbox):
    token = oauth_token(fresh_sandbox)
    assert fresh_sandbox.revoke() >= 1
    r = requests.post(fresh_sandbox.token_url, data={
        "grant_type": "refresh_token", "refresh_token": token["refresh_token"],
        "client_id": fresh_sandbox.client_id, "client_secret": fresh_sandbox.client_secret})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert bearer_session(token["access_token"]).get(
        api(fresh_sandbox, "companies/me.json")).status_code == 401


def test_revoke__one_refresh_token_only(fresh_sandbox):
    a, b = oauth_token(fresh_sandbox), oauth_token(fresh_sandbox)
    r = requests.post(fresh_sandbox.url + "/_sandbox/revoke", json={"refresh_token": a["refresh_token"]})
    assert r.json() == {"revoked": 1}
    assert bearer_session(a["access_token"]).get(api(fresh_sandbox, "companies/me.json")).status_code == 401
    assert bearer_session(b["access_token"]).get(api(fresh_sandbox, "companies/me.json")).status_code == 200


def test_tokens__never_in_info_or_stats(fresh_sandbox):
    token = oauth_token(fresh_sandbox)
    text = requests.get(fresh_sandbox.url + "/_sandbox/info").text + \
        requests.get(fresh_sandbox.url + "/_sandbox/stats").text
    assert token["access_token"] not in text and token["refresh_token"] not in text


# -- control endpoints -------------------------------------------------------------------------

def test_control__endpoints_over_http(fresh_sandbox):
    base = fresh_sandbox.url + "/_sandbox/"
    info = requests.get(base + "info").json()
    assert info["credentials"]["client_id"] == "kounta-nb-sandbox"
    assert info["credentials"]["redirect_uri"] == fresh_sandbox.redirect_uri
    assert len(info["companies"]) >= 2 and all(c["sites"] for c in info["companies"])
    opts = requests.post(base + "options", json={"latency_ms": 1, "fault_5xx": 0.0}).json()
    assert opts["latency_ms"] == 1
    bad = requests.post(base + "options", json={"fault_5xx": 2})
    assert bad.status_code == 400 and "probability" in bad.json()["error_description"]
    assert requests.post(base + "options", json={"seed": 3}).status_code == 400
    assert requests.post(base + "options", json={"colour": 3}).status_code == 400
    now = requests.post(base + "clock", json={"advance": 60}).json()["now"]
    assert now > info["now"]
    assert requests.post(base + "expire", json={}).json() == {"expired": 0}
    stats = requests.get(base + "stats").json()
    assert stats["requests"] >= 6 and "200" in stats["by_status"]


def test_bearer__legacy_expiry_style_is_400_with_message(fresh_sandbox):
    fresh_sandbox.set_options(expiry_style="legacy")
    token = oauth_token(fresh_sandbox)
    fresh_sandbox.expire_tokens()
    r = bearer_session(token["access_token"]).get(api(fresh_sandbox, "companies/me.json"))
    assert r.status_code == 400 and r.json() == {"message": "The access token provided has expired"}


def test_authorize__login_page_says_demo_and_comes_pre_filled(sandbox):
    import re

    page = requests.get(sandbox.authorize_url, params=_params(sandbox)).text
    assert "Demo sandbox" in page and "nothing here is a real Kounta account" in page
    assert f"<code>{sandbox.username}</code>" in page and f"<code>{sandbox.password}</code>" in page
    fields = dict(re.findall(r'name="([a-z_]+)"[^>]*?value="([^"]*)"', page))
    assert fields["email"] == sandbox.username and fields["password"] == sandbox.password
    # submitting the form as it comes is a login
    consent = requests.post(sandbox.authorize_url, data=fields)
    assert 'name="company_id"' in consent.text
    # after a wrong password: what the user typed stays, the password does not
    wrong = requests.post(sandbox.authorize_url, data={**fields, "email": "ada@example.test", "password": "x"}).text
    assert 'value="ada@example.test"' in wrong and 'type="password" autocomplete="current-password" required\n value=""' in wrong
