"""Derived columns: computed from the typed columns (and the raw records) after extraction."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from ..dates import parse_timestamp
from ..vocab import WEEKDAYS
from ._convert import TS_UNIT, strings, to_bool, to_float

__all__ = ["DERIVE", "Derive"]

#: The dtype of ``date`` columns: a calendar day, no time and no zone (``date32`` in Parquet).
DATE_DTYPE = pd.ArrowDtype(pa.date32())


def local_dates(local: pd.DatetimeIndex) -> Any:
    """Naive local wall-clock times → their calendar days as ``date32[day][pyarrow]``."""
    arr = pa.array(local.as_unit(TS_UNIT), type=pa.timestamp(TS_UNIT))
    return DATE_DTYPE.__from_arrow__(arr.cast(pa.date32(), safe=False))


def _wall_clock(raw: list[Any]) -> pd.DatetimeIndex:
    """The local wall-clock time exactly as written in each timestamp (its own offset)."""
    clean = [v[:19] if isinstance(v, str) and v else None for v in raw]
    if not clean:
        return pd.DatetimeIndex([], dtype=f"datetime64[{TS_UNIT}]")
    idx = pd.to_datetime(clean, format="ISO8601", errors="coerce")
    return pd.DatetimeIndex(idx).as_unit(TS_UNIT)


def _derive_orders(
    df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any
) -> None:
    missing_tax = df["total_tax"].isna().to_numpy()
    if missing_tax.any():
        # The detail may lack total_tax (docs/api.md §5): it is the sum of the line taxes.
        fill = df["total_tax"].to_numpy(copy=True)
        for i in np.flatnonzero(missing_tax):
            lines = records[i].get("lines")
            if isinstance(lines, list) and lines:
                taxes = [
                    to_float(ln.get("line_total_tax")) for ln in lines if isinstance(ln, Mapping)
                ]
                if taxes and not any(math.isnan(x) for x in taxes):
                    fill[i] = round(math.fsum(taxes), 2)
        df["total_tax"] = fill
    df["total_ex_tax"] = (df["total"] - df["total_tax"]).round(2)
    if tz is not None:
        local = pd.DatetimeIndex(df["created_at"]).tz_localize(None)
    else:
        local = _wall_clock(raw["created_at"])
    df["date"] = local_dates(local)
    missing = np.asarray(local.isna())
    hours = np.asarray(local.hour, dtype="float64")  # NaT → NaN
    df["hour"] = pd.array(np.where(missing, np.nan, hours), dtype="Int64")
    days = np.asarray(local.day_of_week, dtype="float64")  # NaT → NaN
    codes = np.where(missing, -1, np.nan_to_num(days)).astype(np.int64)
    df["weekday"] = pd.Categorical.from_codes(codes, categories=list(WEEKDAYS), ordered=True)


def _derive_lines(df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any) -> None:
    ex, tax = df["line_total_ex_tax"].to_numpy(), df["line_total_tax"].to_numpy()
    pv = df["price_variation"].fillna(1.0).to_numpy()
    total = ex + tax
    unit = df["unit_price"].to_numpy() + np.nan_to_num(df["unit_tax"].to_numpy())
    listed = df["quantity"].to_numpy() * unit  # before any price variation
    # Request bodies and old fixtures carry no line totals: rebuild them from the unit figures.
    gap = np.isnan(total)
    if gap.any():
        total = np.where(gap, listed * pv, total)
    total = np.round(total, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # from the API's own line total where possible; a 100 % discount (pv 0) needs the list price
        before = np.where(pv > 0, total / pv, listed)
    df["line_total"] = total
    df["discount"] = np.round(np.where(pv < 1, before - total, 0.0), 2)
    df["surcharge"] = np.round(np.where(pv > 1, total - before, 0.0), 2)
    for name in ("discount", "surcharge"):
        df.loc[np.isnan(total), name] = np.nan


def _minutes(start: pd.Series, end: pd.Series) -> np.ndarray:
    minutes: np.ndarray = (end - start).dt.total_seconds().to_numpy(
        dtype="float64", na_value=np.nan
    )
    return minutes / 60.0


def _derive_shifts(
    df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any
) -> None:
    mins = np.zeros(len(df))
    for i, rec in enumerate(records):
        for brk in rec.get("breaks") or ():
            if isinstance(brk, Mapping):
                a = parse_timestamp(brk.get("started_at"), naive=UTC)
                b = parse_timestamp(brk.get("finished_at"), naive=UTC)
                if a is not None and b is not None:
                    mins[i] += (b - a).total_seconds() / 60.0
    df["break_minutes"] = np.round(mins, 2)
    worked = _minutes(df["started_at"], df["finished_at"]) - mins
    df["worked_hours"] = np.round(worked / 60.0, 4)


def _derive_breaks(
    df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any
) -> None:
    df["minutes"] = np.round(_minutes(df["started_at"], df["finished_at"]), 2)


def _derive_reconciliations(
    df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any
) -> None:
    level = df["reconciliation_level"]
    legacy = df["register_level_reconciliation"]
    if level.isna().any() and legacy.notna().any():
        # Older records say register_level_reconciliation instead of reconciliation_level.
        guess = legacy.map({True: "register", False: "site"}, na_action="ignore")
        df["reconciliation_level"] = level.fillna(guess.astype(level.dtype))
    for name in ("recorded", "counted", "cash_in", "cash_out"):
        df[name] = df[name].round(2)
    df["difference"] = (df["counted"] - df["recorded"]).round(2)


def _derive_difference(
    df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any
) -> None:
    df["difference"] = (df["counted"] - df["recorded"]).round(2)


def _derive_gross(df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any) -> None:
    df["gross"] = (df["net"] + df["tax"]).round(2)


def _derive_options(
    df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any
) -> None:
    """The name of the option set the chosen option belongs to (else the first set listed)."""
    names: list[Any] = []
    for rec in records:
        pid = rec.get("product_id")
        first = found = None
        for candidate in rec.get("option_sets") or ():
            if type(candidate) is not dict:
                continue
            if first is None:
                first = candidate
            for option in candidate.get("options") or ():
                if type(option) is dict and option.get("product_id") == pid:
                    found = candidate
                    break
            if found is not None:
                break
        chosen = found if found is not None else first
        names.append(chosen.get("name") if chosen is not None else None)
    df["option_set"] = strings(names)


def _derive_site_status(
    df: pd.DataFrame, raw: dict[str, list[Any]], records: list[Any], tz: Any
) -> None:
    counts = [
        sum(
            1
            for r in rec.get("registers") or ()
            if isinstance(r, Mapping) and to_bool(r.get("online"))
        )
        if isinstance(rec.get("registers"), list)
        else None
        for rec in records
    ]
    df["registers_online"] = pd.array(counts, dtype="Int64")


Derive = Callable[[pd.DataFrame, dict[str, list[Any]], list[Any], Any], None]
DERIVE: dict[str, Derive] = {
    "orders": _derive_orders,
    "lines": _derive_lines,
    "shifts": _derive_shifts,
    "breaks": _derive_breaks,
    "reconciliations": _derive_reconciliations,
    "reconciliation_takings": _derive_difference,
    "reconciliation_income": _derive_gross,
    "site_status": _derive_site_status,
    "options": _derive_options,
}

