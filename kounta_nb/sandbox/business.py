"""The sandbox's synthetic business: companies, sites, menus, people and six months of trading.

Fixed ids (the same for every seed; only the trading differs):

=======================================  ======  =====================================================
Company                                  id      sites (id, code, kind)
=======================================  ======  =====================================================
Harbour Lane Hospitality (Sydney, NSW)   51642   1201 HLC café · 1202 TLB bar · 1203 MDR restaurant
Brunswick Street Bakehouse (Melbourne)   61873   1301 BSB café/bakery
=======================================  ======  =====================================================

* ``developer_company_id`` = 51642 (the company Basic auth reaches).
* Logins: ``demo@kounta.test`` / ``kounta`` (both companies), ``manager@harbourlane.test`` /
  ``harbour`` (51642 only), ``owner@bakehouse.test`` / ``bakehouse`` (61873 only).
* Registers: 4101 HLC1, 4102 HLC2, 4103 TLB1, 4104 TLB2, 4105 MDR1, 4106 MDR2, 4201 BSB1.
* Taxes: 829 GST 0.1, 830 GST Free 0, 844 WET 0.29 (wine, with GST) · 929 GST, 930 GST Free.
* Payment methods: 611–614 / 621–624 (Cash, Card, American Express, Gift Card).
* Price lists: 236 Standard (base), 237 Bar, 238 Dining Room · 336 Standard.

Trading: the café opens 06:30–15:00 (07:00–15:30 weekends) with a breakfast peak and busy
weekends; the bar trades 15:00–23:00/24:00, peaks Thursday–Saturday and is closed Mondays; the
restaurant does lunch and dinner, is closed Mondays, dinner only on Tuesdays and lunch only on
Sundays; the bakery trades 07:00–16:00. Everything is closed on Christmas Day; NSW/VIC public
holidays carry a 15 % surcharge (``price_variation`` 1.15). Special days trade differently
(Mother's Day brunch, grand finals at the bar, Melbourne Cup, ...), cold drinks sell in summer and
pies in winter, and about 60 % into the window coffee (and the bakery's bread) went up in price.

Records are plain dicts in the API's JSON shape (see ``docs/api.md`` §5). Generated records are
cached and shared: treat them as read-only (copy before changing; :meth:`Company.put_order`
stores a change). The money rule and the id layout are described in
:mod:`kounta_nb.sandbox.orders`.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections import OrderedDict
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from . import orders as gen
from .cashup import reconciliation_record, shift_records
from .founding import (
    BAKERY,
    GROUP,
    MAX_EXTRA_SITES,
    USERS,
    CompanySpec,
    Founding,
    User,
    with_extra_sites,
)
from .menu import Catalogue
from .orders import DayOrders, Skeleton
from .sitemodel import SiteModel, seed_of
from .timeline import (
    Clock,
    DayTime,
    day_from_number,
    day_number,
    local_date,
    months_before,
    parse_iso,
)

__all__ = [
    "Business", "Clock", "Company", "OrderRow", "User", "DEVELOPER_COMPANY_ID", "ORDER_KINDS",
    "SMALL_KINDS",
]

DEVELOPER_COMPANY_ID = 51642


ORDER_KINDS = ("order", "line", "payment")
SMALL_KINDS = {"customer": "customers", "category": "categories", "webhook": "webhooks",
               "product": "products", "site": "sites", "register": "registers", "staff": "staff"}


class _LRU:
    """A small least-recently-used map (callers hold the business lock)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        value = self.data.get(key)
        if value is not None:
            self.data.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self.data[key] = value
        self.data.move_to_end(key)
        while len(self.data) > self.size:
            self.data.popitem(last=False)


