"""Lists: 25-record pages with an ``X-Next-Page`` cursor, legacy page numbers, and the lists that
need more than sorting by id (orders with their filters, shifts, reconciliations).

Choices (docs/api.md leaves them open; docs/sandbox.md explains them):

- Orders and reconciliations newest first, shifts by start time, everything else ascending id.
- The ``start`` cursor names the first record of the next page (inclusive): an order or
  reconciliation id, a record id, or ``<YYYYMMDD>.<n>`` for shifts.
- A bare date in a ``created…`` filter compares as a whole local day of the company:
  ``created=D`` is that day, ``_gte D`` starts at D's midnight, ``_gt D`` at the next midnight,
  ``_lt D`` ends at D's midnight, ``_lte D`` includes all of D. Datetimes compare as instants
  (without an offset they are local time).
"""

from __future__ import annotations

import bisect
import heapq
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from .routing import ApiCall, parse_day
from .timeline import parse_moment
from .web import JsonAnswer, bad_request, not_found

__all__ = [
    "ORDER_ITEM", "PAGE_SIZE", "OrderQuery", "id_list", "order_item", "order_list", "page",
    "reconciliation_list", "shift_list", "site_of", "Bound", "IdsMemo", "customer_of", "days_desc",
    "pick", "start_int", "time_bounds", "value_bounds",
]

PAGE_SIZE = 25
#: Abridged order list items (docs/api.md §5).
ORDER_ITEM = ("id", "id_str", "sale_number", "status", "notes", "site_id", "register_id",
              "staff_id", "customer_id", "total", "total_tax", "paid", "deleted", "order_type",
              "is_refund", "refunded_order_id", "created_at", "updated_at")
_DATE_FILTERS = ("created", "created_gt", "created_gte", "created_lt", "created_lte")
_VALUE_FILTERS = ("value", "value_gt", "value_gte", "value_lt", "value_lte")
_BAD_CURSOR = "The start cursor is not valid; use the X-Next-Page URL as given."

Bound = tuple[datetime | None, bool, datetime | None, bool]  # (low, inclusive, high, inclusive)
#: A stored timestamp (always ISO-8601 with an offset, written by the sandbox): the plain stdlib
#: parser, on the hot path of every list page (client input goes through timeline.parse_moment).
_stamp = datetime.fromisoformat


# -- pages ---------------------------------------------------------------------------------------

def page(call: ApiCall, items: Iterator[tuple[str, dict]], to_item: Callable[[dict], dict],
         whole: Callable[[], Sequence[dict]]) -> JsonAnswer:
    """One page of a list.

    ``items`` are ``(cursor, record)`` pairs from the request's ``start`` cursor on; ``whole``
    gives every record of the query (ignoring ``start``) in list order, for legacy page numbers:
    ``X-Page: n`` (0-based) answers records ``25n…25n+24`` with ``X-Pages`` (the page count of the
    whole query), which is also sent on every list answer when ``legacy_pages="always"``.
    """
    req = call.req
    mode = call.options.legacy_pages
    legacy = req.headers.get("x-page") if mode != "never" else None
    if legacy is not None:
        try:
            n = int(legacy.strip())
        except ValueError:
            raise bad_request("X-Page must be a page number from 0.") from None
        everything = whole()
        pages = max(1, math.ceil(len(everything) / PAGE_SIZE))
        chunk = everything[n * PAGE_SIZE:(n + 1) * PAGE_SIZE] if n >= 0 else []
        return JsonAnswer([to_item(r) for r in chunk], headers=[("X-Pages", str(pages))])
    out: list[dict] = []
    headers: list[tuple[str, str]] = []
    for cursor, record in items:
        if len(out) == PAGE_SIZE:
            query = [(k, v) for k, v in parse_qsl(req.query_string, keep_blank_values=True) if k != "start"]
            query.append(("start", cursor))
            headers.append(("X-Next-Page", f"{req.base}{quote(req.path)}?{urlencode(query)}"))
            break
        out.append(to_item(record))
    if mode == "always":
        headers.append(("X-Pages", str(max(1, math.ceil(len(whole()) / PAGE_SIZE)))))
    return JsonAnswer(out, headers=headers)


def pick(record: dict, fields: tuple[str, ...]) -> dict:
    return {k: record.get(k) for k in fields}


