"""Consistency of the sandbox's synthetic business over a full six-month dataset.

One pass walks every site-day of both companies (orders, shifts, reconciliations) and records
what it sees; the tests then assert on that record. Money is re-computed independently with
``Decimal`` (ROUND_HALF_UP), not with the generator's integer arithmetic.
"""

from __future__ import annotations

import contextlib
import resource
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from kounta_nb.sandbox.business import Business, Clock

pytestmark = pytest.mark.slow

#: 13:00 in Sydney on Monday 23 Nov 2026: the window (23 May – 23 Nov) spans the October DST change.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CENT = Decimal("0.01")


def D(x: float | int) -> Decimal:
    return Decimal(str(x))


def money(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


@dataclass
class Walk:
    seconds: float = 0.0
    generation_cpu: float = 0.0
    peak_rss_mb: float = 0.0
    start_rss_mb: float = 0.0
    orders: int = 0
    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    counts: dict[tuple[int, date], int] = field(default_factory=dict)  # non-refund orders per site-day
    hours: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    weekdays: dict[int, Counter] = field(default_factory=lambda: defaultdict(Counter))
    offsets: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    statuses: Counter = field(default_factory=Counter)
    variations: Counter = field(default_factory=Counter)
    refunds: int = 0
    split: int = 0
    tipped: int = 0
    deleted: int = 0
    with_customer: int = 0
    with_options: int = 0
    wine_lines: int = 0
    recons: int = 0
    open_days_without_recon: list[tuple[int, date]] = field(default_factory=list)
    holiday_orders: int = 0
    mix: dict[tuple[int, int], Counter] = field(default_factory=lambda: defaultdict(Counter))
    base_prices: dict[tuple[int, str, bool], set[float]] = field(default_factory=lambda: defaultdict(set))
    holiday_surcharged: int = 0

    def bad(self, check: str, message: str) -> None:
        if len(self.problems[check]) < 20:
            self.problems[check].append(message)
        else:
            self.problems[check][-1] = f"... and more ({message})"


def _check_order(w: Walk, company, site_id: int, o: dict, on_duty: dict[int, list]) -> None:
    oid = o["id"]
    # ids
    ids = [(oid, o["id_str"])] + [(x["id"], x["id_str"]) for x in o["lines"] + o["payments"]]
    for i, s in ids:
        if not (isinstance(i, int) and i > 2**53 and s == str(i)):
            w.bad("ids", f"{oid}: id {i!r} / id_str {s!r}")
    # money
    total = tax = Decimal(0)
    for ln in o["lines"]:
        expect_ex = money(D(ln["unit_price"]) * ln["quantity"] * D(ln["price_variation"]))
        expect_tax = money(D(ln["unit_tax"]) * ln["quantity"] * D(ln["price_variation"]))
        if D(ln["line_total_ex_tax"]) != expect_ex or D(ln["line_total_tax"]) != expect_tax:
            w.bad("lines", f"{oid} line {ln['number']}: {ln['line_total_ex_tax']}/{ln['line_total_tax']} "
                           f"!= {expect_ex}/{expect_tax}")
        total += D(ln["line_total_ex_tax"]) + D(ln["line_total_tax"])
        tax += D(ln["line_total_tax"])
        w.variations[ln["price_variation"]] += 1
        product = company.products[ln["product"]["id"]]
        w.mix[(site_id, int(o["created_at"][5:7]))][product["categories"][0]["name"]] += 1
        if not ln["modifiers"] and ln["price_variation"] == 1.0 and not o["is_refund"]:
            after_rise = o["created_at"][:10] >= company.price_rise[0].isoformat()
            w.base_prices[(site_id, product["name"], after_rise)].add(ln["unit_price"])
        if len(ln["taxes"]) > 1:
            w.wine_lines += 1
    if total != D(o["total"]) or tax != D(o["total_tax"]):
        w.bad("totals", f"{oid}: lines add to {total}/{tax}, order says {o['total']}/{o['total_tax']}")
    paid = sum((D(p["amount"]) for p in o["payments"]), Decimal(0))
    tips = sum((D(p["tip"]) for p in o["payments"]), Decimal(0))
    if paid != D(o["paid"]) or tips != D(o["tips"]):
        w.bad("payments", f"{oid}: payments {paid}/{tips} vs paid/tips {o['paid']}/{o['tips']}")
    if o["status"] == "COMPLETE" and D(o["paid"]) != D(o["total"]):
        w.bad("payments", f"{oid}: COMPLETE but paid {o['paid']} != total {o['total']}")
    if o["status"] != "COMPLETE" and o["payments"] and not abs(D(o["paid"])) < abs(D(o["total"])):
        w.bad("payments", f"{oid}: {o['status']} order is fully paid")
    if [p["number"] for p in o["payments"]] != list(range(1, len(o["payments"]) + 1)):
        w.bad("payments", f"{oid}: payment numbers")
    if [ln["number"] for ln in o["lines"]] != list(range(1, len(o["lines"]) + 1)):
        w.bad("lines", f"{oid}: line numbers")
    for opt in o["options"]:
        line = o["lines"][opt["line_number"] - 1]
        if opt["product_id"] not in line["modifiers"]:
            w.bad("options", f"{oid}: option {opt['product_id']} not among line modifiers")
        if opt["product_id"] not in {x["product_id"] for s in opt["option_sets"] for x in s["options"]}:
            w.bad("options", f"{oid}: option not in its option set")
    if o["options"]:
        w.with_options += 1
    # register, site, staff on shift
    if company.registers[o["register_id"]]["site"]["id"] != site_id or o["site_id"] != site_id:
        w.bad("registers", f"{oid}: register {o['register_id']} is not at site {site_id}")
    t = epoch(o["created_at"])
    ok = any(s <= t <= e and not any(b0 <= t <= b1 for b0, b1 in br) for s, e, br in on_duty.get(o["staff_id"], ()))
    if not ok or o["staff_member_id"] != o["staff_id"]:
        w.bad("staff", f"{oid}: staff {o['staff_id']} not on duty at {o['created_at']}")
    # time zone: the offset written is the zone's offset at that instant
    dt = datetime.fromisoformat(o["created_at"])
    if dt.utcoffset() != dt.astimezone(company.tz).utcoffset():
        w.bad("tz", f"{oid}: {o['created_at']} has the wrong offset for {company.tz}")
    w.offsets[company.id].add(o["created_at"][-6:])
    # customer link
    if o["customer_id"] is not None:
        w.with_customer += 1
        c = company.customers.get(o["customer_id"])
        if c is None or o["customer"]["id"] != c["id"] or o["customer"]["email"] != c["primary_email_address"]:
            w.bad("customers", f"{oid}: customer {o['customer_id']} does not match")
        elif epoch(c["created_at"]) > t:
            w.bad("customers", f"{oid}: customer {c['id']} signed up after the order")
    # refunds
    if o["is_refund"]:
        w.refunds += 1
        orig = company.order(o["refunded_order_id"])
        if orig is None or orig["is_refund"] or orig["site_id"] != site_id or epoch(orig["created_at"]) >= t:
            w.bad("refunds", f"{oid}: refunded order {o['refunded_order_id']} missing or not earlier")
        else:
            if not D(orig["total"]) >= -D(o["total"]) > 0:
                w.bad("refunds", f"{oid}: refund {o['total']} vs original {orig['total']}")
            originals = [(ln["product"]["id"], ln["unit_price"], ln["quantity"]) for ln in orig["lines"]]
            for ln in o["lines"]:
                match = [q for p, u, q in originals if p == ln["product"]["id"] and u == ln["unit_price"]]
                if not match or not 0 < -ln["quantity"] <= max(match) or D(ln["line_total_ex_tax"]) > 0:
                    w.bad("refunds", f"{oid}: line {ln['number']} does not mirror the original")
            if o["customer_id"] != orig["customer_id"]:
                w.bad("refunds", f"{oid}: customer differs from the original's")
        if o["status"] != "COMPLETE" or D(o["paid"]) != D(o["total"]) or D(o["total"]) >= 0:
            w.bad("refunds", f"{oid}: refund not a negative COMPLETE order")
    elif o["refunded_order_id"] is not None:
        w.bad("refunds", f"{oid}: refunded_order_id on a non-refund")
    if len(o["payments"]) > 1:
        w.split += 1
    if D(o["tips"]) > 0:
        w.tipped += 1
    if o["deleted"]:
        w.deleted += 1
    w.statuses[o["status"]] += 1


def _check_recon(w: Walk, site_id: int, day: date, orders: list[dict], recs: list[dict]) -> None:
    w.recons += len(recs)
    if len(recs) != 1:
        w.bad("recon", f"site {site_id} {day}: {len(recs)} reconciliations")
        return
    rec = recs[0]
    if rec["id_str"] != str(rec["id"]) or rec["site"]["id"] != site_id:
        w.bad("recon", f"site {site_id} {day}: id/site")
    by_method: Counter = Counter()
    sales = Decimal(0)
    for o in orders:
        if o["deleted"]:
            continue
        for p in o["payments"]:
            by_method[p["method"]["id"]] += D(p["amount"])
        if o["status"] == "COMPLETE":
            sales += D(o["total"])
    recorded = {r["payment_method"]["id"]: D(r["takings"]["recorded"]) for r in rec["reconciliations"]}
    for mid in set(recorded) | set(by_method):
        if recorded.get(mid, Decimal(0)) != by_method.get(mid, Decimal(0)):
            w.bad("recon", f"site {site_id} {day}: method {mid} recorded {recorded.get(mid)} "
                           f"!= payments {by_method.get(mid)}")
    income = sum((D(a["net"]) + D(a["tax"]) for acc in rec["income_accounts"] for a in acc["amounts"]),
                 Decimal(0))
    if income != sales or sum(recorded.values(), Decimal(0)) != sales:
        w.bad("recon", f"site {site_id} {day}: income {income}, takings {sum(recorded.values())}, sales {sales}")
    if epoch(rec["created_at"]) < max((epoch(o["created_at"]) for o in orders), default=0):
        w.bad("recon", f"site {site_id} {day}: cashed up before the last sale")


def _reset_peak_rss() -> None:
    """Start a new high-water mark of this process's RSS (Linux: ``/proc/self/clear_refs`` 5)."""
    # elsewhere the peak stays the process's own since it started
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` memory line (``VmHWM``, ``VmRSS``) in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    peak = _status_mb("VmHWM")
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def world() -> tuple[Business, Walk]:
    """Walk the whole six months of both companies once."""
    business = Business(seed=7, months=6, clock=Clock(now=NOW))
    w = Walk()
    seen_ids: set[int] = set()
    refunded: Counter = Counter()
    _reset_peak_rss()  # the worker process may have peaked in an earlier test (pytest -n)
    # ... and may still hold what earlier tests allocated (CI: 600 MB before the walk began under
    # -n 2), so the walk's own cost is the peak above the resident size it started from
    w.start_rss_mb = _status_mb("VmRSS") or 0.0
    started = time.perf_counter()
    for company in business.companies.values():
        today = company.last_day()
        for site_id in company.sites:
            day = company.first_day
            while day <= today:
                cpu = time.process_time()
                orders = company.orders_on(site_id, day)
                shifts = company.shifts_on(site_id, day)
                recs = company.reconciliations_on(site_id, day) if day < today else []
                w.generation_cpu += time.process_time() - cpu
                on_duty: dict[int, list] = defaultdict(list)
                for s in shifts:
                    if s["site"]["id"] != site_id:
                        w.bad("shifts", f"shift of site {s['site']['id']} listed for {site_id}")
                    breaks = [(epoch(b["started_at"]), epoch(b["finished_at"]) if b["finished_at"] else NOW.timestamp())
                              for b in s["breaks"]]
                    end = epoch(s["finished_at"]) if s["finished_at"] else NOW.timestamp()
                    on_duty[s["staff_member"]["id"]].append((epoch(s["started_at"]), end, breaks))
                for o in orders:
                    if o["id"] in seen_ids:
                        w.bad("ids", f"duplicate order id {o['id']}")
                    seen_ids.add(o["id"])
                    if epoch(o["created_at"]) > NOW.timestamp():
                        w.bad("clock", f"{o['id']} created after now")
                    local = datetime.fromisoformat(o["created_at"])
                    if local.date() != day:
                        w.bad("days", f"{o['id']} created {o['created_at']} listed on {day}")
                    _check_order(w, company, site_id, o, on_duty)
                    if o["is_refund"]:
                        refunded[o["refunded_order_id"]] += 1
                    w.hours[site_id][local.hour] += 1
                    if "Public holiday surcharge" in o["notes"]:
                        w.holiday_orders += 1
                        w.holiday_surcharged += all(ln["price_variation"] != 1.0 for ln in o["lines"])
                for a, b in zip(orders, orders[1:], strict=False):
                    if (epoch(a["created_at"]), a["id"]) > (epoch(b["created_at"]), b["id"]):
                        w.bad("order", f"site {site_id} {day}: not ascending by created_at")
                    if a["id"] >= b["id"]:
                        w.bad("order", f"site {site_id} {day}: ids do not increase with created_at")
                w.orders += len(orders)
                normal = sum(1 for o in orders if not o["is_refund"])
                if day < today:
                    w.counts[(site_id, day)] = normal
                    w.weekdays[site_id][day.weekday()] += normal
                    if orders:
                        _check_recon(w, site_id, day, orders, recs)
                    elif recs:
                        w.bad("recon", f"site {site_id} {day}: reconciliation on a closed day")
                day += timedelta(days=1)
    w.seconds = time.perf_counter() - started
    w.peak_rss_mb = _peak_rss_mb()
    for oid, n in refunded.items():
        if n > 1:
            w.bad("refunds", f"order {oid} refunded {n} times")
    return business, w


CHECKS = ["ids", "lines", "totals", "payments", "options", "registers", "staff", "tz", "customers",
          "refunds", "recon", "shifts", "clock", "days", "order"]


@pytest.mark.parametrize("check", CHECKS)
def test_consistency__no_problems(world: tuple[Business, Walk], check: str) -> None:
    _, w = world
    assert w.orders > 80_000
    assert w.problems.get(check, []) == []


def test_consistency__generation_is_fast_and_small(world: tuple[Business, Walk]) -> None:
    _, w = world
    print(f"\nfull six months: {w.orders} orders generated in {w.generation_cpu:.1f} s CPU "
          f"({w.seconds:.1f} s wall with the checks), peak RSS {w.peak_rss_mb:.0f} MB, "
          f"{w.peak_rss_mb - w.start_rss_mb:.0f} MB above the {w.start_rss_mb:.0f} MB it started at")
    # measured alone: 104 MB for the walk (peak 150 MB in a fresh process)
    assert w.peak_rss_mb - w.start_rss_mb < 400
    # CPU time, not wall time: CI machines are shared (measured about 5 s on a slow core)
    assert w.generation_cpu < 20


def test_consistency__every_kind_of_record_occurs(world: tuple[Business, Walk]) -> None:
    business, w = world
    assert w.refunds > 100
    assert w.split > 500
    assert w.tipped > 1000
    assert 0 < w.deleted < w.orders * 0.01
    assert w.with_customer > w.orders * 0.1
    group = business.companies[51642]
    joined = [c for c in group.customers.values() if c["created_at"] >= group.first_day.isoformat()]
    assert len(joined) > 0.15 * len(group.customers)  # the loyalty program grows during the window
    assert w.with_options > w.orders * 0.2
    assert w.wine_lines > 1000
    assert {"COMPLETE", "ON_HOLD", "REJECTED"} <= set(w.statuses)
    # online pick-ups settle within hours: only the open day may hold unfinished ones
    # (the tail itself: tests/test_sandbox_business.py::test_live__online_pick_ups_settle_within_hours)
    unfinished = w.statuses["PENDING"] + w.statuses["ACCEPTED"] + w.statuses["SUBMITTED"]
    assert unfinished <= 10
    assert w.statuses["COMPLETE"] > 0.97 * w.orders
    assert {0.5, 0.8, 0.9, 1.0, 1.15} <= set(w.variations)


def test_consistency__public_holidays_are_surcharged(world: tuple[Business, Walk]) -> None:
    business, w = world
    cafe = business.companies[51642]
    # King's Birthday (8 Jun 2026) and NSW Labour Day (5 Oct 2026) are Mondays: café trades.
    for holiday in (date(2026, 6, 8), date(2026, 10, 5)):
        orders = cafe.orders_on(1201, holiday)
        assert orders and all(ln["price_variation"] in (1.15, 1.04, 0.58)
                              for o in orders if not o["is_refund"] for ln in o["lines"])
    assert w.holiday_orders > 500 and w.holiday_surcharged == w.holiday_orders
    # and an ordinary Monday carries no surcharge
    ordinary = cafe.orders_on(1201, date(2026, 6, 15))
    assert all(ln["price_variation"] != 1.15 for o in ordinary for ln in o["lines"])


def test_consistency__offsets_follow_dst(world: tuple[Business, Walk]) -> None:
    _, w = world
    assert w.offsets[51642] == {"+10:00", "+11:00"}
    assert w.offsets[61873] == {"+10:00", "+11:00"}


def test_consistency__every_open_day_has_a_reconciliation(world: tuple[Business, Walk]) -> None:
    _, w = world
    open_days = sum(1 for n in w.counts.values() if n > 0)
    assert w.recons == open_days


def test_consistency__trading_hours(world: tuple[Business, Walk]) -> None:
    _, w = world
    cafe, bar, restaurant, bakery = (w.hours[s] for s in (1201, 1202, 1203, 1301))
    assert cafe[22] == 0 and all(cafe[h] == 0 for h in (*range(0, 6), *range(16, 24)))
    assert bar[9] == 0 and all(bar[h] == 0 for h in range(0, 14))
    assert max(cafe, key=cafe.get) in (7, 8, 9)  # breakfast peak
    assert max(bar, key=bar.get) in (19, 20, 21, 22)
    assert restaurant[16] < restaurant[13] / 5 and restaurant[19] > restaurant[13]  # lunch, gap, dinner
    assert all(bakery[h] == 0 for h in (*range(0, 7), *range(16, 24)))


def _mean(w: Walk, site_id: int, pred) -> float:
    values = [n for (s, d), n in w.counts.items() if s == site_id and pred(d)]
    return statistics.mean(values)


def test_consistency__weekly_rhythm_differs_by_venue(world: tuple[Business, Walk]) -> None:
    _, w = world
    # closed days
    assert w.weekdays[1202][0] == 0 and w.weekdays[1203][0] == 0  # bar, restaurant: Mondays
    assert _mean(w, 1201, lambda d: d.weekday() == 0) > 100  # the café trades on Mondays
    # café: weekends busiest; bar: Thursday-Saturday
    cafe_weekend = _mean(w, 1201, lambda d: d.weekday() >= 5)
    cafe_midweek = _mean(w, 1201, lambda d: d.weekday() in (1, 2))
    assert cafe_weekend > 1.25 * cafe_midweek
    bar_peak = _mean(w, 1202, lambda d: d.weekday() in (3, 4, 5))
    bar_quiet = _mean(w, 1202, lambda d: d.weekday() in (1, 2))
    assert bar_peak > 1.6 * bar_quiet
    # restaurant: no Sunday dinner
    sunday_dinner = sum(1 for (s, d) in w.counts if s == 1203 and d.weekday() == 6)
    assert sunday_dinner > 0 and w.hours[1203][20] > 0


def test_consistency__volumes_and_seasons(world: tuple[Business, Walk]) -> None:
    _, w = world
    ranges = {1201: (150, 350), 1202: (80, 250), 1203: (60, 150), 1301: (100, 200)}
    for site_id, (lo, hi) in ranges.items():
        values = sorted(n for (s, _), n in w.counts.items() if s == site_id and n > 0)
        median = values[len(values) // 2]
        assert lo <= median <= hi, (site_id, median)
        assert values[int(len(values) * 0.05)] >= lo * 0.6 and values[int(len(values) * 0.95)] <= hi * 1.25
    # bars are busier as summer comes (November) than in winter (July); so is the café
    for site_id in (1201, 1202):
        assert _mean(w, site_id, lambda d: d.month == 11 and d.weekday() in (4, 5)) > 1.15 * _mean(
            w, site_id, lambda d: d.month == 7 and d.weekday() in (4, 5))


def test_consistency__special_days_and_seasonal_mix(world: tuple[Business, Walk]) -> None:
    _, w = world
    # the NRL Grand Final (Sunday 4 Oct 2026) fills the bar
    nrl = w.counts[(1202, date(2026, 10, 4))]
    assert nrl > 1.4 * _mean(w, 1202, lambda d: d.weekday() == 6 and d != date(2026, 10, 4))
    # cold drinks sell in the warm months, tea and pies in the cold ones
    def share(site: int, month: int, category: str) -> float:
        mix = w.mix[(site, month)]
        return mix[category] / sum(mix.values())
    assert share(1201, 11, "Cold Drinks") > 1.4 * share(1201, 7, "Cold Drinks")
    assert share(1201, 7, "Tea & Chocolate") > 1.4 * share(1201, 11, "Tea & Chocolate")
    assert share(1301, 7, "Pies & Savoury") > 1.4 * share(1301, 11, "Pies & Savoury")


def test_consistency__price_rise_shows_in_the_lines(world: tuple[Business, Walk]) -> None:
    business, w = world
    group = business.companies[51642]
    flat_white = next(p for p in group.products.values() if p["name"] == "Flat White")
    now_price = next(s["unit_price"] for s in flat_white["sites"] if s["id"] == 1201)
    assert w.base_prices[(1201, "Flat White", True)] == {now_price}
    (before,) = w.base_prices[(1201, "Flat White", False)]
    assert round((now_price - before) * 1.1, 2) == 0.20  # 20c more, tax inclusive
    assert w.base_prices[(1201, "Croissant", True)] == w.base_prices[(1201, "Croissant", False)]
