"""Cells of 02-six-months-of-sales.ipynb (see _build.py)."""

CELLS = [
    ("md", r"""
# Six months of sales, every venue

When a stock-control or accounting app connects to Kounta, the first thing it does is pull **up to
six months of sales**, and the vendor warns that *"it may take a few hours for your sales data to
appear"*. This notebook does that job — and shows why it takes hours and how to get useful numbers
long before it finishes.

**Why hours?** Kounta lists orders 25 at a time and in *abridged* form: the lines (what was sold),
payments and modifiers of each order need one more request per order. A venue with 150 sales a day
has about 27,000 orders in six months, and Kounta allows about 180 requests a minute per login:
that is two and a half hours per venue.

`kounta_nb`'s pull engine runs that in the background under the rate limit, survives token
expiry and network faults, can be interrupted and resumed, and keeps a running estimate of the
totals (with a confidence interval) from a random sample of the orders it has already fetched.

It runs here against the sandbox, which has no rate limit unless you ask for one, so the full pull
takes a minute or two instead of hours.
"""),
    ("md", r"""
## Parameters

`MONTHS` is the period to pull. The automated checks of this project set `KOUNTA_NB_FAST=1`, which
shortens it to a week so that the notebook runs in well under a minute.

`SANDBOX_RATE` lets the client send more than Kounta's 180 requests a minute: the sandbox has no
rate limit. On a real account leave the client at its default, which keeps under Kounta's limit.
"""),
    ("code", r"""
import os

MONTHS = 6
FAST = os.environ.get("KOUNTA_NB_FAST") == "1"
PERIOD_DAYS = 7 if FAST else round(MONTHS * 30.4)
SANDBOX_RATE = 30_000  # requests per minute; the sandbox does not limit them
""", {"tags": ["parameters"]}),
    ("code", r"""
import time
from datetime import timedelta

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display
from matplotlib.ticker import FuncFormatter, MaxNLocator, StrMethodFormatter

from kounta_nb import Kounta, PullError
from kounta_nb.pull import dry_run, pull_orders

dollars = StrMethodFormatter("${x:,.0f}")


def _short_dollars(x: float, _pos: int | None = None) -> str:
    # $950, $12k, $1.2M: narrow labels that do not run into each other on a crowded axis
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(x) >= size:
            return f"${x / size:,.{0 if abs(x) >= 10 * size else 1}f}{suffix}".replace(".0" + suffix, suffix)
    return f"${x:,.0f}"


short_dollars = FuncFormatter(_short_dollars)
plt.rcParams.update({"figure.figsize": (9, 3.8), "axes.grid": True, "grid.alpha": 0.3,
                     "axes.spines.top": False, "axes.spines.right": False})
"""),
    ("md", r"""
## Connect and look at what will be pulled

One login covers one company; the pull covers **every venue** (site) of it. `dry_run` lists a few
sample days, estimates how many orders the period holds, and says how long the pull would take at
Kounta's real rate limit.
"""),
    ("code", r"""
k = Kounta.sandbox(rate_limit=SANDBOX_RATE)
until = pd.Timestamp.now(tz=k.tz).normalize().to_pydatetime()
since = until - timedelta(days=PERIOD_DAYS)

sites = pd.DataFrame(k.sites())[["id", "name"]]
site_names = sites.set_index("id")["name"].to_dict()
print(f"{k.company['name']}: {len(sites)} venues — {', '.join(sites['name'])}")
print(f"Period: {since:%d %b %Y} to {until:%d %b %Y} ({PERIOD_DAYS} days)")
"""),
    ("code", r"""
KOUNTA_LIMIT = 180  # requests per minute for an OAuth login on the real API
plan = dry_run(k, since, until)
print(f"About {plan.orders:,} orders: {plan.list_requests:,} list pages + {plan.detail_requests:,} "
      f"order details = {plan.requests:,} requests (the estimate itself took {plan.probe_requests}).")
print(f"At Kounta's {KOUNTA_LIMIT} requests a minute that is {plan.requests / KOUNTA_LIMIT / 60:.1f} hours.")
"""),
    ("md", r"""
## Start the pull in the background

`pull_orders` returns at once with a `PullJob`; its progress bar fills while you keep working in
the notebook. Order details are fetched in a random order, so that after a few percent the orders
already fetched are a fair sample of the whole period.
"""),
    ("code", r"""
job = pull_orders(k, since, until, progress=True)
"""),
    ("md", r"""
## Early estimates while it runs

Revenue per venue, day or hour is known as soon as the order *list* is in (cheap: 25 orders per
request), because each listed order carries its total. What was sold — products, categories,
units — is only in the details, and those take hours. `job.estimate()` extrapolates it from the
random sample of details fetched so far, with a 95 % confidence interval that narrows as the pull
proceeds: a manager can read the category split after a few minutes instead of waiting hours.

The cell below refreshes a table of revenue by category every second until the pull is done.
"""),
    ("code", r"""
def styled(table: pd.DataFrame, caption: str):
    money = {"estimate": "${:,.0f}", "lo": "${:,.0f}", "hi": "${:,.0f}"}
    return table[["estimate", "lo", "hi", "sampled"]].head(8).style.format(money).set_caption(caption)

live = display(pd.DataFrame(), display_id=True)
snapshots = []
while not job.done:
    try:
        by_category = job.estimate(by="category")
    except PullError:        # the order list is still being read
        by_category = None
    if by_category is not None and len(by_category):
        progress = job.progress
        fetched = progress.details_done / max(progress.details_total, 1)
        snapshots.append(by_category.assign(fetched=fetched))
        live.update(styled(by_category, f"Revenue by category (incl. tax), estimated from "
                                        f"{progress.details_done:,} of {progress.details_total:,} orders"))
    time.sleep(1)
job.wait()
final = job.estimate(by="category")
live.update(styled(final, "Revenue by category (incl. tax): exact, every order fetched"))
print(job.progress.summary())
"""),
    ("code", r"""
top = final.index[:4]
fig, ax = plt.subplots()
if snapshots:
    history = pd.concat(snapshots).reset_index()
    for colour, category in zip(["#1565c0", "#ef6c00", "#2e7d32", "#8e24aa"], top, strict=False):
        seen = history[history["category"] == category]
        x = seen["fetched"] * 100
        ax.fill_between(x, seen["lo"], seen["hi"], color=colour, alpha=0.2)
        ax.plot(x, seen["estimate"], color=colour, marker=".", label=category)
        ax.axhline(final.loc[category, "estimate"], color=colour, lw=1, ls="--")
ax.set_title("Revenue estimates while the pull ran (band: 95 % interval; dashed: final)")
ax.set_xlabel("Order details fetched (%)")
ax.set_ylabel("Revenue for the period")
ax.yaxis.set_major_formatter(dollars)
ax.set_xlim(0, 100)
ax.legend(frameon=False, ncols=2)
plt.show()
if snapshots:
    first = snapshots[0].loc[top[0]]
    print(f"After {first['fetched']:.0%} of the details, {top[0]} was estimated at ${first['estimate']:,.0f} "
          f"(${first['lo']:,.0f} to ${first['hi']:,.0f}); the final figure is ${final.loc[top[0], 'estimate']:,.0f}.")
"""),
    ("md", r"""
## The result: four tidy tables

`job.frames()` gives one DataFrame per kind of record: **orders** (one row per sale), **lines** (one
row per item sold), **payments** and **options** (the modifiers chosen, e.g. oat milk). Timestamps
are in the venue's time zone, money in dollars.
"""),
    ("code", r"""
tables = job.frames()
orders, lines, payments = tables["orders"], tables["lines"], tables["payments"]
{name: len(df) for name, df in tables.items()}
"""),
    ("code", r"""
orders["venue"] = orders["site_id"].map(site_names)
kept = orders[~orders["deleted"].fillna(False)]
sales = kept[~kept["is_refund"].fillna(False)]
refunds = kept[kept["is_refund"].fillna(False)]
local = sales["created_at"]
sales = sales.assign(day=local.dt.tz_localize(None).dt.normalize(), hour=local.dt.hour,
                     weekday=local.dt.day_name())
sales[["sale_number", "venue", "created_at", "total", "order_type"]].head()
"""),
    ("md", r"""
## Revenue by day and by week

Two traps in charts of a period that does not start and end on week boundaries:

- **Partial weeks.** The first and last weeks of the period are usually cut short: three days of
  sales drawn as a whole week look like a collapse. The weekly figures below keep only the weeks
  the period covers completely (Monday to Sunday); the days outside them are in the daily figures.
- **Warm-up of a moving average.** A 7-day average of the first day is that one day alone. The
  line starts on the 7th day, when the window is full.

Over a short period (the fast mode's week) the figures are per day instead.
"""),
    ("code", r"""
# Every day of the period, days without a sale included (they count as $0, not as missing).
days = pd.date_range(since.date(), (until - timedelta(days=1)).date(), freq="D")
WEEKLY = PERIOD_DAYS > 35


def complete_weeks(per_day: pd.DataFrame | pd.Series):
    # Monday-to-Sunday sums of the weeks the period covers completely (partial ones dropped).
    weeks = per_day.reindex(days, fill_value=0).resample("W-MON", label="left", closed="left")
    return weeks.sum()[weeks.size() == 7]


daily = (sales.pivot_table(index="day", columns="venue", values="total", aggfunc="sum")
         .reindex(days).fillna(0))
if WEEKLY:
    trend, trend_title = daily.rolling(7).mean(), "Revenue per day (average of the last 7 days)"
    per_period = complete_weeks(daily)
    first, last = per_period.index[0], per_period.index[-1] + timedelta(days=6)
    print(f"Weekly figures: the {len(per_period)} complete weeks from {first:%a %d %b} to {last:%a %d %b %Y}; "
          f"the {(first - days[0]).days} days before and {(days[-1] - last).days} after are in the daily figures only.")
else:
    trend, trend_title = daily, "Revenue per day"
    per_period = daily

fig, ax = plt.subplots()
for venue in trend.columns:
    ax.plot(trend.index, trend[venue], label=venue, marker=None if WEEKLY else "o")
ax.set_title(trend_title)
ax.set_ylabel("Revenue per day")
ax.set_xlim(days[0], days[-1])
ax.set_ylim(bottom=0)
ax.yaxis.set_major_formatter(dollars)
if not WEEKLY:
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %d %b"))  # the weekday explains a closed day
ax.legend(frameon=False)
fig.autofmt_xdate()
plt.show()

fig, ax = plt.subplots()
labelled = per_period.set_axis(per_period.index.strftime("%d %b"))
labelled.plot(kind="bar", stacked=True, ax=ax, width=0.8)
ax.set_title("Revenue per week (complete weeks), all venues" if WEEKLY else "Revenue per day, all venues")
ax.set_xlabel("Week starting (Monday)" if WEEKLY else "")
ax.set_ylabel("Revenue per week" if WEEKLY else "Revenue per day")
step = -(-len(labelled) // 14)  # at most 14 labels however long the period
for number, label in enumerate(ax.get_xticklabels()):
    label.set_visible(number % step == 0)
ax.tick_params(axis="x", labelrotation=45)
ax.yaxis.set_major_formatter(dollars)
ax.legend(frameon=False)
plt.show()
"""),
    ("md", r"""
## When are we busy? Hour of day and day of week
"""),
    ("code", r"""
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

by_hour = sales.pivot_table(index="hour", columns="venue", values="total", aggfunc="sum").fillna(0)
by_hour = by_hour.reindex(range(24), fill_value=0) / PERIOD_DAYS
# Divide by how many Mondays, Tuesdays… the period holds (not all the same when it is not whole weeks).
weekday_count = days.day_name().value_counts().reindex(DAYS)
by_weekday = sales.pivot_table(index="weekday", columns="venue", values="total",
                               aggfunc="sum").reindex(DAYS).fillna(0).div(weekday_count, axis=0)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.8))
by_hour.plot(kind="bar", stacked=True, ax=left, width=0.85, legend=False)
left.set_title("Average revenue by hour of day")
left.set_xlabel("Hour")
left.set_ylabel("Revenue per day in that hour")
left.yaxis.set_major_formatter(dollars)
by_weekday.plot(kind="bar", stacked=True, ax=right, width=0.8)
right.set_title("Average revenue by day of week")
right.set_xlabel("")
right.set_ylabel("Revenue per day")
right.set_xticklabels([d[:3] for d in DAYS], rotation=0)
right.yaxis.set_major_formatter(dollars)
right.legend(frameon=False)
fig.tight_layout()
plt.show()
"""),
    ("code", r"""
heat = (sales.pivot_table(index="weekday", columns="hour", values="total", aggfunc="sum")
        .reindex(index=DAYS, columns=range(24)).fillna(0).div(weekday_count, axis=0))
open_hours = heat.columns[heat.sum() > 0]
heat = heat.loc[:, open_hours.min():open_hours.max()]

fig, ax = plt.subplots(figsize=(11, 3.8))
image = ax.imshow(heat.values, aspect="auto", cmap="YlOrRd")
ax.set_xticks(range(len(heat.columns)), [f"{h:02d}:00" for h in heat.columns], rotation=45)
ax.set_yticks(range(len(DAYS)), DAYS)
ax.set_title("Busy hours: average revenue in each hour, all venues")
ax.grid(False)
bar = fig.colorbar(image, ax=ax, format=dollars)
bar.set_label("Revenue in that hour")
fig.tight_layout()
plt.show()
"""),
    ("md", r"""
## What sells: top products and categories

Line totals are ex tax; the product list tells which category each product belongs to.
"""),
    ("code", r"""
category_of = {product["id"]: category["name"]
               for category in k.categories() for product in k.category_products(category["id"])}
sold = lines[lines["order_id"].isin(sales["id"])].copy()
sold["category"] = sold["product_id"].map(category_of).fillna("Uncategorised")

top_products = (sold.groupby("product_name")
                .agg(units=("quantity", "sum"), revenue=("line_total_ex_tax", "sum"))
                .sort_values("revenue", ascending=False))
top_categories = sold.groupby("category")["line_total_ex_tax"].sum().sort_values()

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
top_products["revenue"].head(15).iloc[::-1].plot(kind="barh", ax=left, color="#2a7ab0")
left.set_title("Top 15 products by revenue")
left.set_xlabel("Revenue (ex tax)")
left.set_ylabel("")
left.xaxis.set_major_locator(MaxNLocator(5))  # few, short labels: they never run into each other
left.xaxis.set_major_formatter(short_dollars)
top_categories.plot(kind="barh", ax=right, color="#e07b39")
right.set_title("Revenue by category")
right.set_xlabel("Revenue (ex tax)")
right.set_ylabel("")
right.xaxis.set_major_locator(MaxNLocator(5))
right.xaxis.set_major_formatter(short_dollars)
fig.tight_layout()
plt.show()
top_products.head(10).style.format({"units": "{:,.0f}", "revenue": "${:,.2f}"})
"""),
    ("md", r"""
## Discounts, refunds and tips

- **Discounts**: the list price of what was sold minus what was charged (a `price_variation` of
  0.9 is 10 % off; fixed-amount discounts are in `price_fixed_variation`).
- **Refunds**: refund sales (`is_refund`), which carry negative totals.
- **Tips**: added to payments by the customer, on top of the sale.
"""),
    ("code", r"""
sales_payments = payments[payments["order_id"].isin(sales["id"])]

summary = pd.Series({
    "Sales (incl. tax)": sales["total"].sum(),
    "Discounts given (ex tax)": sold["discount"].sum(),
    "Refunded": -refunds["total"].sum(),
    "Tips": sales_payments["tip"].sum(),
})
summary.map("${:,.2f}".format).to_frame("period total")
"""),
    ("code", r"""
# Complete weeks over months (as above: a cut-short week would look like a crash to $0);
# days when the period is only a few weeks long.
day_of = sales.set_index("id")["day"]
extras = pd.DataFrame({
    "Discounts": sold.groupby(sold["order_id"].map(day_of))["discount"].sum(),
    "Refunds": -refunds.groupby(refunds["created_at"].dt.tz_localize(None).dt.normalize())["total"].sum(),
    "Tips": sales_payments.groupby(sales_payments["order_id"].map(day_of))["tip"].sum(),
}).reindex(days).fillna(0)
per = "week" if WEEKLY else "day"
if WEEKLY:
    extras = complete_weeks(extras)

fig, ax = plt.subplots()
extras.plot(ax=ax, marker="o")
ax.set_title(f"Discounts, refunds and tips per {per}" + (" (complete weeks)" if WEEKLY else ""))
ax.set_xlabel("Week starting (Monday)" if WEEKLY else "")
ax.set_ylabel(f"Dollars per {per}")
ax.set_ylim(bottom=0)
ax.yaxis.set_major_formatter(dollars)
ax.legend(frameon=False)
plt.show()
"""),
    ("md", r"""
## How customers pay
"""),
    ("code", r"""
mix = sales_payments.groupby("method", observed=True)["amount"].sum().sort_values(ascending=False)
share = mix / mix.sum()

fig, ax = plt.subplots(figsize=(8, 3.2))
ax.barh(mix.index[::-1], mix.values[::-1], color="#5b8c5a")
for y, (value, pct) in enumerate(zip(mix.values[::-1], share.values[::-1], strict=True)):
    ax.text(value, y, f"  {pct:.0%}", va="center")
ax.set_title("Payment mix: amount paid by method")
ax.set_xlabel("Amount paid")
ax.xaxis.set_major_formatter(dollars)
plt.show()
"""),
    ("md", r"""
## Headline figures
"""),
    ("code", r"""
print(f"{PERIOD_DAYS} days, {len(sites)} venues: {len(sales):,} sales, "
      f"${sales['total'].sum():,.2f} revenue, ${sales_payments['tip'].sum():,.2f} tips, "
      f"{len(refunds):,} refunds")
print(f"Busiest hour: {heat.stack().idxmax()[0]}s at {heat.stack().idxmax()[1]:02d}:00; "
      f"top product: {top_products.index[0]}")
""", {"tags": ["headline"]}),
    ("md", r"""
The pull keeps what it fetched: run `k.pull_orders(...)` again with a later `until` and only the new
orders are fetched; an interrupted pull resumes where it stopped.
"""),
]