def start_int(call: ApiCall) -> int | None:
    raw = call.req.query.get("start")
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 20:
        raise bad_request(_BAD_CURSOR)
    return int(raw)


def id_list(call: ApiCall, records: Iterable[dict], fields: tuple[str, ...] | None = None,
            to_item: Callable[[dict], dict] | None = None) -> JsonAnswer:
    """A list in ascending id order, paged by ``start=<id>``."""
    start = start_int(call)
    ordered = sorted(records, key=lambda r: r["id"])
    if to_item is None:
        to_item = (lambda r: pick(r, fields)) if fields else (lambda r: r)
    items = ((str(r["id"]), r) for r in ordered if start is None or r["id"] >= start)
    return page(call, items, to_item, lambda: ordered)


def site_of(record: dict) -> int | None:
    if "site_id" in record:
        return record["site_id"]
    return (record.get("site") or {}).get("id")


def customer_of(order: dict) -> int | None:
    if order.get("customer_id") is not None:
        return order["customer_id"]
    return (order.get("customer") or {}).get("id")


def order_item(order: dict) -> dict:
    """The abridged list item of a full order."""
    item = {k: order.get(k) for k in ORDER_ITEM}
    if "staff_id" not in order:
        item["staff_id"] = order.get("staff_member_id")
    if "customer_id" not in order:
        item["customer_id"] = customer_of(order)
    if order.get("total_tax") is None:
        item["total_tax"] = round(sum(float(line.get("line_total_tax") or 0) for line in order.get("lines") or []), 2)
    return item


def days_desc(company: Any, lo: datetime | None, hi: datetime | None, *, hi_open: bool = False) -> Iterator[date]:
    """The company's local days from ``hi`` down to ``lo`` (within the history window); with
    ``hi_open`` a ``hi`` at local midnight (a bare-date bound) leaves its own day out."""
    tz = company.tz
    last = company.last_day()
    first = company.first_day
    if hi is not None:
        local = hi.astimezone(tz)
        top = local.date()
        if hi_open and local == _midnight(top, tz):
            top -= timedelta(days=1)
        last = min(last, top)
    if lo is not None:
        first = max(first, lo.astimezone(tz).date())
    day = last
    while day >= first:
        yield day
        day -= timedelta(days=1)


def _midnight(day: date, tz: Any) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


# -- orders --------------------------------------------------------------------------------------

