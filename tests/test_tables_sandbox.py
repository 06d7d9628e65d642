"""tables.fetch with the real client against the real sandbox, over real sockets."""

from __future__ import annotations

import json
from datetime import date

import pytest

from kounta_nb import KountaWarning, frames, tables
from kounta_nb.client import Kounta

DAY = date(2026, 5, 28)  # the last full day before the sandbox's frozen "now"


@pytest.fixture(scope="module")
def client(sandbox):
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


# ------------------------------------------------------------------ issue 11 §4


def test_tables_sandbox__orders_default_to_complete_and_any_means_every_status(client):
    site = client.sites()[0]["id"]
    args = {"site": site, "since": "2026-05-01", "until": DAY}
    default = tables.fetch(client, "orders", **args)
    every = tables.fetch(client, "orders", status="any", **args)
    assert set(default["status"].dropna()) == {"COMPLETE"} and default.attrs["meta"]["filters"]["status"] == "complete"
    assert len(set(every["status"].dropna())) > 1 and len(every) > len(default)
    assert len(tables.fetch(client, "orders", status="ALL", **args)) == len(every)
    raw = client.orders(**args)  # the raw client returns what the API returns: every status
    assert len(raw) == len(every)
    pending = tables.fetch(client, "payments", status="pending", **args)
    assert pending.attrs["meta"]["filters"]["status"] == "pending"


def test_tables_sandbox__site_all_in_python(client):
    args = {"since": DAY, "until": DAY}
    everywhere = tables.fetch(client, "orders", **args)
    assert tables.fetch(client, "orders", site="all", **args).equals(everywhere)
    assert len(client.orders(site="ALL", status="complete", **args)) == len(everywhere)
    assert len(set(everywhere["site_id"])) == len(client.sites())


def test_tables_sandbox__full_records_on_request_with_the_count_said_first(client):
    listed = tables.fetch(client, "products", limit=12)
    assert listed["category_ids"].isna().all() and listed["tax_ids"].isna().all()  # missing, not []
    with pytest.warns(KountaWarning, match=r"^Fetching 12 full product records: 12 requests, about 0 s at 100000 requests/min\.$"):
        full = tables.fetch(client, "products", limit=12, full=True)
    assert full.attrs["meta"]["details"] == 12 and full.attrs["meta"]["stats"]["requests"] == 1 + 12
    assert full["category_ids"].notna().all() and full["tax_ids"].notna().all()
    assert list(full["id"]) == list(listed["id"])
    with pytest.warns(KountaWarning, match="Fetching 3 full customer records"):
        people = tables.fetch(client, "customers", limit=3, full=True)
    assert people["email_addresses"].notna().all()
    reconciliations = tables.fetch(client, "reconciliations", site=client.sites()[0]["id"], date=DAY, full=True)
    assert reconciliations.attrs["meta"].get("details", 0) == 0  # list items are full: nothing to fetch


def test_tables_sandbox__progress_bars_are_named_for_what_they_fetch(client, capsys):
    tables.fetch(client, "product_categories", progress=True)
    err = capsys.readouterr().err
    assert "Kounta product_categories: full products" in err and "full orders" not in err
    assert "100%" in err  # left on screen at its final state


def test_tables__a_notebook_bar_is_redisplayed_when_it_closes(monkeypatch):
    pytest.importorskip("ipywidgets")
    import IPython.display
    import tqdm.auto
    from tqdm.notebook import tqdm_notebook

    shown: list[tuple[str, object]] = []

    class Handle:
        def update(self, obj: object) -> None:
            shown.append(("update", repr(obj)))

    def display(obj: object, display_id: bool = False) -> Handle:
        shown.append(("display", repr(obj)))
        return Handle()

    monkeypatch.setattr(tqdm.auto, "tqdm", tqdm_notebook)
    monkeypatch.setattr(IPython.display, "display", display)
    bar = tables._bar(30, "lines", "order")
    for _ in range(30):
        bar.update()
    bar.close()
    assert [kind for kind, _ in shown] == ["display", "update"]
    assert "0/30" in shown[0][1] and "30/30" in shown[1][1] and "Kounta lines: full orders" in shown[1][1]