def _as_of(record: dict, now: float) -> dict:
    """An order as it stands at ``now``: payments not yet taken are left out.

    A table still eating or a tab still open shows as ON_HOLD with what has been paid so far;
    a sale voided later is not deleted yet. An online pick-up that has not settled yet shows as
    SUBMITTED, then (once the venue has seen it, 1–4 minutes in) ACCEPTED or PENDING, with no
    payment. Only orders of the last hours can be unfinished (they settle the same day).
    """
    updated = parse_iso(record["updated_at"]).timestamp()
    if updated <= now:
        return record
    if record.get("order_payment_type") == "online":
        settled = updated
        if record["status"] == "COMPLETE" and record["payments"]:
            settled = parse_iso(record["payments"][0]["created_at"]).timestamp()
        if now < settled:
            return _pick_up_before(record, now)
    payments = [p for p in record["payments"] if parse_iso(p["created_at"]).timestamp() <= now]
    paid_c = sum(round(p["amount"] * 100) for p in payments)
    tips_c = sum(round(p["tip"] * 100) for p in payments)
    status = record["status"]
    if status == "COMPLETE" and len(payments) < len(record["payments"]):
        status = "ON_HOLD"
    last = payments[-1]["created_at"] if payments else record["created_at"]
    return {**record, "status": status, "payments": payments, "paid": paid_c / 100, "tips": tips_c / 100,
            "deleted": False, "updated_at": last}


def _pick_up_before(record: dict, now: float) -> dict:
    """An online pick-up before it settled (see :func:`_as_of`)."""
    created = parse_iso(record["created_at"])
    wall = record["id"] >> 21  # the order id's day and wall-clock second: a stable per-order draw
    seen = created.timestamp() + 60 + wall % 180
    if record["status"] == "REJECTED" or now < seen:
        status, changed = "SUBMITTED", created.timestamp()
    else:
        status, changed = ("PENDING" if wall % 2 else "ACCEPTED"), seen
    return {**record, "status": status, "payments": [], "paid": 0.0, "tips": 0.0, "deleted": False,
            "updated_at": datetime.fromtimestamp(changed, created.tzinfo).isoformat(timespec="seconds")}


class OrderRow(NamedTuple):
    """The fields of an order that list filters compare (``total`` None when not at hand)."""

    epoch: float
    id: int
    status: str
    register_id: int | None
    staff_id: int | None
    customer_id: int | None
    total: float | None


def _row_of(record: dict) -> OrderRow:
    customer = record.get("customer_id")
    if customer is None:
        customer = (record.get("customer") or {}).get("id")
    staff = record.get("staff_id", record.get("staff_member_id"))
    return OrderRow(parse_iso(record["created_at"]).timestamp(), record["id"], record.get("status", ""),
                    record.get("register_id"), staff, customer, float(record.get("total") or 0.0))


