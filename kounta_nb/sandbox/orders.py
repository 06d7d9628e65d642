"""The order generator: one site-day at a time, deterministic from (seed, site, day).

**Ids.** Order, line, payment and reconciliation ids are 64-bit and above 2^53 (so they always
carry ``id_str``). They are built from a 52-bit payload ``P``::

    P        = day << 32 | wall_seconds << 15 | site_slot << 7 | k
    order    = 1 << 62 | 0 << 58 | P << 6
    line     = 1 << 62 | 1 << 58 | P << 6 | line_number
    payment  = 1 << 62 | 2 << 58 | P << 6 | payment_number
    reconciliation = 1 << 62 | 3 << 58 | (day << 32 | site_slot << 7) << 6

``day`` counts days since 2000-01-01, ``wall_seconds`` is the local wall-clock time of creation,
``site_slot`` numbers the sites (255 = orders created through the API) and ``k`` separates orders
created in the same second (refunds use 64..127). So ids increase with ``created_at`` and
``order(id)`` finds its site-day without scanning.

**Money and the one rounding rule.** Menu prices are tax-inclusive cents; a line's
``unit_price`` (ex tax) and ``unit_tax`` have four decimals and add up to the tax-inclusive unit
price (modifiers included). Then, rounding halves away from zero to the cent::

    line_total_ex_tax = round(unit_price * quantity * price_variation, 2)
    line_total_tax    = round(unit_tax   * quantity * price_variation, 2)
    total             = sum(line_total_ex_tax + line_total_tax)      total_tax = sum(line_total_tax)

computed exactly in integers. ``paid`` is the sum of payment ``amount``s (tips are extra, in
``tip`` and the order's ``tips``); a COMPLETE order has ``paid == total``. A refund is its own
COMPLETE order (``is_refund``, ``refunded_order_id``) that repeats some of the original's lines
with negative quantities, so each of its amounts is the exact negative of the same formula.

**Staff.** Each order is taken by a staff member whose shift at that site covers ``created_at``
and who is not on a break then.

**Reconciliation.** One per site and trading day, created after closing. ``income_accounts``
splits the non-deleted COMPLETE orders' net and tax by ledger code (category) and tax; the
``takings.recorded`` of each payment method is the sum of that day's payment amounts of the
non-deleted orders with that method (deleted orders are voided duplicates and do not count).
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from .menu import rhu
from .people import Shift, build_roster
from .sitemodel import SiteModel, _Item, _Opt, _OptSet, cumulative, seed_of
from .timeline import DayTime, day_number, holiday_name
from .venues import CATEGORY_SEASON, event_factor, intraday

__all__ = [
    "ORDER_STATUSES",
    "DayOrders",
    "Skeleton",
    "decode_id",
    "order_id",
    "reconciliation_id",
    "KIND_LINE",
    "KIND_ORDER",
    "KIND_PAYMENT",
    "KIND_RECON",
    "LATE_SETTLE",
    "NOTES_LINE",
    "OVERLAY_SLOT",
    "REFUND_REASONS",
    "STATUS_NAMES",
    "S_ACCEPTED",
    "S_COMPLETE",
    "S_COMPLETE_LATE",
    "S_ON_HOLD",
    "S_PENDING",
    "S_REJECTED",
    "S_REJECTED_LATE",
    "S_SUBMITTED",
    "add_refunds",
    "assemble",
    "availability",
    "build_normal",
    "build_refunds",
    "build_skeleton",
    "expected_orders",
    "payload",
]

OVERLAY_SLOT = 255
_P_MASK = (1 << 52) - 1
_BASE = 1 << 62
KIND_ORDER, KIND_LINE, KIND_PAYMENT, KIND_RECON = 0, 1, 2, 3
_LINE_BASE = _BASE | KIND_LINE << 58
_PAY_BASE = _BASE | KIND_PAYMENT << 58


def payload(dn: int, wall: int, slot: int, k: int) -> int:
    return dn << 32 | wall << 15 | slot << 7 | k


def order_id(dn: int, wall: int, slot: int, k: int) -> int:
    """The order id for a day number, wall second, site slot and same-second index."""
    return _BASE | payload(dn, wall, slot, k) << 6


def reconciliation_id(dn: int, slot: int) -> int:
    return _BASE | KIND_RECON << 58 | payload(dn, 0, slot, 0) << 6


def decode_id(value: int) -> tuple[int, int, int, int, int, int] | None:
    """(kind, day number, wall seconds, slot, k, sub) of a sandbox id, or None if it is not one."""
    if not isinstance(value, int) or not _BASE <= value < (1 << 63):
        return None
    kind = (value >> 58) & 3
    p = (value >> 6) & _P_MASK
    return kind, p >> 32, (p >> 15) & 0x1FFFF, (p >> 7) & 0xFF, p & 0x7F, value & 0x3F


# --- skeleton: when, who, which register, which customer, what status ---------------------------

#: Every order status the API knows (docs/api.md §4); the one copy in the sandbox.
ORDER_STATUSES = ("SUBMITTED", "ON_HOLD", "PENDING", "ACCEPTED", "REJECTED", "COMPLETE")
# status codes in the skeleton: the index of the final status in STATUS_NAMES. An online pick-up
# settles: most within minutes (COMPLETE or REJECTED), some ("late") after 20 minutes to 3 hours,
# showing SUBMITTED, then ACCEPTED or PENDING until then (business._as_of: only the last hours).
S_SUBMITTED, S_ON_HOLD, S_PENDING, S_ACCEPTED, S_REJECTED, S_COMPLETE, S_COMPLETE_LATE, S_REJECTED_LATE = range(8)
STATUS_NAMES = (*ORDER_STATUSES, "COMPLETE", "REJECTED")
#: How long a late pick-up takes to settle, in seconds (at most; never past the cash-up).
LATE_SETTLE = (20 * 60, 3 * 3600)


@dataclass
class Skeleton:
    """The cheap part of a site-day: who sold what kind of order when (no lines, no money)."""

    site: SiteModel
    day: date
    dn: int
    dt: DayTime
    roster: list[Shift]
    holiday: str | None
    expected: float
    # normal orders: parallel lists
    walls: list[int]
    ks: list[int]
    staff: list[int]
    regs: list[int]
    custs: list[int]  # index into site.customers, -1 = none
    status: list[int]
    deleted: list[bool]
    online: list[bool]
    # refunds: (wall, k, staff, reg, orig_day_offset (0|1), orig_index); None until decided
    refunds: list[tuple[int, int, int, int, int, int]] | None

    @property
    def open(self) -> bool:
        return bool(self.roster)

    def order_ids(self) -> list[int]:
        slot = self.site.slot
        return [order_id(self.dn, w, slot, k) for w, k in zip(self.walls, self.ks, strict=True)]


def expected_orders(site: SiteModel, day: date) -> tuple[float, str | None]:
    """Mean order count of a site-day and the public holiday (if any)."""
    p = site.profile
    if day < site.first_open or (day.month == 12 and day.day == 25):
        return 0.0, None
    wd = day.weekday()
    if not p.periods(wd):
        return 0.0, None
    hol = holiday_name(p.state, day)
    e = p.base_orders * p.weekday_factor[wd] * p.season[day.month - 1]
    if hol:
        e *= p.holiday_factor
    e *= event_factor(p.kind, day)[0]
    return e, hol


def _on_shift(roster: list[Shift], t: int) -> list[int]:
    return [s.staff_id for s in roster if s.available(t)]


def availability(roster: list[Shift]) -> tuple[list[int], list[list[int]]]:
    """Who can serve when: breakpoints and, from each breakpoint on, the staff on duty."""
    cuts = {0}
    for s in roster:
        cuts.add(s.start)
        cuts.add(s.end + 1)
        for b0, b1 in s.breaks:
            cuts.add(b0)
            cuts.add(b1 + 1)
    points = sorted(cuts)
    return points, [_on_shift(roster, t) for t in points]


def build_skeleton(site: SiteModel, day: date) -> Skeleton:
    """The skeleton of a site-day's normal orders (refunds come from :func:`add_refunds`)."""
    p = site.profile
    dn = day_number(day)
    dt = DayTime.of(day, site.tz)
    rng = random.Random(seed_of(site.seed, site.slot, dn, "skeleton"))
    expected, hol = expected_orders(site, day)
    sk = Skeleton(site, day, dn, dt, [], hol, expected, [], [], [], [], [], [], [], [], None)
    if expected <= 0:
        return sk
    wd = day.weekday()
    noise = rng.lognormvariate(0, 0.12)
    mean = expected * noise
    n = max(1, round(rng.gauss(mean, mean**0.5)))
    sk.roster = build_roster(p, wd, mean, site.pool_on(day), rng)
    starts, cum = intraday(p, wd)
    rand = rng.random
    walls = sorted(s + int(rand() * 300) for s in rng.choices(starts, cum_weights=cum, k=n))
    n_regs = len(site.registers)
    reg_cum = cumulative([0.65] + [0.35 / (n_regs - 1)] * (n_regs - 1)) if n_regs > 1 else [1.0]
    points, on_duty = availability(sk.roster)
    cust_cum = site.customer_cum
    since, ordinal = site.customer_since, day.toordinal()
    cust_total = cust_cum[-1] if cust_cum else 0.0
    customer_p, online_p = p.customer_p, p.online_p
    bisect_right = bisect.bisect_right
    prev_wall, k = -1, 0
    for w in walls:
        k = k + 1 if w == prev_wall else 0
        prev_wall = w
        avail = on_duty[bisect_right(points, w) - 1]
        if not avail:
            raise RuntimeError(f"Roster of site {site.id} on {day} leaves {w}s uncovered.")
        sk.walls.append(w)
        sk.ks.append(k)
        sk.staff.append(avail[int(rand() * len(avail))])
        sk.regs.append(bisect_right(reg_cum, rand() * reg_cum[-1]))
        ci = -1
        if cust_total and rand() < customer_p:
            ci = bisect_right(cust_cum, rand() * cust_total)
            if since[ci] > ordinal:
                ci = -1  # not a member yet: an anonymous sale
        sk.custs.append(ci)
        online = rand() < online_p
        r = rand()
        deleted = False
        if online:
            status = (S_COMPLETE if r < 0.85 else S_REJECTED if r < 0.91 else S_COMPLETE_LATE if r < 0.98
                      else S_REJECTED_LATE)
        else:
            status = S_ON_HOLD if r < 0.005 else S_COMPLETE
            deleted = rand() < 0.002
        sk.online.append(online)
        sk.status.append(status)
        sk.deleted.append(deleted)
    return sk


