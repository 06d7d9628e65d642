"""Cells of the teaching notebook, in two versions (see _build.py):

* ``05-teaching.ipynb``, the **student version**: exercises, hints and a ``check()`` that says
  whether an answer has the right form — no solution anywhere (the cells tagged ``solution`` are
  left out);
* ``05-teaching-answer-key.ipynb``, the **answer key**: the same exercises with each solution
  after it, a ``check()`` that marks answers right or wrong, and the proofs of the solutions (the
  cells tagged ``student`` are left out).

Each solution is written once, below, so the answer key's proofs test exactly the code it shows.
"""

#: Cells only the answer key has, and cells only the student version has.
SOLUTION, STUDENT = {"tags": ["solution"]}, {"tags": ["student"]}

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
     "Filter `orders` on `is_refund` and `deleted`, then take the mean of `total`.",
     "check('average_basket', average_basket(orders), orders)"),
    ("busiest_hour", "Busiest hour",
     "In which hour of the day (0–23, the venue's local time) are the most sales rung up?",
     "my_busiest_hour = None  # an hour, e.g. 17",
     "check('busiest_hour', my_busiest_hour, orders)",
     "`created_at` is already in the venue's time zone: `.dt.hour`, then `value_counts()`.",
     "check('busiest_hour', busiest_hour(orders), orders)"),
    ("refund_rate", "Refund rate",
     "What share of sales dollars was refunded? Refunds are orders with `is_refund` set; their "
     "`total` is negative. Answer as a fraction (0.02 = 2 %).",
     "my_refund_rate = None  # a fraction, e.g. 0.015",
     "check('refund_rate', my_refund_rate, orders)",
     "Sum the refund totals, flip the sign, divide by the sum of the sales totals.",
     "check('refund_rate', refund_rate(orders), orders)"),
    ("tip_rate_by_method", "Tip rate by payment method",
     "For each payment method, what fraction of the amount paid was added as a tip? Only count "
     "payments of sales, not of refunds. Answer with a pandas Series indexed by method name.",
     "my_tip_rates = None  # a Series: method name -> tip rate",
     "check('tip_rate_by_method', my_tip_rates, orders, payments)",
     "Keep the payments whose `order_id` is a sale's `id`, group by `method`, divide the sums.",
     "check('tip_rate_by_method', tip_rate_by_method(orders, payments), orders, payments)"),
]

#: Shared by both versions: what form each answer takes, and what is wrong with an answer's form.
#: It holds no solution: only types and ranges any answer must have.
FORM_CHECK = r'''
import math
from numbers import Real

FORMS = {
    "average_basket": "a number of dollars",
    "busiest_hour": "a whole hour from 0 to 23",
    "refund_rate": "a fraction between 0 and 1",
    "tip_rate_by_method": "a Series of fractions indexed by payment method",
}


def form_problem(name: str, answer, *data) -> str | None:
    """What is wrong with the *form* of an answer (None: the form is right; whether the value is
    right is another matter)."""
    if name == "tip_rate_by_method":
        if not isinstance(answer, pd.Series | dict):
            return f"expected {FORMS[name]}, not {type(answer).__name__}"
        rates = dict(answer)
        methods = set(data[1]["method"].dropna().astype(str))
        unknown = sorted(str(key) for key in rates if str(key) not in methods)
        if unknown:
            return f"{', '.join(unknown)} is not a payment method of these payments ({', '.join(sorted(methods))})"
        wrong = [rate for rate in rates.values() if form_problem("refund_rate", rate)]
        return f"expected {FORMS[name]}, but one rate is {wrong[0]!r}" if wrong else None
    if isinstance(answer, bool) or not isinstance(answer, Real) or math.isnan(answer):
        return f"expected {FORMS[name]}, not {answer!r}"
    if name == "busiest_hour" and (not float(answer).is_integer() or not 0 <= answer <= 23):
        return f"expected {FORMS[name]}, not {answer!r}"
    if name == "refund_rate" and not 0 <= answer <= 1:
        hint = f" (for {answer} % write {answer / 100})" if 1 < answer <= 100 else ""
        return f"expected {FORMS[name]}, not {answer!r}{hint}"
    if name == "average_basket" and answer <= 0:
        return f"a sale is worth more than {answer!r} dollars"
    return None
'''.strip()

STUDENT_CHECK = r'''
def check(name: str, answer, *data) -> None:
    """Say whether an answer has the right form: ✔ yes, ❌ no, ⏳ not answered yet. Whether it
    is *right* is for your teacher's answer key to say."""
    if answer is None:
        print(f"⏳ {name}: not answered yet — replace None with your answer.")
        return
    problem = form_problem(name, answer, *data)
    if problem:
        print(f"❌ {name}: {problem}.")
    else:
        print(f"✔ {name}: answered as {FORMS[name]}. Your teacher's answer key marks it.")
'''.strip()

