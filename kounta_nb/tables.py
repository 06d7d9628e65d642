"""Resource name → typed DataFrame: the one table the magics (and users) ask for by name.

>>> from kounta_nb import tables
>>> tables.fetch(client, "orders", site="Café", since="2026-05-01")   # COMPLETE orders
>>> tables.fetch(client, "orders", since="7d", status="any")          # every status
>>> tables.fetch(client, "lines", since="yesterday")          # abridged list, then each order
>>> tables.fetch(client, "products", full=True)               # every full product record
>>> sorted(tables.RESOURCES)                                   # name → description

Every table is a row of the endpoint catalogue (:data:`kounta_nb.endpoints.TABLES`): the client
reads it with :meth:`Kounta.read <kounta_nb.client.Kounta.read>`, :func:`kounta_nb.frames.frame`
types it in the company's time zone, and ``df.attrs["meta"]`` says where it came from (endpoint,
filters, when, requests, and ``stale``/``stale_since`` when offline mode served cached data).

**Orders default to COMPLETE** in every table built from orders (``orders``, ``lines``,
``payments``, ``options``), here and in ``%kounta``: that is what sales figures are made of.
``status="any"`` gives every status; ``status="pending"`` etc. one. (``Kounta.orders()`` itself
returns what the API returns: every status unless asked.)

``site`` is accepted by every table (``"all"`` = every site): applied where the API narrows by
site, ignored (and listed in ``meta["ignored"]``) for company-wide tables such as ``taxes``.

Tables built from full records the list leaves out (order lines, payments and options; per-site
product prices; a product's categories) fetch the list, then each record one at a time — except
orders whose listed ``updated_at`` equals that of the copy already in the HTTP cache (the list
was fetched in this same call, so that copy is provably current: no request). ``full=True`` does
the same for any abridged list (products, customers, staff, …) and says first how many requests
it takes. For months of orders use the pull engine (:meth:`Kounta.pull_orders`), which fetches
details concurrently under the rate limit and resumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from . import frames
from .endpoints import CATALOGUE, ORDER_FILTERS, TABLES, Endpoint, Table, check_filters, table
from .errors import ConfigError, warn
from .progress import progress_bar

__all__ = ["DEFAULT_ORDER_STATUS", "RESOURCES", "fetch", "fetch_order_tables", "resource"]

#: The status every table of orders defaults to (``status="any"`` for all).
DEFAULT_ORDER_STATUS = "complete"
#: Every resource name → a one-line description (help texts, magics, tab completion).
RESOURCES: dict[str, str] = {name: t.description for name, t in TABLES.items()}

_ORDER_PARTS = ("lines", "payments", "options", "orders")
#: Filters every table accepts: ``limit``, and ``site`` as a scope (ignored where it cannot apply).
_COMMON = ("limit",)
_SCOPE = ("site",)


def resource(name: str) -> Table:
    """The table called ``name`` (``-`` and case ignored); ConfigError with a "did you mean"
    and the valid names otherwise."""
    return table(name)


def fetch(client: Any, resource_name: str, *, progress: bool = False, full: bool = False,
          **filters: Any) -> pd.DataFrame:  # fmt: skip
    """Fetch ``resource_name`` through ``client`` and return its typed DataFrame.

    ``filters`` are the resource's own (see :data:`RESOURCES` / :func:`resource`; ``None`` values
    are ignored) plus ``limit`` (at most that many rows; tables built from full records also
    fetch at most that many of them). ``full=True`` replaces abridged list items by full records
    (one request each, announced first). ``progress=True`` shows a progress bar while more than
    a page of full records is fetched. ``df.attrs["meta"]`` records the resource, the endpoint,
    the filters, when it was fetched, how many detail records were fetched, the request stats and
    whether any of it is stale (offline mode).
    """
    t = resource(resource_name)
    if not isinstance(full, bool):
        raise ConfigError(f"full must be True or False, not {full!r}.")
    given = {k: v for k, v in filters.items() if v is not None}
    own = t.filters
    check_filters(t.name, given, own + _COMMON + _SCOPE)
    ignored = sorted(k for k in _SCOPE if k in given and k not in own)
    for key in ignored:
        given.pop(key)
    if isinstance(given.get("site"), str) and given["site"].strip().lower() == "all":
        given.pop("site")
    limit = _limit(given.pop("limit", None))
    row = CATALOGUE[t.endpoint]
    one_of = row.needs_one_of
    every_site = row.per_site and not any(n in given for n in ("site", *one_of))
    if len(one_of) > 1 and sum(n in given for n in one_of) != 1 and not every_site:
        example = " (e.g. --since 7d)" if "since" in one_of else ""
        raise ConfigError(f"{t.name} need exactly one of {' or '.join(n + '=' for n in one_of)}{example}.")
    if row.name == "orders":
        given.setdefault("status", DEFAULT_ORDER_STATUS)
    before = _snapshot(client)
    tz = _tz(client)
    if t.name == "order":
        df, info = _one_order(client, given, tz)
    elif row.kind == "detail":
        df, info = frames.frame(t.kind, [client.read(row.name, **given)], tz=tz), {"endpoint": row.name}
    elif every_site:
        df, info = _every_site(client, row, t, given, tz)
    else:
        records = client.read(row.name, **given, limit=limit)
        info = dict(getattr(records, "meta", None) or {})
        needs = t.needs or (_FULL if full and row.list_fields is not None else None)
        if needs is not None and row.detail is not None:
            records, info["details"] = _with_details(client, row, records, needs, limit, progress, t.name)
        df = frames.frame(t.kind, records, tz=tz)
    if row.site_column and "site" in given and row.site_column in df.columns:
        _fill_site(client, df, row.site_column, given["site"])
    if limit is not None:
        df = df.head(limit).copy()
    if ignored:
        info = {**info, "ignored": ignored}
    _stamp(df, t, given, limit, info, before, client, tz)
    return df


def fetch_order_tables(
    client: Any, *, limit: int | None = None, progress: bool = False, **filters: Any
) -> dict[str, pd.DataFrame]:
    """The matching orders' four tables (``orders`` full, ``lines``, ``payments``, ``options``):
    the abridged list, then each full order that changed since the cached copy, one request at a
    time (``progress=True``: with a progress bar). COMPLETE orders unless ``status=`` says
    otherwise (``"any"`` for all)."""
    given = {k: v for k, v in filters.items() if v is not None}
    check_filters("Orders", given, ORDER_FILTERS, plural=True)
    given.setdefault("status", DEFAULT_ORDER_STATUS)
    lim = _limit(limit)
    before = _snapshot(client)
    row = CATALOGUE["orders"]
    listing = client.read("orders", **given, limit=lim)
    full, details = _with_details(client, row, listing, "lines", lim, progress, "orders")
    info = dict(getattr(listing, "meta", None) or {}) | {"details": details}
    tz = _tz(client)
    out = frames.order_tables(full, tz=tz)
    for kind, df in out.items():
        _stamp(df, TABLES[kind], given, lim, info, before, client, tz)
    return out


# ------------------------------------------------------------------ helpers

#: ``needs`` of ``full=True``: a key no list item has, so every item is fetched in full.
_FULL = "\x00full"


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise ConfigError(f"limit must be a whole number of rows, not {value!r}.")
    return int(text)


def _tz(client: Any) -> Any:
    return getattr(client, "tz", None)


def _snapshot(client: Any) -> Any:
    stats = getattr(client, "stats", None)
    snap = getattr(stats, "snapshot", None)
    return snap() if callable(snap) else None


def _with_details(client: Any, row: Endpoint, records: Any, needs: str, limit: int | None,
                  progress: bool = False, table_name: str = "") -> tuple[list[Any], int]:  # fmt: skip
    """Replace abridged records by full ones (only those lacking ``needs``); returns the records
    and how many full records were read (requests, or copies proven current by the listing)."""
    assert row.detail is not None
    recs = frames.as_records(records)
    if limit is not None:
        recs = recs[:limit]
    todo = [rec for rec in recs if needs not in rec]
    if needs == _FULL and todo:
        per_minute = getattr(getattr(getattr(client, "transport", None), "limiter", None), "per_minute", None)
        pace = ""
        if per_minute:
            seconds = len(todo) * 60.0 / float(per_minute)
            took = f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"
            pace = f", about {took} at {per_minute:g} requests/min"
        warn(f"Fetching {len(todo)} full {row.detail.replace('_', ' ')} records: {len(todo)} requests{pace}.")
    bar = _bar(len(todo), table_name, row.detail) if progress and len(todo) > 25 else None
    meta = getattr(records, "meta", None)
    listing = type(records)(todo) if meta is None else _with_meta(records, todo)
    full = iter(client.details(listing, name=row.detail, listed_now=True))
    out, fetched = [], 0
    try:
        for rec in recs:
            if needs not in rec:
                out.append(next(full))
                fetched += 1
                if bar is not None:
                    bar.update()
            else:
                out.append(rec)
    finally:
        if bar is not None:
            bar.close()
    return out, fetched


def _with_meta(records: Any, items: list[Any]) -> Any:
    """``items`` as a list of the same class as ``records`` carrying its ``meta`` (the client
    reads the listing's freshness from it)."""
    try:
        copy = type(records)(items)
        copy.meta = records.meta
    except (TypeError, AttributeError):
        return records if len(items) == len(records) else items
    return copy


_NOUNS = {"order": "orders", "product": "products", "customer": "customers", "staff_member": "staff members",
          "site": "sites", "register": "registers", "category": "categories"}  # fmt: skip


def _bar(total: int, table_name: str, detail: str) -> Any:
    """A bar for a run of one-request-per-record fetches; it stays (``leave=True``) so the saved
    notebook shows how the run ended (see :mod:`kounta_nb.progress`). None without tqdm."""
    noun = _NOUNS.get(detail, detail)
    return progress_bar(total=total, desc=f"Kounta {table_name}: full {noun}", unit=noun.split()[0].rstrip("s"),
                        leave=True)


def _one_order(client: Any, given: dict[str, Any], tz: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    part = str(given.get("part", "lines")).strip().lower()
    if part not in _ORDER_PARTS:
        raise ConfigError(f"part must be one of {', '.join(_ORDER_PARTS)}, not {part!r}.")
    if ("id" in given) == ("sale_number" in given):
        raise ConfigError("order needs exactly one of id= or sale_number=.")
    if "id" in given:
        record = client.read("order", id=given["id"])
        endpoint = f"orders/{given['id']}"
    else:
        record = client.read("order_by_sale", sale_number=given["sale_number"])
        endpoint = f"orders/saleid/{given['sale_number']}"
    return frames.frame(part, [record], tz=tz), {"endpoint": endpoint}


def _every_site(client: Any, row: Endpoint, t: Table, given: dict[str, Any],
                tz: Any) -> tuple[pd.DataFrame, dict[str, Any]]:  # fmt: skip
    """A per-site endpoint (inventory) without a site: every site's records, stacked."""
    sites = [s["id"] for s in client.read("sites") if isinstance(s, Mapping) and "id" in s]
    parts, endpoints, stale = [], [], []
    for site in sites:
        records = client.read(row.name, **given, site=site)
        meta = getattr(records, "meta", None) or {}
        endpoints.append(meta.get("endpoint", row.name))
        if meta.get("stale"):
            stale.append(meta.get("stale_since"))
        df = frames.frame(t.kind, records, tz=tz)
        if row.site_column:
            _fill_site(client, df, row.site_column, site)
        parts.append(df)
    if not parts:
        return frames.empty(t.kind, tz=tz), {"endpoint": row.name}
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    info: dict[str, Any] = {"endpoint": endpoints[0] if len(set(endpoints)) == 1 else endpoints,
                            "sites": len(sites), "stale": bool(stale)}  # fmt: skip
    if stale:
        info["stale_since"] = min(s for s in stale if s is not None)
    return df, info


def _fill_site(client: Any, df: pd.DataFrame, column: str, site: Any) -> None:
    if not df[column].isna().any():
        return
    resolve = getattr(client, "resolve_site", None)
    site_id = resolve(site) if callable(resolve) else site
    if isinstance(site_id, int) or str(site_id).isdigit():
        df[column] = df[column].fillna(int(site_id))


def _stamp(df: pd.DataFrame, t: Table, given: Mapping[str, Any], limit: int | None,
           info: Mapping[str, Any], before: Any, client: Any, tz: Any) -> None:  # fmt: skip
    meta: dict[str, Any] = {"resource": t.name}
    meta.update(info)
    meta["filters"] = {**dict(info.get("filters") or {}), **dict(given)} | (
        {"limit": limit} if limit is not None else {}
    )
    meta.setdefault("fetched_at", datetime.now(UTC))
    meta.setdefault("stale", False)
    after = _snapshot(client)
    if before is not None and after is not None:
        try:
            delta = after - before
            meta["stats"] = delta.as_dict() if hasattr(delta, "as_dict") else delta
        except TypeError:
            pass
    frames.stamp(df, str(df.attrs.get("kind") or t.kind), tz, meta)
