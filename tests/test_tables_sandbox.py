"""tables.fetch with the real client against the real sandbox, over real sockets."""

from __future__ import annotations

import json
from datetime import date

import pytest
from support_sandbox import sandbox  # noqa: F401  (the session-wide server fixture)

from kounta_nb import frames, tables
from kounta_nb.client import Kounta

DAY = date(2026, 5, 28)  # the last full day before the sandbox's frozen "now"


@pytest.fixture(scope="module")
def client(sandbox):  # noqa: F811
    k = Kounta.basic(sandbox.client_id, sandbox.client_secret, api_base=sandbox.api_base,
                     cache=False, token_store=False, rate_limit=100_000)  # fmt: skip
    yield k
    k.close()


def _filters(client: Kounta, name: str) -> dict:
    site = client.sites()[0]["id"]
    if name in ("lines", "payments", "options"):
        return {"site": site, "since": DAY, "until": DAY, "status": "complete", "limit": 15}
    if name == "orders":
        return {"site": site, "since": DAY, "until": DAY}
    if name == "order":
        return {"id": client.orders(site=site, since=DAY, until=DAY, max_pages=1)[0]["id_str"]}
    if name in ("shifts", "breaks"):
        return {"date": DAY}
    if name.startswith("reconciliation"):
        return {"site": site, "date": DAY}
    if name in ("product_prices", "product_categories"):
        return {"limit": 12}
    return {}


@pytest.mark.parametrize("name", sorted(tables.RESOURCES))
def test_tables_sandbox__every_resource(client, name):
    df = tables.fetch(client, name, **_filters(client, name))
    kind = df.attrs["kind"]
    assert len(df) > 0, name
    empty = frames.empty(kind, tz=client.tz)
    assert list(df.columns) == list(empty.columns)
    assert [str(t) for t in df.dtypes] == [str(t) for t in empty.dtypes]
    meta = json.loads(json.dumps(df.attrs))["meta"]
    assert meta["resource"] == name and meta["fetched_at"]
    assert "secret" not in json.dumps(df.attrs).lower()


def test_tables_sandbox__order_tables_add_up_over_http(client):
    site = client.sites()[0]["id"]
    t = tables.fetch_order_tables(client, site=site, since=DAY, until=DAY, limit=25)
    o = t["orders"].set_index("id")
    assert len(o) == 25 and t["orders"].attrs["meta"]["details"] == 25
    sums = t["lines"].groupby("order_id")["line_total"].sum().round(2).reindex(o.index)
    assert (sums == o["total"]).all()
    assert (o["date"].dt.date == DAY).all()
    assert str(o["created_at"].dt.tz) == str(client.tz)
    stats = t["lines"].attrs["meta"]["stats"]
    assert stats["requests"] >= 26  # one list page + one detail per order


def test_tables_sandbox__orders_list_matches_detail_ids(client):
    site = client.sites()[0]["id"]
    listing = tables.fetch(client, "orders", site=site, since=DAY, until=DAY)
    assert listing["id"].str.len().min() >= 16  # 64-bit ids kept exact as text
    assert (listing["date"].dt.date == DAY).all()
    one = tables.fetch(client, "order", id=listing.loc[0, "id"], part="orders")
    assert one.loc[0, "id"] == listing.loc[0, "id"]
    assert one.loc[0, "total"] == listing.loc[0, "total"]


def test_tables_sandbox__inventory_and_status_per_site(client):
    sites = {s["id"] for s in client.sites()}
    inv = tables.fetch(client, "inventory")
    assert set(inv["site_id"]) == sites
    status = tables.fetch(client, "status")
    assert set(status["site_id"]) == sites and status["online"].all()


def test_tables__progress_bar_for_more_than_a_page_of_full_orders(client, capsys):
    site = client.sites()[0]["id"]
    quiet = tables.fetch(client, "payments", site=site, since=DAY, until=DAY, limit=60)
    assert "full orders" not in capsys.readouterr().err
    shown = tables.fetch(client, "payments", site=site, since=DAY, until=DAY, limit=60, progress=True)
    err = capsys.readouterr().err
    assert "Kounta payments: full orders" in err and "0/60" in err
    assert shown.equals(quiet)
    tables.fetch(client, "payments", site=site, since=DAY, until=DAY, limit=10, progress=True)
    assert "full orders" not in capsys.readouterr().err  # a page or less: no bar
