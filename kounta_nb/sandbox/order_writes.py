"""Order and payment writes as pure functions on a company's records (no HTTP, no locks).

Bodies are read the way real clients send them (docs/api.md §4, "Write bodies as real clients
send them"), unless ``strict`` asks for the documented fields only:

- a new order may name its ``register_id`` and no ``site_id``: the register implies the site;
- a payment body may repeat ``order_id`` (and a sent-back payment its ``id``/``number``): accepted
  when it names the order (payment) of the path, refused otherwise;
- an update may send the whole record back: the fields a client cannot set (``paid``, ``total``,
  ``customer{…}``, ``options``, a line's ``number``, prices and totals, …) are ignored, the
  writable ones applied, lines the client left as they were are kept exactly (same ids, prices of
  the day of sale), and invalid values (an unknown product, a negative quantity, another order's
  id, changed payments) are still refused. Fields no order has are always refused, so a typo is
  never silently lost.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from .listing import site_of
from .orders import ORDER_STATUSES
from .web import ErrorReply, bad_request, not_found

__all__ = [
    "add_payment", "build_order", "update_order", "update_payment", "check_identity",
]

_ORDER_FIELDS_IN = frozenset({
    "site_id", "register_id", "staff_member_id", "staff_id", "customer_id", "status", "notes",
    "sale_number", "order_type", "callback_uri", "placed_at", "fulfil_at", "lines", "payments",
    "price_variation", "price_fixed_variation", "order_payment_type", "tips", "deleted",
})
#: Fields every record shows that a write cannot set; ``id``/``id_str``/``company_id`` must
#: still name the record being changed.
_IDENTITY = frozenset({"id", "id_str", "company_id"})
_STAMPS = frozenset({"created_at", "updated_at"})
_ORDER_READ_ONLY = _IDENTITY | _STAMPS | frozenset({
    "total", "total_tax", "paid", "customer", "options", "is_refund", "refunded_order_id"})
_LINE_FIELDS_IN = frozenset({"product_id", "product", "quantity", "notes", "price_variation",
                             "price_fixed_variation", "modifiers"})
_LINE_READ_ONLY = frozenset({"number", "id", "id_str", "line_id", "unit_price", "unit_tax", "line_total_ex_tax",
                             "line_total_tax", "taxes", "part_of_option_set"})
_PAYMENT_FIELDS_IN = frozenset({"method_id", "method", "amount", "tip", "ref"})
_PAYMENT_READ_ONLY = frozenset({"id", "id_str", "number", "created_at", "order_id"})


def _bad(message: str) -> ErrorReply:
    return bad_request(message)


#: No till rings up more than this (quantities, multipliers, dollars): keeps every total finite.
_LARGEST = 1_000_000


def _number(value: Any, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(f"{name} must be a number.")
    if positive and value <= 0:
        raise _bad(f"{name} must be greater than zero.")
    if abs(value) > _LARGEST:
        raise _bad(f"{name} must be at most {_LARGEST:,}.")
    return float(value)


def _ref_id(body: dict, name: str, table: dict[int, dict], what: str, *, nested: str | None = None) -> int | None:
    value = body.get(name)
    if value is None and nested and isinstance(body.get(nested), dict):
        value = body[nested].get("id")
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in table:
        raise _bad(f"{name} {value!r} does not name a {what} of this company.")
    return value


def _same_id(value: Any, expected: int) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value == expected) \
        or (isinstance(value, str) and value == str(expected))


def check_identity(body: dict, record: dict, company_id: int, what: str) -> None:
    """A sent-back ``id`` / ``id_str`` / ``company_id`` must name the record being changed."""
    for key in ("id", "id_str"):
        if key in body and body[key] is not None and not _same_id(body[key], record["id"]):
            raise _bad(f"The body's {key} {body[key]!r} is not this {what}'s ({record['id']}).")
    if body.get("company_id") is not None and not _same_id(body["company_id"], company_id):
        raise _bad(f"The body's company_id {body['company_id']!r} is not this company's ({company_id}).")


def _unknown(body: dict, known: frozenset[str], what: str) -> None:
    unknown = set(body) - known
    if unknown:
        raise _bad(f"{what} has no field {sorted(unknown)[0]!r}.")


def _with_id_str(record: dict) -> dict:
    if isinstance(record.get("id"), int) and record["id"] > 2**53:
        record["id_str"] = str(record["id"])
    return record


def _new_line(company: Any, site_id: int, line: Any, number: int, strict: bool) -> dict:
    if not isinstance(line, dict):
        raise _bad(f"Line {number} must be an object with product_id and quantity.")
    _unknown(line, _LINE_FIELDS_IN if strict else _LINE_FIELDS_IN | _LINE_READ_ONLY, f"Line {number}")
    pid = _ref_id(line, "product_id", company.products, "product", nested="product")
    if pid is None:
        raise _bad(f"Line {number} needs a product_id.")
    product = company.products[pid]
    qty = _number(line.get("quantity", 1), f"Line {number} quantity", positive=True)
    variation = _number(line.get("price_variation", 1.0), f"Line {number} price_variation", positive=True)
    fixed = _number(line.get("price_fixed_variation", 0.0), f"Line {number} price_fixed_variation")
    modifiers = _modifiers(line, number)
    unit_price = float(product.get("unit_price") or 0.0)
    for site in product.get("sites") or []:
        if site.get("id") == site_id and site.get("unit_price") is not None:
            unit_price = float(site["unit_price"])
    taxes = [{"id": t.get("id"), "name": t.get("name"), "rate": t.get("rate")} for t in product.get("taxes") or []]
    rate = sum(float(t.get("rate") or 0) for t in taxes)
    unit_tax = round(unit_price * rate, 4)
    line_id = company.new_id("line")
    return _with_id_str({
        "number": number, "id": line_id, "line_id": str(line_id),
        "product": {"id": pid, "name": product.get("name")}, "quantity": _quantity(qty),
        "notes": str(line.get("notes") or ""), "unit_price": round(unit_price, 4), "unit_tax": unit_tax,
        "line_total_ex_tax": round(unit_price * qty * variation + fixed, 2),
        "line_total_tax": round(unit_tax * qty * variation, 2),
        "price_variation": variation, "price_fixed_variation": fixed, "modifiers": modifiers,
        "taxes": taxes, "part_of_option_set": False,
    })


def _quantity(qty: float) -> int | float:
    return int(qty) if qty.is_integer() else qty


def _modifiers(line: dict, number: int) -> list[int]:
    modifiers = line.get("modifiers") or []
    if not isinstance(modifiers, list) or not all(isinstance(m, int) and not isinstance(m, bool) for m in modifiers):
        raise _bad(f"Line {number} modifiers must be a list of product ids.")
    return list(modifiers)


def _build_lines(company: Any, site_id: int, lines: Any, strict: bool) -> list[dict]:
    if not isinstance(lines, list):
        raise _bad("lines must be a list of {product_id, quantity} objects.")
    return [_new_line(company, site_id, line, i, strict) for i, line in enumerate(lines, start=1)]


def _existing_line(line: dict, current: list[dict]) -> dict | None:
    """The current line a sent-back line stands for (same id, else same number), as long as it
    still names the same product; a line with another product is a new line."""
    old = None
    for key in ("id", "id_str", "line_id"):
        value = line.get(key)
        if value is not None:
            old = next((x for x in current if _same_id(value, x["id"])), None)
            break
    else:
        number = line.get("number")
        if number is not None:
            old = next((x for x in current if x.get("number") == number), None)
    nested = line.get("product")
    product = line.get("product_id", nested.get("id") if isinstance(nested, dict) else None)
    if old is not None and product is not None and not _same_id(product, old["product"]["id"]):
        return None
    return old


def _kept_line(old: dict, line: dict, number: int) -> dict:
    """A current line with the writable changes of its sent-back copy (prices of the sale day)."""
    new = dict(old)
    new["number"] = number
    if "notes" in line:
        new["notes"] = str(line["notes"] or "")
    qty = _number(line.get("quantity", old["quantity"]), f"Line {number} quantity", positive=True)
    variation = _number(line.get("price_variation", old.get("price_variation", 1.0)),
                        f"Line {number} price_variation", positive=True)
    fixed = _number(line.get("price_fixed_variation", old.get("price_fixed_variation", 0.0)),
                    f"Line {number} price_fixed_variation")
    if (qty, variation, fixed) != (old["quantity"], old.get("price_variation", 1.0),
                                   old.get("price_fixed_variation", 0.0)):
        new.update(quantity=_quantity(qty), price_variation=variation, price_fixed_variation=fixed,
                   line_total_ex_tax=round(float(old["unit_price"]) * qty * variation + fixed, 2),
                   line_total_tax=round(float(old["unit_tax"]) * qty * variation, 2))
    return new


def _merge_lines(company: Any, order: dict, body_lines: Any) -> bool:
    """Apply sent-back lines to ``order``; True when anything changed."""
    if not isinstance(body_lines, list):
        raise _bad("lines must be a list of {product_id, quantity} objects.")
    current = order.get("lines") or []
    lines: list[dict] = []
    options: list[dict] = []
    for number, line in enumerate(body_lines, start=1):
        if not isinstance(line, dict):
            raise _bad(f"Line {number} must be an object with product_id and quantity.")
        _unknown(line, _LINE_FIELDS_IN | _LINE_READ_ONLY, f"Line {number}")
        old = _existing_line(line, current)
        if old is not None and ("modifiers" not in line or _modifiers(line, number) == old.get("modifiers")):
            lines.append(_kept_line(old, line, number))
            options += [{**o, "line_number": number} for o in order.get("options") or []
                        if o.get("line_number") == old.get("number")]
        else:
            lines.append(_new_line(company, order["site_id"], line, number, strict=False))
    if lines == current:
        return False
    order["lines"], order["options"] = lines, options
    return True


def _build_payment(company: Any, body: Any, number: int, now_iso: str, paid: float, strict: bool) -> dict:
    if not isinstance(body, dict):
        raise _bad("A payment must be an object with method_id and amount.")
    _unknown(body, _PAYMENT_FIELDS_IN if strict else _PAYMENT_FIELDS_IN | _PAYMENT_READ_ONLY, "A payment")
    mid = _ref_id(body, "method_id", company.payment_methods, "payment method", nested="method")
    if mid is None:
        raise _bad("A payment needs a method_id.")
    amount = _number(body.get("amount"), "amount")
    if amount == 0:
        raise _bad("A payment amount cannot be zero (a negative amount is a refund).")
    if amount < 0 and -amount > paid + 0.005:
        raise _bad(f"A refund of {-amount:.2f} is more than the {paid:.2f} paid on this order.")
    method = company.payment_methods[mid]
    return _with_id_str({
        "id": company.new_id("payment"), "number": number,
        "method": {"id": mid, "name": method.get("name")}, "amount": round(amount, 2),
        "tip": round(_number(body.get("tip", 0.0), "tip"), 2), "ref": body.get("ref"),
        "created_at": now_iso,
    })


def _totals(order: dict) -> None:
    lines = order.get("lines") or []
    ex = sum(float(line.get("line_total_ex_tax") or 0) for line in lines)
    tax = sum(float(line.get("line_total_tax") or 0) for line in lines)
    order["total"] = round(ex + tax, 2)
    order["total_tax"] = round(tax, 2)
    order["paid"] = round(sum(float(p.get("amount") or 0) for p in order.get("payments") or []), 2)


def _customer_ref(company: Any, customer_id: int | None) -> dict | None:
    if customer_id is None:
        return None
    customer = company.customers[customer_id]
    return {"id": customer_id, "first_name": customer.get("first_name"), "last_name": customer.get("last_name"),
            "email": customer.get("primary_email_address"), "image": customer.get("image")}


def _status_value(raw: Any) -> str:
    value = str(raw or "").upper()
    if value == "COMPLETED":
        value = "COMPLETE"
    if value not in ORDER_STATUSES:
        raise _bad(f"status must be one of {', '.join(ORDER_STATUSES)}.")
    return value


def _site_and_register(company: Any, body: dict, scope: dict[str, int], strict: bool) -> tuple[int, int | None]:
    site_id = _ref_id(body, "site_id", company.sites, "site")
    register_id = _ref_id(body, "register_id", company.registers, "register")
    for key, value in (("site", site_id), ("register", register_id)):
        if key in scope and value is not None and value != scope[key]:
            raise _bad(f"The body's {key}_id {value} is not the {key} of the path ({scope[key]}).")
    site_id = site_id if site_id is not None else scope.get("site")
    register_id = register_id if register_id is not None else scope.get("register")
    if site_id is None and register_id is not None and not strict:
        site_id = site_of(company.registers[register_id])  # the register implies the site
    if site_id is None:
        raise _bad("An order needs a site_id." if strict else "An order needs a site_id (or a register_id).")
    site_registers = sorted(r["id"] for r in company.registers.values() if site_of(r) == site_id)
    if register_id is None:
        register_id = site_registers[0] if site_registers else None
    elif register_id not in site_registers:
        raise _bad(f"Register {register_id} is not at site {site_id}.")
    return site_id, register_id


def build_order(company: Any, body: dict, now_iso: str, *, strict: bool = False,
                scope: dict[str, int] | None = None) -> dict:
    """A full order record for ``POST /orders`` (validated; 400 on any bad field)."""
    _unknown(body, _ORDER_FIELDS_IN if strict else _ORDER_FIELDS_IN | _ORDER_READ_ONLY, "An order")
    site_id, register_id = _site_and_register(company, body, scope or {}, strict)
    staff_id = _ref_id(body, "staff_member_id", company.staff, "staff member")
    if staff_id is None:
        staff_id = _ref_id(body, "staff_id", company.staff, "staff member")
    if staff_id is None and scope and "staff" in scope:
        staff_id = scope["staff"]
    customer_id = _ref_id(body, "customer_id", company.customers, "customer",
                          nested=None if strict else "customer")
    if customer_id is None and scope and "customer" in scope:
        customer_id = scope["customer"]
    oid = company.new_id("order")
    lines = _build_lines(company, site_id, body.get("lines", []), strict)
    order: dict[str, Any] = {
        "id": oid, "id_str": str(oid), "sale_number": str(body.get("sale_number") or f"W{oid % 10**7:07d}"),
        "status": _status_value(body.get("status", "SUBMITTED")), "notes": str(body.get("notes") or ""),
        "site_id": site_id, "register_id": register_id, "staff_id": staff_id, "customer_id": customer_id,
        "total": 0.0, "total_tax": 0.0, "paid": 0.0, "deleted": False,
        "order_type": str(body.get("order_type") or "Take away"), "is_refund": False,
        "refunded_order_id": None, "created_at": now_iso, "updated_at": now_iso,
        "company_id": company.id, "customer": _customer_ref(company, customer_id),
        "staff_member_id": staff_id, "tips": round(_number(body.get("tips", 0.0), "tips"), 2),
        "price_variation": _number(body.get("price_variation", 1.0), "price_variation", positive=True),
        "price_fixed_variation": _number(body.get("price_fixed_variation", 0.0), "price_fixed_variation"),
        "order_payment_type": body.get("order_payment_type"), "callback_uri": body.get("callback_uri"),
        "placed_at": body.get("placed_at") or now_iso, "fulfil_at": body.get("fulfil_at"),
        "lines": lines, "options": [], "payments": [],
    }
    _totals(order)
    payments = body.get("payments", [])
    if not isinstance(payments, list):
        raise _bad("payments must be a list of {method_id, amount} objects.")
    for n, raw in enumerate(payments, start=1):
        order["payments"].append(_build_payment(company, raw, n, now_iso, order["paid"], strict))
        _totals(order)
    return order


def _same_payments(sent: Any, current: list[dict]) -> bool:
    if not isinstance(sent, list) or len(sent) != len(current):
        return False
    for s, c in zip(sent, current, strict=True):
        if not isinstance(s, dict):
            return False
        method = s.get("method_id", (s.get("method") or {}).get("id") if isinstance(s.get("method"), dict) else None)
        if ("id" in s and not _same_id(s["id"], c["id"])) or ("amount" in s and s["amount"] != c["amount"]) \
                or (method is not None and method != c["method"]["id"]):
            return False
    return True


def update_order(company: Any, current: dict, body: dict, now_iso: str, *, strict: bool = False) -> dict:
    """``PUT /orders/{id}``: a partial update, or the whole record sent back (see the module)."""
    read_only = _IDENTITY | _STAMPS if strict else _ORDER_READ_ONLY
    _unknown(body, _ORDER_FIELDS_IN | read_only, "An order")
    if strict:
        for key in read_only & set(body):
            if body[key] != current.get(key):
                raise _bad(f"The field {key!r} of an order cannot be changed.")
    else:
        check_identity(body, current, company.id, "order")
    if "payments" in body and (strict or not _same_payments(body["payments"], current.get("payments") or [])):
        raise _bad("Add payments with POST /orders/{id}/payments and change them with PUT …/payments/{number}.")
    order = copy.deepcopy(current)
    if "site_id" in body and body["site_id"] != current["site_id"] \
            and (strict or not _same_id(body["site_id"], current["site_id"])):
        raise _bad("An order cannot move to another site.")
    if "status" in body:
        order["status"] = _status_value(body["status"])
    if "register_id" in body:
        order["register_id"] = _ref_id(body, "register_id", company.registers, "register")
    for key in ("staff_member_id", "staff_id"):
        if key in body:
            order["staff_id"] = order["staff_member_id"] = _ref_id(body, key, company.staff, "staff member")
    if "customer_id" in body:
        order["customer_id"] = _ref_id(body, "customer_id", company.customers, "customer")
        order["customer"] = _customer_ref(company, order["customer_id"])
    for key in ("notes", "sale_number", "order_type", "callback_uri", "placed_at", "fulfil_at", "order_payment_type"):
        if key in body:
            order[key] = body[key]
    if "deleted" in body:
        if not isinstance(body["deleted"], bool):
            raise _bad("deleted must be true or false.")
        order["deleted"] = body["deleted"]
    for key in ("tips", "price_fixed_variation"):
        if key in body:
            order[key] = _number(body[key], key)
    if "price_variation" in body:
        order["price_variation"] = _number(body["price_variation"], "price_variation", positive=True)
    if "lines" in body:
        if strict:
            order["lines"] = _build_lines(company, order["site_id"], body["lines"], strict)
            order["options"] = []
            _totals(order)
        elif _merge_lines(company, order, body["lines"]):
            _totals(order)
    order["updated_at"] = now_iso
    return order


def _check_order_id(body: dict, order: dict, strict: bool) -> None:
    if not strict and "order_id" in body and body["order_id"] is not None and not _same_id(body["order_id"], order["id"]):
        raise _bad(f"The body's order_id {body['order_id']!r} is not the order of the path ({order['id']}).")


def add_payment(company: Any, current: dict, body: dict, now_iso: str, *, strict: bool = False) -> dict:
    """``POST /orders/{id}/payments``: append a payment (negative amount = refund)."""
    _check_order_id(body, current, strict)
    order = copy.deepcopy(current)
    payments = order.setdefault("payments", [])
    number = max((int(p.get("number") or 0) for p in payments), default=0) + 1
    payments.append(_build_payment(company, body, number, now_iso, float(order.get("paid") or 0), strict))
    order["paid"] = round(sum(float(p.get("amount") or 0) for p in payments), 2)
    order["updated_at"] = now_iso
    return order


def update_payment(company: Any, current: dict, number: int, body: dict, now_iso: str, *,
                   strict: bool = False) -> dict:
    """``PUT /orders/{id}/payments/{number}``: partial update of one payment; returns the order."""
    order = copy.deepcopy(current)
    payments = order.get("payments") or []
    i = next((j for j, p in enumerate(payments) if int(p.get("number") or 0) == number), -1)
    if i < 0:
        raise not_found(f"Order {current['id']} has no payment {number}")
    payment = payments[i]
    _unknown(body, _PAYMENT_FIELDS_IN if strict else _PAYMENT_FIELDS_IN | _PAYMENT_READ_ONLY, "A payment")
    _check_order_id(body, current, strict)
    if not strict:
        if body.get("number") is not None and body["number"] != number:
            raise _bad(f"The body's number {body['number']!r} is not the payment of the path ({number}).")
        if body.get("id") is not None and not _same_id(body["id"], payment["id"]):
            raise _bad(f"The body's id {body['id']!r} is not this payment's ({payment['id']}).")
        body = {k: v for k, v in body.items() if k not in _PAYMENT_READ_ONLY}
    merged = {"method_id": payment.get("method", {}).get("id"), "amount": payment.get("amount"),
              "tip": payment.get("tip", 0.0), "ref": payment.get("ref")}
    merged.update({k: v for k, v in body.items() if k != "method"})
    if isinstance(body.get("method"), dict):
        merged["method_id"] = body["method"].get("id")
    others = sum(float(p.get("amount") or 0) for j, p in enumerate(payments) if j != i)
    fresh = _build_payment(company, merged, number, payment.get("created_at") or now_iso, others, strict=True)
    fresh["id"] = payment.get("id", fresh["id"])
    _with_id_str(fresh)
    payments[i] = fresh
    order["paid"] = round(sum(float(p.get("amount") or 0) for p in payments), 2)
    order["updated_at"] = now_iso
    return order