class Company:
    """One company of the sandbox: static records as mutable dicts, trading generated lazily."""

    def __init__(self, business: Business, spec: CompanySpec) -> None:
        self.business = business
        self.spec = spec
        self.id = spec.id
        self.tz = ZoneInfo(spec.tz)
        self._lock = business._lock
        self.first_day: date = months_before(self.last_day(), business.months)
        found = Founding(spec, self.tz, business.seed, self.first_day, self.last_day())
        self.catalogue: Catalogue = found.catalogue
        self.taxes: dict[int, dict] = found.taxes()
        self.payment_methods: dict[int, dict] = found.payment_methods()
        people = found.people()
        self.staff: dict[int, dict] = people.staff
        self.customers: dict[int, dict] = people.customers
        #: (day the current prices started, product id → cents added then)
        self.price_rise: tuple[date, dict[int, int]] = found.price_rise()
        self.sites: dict[int, dict]
        self.registers: dict[int, dict]
        self.sites, self.registers, self._models = found.sites(
            people, found.method_refs(self.payment_methods), self.price_rise)
        self._slots = {m.slot: m for m in self._models.values()}
        self._ledger = found.ledger()
        self.categories: dict[int, dict] = found.categories()
        self.products: dict[int, dict] = found.products()
        self.price_lists: dict[int, dict] = found.price_lists()
        self.webhooks: dict[int, dict] = found.webhooks()
        self.record: dict = found.record(people, len(self.registers), self._offset_now())
        self._init_overlay()

    def _init_overlay(self) -> None:
        """Records created or changed through the API, and the index of orders by person."""
        self._overlay: dict[int, dict] = {}
        self._overlay_epoch: dict[int, float] = {}
        self._overlay_at: dict[tuple[int, date], set[int]] = {}
        self._overlay_sales: dict[str, int] = {}
        self._recon_overlay: dict[int, dict] = {}
        #: Counts changes through put_order / put_reconciliation (lets callers cache derived lists).
        self.writes = 0
        self._issued: set[int] = set()
        self._issued_small: dict[str, int] = {}
        # order_ids_by index: name → id → [(created epoch, order id)], days up to _index_until
        self._index: dict[str, dict[int, list[tuple[int, int]]]] = {"customer": {}, "staff": {}}
        self._index_until = self.first_day - timedelta(days=1)

    # --- helpers -------------------------------------------------------------------------------

    def _iso(self, day: date, wall: int) -> str:
        return DayTime.of(day, self.tz).iso(wall)

    def _offset_now(self) -> str:
        return datetime.fromtimestamp(self.business.clock.timestamp(), self.tz).isoformat()[-6:]

    def _model(self, site_id: int) -> SiteModel:
        try:
            return self._models[site_id]
        except (KeyError, TypeError):
            raise ValueError(f"Site {site_id!r} does not belong to company {self.id}.") from None

    def last_day(self) -> date:
        """The last day of the history window: today in the company's zone, per the clock."""
        return local_date(self.business.clock.timestamp(), self.tz)

    def _in_window(self, day: date) -> bool:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"Expected a calendar date (datetime.date), not {day!r}.")
        return self.first_day <= day <= self.last_day()

    # --- generation with caches ----------------------------------------------------------------

    def _skeleton(self, model: SiteModel, day: date, refunds: bool = True) -> Skeleton:
        b = self.business
        key = (model.id, day)
        sk = b._skeletons.get(key)
        if sk is None:
            sk = gen.build_skeleton(model, day)
            b._skeletons.put(key, sk)
        if refunds and sk.refunds is None:
            prev_day = day - timedelta(days=1)
            prev = self._skeleton(model, prev_day, refunds=False) if prev_day >= self.first_day else None
            gen.add_refunds(sk, prev)
        return sk

    def _normal(self, model: SiteModel, day: date) -> list[dict]:
        b = self.business
        key = (model.id, day)
        normal = b._normals.get(key)
        if normal is None:
            normal = gen.build_normal(self._skeleton(model, day, refunds=False))
            b._normals.put(key, normal)
        return normal

    def _day(self, model: SiteModel, day: date) -> DayOrders:
        b = self.business
        key = (model.id, day)
        with self._lock:
            d = b._days.get(key)
            if d is None:
                sk = self._skeleton(model, day)
                normal = self._normal(model, day)
                yesterday: list[dict] = []
                if any(r[4] for r in sk.refunds or ()):
                    yesterday = self._normal(model, day - timedelta(days=1))
                d = gen.assemble(sk, normal, gen.build_refunds(sk, normal, yesterday))
                b._days.put(key, d)
            return d

    # --- the data-layer interface --------------------------------------------------------------

    def orders_on(self, site_id: int, day: date) -> list[dict]:
        """Full orders of a site created on a local day, ascending ``created_at``, up to now.

        Includes orders created or changed through the API (the overlay).
        """
        model = self._model(site_id)
        if not self._in_window(day):
            return []
        now = self.business.clock.timestamp()
        d = self._day(model, day)
        cut = bisect.bisect_right(d.epochs, now)
        records = d.records[:cut]
        if day >= local_date(now, self.tz):
            records = [_as_of(r, now) for r in records]
        with self._lock:
            extra = self._overlay_at.get((site_id, day))
            if not self._overlay:
                return records
            keyed: list[tuple[float, int, dict]] = [
                (e, r["id"], r) for e, r in zip(d.epochs[:cut], records, strict=True)
                if r["id"] not in self._overlay]
            for oid in extra or ():
                if self._overlay_epoch[oid] <= now:
                    keyed.append((self._overlay_epoch[oid], oid, self._overlay[oid]))
        keyed.sort(key=lambda t: (t[0], t[1]))
        return [t[2] for t in keyed]

    def order_rows(self, site_id: int, day: date, *, totals: bool = False) -> list[OrderRow]:
        """What a list filter looks at, for the orders of ``orders_on(site_id, day)``, same order.

        Closed days without API changes are read from the day's skeleton (no lines, no money:
        ``total`` is None there) unless ``totals`` is asked for; the open day and days with
        changes come from the full records.
        """
        model = self._model(site_id)
        if not self._in_window(day):
            return []
        now = self.business.clock.timestamp()
        with self._lock:
            touched = bool(self._overlay_at.get((site_id, day)))
        if totals or touched or day >= local_date(now, self.tz):
            return [_row_of(r) for r in self.orders_on(site_id, day)]
        with self._lock:
            sk = self._skeleton(model, day)
            prev = None
            if any(off for *_, off, _i in sk.refunds or ()):
                prev = self._skeleton(model, day - timedelta(days=1), refunds=False)
        base, slot, regs = sk.dt.wall_epoch, model.slot, model.registers
        custs = model.customers
        rows = [OrderRow(base + w, gen.order_id(sk.dn, w, slot, k), gen.STATUS_NAMES[st], regs[r][0], staff,
                         custs[ci]["id"] if ci >= 0 else None, None)
                for w, k, st, r, staff, ci in zip(sk.walls, sk.ks, sk.status, sk.regs, sk.staff, sk.custs,
                                                  strict=True)]
        for w, k, staff, r, off, idx in sk.refunds or ():
            refunded = prev if off else sk
            assert refunded is not None  # prev is built above whenever a refund has `off`
            ci = refunded.custs[idx]
            rows.append(OrderRow(base + w, gen.order_id(sk.dn, w, slot, k), "COMPLETE", regs[r][0], staff,
                                 custs[ci]["id"] if ci >= 0 else None, None))
        rows.sort(key=lambda row: (row.epoch, row.id))
        return [row for row in rows if row.epoch <= now]

    def order(self, order_id: int) -> dict | None:
        """The full order with this id (generated or overlay), or None."""
        with self._lock:
            if order_id in self._overlay:
                rec = self._overlay[order_id]
                return rec if self._overlay_epoch[order_id] <= self.business.clock.timestamp() else None
        decoded = gen.decode_id(order_id)
        if decoded is None or decoded[0] != gen.KIND_ORDER or decoded[5] != 0:
            return None
        _, dn, wall, slot, _k, _ = decoded
        model = self._slots.get(slot)
        if model is None:
            return None
        day = day_from_number(dn)
        if not self._in_window(day):
            return None
        d = self._day(model, day)
        found = d.index().get(order_id)
        if found is None:
            return None
        now = self.business.clock.timestamp()
        if DayTime.of(day, self.tz).epoch(wall) > now:
            return None
        return _as_of(found, now) if day >= local_date(now, self.tz) else found

    def order_by_sale(self, sale_number: str) -> dict | None:
        """The order with this ``sale_number`` (``{prefix}{yymmdd}-{n}``), or None."""
        with self._lock:
            oid = self._overlay_sales.get(sale_number)
        if oid is not None:
            return self.order(oid)
        try:
            prefix, yymmdd, _n = sale_number.rsplit("-", 2)
            day = datetime.strptime(yymmdd, "%y%m%d").date()
        except (ValueError, AttributeError):
            return None
        for reg in self.registers.values():
            if reg["sale_prefix"] == prefix + "-" or reg["return_prefix"] == prefix + "-":
                for rec in self.orders_on(reg["site"]["id"], day):
                    if rec["sale_number"] == sale_number:
                        return rec
        return None

    def order_ids_by(self, *, customer_id: int | None = None, staff_id: int | None = None) -> list[int]:
        """Ids of the orders (up to now) of a customer and/or a staff member, ascending."""
        if customer_id is None and staff_id is None:
            raise ValueError("order_ids_by needs customer_id or staff_id.")
        with self._lock:
            if self._index_until < self.last_day():
                self._extend_index()
            now = self.business.clock.timestamp()
            sets = []
            for name, value in (("customer", customer_id), ("staff", staff_id)):
                if value is None:
                    continue
                ids = {oid for e, oid in self._index[name].get(value, ()) if e <= now}
                for oid, rec in self._overlay.items():
                    field = "customer_id" if name == "customer" else "staff_id"
                    if rec.get(field) == value and self._overlay_epoch[oid] <= now:
                        ids.add(oid)
                    elif oid in ids and rec.get(field) != value:
                        ids.discard(oid)
                sets.append(ids)
        return sorted(set.intersection(*sets))

    def _extend_index(self) -> None:
        """Index the skeletons of the days not indexed yet (a live clock adds days)."""
        by_customer = self._index["customer"]
        by_staff = self._index["staff"]
        last = self.last_day()
        for model in self._models.values():
            day = self._index_until + timedelta(days=1)
            while day <= last:
                sk = self._skeleton(model, day)
                base = sk.dt.wall_epoch
                for w, oid, st, ci in zip(sk.walls, sk.order_ids(), sk.staff, sk.custs, strict=True):
                    by_staff.setdefault(st, []).append((base + w, oid))
                    if ci >= 0:
                        by_customer.setdefault(model.customers[ci]["id"], []).append((base + w, oid))
                for w, k, st, _reg, off, idx in sk.refunds or ():
                    oid = gen.order_id(sk.dn, w, model.slot, k)
                    by_staff.setdefault(st, []).append((base + w, oid))
                    src = sk if off == 0 else self._skeleton(model, day - timedelta(days=1), refunds=False)
                    ci = src.custs[idx]
                    if ci >= 0:
                        by_customer.setdefault(model.customers[ci]["id"], []).append((base + w, oid))
                day += timedelta(days=1)
        self._index_until = last

    def shifts_on(self, site_id: int, day: date) -> list[dict]:
        """Shifts started at a site on a local day (with ``site`` and ``staff_member``), up to now."""
        model = self._model(site_id)
        if not self._in_window(day):
            return []
        with self._lock:
            sk = self._skeleton(model, day, refunds=False)
        return shift_records(sk, self.business.clock.timestamp())

    def reconciliations_on(self, site_id: int, day: date) -> list[dict]:
        """The site's reconciliation for a trading day (empty if closed or not cashed up yet)."""
        model = self._model(site_id)
        if not self._in_window(day):
            return []
        rec = self.reconciliation(gen.reconciliation_id(day_number(day), model.slot))
        return [rec] if rec is not None else []

    def reconciliation(self, rec_id: int) -> dict | None:
        """A reconciliation by id (decodes its site and day), or None."""
        with self._lock:
            if rec_id in self._recon_overlay:
                return self._recon_overlay[rec_id]
        decoded = gen.decode_id(rec_id)
        if decoded is None or decoded[0] != gen.KIND_RECON or rec_id != gen.reconciliation_id(decoded[1], decoded[3]):
            return None
        model = self._slots.get(decoded[3])
        day = day_from_number(decoded[1])
        if model is None or not self._in_window(day):
            return None
        with self._lock:
            sk = self._skeleton(model, day)
            if not sk.open:
                return None
            d = self._day(model, day)
            processed = day <= self.last_day() - timedelta(days=2)
            rec = reconciliation_record(sk, d, processed, self._ledger, list(self.payment_methods.values()))
        if parse_iso(rec["created_at"]).timestamp() > self.business.clock.timestamp():
            return None
        return rec

    def put_reconciliation(self, record: dict) -> None:
        """Store a changed reconciliation (e.g. ``processed`` set through ``PUT``)."""
        if not isinstance(record, dict) or not isinstance(record.get("id"), int):
            raise ValueError("A reconciliation needs an integer 'id'.")
        with self._lock:
            self._recon_overlay[record["id"]] = record
            self.writes += 1

    def inventory(self, site_id: int) -> list[dict]:
        """Stock on hand per product sold at the site: ``[{"id", "stock"}]`` ascending by id."""
        model = self._model(site_id)
        rng = random.Random(seed_of(self.business.seed, model.slot, "inventory", self.last_day()))
        out = []
        for pid, p in sorted(self.catalogue.products.items()):
            if p.is_modifier or site_id not in p.site_prices:
                continue
            stock = rng.randint(0, 140)
            if rng.random() < 0.03:
                stock = -rng.randint(1, 12)  # sold before the delivery was received
            out.append({"id": pid, "stock": stock})
        return out

    def put_order(self, record: dict) -> None:
        """Create or replace an order (overlay). Needs ``id``, ``site_id`` and ``created_at``."""
        if not isinstance(record, dict):
            raise ValueError("An order must be a dict.")
        oid, site_id, created = record.get("id"), record.get("site_id"), record.get("created_at")
        if not isinstance(oid, int) or isinstance(oid, bool):
            raise ValueError("An order needs an integer 'id' (use new_id('order')).")
        # site_id is whatever the body holds: _model raises ValueError unless it is one of ours
        model = self._model(site_id)  # type: ignore[arg-type]
        if not isinstance(created, str):
            raise ValueError("An order needs 'created_at' as an ISO-8601 string with an offset.")
        epoch = parse_iso(created).timestamp()
        day = local_date(epoch, self.tz)
        with self._lock:
            old = self._overlay.get(oid)
            if old is not None:
                old_day = local_date(self._overlay_epoch[oid], self.tz)
                self._overlay_at.get((old["site_id"], old_day), set()).discard(oid)
                self._overlay_sales.pop(old.get("sale_number") or "", None)
            self._overlay[oid] = record
            self._overlay_epoch[oid] = epoch
            self.writes += 1
            self._overlay_at.setdefault((model.id, day), set()).add(oid)
            if record.get("sale_number"):
                self._overlay_sales[str(record["sale_number"])] = oid

    def new_id(self, kind: str) -> int:
        """A fresh id for a record created through the API.

        ``order``, ``line`` and ``payment`` get 64-bit ids (above 2^53, increasing with time);
        ``customer``, ``category``, ``webhook``, ``product``, ``site``, ``register`` and ``staff``
        get the next free small id.
        """
        with self._lock:
            if kind in ORDER_KINDS:
                now = self.business.clock.timestamp()
                today = local_date(now, self.tz)
                dt = DayTime.of(today, self.tz)
                wall = max(0, min(int(now - dt.wall_epoch), (1 << 17) - 1))
                kind_bits = ORDER_KINDS.index(kind)
                k = 0
                while True:
                    candidate = gen._BASE | kind_bits << 58 | gen.payload(
                        day_number(today), wall, gen.OVERLAY_SLOT, k) << 6
                    if candidate not in self._issued:
                        break
                    k += 1
                    if k > 127:
                        k, wall = 0, min(wall + 1, (1 << 17) - 1)
                self._issued.add(candidate)
                return candidate
            if kind in SMALL_KINDS:
                existing: dict[int, dict] = getattr(self, SMALL_KINDS[kind])
                candidate = max(max(existing, default=0), self._issued_small.get(kind, 0)) + 1
                self._issued_small[kind] = candidate
                return candidate
        raise ValueError(
            f"Unknown id kind {kind!r}: use one of {', '.join((*ORDER_KINDS, *SMALL_KINDS))}."
        )

    def site_kind(self, site_id: int) -> str:
        """The venue kind of a site: "cafe", "bar", "restaurant" or "bakery"."""
        return self._model(site_id).profile.kind

    def __repr__(self) -> str:
        return f"Company({self.id}, {self.record['name']!r}, sites={list(self.sites)})"


