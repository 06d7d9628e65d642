"""Read handlers: one function per resource, each ``(ApiCall) -> answer``.

A single record under a parent path (``/sites/{s}/products/{id}``, ``/customers/{cu}/orders/{id}``,
``/registers/{r}/reconciliations/{id}``, …) is served when the record belongs to that parent and is
404 otherwise (recorded real traffic asks for ``sites/{s}/products/{id}.json``; docs/api.md §4).
People (``/people``) and addresses are the legacy views real traffic shows: a person stands for a
customer or a staff member, with its own id (docs/sandbox.md).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .founding import PERSON_OFFSET_CUSTOMER, PERSON_OFFSET_STAFF
from .listing import (
    customer_of,
    id_list,
    order_list,
    reconciliation_list,
    shift_list,
    site_of,
)
from .routing import ApiCall
from .web import JsonAnswer, RawAnswer, bad_request, not_found

__all__ = [
    "CATEGORY_ITEM", "CUSTOMER_ITEM", "PERSON_ITEM", "PRODUCT_ITEM", "REGISTER_ITEM", "SITE_ITEM",
    "STAFF_ITEM", "staff_me", "address", "addresses", "base_price_list", "categories", "category",
    "category_products", "company", "customer", "customers", "inventory", "order", "order_by_sale",
    "order_in_scope", "order_record", "orders", "payment_method", "payment_methods", "people",
    "person", "price_list", "price_lists", "product", "product_categories", "products",
    "products_here", "reconciliation_record", "reconciliations", "record_of", "register",
    "registers", "shifts_on", "shifts_since", "site", "sites", "staff_list", "staff_member",
    "staff_member_me", "status", "tax", "taxes", "webhook", "webhooks",
]

SITE_ITEM = ("id", "company_id", "name", "code")
REGISTER_ITEM = ("id", "code", "name", "site_id")
PRODUCT_ITEM = ("id", "name", "code", "description", "barcode", "is_modifier")
CATEGORY_ITEM = ("id", "company_id", "name", "description", "image", "products")
CUSTOMER_ITEM = ("id", "company_id", "first_name", "last_name", "primary_email_address", "image",
                 "reference_id")
STAFF_ITEM = ("id", "first_name", "last_name", "primary_email_address")
PERSON_ITEM = ("id", "first_name", "last_name", "customer_id", "staff_id", "primary_email_address", "image")


def record_of(table: dict[int, dict], call: ApiCall, what: str, param: str = "id") -> dict:
    """The record named by a path parameter, or 404."""
    raw = call.params[param]
    record = table.get(raw)
    if record is None:
        raise not_found(f"No {what} {raw}")
    return record


def _belongs(ok: bool) -> None:
    if not ok:
        raise not_found("No such resource under that path")


# -- company, sites, registers -------------------------------------------------------------------

def company(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(call.company.record)


def status(call: ApiCall) -> JsonAnswer:
    """Per-site online status (``GET /status``)."""
    here = call.company
    now = call.app.business.clock.now().astimezone(here.tz)
    out = []
    for site_id, site in sorted(here.sites.items()):
        today = here.orders_on(site_id, now.date()) if now.date() >= here.first_day else []
        registers = [{"id": r["id"], "name": r.get("name"), "online": True}
                     for r in sorted(here.registers.values(), key=lambda r: r["id"]) if site_of(r) == site_id]
        out.append({"id": site_id, "name": site.get("name"), "code": site.get("code"), "online": True,
                    "registers": registers, "last_sale_at": today[-1]["created_at"] if today else None,
                    "checked_at": now.isoformat(timespec="seconds")})
    return JsonAnswer(out)


def sites(call: ApiCall) -> JsonAnswer:
    return id_list(call, call.company.sites.values(), SITE_ITEM)


def site(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(record_of(call.company.sites, call, "site"))


def registers(call: ApiCall) -> JsonAnswer:
    regs = list(call.company.registers.values())
    if "site" in call.scope:
        regs = [r for r in regs if site_of(r) == call.scope["site"]]
    return id_list(call, regs, to_item=lambda r: {"id": r["id"], "code": r.get("code"), "name": r.get("name"),
                                                  "site_id": site_of(r)})


def register(call: ApiCall) -> JsonAnswer:
    record = record_of(call.company.registers, call, "register")
    _belongs("site" not in call.scope or site_of(record) == call.scope["site"])
    return JsonAnswer(record)


# -- orders --------------------------------------------------------------------------------------

def orders(call: ApiCall) -> JsonAnswer:
    return order_list(call, call.params.get("status"))


def order_in_scope(call: ApiCall, order: dict) -> dict:
    """``order`` when it belongs to every scope of the path, else 404."""
    f = call.scope
    _belongs(("site" not in f or order.get("site_id") == f["site"])
             and ("register" not in f or order.get("register_id") == f["register"])
             and ("staff" not in f or order.get("staff_id", order.get("staff_member_id")) == f["staff"])
             and ("customer" not in f or customer_of(order) == f["customer"]))
    return order


def order_record(call: ApiCall) -> dict:
    oid = call.params["id"]
    found = call.company.order(oid)
    if found is None:
        raise not_found(f"No order {oid}")
    return order_in_scope(call, found)


def order(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(order_record(call))


def order_by_sale(call: ApiCall) -> JsonAnswer:
    sale = call.params["sale"]
    found = call.company.order_by_sale(sale)
    if found is None:
        raise not_found(f"No order with sale number {sale}")
    return JsonAnswer(order_in_scope(call, found))


# -- menu ----------------------------------------------------------------------------------------

def _sold_at(product: dict, site_id: int) -> bool:
    return not product.get("sites") or any(s.get("id") == site_id for s in product["sites"])


def products_here(call: ApiCall) -> list[dict]:
    products = list(call.company.products.values())
    if "site" not in call.scope:
        return products
    return [p for p in products if _sold_at(p, call.scope["site"])]


def _category_ids_here(call: ApiCall) -> set[int]:
    return {cat.get("id") for p in products_here(call) for cat in p.get("categories") or []}


def products(call: ApiCall) -> JsonAnswer:
    return id_list(call, products_here(call), PRODUCT_ITEM)


def product(call: ApiCall) -> JsonAnswer:
    record = record_of(call.company.products, call, "product")
    _belongs("site" not in call.scope or _sold_at(record, call.scope["site"]))
    return JsonAnswer(record)


def product_categories(call: ApiCall) -> JsonAnswer:
    record = product(call).body
    known = call.company.categories
    ids = {cat.get("id") for cat in record.get("categories") or []}
    return id_list(call, [known[i] for i in ids if i in known], CATEGORY_ITEM)


def categories(call: ApiCall) -> JsonAnswer:
    cats: Any = call.company.categories.values()
    if "site" in call.scope:
        used = _category_ids_here(call)
        cats = [cat for cat in cats if cat["id"] in used]
    return id_list(call, cats, CATEGORY_ITEM)


def category(call: ApiCall) -> JsonAnswer:
    record = record_of(call.company.categories, call, "category")
    _belongs("site" not in call.scope or record["id"] in _category_ids_here(call))
    return JsonAnswer(record)


def category_products(call: ApiCall) -> JsonAnswer:
    cat_id = category(call).body["id"]
    prods = [p for p in products_here(call) if any(cat.get("id") == cat_id for cat in p.get("categories") or [])]
    return id_list(call, prods, PRODUCT_ITEM)


def inventory(call: ApiCall) -> JsonAnswer:
    if "site" not in call.scope:
        raise not_found("Inventory is per site: use /sites/{site_id}/inventory")
    return id_list(call, call.company.inventory(call.scope["site"]))


def taxes(call: ApiCall) -> JsonAnswer:
    return id_list(call, call.company.taxes.values())


def tax(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(record_of(call.company.taxes, call, "tax"))


def price_lists(call: ApiCall) -> JsonAnswer:
    stamp = call.company.record.get("updated_at")

    def item(record: dict) -> dict:
        listed = record.get("products")
        if isinstance(listed, list):
            listed = {"count": len(listed),
                      "updated_at": record.get("updated_at") or record.get("created_at") or stamp}
        return {"id": record["id"], "name": record.get("name"), "parent_id": record.get("parent_id"),
                "products": listed}

    return id_list(call, call.company.price_lists.values(), to_item=item)


def base_price_list(call: ApiCall) -> JsonAnswer:
    base = [p for p in call.company.price_lists.values() if p.get("parent_id") is None]
    if not base:
        raise not_found("This company has no base price list")
    return JsonAnswer(min(base, key=lambda p: p["id"]))


def price_list(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(record_of(call.company.price_lists, call, "price list"))


def payment_methods(call: ApiCall) -> JsonAnswer:
    return id_list(call, call.company.payment_methods.values())


def payment_method(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(record_of(call.company.payment_methods, call, "payment method"))


# -- customers, staff, people, addresses ---------------------------------------------------------

def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def customers(call: ApiCall) -> JsonAnswer | RawAnswer:
    """The customer list; ``?email=`` or ``?first_name&last_name&phone`` answer 302 to the record."""
    q = call.req.query
    found: Any = call.company.customers.values()
    if "email" in q:
        email = q["email"].strip().lower()
        for cust in found:
            emails = {str(e).lower() for e in (cust.get("email_addresses") or [])}
            emails.add(str(cust.get("primary_email_address") or "").lower())
            if email and email in emails:
                return RawAnswer(302, [("Location", call.url(f"customers/{cust['id']}"))], b"")
        raise not_found("No customer with that e-mail address")
    named = [k for k in ("first_name", "last_name", "phone") if k in q]
    if named:
        if len(named) < 3:
            raise bad_request("Look a customer up by email, or by first_name, last_name and phone together.")
        want = (q["first_name"].strip().lower(), q["last_name"].strip().lower(), _digits(q["phone"]))
        for cust in found:
            phones = {_digits(str(cust.get("phone") or "")), _digits(str(cust.get("mobile") or ""))}
            if (str(cust.get("first_name") or "").lower(), str(cust.get("last_name") or "").lower()) == want[:2] \
                    and want[2] and want[2] in phones:
                return RawAnswer(302, [("Location", call.url(f"customers/{cust['id']}"))], b"")
        raise not_found("No customer with that name and phone number")
    if "reference_id" in q:
        found = [c for c in found if str(c.get("reference_id") or "") == q["reference_id"]]
    return id_list(call, found, CUSTOMER_ITEM)


def customer(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(record_of(call.company.customers, call, "customer"))


def staff_me(call: ApiCall) -> dict:
    """The staff member behind the credentials (the login's e-mail, else the contact, an admin)."""
    staff = call.company.staff
    if call.grant_email:
        for member in staff.values():
            if str(member.get("primary_email_address") or "").lower() == call.grant_email.lower():
                return member
    contact = (call.company.record.get("contact_staff_member") or {}).get("id")
    if contact in staff:
        return staff[contact]
    admins = sorted((m for m in staff.values() if m.get("is_admin")), key=lambda m: m["id"])
    if admins:
        return admins[0]
    if not staff:
        raise not_found("This company has no staff")
    return staff[min(staff)]


def _staff_view(record: dict) -> dict:
    """A staff record with the contact fields real staff records carry (kounta-python staff.json)
    even when the data layer has nothing for them: no fax, no addresses."""
    if "addresses" in record:
        return record
    extra = {"fax": None, "shipping_address": None, "postal_address": None,
             "addresses": {"count": 0, "updated_at": record.get("updated_at")}}
    return {**record, **{k: v for k, v in extra.items() if k not in record}}


def staff_list(call: ApiCall) -> JsonAnswer:
    return id_list(call, call.company.staff.values(), STAFF_ITEM)


def staff_member_me(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(_staff_view(staff_me(call)))


def staff_member(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(_staff_view(record_of(call.company.staff, call, "staff member")))


def _phones(record: dict) -> list[dict]:
    return [{"label": label, "number": record[key]} for key, label in (("phone", "Phone"), ("mobile", "Mobile"))
            if record.get(key)]


def _person(record: dict, *, staff: bool) -> dict:
    """The legacy person record of a customer or staff member (tanda-kounta person.json)."""
    offset = PERSON_OFFSET_STAFF if staff else PERSON_OFFSET_CUSTOMER
    return {
        "id": record.get("people_id") or record["id"] + offset,
        "first_name": record.get("first_name"), "last_name": record.get("last_name"),
        "customer_id": None if staff else record["id"], "staff_id": record["id"] if staff else None,
        "primary_email_address": record.get("primary_email_address"),
        "email_addresses": list(record.get("email_addresses") or []),
        "shipping_address": record.get("shipping_address"), "postal_address": record.get("postal_address"),
        "addresses": record.get("addresses") or {"count": 0, "updated_at": record.get("updated_at")},
        "phone_numbers": _phones(record), "image": record.get("image"),
        "created_at": record.get("created_at"), "updated_at": record.get("updated_at"),
    }


def _people(call: ApiCall) -> list[dict]:
    here = call.company
    return [*(_person(r, staff=True) for r in here.staff.values()),
            *(_person(r, staff=False) for r in here.customers.values())]


def people(call: ApiCall) -> JsonAnswer:
    return id_list(call, _people(call), PERSON_ITEM)


def person(call: ApiCall) -> JsonAnswer:
    pid = call.params["id"]
    here = call.company
    for candidate, staff in ((here.customers.get(pid - PERSON_OFFSET_CUSTOMER), False),
                             (here.staff.get(pid - PERSON_OFFSET_STAFF), True)):
        if candidate is not None and _person(candidate, staff=staff)["id"] == pid:
            return JsonAnswer(_person(candidate, staff=staff))
    found = next((p for p in _people(call) if p["id"] == pid), None)  # people_id set some other way
    if found is None:
        raise not_found(f"No person {pid}")
    return JsonAnswer(found)


def _addresses_here(call: ApiCall) -> list[dict]:
    """The addresses of the scope: a customer's (with ``people_id``), a site's, or the company's."""
    here, f = call.company, call.scope
    if "customer" in f:
        owner = here.customers[f["customer"]]
        people_id = _person(owner, staff=False)["id"]
        extra = {"people_id": people_id}
    elif "site" in f:
        owner, extra = here.sites[f["site"]], {}
    else:
        owner, extra = here.record, {}
    found: dict[int, dict] = {}
    for key in ("shipping_address", "postal_address"):
        address = owner.get(key)
        if isinstance(address, dict) and isinstance(address.get("id"), int):
            found.setdefault(address["id"], {"id": address["id"], **extra,
                                             **{k: v for k, v in address.items() if k != "id"}})
    return list(found.values())


def addresses(call: ApiCall) -> JsonAnswer:
    return id_list(call, _addresses_here(call))


def address(call: ApiCall) -> JsonAnswer:
    aid = call.params["id"]
    found = next((a for a in _addresses_here(call) if a["id"] == aid), None)
    if found is None:
        raise not_found(f"No address {aid} here")
    return JsonAnswer(found)


# -- shifts, reconciliations, webhooks -----------------------------------------------------------

def shifts_since(call: ApiCall) -> JsonAnswer:
    return shift_list(call, call.params["day"], None)


def shifts_on(call: ApiCall) -> JsonAnswer:
    day: date = call.params["day"]
    return shift_list(call, day, day)


def reconciliation_record(call: ApiCall) -> dict:
    rid = call.params["id"]
    rec = call.company.reconciliation(rid)
    if rec is None:
        raise not_found(f"No reconciliation {rid}")
    f = call.scope
    _belongs(("site" not in f or (rec.get("site") or {}).get("id") == f["site"])
             and ("register" not in f or (rec.get("register") or {}).get("id") == f["register"]))
    return dict(rec)


def reconciliations(call: ApiCall) -> JsonAnswer:
    """A reconciliation by id (ids are 64-bit: longer than any date word), or one of the lists."""
    tail: list[str] = call.params["rest"]
    if len(tail) == 1 and tail[0].isdigit() and len(tail[0]) > 8:
        call.params["id"] = int(tail[0])
        return JsonAnswer(reconciliation_record(call))
    return reconciliation_list(call, tail)


def webhooks(call: ApiCall) -> JsonAnswer:
    return id_list(call, call.company.webhooks.values())


def webhook(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(record_of(call.company.webhooks, call, "webhook"))
