"""Records for the frames tests: full orders whose money adds up to the cent, and one rich record
per kind (every documented field of docs/api.md §5 filled in)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from conftest import FIXTURES_REAL

BIG = 2**53 + 12345  # an id a float64 (or JavaScript) cannot hold exactly
AEST = timezone(timedelta(hours=10))


def load(rel: str) -> Any:
    """A real-shaped fixture by its path under ``FIXTURES_REAL`` (docs/api.md §7)."""
    return json.loads((FIXTURES_REAL / rel).read_text(encoding="utf-8"))


def fixture_files() -> list[Path]:
    return sorted(FIXTURES_REAL.rglob("*.json"))


def _c(x: float) -> float:
    return round(x + 1e-9, 2)


def full_order(
    n: int = 0,
    *,
    site_id: int = 101,
    lines: list[tuple[float, float, float]] | None = None,
    created: datetime | None = None,
    status: str = "COMPLETE",
) -> dict[str, Any]:
    """A full order whose line totals, tax and payments add up to the cent.

    ``lines`` is ``[(quantity, gross unit price incl. 10 % GST, price_variation), …]``.
    """
    lines = lines or [(2, 4.50, 1.0), (1, 12.00, 0.9), (3, 3.30, 1.15)]
    created = created or datetime(2026, 5, 29, 11, 14, 6, tzinfo=AEST) + timedelta(minutes=7 * n)
    oid = BIG + n
    out_lines, ex_sum, tax_sum = [], 0.0, 0.0
    for i, (qty, gross, pv) in enumerate(lines, start=1):
        unit_price = round(gross / 1.1, 4)
        unit_tax = round(gross - unit_price, 4)
        line_total = _c(qty * gross * pv)
        line_tax = _c(line_total / 11)
        line_ex = _c(line_total - line_tax)
        ex_sum += line_ex
        tax_sum += line_tax
        lid = oid * 10 + i
        out_lines.append(
            {
                "number": i,
                "id": lid,
                "id_str": str(lid),
                "line_id": f"L{i}",
                "product": {"id": 5000 + i, "name": f"Product {i}"},
                "quantity": qty,
                "notes": "" if i > 1 else "no sugar",
                "unit_price": unit_price,
                "unit_tax": unit_tax,
                "line_total_ex_tax": line_ex,
                "line_total_tax": line_tax,
                "price_variation": pv,
                "price_fixed_variation": 0,
                "modifiers": [-67, 5009] if i == 1 else [],
                "taxes": [{"id": 829, "name": "GST", "rate": 0.1}],
                "part_of_option_set": False,
            }
        )
    total = _c(ex_sum + tax_sum)
    cash = _c(total / 3)
    stamp = created.isoformat()
    return {
        "id": oid,
        "id_str": str(oid),
        "sale_number": f"0{n:05d}",
        "status": status,
        "notes": "",
        "company_id": 162,
        "site_id": site_id,
        "register_id": 409,
        "staff_id": 77,
        "staff_member_id": 77,
        "customer_id": 3842,
        "customer": {
            "id": 3842,
            "first_name": "Lucy",
            "last_name": "Lavender",
            "email": "l@x.test",
        },
        "total": total,
        "total_tax": _c(tax_sum),
        "paid": total,
        "tips": 0,
        "deleted": False,
        "order_type": "Dine in",
        "is_refund": False,
        "refunded_order_id": None,
        "price_variation": 1,
        "price_fixed_variation": 0,
        "order_payment_type": "NORMAL",
        "callback_uri": None,
        "placed_at": stamp,
        "fulfil_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
        "lines": out_lines,
        "options": [
            {
                "product_id": 9001,
                "name": "Oat milk",
                "unit_price": 0.4545,
                "unit_tax": 0.0455,
                "taxes": [{"id": 829, "name": "GST", "rate": 0.1}],
                "line_number": 1,
                "option_sets": [
                    {
                        "option_set_id": 31,
                        "name": "Milk",
                        "options": [{"product_id": 9001, "name": "Oat milk", "unit_price": 0.4545}],
                    }
                ],
            }
        ],
        "payments": [
            {
                "id": oid * 10 + 1,
                "id_str": str(oid * 10 + 1),
                "number": 1,
                "method": {"id": 1, "name": "Cash"},
                "amount": cash,
                "tip": 0,
                "ref": "",
                "created_at": stamp,
            },
            {
                "id": oid * 10 + 2,
                "id_str": str(oid * 10 + 2),
                "number": 2,
                "method": {"id": 2, "name": "Card"},
                "amount": _c(total - cash),
                "tip": 0,
                "ref": "0042",
                "created_at": stamp,
            },
        ],
    }


def rich_records() -> dict[str, list[dict[str, Any]]]:
    """One complete record per kind (input for that kind's frame)."""
    addr = {"id": 1, "lines": ["Suite 5", "44 Mutton St"], "city": "Beeftown", "zone": "NSW",
            "postal_code": "2112", "country": "AU"}  # fmt: skip
    order = full_order()
    product = {
        "id": 5001, "company_id": 162, "name": "Flat white", "code": "FW", "number": "0012",
        "sku": "00123", "description": "Coffee", "online_description": "", "barcode": "0093",
        "image": None, "tags": ["coffee", "hot"], "categories": [{"id": 7, "name": "Coffee"}],
        "unit_price": 4.0909, "cost_price": 1, "stock": 12.5, "is_modifier": False,
        "show_online": True, "friendly_name": "FW", "top_seller": True, "is_sold": True,
        "deleted": False, "unit_of_measure": "each", "measure": 1, "special_item": False,
        "taxes": [{"id": 829, "code": "GST", "name": "GST", "rate": 0.1}],
        "sites": [{"id": 101, "unit_price": 4.0909}, {"id": 102, "unit_price": "4.5"}],
        "created_at": "2026-01-02T09:00:00+11:00", "updated_at": "2026-05-02T09:00:00+10:00",
    }  # fmt: skip
    shift = load("kounta-python/shift.json")
    recon = load("kounta-python/cashup.json") | {"id": BIG, "id_str": str(BIG),
                                                 "reconciliation_level": "register"}  # fmt: skip
    return {
        "orders": [order],
        "lines": [order],
        "payments": [order],
        "options": [order],
        "products": [product],
        "product_prices": [product],
        "product_categories": [product],
        "sites": [load("kounta-python/site.json") | {"company_id": 162, "postal_address": addr}],
        "registers": [
            {
                "id": 409,
                "company_id": 162,
                "code": "T1",
                "name": "Till 1",
                "site": {"id": 101, "name": "Café", "code": "CF"},
                "current_staff_member": {"id": 77, "first_name": "A", "last_name": "B"},
                "sale_prefix": "A",
                "return_prefix": "R",
                "assigned_to_device": True,
            }
        ],  # fmt: skip
        "customers": [
            load("tanda-kounta/customer.json") | {"reference_id": "0042", "accepts_marketing": True}
        ],  # fmt: skip
        "staff": [load("kounta-python/staff.json")],
        "shifts": [shift],
        "breaks": [shift],
        "taxes": load("tanda-kounta/taxes.json"),
        "categories": [
            load("tanda-kounta/category.json") | {"show_online": True, "friendly_name": "Fr"}
        ],  # fmt: skip
        "inventory": [{"id": 5001, "stock": 3, "site_id": 101}],
        "reconciliations": [recon],
        "reconciliation_takings": [recon],
        "reconciliation_income": [recon],
        "webhooks": load("tanda-kounta/webhooks.json"),
        "price_lists": load("tanda-kounta-history/v1_companies_2345_price_lists.json"),
        "price_list_products": [load("tanda-kounta/price_list.json")],
        "payment_methods": [load("kounta-python/payment_method.json")],
        "company": [load("tanda-kounta/companies_me.json")],
        "site_status": [
            {
                "id": 101,
                "name": "Café",
                "code": "CF",
                "online": True,
                "registers": [
                    {"id": 1, "name": "T1", "online": True},
                    {"id": 2, "name": "T2", "online": False},
                ],
                "last_sale_at": "2026-05-29T11:14:06+10:00",
                "checked_at": "2026-05-29T11:20:00+10:00",
            }
        ],
        "people": [load("tanda-kounta/person.json")],
        "addresses": [load("tanda-kounta/address.json")],
    }


# ------------------------------------------------------------------ the extraction oracle


def _oracle_step(value: Any, key: str) -> Any:
    if isinstance(value, dict):
        return value.get(key)
    if isinstance(value, list) and key.isdigit():
        i = int(key)
        return value[i] if i < len(value) else None
    return None


def _oracle_follow(value: Any, keys: list[str]) -> Any:
    for key in keys:
        if value is None:
            return None
        value = _oracle_step(value, key)
    return value


def oracle_values(col: Any, levels: list[list[Any]]) -> list[Any]:
    """One column's raw values, row by row and source by source, as plainly as it can be written:
    the reference :func:`kounta_nb.frames._extract.column_values` (column-wise) is checked against.

    The rules of ``kounta_nb.frames.schemas``: ``^`` climbs one level per caret, ``a.b`` follows
    keys (a digit indexes a list), ``a[].b`` maps the rest over the list at ``a``; the first source
    that gives a value that is neither ``None`` nor ``""`` wins, else the last one tried.
    """
    out = []
    for row in range(len(levels[0])):
        value = None
        for text in col.sources:
            up = len(text) - len(text.lstrip("^"))
            if up >= len(levels):
                continue
            head, bracket, tail = text[up:].partition("[]")
            value = _oracle_follow(levels[up][row], [k for k in head.split(".") if k])
            if bracket:
                each = [k for k in tail.split(".") if k]
                if not isinstance(value, list):
                    value = None
                elif each:
                    value = [_oracle_follow(item, each) for item in value]
            if value is not None and value != "":
                break
        out.append(value)
    return out