class Business:
    """The whole synthetic world: companies, users and a clock. Cheap to construct (lazy)."""

    def __init__(self, seed: int = 7, months: int = 6, clock: Clock | None = None,
                 cache_days: int = 48, extra_sites: int = 0) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"The sandbox seed must be an integer, not {seed!r}.")
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 36:
            raise ValueError(f"months must be a whole number from 1 to 36, not {months!r}.")
        if not isinstance(extra_sites, int) or isinstance(extra_sites, bool) \
                or not 0 <= extra_sites <= MAX_EXTRA_SITES:
            raise ValueError(f"extra_sites must be a whole number from 0 to {MAX_EXTRA_SITES}, not {extra_sites!r}.")
        self.seed = seed
        self.months = months
        self.extra_sites = extra_sites
        self.clock = clock if clock is not None else Clock()
        self._lock = threading.RLock()
        self._skeletons = _LRU(4096)
        self._normals = _LRU(cache_days)
        self._days = _LRU(cache_days)
        self.companies: dict[int, Company] = {}
        for spec in (with_extra_sites(GROUP, extra_sites, seed), BAKERY):
            self.companies[spec.id] = Company(self, spec)
        self.developer_company_id = DEVELOPER_COMPANY_ID
        self.users: dict[str, User] = {u.email: u for u in USERS}

    def company_of_site(self, site_id: int) -> Company | None:
        """The company a site belongs to, or None."""
        for c in self.companies.values():
            if site_id in c.sites:
                return c
        return None

    def __repr__(self) -> str:
        return f"Business(seed={self.seed}, months={self.months}, clock={self.clock!r})"
