"""Write handlers: ``POST`` (201 + ``Location``, empty or ``null`` body), ``PUT``/``PATCH`` (the
updated record), ``DELETE`` (204).

Every write moves the record's ``updated_at`` forward (:func:`write_stamp`), so its ETag and the
ETag of every list page that holds it change. Bodies are read as real clients send them unless
``strict_writes`` is on (see :mod:`kounta_nb.sandbox.order_writes` and docs/sandbox.md): fields a
record shows but a client cannot set are ignored, fields no such record has are refused.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from . import order_writes
from .founding import PERSON_OFFSET_CUSTOMER
from .order_writes import check_identity
from .reads import order_record, reconciliation_record, record_of
from .routing import ApiCall
from .timeline import parse_iso
from .web import JSON_TYPE, JsonAnswer, RawAnswer, bad_request

__all__ = [
    "write_stamp", "add_payment", "create_category", "create_customer", "create_order",
    "create_webhook", "created", "delete_webhook", "now_iso", "update_category", "update_customer",
    "update_order", "update_payment", "update_reconciliation", "update_site", "update_webhook",
]

#: Fields of the old strict rule: shown by a record, never changed by a write.
_STRICT_READ_ONLY = frozenset({"id", "id_str", "company_id", "created_at", "updated_at"})
#: What each record shows that a client cannot set (ignored in a sent-back record).
_READ_ONLY = {
    "site": _STRICT_READ_ONLY | {"products"},
    "category": _STRICT_READ_ONLY | {"products"},
    "customer": _STRICT_READ_ONLY | {"people_id", "addresses"},
    "webhook": _STRICT_READ_ONLY,
}
_WEBHOOK_TOPICS = ("orders/created", "orders/updated", "orders/completed", "orders/deleted",
                   "customers/created", "customers/updated", "products/created",
                   "products/updated", "inventory/updated", "shifts/started", "shifts/finished")
_CUSTOMER_FIELDS = frozenset({"first_name", "last_name", "description", "primary_email_address", "email",
                              "email_addresses", "phone", "mobile", "fax", "shipping_address", "postal_address",
                              "image", "tags", "reference_id", "accepts_marketing"})
_CATEGORY_FIELDS = frozenset({"name", "description", "image", "show_online", "friendly_name"})
_WEBHOOK_FIELDS = frozenset({"topic", "address", "format", "filter", "headers"})


def now_iso(call: ApiCall) -> str:
    return call.app.business.clock.now().astimezone(call.company.tz).isoformat(timespec="seconds")


def write_stamp(call: ApiCall, previous: Any) -> str:
    """The ``updated_at`` of a change: now, or one second after ``previous`` when the clock
    (frozen, or within the same second) has not moved past it. Every write therefore moves
    ``updated_at`` forward, and with it the ETag of the record and of every list page that holds
    it, so a client proving freshness by ``updated_at`` never keeps an old body."""
    now = call.app.business.clock.now().astimezone(call.company.tz).replace(microsecond=0)
    if isinstance(previous, str):
        with contextlib.suppress(ValueError):
            before = parse_iso(previous)
            if now <= before:
                now = (before + timedelta(seconds=1)).astimezone(call.company.tz)
    return now.isoformat(timespec="seconds")


def created(call: ApiCall, path: str) -> RawAnswer:
    """201 with ``Location`` and an empty (or ``null``) body."""
    body = b"null" if call.options.created_body == "null" else b""
    headers = [("Location", call.url(path))]
    if body:
        headers.append(("Content-Type", JSON_TYPE))
    return RawAnswer(201, headers, body)


def _strict(call: ApiCall) -> bool:
    return bool(call.options.strict_writes)


def _unknown(body: dict, known: frozenset[str] | set[str], what: str) -> None:
    bad = set(body) - set(known)
    if bad:
        raise bad_request(f"A {what} has no field {sorted(bad)[0]!r}.")


def _update(call: ApiCall, table: dict[int, dict], record: dict, what: str,
            extra: Callable[[dict, dict], None] | None = None) -> dict:
    """``PUT`` of a small record: known fields replaced, ``updated_at`` moved on."""
    changes = call.body()
    with call.app.write_lock:
        current = table.get(record["id"], record)
        if not _strict(call):
            check_identity(changes, current, call.company.id, what)
            changes = {k: v for k, v in changes.items() if k not in _READ_ONLY[what]}
        updated = copy.deepcopy(current)
        for key, value in changes.items():
            if key in _STRICT_READ_ONLY:
                if value != current.get(key):
                    raise bad_request(f"The field {key!r} of a {what} cannot be changed.")
                continue
            if key not in current:
                raise bad_request(f"A {what} has no field {key!r}.")
            if isinstance(current[key], dict) and not isinstance(value, dict) and value is not None:
                raise bad_request(f"The field {key!r} of a {what} must be an object.")
            if current[key] is not None and value is not None and _kind(value) != _kind(current[key]):
                raise bad_request(f"The field {key!r} of a {what} must be {_kind(current[key])}.")
            updated[key] = value
        if extra is not None:
            extra(updated, changes)
        if "updated_at" in updated:
            updated["updated_at"] = write_stamp(call, current.get("updated_at"))
        table[record["id"]] = updated
    return updated


def _kind(value: Any) -> str:
    """The JSON type of a value, as a phrase for messages."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else "null"


