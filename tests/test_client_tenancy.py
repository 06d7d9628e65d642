"""Contract (issue 10 §8): tenancy and OAuth.

- A company hint that disagrees with the token's company (``/companies/me``) is a ConfigError,
  and the cache namespace only ever comes from the verified company: with company B's token, a
  wrong hint and dropped connections, company A's cached records are never served.
- ``OAuthFlow.fetch_token`` always checks the state unless ``verify_state=False`` is passed.
- The loopback callback listener answers only ``Host: 127.0.0.1:<port>`` / ``localhost:<port>``.
"""

from __future__ import annotations

import http.client

import pytest
from support_proxy import FaultProxy
from support_sandbox import company_ids, oauth_token

from kounta_nb import Kounta
from kounta_nb.auth import OAuthFlow, Token, TokenStore
from kounta_nb.callback import CallbackResult, CallbackServer
from kounta_nb.errors import ConfigError, StateMismatchError, TransportError

FAST = {"rate_limit": 60_000, "backoff_base": 0.001}


def test_tenancy__a_hint_that_disagrees_with_the_token_is_a_config_error(sandbox, tmp_path):
    cids = company_ids(sandbox)
    token = oauth_token(sandbox, cids["other"])["access_token"]
    k = Kounta.from_token(token, company_id=cids["developer"], api_base=sandbox.api_base,
                          cache=tmp_path / "c.sqlite", token_store=False, **FAST)  # fmt: skip
    with pytest.raises(ConfigError, match=f"reach company {cids['other']} .*not company {cids['developer']}"):
        k.sites()
    right = Kounta.from_token(token, company_id=cids["other"], api_base=sandbox.api_base, cache=False,
                              token_store=False, **FAST)  # fmt: skip
    assert right.company_id == cids["other"] and right.sites()


def test_tenancy__another_company_s_cache_is_never_served(sandbox, tmp_path):
    cids = company_ids(sandbox)
    proxy = FaultProxy(sandbox.url)
    try:
        cache = tmp_path / "shared.sqlite"
        a = Kounta.basic(sandbox.client_id, sandbox.client_secret, api_base=proxy.api_base, cache=cache,
                         offline=True, **FAST)  # fmt: skip
        a_sites = a.sites()
        assert a.company_id == cids["developer"]
        a.close()
        token = oauth_token(sandbox, cids["other"])["access_token"]
        proxy.rule = lambda method, path: "drop"  # every connection dropped from now on
        b = Kounta.from_token(token, company_id=cids["developer"], api_base=proxy.api_base, cache=cache,
                              token_store=False, offline=True, max_retries=1, **FAST)  # fmt: skip
        with pytest.raises(TransportError):
            b.sites()  # not company A's sites from the cache, even offline
        assert b.transport.namespace is None  # nothing read from or written to the cache
        proxy.rule = lambda method, path: "pass"
        with pytest.raises(ConfigError, match="not company"):
            b.sites()
        assert [s["id"] for s in a_sites]
    finally:
        proxy.stop()


def test_tenancy__a_saved_token_filed_under_another_company(sandbox, tmp_path):
    cids = company_ids(sandbox)
    store = TokenStore(tmp_path / "tokens.json")
    token = oauth_token(sandbox, cids["other"])["access_token"]
    store.save(sandbox.api_base, Token(token, company_id=cids["developer"]))  # filed wrongly
    k = Kounta.from_store(cids["developer"], token_store=store, api_base=sandbox.api_base, cache=False, **FAST)
    with pytest.raises(ConfigError, match="not company"):
        k.company_id  # noqa: B018


def test_tenancy__fetch_token_checks_the_state_unless_told_not_to(sandbox):
    flow = OAuthFlow(sandbox.client_id, sandbox.client_secret, sandbox.redirect_uri,
                     authorize_url=sandbox.authorize_url, token_url=sandbox.token_url)  # fmt: skip
    with pytest.raises(StateMismatchError, match="needs the state"):
        flow.fetch_token(code="anything")
    flow.authorization_url()
    with pytest.raises(StateMismatchError):
        flow.fetch_token(code="anything", state="forged")
    with pytest.raises(StateMismatchError, match="does not match"):
        flow.fetch_token(f"{sandbox.redirect_uri}?code=anything&state=forged")
    with pytest.raises(StateMismatchError):
        flow.fetch_token(f"{sandbox.redirect_uri}?code=anything")  # a redirect without a state


@pytest.mark.parametrize("host", ["evil.test", "evil.test:{port}", "127.0.0.1", "127.0.0.1:1",
                                  "localhost.evil.test:{port}", "[::1]:{port}", ""])
def test_tenancy__the_callback_listener_answers_only_its_loopback_host(host):
    seen: list[str] = []
    listener = CallbackServer(lambda url: seen.append(url) or CallbackResult(True, "ok"))
    try:
        for good in (f"127.0.0.1:{listener.port}", f"localhost:{listener.port}", f"LOCALHOST:{listener.port}"):
            conn = http.client.HTTPConnection("127.0.0.1", listener.port, timeout=10)
            conn.request("GET", "/kounta_nb/callback?code=c1&state=s1", headers={"Host": good})
            assert conn.getresponse().status == 200
            conn.close()
        assert len(seen) == 3
        conn = http.client.HTTPConnection("127.0.0.1", listener.port, timeout=10)
        conn.putrequest("GET", "/kounta_nb/callback?code=c2&state=s2", skip_host=True)
        if host:
            conn.putheader("Host", host.format(port=listener.port))
        conn.endheaders()
        answer = conn.getresponse()
        assert answer.status == 400 and answer.read() == b"Bad Host"
        conn.close()
        assert len(seen) == 3  # the code was not handed on
    finally:
        listener.stop()