class OrderQuery:
    """The filters of one order list request: status segment, path scopes, dates and values."""

    def __init__(self, call: ApiCall, status: str | None) -> None:
        self.call = call
        self.company = call.company
        self.status = status
        self.scope = dict(call.scope)
        q = call.req.query
        self.bounds: Bound = time_bounds(self.company.tz, q)
        self.values = value_bounds(q)
        self.value_key = tuple((name, q[name]) for name in _VALUE_FILTERS if q.get(name))

    def keep(self, o: dict) -> bool:
        """Does a full order pass every filter?"""
        f = self.scope
        if self.status is not None and o.get("status") != self.status:
            return False
        if "register" in f and o.get("register_id") != f["register"]:
            return False
        if "staff" in f and o.get("staff_id", o.get("staff_member_id")) != f["staff"]:
            return False
        if "customer" in f and customer_of(o) != f["customer"]:
            return False
        if "site" in f and o.get("site_id") != f["site"]:
            return False
        lo, lo_incl, hi, hi_incl = self.bounds
        if lo is not None or hi is not None:
            t = _stamp(o["created_at"])
            if lo is not None and (t < lo or (t == lo and not lo_incl)):
                return False
            if hi is not None and (t > hi or (t == hi and not hi_incl)):
                return False
        total = o.get("total") or 0.0
        return all(op(total, v) for op, v in self.values)

    def sites(self) -> list[int]:
        company, f = self.company, self.scope
        sites = [f["site"]] if "site" in f else list(company.sites)
        if "register" in f:
            sites = [s for s in sites if s == site_of(company.registers[f["register"]])]
        return sites

    def stream(self, start_key: tuple[datetime, int] | None) -> Iterator[tuple[str, dict]]:
        """``(cursor, order)`` newest first, from the cursor's order down."""
        company = self.company
        if "customer" in self.scope:
            found = [company.order(i) for i in company.order_ids_by(customer_id=self.scope["customer"])]
            rows = sorted((((_stamp(o["created_at"]), o["id"]), o) for o in found if o is not None and self.keep(o)),
                          key=lambda t: t[0], reverse=True)
            for key, o in rows:
                if start_key is None or key <= start_key:
                    yield str(o["id"]), o
            return
        lo, _, top, top_incl = self.bounds
        top_open = not top_incl
        if start_key is not None and (top is None or start_key[0] < top):
            top, top_open = start_key[0], False
        sites = self.sites()
        for day in days_desc(company, lo, top, hi_open=top_open):
            # Each site's day is ascending; walk them backwards from the cursor and merge, so a
            # page costs ~25 records instead of a whole day.
            merged = heapq.merge(*(_newest_first(company.orders_on(site, day), start_key) for site in sites),
                                 key=lambda t: t[0], reverse=True)
            for _key, o in merged:
                if self.keep(o):
                    yield str(o["id"]), o

    def matching_ids(self) -> list[int]:
        """Every matching order id, newest first (what legacy page numbers and ``X-Pages``
        count): from the data layer's cheap order rows, remembered per query until the clock
        moves or an order is written."""
        app, company = self.call.app, self.company
        key = (company.id, self.status, tuple(sorted(self.scope.items())), self.bounds, self.value_key)
        version = (company.writes, app.business.clock.timestamp())
        found = app.order_ids_memo.get(key, version)
        if found is not None:
            return found
        if "customer" in self.scope:
            ids = [int(cursor) for cursor, _ in self.stream(None)]
        else:
            ids = self._ids_from_rows()
        app.order_ids_memo.put(key, version, ids)
        return ids

    def _ids_from_rows(self) -> list[int]:
        company, f = self.company, self.scope
        lo, lo_incl, hi, hi_incl = self.bounds
        lo_e = lo.timestamp() if lo is not None else None
        hi_e = hi.timestamp() if hi is not None else None
        register, staff, status, vals = f.get("register"), f.get("staff"), self.status, self.values
        ids: list[int] = []
        for day in days_desc(company, lo, hi, hi_open=not hi_incl):
            found: list[tuple[float, int]] = []
            for site in self.sites():
                for row in company.order_rows(site, day, totals=bool(vals)):
                    if ((status is not None and row.status != status)
                            or (register is not None and row.register_id != register)
                            or (staff is not None and row.staff_id != staff)):
                        continue
                    if lo_e is not None and (row.epoch < lo_e or (row.epoch == lo_e and not lo_incl)):
                        continue
                    if hi_e is not None and (row.epoch > hi_e or (row.epoch == hi_e and not hi_incl)):
                        continue
                    if vals and not all(op(row.total or 0.0, v) for op, v in vals):
                        continue
                    found.append((row.epoch, row.id))
            found.sort(reverse=True)
            ids.extend(oid for _, oid in found)
        return ids


def order_list(call: ApiCall, status: str | None) -> JsonAnswer:
    """``GET …/orders[/{status}]`` under any scopes, with date and value filters."""
    query = OrderQuery(call, status)
    company = call.company
    start_key = None
    raw = call.req.query.get("start")
    if raw:
        anchor = company.order(int(raw)) if raw.isdigit() and len(raw) <= 20 else None
        if anchor is None:
            raise bad_request(_BAD_CURSOR)
        start_key = (_stamp(anchor["created_at"]), anchor["id"])
    return page(call, query.stream(start_key), order_item,
                lambda: _OrderSequence(company, query.matching_ids()))


class IdsMemo:
    """A small LRU of matching-id lists, each valid for one data version."""

    def __init__(self, size: int = 16) -> None:
        self._lock = threading.Lock()
        self._data: OrderedDict[tuple, tuple[tuple, list[int]]] = OrderedDict()
        self._size = size

    def get(self, key: tuple, version: tuple) -> list[int] | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None or hit[0] != version:
                return None
            self._data.move_to_end(key)
            return hit[1]

    def put(self, key: tuple, version: tuple, ids: list[int]) -> None:
        with self._lock:
            self._data[key] = (version, ids)
            self._data.move_to_end(key)
            while len(self._data) > self._size:
                self._data.popitem(last=False)