def add_refunds(sk: Skeleton, previous: Skeleton | None) -> None:
    """Decide the day's refunds: of earlier orders today (even positions) or of the day before
    (odd positions), so no order is ever refunded twice. ``previous`` needs only its orders."""
    site = sk.site
    sk.refunds = []
    if not sk.open:
        return
    rng = random.Random(seed_of(site.seed, site.slot, sk.dn, "refund-skeleton"))
    starts, cum = intraday(site.profile, sk.day.weekday())
    n_ref = sum(1 for _ in range(len(sk.walls)) if rng.random() < 0.006)
    used: set[tuple[int, int]] = set()
    ref_walls = sorted(s + rng.randrange(300) for s in rng.choices(starts, cum_weights=cum, k=n_ref))
    prev_wall, rk = -1, 63
    for w in ref_walls:
        cands: list[tuple[int, int]] = []
        if previous is not None and previous.walls and rng.random() < 0.4:
            cands = [(1, i) for i in range(1, len(previous.walls), 2) if _refundable(previous, i)]
        if not cands:
            cands = [(0, i) for i in range(0, len(sk.walls), 2) if sk.walls[i] < w - 600 and _refundable(sk, i)]
        cands = [c for c in cands if c not in used]
        avail = _on_shift(sk.roster, w)
        if not cands or not avail:
            continue
        off, idx = cands[rng.randrange(len(cands))]
        rk = rk + 1 if w == prev_wall else 64
        if rk > 127:
            continue
        prev_wall = w
        used.add((off, idx))
        sk.refunds.append((w, rk, avail[rng.randrange(len(avail))], 0, off, idx))


