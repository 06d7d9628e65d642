"""Contract (issue 10): offline is explicit.

``Kounta(..., offline=False)`` is the default on every constructor and reaches the transport.
Without it, a failed revalidation is an error. With it, the cached answer is served and every
result says so: ``RecordList.meta["stale"]``/``["stale_since"]`` and, through ``tables.fetch``,
``df.attrs["meta"]`` — plus one warning saying how old the data is.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from support_proxy import FaultProxy
from support_sandbox import company_ids, oauth_token

from kounta_nb import Kounta, KountaWarning, tables
from kounta_nb.auth import Token, TokenStore
from kounta_nb.errors import TransportError

FAST = {"rate_limit": 60_000, "backoff_base": 0.001, "max_retries": 1}


@pytest.fixture
def proxy(sandbox) -> Iterator[FaultProxy]:
    p = FaultProxy(sandbox.url)
    yield p
    p.stop()


def test_offline__every_constructor_passes_it_to_the_transport(sandbox, tmp_path, monkeypatch):
    cids = company_ids(sandbox)
    token = oauth_token(sandbox, cids["other"])
    store = TokenStore(tmp_path / "t.json")
    store.save(sandbox.api_base, Token(token["access_token"], company_id=cids["other"]))
    common = {"api_base": sandbox.api_base, "cache": False}
    monkeypatch.setenv("KOUNTA_CLIENT_ID", sandbox.client_id)
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", sandbox.client_secret)
    made = {
        "basic": lambda **o: Kounta.basic(**common, **o),
        "from_env": lambda **o: Kounta.from_env(**common, **o),
        "from_token": lambda **o: Kounta.from_token(token["access_token"], token_store=False, **common, **o),
        "from_store": lambda **o: Kounta.from_store(cids["other"], token_store=store, **common, **o),
        "sandbox": lambda **o: Kounta.sandbox(handle=sandbox, cache=False, **o),
    }
    flow = Kounta.oauth(sandbox.client_id, sandbox.client_secret, sandbox.redirect_uri,
                        authorize_url=sandbox.authorize_url, **common)  # fmt: skip
    for name, make in made.items():
        assert make().transport.offline is False, name
        assert make(offline=True).transport.offline is True, name
    url, state = flow.authorization_url()
    from kounta_nb.consent import consent_login

    landed = consent_login(url, email=sandbox.username, password=sandbox.password, redirect_uri=sandbox.redirect_uri)
    assert Kounta.from_flow(flow, flow.fetch_token(landed), token_store=False, cache=False,
                            offline=True).transport.offline is True  # fmt: skip


def test_offline__off_by_default_a_dead_network_is_an_error(sandbox, proxy, tmp_path):
    k = Kounta.basic(sandbox.client_id, sandbox.client_secret, api_base=proxy.api_base,
                     cache=tmp_path / "c.sqlite", **FAST)  # fmt: skip
    assert k.sites()
    proxy.rule = lambda method, path: "drop"
    with pytest.raises(TransportError):
        k.sites()
    with pytest.raises(TransportError):
        tables.fetch(k, "sites")


def test_offline__stale_data_is_marked_and_said_once(sandbox, proxy, tmp_path):
    k = Kounta.basic(sandbox.client_id, sandbox.client_secret, api_base=proxy.api_base,
                     cache=tmp_path / "c.sqlite", offline=True, **FAST)  # fmt: skip
    fresh = k.sites()
    assert fresh.meta["stale"] is False and "stale_since" not in fresh.meta
    tables.fetch(k, "taxes")
    proxy.rule = lambda method, path: "drop"
    with pytest.warns(KountaWarning) as caught:
        old = k.sites()
        df = tables.fetch(k, "taxes")
    assert [r["id"] for r in old] == [r["id"] for r in fresh]
    assert old.meta["stale"] is True and isinstance(old.meta["stale_since"], datetime)
    assert old.meta["stale_since"] <= datetime.now(old.meta["stale_since"].tzinfo)
    assert df.attrs["meta"]["stale"] is True and df.attrs["meta"]["stale_since"]
    assert len(df) > 0
    assert 1 <= len(caught) <= 2 and all("\n" not in str(w.message) for w in caught)
