"""Sample estimates: pure functions, checked offline against a fully known population.

The coverage check draws 200 seeded samples exactly the way a pull orders its detail fetches
(``rank_key``), so it tests the engine's sampling together with the estimator.
"""

from __future__ import annotations

import functools
import math
import random

import numpy as np
import pandas as pd
import pytest

from kounta_nb.errors import ConfigError
from kounta_nb.pull.analysis import line_value
from kounta_nb.pull.estimates import COLUMNS, estimate_totals, t_quantile
from kounta_nb.pull.scheduler import rank_key

SEEDS = 200


@functools.lru_cache(maxsize=4)
def _population(n_orders: int = 1500, seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A venue's orders: Zipf-popular products, 1-6 lines, prices by product, hours and sites."""
    rng = random.Random(seed)
    products = [(f"P{i:02d}", round(rng.uniform(3.5, 28.0), 2)) for i in range(30)]
    weights = [1.0 / (i + 1) ** 0.9 for i in range(30)]
    rows, lines = [], []
    for k in range(n_orders):
        oid = 10**17 + 7919 * k
        hour = rng.choices(range(7, 23), weights=[1, 3, 5, 4, 3, 6, 8, 5, 3, 2, 3, 6, 8, 7, 4, 2])[0]
        site = rng.choices([1, 2, 3], weights=[5, 3, 2])[0]
        total = 0.0
        for _ in range(rng.choices(range(1, 7), weights=[30, 30, 18, 10, 7, 5])[0]):
            name, price = rng.choices(products, weights=weights)[0]
            qty = rng.choices([1, 2, 3, 4], weights=[70, 20, 7, 3])[0]
            value = round(qty * price * (1.1 if site == 3 else 1.0), 2)
            total += value
            lines.append({"order_id": oid, "product": name, "quantity": float(qty), "revenue": value})
        # the list total also carries tips/surcharges the lines do not: x is close to, not equal to, y
        rows.append({"order_id": oid, "x": round(total + rng.choice([0, 0, 0, 2.0, 5.0]), 2),
                     "hour": hour, "site": f"site {site}"})
    return pd.DataFrame(rows).set_index("order_id"), pd.DataFrame(lines)


def _values(lines: pd.DataFrame, pop: pd.DataFrame, by: str, metric: str) -> pd.DataFrame:
    group = lines["product"] if by == "product" else pop.loc[lines["order_id"], by].to_numpy()
    return pd.DataFrame({"order_id": lines["order_id"], "group": group, "y": lines[metric]})


def _sample(pop: pd.DataFrame, seed: int, n: int) -> list[int]:
    return _ranked(tuple(pop.index), seed)[:n]


@functools.lru_cache(maxsize=1024)
def _ranked(ids: tuple[int, ...], seed: int) -> list[int]:
    return sorted(ids, key=lambda oid: rank_key(seed, oid))


@pytest.mark.parametrize(
    ("by", "metric", "known"),
    [("product", "revenue", False), ("hour", "quantity", True), ("site", "revenue", True)],
)
def test_estimates__intervals_cover_the_truth_at_their_stated_rate(by: str, metric: str, known: bool) -> None:
    pop, lines = _population()
    values = _values(lines, pop, by, metric)
    truth = values.groupby("group")["y"].sum()
    population = pop.assign(group=pop[by]) if known else pop[["x"]]
    # groups where a normal interval is meaningful: 2 % of the total and ~20 sampled orders expected
    big = truth[truth > 0.02 * truth.sum()].index
    if known:
        big = big[pop[by].value_counts().reindex(big).to_numpy() * 300 / len(pop) >= 20]
    covered = np.zeros(len(big))
    for seed in range(SEEDS):
        sample = _sample(pop, seed, 300)
        table = estimate_totals(values, population, sample, groups_known=known, confidence=0.95).reindex(big)
        covered += ((table["lo"] <= truth[big]) & (truth[big] <= table["hi"])).to_numpy()
    rate = covered.sum() / (SEEDS * len(big))
    per_group = dict(zip(big, covered, strict=True))
    # pooled over groups (correlated, so a wide but still failing band): 95 % ± 3 binomial sd of 200
    sd = math.sqrt(0.95 * 0.05 / SEEDS)
    assert 0.95 - 3 * sd <= rate <= 0.95 + 3 * sd, rate
    worst = min(per_group.values()) / SEEDS
    assert worst >= 0.95 - 4 * sd, (worst, per_group)


def test_estimates__ratio_beats_plain_expansion() -> None:
    """The list total as auxiliary information narrows the intervals (that is why it is used)."""
    pop, lines = _population()
    values = _values(lines, pop, "product", "revenue")
    sample = _sample(pop, 3, 300)
    ratio = estimate_totals(values, pop[["x"]], sample, groups_known=False)
    flat = estimate_totals(values, pop.assign(x=1.0)[["x"]], sample, groups_known=False)
    top = ratio.index[:5]
    assert (ratio.loc[top, "se"] < flat.loc[top, "se"]).all()


def test_estimates__complete_sample_is_exact_with_zero_width() -> None:
    pop, lines = _population(300)
    for by, known in (("product", False), ("hour", True), ("site", True)):
        values = _values(lines, pop, by, "revenue")
        truth = values.groupby("group")["y"].sum().round(2)
        population = pop.assign(group=pop[by]) if known else pop[["x"]]
        table = estimate_totals(values, population, list(pop.index), groups_known=known)
        assert list(table.columns) == COLUMNS
        assert table["exact"].all()
        assert (table["lo"] == table["hi"]).all()
        pd.testing.assert_series_equal(
            table["estimate"].sort_index(), truth.sort_index(), check_names=False, atol=0.011
        )


def test_estimates__fully_sampled_group_is_exact_even_mid_pull() -> None:
    pop, lines = _population(400)
    values = _values(lines, pop, "site", "revenue")
    population = pop.assign(group=pop["site"])
    site1 = list(pop.index[pop["site"] == "site 1"])
    others = list(pop.index[pop["site"] != "site 1"])[:20]
    table = estimate_totals(values, population, site1 + others, groups_known=True)
    assert table.loc["site 1", "exact"]
    assert table.loc["site 1", "estimate"] == pytest.approx(values[values.group == "site 1"].y.sum(), abs=0.01)
    assert not table.loc["site 2", "exact"]
    assert table.loc["site 2", "hi"] > table.loc["site 2", "lo"]


def test_estimates__empty_inputs_give_the_same_columns() -> None:
    pop, lines = _population(10)
    empty = estimate_totals(_values(lines, pop, "product", "revenue"), pop[["x"]], [], groups_known=False)
    assert list(empty.columns) == COLUMNS and empty.empty


def test_estimates__t_quantile() -> None:
    assert t_quantile(0.95, math.inf) == pytest.approx(1.959964, abs=1e-5)
    assert t_quantile(0.95, 10) == pytest.approx(2.228, abs=0.01)
    assert t_quantile(0.90, 30) == pytest.approx(1.697, abs=0.005)
    with pytest.raises(ConfigError, match="confidence"):
        t_quantile(1.5, 10)


def test_estimates__rank_key_is_a_seeded_uniform_order() -> None:
    ids = list(range(10**17, 10**17 + 2000))
    a = sorted(ids, key=lambda i: rank_key(1, i))
    assert a == sorted(ids, key=lambda i: rank_key(1, i))
    assert a != sorted(ids, key=lambda i: rank_key(2, i))
    # the first half of the order is not biased toward old or new ids
    first = np.array(a[:1000]) - 10**17
    assert abs(first.mean() - 999.5) < 60


def test_estimates__line_value() -> None:
    line = {"quantity": 2, "unit_price": 4.0, "unit_tax": 0.4, "line_total_ex_tax": 7.2, "line_total_tax": 0.72}
    assert line_value(line, "revenue") == pytest.approx(7.92)
    assert line_value(line, "quantity") == 2.0
    assert line_value({"quantity": 3, "unit_price": 2.0, "unit_tax": 0.2}, "revenue") == pytest.approx(6.6)


@functools.lru_cache(maxsize=1)
def _sandbox_orders() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two weeks of one sandbox venue, generated offline by its data layer (no HTTP)."""
    from datetime import UTC, date, datetime, timedelta

    from kounta_nb.sandbox.business import Business
    from kounta_nb.sandbox.timeline import Clock

    business = Business(seed=7, months=1, clock=Clock(datetime(2026, 5, 29, 4, tzinfo=UTC)))
    company = business.companies[business.developer_company_id]
    site = sorted(company.sites)[0]
    orders = [o for d in range(14) for o in company.orders_on(site, date(2026, 5, 14) + timedelta(days=d))
              if o["status"] == "COMPLETE"]
    pop = pd.DataFrame({
        "order_id": [int(o["id_str"]) for o in orders],
        "x": [o["total"] for o in orders],
        "hour": [datetime.fromisoformat(o["created_at"]).hour for o in orders],
    }).set_index("order_id")
    lines = pd.DataFrame([
        {"order_id": int(o["id_str"]), "product": ln["product"]["name"],
         "quantity": line_value(ln, "quantity"), "revenue": line_value(ln, "revenue")}
        for o in orders for ln in o["lines"]
    ])
    return pop, lines


@pytest.mark.parametrize(("by", "metric", "known"), [("product", "revenue", False), ("hour", "quantity", True)])
def test_estimates__cover_the_truth_on_sandbox_data(by: str, metric: str, known: bool) -> None:
    """The same check on a fully generated sandbox dataset (what a pull fetches), 200 seeds."""
    pop, lines = _sandbox_orders()
    values = _values(lines, pop, by, metric)
    truth = values.groupby("group")["y"].sum()
    population = pop.assign(group=pop[by]) if known else pop[["x"]]
    n = 400
    big = truth[truth > 0.03 * truth.sum()].index
    if known:
        big = big[pop[by].value_counts().reindex(big).to_numpy() * n / len(pop) >= 20]
    assert len(big) >= 4
    covered = np.zeros(len(big))
    for seed in range(SEEDS):
        table = estimate_totals(values, population, _sample(pop, seed, n), groups_known=known).reindex(big)
        covered += ((table["lo"] <= truth[big]) & (truth[big] <= table["hi"])).to_numpy()
    rate = covered.sum() / (SEEDS * len(big))
    sd = math.sqrt(0.95 * 0.05 / SEEDS)
    assert 0.95 - 3 * sd <= rate <= 0.95 + 3 * sd, (rate, dict(zip(big, covered / SEEDS, strict=True)))