def _refundable(sk: Skeleton, i: int) -> bool:
    return sk.status[i] == S_COMPLETE and not sk.deleted[i]


# --- details -------------------------------------------------------------------------------


@dataclass
class DayOrders:
    """The full records of one site-day, ascending by created_at (then id)."""

    records: list[dict]
    epochs: list[int]
    normal: list[dict]  # the non-refund orders in skeleton order
    by_id: dict[int, dict] = field(default_factory=dict)

    def index(self) -> dict[int, dict]:
        if not self.by_id and self.records:
            self.by_id = {r["id"]: r for r in self.records}
        return self.by_id


NOTES_LINE = ("", "", "", "", "", "", "", "", "", "", "", "", "Extra hot", "No sugar", "Gluten free",
              "Sauce on the side", "Less ice", "Half strength")


def _choose_options(rand: Callable[[], float], item: _Item) -> list[tuple[_OptSet, _Opt]]:
    chosen: list[tuple[_OptSet, _Opt]] = []
    for opt_set in item.sets:
        rules = opt_set.model
        cum = opt_set.cum
        if rules.always:
            chosen.append((opt_set, opt_set.choices[bisect.bisect_right(cum, rand() * cum[-1])]))
        elif rand() < rules.pick_p:
            first = opt_set.choices[bisect.bisect_right(cum, rand() * cum[-1])]
            chosen.append((opt_set, first))
            if rules.multi and rand() < 0.25:
                second = opt_set.choices[bisect.bisect_right(cum, rand() * cum[-1])]
                if second is not first:
                    chosen.append((opt_set, second))
    return chosen