def _typed(body: dict, what: str, **kinds: str) -> None:
    """400 unless each named field of ``body`` is null or of its kind (see :func:`_kind`); a kind
    ``"a list of text"`` wants a list of strings."""
    for key, kind in kinds.items():
        value = body.get(key)
        if value is None:
            continue
        ok = (all(isinstance(v, str) for v in value) if isinstance(value, list) else False) \
            if kind == "a list of text" else _kind(value) == kind
        if not ok:
            raise bad_request(f"The field {key!r} of a {what} must be {kind}.")


_CUSTOMER_KINDS = {**dict.fromkeys(("first_name", "last_name", "description", "primary_email_address", "email",
                                    "phone", "mobile", "fax", "image", "reference_id"), "text"),
                   "email_addresses": "a list of text", "tags": "a list of text",
                   "accepts_marketing": "true or false", "shipping_address": "an object", "postal_address": "an object"}
_CATEGORY_KINDS = {"name": "text", "description": "text", "image": "text", "friendly_name": "text",
                   "show_online": "true or false"}


# -- sites, categories, customers, webhooks ------------------------------------------------------

def update_site(call: ApiCall) -> JsonAnswer:
    return JsonAnswer(_update(call, call.company.sites, record_of(call.company.sites, call, "site"), "site"))


def create_category(call: ApiCall) -> RawAnswer:
    body = call.body()
    _unknown(body, _CATEGORY_FIELDS if _strict(call) else _CATEGORY_FIELDS | _READ_ONLY["category"], "category")
    _typed(body, "category", **_CATEGORY_KINDS)
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("A category needs a name.")
    now = now_iso(call)
    company = call.company
    with call.app.write_lock:
        cid = company.new_id("category")
        company.categories[cid] = {
            "id": cid, "company_id": company.id, "name": name.strip(),
            "description": body.get("description") or "", "image": body.get("image"),
            "products": {"count": 0, "updated_at": now},
            "show_online": bool(body.get("show_online", False)),
            "friendly_name": body.get("friendly_name") or name.strip(),
        }
    return created(call, f"categories/{cid}")


def update_category(call: ApiCall) -> JsonAnswer:
    table = call.company.categories
    return JsonAnswer(_update(call, table, record_of(table, call, "category"), "category"))


def _validate_customer(record: dict) -> None:
    if not str(record.get("first_name") or "").strip():
        raise bad_request("A customer needs a first_name.")
    if not any(str(record.get(k) or "").strip() for k in ("primary_email_address", "phone", "mobile")):
        raise bad_request("A customer needs an email, phone or mobile besides the first_name.")


def create_customer(call: ApiCall) -> RawAnswer:
    body = call.body()
    _unknown(body, _CUSTOMER_FIELDS if _strict(call) else _CUSTOMER_FIELDS | _READ_ONLY["customer"], "customer")
    _typed(body, "customer", **_CUSTOMER_KINDS)
    company = call.company
    email = body.get("primary_email_address") or body.get("email")
    now = now_iso(call)
    with call.app.write_lock:
        cid = company.new_id("customer")
        emails = [str(e) for e in body.get("email_addresses") or []]
        if email and email not in emails:
            emails.insert(0, email)
        record = {
            "id": cid, "company_id": company.id, "people_id": cid + PERSON_OFFSET_CUSTOMER,
            "first_name": body.get("first_name"), "last_name": body.get("last_name") or "",
            "description": body.get("description") or "", "primary_email_address": email,
            "email_addresses": emails, "phone": body.get("phone"), "mobile": body.get("mobile"),
            "fax": body.get("fax"), "shipping_address": body.get("shipping_address"),
            "postal_address": body.get("postal_address"),
            "addresses": {"count": sum(1 for k in ("shipping_address", "postal_address") if body.get(k)),
                          "updated_at": now},
            "image": body.get("image"), "tags": list(body.get("tags") or []),
            "reference_id": body.get("reference_id") or "",
            "accepts_marketing": bool(body.get("accepts_marketing", False)),
            "created_at": now, "updated_at": now,
        }
        _validate_customer(record)
        company.customers[cid] = record
    return created(call, f"customers/{cid}")


def update_customer(call: ApiCall) -> JsonAnswer:
    def check(updated: dict, changes: dict) -> None:
        _typed(changes, "customer", **_CUSTOMER_KINDS)
        _validate_customer(updated)
        if "primary_email_address" in changes and changes["primary_email_address"]:
            emails = list(updated.get("email_addresses") or [])
            if changes["primary_email_address"] not in emails:
                updated["email_addresses"] = [changes["primary_email_address"], *emails]

    table = call.company.customers
    return JsonAnswer(_update(call, table, record_of(table, call, "customer"), "customer", check))


