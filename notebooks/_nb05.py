"""Cells of 05-teaching.ipynb (see _build.py).

Each solution is written once, below; the notebook shows it in a collapsed ``<details>`` block
*and* runs it in a hidden cell, so the checks at the end test exactly the code students see.
"""

SOLUTIONS = {
    "average_basket": r'''
def average_basket(orders: pd.DataFrame) -> float:
    """Mean value of a sale in dollars (incl. tax): refunds and deleted orders left out."""
    sales = orders[~orders["is_refund"].fillna(False) & ~orders["deleted"].fillna(False)]
    return round(float(sales["total"].mean()), 2)
''',
    "busiest_hour": r'''
def busiest_hour(orders: pd.DataFrame) -> int:
    """The hour of day (0-23, venue time) in which the most sales were rung up."""
    sales = orders[~orders["is_refund"].fillna(False) & ~orders["deleted"].fillna(False)]
    return int(sales["created_at"].dt.hour.value_counts().idxmax())
''',
    "refund_rate": r'''
def refund_rate(orders: pd.DataFrame) -> float:
    """Refunded dollars as a share of sales dollars (0.02 = 2 %)."""
    kept = orders[~orders["deleted"].fillna(False)]
    refunds = kept.loc[kept["is_refund"].fillna(False), "total"]
    sales = kept.loc[~kept["is_refund"].fillna(False), "total"]
    return round(float(-refunds.sum() / sales.sum()), 4)
''',
    "tip_rate_by_method": r'''
def tip_rate_by_method(orders: pd.DataFrame, payments: pd.DataFrame) -> pd.Series:
    """Tips as a share of the amount paid, per payment method, for sales only (not refunds)."""
    sales = orders[~orders["is_refund"].fillna(False) & ~orders["deleted"].fillna(False)]
    paid = payments[payments["order_id"].isin(sales["id"])]
    by_method = paid.groupby("method", observed=True)[["tip", "amount"]].sum()
    return (by_method["tip"] / by_method["amount"]).round(4).sort_values(ascending=False)
''',
}

QUESTIONS = [
    ("average_basket", "Average basket",
     "What is the average value of a sale, in dollars including tax? Leave refunds and deleted "
     "orders out.", "my_average_basket = None  # a number of dollars, e.g. 23.5",
     "check('average_basket', my_average_basket, orders)",
     "Filter `orders` on `is_refund` and `deleted`, then take the mean of `total`."),
    ("busiest_hour", "Busiest hour",
     "In which hour of the day (0–23, the venue's local time) are the most sales rung up?",
     "my_busiest_hour = None  # an hour, e.g. 17",
     "check('busiest_hour', my_busiest_hour, orders)",
     "`created_at` is already in the venue's time zone: `.dt.hour`, then `value_counts()`."),
    ("refund_rate", "Refund rate",
     "What share of sales dollars was refunded? Refunds are orders with `is_refund` set; their "
     "`total` is negative. Answer as a fraction (0.02 = 2 %).",
     "my_refund_rate = None  # a fraction, e.g. 0.015",
     "check('refund_rate', my_refund_rate, orders)",
     "Sum the refund totals, flip the sign, divide by the sum of the sales totals."),
    ("tip_rate_by_method", "Tip rate by payment method",
     "For each payment method, what fraction of the amount paid was added as a tip? Only count "
     "payments of sales, not of refunds. Answer with a pandas Series indexed by method name.",
     "my_tip_rates = None  # a Series: method name -> tip rate",
     "check('tip_rate_by_method', my_tip_rates, orders, payments)",
     "Keep the payments whose `order_id` is a sale's `id`, group by `method`, divide the sums."),
]


