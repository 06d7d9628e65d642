"""tables.fetch against a small duck-typed fake client (the real sandbox is in test_tables_sandbox)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from support_frames import full_order, load, rich_records

from kounta_nb import ConfigError, frames, tables

ABRIDGED = ("id", "id_str", "sale_number", "status", "site_id", "total", "total_tax", "paid",
            "created_at", "updated_at")  # fmt: skip


class RecordList(list):
    def __init__(self, records: Any, endpoint: str, filters: dict[str, Any]) -> None:
        super().__init__(records)
        self.meta = {"endpoint": endpoint, "filters": filters, "fetched_at": datetime(2026, 5, 29),
                     "stats": {"requests": 1}}  # fmt: skip


@dataclass
class Stats:
    requests: int = 0

    def snapshot(self) -> Stats:
        return Stats(self.requests)

    def __sub__(self, other: Stats) -> Stats:
        return Stats(self.requests - other.requests)

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests}


class InMemoryClient:
    """The read surface of kounta_nb.client.Kounta, over in-memory records."""

    tz = ZoneInfo("Australia/Sydney")

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple, dict]] = []
        self.stats = Stats()
        self.full_orders = {
            o["id_str"]: o for o in (full_order(i, site_id=101 + i % 2) for i in range(6))
        }
        rich = rich_records()
        self.product_records = {p["id"]: p for p in rich["products"]}
        self.recs = rich

    def _log(self, name: str, *args: Any, **kw: Any) -> None:
        self.calls.append((name, args, kw))
        self.stats.requests += 1

    # the two entry points tables uses: the catalogue read and the detail walk
    def read(self, name: str, **filters: Any) -> Any:
        if name == "company":
            return self.company
        limit = filters.pop("limit", None)
        method = {"customer_orders": "orders", "category_products": "products"}.get(name, name)
        if name in ("order", "product", "reconciliation"):
            return getattr(self, method)(filters["id"])
        if name == "order_by_sale":
            return self.order_by_sale(filters["sale_number"])
        records = getattr(self, method)(**filters)
        if limit is not None:
            self.calls[-1][2]["limit"] = limit
            records = RecordList(records[:limit], records.meta["endpoint"], records.meta["filters"])
        return records

    def details(self, listing: Any, *, name: str, listed_now: bool = False) -> Any:
        for item in listing:
            yield self.read(name, id=item.get("id_str") or item["id"])

    @property
    def company(self) -> dict[str, Any]:
        return load("tanda-kounta/companies_me.json")

    def resolve_site(self, site: Any) -> int:
        names = {"café": 101, "bar": 102}
        if str(site).isdigit():
            return int(site)
        if str(site).lower() in names:
            return names[str(site).lower()]
        raise ConfigError(f"Unknown site {site!r}.")

    def status(self) -> list[dict[str, Any]]:
        self._log("status")
        return self.recs["site_status"]

    def sites(self) -> RecordList:
        self._log("sites")
        return RecordList([{"id": 101, "name": "Café"}, {"id": 102, "name": "Bar"}], "sites", {})

    def registers(self, site: Any = None) -> RecordList:
        self._log("registers", site=site)
        return RecordList([{"id": 9, "code": "T1", "name": "Till"}], "registers", {"site": site})

    def orders(self, **filters: Any) -> RecordList:
        self._log("orders", **filters)
        items = [{k: o[k] for k in ABRIDGED} for o in self.full_orders.values()]
        if "site" in filters:
            items = [o for o in items if o["site_id"] == self.resolve_site(filters["site"])]
        return RecordList(items[::-1], "orders", filters)

    def order(self, id: Any) -> dict[str, Any]:
        self._log("order", id)
        return self.full_orders[str(id)]

    def order_by_sale(self, sale_number: str) -> dict[str, Any]:
        self._log("order_by_sale", sale_number)
        return next(o for o in self.full_orders.values() if o["sale_number"] == sale_number)

    def products(self, site: Any = None) -> RecordList:
        self._log("products", site=site)
        keep = ("id", "name", "code", "description", "barcode", "is_modifier")
        return RecordList([{k: p.get(k) for k in keep} for p in self.product_records.values()],
                          "products", {"site": site})  # fmt: skip

    def product(self, id: int) -> dict[str, Any]:
        self._log("product", id)
        return self.product_records[int(id)]

    def categories(self, site: Any = None) -> RecordList:
        return RecordList(load("tanda-kounta/categories.json"), "categories", {})

    def customers(self, reference_id: str | None = None) -> RecordList:
        self._log("customers", reference_id=reference_id)
        return RecordList(load("tanda-kounta/customers.json"), "customers", {})

    def staff(self) -> RecordList:
        return RecordList([load("kounta-python/staff.json")], "staff", {})

    def shifts(
        self, *, date: Any = None, since: Any = None, site: Any = None, staff: Any = None
    ) -> RecordList:
        self._log("shifts", date=date, since=since, site=site, staff=staff)
        if (date is None) == (since is None):
            raise ConfigError("shifts() needs exactly one of date= or since=.")
        shift = load("kounta-python/shift.json")
        if site is not None:
            shift.pop("site")  # the API leaves the site out under a site filter
        return RecordList([shift], "shifts", {"date": date, "since": since, "site": site})

    def taxes(self) -> RecordList:
        return RecordList(load("tanda-kounta/taxes.json"), "taxes", {})

    def inventory(self, site: Any) -> RecordList:
        self._log("inventory", site=site)
        sid = self.resolve_site(site)
        return RecordList([{"id": 5001, "stock": sid - 100}, {"id": 5002, "stock": 0}],
                          f"sites/{sid}/inventory", {"site": sid})  # fmt: skip

    def reconciliations(self, **filters: Any) -> RecordList:
        self._log("reconciliations", **filters)
        return RecordList(self.recs["reconciliations"], "reconciliations", filters)

    def reconciliation(self, id: Any) -> dict[str, Any]:
        raise AssertionError("reconciliation lists are full: no detail fetch expected")

    def webhooks(self) -> RecordList:
        return RecordList(load("tanda-kounta/webhooks.json"), "webhooks", {})

    def price_lists(self) -> RecordList:
        return RecordList(load("tanda-kounta/price_lists.json"), "price_lists", {})

    def people(self) -> RecordList:
        return RecordList(load("tanda-kounta/people.json"), "people", {})

    def addresses(self, **filters: Any) -> RecordList:
        self._log("addresses", **filters)
        return RecordList(load("tanda-kounta/addresses.json"), "addresses", filters)

    def payment_methods(self) -> RecordList:
        return RecordList([load("kounta-python/payment_method.json")], "payment_methods", {})


REQUIRED = {
    "company", "sites", "registers", "orders", "order", "lines", "payments", "options",
    "products", "product_prices", "categories", "customers", "staff", "shifts", "breaks",
    "taxes", "inventory", "reconciliations", "webhooks", "price_lists", "payment_methods",
    "status",
}  # fmt: skip

FILTERS: dict[str, dict[str, Any]] = {
    "order": {"id": next(iter(InMemoryClient().full_orders))},
    "addresses": {"site": 101},
    "shifts": {"date": "2013-04-29"},
    "breaks": {"since": "2013-04-01"},
}


@pytest.fixture
def client() -> InMemoryClient:
    return InMemoryClient()


def test_tables__resources_cover_every_magic_name():
    assert set(tables.RESOURCES) >= REQUIRED
    assert all(isinstance(d, str) and d for d in tables.RESOURCES.values())
    for name in tables.RESOURCES:
        assert tables.resource(name).kind in frames.KINDS


@pytest.mark.parametrize("name", sorted(tables.RESOURCES))
def test_tables__every_resource_fetches_a_typed_frame(client, name):
    df = tables.fetch(client, name, **FILTERS.get(name, {}))
    kind = df.attrs["kind"]
    assert kind == tables.resource(name).kind
    empty = frames.empty(kind, tz=client.tz)
    assert list(df.columns) == list(empty.columns)
    assert [str(t) for t in df.dtypes] == [str(t) for t in empty.dtypes]
    assert len(df) >= 1
    meta = json.loads(json.dumps(df.attrs))["meta"]
    assert meta["resource"] == name
    assert df.attrs["tz"] == "Australia/Sydney"


def test_tables__unknown_resource_lists_the_valid_ones(client):
    with pytest.raises(ConfigError, match="Unknown resource 'sales'") as info:
        tables.fetch(client, "sales")
    for name in ("orders", "lines", "reconciliations", "payment_methods"):
        assert name in str(info.value)


def test_tables__unknown_filter_is_a_config_error(client):
    with pytest.raises(ConfigError, match="taxes does not take since"):
        tables.fetch(client, "taxes", since="2026-05-01")
    with pytest.raises(ConfigError, match="limit must be a whole number"):
        tables.fetch(client, "orders", limit="many")


def test_tables__names_are_forgiving_about_case_and_dashes(client):
    assert tables.fetch(client, "Payment-Methods").attrs["kind"] == "payment_methods"


def test_tables__lines_fetch_each_full_order_sequentially(client):
    lines = tables.fetch(client, "lines", site="Café", status="complete")
    assert [c[0] for c in client.calls] == ["orders", "order", "order", "order"]
    assert client.calls[0][2] == {"site": "Café", "status": "complete"}
    tables.fetch(client, "orders", limit=60)
    assert client.calls[-1] == ("orders", (), {"status": "complete", "limit": 60})
    assert len(lines) == 9 and set(lines["site_id"]) == {101}
    meta = lines.attrs["meta"]
    assert meta["details"] == 3 and meta["endpoint"] == "orders"
    assert meta["filters"]["site"] == "Café"
    assert meta["stats"] == {"requests": 4}


def test_tables__limit_caps_detail_fetches_pages_and_rows(client):
    pays = tables.fetch(client, "payments", limit=2)
    assert client.calls[0] == ("orders", (), {"status": "complete", "limit": 2})
    assert sum(1 for c in client.calls if c[0] == "order") == 2
    assert len(pays) == 2 and pays.attrs["meta"]["filters"]["limit"] == 2


def test_tables__order_tables_four_frames(client):
    t = tables.fetch_order_tables(client, site=102)
    assert list(t) == ["orders", "lines", "payments", "options"]
    assert len(t["orders"]) == 3 and t["orders"]["lines_count"].tolist() == [3, 3, 3]
    assert all(df.attrs["meta"]["details"] == 3 for df in t.values())
    with pytest.raises(ConfigError, match="Orders do not take"):
        tables.fetch_order_tables(client, colour="red")


def test_tables__one_order_parts(client):
    oid = next(iter(client.full_orders))
    assert len(tables.fetch(client, "order", id=oid)) == 3
    assert len(tables.fetch(client, "order", id=oid, part="payments")) == 2
    row = tables.fetch(client, "order", id=oid, part="orders")
    assert row.loc[0, "id"] == oid and row.attrs["kind"] == "orders"
    by_sale = tables.fetch(client, "order", sale_number="000003")
    assert set(by_sale["order_id"]) == {client.order_by_sale("000003")["id_str"]}
    with pytest.raises(ConfigError, match="exactly one of id= or sale_number="):
        tables.fetch(client, "order")
    with pytest.raises(ConfigError, match="part must be one of"):
        tables.fetch(client, "order", id=oid, part="taxes")


def test_tables__product_prices_fetch_product_details(client):
    prices = tables.fetch(client, "product_prices")
    assert ("product", (5001,), {}) in client.calls
    assert prices[["site_id", "unit_price"]].values.tolist() == [[101, 4.0909], [102, 4.5]]
    cats = tables.fetch(client, "product_categories")
    assert cats["category_id"].tolist() == [7]


def test_tables__inventory_of_every_site_when_none_given(client):
    inv = tables.fetch(client, "inventory")
    assert inv["site_id"].tolist() == [101, 101, 102, 102]
    assert inv["stock"].tolist() == [1.0, 0.0, 2.0, 0.0]
    one = tables.fetch(client, "inventory", site="bar")
    assert one["site_id"].tolist() == [102, 102]
    assert one.attrs["meta"]["endpoint"] == "sites/102/inventory"


def test_tables__site_filled_in_when_the_api_leaves_it_out(client):
    shifts = tables.fetch(client, "shifts", date="2013-04-29", site="Café")
    assert shifts["site_id"].tolist() == [101]
    breaks = tables.fetch(client, "breaks", date="2013-04-29", site=101)
    assert breaks["site_id"].tolist() == [101, 101]


def test_tables__shifts_need_a_day(client):
    with pytest.raises(ConfigError, match="shifts need exactly one of date= or since="):
        tables.fetch(client, "shifts")
    assert not client.calls


def test_tables__site_is_a_scope_ignored_by_company_wide_tables(client):
    taxes = tables.fetch(client, "taxes", site=101)
    assert len(taxes) == 2 and taxes.attrs["meta"]["ignored"] == ["site"]
    assert "site" not in taxes.attrs["meta"]["filters"]
    regs = tables.fetch(client, "registers", site=101)
    assert ("registers", (), {"site": 101}) in client.calls
    assert "ignored" not in regs.attrs["meta"]


def test_tables__reconciliation_children_without_detail_fetch(client):
    takings = tables.fetch(client, "reconciliation_takings", since="2013-04-01")
    income = tables.fetch(client, "reconciliation_income", site=985)
    assert len(takings) == 2 and len(income) == 2
    assert takings["ledger_code"].tolist() == ["200", "601"]


def test_tables__none_filters_are_ignored(client):
    df = tables.fetch(client, "orders", site=None, since=None, status="any")
    assert client.calls[0] == ("orders", (), {"status": "any"})
    assert len(df) == 6 and isinstance(df, pd.DataFrame)
