"""The end of a trading day as API records: the day's shifts and its reconciliation (cash-up).

A reconciliation is one per site and trading day, created after closing: ``income_accounts`` splits
the non-deleted COMPLETE orders' net and tax by ledger code (category) and tax; the
``takings.recorded`` of each payment method is the sum of that day's payment amounts of the
non-deleted orders with that method (deleted orders are voided duplicates and do not count).
"""

from __future__ import annotations

import random

from .menu import rhu
from .orders import DayOrders, Skeleton, reconciliation_id
from .sitemodel import seed_of

__all__ = ["reconciliation_record", "shift_records"]


def shift_records(sk: Skeleton, now_epoch: float) -> list[dict]:
    """The day's shifts as API records, as far as they have happened at ``now_epoch``."""
    dt, site = sk.dt, sk.site
    out = []
    for s in sk.roster:
        if dt.epoch(s.start) > now_epoch:
            continue
        breaks = []
        for b0, b1 in s.breaks:
            if dt.epoch(b0) > now_epoch:
                continue
            breaks.append({"started_at": dt.iso(b0), "finished_at": dt.iso(b1) if dt.epoch(b1) <= now_epoch else None})
        out.append({
            "staff_member": site.staff_refs[s.staff_id],
            "site": site.site_ref,
            "started_at": dt.iso(s.start),
            "finished_at": dt.iso(s.end) if dt.epoch(s.end) <= now_epoch else None,
            "breaks": breaks,
        })
    return out


def reconciliation_record(sk: Skeleton, day: DayOrders, processed: bool, ledger: dict[int, str],
                          all_methods: list[dict]) -> dict:
    """The site-level reconciliation (cash-up) of one trading day."""
    site = sk.site
    rid = reconciliation_id(sk.dn, site.slot)
    income: dict[str, dict[int, list[int]]] = {}
    takings: dict[int, int] = {m["id"]: 0 for m in all_methods}
    for r in day.records:
        if r["deleted"]:
            continue
        for pay in r["payments"]:
            takings[pay["method"]["id"]] += round(pay["amount"] * 100)
        if r["status"] != "COMPLETE":
            continue
        for ln in r["lines"]:
            accounts = income.setdefault(ledger[ln["product"]["id"]], {})
            ex_c = round(ln["line_total_ex_tax"] * 100)
            tx_c = round(ln["line_total_tax"] * 100)
            taxes = ln["taxes"]
            if len(taxes) == 1:
                parts = [(taxes[0]["id"], ex_c, tx_c)]
            else:
                # several taxes: net goes to the first, the tax is split by rate
                total_rate = sum(t["rate"] for t in taxes)
                parts, left = [], tx_c
                for j, t in enumerate(taxes):
                    share = left if j == len(taxes) - 1 else rhu(tx_c * round(t["rate"] * 10000), round(total_rate * 10000))
                    left -= share
                    parts.append((t["id"], ex_c if j == 0 else 0, share))
            for tax_id, net, tax in parts:
                acc = accounts.setdefault(tax_id, [0, 0])
                acc[0] += net
                acc[1] += tax
    closing = max(sk.roster, key=lambda s: (s.end, s.staff_id))
    staff = site.staff_refs[closing.staff_id]
    close_wall = int(max(c for _, c in site.profile.periods(sk.day.weekday())) * 3600)
    rng = random.Random(seed_of(site.seed, site.slot, sk.dn, "cashup"))
    recs = []
    for meth in all_methods:
        recorded = takings[meth["id"]]
        counted = recorded
        cash_in = cash_out = 0
        if meth["name"] == "Cash":
            cash_in = 20000  # float put in the drawer each morning
            if rng.random() < 0.3:
                counted += rng.choice((-500, -200, -100, -50, -20, 10, 50, 100))
            if rng.random() < 0.2:
                cash_out = rng.choice((1250, 2380, 4500, 7540))  # petty cash: milk, ice, cleaning
        recs.append({
            "payment_method": meth,
            "takings": {"recorded": recorded / 100, "counted": counted / 100},
            "adjustments": {"cash_in": cash_in / 100, "cash_out": cash_out / 100},
        })
    return {
        "id": rid, "id_str": str(rid), "number": (sk.day - site.first_open).days + 1,
        "processed": processed, "reconciliation_level": "site", "register": None,
        "site": site.site_ref,
        "staff_member": {"id": staff["id"], "first_name": staff["first_name"], "last_name": staff["last_name"]},
        "income_accounts": [
            {"ledger_code": code, "amounts": [
                {"tax_id": tax_id, "net": v[0] / 100, "tax": v[1] / 100} for tax_id, v in sorted(accts.items())
            ]}
            for code, accts in sorted(income.items())
        ],
        "reconciliations": recs,
        "created_at": sk.dt.iso(min(close_wall + 1800 + rng.randrange(1200), 86399)),
    }
