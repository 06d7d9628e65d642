"""How each kind of venue trades: hours, volume, weekly and seasonal rhythm, basket, payments.

All the behaviour of the synthetic business that differs by venue type lives here as data, so the
generator in :mod:`kounta_nb.sandbox.orders` stays one generic loop.

Hours are local wall-clock hours (``15.5`` is 15:30). Weekdays are ``date.weekday()`` (0 = Monday).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

__all__ = [
    "CATEGORY_SEASON", "PROFILES", "VenueProfile", "event_factor", "events", "intraday", "BAKERY",
    "BAKERY_HOURS", "BAKERY_WEEKEND", "BAR", "BAR_LATE", "BAR_SUN", "BAR_WEEK", "CAFE",
    "CAFE_HOURS", "CAFE_WEEKEND", "CLOSED", "Period", "RESTAURANT", "REST_DINNER", "REST_FULL",
    "REST_LUNCH",
]

Period = tuple[float, float]


@dataclass(frozen=True)
class VenueProfile:
    kind: str
    hours: tuple[tuple[Period, ...], ...]  # per weekday: trading periods (open, close)
    base_orders: float  # mean orders on an ordinary open day (weekday factor 1, season 1)
    weekday_factor: tuple[float, ...]  # per weekday
    season: tuple[float, ...]  # per month 1..12
    holiday_factor: float
    peaks: tuple[tuple[float, float, float], ...]  # intraday mixture: (hour, width, weight)
    floor: float  # background rate between peaks (relative)
    # category weights by daypart: tuple of (until hour, {category: weight})
    baskets: tuple[tuple[float, tuple[tuple[str, float], ...]], ...]
    lines: tuple[float, ...]  # P(n lines) for n = 1..
    qty: tuple[float, ...]  # P(quantity q) for q = 1..
    order_types: tuple[tuple[str, float], ...]
    customer_p: float  # share of orders linked to a customer
    pay_delay: tuple[int, int]  # seconds from order to payment (min, max)
    split_p: float
    tip_p: float
    tip_rate: tuple[float, float]
    cash_p: float
    online_p: float  # share of orders that are online pick-ups (can be PENDING/REJECTED/...)
    registers: tuple[tuple[str, str], ...]  # (code, name)
    core_staff: int
    extra_staff_per_100: float
    state: str

    def periods(self, weekday: int) -> tuple[Period, ...]:
        return self.hours[weekday]


def _w(**kw: float) -> tuple[tuple[str, float], ...]:
    return tuple(kw.items())


CAFE_HOURS: tuple[Period, ...] = ((6.5, 15.0),)
CAFE_WEEKEND: tuple[Period, ...] = ((7.0, 15.5),)
BAR_WEEK: tuple[Period, ...] = ((15.0, 23.0),)
BAR_LATE: tuple[Period, ...] = ((15.0, 24.0),)
BAR_SUN: tuple[Period, ...] = ((14.0, 22.0),)
REST_FULL: tuple[Period, ...] = ((12.0, 15.0), (17.5, 22.5))
REST_DINNER: tuple[Period, ...] = ((17.5, 22.0),)
REST_LUNCH: tuple[Period, ...] = ((12.0, 16.0),)
BAKERY_HOURS: tuple[Period, ...] = ((7.0, 16.0),)
BAKERY_WEEKEND: tuple[Period, ...] = ((7.5, 15.0),)

CAFE = VenueProfile(
    kind="cafe",
    hours=(CAFE_HOURS,) * 5 + (CAFE_WEEKEND, CAFE_WEEKEND),
    base_orders=215.0,
    weekday_factor=(0.9, 0.92, 0.95, 0.97, 1.05, 1.4, 1.3),
    # Southern hemisphere: warm months are busier for cafés; July school holidays a dip.
    season=(1.08, 1.04, 1.0, 0.97, 0.95, 0.92, 0.9, 0.93, 0.98, 1.02, 1.06, 1.1),
    holiday_factor=1.15,
    peaks=((8.0, 0.9, 1.0), (12.6, 0.8, 0.55), (10.3, 0.7, 0.35)),
    floor=0.12,
    baskets=(
        (11.5, _w(coffee=56, tea=7, cold=4, breakfast=23, sweets=10)),
        (14.5, _w(coffee=36, tea=6, cold=12, lunch=28, breakfast=6, sweets=12)),
        (99.0, _w(coffee=46, tea=10, cold=14, sweets=30)),
    ),
    lines=(0.52, 0.28, 0.13, 0.07),
    qty=(0.9, 0.08, 0.02),
    order_types=(("Take away", 0.58), ("Dine in", 0.42)),
    customer_p=0.18,
    pay_delay=(5, 90),
    split_p=0.03,
    tip_p=0.04,
    tip_rate=(0.05, 0.1),
    cash_p=0.14,
    online_p=0.03,
    registers=(("C1", "Counter 1"), ("C2", "Counter 2")),
    core_staff=2,
    extra_staff_per_100=0.9,
    state="NSW",
)

CLOSED: tuple[Period, ...] = ()
BAR = VenueProfile(
    kind="bar",
    hours=(CLOSED, BAR_WEEK, BAR_WEEK, BAR_LATE, BAR_LATE, BAR_LATE, BAR_SUN),
    base_orders=120.0,
    weekday_factor=(0.0, 0.7, 0.8, 1.2, 1.6, 1.75, 0.9),
    # Summer (Dec–Feb) is bar season; winter is quiet.
    season=(1.2, 1.12, 1.02, 0.95, 0.88, 0.82, 0.8, 0.84, 0.92, 1.0, 1.08, 1.25),
    holiday_factor=1.3,
    peaks=((18.0, 1.0, 0.8), (21.0, 1.4, 1.0)),
    floor=0.15,
    baskets=(
        (17.0, _w(beer=46, wine=24, cocktails=6, spirits=5, snacks=12, cold=5, coffee=2)),
        (21.0, _w(beer=38, wine=25, cocktails=14, spirits=8, snacks=12, cold=3)),
        (99.0, _w(beer=32, wine=18, cocktails=26, spirits=16, snacks=5, cold=3)),
    ),
    lines=(0.36, 0.34, 0.17, 0.09, 0.04),
    qty=(0.74, 0.18, 0.05, 0.03),
    order_types=(("Dine in", 0.88), ("Take away", 0.12)),
    customer_p=0.07,
    pay_delay=(10, 600),
    split_p=0.05,
    tip_p=0.08,
    tip_rate=(0.05, 0.12),
    cash_p=0.1,
    online_p=0.0,
    registers=(("B1", "Bar 1"), ("B2", "Bar 2")),
    core_staff=2,
    extra_staff_per_100=1.3,
    state="NSW",
)

RESTAURANT = VenueProfile(
    kind="restaurant",
    # Closed Monday, dinner only Tuesday, lunch only Sunday.
    hours=(CLOSED, REST_DINNER, REST_FULL, REST_FULL, REST_FULL, REST_FULL, REST_LUNCH),
    base_orders=88.0,
    weekday_factor=(0.0, 0.62, 0.9, 1.0, 1.35, 1.5, 1.0),
    # December: Christmas parties.
    season=(0.95, 0.95, 1.0, 1.0, 1.0, 0.95, 0.92, 0.95, 1.0, 1.03, 1.1, 1.3),
    holiday_factor=1.1,
    peaks=((12.9, 0.7, 0.7), (19.3, 0.9, 1.0)),
    floor=0.05,
    baskets=(
        (16.5, _w(entrees=15, mains=36, desserts=7, wine=14, beer=8, cold=10, coffee=7, tea=3)),
        (99.0, _w(entrees=18, mains=32, desserts=12, wine=22, beer=6, cocktails=4, cold=4, coffee=2)),
    ),
    lines=(0.04, 0.12, 0.18, 0.2, 0.17, 0.13, 0.09, 0.07),
    qty=(0.84, 0.13, 0.03),
    order_types=(("Dine in", 0.9), ("Take away", 0.06), ("Delivery", 0.04)),
    customer_p=0.32,
    pay_delay=(2400, 6000),
    split_p=0.16,
    tip_p=0.3,
    tip_rate=(0.05, 0.15),
    cash_p=0.06,
    online_p=0.02,
    registers=(("R1", "Front of House"), ("R2", "Service Bar")),
    core_staff=2,
    extra_staff_per_100=2.5,
    state="NSW",
)

BAKERY = VenueProfile(
    kind="bakery",
    hours=(BAKERY_HOURS,) * 5 + (BAKERY_WEEKEND, BAKERY_WEEKEND),
    base_orders=140.0,
    weekday_factor=(0.85, 0.9, 0.92, 0.95, 1.05, 1.4, 1.15),
    season=(0.98, 0.96, 1.0, 1.02, 1.04, 1.06, 1.08, 1.05, 1.0, 0.98, 1.02, 1.12),
    holiday_factor=1.1,
    peaks=((8.2, 1.0, 1.0), (12.5, 1.0, 0.7)),
    floor=0.2,
    baskets=(
        (11.0, _w(coffee=44, tea=6, cold=3, bread=16, pastries=25, cakes=4, pies=2)),
        (14.5, _w(coffee=26, tea=5, cold=6, bread=14, pastries=10, cakes=9, pies=30)),
        (99.0, _w(coffee=28, tea=8, cold=6, bread=26, pastries=12, cakes=16, pies=4)),
    ),
    lines=(0.5, 0.3, 0.14, 0.06),
    qty=(0.85, 0.11, 0.03, 0.01),
    order_types=(("Take away", 0.78), ("Dine in", 0.22)),
    customer_p=0.15,
    pay_delay=(5, 60),
    split_p=0.02,
    tip_p=0.02,
    tip_rate=(0.05, 0.1),
    cash_p=0.18,
    online_p=0.04,
    registers=(("K1", "Front Counter"),),
    core_staff=2,
    extra_staff_per_100=1.0,
    state="VIC",
)

PROFILES = {p.kind: p for p in (CAFE, BAR, RESTAURANT, BAKERY)}

#: What people order changes with the weather: category weight factors by month (1..12).
CATEGORY_SEASON: dict[str, tuple[float, ...]] = {
    "cold": (1.6, 1.5, 1.2, 1.0, 0.8, 0.7, 0.65, 0.7, 0.9, 1.1, 1.3, 1.5),
    "tea": (0.7, 0.75, 0.9, 1.1, 1.3, 1.45, 1.5, 1.4, 1.15, 0.95, 0.8, 0.7),
    "pies": (0.7, 0.75, 0.9, 1.1, 1.3, 1.5, 1.55, 1.45, 1.2, 0.95, 0.8, 0.7),
    "cocktails": (1.3, 1.25, 1.1, 0.95, 0.85, 0.8, 0.8, 0.85, 0.95, 1.05, 1.2, 1.35),
    "mains": (0.95, 0.95, 1.0, 1.05, 1.1, 1.15, 1.15, 1.1, 1.05, 1.0, 0.95, 0.95),
}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@lru_cache(maxsize=64)
def events(year: int) -> dict[date, tuple[str, dict[str, float]]]:
    """Days that trade unlike their weekday: date → (name, venue kind → volume factor)."""
    return {
        date(year, 2, 14): ("Valentine's Day", {"restaurant": 1.6, "bar": 1.2}),
        _nth_weekday(year, 5, 6, 2): ("Mother's Day", {"cafe": 1.35, "restaurant": 1.5, "bakery": 1.3}),
        _nth_weekday(year, 9, 6, 1): ("Father's Day", {"cafe": 1.2, "restaurant": 1.3, "bakery": 1.15}),
        _last_weekday(year, 9, 5): ("AFL Grand Final", {"bar": 1.6, "bakery": 0.8}),
        _nth_weekday(year, 10, 6, 1): ("NRL Grand Final", {"bar": 1.8}),
        _nth_weekday(year, 11, 1, 1): ("Melbourne Cup", {"bar": 1.5, "restaurant": 1.3}),
        date(year, 12, 24): ("Christmas Eve", {"cafe": 1.2, "bakery": 1.6, "restaurant": 1.2}),
        date(year, 12, 31): ("New Year's Eve", {"bar": 2.0, "restaurant": 1.4}),
    }


def event_factor(kind: str, day: date) -> tuple[float, str | None]:
    """The volume factor of a special day for a kind of venue (1.0 and None on ordinary days)."""
    found = events(day.year).get(day)
    if found is None or kind not in found[1]:
        return 1.0, None
    return found[1][kind], found[0]


@lru_cache(maxsize=256)
def intraday(profile: VenueProfile, weekday: int, bin_s: int = 300) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """Order-time distribution for a weekday: (bin start wall-seconds, cumulative weights).

    Orders are taken from opening until 10 minutes before closing of each trading period.
    """
    starts: list[int] = []
    cum: list[float] = []
    total = 0.0
    for open_h, close_h in profile.periods(weekday):
        t = int(open_h * 3600)
        end = int(close_h * 3600) - 600
        while t < end:
            h = (t + bin_s / 2) / 3600
            w = profile.floor + sum(
                weight * math.exp(-0.5 * ((h - centre) / width) ** 2) for centre, width, weight in profile.peaks
            )
            # ramp up over the first half hour after opening
            w *= min(1.0, 0.35 + (t - open_h * 3600) / 1800 * 0.65)
            total += w
            starts.append(t)
            cum.append(total)
            t += bin_s
    return tuple(starts), tuple(cum)
