"""Helpers for the dataset tests: full orders from the sandbox's business model (no HTTP), and
comparisons of a dataset table with the frames built from the same orders."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from support_sandbox import SANDBOX_NOW

from kounta_nb.sandbox.business import Business, Clock

#: The days the unit tests export: across the April/May month boundary of the test business.
FIRST_DAY, LAST_DAY = date(2026, 4, 29), date(2026, 5, 2)
#: The row key of each table (orders by id; child rows by their order and number).
KEYS = {
    "orders": ["id"],
    "listed": ["id"],
    "lines": ["order_id", "number"],
    "payments": ["order_id", "number"],
    "options": ["order_id", "line_number", "product_id"],
}


def business() -> Business:
    return Business(seed=7, months=1, clock=Clock(SANDBOX_NOW))


def orders_of(biz: Business, company_id: int, first: date = FIRST_DAY, last: date = LAST_DAY,
              sites: list[int] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Full orders of ``company_id`` created on ``first`` … ``last`` (local days), by site and day."""
    company = biz.companies[company_id]
    out: list[dict[str, Any]] = []
    for site in sites or list(company.sites):
        day = first
        while day <= last:
            out.extend(company.orders_on(site, day))
            day += timedelta(days=1)
    return out


def chunks(records: list[Any], size: int = 500) -> list[list[Any]]:
    return [records[i : i + size] for i in range(0, len(records), size)]


def sorted_rows(df: pd.DataFrame, table: str) -> pd.DataFrame:
    return df.sort_values(KEYS[table]).reset_index(drop=True)


def assert_same_rows(got: pd.DataFrame, expected: pd.DataFrame, table: str, company_id: int) -> None:
    """``got`` (read from the dataset) equals ``expected`` (frames) row for row, dtypes included;
    ``company_id`` (from the partition) is the company's on every row, ``month`` is the local month."""
    assert (got["company_id"] == company_id).all()
    created = expected["date"] if "date" in expected.columns else None
    got = sorted_rows(got, table)
    exp = sorted_rows(expected, table)
    if created is not None:
        months = exp["date"].map(lambda d: f"{d.year:04d}-{d.month:02d}").astype("string")
        pd.testing.assert_series_equal(got["month"], months, check_names=False)
    if "company_id" in exp.columns:
        exp = exp.assign(company_id=pd.array([company_id] * len(exp), dtype="Int64"))
    pd.testing.assert_frame_equal(got[list(exp.columns)], exp)
