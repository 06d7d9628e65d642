"""Cells of 01-quickstart.ipynb (see _build.py)."""

CELLS = [
    ("md", r"""
# Quick start: your point-of-sale data in a notebook

This notebook connects to **Kounta** (Lightspeed Restaurant O-Series), picks a venue and turns its
sales into pandas DataFrames — in five cells, with no account and no network.

It runs against the **sandbox**, a faithful fake Kounta that ships inside `kounta_nb`: a café, a bar
and a restaurant with six months of realistic trading. Everything you do here works the same way on a
real account (see `04-your-own-account.ipynb` for how to connect yours).
"""),
    ("code", r"""
%load_ext kounta_nb
"""),
    ("md", r"""
## 1. Connect

`%kounta sandbox` starts the embedded sandbox on `127.0.0.1` and logs in through its consent page,
exactly as a real login would. With a real account you would type `%kounta login` instead and
click **Grant Access** in the window that opens.

Kounta allows about 180 requests a minute and `kounta_nb` keeps under that on a real account.
The sandbox runs on this machine without such a limit, so here the client goes full speed.
"""),
    ("code", r"""
%kounta sandbox
"""),
    ("md", r"""
## 2. Pick a venue

One Kounta login reaches one *company*; a company can have several *sites* (venues). `%kounta venue`
with no argument shows a picker. Give it a name (or set the `KOUNTA_SITE` environment variable) to
choose without clicking — that is how this notebook runs unattended.
"""),
    ("code", r"""
import os

VENUE = os.environ.get("KOUNTA_SITE", "")  # e.g. "Harbour Lane Café"; empty = show the picker
%kounta venue $VENUE
"""),
    ("md", r"""
## 3. First DataFrames

Every `%kounta <resource>` returns a typed DataFrame: ids as integers, timestamps in the venue's
time zone, money in dollars. Assign it with `df = %kounta …` to keep working with it.
"""),
    ("code", r"""
sites = %kounta sites
sites[["id", "name", "code"]]
"""),
    ("code", r"""
orders = %kounta orders --since 7d
orders[["sale_number", "created_at", "order_type", "total", "status"]].head()
"""),
    ("md", r"""
Lists in the Kounta API are *abridged*: the product list has names and codes, not prices. Tables
such as `product_prices` fetch each full record for you (once; later runs come from the cache).
Prices are ex tax, per venue.
"""),
    ("code", r"""
products = %kounta products
print(f"{len(products)} products, modifiers (milk, sizes, extras) included")
prices = %kounta product_prices
prices.sort_values("unit_price", ascending=False)[["product_name", "unit_price"]].head(10)
"""),
    ("md", r"""
## 4. What is going on underneath

`%kounta status` says who you are logged in as, which venue is selected and how many requests the
session has made. Kounta allows about 180 requests a minute per login; `kounta_nb` keeps under it
and caches every answer, so asking again is nearly free (the cache revalidates with ETags, so you
never see stale data).
"""),
    ("code", r"""
%kounta status
"""),
    ("code", r"""
orders_again = %kounta orders --since 7d
%kounta cache info
"""),
    ("md", r"""
## 5. A first plot

Revenue per day over the last week, from completed sales only.
"""),
    ("code", r"""
import matplotlib.pyplot as plt
from matplotlib.ticker import StrMethodFormatter

sales = orders[(orders["status"] == "COMPLETE") & ~orders["deleted"].fillna(False).astype(bool)]
daily = sales.groupby(sales["created_at"].dt.date)["total"].sum()

fig, ax = plt.subplots(figsize=(8, 3.5))
ax.bar([d.strftime("%a %d %b") for d in daily.index], daily.values, color="#2a7ab0")
ax.set_title(f"Revenue per day, last 7 days: {', '.join(sites.loc[sites['id'].isin(sales['site_id'].unique()), 'name'])}")
ax.set_ylabel("Revenue (incl. tax)")
ax.yaxis.set_major_formatter(StrMethodFormatter("${x:,.0f}"))
ax.grid(axis="y", alpha=0.3)
fig.tight_layout()
plt.show()
"""),
    ("code", r"""
venues = ", ".join(sites.loc[sites["id"].isin(sales["site_id"].unique()), "name"])
print(f"Last 7 days: {len(sales):,} sales, ${sales['total'].sum():,.2f} revenue, "
      f"average sale ${sales['total'].mean():,.2f} ({venues})")
""", {"tags": ["headline"]}),
    ("md", r"""
## Next

- `02-six-months-of-sales.ipynb` — the big pull: six months of every venue, in the background.
- `03-menu-and-staff.ipynb` — menu engineering, modifiers, sales per staff hour, stock cover.
- `04-your-own-account.ipynb` — connecting a real Kounta account, and what to do when a login expires.
- `%kounta?` lists every sub-command.
"""),
]