def _cells() -> list[tuple]:
    cells: list[tuple] = [
        ("md", r"""
# Teaching with point-of-sale data

A ready-made class on real-shaped hospitality data: four weeks of sales from a café, a bar and a
restaurant (the `kounta_nb` sandbox — no account needed). Each exercise has a cell for the
answer, a `check(…)` that marks it, and a **hidden solution** to open when stuck.

**For teachers:** the solutions are tested: the last section runs them against hand-made orders
with known answers and against an independent count over the raw API records. If a solution
were wrong, this notebook would fail to run.
"""),
        ("code", r"""
import os

WEEKS = 4
FAST = os.environ.get("KOUNTA_NB_FAST") == "1"
PERIOD_DAYS = 7 if FAST else WEEKS * 7
SANDBOX_RATE = 30_000  # requests per minute: the sandbox has no rate limit (a real account does)
""", {"tags": ["parameters"]}),
        ("code", r"""
from datetime import timedelta

import pandas as pd

from kounta_nb import Kounta
from kounta_nb.pull import pull_orders

k = Kounta.sandbox(rate_limit=SANDBOX_RATE)
until = pd.Timestamp.now(tz=k.tz).normalize().to_pydatetime()
job = pull_orders(k, until - timedelta(days=PERIOD_DAYS), until, progress=False).wait()
tables = job.frames()
orders, payments = tables["orders"], tables["payments"]
print(f"{len(orders):,} orders and {len(payments):,} payments from {PERIOD_DAYS} days")
orders[["sale_number", "site_id", "created_at", "total", "is_refund", "deleted"]].head()
"""),
        ("md", r"""
The next cell holds the teacher's solutions (collapsed) and `check()`, which marks an answer
without giving the right one away. Run it, don't read it.
"""),
        ("code", "\n".join(
            ["import math", "", ""]
            + [SOLUTIONS[name].strip() + "\n\n" for name in SOLUTIONS]
            + [r'''
SOLVERS = {"average_basket": average_basket, "busiest_hour": busiest_hour,
           "refund_rate": refund_rate, "tip_rate_by_method": tip_rate_by_method}


def check(name: str, answer, *data) -> None:
    """Mark an answer: ✅ right, ❌ not yet, ⏳ not answered (the right answer is never shown)."""
    if answer is None:
        print(f"⏳ {name}: not answered yet — replace None with your answer.")
        return
    expected = SOLVERS[name](*data)
    if isinstance(expected, pd.Series):
        given = {str(key): float(value) for key, value in dict(answer).items()}
        wanted = {str(key): float(value) for key, value in expected.items()}
        ok = given.keys() == wanted.keys() and all(
            math.isclose(given[key], wanted[key], abs_tol=5e-4) for key in wanted)
    else:
        ok = math.isclose(float(answer), float(expected), abs_tol=5e-3)
    print(f"✅ {name}: correct!" if ok else f"❌ {name}: not quite — look at the hint and try again.")
'''.strip()]), {"jupyter": {"source_hidden": True}, "tags": ["hide-input"]}),
    ]
    for number, (name, title, question, answer, check, hint) in enumerate(QUESTIONS, 1):
        cells += [
            ("md", f"## Exercise {number}: {title}\n\n{question}"),
            ("code", f"{answer}\n\n{check}"),
            ("md", f"<details><summary>Hint</summary>\n\n{hint}\n\n</details>\n\n"
                   f"<details><summary>Solution</summary>\n\n```python\n{SOLUTIONS[name].strip()}\n"
                   f"```\n\n</details>"),
        ]
    cells += [
        ("md", r"""
## Going further

- Does the average basket differ between dine-in and take-away (`order_type`)?
- Plot the number of sales per hour for each venue: does the busiest hour differ?
- Which staff member has the highest tip rate on card payments? Is the difference meaningful?

## Proving the solutions (for teachers)

First, five hand-made orders in exactly the shape the Kounta API returns, whose answers can be
worked out on paper: three sales ($10 cash, $30 card with a $3 tip, $20 card with a $1 tip — two
of them in the 9 o'clock hour), a $10 refund of the first, and a deleted order that must be
ignored. Then the real data, recounted straight from the raw API records without pandas.
"""),
        ("code", r"""
import contextlib
import io

from kounta_nb import frames


def order(number, hour, total, method=None, tip=0.0, refund=False, deleted=False):
    # One full order record as the API returns it (only the fields the exercises use).
    payments = [] if method is None else [
        {"id": number * 10, "id_str": str(number * 10), "number": 1,
         "method": {"id": 1 if method == "Cash" else 2, "name": method},
         "amount": total, "tip": tip, "created_at": f"2026-05-04T{hour:02d}:30:00+10:00"}]
    return {"id": number, "id_str": str(number), "sale_number": f"S{number}", "status": "COMPLETE",
            "site_id": 1, "total": total, "total_tax": round(total / 11, 2), "paid": total,
            "deleted": deleted, "is_refund": refund, "created_at": f"2026-05-04T{hour:02d}:{number:02d}:00+10:00",
            "lines": [], "options": [], "payments": payments}


known = frames.order_tables([
    order(1, 9, 10.00, "Cash"),
    order(2, 9, 30.00, "Card", tip=3.00),
    order(3, 12, 20.00, "Card", tip=1.00),
    order(4, 15, -10.00, "Cash", refund=True),
    order(5, 9, 99.00, "Card", deleted=True),
], tz=k.tz)  # the venue's zone (Sydney: +10:00 in May), as in the pulled tables
assert average_basket(known["orders"]) == 20.00
assert busiest_hour(known["orders"]) == 9
assert refund_rate(known["orders"]) == round(10 / 60, 4)
rates = tip_rate_by_method(known["orders"], known["payments"])
assert rates.to_dict() == {"Card": 0.08, "Cash": 0.0}, rates.to_dict()
print("hand-made orders: all four solutions give the answers worked out on paper")

# check() marks right answers right, wrong ones wrong, and None as not answered.
def marks(*args) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check(*args)
    return out.getvalue()


assert "correct" in marks("average_basket", 20.0, known["orders"])
assert "not quite" in marks("average_basket", 21.0, known["orders"])
assert "not answered" in marks("refund_rate", None, known["orders"])
assert "correct" in marks("tip_rate_by_method", {"Card": 0.08, "Cash": 0.0}, known["orders"], known["payments"])
assert "not quite" in marks("tip_rate_by_method", {"Card": 0.08}, known["orders"], known["payments"])
print("check() marks answers correctly")
""", {"tags": ["checks"]}),
        ("code", r"""
from collections import Counter, defaultdict
from datetime import datetime

raw = [o for o in job.orders if not o.get("deleted")]
raw_sales = [o for o in raw if not o.get("is_refund")]
raw_refunds = [o for o in raw if o.get("is_refund")]

assert math.isclose(average_basket(orders), sum(o["total"] for o in raw_sales) / len(raw_sales), abs_tol=0.005)
hours = Counter(datetime.fromisoformat(o["created_at"]).hour for o in raw_sales)
assert busiest_hour(orders) == max(hours, key=hours.get)
assert math.isclose(refund_rate(orders), -sum(o["total"] for o in raw_refunds) / sum(o["total"] for o in raw_sales),
                    abs_tol=5e-5)
tips, amounts = defaultdict(float), defaultdict(float)
for o in raw_sales:
    for p in o.get("payments", []):
        tips[p["method"]["name"]] += p.get("tip") or 0.0
        amounts[p["method"]["name"]] += p["amount"]
for method, rate in tip_rate_by_method(orders, payments).items():
    assert math.isclose(rate, tips[method] / amounts[method], abs_tol=5e-5), method
print(f"raw API records ({len(raw):,} orders): all solutions check out")
""", {"tags": ["checks"]}),
    ]
    return cells


CELLS = _cells()
