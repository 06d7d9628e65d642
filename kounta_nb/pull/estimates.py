"""Totals by group from a uniform random sample of orders, with finite-population intervals.

A pull fetches order details in a seeded random order, so at any moment the orders whose details
are known form a simple random sample (without replacement) of size ``n`` from the ``N`` orders the
abridged list returned. The list also gives every order's ``total`` for free; it is used as the
auxiliary variable ``x`` of a ratio estimator, which is much tighter than ``N * mean`` because line
revenue follows the order total closely.

- Groups known for every listed order (hour, weekday, day, site) are *post-strata*: each has a known
  size ``N_g`` and total ``X_g``, and is estimated with its own ratio ``R_g = Σy/Σx`` over the
  ``n_g`` sampled orders in it, variance ``N_g² (1 - n_g/N_g) s_d² / n_g``.
- Groups only visible in the details (product, category) are *domains*: ``Ŷ_g = X · Σ_s y_g / Σ_s x``
  with variance ``N² (1 - n/N) s_d² / n`` where ``d = y_g - R x``.

When ``n == N`` every finite-population correction is zero: the estimates are the exact totals and
the intervals have zero width. These are pure functions of their inputs (tests call them offline).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from statistics import NormalDist

import numpy as np
import pandas as pd

from ..errors import ConfigError

__all__ = ["COLUMNS", "estimate_totals", "t_quantile"]

#: Columns of every estimate table, in order.
COLUMNS = ["estimate", "lo", "hi", "se", "sampled", "exact"]


def t_quantile(confidence: float, df: float) -> float:
    """Two-sided Student-t critical value (Cornish-Fisher expansion; exact enough for df >= 3)."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must be between 0 and 1 (exclusive), not {confidence!r}.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    if not math.isfinite(df) or df > 1e6:
        return z
    df = max(df, 1.0)
    z3, z5 = z**3, z**5
    return z + (z3 + z) / (4 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96 * df**2)