class _OrderSequence(Sequence[dict]):
    """Orders by id, fetched from the data layer only when a slice of them is read."""

    def __init__(self, company: Any, ids: list[int]) -> None:
        self._company, self._ids = company, ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [o for o in (self._company.order(i) for i in self._ids[index]) if o is not None]
        return self._company.order(self._ids[index])


def _order_key(order: dict) -> tuple[datetime, int]:
    return _stamp(order["created_at"]), order["id"]


def _newest_first(orders: list[dict], start_key: tuple[datetime, int] | None
                  ) -> Iterator[tuple[tuple[datetime, int], dict]]:
    """``orders`` (ascending by creation) newest first, from the cursor's record down."""
    end = len(orders) if start_key is None else bisect.bisect_right(orders, start_key, key=_order_key)
    for i in range(end - 1, -1, -1):
        order = orders[i]
        yield _order_key(order), order


#: Bounds past what datetimes can hold (``created_lte=9999-12-31`` means "no upper bound").
_FAR_PAST = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 12, 30, tzinfo=UTC)


def _when(tz: Any, name: str, raw: str) -> tuple[datetime, date | None]:
    """A filter value as an aware datetime, and the day when it was a bare date."""
    try:
        if len(raw.strip()) == 10:
            day = date.fromisoformat(raw.strip())
            return _clamped(_midnight(day, tz)), day
        return _clamped(parse_moment(raw, tz)), None
    except ValueError:
        raise bad_request(f"{name} must be a date (2026-05-01) or a datetime (2026-05-01T14:00:00Z).") from None


def _clamped(moment: datetime) -> datetime:
    """``moment`` within the years the sandbox can compute with (any order lies between)."""
    try:
        return min(max(moment, _FAR_PAST), _FAR_FUTURE)
    except OverflowError:  # an offset pushed it past year 1 or 9999
        return _FAR_PAST if moment.year < 2000 else _FAR_FUTURE


def _next_midnight(day: date, tz: Any) -> datetime:
    try:
        return _clamped(_midnight(day + timedelta(days=1), tz))
    except OverflowError:
        return _FAR_FUTURE


def time_bounds(tz: Any, q: dict[str, str]) -> Bound:
    """The ``created…`` filters of a query as one interval (the tightest of all given)."""
    lows: list[tuple[datetime, bool]] = []
    highs: list[tuple[datetime, bool]] = []
    for name in _DATE_FILTERS:
        raw = q.get(name)
        if raw is None or raw == "":
            continue
        t, day = _when(tz, name, raw)
        following = _next_midnight(day, tz) if day is not None else t
        if name == "created":
            lows.append((t, True))
            highs.append((following, False) if day is not None else (t, True))
        elif name == "created_gte":
            lows.append((t, True))
        elif name == "created_gt":
            lows.append((following, True) if day is not None else (t, False))
        elif name == "created_lt":
            highs.append((t, False))
        else:  # created_lte
            highs.append((following, False) if day is not None else (t, True))
    # the tightest bound wins; at the same instant an exclusive bound is the tighter one
    lo = max(lows, key=lambda b: (b[0], not b[1]), default=(None, True))
    hi = min(highs, key=lambda b: (b[0], b[1]), default=(None, True))
    return lo[0], lo[1], hi[0], hi[1]


def value_bounds(q: dict[str, str]) -> list[tuple[Callable[[float, float], bool], float]]:
    ops: dict[str, Callable[[float, float], bool]] = {
        "value": lambda a, b: abs(a - b) < 0.005, "value_gt": lambda a, b: a > b,
        "value_gte": lambda a, b: a >= b - 1e-9, "value_lt": lambda a, b: a < b,
        "value_lte": lambda a, b: a <= b + 1e-9}
    out = []
    for name in _VALUE_FILTERS:
        raw = q.get(name)
        if raw is None or raw == "":
            continue
        try:
            value = float(raw)
        except ValueError:
            raise bad_request(f"{name} must be a number of dollars, e.g. 25.50.") from None
        if not math.isfinite(value):
            raise bad_request(f"{name} must be a number of dollars, e.g. 25.50.")
        out.append((ops[name], value))
    return out


# -- shifts --------------------------------------------------------------------------------------

