"""frames on the sandbox's synthetic business (its data layer, no HTTP): full days of orders
convert with every line adding up to its order's total, to the cent."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from support_sandbox import SANDBOX_NOW

from kounta_nb import frames
from kounta_nb.sandbox.business import Business, Clock


@pytest.fixture(scope="module")
def business() -> Business:
    return Business(seed=7, months=1, clock=Clock(SANDBOX_NOW))


def _day_orders(company, site_id, days_back=1):
    day = company.last_day() - timedelta(days=days_back)
    return day, company.orders_on(site_id, day)


def test_sandbox__a_full_day_of_orders_adds_up_to_the_cent(business):
    checked = 0
    for company in business.companies.values():
        for site_id in company.sites:
            day, orders = _day_orders(company, site_id)
            assert orders, (company.id, site_id)
            t = frames.order_tables(orders, tz=company.tz)
            o = t["orders"].set_index("id")
            assert len(o) == len(orders) and o.index.is_unique
            lines = t["lines"].groupby("order_id")
            for column, target in (("line_total", "total"), ("line_total_tax", "total_tax"),
                                   ("line_total_ex_tax", "total_ex_tax")):  # fmt: skip
                sums = lines[column].sum().round(2).reindex(o.index, fill_value=0.0)
                bad = sums[sums != o[target]]
                assert bad.empty, (column, bad.head())
            paid = t["payments"].groupby("order_id")["amount"].sum().round(2)
            paid = paid.reindex(o.index, fill_value=0.0)
            assert (paid == o["paid"]).all()
            # the local day of every order is the day asked for, in the company's zone
            assert (o["date"] == day).all()  # a local calendar date (date32)
            assert str(o["created_at"].dt.tz) == str(company.tz)
            checked += len(o)
    assert checked > 100


def test_sandbox__64_bit_ids_exact_and_types_match_empty(business):
    company = next(iter(business.companies.values()))
    site_id = next(iter(company.sites))
    _, orders = _day_orders(company, site_id, 2)
    t = frames.order_tables(orders, tz=company.tz)
    assert t["orders"]["id"].tolist() == [o["id_str"] for o in orders]
    assert all(int(i) > 2**53 for i in t["orders"]["id"])
    assert t["lines"]["id"].tolist() == [ln["id_str"] for o in orders for ln in o["lines"]]
    for kind, df in t.items():
        empty = frames.empty(kind, tz=company.tz)
        assert [str(x) for x in df.dtypes] == [str(x) for x in empty.dtypes], kind
    opts = t["options"]
    assert len(opts) and opts["option_set"].notna().all()
    assert set(opts["order_id"]) <= set(t["orders"]["id"])


def test_sandbox__every_catalogue_kind_converts(business):
    company = next(iter(business.companies.values()))
    site_id = next(iter(company.sites))
    day = company.last_day() - timedelta(days=1)
    cases = {
        "company": [company.record],
        "sites": list(company.sites.values()),
        "registers": list(company.registers.values()),
        "products": list(company.products.values()),
        "product_prices": list(company.products.values()),
        "product_categories": list(company.products.values()),
        "categories": list(company.categories.values()),
        "customers": list(company.customers.values()),
        "staff": list(company.staff.values()),
        "taxes": list(company.taxes.values()),
        "price_lists": list(company.price_lists.values()),
        "payment_methods": list(company.payment_methods.values()),
        "webhooks": list(company.webhooks.values()),
        "shifts": company.shifts_on(site_id, day),
        "breaks": company.shifts_on(site_id, day),
        "inventory": company.inventory(site_id),
        "reconciliations": company.reconciliations_on(site_id, day),
        "reconciliation_takings": company.reconciliations_on(site_id, day),
        "reconciliation_income": company.reconciliations_on(site_id, day),
    }
    for kind, records in cases.items():
        df = frames.frame(kind, records, tz=company.tz)
        assert len(df) > 0, kind
        empty = frames.empty(kind, tz=company.tz)
        assert [str(x) for x in df.dtypes] == [str(x) for x in empty.dtypes], kind
    prices = frames.frame("product_prices", cases["product_prices"])
    assert prices["site_id"].isin(list(company.sites)).all()
    assert np.array_equal(prices["unit_price"], prices["unit_price"].round(4))
    recon = frames.frame("reconciliations", cases["reconciliations"])
    takings = frames.frame("reconciliation_takings", cases["reconciliations"])
    by_rec = takings.groupby("reconciliation_id")["recorded"].sum().round(2)
    assert (by_rec.reindex(recon["id"]).to_numpy() == recon["recorded"].to_numpy()).all()