def estimate_totals(
    values: pd.DataFrame,
    population: pd.DataFrame,
    sample_ids: Iterable[int],
    *,
    groups_known: bool,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Estimate the population total of ``y`` in every group from a simple random sample.

    ``population``: one row per listed order, indexed by order id, with column ``x`` (the auxiliary
    total from the list) and, when ``groups_known``, column ``group``.
    ``values``: rows ``(order_id, group, y)`` for sampled orders (several rows per order and group
    are summed; rows of orders outside the sample are ignored).
    ``sample_ids``: the sampled order ids (a subset of the population; orders without rows count
    as zero). Returns one row per group with :data:`COLUMNS`, sorted by estimate (largest first).
    """
    ids = pd.Index(pd.unique(pd.Series(list(sample_ids), dtype=object)))
    ids = ids[ids.isin(population.index)]
    big_n = len(population)
    n = len(ids)
    if big_n == 0 or n == 0:
        return _empty()
    x_pop = population["x"].astype(float).fillna(0.0)
    x_s = x_pop.reindex(ids)
    vals = values[values["order_id"].isin(ids)]
    # one y per (order, group): several lines of one product in one order add up
    cells = vals.groupby(["order_id", "group"], sort=False)["y"].sum().reset_index()
    tcrit = t_quantile(confidence, n - 1)
    rows: dict[object, dict[str, object]] = {}
    if groups_known:
        _post_strata(rows, cells, population["group"], x_pop, ids, confidence)
    else:
        _domains(rows, cells, x_pop, x_s, n, big_n, tcrit)
    if not rows:
        return _empty()
    table = pd.DataFrame.from_dict(rows, orient="index")[COLUMNS]
    table["sampled"] = table["sampled"].astype("int64")
    table["exact"] = table["exact"].astype(bool)
    table = table.sort_values("estimate", ascending=False, kind="stable")
    table.attrs.update({"n": n, "N": big_n, "confidence": confidence})
    return table


def _domains(rows: dict[object, dict[str, object]], cells: pd.DataFrame, x_pop: pd.Series,
             x_s: pd.Series, n: int, big_n: int, tcrit: float) -> None:
    """Ratio estimator per domain, with sums only over the non-zero cells (products are sparse)."""
    x_total = float(x_pop.sum())
    sx, sxx = float(x_s.sum()), float((x_s**2).sum())
    fpc = max(0.0, 1.0 - n / big_n)
    cells = cells.assign(x=x_s.reindex(cells["order_id"]).to_numpy())
    cells["yy"] = cells["y"] ** 2
    cells["yx"] = cells["y"] * cells["x"]
    cells["present"] = (cells["y"] != 0).astype("int64")
    agg = cells.groupby("group", sort=False)[["y", "yy", "yx", "present"]].sum()
    for g, sy, syy, syx, present in zip(agg.index, agg["y"], agg["yy"], agg["yx"], agg["present"], strict=True):
        if abs(sx) > 1e-9:
            r = sy / sx
            est = r * x_total
            ss = syy - 2 * r * syx + r * r * sxx  # Σ (y - r x)² over the whole sample
        else:
            est = big_n * sy / n
            ss = syy - sy * sy / n
        s2 = max(ss, 0.0) / (n - 1) if n > 1 else 0.0
        var = big_n**2 * fpc * s2 / n
        rows[g] = _row(est, var, tcrit, int(present), n == big_n)


def _post_strata(rows: dict[object, dict[str, object]], cells: pd.DataFrame, gpop: pd.Series,
                 x_pop: pd.Series, ids: pd.Index, confidence: float) -> None:
    """Separate ratio estimator per post-stratum, jackknife variance (better small-n coverage)."""
    y_order = cells.groupby("order_id", sort=False)["y"].sum().reindex(ids, fill_value=0.0)
    g_s = gpop.reindex(ids).to_numpy()
    y_all = y_order.to_numpy()
    x_all = x_pop.reindex(ids).to_numpy()
    r_all = _ratio(y_all, x_all)
    sizes = gpop.value_counts()
    xtot = x_pop.groupby(gpop).sum()
    codes, uniques = pd.factorize(g_s)
    positions = {g: np.flatnonzero(codes == k) for k, g in enumerate(uniques)}
    for g in pd.unique(gpop.to_numpy()):
        big_ng, x_g = int(sizes[g]), float(xtot[g])
        where = positions.get(g, np.array([], dtype=int))
        n_g = len(where)
        y, x = y_all[where], x_all[where]
        fpc = max(0.0, 1.0 - n_g / big_ng)
        r = _ratio(y, x) if n_g else None
        if n_g == big_ng:
            est, var = float(y.sum()), 0.0
        elif n_g >= 3 and r is not None:
            est = r * x_g
            var = x_g**2 * fpc * _jackknife_ratio_var(y, x)
        elif n_g >= 2:
            est = big_ng * float(y.mean())
            var = big_ng**2 * fpc * float(y.var(ddof=1)) / n_g
        else:
            # too few sampled orders in the group: the pooled ratio and its residual spread
            est = r_all * x_g if r_all is not None else 0.0
            var = big_ng**2 * fpc * _resid_var(y_all, x_all, r_all) / max(n_g, 1)
        tcrit = t_quantile(confidence, max(n_g - 1, 1))
        rows[g] = _row(est, var, tcrit, n_g, n_g == big_ng)


def _jackknife_ratio_var(y: np.ndarray, x: np.ndarray) -> float:
    sy, sx, n = float(y.sum()), float(x.sum()), len(y)
    denom = sx - x
    if np.any(np.abs(denom) < 1e-9):
        return _resid_var(y, x, sy / sx) / (n * (sx / n) ** 2)
    r_j = (sy - y) / denom
    return float((n - 1) / n * ((r_j - r_j.mean()) ** 2).sum())


def _ratio(y: np.ndarray, x: np.ndarray) -> float | None:
    sx = float(x.sum())
    return float(y.sum()) / sx if abs(sx) > 1e-9 else None


def _resid_var(y: np.ndarray, x: np.ndarray, r: float | None) -> float:
    if len(y) < 2:
        return 0.0
    d = y - r * x if r is not None else y - y.mean()
    return float((d**2).sum() / (len(y) - 1))


def _row(est: float, var: float, tcrit: float, sampled: int, exact: bool) -> dict[str, object]:
    se = math.sqrt(max(var, 0.0))
    half = 0.0 if exact else tcrit * se
    return {
        "estimate": round(est, 2),
        "lo": round(est - half, 2),
        "hi": round(est + half, 2),
        "se": 0.0 if exact else se,
        "sampled": sampled,
        "exact": exact,
    }


def _empty() -> pd.DataFrame:
    table = pd.DataFrame({c: pd.Series(dtype="float64") for c in COLUMNS[:4]})
    table["sampled"] = pd.Series(dtype="int64")
    table["exact"] = pd.Series(dtype=bool)
    return table

