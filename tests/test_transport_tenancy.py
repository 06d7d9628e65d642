"""Contract: tenancy in the HTTP cache.

Two companies in one cache file never see each other's entries, whatever the connection does and
whatever company a caller claims: the cache namespace is the company the API itself names for the
credentials (``GET companies/me``), never a hint. Without a verified namespace nothing is read
from or written to the cache.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from support_sandbox import company_ids, oauth_token

from kounta_nb.auth import OAuthCredentials, Token
from kounta_nb.errors import KountaError, TransportError
from kounta_nb.transport import Transport


def _transport(handle, token: dict, cache, company_hint=None, **kw) -> Transport:
    creds = OAuthCredentials(
        Token(token["access_token"], token["refresh_token"], time.time() + 3000, company_id=company_hint),
        client_id=handle.client_id, client_secret=handle.client_secret, token_url=handle.token_url,
    )
    kw.setdefault("rate_limit", 100_000)
    kw.setdefault("backoff_base", 0.001)
    kw.setdefault("max_retries", 1)
    return Transport(handle.api_base, creds, cache_path=cache, **kw)


def _keys(path) -> list[str]:
    with sqlite3.connect(path) as db:
        return [k for (k,) in db.execute("select key from responses")]


@pytest.fixture
def two(fresh_sandbox, tmp_path):
    ids = company_ids(fresh_sandbox)
    tokens = {name: oauth_token(fresh_sandbox, cid) for name, cid in ids.items()}
    return fresh_sandbox, ids, tokens, tmp_path / "shared.sqlite"


def test_tenancy__two_companies_one_file_each_sees_its_own(two):
    handle, ids, tokens, cache = two
    a = _transport(handle, tokens["developer"], cache)
    b = _transport(handle, tokens["other"], cache)
    for t, name in ((a, "developer"), (b, "other"), (a, "developer"), (b, "other")):
        assert t.request("GET", "companies/me").json()["id"] == ids[name]
        sites = t.request("GET", f"companies/{ids[name]}/sites").json()
        assert sites and all(s.get("company_id", ids[name]) == ids[name] for s in sites)
    assert a.company_id == ids["developer"] and b.company_id == ids["other"]
    keys = _keys(cache)
    assert {k.split(":", 1)[0] for k in keys} == {f"company-{ids['developer']}", f"company-{ids['other']}"}


def test_tenancy__a_wrong_hint_never_reads_the_other_companys_entries(two, capfd):
    handle, ids, tokens, cache = two
    a = _transport(handle, tokens["developer"], cache, offline=True)
    a.request("GET", "companies/me")
    a_sites = a.request("GET", f"companies/{ids['developer']}/sites")
    a.close()
    before = set(_keys(cache))
    # Company B's token, claiming to be company A, offline mode on, every connection dropped.
    b = _transport(handle, tokens["other"], cache, company_hint=ids["developer"], offline=True)
    assert b.namespace is None and not b.caching
    handle.set_options(fault_drop=1.0)
    for path in ("companies/me", f"companies/{ids['developer']}/sites"):
        with pytest.raises(TransportError):
            b.request("GET", path)
    assert b.cached(f"companies/{ids['developer']}/sites") is None
    # With the connection back, the API says which company the token reaches: B. The hint
    # disagrees, so the cache stays out of it (the client turns that into an error).
    handle.set_options(fault_drop=0.0)
    assert b.request("GET", "companies/me").json()["id"] == ids["other"]
    assert b.company_id == ids["other"] and b.namespace is None
    with pytest.raises(KountaError):
        b.request("GET", f"companies/{ids['developer']}/sites")  # B's token cannot read A
    assert set(_keys(cache)) == before
    assert a_sites.json()  # A's entries are still there for A
    assert "Traceback" not in capfd.readouterr().err


def test_tenancy__no_namespace_nothing_read_or_written(two):
    handle, ids, tokens, cache = two
    b = _transport(handle, tokens["other"], cache, company_hint=ids["developer"])
    b.request("GET", "companies/me", store=False)
    for _ in range(2):
        b.request("GET", f"companies/{ids['other']}/sites")
    assert not cache.exists() or _keys(cache) == []
    assert b.stats.revalidated == 0 and b.stats.requests == 3  # and no verification each time


def test_tenancy__the_namespace_comes_from_the_api_not_the_hint(two):
    handle, ids, tokens, cache = two
    b = _transport(handle, tokens["other"], cache)  # no hint at all
    assert b.namespace is None
    b.request("GET", f"companies/{ids['other']}/sites")  # verifies first, then caches
    assert b.company_id == ids["other"] and b.namespace == f"company-{ids['other']}"
    assert b.request("GET", f"companies/{ids['other']}/sites").revalidated
