"""Resource name → typed DataFrame: the one table the magics (and users) ask for by name.

>>> from kounta_nb import tables
>>> tables.fetch(client, "orders", site="Café", since="2026-05-01", status="complete")
>>> tables.fetch(client, "lines", since="yesterday")          # abridged list, then each order
>>> sorted(tables.RESOURCES)                                   # name → description

``site`` is accepted by every resource: applied where the API narrows by site, ignored (and
listed in ``meta["ignored"]``) for company-wide tables such as ``taxes``. ``fetch`` calls the matching :class:`~kounta_nb.client.Kounta` method (duck-typed: anything with
the same methods works), converts the records with :func:`kounta_nb.frames.frame` in the
company's time zone (``client.tz``) and stamps provenance into ``df.attrs["meta"]``.

Tables built from full records the list leaves out (order lines, payments and options; per-site
product prices; a product's categories) fetch the list, then each record one at a time. That is
fine for a day or a menu; for months of orders use the pull engine
(:meth:`Kounta.pull_orders`), which does the same concurrently under the rate limit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from . import frames, settings
from .errors import ConfigError

__all__ = ["RESOURCES", "Resource", "fetch", "fetch_order_tables", "resource"]

_ORDER_FILTERS = (
    "site", "status", "register", "staff", "customer", "since", "until", "created",
    "value", "value_gt", "value_gte", "value_lt", "value_lte", "max_pages",
)  # fmt: skip
_ORDER_PARTS = ("lines", "payments", "options", "orders")


@dataclass(frozen=True)
class Resource:
    """One fetchable table: the client method that lists it and the frame kind it becomes.

    ``detail``/``needs``: when a listed record lacks the key ``needs`` (lists are abridged), the
    full record is fetched with the client method ``detail``. ``site_column``: filled from the
    ``site`` filter when the API leaves the site out of records fetched under a site filter.
    """

    name: str
    description: str
    kind: str
    method: str
    filters: tuple[str, ...] = ()
    detail: str | None = None
    needs: str | None = None
    site_column: str | None = None


_CATALOGUE: tuple[Resource, ...] = (
    Resource("company", "the company record (one row)", "company", "company"),
    Resource("status", "per-site online status: registers online, last sale", "site_status",
             "status"),
    Resource("sites", "sites (venues)", "sites", "sites"),
    Resource("registers", "registers (tills), of one site or all", "registers", "registers",
             ("site",), site_column="site_id"),
    Resource("orders", "orders (abridged list items), newest first", "orders", "orders",
             _ORDER_FILTERS, site_column="site_id"),
    Resource("order", "one full order by id (or sale_number): its lines, payments, options or "
             "the order row (part=)", "lines", "order", ("id", "sale_number", "part")),
    Resource("lines", "order lines of the matching orders (fetches each full order)", "lines",
             "orders", _ORDER_FILTERS, "order", "lines"),
    Resource("payments", "payments of the matching orders (fetches each full order)", "payments",
             "orders", _ORDER_FILTERS, "order", "payments"),
    Resource("options", "chosen modifier options of the matching orders (fetches each full "
             "order)", "options", "orders", _ORDER_FILTERS, "order", "options"),
    Resource("products", "products, company-wide or of one site", "products", "products",
             ("site",)),
    Resource("product_prices", "per-site product prices (fetches each full product)",
             "product_prices", "products", ("site",), "product", "sites"),
    Resource("product_categories", "which categories each product is in (fetches each full "
             "product)", "product_categories", "products", ("site",), "product", "categories"),
    Resource("categories", "product categories, company-wide or of one site", "categories",
             "categories", ("site",)),
    Resource("customers", "customers (optionally by reference_id)", "customers", "customers",
             ("reference_id",)),
    Resource("staff", "staff members", "staff", "staff"),
    Resource("shifts", "staff shifts of one day (date=) or since a day (since=)", "shifts",
             "shifts", ("date", "since", "site", "staff"), site_column="site_id"),
    Resource("breaks", "breaks within those shifts", "breaks", "shifts",
             ("date", "since", "site", "staff"), site_column="site_id"),
    Resource("taxes", "taxes (rate 0.1 = 10 %)", "taxes", "taxes"),
    Resource("inventory", "stock on hand per product, of one site or every site", "inventory",
             "inventory", ("site",), site_column="site_id"),
    Resource("reconciliations", "register reconciliations (cash-ups) with takings totals",
             "reconciliations", "reconciliations",
             ("site", "register", "date", "since", "unprocessed"), "reconciliation",
             "reconciliations", "site_id"),
    Resource("reconciliation_takings", "reconciliation takings per payment method: recorded, "
             "counted, cash in/out", "reconciliation_takings", "reconciliations",
             ("site", "register", "date", "since", "unprocessed"), "reconciliation",
             "reconciliations", "site_id"),
    Resource("reconciliation_income", "reconciliation income-account amounts (net, tax)",
             "reconciliation_income", "reconciliations",
             ("site", "register", "date", "since", "unprocessed"), "reconciliation",
             "income_accounts", "site_id"),
    Resource("webhooks", "registered webhooks (header values withheld)", "webhooks", "webhooks"),
    Resource("price_lists", "price lists", "price_lists", "price_lists"),
    Resource("payment_methods", "payment methods and their ledger codes", "payment_methods",
             "payment_methods"),
)  # fmt: skip

_BY_NAME: dict[str, Resource] = {r.name: r for r in _CATALOGUE}

#: Every resource name → a one-line description (help texts, magics, tab completion).
RESOURCES: dict[str, str] = {r.name: r.description for r in _CATALOGUE}

_COMMON = ("limit",)
#: Filters every resource accepts: applied where the API narrows by them, otherwise ignored and
#: listed in ``meta["ignored"]`` (a notebook's default venue should not break ``taxes``).
_SCOPE = ("site",)


def resource(name: str) -> Resource:
    """The :class:`Resource` called ``name`` (``-`` and case ignored); ConfigError listing the
    valid names otherwise."""
    key = str(name).strip().lower().replace("-", "_") if isinstance(name, str) else name
    found = _BY_NAME.get(key) if isinstance(key, str) else None
    if found is None:
        raise ConfigError(
            f"Unknown resource {name!r}: choose one of {', '.join(sorted(RESOURCES))}."
        )
    return found


def fetch(client: Any, resource_name: str, *, progress: bool = False, **filters: Any) -> pd.DataFrame:
    """Fetch ``resource_name`` through ``client`` and return its typed DataFrame.

    ``filters`` are the resource's own (see :data:`RESOURCES` / :func:`resource`; ``None`` values
    are ignored) plus ``limit`` (at most that many rows; tables built from full records also
    fetch at most that many of them). ``df.attrs["meta"]`` records the resource, the endpoint, the
    filters, when it was fetched, how many detail records were fetched and the request stats.
    ``progress=True`` shows a progress bar while more than a page of full records is fetched.
    """
    res = resource(resource_name)
    given = {k: v for k, v in filters.items() if v is not None}
    allowed = res.filters + _COMMON + _SCOPE
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        takes = ", ".join(res.filters) if res.filters else "no filters"
        raise ConfigError(
            f"{res.name} does not take {', '.join(unknown)}: it takes {takes} (and limit)."
        )
    ignored = sorted(k for k in _SCOPE if k in given and k not in res.filters)
    for key in ignored:
        given.pop(key)
    if res.method == "shifts" and ("date" in given) == ("since" in given):
        raise ConfigError(f"{res.name} need exactly one of date= or since= (e.g. --since 7d).")
    limit = _limit(given.pop("limit", None))
    if limit is not None and "max_pages" in res.filters and "max_pages" not in given:
        # order lists come newest first: the first rows are the first pages, so fetch no more
        given["max_pages"] = max(1, -(-limit // settings.PAGE_SIZE))
    before = _snapshot(client)
    tz = _tz(client)
    if res.name == "order":
        df, info = _one_order(client, given, tz)
    elif res.name == "company":
        df, info = frames.frame("company", [client.company], tz=tz), {"endpoint": "companies/me"}
    elif res.name == "status":
        df, info = (
            frames.frame("site_status", _status_records(client.status()), tz=tz),
            {"endpoint": "status"},
        )
    elif res.name == "inventory":
        df, info = _inventory(client, given, tz)
    else:
        records = _call(client, res.method, given)
        info = dict(getattr(records, "meta", None) or {})
        if res.detail is not None and res.needs is not None:
            records, details = _with_details(client, res, records, limit, progress)
            info["details"] = details
        df = frames.frame(res.kind, records, tz=tz)
    if res.site_column and "site" in given and res.site_column in df.columns:
        _fill_site(client, df, res.site_column, given["site"])
    if limit is not None:
        df = df.head(limit).copy()
    if ignored:
        info = {**info, "ignored": ignored}
    _stamp(df, res, given, limit, info, before, client, tz)
    return df


def fetch_order_tables(
    client: Any, *, limit: int | None = None, progress: bool = False, **filters: Any
) -> dict[str, pd.DataFrame]:
    """The matching orders' four tables (``orders`` full, ``lines``, ``payments``, ``options``):
    the abridged list, then each full order, one request at a time (``progress=True``: with a
    progress bar)."""
    given = {k: v for k, v in filters.items() if v is not None}
    unknown = sorted(set(given) - set(_ORDER_FILTERS))
    if unknown:
        raise ConfigError(
            f"Orders do not take {', '.join(unknown)}: they take {', '.join(_ORDER_FILTERS)}."
        )
    lim = _limit(limit)
    if lim is not None and "max_pages" not in given:
        given["max_pages"] = max(1, -(-lim // settings.PAGE_SIZE))
    before = _snapshot(client)
    listing = _call(client, "orders", given)
    res = _BY_NAME["lines"]
    full, details = _with_details(client, res, listing, lim, progress)
    info = dict(getattr(listing, "meta", None) or {}) | {"details": details}
    out = frames.order_tables(full, tz=_tz(client))
    for kind, df in out.items():
        _stamp(df, _BY_NAME["orders" if kind == "orders" else kind], given, lim, info, before,
               client, _tz(client))  # fmt: skip
    return out


# ------------------------------------------------------------------ helpers


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ConfigError(f"limit must be a whole number of rows, not {value!r}.")
    return int(str(value).strip())


def _tz(client: Any) -> Any:
    return getattr(client, "tz", None)


def _snapshot(client: Any) -> Any:
    stats = getattr(client, "stats", None)
    snap = getattr(stats, "snapshot", None)
    return snap() if callable(snap) else None


def _call(client: Any, method: str, kwargs: Mapping[str, Any]) -> Any:
    func: Callable[..., Any] | None = getattr(client, method, None)
    if not callable(func):
        raise ConfigError(f"This client has no {method}() method, so it cannot fetch that table.")
    return func(**kwargs)


def _key(record: Mapping[str, Any]) -> Any:
    value = record.get("id_str")
    return value if value not in (None, "") else record.get("id")


def _with_details(
    client: Any, res: Resource, records: Any, limit: int | None, progress: bool = False
) -> tuple[list[Any], int]:
    """Replace abridged records by full ones (only those lacking ``res.needs``)."""
    assert res.detail is not None and res.needs is not None
    recs = frames.as_records(records)
    if limit is not None:
        recs = recs[:limit]
    get = getattr(client, res.detail)
    todo = sum(1 for rec in recs if res.needs not in rec and _key(rec) is not None)
    bar = _bar(todo, res.name) if progress and todo > settings.PAGE_SIZE else None
    out, fetched = [], 0
    try:
        for rec in recs:
            if res.needs in rec or _key(rec) is None:
                out.append(rec)
            else:
                out.append(get(_key(rec)))
                fetched += 1
                if bar is not None:
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    return out, fetched


def _bar(total: int, name: str) -> Any:
    """A progress bar for a long run of one-request-per-record fetches (one request each: the
    pull engine, ``--background``, does the same concurrently and resumably)."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="order", desc=f"Kounta {name}: full orders", leave=False)