KEY_CHECK = r'''
def check(name: str, answer, *data) -> None:
    """Mark an answer: ✅ right, ❌ not yet (a wrong form says why), ⏳ not answered. The
    solution is the function of the same name, defined in the solution cell of the exercise."""
    if answer is None:
        print(f"⏳ {name}: not answered yet — replace None with your answer.")
        return
    problem = form_problem(name, answer, *data)
    if problem:
        print(f"❌ {name}: {problem}.")
        return
    solution = globals().get(name)
    if solution is None:
        print(f"⏳ {name}: run the solution cell of this exercise first.")
        return
    expected = solution(*data)
    if isinstance(expected, pd.Series):
        given = {str(key): float(value) for key, value in dict(answer).items()}
        wanted = {str(key): float(value) for key, value in expected.items()}
        ok = given.keys() == wanted.keys() and all(
            math.isclose(given[key], wanted[key], abs_tol=5e-4) for key in wanted)
    else:
        ok = math.isclose(float(answer), float(expected), abs_tol=5e-3)
    print(f"✅ {name}: correct!" if ok else f"❌ {name}: not quite — look at the hint and try again.")
'''.strip()


def _cells() -> list[tuple]:
    cells: list[tuple] = [
        ("md", r"""
# Teaching with point-of-sale data

A ready-made class on real-shaped hospitality data: four weeks of sales from a café, a bar and a
restaurant (the `kounta_nb` sandbox — no account needed). Each exercise has a cell for your
answer, a `check(…)` that tells you whether the answer has the right form (a number, an hour, a
fraction…), and a **hint** to open when stuck. Your teacher has the answer key.
""", STUDENT),
        ("md", r"""
# Teaching with point-of-sale data — answer key

**For teachers.** This is the answer key of `05-teaching.ipynb`, the student version. Both are
generated from `notebooks/_nb05.py` by `python notebooks/_build.py`: the student version is this
notebook without the cells tagged `solution` (the solutions, the `check()` that marks answers
and the proofs), with a `check()` that only looks at an answer's form instead. Hand out the
student version; keep this one.

The solutions are tested: the last section runs them against hand-made orders with known answers
and against an independent count over the raw API records. If a solution were wrong, this
notebook would fail to run.
""", SOLUTION),
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
Run the next cell: it defines `check()`, which looks at the form of an answer (is it a number, an
hour, a fraction?) without knowing the right one.
""", STUDENT),
        ("md", r"""
The next cell defines `check()`, which marks an answer with this key's solutions (each defined in
the solution cell after its exercise), and the form check it shares with the student version.
""", SOLUTION),
        ("code", FORM_CHECK + "\n\n\n" + STUDENT_CHECK, STUDENT),
        ("code", FORM_CHECK + "\n\n\n" + KEY_CHECK, SOLUTION),
    ]
    for number, (name, title, question, answer, check, hint, call) in enumerate(QUESTIONS, 1):
        cells += [
            ("md", f"## Exercise {number}: {title}\n\n{question}"),
            ("code", f"{answer}\n\n{check}"),
            ("md", f"<details><summary>Hint</summary>\n\n{hint}\n\n</details>"),
            ("code", f"# Solution\n{SOLUTIONS[name].strip()}\n\n\n{call}", SOLUTION),
        ]
    cells += [
        ("md", r"""
## Going further

- Does the average basket differ between dine-in and take-away (`order_type`)?
- Plot the number of sales per hour for each venue: does the busiest hour differ?
- Which staff member has the highest tip rate on card payments? Is the difference meaningful?
"""),
        ("md", r"""
## Proving the solutions

First, five hand-made orders in exactly the shape the Kounta API returns, whose answers can be
worked out on paper: three sales ($10 cash, $30 card with a $3 tip, $20 card with a $1 tip — two
of them in the 9 o'clock hour), a $10 refund of the first, and a deleted order that must be
ignored. Then the real data, recounted straight from the raw API records without pandas.
""", SOLUTION),
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
# The form check both versions share: a wrong form says why; a right one passes.
assert form_problem("average_basket", 20.0) is None and form_problem("busiest_hour", 9) is None
assert "not 'twenty'" in marks("average_basket", "twenty", known["orders"])
assert "whole hour" in marks("busiest_hour", 9.5, known["orders"])
assert "whole hour" in marks("busiest_hour", 24, known["orders"])
assert "write 0.02" in marks("refund_rate", 2, known["orders"])
assert "Amex is not a payment method" in marks("tip_rate_by_method", {"Amex": 0.1}, known["orders"], known["payments"])
assert "one rate is 8" in marks("tip_rate_by_method", {"Card": 8}, known["orders"], known["payments"])
print("check() marks answers correctly")
""", {"tags": ["solution", "checks"]}),
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
""", {"tags": ["solution", "checks"]}),
    ]
    return cells


CELLS = _cells()
