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

Records are plain dicts in the API's JSON shape (see ``kounta-api.md`` §5). Generated records are
cached and shared: treat them as read-only (copy before changing; :meth:`Company.put_order`
stores a change). The money rule and the id layout are described in
:mod:`kounta_nb.sandbox.orders`.
"""

from __future__ import annotations

import bisect
import gc
import random
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from . import orders as gen
from .menu import Catalogue, build_catalogue
from .orders import DayOrders, SiteModel, Skeleton
from .people import FIRST_NAMES, LAST_NAMES
from .timeline import (
    Clock,
    DayTime,
    day_from_number,
    day_number,
    local_date,
    months_before,
    parse_iso,
)
from .venues import PROFILES

__all__ = ["Business", "Clock", "Company", "User"]

DEVELOPER_COMPANY_ID = 51642


@dataclass(frozen=True)
class User:
    """A sandbox login (for the OAuth consent page)."""

    email: str
    password: str
    company_ids: tuple[int, ...]
    first_name: str = ""
    last_name: str = ""

    def __repr__(self) -> str:  # never show the password
        return f"User({self.email!r}, companies={self.company_ids})"


@dataclass(frozen=True)
class _SiteSpec:
    id: int
    slot: int
    kind: str
    name: str
    code: str
    registers: tuple[int, ...]
    price_list: int
    street: str
    suburb: str
    postcode: str
    lat: float
    lon: float
    pool: int  # staff in the site's pool
    opened: date


@dataclass(frozen=True)
class _CompanySpec:
    id: int
    kind: str
    name: str
    legal: str
    abn: str
    tz: str
    state: str
    website: str
    sites: tuple[_SiteSpec, ...]
    tax_ids: tuple[int, int, int]
    method_ids: tuple[int, int, int, int]
    price_lists: tuple[int, ...]
    category_id0: int
    option_set_id0: int
    product_id0: int
    staff_id0: int
    customer_id0: int
    customers: int
    floater: bool
    created: date


GROUP = _CompanySpec(
    51642, "group", "Harbour Lane Hospitality", "Harbour Lane Hospitality Pty Ltd", "51 824 753 556",
    "Australia/Sydney", "NSW", "https://harbourlane.example.com",
    (
        _SiteSpec(1201, 1, "cafe", "Harbour Lane Café", "HLC", (4101, 4102), 236, "112 Crown Street",
                  "Surry Hills", "2010", -33.8836, 151.2140, 8, date(2021, 3, 1)),
        _SiteSpec(1202, 2, "bar", "The Lane Bar", "TLB", (4103, 4104), 237, "7 Burton Lane",
                  "Darlinghurst", "2010", -33.8779, 151.2187, 8, date(2022, 9, 15)),
        _SiteSpec(1203, 3, "restaurant", "Marlow Dining Room", "MDR", (4105, 4106), 238,
                  "301 Oxford Street", "Paddington", "2021", -33.8846, 151.2262, 10, date(2023, 5, 4)),
    ),
    (829, 830, 844), (611, 612, 613, 614), (236, 237, 238), 8201, 61, 310001, 91001, 5100001, 600,
    True, date(2021, 1, 18),
)
BAKERY = _CompanySpec(
    61873, "bakery", "Brunswick Street Bakehouse", "Brunswick St Bakehouse Pty Ltd", "38 615 902 114",
    "Australia/Melbourne", "VIC", "https://bakehouse.example.com",
    (
        _SiteSpec(1301, 4, "bakery", "Brunswick Street Bakehouse", "BSB", (4201,), 336,
                  "288 Brunswick Street", "Fitzroy", "3065", -37.7982, 144.9784, 7, date(2020, 8, 3)),
    ),
    (929, 930, 944), (621, 622, 623, 624), (336,), 8301, 71, 420001, 92001, 5200001, 240,
    False, date(2020, 6, 22),
)

USERS = (
    User("demo@kounta.test", "kounta", (GROUP.id, BAKERY.id), "Demo", "User"),
    User("manager@harbourlane.test", "harbour", (GROUP.id,), "Sam", "Harbour"),
    User("owner@bakehouse.test", "bakehouse", (BAKERY.id,), "Rosa", "Baker"),
)

ORDER_KINDS = ("order", "line", "payment")
#: the last menu price rise, by company kind: category → cents added (tax inclusive)
PRICE_RISES = {"group": {"coffee": 20, "tea": 20}, "bakery": {"bread": 50, "pastries": 30}}
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while generating: a day is thousands of fresh
    acyclic dicts, and collections triggered by them only cost time (about a third)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _as_of(record: dict, now: float) -> dict:
    """An order as it stands at ``now``: payments not yet taken are left out.

    A table still eating or a tab still open shows as ON_HOLD with what has been paid so far;
    a sale voided later is not deleted yet. Only today's orders can be unfinished.
    """
    updated = parse_iso(record["updated_at"]).timestamp()
    if updated <= now:
        return record
    payments = [p for p in record["payments"] if parse_iso(p["created_at"]).timestamp() <= now]
    paid_c = sum(round(p["amount"] * 100) for p in payments)
    tips_c = sum(round(p["tip"] * 100) for p in payments)
    status = record["status"]
    if status == "COMPLETE" and len(payments) < len(record["payments"]):
        status = "ON_HOLD"
    last = payments[-1]["created_at"] if payments else record["created_at"]
    return {**record, "status": status, "payments": payments, "paid": paid_c / 100, "tips": tips_c / 100,
            "deleted": False, "updated_at": last}


def _address(rid: int, lines: list[str], city: str, zone: str, postcode: str) -> dict:
    return {"id": rid, "lines": lines, "city": city, "zone": zone, "postal_code": postcode, "country": "AU"}


def _summary(count: int, updated: str) -> dict:
    return {"count": count, "updated_at": updated}


class Company:
    """One company of the sandbox: static records as mutable dicts, trading generated lazily."""

    def __init__(self, business: Business, spec: _CompanySpec) -> None:
        self.business = business
        self.spec = spec
        self.id = spec.id
        self.tz = ZoneInfo(spec.tz)
        self._lock = business._lock
        seed = business.seed
        self.first_day: date = months_before(self.last_day(), business.months)
        created = self._iso(spec.created, 10 * 3600)
        self._created = created
        rng = random.Random(gen._seed(seed, spec.id, "company"))

        # taxes, payment methods
        self.catalogue: Catalogue = build_catalogue(
            company_kind=spec.kind, tax_ids=spec.tax_ids, category_id0=spec.category_id0,
            product_id0=spec.product_id0, option_set_id0=spec.option_set_id0,
            sites={s.kind: [x.id for x in spec.sites if x.kind == s.kind] for s in spec.sites},
            site_premium_key={s.id: s.kind for s in spec.sites},
        )
        cat = self.catalogue
        self.taxes: dict[int, dict] = {
            t.id: {"id": t.id, "company_id": spec.id, "code": t.code, "name": t.name, "rate": t.rate}
            for t in cat.taxes.values()
        }
        method_names = (("Cash", "1-1110"), ("Card", "1-1120"), ("American Express", "1-1125"),
                        ("Gift Card", "2-1400"))
        self.payment_methods: dict[int, dict] = {
            mid: {"id": mid, "name": name, "ledger_code": ledger}
            for mid, (name, ledger) in zip(spec.method_ids, method_names, strict=True)
        }
        method_refs = {key: {"id": mid, "name": self.payment_methods[mid]["name"]}
                       for key, mid in zip(("cash", "card", "amex", "gift"), spec.method_ids, strict=True)}

        # staff
        self.staff: dict[int, dict] = {}
        self._pools: dict[int, list[int]] = {}
        staff_id = spec.staff_id0
        used_names: set[tuple[str, str]] = set()

        def person() -> tuple[str, str]:
            while True:
                name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
                if name not in used_names:
                    used_names.add(name)
                    return name

        owner = staff_id
        self._add_staff(owner, *person(), admin=True, sites=len(spec.sites), rng=rng)
        staff_id += 1
        floater = None
        if spec.floater:
            floater = staff_id
            self._add_staff(floater, *person(), admin=True, sites=2, rng=rng)
            staff_id += 1
        for s in spec.sites:
            pool = []
            for _ in range(s.pool):
                self._add_staff(staff_id, *person(), admin=False, sites=1, rng=rng)
                pool.append(staff_id)
                staff_id += 1
            self._pools[s.id] = pool
        staff_refs = {sid: {"id": sid, "first_name": r["first_name"], "last_name": r["last_name"],
                            "email": r["primary_email_address"]} for sid, r in self.staff.items()}
        owner_rec = self.staff[owner]

        # customers
        self.customers: dict[int, dict] = {}
        customer_refs: list[dict] = []
        homes: list[int] = []
        joined: list[int] = []
        window_start = self.first_day
        for i in range(spec.customers):
            cid = spec.customer_id0 + i
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}{rng.randrange(10, 99)}@example.com".lower().replace("'", "")
            # a quarter of the customers joined during the window (the loyalty program grows);
            # they sign up before their first visit, so orders only link to them from then on
            if rng.random() < 0.25:
                span_days = max(0, (self.last_day() - window_start).days - 7)
                since = window_start + timedelta(days=rng.randint(0, span_days))
                c_created = self._iso(since, rng.randint(4 * 3600, 6 * 3600))
            else:
                since = window_start - timedelta(days=rng.randint(1, 3 * 365))
                c_created = self._iso(since, rng.randint(7 * 3600, 20 * 3600))
            joined.append(since.toordinal())
            image = f"https://images.example.com/customers/{cid}.jpg" if rng.random() < 0.15 else None
            mobile = f"04{rng.randrange(10**8):08d}"
            self.customers[cid] = {
                "id": cid, "company_id": spec.id, "first_name": first, "last_name": last,
                "description": "", "primary_email_address": email, "email_addresses": [email],
                "phone": "", "mobile": f"{mobile[:4]} {mobile[4:7]} {mobile[7:]}", "fax": None,
                "shipping_address": None, "postal_address": None,
                "addresses": _summary(0, c_created), "image": image,
                "tags": rng.choice(([], [], ["Regular"], ["Newsletter"], ["VIP", "Regular"])),
                "reference_id": f"LOY{cid % 100000:05d}" if rng.random() < 0.4 else "",
                "accepts_marketing": rng.random() < 0.45,
                "created_at": c_created, "updated_at": c_created,
            }
            customer_refs.append({"id": cid, "first_name": first, "last_name": last, "email": email,
                                  "image": image})
            homes.append(spec.sites[rng.randrange(len(spec.sites))].id)

        # The last price rise happened on a Monday about 60 % into the window: lines before it
        # carry the old prices, product records show today's.
        rise = {p.id: PRICE_RISES[spec.kind][p.category] for p in cat.products.values()
                if p.category in PRICE_RISES[spec.kind]}
        span = (self.last_day() - self.first_day).days
        rise_day = self.first_day + timedelta(days=int(span * 0.6))
        rise_day += timedelta(days=-rise_day.weekday() % 7)
        self.price_rise: tuple[date, dict[int, int]] = (rise_day, rise)

        # sites, registers
        self.sites: dict[int, dict] = {}
        self.registers: dict[int, dict] = {}
        self._models: dict[int, SiteModel] = {}
        price_list_names = {236: "Standard", 237: "Bar", 238: "Dining Room", 336: "Standard"}
        for s in spec.sites:
            s_created = self._iso(s.opened, 9 * 3600)
            n_products = sum(1 for p in cat.products.values() if s.id in p.site_prices)
            site_ref = {"id": s.id, "name": s.name, "code": s.code}
            addr = _address(s.id * 10, [s.street], s.suburb, spec.state, s.postcode)
            self.sites[s.id] = {
                "id": s.id, "name": s.name, "code": s.code,
                "contact_person": {"id": owner, "first_name": owner_rec["first_name"],
                                   "last_name": owner_rec["last_name"],
                                   "email": owner_rec["primary_email_address"]},
                "business_number": spec.abn, "shipping_address": addr, "postal_address": None,
                "email": f"{s.code.lower()}@{spec.website.split('//')[1]}", "mobile": "",
                "phone": f"(0{2 if spec.state == 'NSW' else 3}) 9{rng.randrange(10**7):07d}",
                "fax": "", "location": {"latitude": s.lat, "longitude": s.lon},
                "image": None, "website": spec.website, "register_level_reconciliation": False,
                "price_list": {"id": s.price_list, "name": price_list_names[s.price_list]},
                "products": _summary(n_products, s_created),
                "created_at": s_created, "updated_at": s_created,
            }
            regs = []
            for n, rid in enumerate(s.registers, 1):
                prefix = f"{s.code}{n}-"
                self.registers[rid] = {
                    "id": rid, "company_id": spec.id, "code": f"{s.code}{n}",
                    "name": PROFILES[s.kind].registers[n - 1][1],
                    "site": site_ref, "current_staff_member": None,
                    "sale_prefix": prefix, "return_prefix": f"{s.code}{n}R-",
                    "assigned_to_device": True,
                }
                regs.append((rid, prefix, f"{s.code}{n}R-"))
            # customers prefer their home site; a few regulars account for many visits
            weights = [(3.0 if home == s.id else 1.0) / (rank + 1) ** 0.8
                       for rank, home in enumerate(homes)]
            by_category: dict[str, list] = {}
            for p in cat.products.values():
                if not p.is_modifier and s.id in p.site_prices:
                    by_category.setdefault(p.category, []).append(p)
            model = SiteModel(
                id=s.id, slot=s.slot, name=s.name, code=s.code, company_id=spec.id, tz=self.tz,
                profile=PROFILES[s.kind], seed=seed, registers=regs, pool=self._pools[s.id],
                floater=floater if s.kind in ("cafe", "restaurant") else None,
                floater_parity=0 if s.kind == "cafe" else 1, staff_refs=staff_refs,
                customers=customer_refs, customer_cum=gen._cum(weights), customer_since=joined,
                methods=method_refs,
                first_open=s.opened, site_ref=site_ref,
            )
            model.catalogue_items = SiteModel.menu_for(s.id, cat.categories, by_category, cat.option_sets)
            model.catalogue_before = SiteModel.menu_for(s.id, cat.categories, by_category, cat.option_sets,
                                                        cheaper_by=rise)
            model.price_rise = rise_day
            self._models[s.id] = model
        self._slots = {m.slot: m for m in self._models.values()}
        self._ledger = {p.id: cat.categories[p.category][2] for p in cat.products.values()}

        # categories, products, price lists
        self.categories: dict[int, dict] = {}
        for key, (cid, name, _ledger, desc) in cat.categories.items():
            count = sum(1 for p in cat.products.values() if p.category == key)
            self.categories[cid] = {
                "id": cid, "company_id": spec.id, "name": name, "description": desc, "image": None,
                "products": _summary(count, created), "show_online": key != "modifiers",
                "friendly_name": name,
            }
        self.products: dict[int, dict] = {}
        for n, p in enumerate(cat.products.values(), 1):
            cid, cname = cat.categories[p.category][:2]
            barcode = "" if p.is_modifier else f"93{rng.randrange(10**11):011d}"
            self.products[p.id] = {
                "id": p.id, "company_id": spec.id, "name": p.name, "code": p.code, "number": n,
                "sku": f"{spec.kind[:2].upper()}-{p.id}", "description": p.description,
                "online_description": p.description, "barcode": barcode,
                "image": None if p.is_modifier else f"https://images.example.com/products/{p.id}.jpg",
                "tags": list(p.tags), "categories": [{"id": cid, "name": cname}],
                "unit_price": p.ex_4 / 10000,
                "cost_price": round(p.inc_c * p.cost_ratio / 1.1) / 100,
                "stock": 0 if p.is_modifier else rng.randint(5, 150),
                "is_modifier": p.is_modifier, "show_online": not p.is_modifier,
                "friendly_name": p.name, "top_seller": p.popularity >= 20, "is_sold": True,
                "deleted": False, "unit_of_measure": "each", "measure": 1.0, "special_item": False,
                "taxes": [t.ref() for t in p.taxes],
                "sites": [{"id": sid, "unit_price": v[1] / 10000} for sid, v in sorted(p.site_prices.items())],
                "created_at": created, "updated_at": created,
            }
        self.price_lists: dict[int, dict] = {}
        base_id = spec.price_lists[0]
        self.price_lists[base_id] = {
            "id": base_id, "name": "Standard", "parent_id": None,
            "products": [{"id": p.id, "name": p.name, "unit_price": p.ex_4 / 10000}
                         for p in cat.products.values()],
        }
        for s in spec.sites:
            if s.price_list == base_id:
                continue
            diffs = [{"id": p.id, "name": p.name, "unit_price": p.site_prices[s.id][1] / 10000}
                     for p in cat.products.values()
                     if s.id in p.site_prices and p.site_prices[s.id][1] != p.ex_4]
            self.price_lists[s.price_list] = {"id": s.price_list, "name": price_list_names[s.price_list],
                                              "parent_id": base_id, "products": diffs}

        # webhooks
        self.webhooks: dict[int, dict] = {}
        if spec.kind == "group":
            wid = 537
            self.webhooks[wid] = {
                "id": wid, "topic": "orders/completed", "address": "https://hooks.example.com/kounta/orders",
                "format": "json", "filter": {"site_ids": [spec.sites[0].id]}, "headers": {},
                "created_at": created, "updated_at": created,
            }

        # the company record
        self.record: dict = {
            "id": spec.id, "name": spec.name, "business_number": spec.abn,
            "contact_staff_member": {"id": owner, "first_name": owner_rec["first_name"],
                                     "last_name": owner_rec["last_name"],
                                     "email": owner_rec["primary_email_address"]},
            "image": None, "website": spec.website, "currency": "AUD",
            "timezone": {"offset": self._offset_now(), "name": spec.tz},
            "shipping_address": None,
            "postal_address": _address(spec.id, ["PO Box 1" + str(spec.id)[-3:]],
                                       spec.sites[0].suburb, spec.state, spec.sites[0].postcode),
            "addresses": _summary(1, created), "sites": _summary(len(spec.sites), created),
            "registers": {"count": len(self.registers), "limit": 10, "updated_at": created},
            "created_at": created, "updated_at": created,
        }

        # overlay (records created or changed through the API)
        self._overlay: dict[int, dict] = {}
        self._overlay_epoch: dict[int, float] = {}
        self._overlay_at: dict[tuple[int, date], set[int]] = {}
        self._overlay_sales: dict[str, int] = {}
        self._recon_overlay: dict[int, dict] = {}
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

    def _add_staff(self, sid: int, first: str, last: str, *, admin: bool, sites: int,
                   rng: random.Random) -> None:
        email = f"{first}.{last}@{self.spec.website.split('//')[1]}".lower().replace("'", "")
        hired = self.spec.created + timedelta(days=rng.randint(0, 900))
        at = self._iso(hired, 9 * 3600)
        perms = [{"code": "FinishSale", "name": "Finish Sale", "domain": "Point of Sale"},
                 {"code": "Refund", "name": "Refund Sale", "domain": "Point of Sale"}]
        if admin:
            perms.append({"code": "ZReport", "name": "End of day (Z Report)", "domain": "Back Office"})
        mobile = f"04{rng.randrange(10**8):08d}"
        self.staff[sid] = {
            "id": sid, "first_name": first, "last_name": last, "is_admin": admin,
            "primary_email_address": email, "email_addresses": [email], "phone": "",
            "mobile": f"{mobile[:4]} {mobile[4:7]} {mobile[7:]}", "permissions": perms,
            "sites": _summary(sites, at), "image": None, "created_at": at, "updated_at": at,
        }

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
                with _gc_paused():
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
                with _gc_paused():
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
        return gen.shift_records(sk, self.business.clock.timestamp())

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
            rec = gen.reconciliation_record(sk, d, processed, self._ledger, list(self.payment_methods.values()))
        if parse_iso(rec["created_at"]).timestamp() > self.business.clock.timestamp():
            return None
        return rec

    def put_reconciliation(self, record: dict) -> None:
        """Store a changed reconciliation (e.g. ``processed`` set through ``PUT``)."""
        if not isinstance(record, dict) or not isinstance(record.get("id"), int):
            raise ValueError("A reconciliation needs an integer 'id'.")
        with self._lock:
            self._recon_overlay[record["id"]] = record

    def inventory(self, site_id: int) -> list[dict]:
        """Stock on hand per product sold at the site: ``[{"id", "stock"}]`` ascending by id."""
        model = self._model(site_id)
        rng = random.Random(gen._seed(self.business.seed, model.slot, "inventory", self.last_day()))
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
        self._model(site_id)  # type: ignore[arg-type]
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
            self._overlay_at.setdefault((site_id, day), set()).add(oid)  # type: ignore[arg-type]
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
                 cache_days: int = 48) -> None:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"The sandbox seed must be an integer, not {seed!r}.")
        if not isinstance(months, int) or isinstance(months, bool) or not 1 <= months <= 36:
            raise ValueError(f"months must be a whole number from 1 to 36, not {months!r}.")
        self.seed = seed
        self.months = months
        self.clock = clock if clock is not None else Clock()
        self._lock = threading.RLock()
        self._skeletons = _LRU(4096)
        self._normals = _LRU(cache_days)
        self._days = _LRU(cache_days)
        self.companies: dict[int, Company] = {}
        for spec in (GROUP, BAKERY):
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