def _one_order(client: Any, given: dict[str, Any], tz: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    part = str(given.get("part", "lines")).strip().lower()
    if part not in _ORDER_PARTS:
        raise ConfigError(f"part must be one of {', '.join(_ORDER_PARTS)}, not {part!r}.")
    if ("id" in given) == ("sale_number" in given):
        raise ConfigError("order needs exactly one of id= or sale_number=.")
    if "id" in given:
        record = client.order(given["id"])
        endpoint = f"orders/{given['id']}"
    else:
        record = client.order_by_sale(given["sale_number"])
        endpoint = f"orders/saleid/{given['sale_number']}"
    return frames.frame(part, [record], tz=tz), {"endpoint": endpoint}


def _status_records(body: Any) -> Any:
    if isinstance(body, Mapping) and isinstance(body.get("sites"), list):
        return body["sites"]
    return body


def _inventory(client: Any, given: dict[str, Any], tz: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One site's stock, or every site's stacked (the endpoint only exists per site)."""
    if "site" in given:
        sites = [given["site"]]
    else:
        sites = [s["id"] for s in client.sites() if isinstance(s, Mapping) and "id" in s]
    parts, endpoints = [], []
    for site in sites:
        records = client.inventory(site)
        endpoints.append((getattr(records, "meta", None) or {}).get("endpoint", "inventory"))
        df = frames.frame("inventory", records, tz=tz)
        _fill_site(client, df, "site_id", site)
        parts.append(df)
    if not parts:
        return frames.empty("inventory", tz=tz), {"endpoint": "inventory"}
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return df, {"endpoint": endpoints[0] if len(endpoints) == 1 else endpoints, "sites": len(sites)}


def _fill_site(client: Any, df: pd.DataFrame, column: str, site: Any) -> None:
    if not df[column].isna().any():
        return
    resolve = getattr(client, "resolve_site", None)
    site_id = resolve(site) if callable(resolve) else site
    if isinstance(site_id, int) or str(site_id).isdigit():
        df[column] = df[column].fillna(int(site_id))


def _stamp(
    df: pd.DataFrame,
    res: Resource,
    given: Mapping[str, Any],
    limit: int | None,
    info: Mapping[str, Any],
    before: Any,
    client: Any,
    tz: Any,
) -> None:
    meta: dict[str, Any] = {"resource": res.name}
    meta.update(info)
    meta["filters"] = {**dict(info.get("filters") or {}), **dict(given)} | (
        {"limit": limit} if limit is not None else {}
    )
    meta.setdefault("fetched_at", datetime.now(UTC))
    after = _snapshot(client)
    if before is not None and after is not None:
        try:
            delta = after - before
            meta["stats"] = delta.as_dict() if hasattr(delta, "as_dict") else delta
        except TypeError:
            pass
    frames.stamp(df, str(df.attrs.get("kind") or res.kind), tz, meta)