def build_normal(sk: Skeleton) -> list[dict]:
    """Full records of the skeleton's normal (non-refund) orders, in skeleton order."""
    site, p = sk.site, sk.site.profile
    if not sk.walls:
        return []
    rng = random.Random(seed_of(site.seed, site.slot, sk.dn, "detail"))
    rand = rng.random
    bisect_right = bisect.bisect_right
    iso = sk.dt.iso
    slot, dn, company_id, site_id = site.slot, sk.dn, site.company_id, site.id
    yymmdd = sk.day.strftime("%y%m%d")
    holiday = sk.holiday
    holiday_var = 115 if holiday else 100
    menu = site.catalogue_items if sk.day >= site.price_rise else site.catalogue_before
    month = sk.day.month - 1
    # per daypart: (until wall, [(items, item cum, item total)], category cum, category total)
    baskets: list[tuple[int, list[tuple[str, list[_Item], list[float], float]], list[float], float]] = []
    for until, weights in p.baskets:
        present = [(c, w * CATEGORY_SEASON[c][month] if c in CATEGORY_SEASON else w)
                   for c, w in weights if c in menu]
        ccum = cumulative([w for _, w in present])
        baskets.append((int(until * 3600), [(c, *menu[c], menu[c][1][-1]) for c, _ in present], ccum, ccum[-1]))
    lines_cum = cumulative(list(p.lines))
    lines_total = lines_cum[-1]
    qty_cum = cumulative(list(p.qty))
    qty_total = qty_cum[-1]
    types = [t for t, _ in p.order_types]
    types_cum = cumulative([w for _, w in p.order_types])
    methods = site.methods
    cash = methods["cash"]
    card_methods = [methods["card"]] * 17 + [methods["amex"]] * 2 + [methods["gift"]]  # 85 / 10 / 5 %
    n_notes = len(NOTES_LINE)
    happy = p.kind == "bar" and 1 <= sk.day.weekday() <= 4
    restaurant = p.kind == "restaurant"
    close_wall = int(max(c for _, c in p.periods(sk.day.weekday())) * 3600)
    pay_lo, pay_hi = p.pay_delay
    pay_cap = min(close_wall + 3600, 86399)
    split_p, tip_p, cash_p = p.split_p, p.tip_p, p.cash_p
    tip_lo, tip_hi = p.tip_rate
    out: list[dict] = []
    seqs = [0] * len(site.registers)
    customers = site.customers
    for i, wall in enumerate(sk.walls):
        pl = (dn << 32 | wall << 15 | slot << 7 | sk.ks[i]) << 6
        oid = _BASE | pl
        line_base = _LINE_BASE | pl
        pay_base = _PAY_BASE | pl
        created = iso(wall)
        status = sk.status[i]
        online = sk.online[i]
        cust_idx = sk.custs[i]
        customer = customers[cust_idx] if cust_idx >= 0 else None
        reg_idx = sk.regs[i]
        reg_id, prefix, _ = site.registers[reg_idx]
        seqs[reg_idx] += 1
        sale_number = f"{prefix}{yymmdd}-{seqs[reg_idx]:04d}"

        # order-level variation: staff meals, loyalty discounts, public holiday surcharge
        r = rand()
        notes = ""
        order_var = 100
        if r < 0.004:
            order_var, notes = 50, "Staff meal"
        elif customer is not None and r < 0.2:
            order_var, notes = 90, "Loyalty 10% off"
        if holiday:
            notes = f"{notes}; " if notes else ""
            notes += f"Public holiday surcharge 15% ({holiday})"

        _, cats, ccum, ctotal = next(b for b in baskets if wall < b[0])
        n_lines = bisect_right(lines_cum, rand() * lines_total) + 1
        lines: list[dict] = []
        options: list[dict] = []
        total_c = tax_c = 0
        for number in range(1, n_lines + 1):
            cat, items, icum, itotal = cats[bisect_right(ccum, rand() * ctotal)]
            item = items[bisect_right(icum, rand() * itotal)]
            qty = bisect_right(qty_cum, rand() * qty_total) + 1
            up, ut = item.ex_4, item.tax_4
            mods: list[int] = []
            if item.sets:
                for oset, opt in _choose_options(rand, item):
                    up += opt.ex_4
                    ut += opt.tax_4
                    mods.append(opt.id)
                    options.append({
                        "product_id": opt.id, "name": opt.name, "unit_price": opt.ex_4 / 10000,
                        "unit_tax": opt.tax_4 / 10000, "taxes": opt.tax_refs, "line_number": number,
                        "option_sets": oset.summary,
                    })
            var = order_var
            if happy and 57600 <= wall < 64800 and (cat == "beer" or cat == "wine"):
                var = 80  # happy hour 16:00-18:00, Tuesday to Friday
            if holiday_var != 100:
                var = rhu(var * holiday_var, 100)
            ex_c = rhu(up * qty * var, 10000)
            tx_c = rhu(ut * qty * var, 10000)
            total_c += ex_c + tx_c
            tax_c += tx_c
            lid = line_base | number
            lines.append({
                "number": number, "id": lid, "id_str": str(lid), "line_id": None,
                "product": item.ref, "quantity": qty, "notes": NOTES_LINE[int(rand() * n_notes)],
                "unit_price": up / 10000, "unit_tax": ut / 10000,
                "line_total_ex_tax": ex_c / 100, "line_total_tax": tx_c / 100,
                "price_variation": var / 100, "price_fixed_variation": 0.0,
                "modifiers": mods, "taxes": item.tax_refs, "part_of_option_set": False,
            })

        order_type = "Pick up" if online else types[bisect_right(types_cum, rand() * types_cum[-1])]
        if restaurant and order_type == "Dine in":
            covers = max(1, min(8, n_lines // 2 + int(rand() * 2)))
            table = f"Table {1 + int(rand() * 24)}, {covers} cover{'s' if covers > 1 else ''}"
            notes = f"{table}; {notes}" if notes else table
        if online:
            notes = f"Online order; {notes}" if notes else "Online order"
        deleted = sk.deleted[i]

        payments: list[dict] = []
        tips_c = 0
        pay_wall = min(wall + pay_lo + int(rand() * (pay_hi - pay_lo)), pay_cap)
        if status == S_COMPLETE:
            parts = 1
            if split_p and total_c >= 200 and rand() < split_p:
                parts = (2, 2, 2, 3, 4)[int(rand() * 5)] if restaurant else 2
            share = total_c // parts
            for number in range(1, parts + 1):
                amount = share if number < parts else total_c - share * (parts - 1)
                if not online and rand() < cash_p:
                    method, ref = cash, None
                else:
                    method = card_methods[int(rand() * 20)]
                    ref = f"{int(rand() * 10**8):08d}"
                tip = 0
                if method is not cash and rand() < tip_p:
                    pct = round((tip_lo + rand() * (tip_hi - tip_lo)) * 100)
                    tip = max(50, rhu(amount * pct, 10000) * 100)  # rounded to whole dollars
                tips_c += tip
                pid = pay_base | number
                payments.append({
                    "id": pid, "id_str": str(pid), "number": number, "method": method,
                    "amount": amount / 100, "tip": tip / 100, "ref": ref,
                    "created_at": iso(min(pay_wall + number - 1, 86399)),
                })
            paid_c = total_c
            updated = iso(min(pay_wall + parts - 1, 86399))
        else:
            paid_c = 0
            updated = iso(wall + int(rand() * 120))
        settled = None
        if status in (S_COMPLETE_LATE, S_REJECTED_LATE):
            # a stream of its own, so the rest of the day draws exactly what it always drew
            late = random.Random(seed_of(site.seed, slot, dn, "settle", i))
            settled = min(wall + late.randint(*LATE_SETTLE), close_wall + 1500, 86399)
            updated = iso(settled)
            if status == S_COMPLETE_LATE:
                pid = pay_base | 1
                payments.append({
                    "id": pid, "id_str": str(pid), "number": 1, "method": card_methods[int(late.random() * 20)],
                    "amount": total_c / 100, "tip": 0.0, "ref": f"{int(late.random() * 10**8):08d}",
                    "created_at": updated,
                })
                paid_c = total_c
        if deleted:
            updated = iso(min(pay_wall + 60 + int(rand() * 1740), 86399))
            notes = f"Duplicate — voided; {notes}" if notes else "Duplicate — voided"
        fulfil = iso(wall + (900, 1200, 1800)[int(rand() * 3)]) if online else created
        if settled is not None:
            fulfil = updated  # picked up (or turned away) when it settled
        staff_id = sk.staff[i]
        out.append({
            "id": oid, "id_str": str(oid), "company_id": company_id, "sale_number": sale_number,
            "status": STATUS_NAMES[status], "notes": notes,
            "site_id": site_id, "register_id": reg_id,
            "staff_id": staff_id, "staff_member_id": staff_id,
            "customer_id": customer["id"] if customer else None, "customer": customer,
            "total": total_c / 100, "total_tax": tax_c / 100, "paid": paid_c / 100, "tips": tips_c / 100,
            "deleted": deleted, "order_type": order_type, "is_refund": False, "refunded_order_id": None,
            "price_variation": 1.0, "price_fixed_variation": 0.0,
            "order_payment_type": "online" if online else "pay_now",
            "callback_uri": f"https://orders.example.com/kounta/callback/{oid}" if online else None,
            "placed_at": created, "fulfil_at": fulfil,
            "lines": lines, "options": options, "payments": payments,
            "created_at": created, "updated_at": updated,
        })
    return out


REFUND_REASONS = ("Wrong order", "Item unavailable", "Customer complaint", "Overcharged",
                  "Cold food", "Changed mind")


def build_refunds(sk: Skeleton, today: list[dict], yesterday: list[dict]) -> list[dict]:
    """Full records of the skeleton's refunds (needs the normal orders of the day and the day before)."""
    site = sk.site
    rng = random.Random(seed_of(site.seed, site.slot, sk.dn, "refunds"))
    iso = sk.dt.iso
    yymmdd = sk.day.strftime("%y%m%d")
    out: list[dict] = []
    for n, (wall, k, staff_id, reg_idx, off, idx) in enumerate(sk.refunds or (), 1):
        orig = (yesterday if off else today)[idx]
        pl = payload(sk.dn, wall, site.slot, k)
        oid = _BASE | pl << 6
        line_base = _BASE | KIND_LINE << 58 | pl << 6
        pay_base = _BASE | KIND_PAYMENT << 58 | pl << 6
        reg_id, _, rprefix = site.registers[reg_idx]
        olines = orig["lines"]
        pick = sorted(rng.sample(range(len(olines)), rng.randint(1, len(olines))))
        lines: list[dict] = []
        options: list[dict] = []
        total_c = tax_c = 0
        for number, li in enumerate(pick, 1):
            ol = olines[li]
            qty = -rng.randint(1, ol["quantity"])
            var = round(ol["price_variation"] * 100)
            ex_c = rhu(round(ol["unit_price"] * 10000) * qty * var, 10000)
            tx_c = rhu(round(ol["unit_tax"] * 10000) * qty * var, 10000)
            total_c += ex_c + tx_c
            tax_c += tx_c
            lid = line_base | number
            lines.append({**ol, "number": number, "id": lid, "id_str": str(lid), "quantity": qty,
                          "notes": "", "line_total_ex_tax": ex_c / 100, "line_total_tax": tx_c / 100})
            options.extend({**o, "line_number": number} for o in orig["options"] if o["line_number"] == ol["number"])
        created = iso(wall)
        method = orig["payments"][0]["method"]
        pid = pay_base | 1
        payment = {"id": pid, "id_str": str(pid), "number": 1, "method": method, "amount": total_c / 100,
                   "tip": 0.0, "ref": None, "created_at": iso(wall + 20)}
        out.append({
            **orig,
            "id": oid, "id_str": str(oid), "sale_number": f"{rprefix}{yymmdd}-{n:04d}", "status": "COMPLETE",
            "notes": f"Refund of {orig['sale_number']}: {REFUND_REASONS[rng.randrange(len(REFUND_REASONS))]}",
            "register_id": reg_id, "staff_id": staff_id, "staff_member_id": staff_id,
            "total": total_c / 100, "total_tax": tax_c / 100, "paid": total_c / 100, "tips": 0.0,
            "deleted": False, "is_refund": True, "refunded_order_id": orig["id"],
            "order_payment_type": "pay_now", "callback_uri": None,
            "placed_at": created, "fulfil_at": created, "lines": lines, "options": options,
            "payments": [payment], "created_at": created, "updated_at": iso(wall + 20),
        })
    return out


def assemble(sk: Skeleton, normal: list[dict], refunds: list[dict]) -> DayOrders:
    dt = sk.dt
    keyed = [(dt.wall_epoch + w, r["id"], r) for w, r in zip(sk.walls, normal, strict=True)]
    keyed += [(dt.wall_epoch + ref[0], r["id"], r) for ref, r in zip(sk.refunds or (), refunds, strict=True)]
    keyed.sort(key=lambda t: (t[0], t[1]))
    return DayOrders([t[2] for t in keyed], [t[0] for t in keyed], normal)
