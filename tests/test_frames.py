"""frames: records → typed DataFrames. Schemas, dtypes, empty == full, money to the cent, attrs."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from support_frames import BIG, full_order, rich_records

from kounta_nb import ConfigError, frames
from kounta_nb.frames.schemas import SCHEMAS

SYD = ZoneInfo("Australia/Sydney")

#: The dtype each schema column type must become (tz None). Issue 11 §4 / 12: ``date`` is a
#: local calendar date, lists are Arrow lists (NA when the record does not carry the field).
INT_LIST, STR_LIST = "list<item: int64>[pyarrow]", "list<item: string>[pyarrow]"
TYPE_DTYPES = {
    "id": "Int64", "int": "Int64", "len": "Int64",
    "bigid": "string", "str": "string", "join": "string",
    "float": "float64", "money": "float64", "price": "float64", "sum": "float64",
    "category": "category", "bool": "boolean",
    "timestamp": "datetime64[us, UTC]", "date": "date32[day][pyarrow]",
    "list:int": INT_LIST, "list:str": STR_LIST, "keys": STR_LIST,
}  # fmt: skip

#: Hand-written expectations for the columns analysts lean on, per kind.
EXPECTED_DTYPES: dict[str, dict[str, str]] = {
    "orders": {
        "id": "string", "sale_number": "string", "status": "category", "order_type": "category",
        "site_id": "Int64", "register_id": "Int64", "staff_id": "Int64", "customer_id": "Int64",
        "total": "float64", "total_tax": "float64", "paid": "float64", "tips": "float64",
        "deleted": "boolean", "is_refund": "boolean", "refunded_order_id": "string",
        "created_at": "datetime64[us, UTC]", "date": "date32[day][pyarrow]", "hour": "Int64",
        "weekday": "category",
    },
    "lines": {
        "order_id": "string", "id": "string", "number": "Int64", "product_id": "Int64",
        "site_id": "Int64", "quantity": "float64", "unit_price": "float64",
        "line_total_ex_tax": "float64", "line_total_tax": "float64", "line_total": "float64",
        "discount": "float64", "surcharge": "float64", "modifiers": INT_LIST,
        "created_at": "datetime64[us, UTC]",
    },
    "payments": {
        "order_id": "string", "id": "string", "method_id": "Int64", "method": "category",
        "amount": "float64", "ref": "string", "created_at": "datetime64[us, UTC]",
    },
    "options": {"order_id": "string", "line_number": "Int64", "product_id": "Int64",
                "name": "string", "unit_price": "float64", "option_set_ids": INT_LIST},
    "products": {
        "id": "Int64", "barcode": "string", "sku": "string", "number": "string",
        "unit_price": "float64", "cost_price": "float64", "stock": "float64",
        "is_modifier": "boolean", "tags": STR_LIST, "updated_at": "datetime64[us, UTC]",
    },
    "product_prices": {"product_id": "Int64", "site_id": "Int64", "unit_price": "float64"},
    "product_categories": {"product_id": "Int64", "category_id": "Int64",
                           "category_name": "string"},
    "sites": {"id": "Int64", "business_number": "string", "phone": "string",
              "shipping_address_postal_code": "string", "latitude": "float64",
              "products_count": "Int64", "products_updated_at": "datetime64[us, UTC]"},
    "registers": {"id": "Int64", "site_id": "Int64", "code": "string",
                  "assigned_to_device": "boolean"},
    "customers": {"id": "Int64", "reference_id": "string", "phone": "string",
                  "email_addresses": STR_LIST, "tags": STR_LIST,
                  "accepts_marketing": "boolean"},
    "staff": {"id": "Int64", "is_admin": "boolean", "permissions": STR_LIST,
              "sites_count": "Int64", "mobile": "string"},
    "shifts": {"staff_id": "Int64", "site_id": "Int64", "started_at": "datetime64[us, UTC]",
               "finished_at": "datetime64[us, UTC]", "breaks_count": "Int64",
               "worked_hours": "float64"},
    "breaks": {"staff_id": "Int64", "started_at": "datetime64[us, UTC]", "minutes": "float64"},
    "taxes": {"id": "Int64", "code": "string", "rate": "float64"},
    "categories": {"id": "Int64", "name": "string", "products_count": "Int64"},
    "inventory": {"product_id": "Int64", "site_id": "Int64", "stock": "float64"},
    "reconciliations": {"id": "string", "number": "Int64", "processed": "boolean",
                        "reconciliation_level": "category", "recorded": "float64",
                        "difference": "float64", "created_at": "datetime64[us, UTC]"},
    "reconciliation_takings": {"reconciliation_id": "string", "payment_method_id": "Int64",
                               "payment_method": "category", "ledger_code": "string",
                               "recorded": "float64", "counted": "float64",
                               "cash_in": "float64", "cash_out": "float64"},
    "reconciliation_income": {"reconciliation_id": "string", "ledger_code": "string",
                              "tax_id": "Int64", "net": "float64", "tax": "float64"},
    "webhooks": {"id": "Int64", "topic": "string", "filter_site_ids": INT_LIST,
                 "header_names": STR_LIST},
    "price_lists": {"id": "Int64", "parent_id": "Int64", "products_count": "Int64"},
    "price_list_products": {"price_list_id": "Int64", "product_id": "Int64",
                            "unit_price": "float64"},
    "payment_methods": {"id": "Int64", "name": "string", "ledger_code": "string"},
    "company": {"id": "Int64", "business_number": "string", "timezone": "string",
                "registers_limit": "Int64", "created_at": "datetime64[us, UTC]"},
    "site_status": {"site_id": "Int64", "online": "boolean", "registers_count": "Int64",
                    "registers_online": "Int64", "last_sale_at": "datetime64[us, UTC]"},
    "people": {"id": "Int64", "customer_id": "Int64", "staff_id": "Int64",
               "email_addresses": STR_LIST, "phone_numbers": STR_LIST,
               "updated_at": "datetime64[us, UTC]"},
    "addresses": {"id": "Int64", "people_id": "Int64", "lines": "string", "postal_code": "string"},
}  # fmt: skip

KINDS_REQUIRED = {
    "orders", "lines", "payments", "options", "products", "product_prices",
    "product_categories", "sites", "registers", "customers", "staff", "shifts", "breaks",
    "taxes", "categories", "inventory", "reconciliations", "reconciliation_takings",
    "reconciliation_income", "webhooks", "price_lists", "payment_methods", "company",
}  # fmt: skip


def dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {c: str(t) for c, t in df.dtypes.items()}


def test_frames__every_required_kind_has_a_schema():
    assert set(frames.KINDS) >= KINDS_REQUIRED
    assert set(EXPECTED_DTYPES) == set(frames.KINDS)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_frames__dtypes_follow_the_table(kind):
    df = frames.frame(kind, rich_records()[kind])
    assert len(df) >= 1
    got = dtypes(df)
    for column, dtype in EXPECTED_DTYPES[kind].items():
        assert got[column] == dtype, (kind, column)
    for col in SCHEMAS[kind].columns:
        key = f"list:{col.item}" if col.type == "list" else col.type
        assert got[col.name] == TYPE_DTYPES[key], (kind, col.name)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_frames__empty_has_the_same_columns_and_dtypes_as_full(kind):
    full = frames.frame(kind, rich_records()[kind], tz=SYD)
    for empty in (frames.frame(kind, [], tz=SYD), frames.empty(kind, tz=SYD),
                  frames.frame(kind, None, tz=SYD)):  # fmt: skip
        assert len(empty) == 0
        assert list(empty.columns) == list(full.columns)
        assert dtypes(empty) == dtypes(full)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_frames__missing_keys_give_na_not_keyerror(kind):
    df = frames.frame(kind, [{"unexpected": {"nested": [1, 2]}}])
    assert len(df) == 1
    assert list(df.columns) == [c.name for c in SCHEMAS[kind].columns]


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_frames__attrs_are_json_and_carry_meta(kind):
    meta = {"endpoint": f"/{kind}", "filters": {"site": 101, "since": datetime(2026, 5, 1)},
            "fetched_at": datetime(2026, 5, 29, 1, 2, 3), "stats": {"requests": 3}}  # fmt: skip
    df = frames.frame(kind, rich_records()[kind], meta=meta)
    blob = json.loads(json.dumps(df.attrs))
    assert blob["kind"] == kind
    assert blob["meta"]["endpoint"] == f"/{kind}"
    assert blob["meta"]["filters"]["since"] == "2026-05-01T00:00:00"


def test_frames__attrs_survive_common_operations():
    df = frames.frame("orders", [full_order(i) for i in range(3)], meta={"endpoint": "/orders"})
    for derived in (df.copy(), df[df["total"] > 0], df.head(2), df.sort_values("created_at"),
                    df.assign(x=1), pd.concat([df, df])):  # fmt: skip
        assert derived.attrs["meta"] == {"endpoint": "/orders"}
        json.dumps(derived.attrs)


def test_frames__meta_defaults_to_the_record_list_meta():
    class RecordList(list):
        meta = {"endpoint": "companies/162/orders", "fetched_at": datetime(2026, 5, 29)}

    recs = RecordList([full_order()])
    assert frames.frame("orders", recs).attrs["meta"]["endpoint"] == "companies/162/orders"
    tables = frames.order_tables(recs)
    assert all(t.attrs["meta"]["fetched_at"] == "2026-05-29T00:00:00" for t in tables.values())


def test_frames__meta_never_keeps_secret_looking_keys():
    df = frames.frame("sites", [], meta={"endpoint": "/sites", "access_token": "abc",
                                          "headers": {"Authorization": "Bearer abc"}})  # fmt: skip
    assert "abc" not in json.dumps(df.attrs)


def test_frames__webhook_header_values_are_never_copied():
    df = frames.frame("webhooks", rich_records()["webhooks"])
    assert df.loc[0, "header_names"] == ["Authorization"]
    assert df.loc[1, "header_names"] == []
    assert "1234567890abcdefghijklmnopq" not in df.to_string()
    assert df.loc[1, "filter_site_ids"] == [789, 3242]


def test_frames__unknown_kind_is_a_config_error_listing_kinds():
    with pytest.raises(ConfigError, match="orders") as info:
        frames.frame("order_lines", [])
    assert "reconciliation_takings" in str(info.value)


def test_frames__non_records_are_a_config_error():
    with pytest.raises(ConfigError, match="not a JSON object"):
        frames.frame("orders", [1, 2])
    with pytest.raises(ConfigError, match="list of records"):
        frames.frame("orders", "orders.json")
    with pytest.raises(ConfigError, match="time zone"):
        frames.frame("orders", [], tz="Mars/Olympus")


def test_frames__a_single_detail_record_is_one_row():
    assert len(frames.frame("orders", full_order())) == 1


# ------------------------------------------------------------------ money and ids


def test_frames__money_reconciles_to_the_cent():
    orders = [full_order(i, lines=[(i % 4 + 1, 3.3 + i / 7, 1.0 - (i % 3) * 0.05),
                                   (1, 0.95, 1.15), (2, 17.45, 1.0)]) for i in range(200)]  # fmt: skip
    t = frames.order_tables(orders, tz=SYD)
    o = t["orders"].set_index("id")
    lines = t["lines"].groupby("order_id")
    pays = t["payments"].groupby("order_id")["amount"].sum().round(2)
    # exact equality: every amount is a float rounded to cents, so sums round back exactly
    pd.testing.assert_series_equal(lines["line_total"].sum().round(2), o["total"],
                                   check_names=False, check_index_type=False)  # fmt: skip
    pd.testing.assert_series_equal(lines["line_total_tax"].sum().round(2), o["total_tax"],
                                   check_names=False, check_index_type=False)  # fmt: skip
    pd.testing.assert_series_equal(lines["line_total_ex_tax"].sum().round(2), o["total_ex_tax"],
                                   check_names=False, check_index_type=False)  # fmt: skip
    pd.testing.assert_series_equal(pays, o["paid"], check_names=False, check_index_type=False)
    for money in (t["lines"]["line_total"], t["orders"]["total"], t["payments"]["amount"]):
        assert np.array_equal(money.to_numpy(), np.round(money.to_numpy(), 2))


def test_frames__discount_and_surcharge_from_price_variation():
    lines = frames.frame("lines", full_order(lines=[(2, 11.0, 0.9), (1, 10.0, 1.15), (1, 5.0, 1)]))
    assert lines["line_total"].tolist() == [19.8, 11.5, 5.0]
    assert lines["discount"].tolist() == [2.2, 0.0, 0.0]
    assert lines["surcharge"].tolist() == [0.0, 1.5, 0.0]


def test_frames__free_line_is_a_full_discount():
    lines = frames.frame("lines", full_order(lines=[(2, 5.5, 0.0)]))
    assert lines.loc[0, "line_total"] == 0.0 and lines.loc[0, "discount"] == 11.0


def test_frames__total_tax_missing_from_detail_is_sum_of_line_taxes():
    order = full_order()
    expected = order.pop("total_tax")
    df = frames.frame("orders", order)
    assert df.loc[0, "total_tax"] == expected


def test_frames__id_str_preferred_and_bare_big_ids_exact():
    order = full_order()
    order["id_str"] = "9007199254753336"  # deliberately differs from id: id_str wins
    t = frames.order_tables([order])
    assert t["orders"].loc[0, "id"] == "9007199254753336"
    assert set(t["lines"]["order_id"]) == {"9007199254753336"}
    bare = {k: v for k, v in full_order().items() if k != "id_str"}
    assert frames.frame("orders", bare).loc[0, "id"] == str(BIG)  # no float round-trip


def test_frames__foreign_keys_match_their_targets_dtypes():
    t = frames.order_tables([full_order()])
    recs = rich_records()
    products = frames.frame("products", recs["products"])
    sites = frames.frame("sites", recs["sites"])
    for child in ("lines", "payments", "options"):
        assert t[child]["order_id"].dtype == t["orders"]["id"].dtype
        assert t[child]["site_id"].dtype == sites["id"].dtype
    assert t["lines"]["product_id"].dtype == products["id"].dtype
    for col in ("site_id", "staff_id", "customer_id", "register_id"):
        assert t["orders"][col].dtype == "Int64"
    assert set(t["lines"]["order_id"]) <= set(t["orders"]["id"])


def test_frames__order_tables_keys_and_joins():
    t = frames.order_tables([full_order(i) for i in range(5)])
    assert list(t) == ["orders", "lines", "payments", "options"]
    assert len(t["orders"]) == 5 and len(t["lines"]) == 15 and len(t["payments"]) == 10
    opt = t["options"].iloc[0]
    assert (opt["name"], opt["option_set"], opt["option_set_ids"]) == ("Oat milk", "Milk", [31])
    merged = t["lines"].merge(t["orders"][["id", "status"]], left_on="order_id", right_on="id")
    assert len(merged) == 15


# ------------------------------------------------------------------ time


def test_frames__timestamps_convert_to_the_company_zone():
    order = full_order(created=datetime(2026, 4, 4, 23, 30, tzinfo=ZoneInfo("Australia/Sydney")))
    utc = frames.frame("orders", order)
    local = frames.frame("orders", order, tz="Australia/Sydney")
    assert str(utc["created_at"].dtype) == "datetime64[us, UTC]"
    assert str(local["created_at"].dtype) == "datetime64[us, Australia/Sydney]"
    assert utc.loc[0, "created_at"] == local.loc[0, "created_at"]
    # the local day, hour and weekday are the same with or without tz (the record's own offset)
    for df in (utc, local):
        assert df.loc[0, "date"] == date(2026, 4, 4)  # a local calendar date (issue 11 §4)
        assert df.loc[0, "hour"] == 23
        assert df.loc[0, "weekday"] == "Saturday"
    assert local.attrs["tz"] == "Australia/Sydney"


def test_frames__weekday_is_ordered_monday_first():
    orders = [full_order(created=datetime(2026, 5, 25, 9, tzinfo=SYD) + timedelta(days=d))
              for d in range(7)]  # fmt: skip
    wd = frames.frame("orders", orders)["weekday"]
    assert wd.cat.ordered
    assert list(wd.cat.categories) == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                                       "Saturday", "Sunday"]  # fmt: skip
    assert wd.iloc[0] == "Monday"


def test_frames__shift_hours_and_breaks():
    recs = rich_records()["shifts"]
    shifts = frames.frame("shifts", recs)
    breaks = frames.frame("breaks", recs)
    assert len(breaks) == 2 and breaks["staff_id"].tolist() == [9022, 9022]
    assert breaks["minutes"].sum().round(2) == shifts.loc[0, "break_minutes"]
    span = (shifts.loc[0, "finished_at"] - shifts.loc[0, "started_at"]).total_seconds() / 3600
    assert shifts.loc[0, "worked_hours"] == pytest.approx(
        span - shifts.loc[0, "break_minutes"] / 60, abs=1e-3
    )
    open_shift = frames.frame("shifts", [recs[0] | {"finished_at": None}])
    assert np.isnan(open_shift.loc[0, "worked_hours"])


def test_frames__product_prices_per_site():
    pp = frames.frame("product_prices", rich_records()["products"])
    assert pp[["product_id", "site_id", "unit_price"]].values.tolist() == [
        [5001, 101, 4.0909],
        [5001, 102, 4.5],
    ]
    cats = frames.frame("product_categories", rich_records()["products"])
    assert cats[["product_id", "category_id"]].values.tolist() == [[5001, 7]]


def test_frames__absent_lists_are_na_present_empty_lists_stay_empty():
    # issue 11 §4: a field the record does not carry is missing, not an (invented) empty list
    df = frames.frame("customers", [{"id": 1, "tags": None}, {"id": 2}, {"id": 3, "tags": ["a"]},
                                    {"id": 4, "tags": []}])  # fmt: skip
    assert df["tags"].isna().tolist() == [True, True, False, False]
    assert df.loc[2, "tags"] == ["a"] and df.loc[3, "tags"] == []
    same_len = frames.frame("lines", [{"modifiers": [1, 2]}, {"modifiers": [3, 4]}])
    assert same_len["modifiers"].tolist() == [[1, 2], [3, 4]]
    odd = frames.frame("lines", [{"modifiers": [1, None, "7", 2.5, True]}])
    assert odd.loc[0, "modifiers"] == [1, 7]  # None and non-ints dropped, digit text read


def test_frames__abridged_list_items_give_na_lists_full_records_give_lists():
    full = rich_records()
    products = frames.frame("products", [{"id": 1, "name": "Latte", "code": "LT"},
                                         *full["products"]])  # fmt: skip
    for col in ("category_ids", "tax_ids", "site_ids", "tags"):
        assert products[col].isna().tolist()[0] is True, col
        assert isinstance(products.loc[1, col], list), col
    assert products.loc[1, "category_ids"] == [7]
    customers = frames.frame("customers", [{"id": 9, "first_name": "Ann",
                                            "primary_email_address": "a@x.test"},
                                           *full["customers"]])  # fmt: skip
    assert pd.isna(customers.loc[0, "email_addresses"])
    assert isinstance(customers.loc[1, "email_addresses"], list)


def test_frames__describe_lists_every_column():
    table = frames.describe()
    assert set(table["kind"]) == set(frames.KINDS)
    assert len(table) == sum(len(s.columns) for s in SCHEMAS.values())
    undocumented = table[table["description"].isna()]
    assert undocumented.empty, undocumented[["kind", "column"]].values.tolist()
    assert (table["description"].str.len() > 5).all()
    date_row = table[(table["kind"] == "orders") & (table["column"] == "date")].iloc[0]
    assert "local calendar day" in date_row["description"]
    assert date_row["dtype"] == "date32[day][pyarrow]"


def test_frames__columns_read_identity_time_and_money_first():
    # issue 11 §4: what a person wants first, all-NA-on-list-items and join-only columns last
    orders = frames.frame("orders", rich_records()["orders"])
    assert list(orders.columns[:4]) == ["sale_number", "created_at", "site_id", "total"]
    assert list(orders.columns[-2:]) == ["id", "company_id"]
    lines = frames.frame("lines", full_order())
    assert list(lines.columns[:4]) == ["order_id", "number", "created_at", "site_id"]
    assert lines.columns[-1] == "line_id"
    for kind in ("products", "sites", "registers", "customers", "taxes", "categories"):
        assert frames.empty(kind).columns[-1] == "company_id", kind


def test_frames__site_status_counts_registers_online():
    df = frames.frame("site_status", rich_records()["site_status"])
    assert df.loc[0, "registers_count"] == 2 and df.loc[0, "registers_online"] == 1
    assert df.loc[0, "site_id"] == 101 and df.loc[0, "site_code"] == "CF"


ODD = [
    {"id": "", "id_str": None, "product": "not a mapping", "method": [1, 2], "site": None,
     "taxes": [None, {"id": 1}, "x"], "lines": [{"product": {"id": "7"}, "taxes": "GST"}]},
    {"unexpected": True, "customer": {"id": None}, "staff_member": {"id": ""}},
]  # fmt: skip


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_frames__column_wise_extraction_matches_the_row_by_row_oracle(kind):
    from support_frames import oracle_values

    from kounta_nb.frames import _extract

    schema = SCHEMAS[kind]
    records = [*rich_records()[kind], *ODD, full_order(3)]
    levels = _extract.levels_of(records, schema)
    for col in schema.columns:
        if not col.derived:
            assert _extract.column_values(col, levels) == oracle_values(col, levels), col.name


@pytest.mark.parametrize("kind", sorted(k for k, s in SCHEMAS.items()
                                         if any(c.type in ("list", "sum") for c in s.columns)))
def test_frames__ragged_list_and_sum_columns_match_the_row_by_row_oracle(kind):
    # list/sum columns are built from all items at once; the oracle converts row by row
    from support_frames import oracle_values

    from kounta_nb.frames import _convert, _extract

    schema = SCHEMAS[kind]
    records = [*rich_records()[kind], *ODD, full_order(3),
               {"taxes": [{"id": "12", "rate": "0.1"}, {"id": None, "rate": 0.29}, 5]}]  # fmt: skip
    levels = _extract.levels_of(records, schema)
    df = frames.frame(kind, records)
    for col in schema.columns:
        if col.type == "list":
            want = _convert.lists(oracle_values(col, levels), col.item)
            assert df[col.name].tolist() == list(want), col.name
        elif col.type == "sum":
            want = [_convert._sum(v) for v in oracle_values(col, levels)]
            np.testing.assert_allclose(df[col.name].to_numpy(), np.round(want, 6), err_msg=col.name)


def test_frames__concat_keeps_categoricals_and_dtypes():
    day1 = frames.frame("orders", [full_order(1) | {"order_type": "Dine in"}], meta={"day": 1})
    day2 = frames.frame(
        "orders", [full_order(2) | {"order_type": "Delivery", "status": "COMPLETED"}]
    )
    plain = pd.concat([day1, day2], ignore_index=True)
    assert not isinstance(plain["order_type"].dtype, pd.CategoricalDtype)  # pandas alone
    both = frames.concat([day1, day2])
    assert dtypes(both) == dtypes(day1)
    assert both["order_type"].tolist() == ["Dine in", "Delivery"]
    assert list(both["status"].cat.categories)[:6] == list(frames.ORDER_STATUSES)
    assert both.attrs["meta"] == {"day": 1}
    weekday = both["weekday"]
    assert weekday.cat.ordered
    with pytest.raises(ConfigError, match="columns differ"):
        frames.concat([day1, frames.empty("lines")])
    with pytest.raises(ConfigError, match="at least one"):
        frames.concat([])