def _validate_webhook(record: dict) -> None:
    if record.get("topic") not in _WEBHOOK_TOPICS:
        raise bad_request(f"A webhook topic must be one of {', '.join(_WEBHOOK_TOPICS)}.")
    address = record.get("address")
    if not isinstance(address, str) or not address.startswith(("http://", "https://")):
        raise bad_request("A webhook address must be an http(s) URL.")
    if record.get("format") != "json":
        raise bad_request('A webhook format must be "json".')
    if not isinstance(record.get("filter"), dict) or not isinstance(record.get("headers"), dict):
        raise bad_request("A webhook filter and headers must be JSON objects.")


def create_webhook(call: ApiCall) -> RawAnswer:
    body = call.body()
    _unknown(body, _WEBHOOK_FIELDS if _strict(call) else _WEBHOOK_FIELDS | _READ_ONLY["webhook"], "webhook")
    now = now_iso(call)
    record = {"topic": body.get("topic"), "address": body.get("address"),
              "format": body.get("format", "json"), "filter": body.get("filter") or {},
              "headers": body.get("headers") or {}, "created_at": now, "updated_at": now}
    _validate_webhook(record)
    with call.app.write_lock:
        wid = call.company.new_id("webhook")
        call.company.webhooks[wid] = {"id": wid, **record}
    return created(call, f"webhooks/{wid}")


def update_webhook(call: ApiCall) -> JsonAnswer:
    table = call.company.webhooks
    return JsonAnswer(_update(call, table, record_of(table, call, "webhook"), "webhook",
                              lambda u, _c: _validate_webhook(u)))


def delete_webhook(call: ApiCall) -> RawAnswer:
    record = record_of(call.company.webhooks, call, "webhook")
    with call.app.write_lock:
        call.company.webhooks.pop(record["id"], None)
    return RawAnswer(204, [], b"")


# -- reconciliations -----------------------------------------------------------------------------

def update_reconciliation(call: ApiCall) -> JsonAnswer:
    """Only ``processed`` can change; a sent-back record's other fields are ignored (refused when
    ``strict_writes``), an ``id`` must name this reconciliation."""
    record = reconciliation_record(call)
    changes = call.body()
    allowed = {"processed"}
    if _strict(call):
        bad = set(changes) - allowed - _STRICT_READ_ONLY
        if bad:
            raise bad_request(f"Only 'processed' can be changed on a reconciliation, not {sorted(bad)[0]!r}.")
    else:
        check_identity(changes, record, call.company.id, "reconciliation")
        unknown = set(changes) - allowed - set(record)
        if unknown:
            raise bad_request(f"A reconciliation has no field {sorted(unknown)[0]!r}.")
    if "processed" in changes and not isinstance(changes["processed"], bool):
        raise bad_request("processed must be true or false.")
    company = call.company
    with call.app.write_lock:
        updated = copy.deepcopy(record)
        updated.update({k: v for k, v in changes.items() if k in allowed})
        company.put_reconciliation(updated)
        call.app.forget_reconciliations()
    return JsonAnswer(updated)


# -- orders and payments -------------------------------------------------------------------------

def create_order(call: ApiCall) -> RawAnswer:
    body = call.body()
    company = call.company
    with call.app.write_lock:
        record = order_writes.build_order(company, body, now_iso(call), strict=_strict(call), scope=call.scope)
        company.put_order(record)
    return created(call, f"orders/{record['id']}")


def _current(call: ApiCall) -> dict:
    order = order_record(call)
    return call.company.order(order["id"]) or order


def _change_order(call: ApiCall, change: Callable[[dict, dict, str], dict]) -> dict:
    """Read the order of the path, apply ``change(current, body, updated_at)``, store it."""
    body = call.body()
    with call.app.write_lock:
        current = _current(call)
        updated = change(current, body, write_stamp(call, current.get("updated_at")))
        call.company.put_order(updated)
    return updated


def update_order(call: ApiCall) -> JsonAnswer:
    company, strict = call.company, _strict(call)
    return JsonAnswer(_change_order(call, lambda current, body, stamp: order_writes.update_order(
        company, current, body, stamp, strict=strict)))


def add_payment(call: ApiCall) -> RawAnswer:
    company, strict = call.company, _strict(call)
    updated = _change_order(call, lambda current, body, stamp: order_writes.add_payment(
        company, current, body, stamp, strict=strict))
    return created(call, f"orders/{updated['id']}")


def update_payment(call: ApiCall) -> JsonAnswer:
    company, strict, number = call.company, _strict(call), call.params["number"]
    return JsonAnswer(_change_order(call, lambda current, body, stamp: order_writes.update_payment(
        company, current, number, body, stamp, strict=strict)))