def shift_list(call: ApiCall, first: date, last: date | None) -> JsonAnswer:
    """Shifts started from ``first`` (to ``last``) under site/staff scopes, by start time."""
    company, f = call.company, call.scope
    end = company.last_day() if last is None else min(last, company.last_day())
    start_day, start_idx = first, 0
    raw = call.req.query.get("start")
    if raw:
        day_s, _, idx_s = raw.partition(".")
        try:
            start_day = max(first, datetime.strptime(day_s, "%Y%m%d").date())
            start_idx = int(idx_s or 0)
        except ValueError:
            raise bad_request(_BAD_CURSOR) from None
    sites = [f["site"]] if "site" in f else list(company.sites)

    def view(shift: dict) -> dict:
        if "site" in f or "staff" in f:
            shift = {k: v for k, v in shift.items()
                     if not (k == "site" and "site" in f) and not (k == "staff_member" and "staff" in f)}
        return shift

    def stream(from_day: date, from_idx: int) -> Iterator[tuple[str, dict]]:
        day = max(from_day, company.first_day)
        while day <= end:
            rows = [s for site in sites for s in company.shifts_on(site, day)
                    if "staff" not in f or (s.get("staff_member") or {}).get("id") == f["staff"]]
            rows.sort(key=lambda s: (s.get("started_at") or "", (s.get("staff_member") or {}).get("id", 0),
                                     (s.get("site") or {}).get("id", 0)))
            for i, shift in enumerate(rows):
                if day == from_day and i < from_idx:
                    continue
                yield f"{day:%Y%m%d}.{i}", shift
            day += timedelta(days=1)

    return page(call, stream(start_day, start_idx), view, lambda: [shift for _, shift in stream(first, 0)])


# -- reconciliations -----------------------------------------------------------------------------

def reconciliation_list(call: ApiCall, tail: list[str]) -> JsonAnswer:
    """``/reconciliations[/unprocessed][/{date}|/since/{date}]`` under site/register scopes."""
    company, f = call.company, call.scope
    unprocessed = bool(tail) and tail[0] == "unprocessed"
    if unprocessed:
        tail = tail[1:]
    lo = hi = None
    match tail:
        case []:
            pass
        case ["since", day]:
            lo = parse_day(day)
        case [day]:
            lo = hi = parse_day(day)
        case _:
            raise not_found()
    sites = [f["site"]] if "site" in f else list(company.sites)
    if "register" in f:
        sites = [s for s in sites if s == site_of(company.registers[f["register"]])]
    start = start_int(call)
    start_key = None
    if start is not None:
        anchor = company.reconciliation(start)
        if anchor is None:
            raise bad_request(_BAD_CURSOR)
        start_key = (_stamp(anchor["created_at"]), anchor["id"])
    tz = company.tz
    # nothing lies outside the history window: clamp, so far-off dates cannot overflow
    window = (company.first_day - timedelta(days=2), company.last_day() + timedelta(days=2))
    if lo is not None:
        lo = min(max(lo, window[0]), window[1])
    if hi is not None:
        hi = min(max(hi, window[0]), window[1])
    lo_dt = _midnight(lo, tz) if lo else None
    hi_dt = datetime(hi.year, hi.month, hi.day, 23, 59, 59, tzinfo=tz) if hi else None
    whole_top = hi_dt
    if start_key is not None and (hi_dt is None or start_key[0] < hi_dt):
        hi_dt = start_key[0]

    def keep(rec: dict) -> bool:
        if unprocessed and rec.get("processed"):
            return False
        return "register" not in f or (rec.get("register") or {}).get("id") == f["register"]

    def stream(cursor: tuple[datetime, int] | None, top: datetime | None) -> Iterator[tuple[str, dict]]:
        # A reconciliation closes a trading day that may run past midnight: look one day ahead.
        for day in days_desc(company, lo_dt, top + timedelta(days=1) if top else None):
            rows = [r for s in sites for r in call.app.reconciliations_on(company, s, day) if keep(r)]
            rows.sort(key=lambda r: (_stamp(r["created_at"]), r["id"]), reverse=True)
            for rec in rows:
                key = (_stamp(rec["created_at"]), rec["id"])
                if cursor is not None and key > cursor:
                    continue
                if lo is not None and key[0].astimezone(tz).date() < lo and day < lo:
                    continue
                if hi is not None and day > hi:
                    continue
                yield str(rec["id"]), rec

    return page(call, stream(start_key, hi_dt), lambda r: r, lambda: [rec for _, rec in stream(None, whole_top)])
