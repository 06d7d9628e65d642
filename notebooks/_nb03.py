"""Cells of 03-menu-and-staff.ipynb (see _build.py)."""

CELLS = [
    ("md", r"""
# Menu and staff: what earns, who sells, what runs out

Four questions a venue manager asks every month, answered from Kounta data:

1. **Menu engineering** — which dishes are popular *and* profitable? (the classic
   stars / plowhorses / puzzles / dogs matrix, from sales and each product's `cost_price`)
2. **Modifiers** — which options do guests pick (milk, sizes, extras) and what do they add?
3. **Sales per staff hour** — from the shifts clocked on the register.
4. **Stock cover** — how many days each product's stock lasts at the current rate of sale.

It runs on the sandbox; with your own account replace `Kounta.sandbox()` by your login.
"""),
    ("code", r"""
import os

WEEKS = 4
FAST = os.environ.get("KOUNTA_NB_FAST") == "1"
PERIOD_DAYS = 7 if FAST else WEEKS * 7
MENU_VENUE = ""  # the venue whose menu to engineer; "" = the one with the most sales
SANDBOX_RATE = 30_000  # requests per minute: the sandbox has no rate limit (a real account does)
""", {"tags": ["parameters"]}),
    ("code", r"""
from datetime import timedelta

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter, NullFormatter, StrMethodFormatter

from kounta_nb import Kounta, frames
from kounta_nb.pull import pull_orders

dollars = StrMethodFormatter("${x:,.0f}")
dollars_cents = StrMethodFormatter("${x:,.2f}")
plt.rcParams.update({"figure.figsize": (9, 4), "axes.grid": True, "grid.alpha": 0.3,
                     "axes.spines.top": False, "axes.spines.right": False})

k = Kounta.sandbox(rate_limit=SANDBOX_RATE)
until = pd.Timestamp.now(tz=k.tz).normalize()
since = until - timedelta(days=PERIOD_DAYS)
sites = frames.frame("sites", k.sites())
site_names = sites.set_index("id")["name"].to_dict()

tables = pull_orders(k, since, until, progress=True).wait().frames()
orders, lines, options = tables["orders"], tables["lines"], tables["options"]
sales = orders[~orders["deleted"].fillna(False) & ~orders["is_refund"].fillna(False)]
lines = lines[lines["order_id"].isin(sales["id"])]
options = options[options["order_id"].isin(sales["id"])]
print(f"{len(sales):,} sales with {len(lines):,} lines over {PERIOD_DAYS} days at {len(sites)} venues")
"""),
    ("md", r"""
## 1. Menu engineering

For every product sold we need two numbers:

- **popularity** — units sold, as a share of all units (the *menu mix*);
- **contribution margin** — what one unit leaves after its ingredients: the average price actually
  charged (ex tax, after discounts) minus `cost_price`.

Product *lists* in Kounta are abridged, so the cost price comes from each product's full record
(one request per product, cached afterwards).

The classic rule (Kasavana & Smith): an item is *popular* when its menu-mix share reaches 70 % of
an equal share (`0.7 / number of items`), and *profitable* when its margin is at least the
sales-weighted average margin. It compares dishes of one menu, so it is done per venue here (set
`MENU_VENUE`); for a finer cut, filter the lines to one category — mains against mains.
"""),
    ("code", r"""
sold_ids = lines["product_id"].dropna().unique()
catalogue = frames.frame("products", [k.product(int(pid)) for pid in sold_ids])
catalogue = catalogue[~catalogue["is_modifier"].fillna(False)]

revenue_by_site = lines.groupby("site_id")["line_total_ex_tax"].sum()
menu_site = k.resolve_site(MENU_VENUE) if MENU_VENUE else int(revenue_by_site.idxmax())
venue_lines = lines[lines["site_id"] == menu_site]
menu = (venue_lines[venue_lines["product_id"].isin(catalogue["id"])]
        .groupby("product_id")
        .agg(units=("quantity", "sum"), revenue=("line_total_ex_tax", "sum"))
        .join(catalogue.set_index("id")[["name", "cost_price"]]))
menu = menu[menu["units"] > 0].dropna(subset=["cost_price"])
menu["price"] = menu["revenue"] / menu["units"]
menu["margin"] = menu["price"] - menu["cost_price"]
menu["mix"] = menu["units"] / menu["units"].sum()

popular_at = 0.7 / len(menu)
margin_at = (menu["margin"] * menu["units"]).sum() / menu["units"].sum()
CLASSES = {(True, True): "Star", (True, False): "Plowhorse",
           (False, True): "Puzzle", (False, False): "Dog"}
menu["class"] = [CLASSES[(mix >= popular_at, margin >= margin_at)]
                 for mix, margin in zip(menu["mix"], menu["margin"], strict=True)]
print(f"{site_names[menu_site]}: {len(menu)} menu items; popular above {popular_at:.1%} of units, "
      f"profitable above ${margin_at:.2f} margin per unit")
menu["class"].value_counts().reindex(CLASSES.values(), fill_value=0).to_frame("items")
"""),
    ("code", r"""
COLOURS = {"Star": "#2e7d32", "Plowhorse": "#1565c0", "Puzzle": "#ef6c00", "Dog": "#9e9e9e"}
ADVICE = {"Star": "keep and feature", "Plowhorse": "re-price or cut cost",
          "Puzzle": "promote or reposition", "Dog": "consider removing"}

fig, ax = plt.subplots(figsize=(10, 6.5))
for name, group in menu.groupby("class"):
    ax.scatter(group["mix"] * 100, group["margin"], s=30 + group["revenue"] / menu["revenue"].max() * 400,
               color=COLOURS[name], alpha=0.7, label=f"{name}s — {ADVICE[name]}")
ax.axvline(popular_at * 100, color="black", lw=1, ls="--")
ax.axhline(margin_at, color="black", lw=1, ls="--")
for _, row in menu.sort_values("revenue", ascending=False).head(8).iterrows():
    ax.annotate(row["name"], (row["mix"] * 100, row["margin"]), fontsize=8,
                xytext=(4, 4), textcoords="offset points")
ax.set_xscale("log")
ax.set_xticks([t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20) if menu["mix"].min() * 50 <= t <= menu["mix"].max() * 200])
ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g} %"))
ax.xaxis.set_minor_formatter(NullFormatter())
ax.set_title(f"Menu engineering at {site_names[menu_site]}: popularity × margin (bubble size = revenue)")
ax.set_xlabel("Share of units sold (%, log scale)")
ax.set_ylabel("Margin per unit (price ex tax − cost)")
ax.yaxis.set_major_formatter(dollars_cents)
ax.legend(loc="upper left", frameon=False, fontsize=9)
plt.show()
"""),
    ("code", r"""
(menu.sort_values(["class", "revenue"], ascending=[True, False])
     .groupby("class").head(3)
     [["name", "class", "units", "price", "cost_price", "margin", "revenue"]]
     .style.format({"units": "{:,.0f}", "price": "${:.2f}", "cost_price": "${:.2f}",
                    "margin": "${:.2f}", "revenue": "${:,.0f}"})
     .hide(axis="index"))
"""),
    ("md", r"""
## 2. Modifiers: what guests choose

Options (modifiers) are recorded per order line with the option set they belong to — "Milk",
"Size", "Extras" and so on. Paid options are extra revenue that never shows up as a product.
"""),
    ("code", r"""
chosen = (options.assign(option_set=options["option_set"].fillna("Other"))
          .groupby(["option_set", "name"])
          .agg(times=("name", "size"), revenue=("unit_price", "sum"))
          .reset_index())
chosen["share_of_set"] = chosen["times"] / chosen.groupby("option_set")["times"].transform("sum")
print(f"{len(options):,} options chosen on {options[['order_id', 'line_number']].drop_duplicates().shape[0]:,} "
      f"lines; paid options brought ${options['unit_price'].clip(lower=0).sum():,.2f} (ex tax)")

# Sets where guests really choose between options (a lone "Large" says nothing about preference).
choices = chosen.groupby("option_set").agg(times=("times", "sum"), options=("name", "nunique"))
sets = choices[choices["options"] > 1].sort_values("times", ascending=False).head(4).index
fig, axes = plt.subplots(1, len(sets), figsize=(3.2 * len(sets), 3.4), squeeze=False)
for ax, option_set in zip(axes[0], sets, strict=True):
    part = chosen[chosen["option_set"] == option_set].sort_values("times").tail(6)
    ax.barh(part["name"], part["share_of_set"] * 100, color="#8e6cbf")
    ax.set_title(option_set)
    ax.set_xlabel("% of choices")
fig.suptitle("Most chosen options in each option set")
fig.tight_layout()
plt.show()
"""),
    ("md", r"""
## 3. Sales per staff hour

Shifts come from the register's clock-on/clock-off, with breaks. Hours worked exclude breaks;
sales are credited to the staff member who rang them up.
"""),
    ("code", r"""
shifts = frames.frame("shifts", k.shifts(since=since.date()), tz=k.tz)
shifts = shifts[(shifts["started_at"] < until) & shifts["finished_at"].notna()]
staff = frames.frame("staff", k.staff())
names = (staff["first_name"] + " " + staff["last_name"].fillna("").str[:1]).set_axis(staff["id"]).to_dict()

per_staff = pd.DataFrame({
    "hours": shifts.groupby("staff_id")["worked_hours"].sum(),
    "sales": sales.groupby("staff_id")["total"].sum(),
    "orders": sales.groupby("staff_id").size(),
}).fillna(0)
per_staff = per_staff[per_staff["hours"] > 0]
per_staff["sales_per_hour"] = per_staff["sales"] / per_staff["hours"]
# Colour each person by the venue they work most hours at: a restaurant sale is worth more than a coffee.
home = shifts.groupby(["staff_id", "site_id"])["worked_hours"].sum().reset_index()
home = home.sort_values("worked_hours").drop_duplicates("staff_id", keep="last").set_index("staff_id")["site_id"]
per_staff["venue"] = per_staff.index.map(home).map(site_names)
per_staff.index = per_staff.index.map(lambda i: names.get(i, f"#{i}"))
per_staff = per_staff.sort_values("sales_per_hour")

VENUE_COLOURS = dict(zip(site_names.values(), ["#00897b", "#5e35b1", "#f4511e", "#6d4c41"], strict=False))
fig, ax = plt.subplots(figsize=(9, max(3, 0.3 * len(per_staff))))
for venue, group in per_staff.groupby("venue"):
    ax.barh(group.index, group["sales_per_hour"], color=VENUE_COLOURS.get(venue, "#757575"), label=venue)
ax.axvline(per_staff["sales"].sum() / per_staff["hours"].sum(), color="black", ls="--", lw=1,
           label="team average")
ax.set_title(f"Sales per staff hour, last {PERIOD_DAYS} days")
ax.set_xlabel("Sales (incl. tax) per hour worked")
ax.xaxis.set_major_formatter(dollars)
ax.legend(frameon=False)
plt.show()
per_staff.sort_values("sales_per_hour", ascending=False).head(5).style.format(
    {"hours": "{:,.1f}", "sales": "${:,.0f}", "orders": "{:,.0f}", "sales_per_hour": "${:,.2f}"})
"""),
    ("md", r"""
## 4. Stock cover: days until each product runs out

`GET /sites/{site}/inventory` gives stock on hand per product. Divided by the average units sold
per day over the period, it says how many days the stock lasts if trade continues as it is.
Stock at or below zero means sales have run ahead of the last count or delivery: those products
need counting before their cover means anything.
"""),
    ("code", r"""
cover = []
for site_id, venue in site_names.items():
    stock = frames.frame("inventory", k.inventory(site_id))
    rate = lines[lines["site_id"] == site_id].groupby("product_id")["quantity"].sum() / PERIOD_DAYS
    table = stock.set_index("product_id")[["stock"]].join(rate.rename("per_day"), how="inner")
    table = table[table["per_day"] > 0].copy()
    table["days_cover"] = table["stock"] / table["per_day"]
    table["venue"] = venue
    cover.append(table)
cover = pd.concat(cover).join(catalogue.set_index("id")["name"], how="inner")
to_count = cover[cover["stock"] <= 0]
print(f"{len(to_count)} products show no stock (or less than none) and need counting:")
print(", ".join(sorted(to_count["name"] + " (" + to_count["venue"] + ")")) or "none")

low = cover[cover["stock"] > 0].sort_values("days_cover").head(12)
fig, ax = plt.subplots(figsize=(9, 4.5))
labels = low["name"] + " (" + low["venue"] + ")"
ax.barh(labels[::-1], low["days_cover"][::-1],
        color=["#c62828" if d < 3 else "#f9a825" if d < 7 else "#2e7d32" for d in low["days_cover"][::-1]])
ax.axvline(7, color="black", ls="--", lw=1, label="one week")
ax.set_title("Products closest to running out")
ax.set_xlabel("Days of stock at the current rate of sale")
ax.legend(frameon=False)
plt.show()
counted = cover[cover["stock"] > 0]
print(f"{(counted['days_cover'] < 7).sum()} products have less than a week of stock; "
      f"{(counted['days_cover'] < 3).sum()} less than three days.")
"""),
]
