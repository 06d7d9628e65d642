"""What each sandbox company is made of: its fixed spec, and the small builders that turn a spec
into the static records (staff, customers, sites, registers, menu, price lists, webhooks, the
company record) and the per-site models the order generator runs on.

Everything here is deterministic from ``(seed, company id)``. The builders draw from one random
stream in a fixed order (staff, customers, sites, products), so the data of a seed never changes
when code moves around. Extra venues (``Business(extra_sites=N)``) draw from a stream of their
own, so adding them leaves the base business byte for byte as it was.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .menu import Catalogue, build_catalogue
from .people import FIRST_NAMES, LAST_NAMES
from .sitemodel import SiteModel, cumulative, seed_of
from .timeline import DayTime
from .venues import PROFILES

__all__ = [
    "BAKERY", "GROUP", "MAX_EXTRA_SITES", "PERSON_OFFSET_CUSTOMER", "PERSON_OFFSET_STAFF", "USERS",
    "CompanySpec", "Founding", "SiteSpec", "User", "with_extra_sites", "EXTRA_REGISTER_ID0",
    "EXTRA_SITE_ID0", "EXTRA_STAFF_ID0", "PRICE_RISES", "People",
]


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
class SiteSpec:
    """One venue: ids, kind, address and the size of its staff pool."""

    id: int
    slot: int  # the site's number inside order ids (1..254)
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
    extra: bool = False  # added by Business(extra_sites=N)


@dataclass(frozen=True)
class CompanySpec:
    """One company: ids of everything it owns, its venues and its size."""

    id: int
    kind: str
    name: str
    legal: str
    abn: str
    tz: str
    state: str
    website: str
    sites: tuple[SiteSpec, ...]
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

    @property
    def base_sites(self) -> tuple[SiteSpec, ...]:
        return tuple(s for s in self.sites if not s.extra)


GROUP = CompanySpec(
    51642, "group", "Harbour Lane Hospitality", "Harbour Lane Hospitality Pty Ltd", "51 824 753 556",
    "Australia/Sydney", "NSW", "https://harbourlane.example.com",
    (
        SiteSpec(1201, 1, "cafe", "Harbour Lane Café", "HLC", (4101, 4102), 236, "112 Crown Street",
                 "Surry Hills", "2010", -33.8836, 151.2140, 8, date(2021, 3, 1)),
        SiteSpec(1202, 2, "bar", "The Lane Bar", "TLB", (4103, 4104), 237, "7 Burton Lane",
                 "Darlinghurst", "2010", -33.8779, 151.2187, 8, date(2022, 9, 15)),
        SiteSpec(1203, 3, "restaurant", "Marlow Dining Room", "MDR", (4105, 4106), 238,
                 "301 Oxford Street", "Paddington", "2021", -33.8846, 151.2262, 10, date(2023, 5, 4)),
    ),
    (829, 830, 844), (611, 612, 613, 614), (236, 237, 238), 8201, 61, 310001, 91001, 5100001, 600,
    True, date(2021, 1, 18),
)
BAKERY = CompanySpec(
    61873, "bakery", "Brunswick Street Bakehouse", "Brunswick St Bakehouse Pty Ltd", "38 615 902 114",
    "Australia/Melbourne", "VIC", "https://bakehouse.example.com",
    (
        SiteSpec(1301, 4, "bakery", "Brunswick Street Bakehouse", "BSB", (4201,), 336,
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

#: Person ids (the legacy ``/people`` records): a customer's is its id plus this, a staff member's
#: its id plus ``PERSON_OFFSET_STAFF``.
PERSON_OFFSET_CUSTOMER, PERSON_OFFSET_STAFF = 2_000_000, 7_000_000

#: Order ids keep 8 bits for the site slot; 255 marks orders created through the API.
MAX_EXTRA_SITES = 250
#: Extra venues: site ids from 1401, registers from 4301, staff from 96001 (all of the group).
EXTRA_SITE_ID0, EXTRA_REGISTER_ID0, EXTRA_STAFF_ID0 = 1401, 4301, 96001

#: Sydney suburbs for extra venues: (suburb, postcode, latitude, longitude).
_SUBURBS = (
    ("Newtown", "2042", -33.8976, 151.1790), ("Glebe", "2037", -33.8797, 151.1847),
    ("Balmain", "2041", -33.8589, 151.1788), ("Bondi", "2026", -33.8915, 151.2767),
    ("Manly", "2095", -33.7969, 151.2873), ("Chatswood", "2067", -33.7969, 151.1803),
    ("Parramatta", "2150", -33.8150, 151.0011), ("Redfern", "2016", -33.8928, 151.2040),
    ("Leichhardt", "2040", -33.8836, 151.1565), ("Marrickville", "2204", -33.9106, 151.1550),
    ("Coogee", "2034", -33.9200, 151.2566), ("Neutral Bay", "2089", -33.8328, 151.2190),
    ("Pyrmont", "2009", -33.8696, 151.1947), ("Potts Point", "2011", -33.8704, 151.2251),
    ("Randwick", "2031", -33.9142, 151.2410), ("Rozelle", "2039", -33.8620, 151.1710),
    ("Erskineville", "2043", -33.9020, 151.1860), ("Annandale", "2038", -33.8818, 151.1700),
    ("Crows Nest", "2065", -33.8262, 151.2046), ("Mosman", "2088", -33.8290, 151.2440),
    ("Cronulla", "2230", -34.0557, 151.1525), ("Dulwich Hill", "2203", -33.9047, 151.1390),
    ("Haberfield", "2045", -33.8800, 151.1390), ("Kirribilli", "2061", -33.8480, 151.2130),
)
_MELBOURNE = (
    ("Fitzroy", "3065", -37.7982, 144.9784), ("Carlton", "3053", -37.8001, 144.9671),
    ("Collingwood", "3066", -37.8023, 144.9874), ("Northcote", "3070", -37.7699, 144.9996),
    ("Brunswick", "3056", -37.7670, 144.9596), ("Richmond", "3121", -37.8230, 145.0020),
    ("St Kilda", "3182", -37.8676, 144.9810), ("Footscray", "3011", -37.8002, 144.8999),
)
_STREETS = ("King Street", "Glebe Point Road", "Darling Street", "Campbell Parade", "The Corso",
            "Victoria Avenue", "Church Street", "Regent Street", "Norton Street", "Illawarra Road",
            "Arden Street", "Military Road", "Harris Street", "Macleay Street", "Belmore Road")
_EXTRA_NAMES = {"cafe": "Harbour Lane Café", "bar": "The Lane Bar", "restaurant": "Marlow"}
_EXTRA_KINDS = ("cafe", "cafe", "bar", "restaurant")  # half of the new venues are cafés


def with_extra_sites(spec: CompanySpec, count: int, seed: int) -> CompanySpec:
    """``spec`` with ``count`` more venues of its kinds (deterministic from ``seed``)."""
    if count <= 0:
        return spec
    rng = random.Random(seed_of(seed, spec.id, "extra-sites"))
    by_kind = {s.kind: s for s in spec.sites}
    kinds = [k for k in _EXTRA_KINDS if k in by_kind] or [spec.sites[0].kind]
    order = list(range(len(_SUBURBS)))
    rng.shuffle(order)
    used_slots = max(s.slot for s in spec.sites)
    extra = []
    for i in range(count):
        kind = kinds[rng.randrange(len(kinds))]
        template = by_kind[kind]
        suburb, postcode, lat, lon = _SUBURBS[order[i % len(_SUBURBS)]]
        round_ = i // len(_SUBURBS)
        name = f"{_EXTRA_NAMES.get(kind, template.name)} {suburb}" + (f" {round_ + 1}" if round_ else "")
        reg0 = EXTRA_REGISTER_ID0 + 2 * i
        extra.append(SiteSpec(
            EXTRA_SITE_ID0 + i, used_slots + 1 + i, kind, name, f"{kind[0].upper()}{i + 1:03d}",
            tuple(reg0 + n for n in range(len(template.registers))), template.price_list,
            f"{rng.randint(1, 400)} {_STREETS[rng.randrange(len(_STREETS))]}", suburb, postcode,
            round(lat + rng.uniform(-0.004, 0.004), 4), round(lon + rng.uniform(-0.004, 0.004), 4),
            template.pool, date(2018, 3, 5) + timedelta(days=rng.randint(0, 5 * 365)), extra=True))
    return CompanySpec(**{**spec.__dict__, "sites": spec.sites + tuple(extra)})


def _address(rid: int, lines: list[str], city: str, zone: str, postcode: str) -> dict:
    return {"id": rid, "lines": lines, "city": city, "zone": zone, "postal_code": postcode, "country": "AU"}


def _summary(count: int, updated: str) -> dict:
    return {"count": count, "updated_at": updated}


_METHOD_NAMES = (("Cash", "1-1110"), ("Card", "1-1120"), ("American Express", "1-1125"), ("Gift Card", "2-1400"))
_PRICE_LIST_NAMES = {236: "Standard", 237: "Bar", 238: "Dining Room", 336: "Standard"}
#: the last menu price rise, by company kind: category → cents added (tax inclusive)
PRICE_RISES = {"group": {"coffee": 20, "tea": 20}, "bakery": {"bread": 50, "pastries": 30}}


@dataclass
class People:
    """Staff and customers of a company, with what the generator needs of them."""

    staff: dict[int, dict] = field(default_factory=dict)
    pools: dict[int, list[int]] = field(default_factory=dict)  # site id → staff ids
    owner: int = 0
    floater: int | None = None
    used_names: set[tuple[str, str]] = field(default_factory=set)
    customers: dict[int, dict] = field(default_factory=dict)
    customer_refs: list[dict] = field(default_factory=list)  # as embedded in orders
    homes: list[int] = field(default_factory=list)  # each customer's home site
    joined: list[int] = field(default_factory=list)  # day ordinal each customer signed up

    def staff_refs(self) -> dict[int, dict]:
        return {sid: {"id": sid, "first_name": r["first_name"], "last_name": r["last_name"],
                      "email": r["primary_email_address"]} for sid, r in self.staff.items()}

    def contact(self) -> dict:
        owner = self.staff[self.owner]
        return {"id": self.owner, "first_name": owner["first_name"], "last_name": owner["last_name"],
                "email": owner["primary_email_address"]}


class Founding:
    """Builds one company's static records from its spec, one small step at a time."""

    def __init__(self, spec: CompanySpec, tz: ZoneInfo, seed: int, first_day: date, last_day: date) -> None:
        self.spec, self.tz, self.seed = spec, tz, seed
        self.first_day, self.last_day = first_day, last_day
        self.rng = random.Random(seed_of(seed, spec.id, "company"))
        self.created = self.iso(spec.created, 10 * 3600)
        self.catalogue: Catalogue = build_catalogue(
            company_kind=spec.kind, tax_ids=spec.tax_ids, category_id0=spec.category_id0,
            product_id0=spec.product_id0, option_set_id0=spec.option_set_id0,
            sites={s.kind: [x.id for x in spec.sites if x.kind == s.kind] for s in spec.sites},
            site_premium_key={s.id: s.kind for s in spec.sites},
        )

    def iso(self, day: date, wall: int) -> str:
        return DayTime.of(day, self.tz).iso(wall)

    # -- small tables ---------------------------------------------------------------------------
    def taxes(self) -> dict[int, dict]:
        return {t.id: {"id": t.id, "company_id": self.spec.id, "code": t.code, "name": t.name, "rate": t.rate}
                for t in self.catalogue.taxes.values()}

    def payment_methods(self) -> dict[int, dict]:
        return {mid: {"id": mid, "name": name, "ledger_code": ledger}
                for mid, (name, ledger) in zip(self.spec.method_ids, _METHOD_NAMES, strict=True)}

    def method_refs(self, methods: dict[int, dict]) -> dict[str, dict]:
        return {key: {"id": mid, "name": methods[mid]["name"]}
                for key, mid in zip(("cash", "card", "amex", "gift"), self.spec.method_ids, strict=True)}

    # -- people ---------------------------------------------------------------------------------
    def people(self) -> People:
        """Owner, floater and each base site's pool, then the customers (in that order)."""
        spec, rng = self.spec, self.rng
        people = People()
        staff_id = spec.staff_id0
        people.owner = staff_id
        self._add_staff(people, staff_id, rng, admin=True, sites=len(spec.sites))
        staff_id += 1
        if spec.floater:
            people.floater = staff_id
            self._add_staff(people, staff_id, rng, admin=True, sites=2)
            staff_id += 1
        for s in spec.base_sites:
            pool = people.pools[s.id] = []
            for _ in range(s.pool):
                self._add_staff(people, staff_id, rng, admin=False, sites=1)
                pool.append(staff_id)
                staff_id += 1
        self._add_customers(people)
        self._add_customer_addresses(people)
        extra_rng = random.Random(seed_of(self.seed, spec.id, "extra-staff"))
        staff_id = EXTRA_STAFF_ID0
        for s in spec.sites:
            if s.extra:
                pool = people.pools[s.id] = []
                for _ in range(s.pool):
                    self._add_staff(people, staff_id, extra_rng, admin=False, sites=1)
                    pool.append(staff_id)
                    staff_id += 1
        return people

    def _name(self, people: People, rng: random.Random) -> tuple[str, str]:
        while True:
            name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
            if name not in people.used_names:
                people.used_names.add(name)
                return name

    def _add_staff(self, people: People, sid: int, rng: random.Random, *, admin: bool, sites: int) -> None:
        first, last = self._name(people, rng)
        email = f"{first}.{last}@{self.spec.website.split('//')[1]}".lower().replace("'", "")
        hired = self.spec.created + timedelta(days=rng.randint(0, 900))
        at = self.iso(hired, 9 * 3600)
        perms = [{"code": "FinishSale", "name": "Finish Sale", "domain": "Point of Sale"},
                 {"code": "Refund", "name": "Refund Sale", "domain": "Point of Sale"}]
        if admin:
            perms.append({"code": "ZReport", "name": "End of day (Z Report)", "domain": "Back Office"})
        mobile = f"04{rng.randrange(10**8):08d}"
        people.staff[sid] = {
            "id": sid, "first_name": first, "last_name": last, "is_admin": admin,
            "primary_email_address": email, "email_addresses": [email], "phone": "",
            "mobile": f"{mobile[:4]} {mobile[4:7]} {mobile[7:]}", "permissions": perms,
            "sites": _summary(sites, at), "image": None, "created_at": at, "updated_at": at,
        }

    def _add_customers(self, people: People) -> None:
        spec, rng = self.spec, self.rng
        base = spec.base_sites
        window_start = self.first_day
        for i in range(spec.customers):
            cid = spec.customer_id0 + i
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            email = f"{first}.{last}{rng.randrange(10, 99)}@example.com".lower().replace("'", "")
            # a quarter of the customers joined during the window (the loyalty program grows);
            # they sign up before their first visit, so orders only link to them from then on
            if rng.random() < 0.25:
                span_days = max(0, (self.last_day - window_start).days - 7)
                since = window_start + timedelta(days=rng.randint(0, span_days))
                created = self.iso(since, rng.randint(4 * 3600, 6 * 3600))
            else:
                since = window_start - timedelta(days=rng.randint(1, 3 * 365))
                created = self.iso(since, rng.randint(7 * 3600, 20 * 3600))
            people.joined.append(since.toordinal())
            image = f"https://images.example.com/customers/{cid}.jpg" if rng.random() < 0.15 else None
            mobile = f"04{rng.randrange(10**8):08d}"
            people.customers[cid] = {
                "id": cid, "company_id": spec.id, "people_id": cid + PERSON_OFFSET_CUSTOMER,
                "first_name": first, "last_name": last,
                "description": "", "primary_email_address": email, "email_addresses": [email],
                "phone": "", "mobile": f"{mobile[:4]} {mobile[4:7]} {mobile[7:]}", "fax": None,
                "shipping_address": None, "postal_address": None,
                "addresses": _summary(0, created), "image": image,
                "tags": rng.choice(([], [], ["Regular"], ["Newsletter"], ["VIP", "Regular"])),
                "reference_id": f"LOY{cid % 100000:05d}" if rng.random() < 0.4 else "",
                "accepts_marketing": rng.random() < 0.45,
                "created_at": created, "updated_at": created,
            }
            people.customer_refs.append({"id": cid, "first_name": first, "last_name": last, "email": email,
                                         "image": image})
            people.homes.append(base[rng.randrange(len(base))].id)

    def _add_customer_addresses(self, people: People) -> None:
        """About a third of the customers left a delivery address (a stream of its own, so the
        rest of the business is what it was before customers had addresses)."""
        spec = self.spec
        rng = random.Random(seed_of(self.seed, spec.id, "customer-addresses"))
        places = _SUBURBS if spec.state == "NSW" else _MELBOURNE
        for cid, record in people.customers.items():
            if rng.random() >= 0.35:
                continue
            suburb, postcode, _lat, _lon = places[rng.randrange(len(places))]
            lines = [f"{rng.randint(1, 250)} {_STREETS[rng.randrange(len(_STREETS))]}"]
            if rng.random() < 0.3:
                lines.insert(0, f"Unit {rng.randint(1, 40)}")
            record["shipping_address"] = _address(cid * 10 + 1, lines, suburb, spec.state, postcode)
            record["addresses"] = _summary(1, record["updated_at"])

    # -- venues ---------------------------------------------------------------------------------
    def price_rise(self) -> tuple[date, dict[int, int]]:
        """The last price rise: on a Monday about 60 % into the window (product id → cents)."""
        rise = {p.id: PRICE_RISES[self.spec.kind][p.category] for p in self.catalogue.products.values()
                if p.category in PRICE_RISES[self.spec.kind]}
        span = (self.last_day - self.first_day).days
        day = self.first_day + timedelta(days=int(span * 0.6))
        day += timedelta(days=-day.weekday() % 7)
        return day, rise

    def sites(self, people: People, methods: dict[str, dict], price_rise: tuple[date, dict[int, int]]
              ) -> tuple[dict[int, dict], dict[int, dict], dict[int, SiteModel]]:
        """Site and register records, and each site's model for the order generator."""
        spec, cat = self.spec, self.catalogue
        extra_rng = random.Random(seed_of(self.seed, spec.id, "extra-site-records"))
        sites: dict[int, dict] = {}
        registers: dict[int, dict] = {}
        models: dict[int, SiteModel] = {}
        staff_refs = people.staff_refs()
        for s in spec.sites:
            rng = extra_rng if s.extra else self.rng
            s_created = self.iso(s.opened, 9 * 3600)
            n_products = sum(1 for p in cat.products.values() if s.id in p.site_prices)
            site_ref = {"id": s.id, "name": s.name, "code": s.code}
            sites[s.id] = {
                "id": s.id, "company_id": spec.id, "name": s.name, "code": s.code,
                "contact_person": people.contact(),
                "business_number": spec.abn,
                "shipping_address": _address(s.id * 10, [s.street], s.suburb, spec.state, s.postcode),
                "postal_address": None,
                "email": f"{s.code.lower()}@{spec.website.split('//')[1]}", "mobile": "",
                "phone": f"(0{2 if spec.state == 'NSW' else 3}) 9{rng.randrange(10**7):07d}",
                "fax": "", "location": {"latitude": s.lat, "longitude": s.lon},
                "image": None, "website": spec.website, "register_level_reconciliation": False,
                "price_list": {"id": s.price_list, "name": _PRICE_LIST_NAMES[s.price_list]},
                "products": _summary(n_products, s_created),
                "created_at": s_created, "updated_at": s_created,
            }
            regs = []
            for n, rid in enumerate(s.registers, 1):
                prefix = f"{s.code}{n}-"
                registers[rid] = {
                    "id": rid, "company_id": spec.id, "code": f"{s.code}{n}",
                    "name": PROFILES[s.kind].registers[n - 1][1],
                    "site_id": s.id, "site": site_ref, "current_staff_member": None,
                    "sale_prefix": prefix, "return_prefix": f"{s.code}{n}R-",
                    "assigned_to_device": True,
                }
                regs.append((rid, prefix, f"{s.code}{n}R-"))
            models[s.id] = self._model(s, people, staff_refs, regs, methods, site_ref, price_rise)
        return sites, registers, models

    def _model(self, s: SiteSpec, people: People, staff_refs: dict[int, dict], regs: list[tuple[int, str, str]],
               methods: dict[str, dict], site_ref: dict, price_rise: tuple[date, dict[int, int]]) -> SiteModel:
        cat = self.catalogue
        # customers prefer their home site; a few regulars account for many visits
        weights = [(3.0 if home == s.id else 1.0) / (rank + 1) ** 0.8 for rank, home in enumerate(people.homes)]
        by_category: dict[str, list] = {}
        for p in cat.products.values():
            if not p.is_modifier and s.id in p.site_prices:
                by_category.setdefault(p.category, []).append(p)
        floater = people.floater if s.kind in ("cafe", "restaurant") and not s.extra else None
        model = SiteModel(
            id=s.id, slot=s.slot, name=s.name, code=s.code, company_id=self.spec.id, tz=self.tz,
            profile=PROFILES[s.kind], seed=self.seed, registers=regs, pool=people.pools[s.id],
            floater=floater, floater_parity=0 if s.kind == "cafe" else 1, staff_refs=staff_refs,
            customers=people.customer_refs, customer_cum=cumulative(weights), customer_since=people.joined,
            methods=methods, first_open=s.opened, site_ref=site_ref,
        )
        model.catalogue_items = SiteModel.menu_for(s.id, cat.categories, by_category, cat.option_sets)
        model.catalogue_before = SiteModel.menu_for(s.id, cat.categories, by_category, cat.option_sets,
                                                    cheaper_by=price_rise[1])
        model.price_rise = price_rise[0]
        return model

    # -- menu -----------------------------------------------------------------------------------
    def categories(self) -> dict[int, dict]:
        cat = self.catalogue
        out: dict[int, dict] = {}
        for key, (cid, name, _ledger, desc) in cat.categories.items():
            count = sum(1 for p in cat.products.values() if p.category == key)
            out[cid] = {
                "id": cid, "company_id": self.spec.id, "name": name, "description": desc, "image": None,
                "products": _summary(count, self.created), "show_online": key != "modifiers",
                "friendly_name": name,
            }
        return out

    def products(self) -> dict[int, dict]:
        spec, cat, rng = self.spec, self.catalogue, self.rng
        out: dict[int, dict] = {}
        for n, p in enumerate(cat.products.values(), 1):
            cid, cname = cat.categories[p.category][:2]
            barcode = "" if p.is_modifier else f"93{rng.randrange(10**11):011d}"
            out[p.id] = {
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
                "created_at": self.created, "updated_at": self.created,
            }
        return out

    def price_lists(self) -> dict[int, dict]:
        spec, cat = self.spec, self.catalogue
        base_id = spec.price_lists[0]
        out = {base_id: {"id": base_id, "name": "Standard", "parent_id": None,
                         "products": [{"id": p.id, "name": p.name, "unit_price": p.ex_4 / 10000}
                                      for p in cat.products.values()]}}
        for s in spec.sites:
            if s.price_list == base_id or s.price_list in out:
                continue
            diffs = [{"id": p.id, "name": p.name, "unit_price": p.site_prices[s.id][1] / 10000}
                     for p in cat.products.values()
                     if s.id in p.site_prices and p.site_prices[s.id][1] != p.ex_4]
            out[s.price_list] = {"id": s.price_list, "name": _PRICE_LIST_NAMES[s.price_list],
                                 "parent_id": base_id, "products": diffs}
        return out

    def ledger(self) -> dict[int, str]:
        """Product id → ledger code (the income account of its category)."""
        cat = self.catalogue
        return {p.id: cat.categories[p.category][2] for p in cat.products.values()}

    # -- the rest -------------------------------------------------------------------------------
    def webhooks(self) -> dict[int, dict]:
        if self.spec.kind != "group":
            return {}
        return {537: {"id": 537, "topic": "orders/completed", "address": "https://hooks.example.com/kounta/orders",
                      "format": "json", "filter": {"site_ids": [self.spec.sites[0].id]}, "headers": {},
                      "created_at": self.created, "updated_at": self.created}}

    def record(self, people: People, registers: int, offset: str) -> dict[str, Any]:
        """The ``/companies/{id}`` record."""
        spec = self.spec
        first = spec.sites[0]
        return {
            "id": spec.id, "name": spec.name, "business_number": spec.abn,
            "contact_staff_member": people.contact(),
            "image": None, "website": spec.website, "currency": "AUD",
            "timezone": {"offset": offset, "name": spec.tz},
            "shipping_address": None,
            "postal_address": _address(spec.id, ["PO Box 1" + str(spec.id)[-3:]], first.suburb, spec.state,
                                       first.postcode),
            "addresses": _summary(1, self.created), "sites": _summary(len(spec.sites), self.created),
            "registers": {"count": registers, "limit": max(10, registers), "updated_at": self.created},
            "created_at": self.created, "updated_at": self.created,
        }
