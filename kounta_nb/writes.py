"""Writes: never duplicated by us, and never an unknown outcome passed off as a failure.

Three helpers do every write: :meth:`Writes._create` (POST), :meth:`Writes._update` (PUT) and
:meth:`Writes._delete` (DELETE). What is safe to repeat (docs/writes.md has the table):

* **PUT** (``update_*``) sends the same changes again with the same result: the transport retries
  it after a dropped connection or a 5xx, and re-running a failed update is always safe.
* **DELETE** (``delete_webhook``) is retried the same way; a 404 then means it is gone.
* **POST** is never re-sent blindly. When its answer is lost (dropped connection, timeout, 5xx)
  the write may have happened, so the record is first looked up by a natural key — never through
  the HTTP cache — and POSTed again only when it is provably not there:

  - an order: its ``sale_number``, else a ``[kounta_nb:<key>]`` reference appended to ``notes``;
  - a customer: the e-mail address (the API's ``?email=`` look-up), else first name, last name
    and phone;
  - a category: its name in the category list;
  - a payment: a new payment of that amount (and method) among the order's payments;
  - a webhook: a new webhook with that topic and address in the webhook list.

  When there is no natural key, or the look-up itself fails, the call raises
  :class:`~kounta_nb.errors.WriteOutcomeUnknown`, whose one line says the write may have
  happened and how to check.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .dates import parse_timestamp
from .endpoints import OrderQuery, as_id, quote_segment
from .errors import (
    APIError,
    ConfigError,
    KountaError,
    NotFoundError,
    TransportError,
    WriteOutcomeUnknown,
)
from .transport import ApiResponse, backoff_delay

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .paging import Page
    from .transport import Transport

__all__ = [
    "CREATE_LOOKUP_MINUTES", "Writes", "CREATE_LOOKUP_PAGES", "Lookup",
]

#: After a lost POST /orders, the newest orders of this many minutes (by the server's clock) are
#: searched for the order's reference.
CREATE_LOOKUP_MINUTES = 30
#: … but never more list pages than this.
CREATE_LOOKUP_PAGES = 20

#: Found (the record), or not there (None). A look-up that cannot tell raises.
Lookup = Callable[[], dict[str, Any] | None]


class _CannotTell(KountaError):
    """A look-up that found something it cannot tell apart from an earlier record."""


def _lost(exc: KountaError) -> bool:
    """Whether a failed POST may still have been carried out (its answer was lost)."""
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, APIError) and exc.status >= 500


class Writes:
    """The write methods of :class:`~kounta_nb.client.Kounta` (inherited by it)."""

    if TYPE_CHECKING:
        transport: Transport

        def _company_path(self, path: str) -> str: ...

        def _get(self, path: str, params: Mapping[str, Any] | None = None, *,
                 store: bool = True) -> ApiResponse: ...  # fmt: skip

        def _record(self, name: str, *, site: Any = None, **filters: Any) -> dict[str, Any]: ...

        def _pages(self, path: str, params: Mapping[str, Any] | None, max_pages: int | None, *,
                   store: bool = True) -> Iterator[Page]: ...  # fmt: skip

        def _forget_sites(self) -> None: ...

        def resolve_site(self, site: int | str) -> int: ...

    # ------------------------------------------------------------------ the three helpers

    def _fresh(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """A GET past the HTTP cache (a look-up must see the server, not a copy)."""
        return self._get(self._company_path(path), params, store=False).json()

    def _fresh_list(self, path: str, params: Mapping[str, Any] | None = None,
                    max_pages: int | None = None) -> list[dict[str, Any]]:  # fmt: skip
        out: list[dict[str, Any]] = []
        for page in self._pages(self._company_path(path), params, max_pages, store=False):
            out.extend(page.records)
        return out

    def _create(self, path: str, body: Mapping[str, Any], *, what: str, lookup: Lookup | None,
                check: str, record: str | None = None) -> dict[str, Any]:  # fmt: skip
        """POST ``body``; after a lost answer, ``lookup()`` decides between "it landed" (return
        the record), "it did not" (POST again, up to the transport's retries) and "cannot tell"
        (:class:`WriteOutcomeUnknown` saying ``check``). ``record``: the path to read the result
        from when the POST answers without one (a payment answers with nothing to read)."""
        payload = _body(body)
        full = self._company_path(path)
        attempt = 0
        while True:
            try:
                response = self.transport.request("POST", full, json=payload)
            except (TransportError, APIError) as exc:
                if not _lost(exc):
                    raise
                found = self._look_up(lookup, what=what, path=full, check=check, cause=exc)
                if found is not None:
                    return found
                if attempt >= self.transport.max_retries:
                    raise
                time.sleep(backoff_delay(attempt, base=self.transport.backoff_base, cap=self.transport.backoff_max))
                attempt += 1
                continue
            return self._created(response, record, what)

    def _look_up(self, lookup: Lookup | None, *, what: str, path: str, check: str,
                 cause: KountaError) -> dict[str, Any] | None:  # fmt: skip
        if lookup is not None:
            try:
                return lookup()
            except KountaError:
                pass
        raise WriteOutcomeUnknown(
            f"Creating {what} may or may not have worked: the answer was lost "
            f"({type(cause).__name__}) and {'no look-up could tell' if lookup else 'it has no natural key to look it up by'}; "
            f"check {check} before trying again.",
            method="POST", path=path, check=check,
        ) from None  # fmt: skip

    def _created(self, response: ApiResponse, record: str | None, what: str) -> dict[str, Any]:
        """A 201 usually has an empty body and the new id only in ``Location``: read the record.
        The write is done by then, so a failed read says so (re-sending would duplicate it)."""
        body = response.json()
        if isinstance(body, dict) and body and record is None:
            return body
        where = record or response.headers.get("Location")
        if not where:
            raise APIError(response.status_code, "no_location",
                           "the record was created but the answer did not say where it is",
                           method=response.method, path=response.path)  # fmt: skip
        try:
            return self._reread(record) if record else _as_record(self._get(where).json(), where)
        except KountaError as exc:
            raise TransportError(
                f"Creating {what} worked, but reading it back from {urlsplit(where).path} failed "
                f"({type(exc).__name__}): do not send it again; read it with Kounta.get({urlsplit(where).path!r})."
            ) from None

    def _update(self, path: str, changes: Mapping[str, Any], *, record: str | None = None) -> dict[str, Any]:
        """PUT ``changes`` (idempotent: retried by the transport); returns the updated record
        (the answer's, else ``record`` or ``path`` read again)."""
        response = self.transport.request("PUT", self._company_path(path), json=_body(changes))
        self.transport.forget(self._company_path(path))
        answer = response.json()
        if isinstance(answer, dict) and answer and record is None:
            return answer
        return self._reread(record or path)

    def _reread(self, path: str) -> dict[str, Any]:
        """The record after a write (revalidated: the cached copy, if any, is dropped first)."""
        full = self._company_path(path)
        self.transport.forget(full)
        return _as_record(self._get(full).json(), path)

    def _delete(self, path: str) -> None:
        """DELETE (idempotent: retried by the transport)."""
        self.transport.request("DELETE", self._company_path(path))
        self.transport.forget(self._company_path(path))

    # ------------------------------------------------------------------ orders and payments

    def create_order(self, body: Mapping[str, Any], *, idempotency_key: str | None = None) -> dict[str, Any]:
        """Create an order; returns the full record. Never re-sent blindly: after a lost answer
        the order is looked up (by ``sale_number``, else by the ``[kounta_nb:<key>]`` reference
        this method appends to ``notes``) and POSTed again only when it is not there. With an
        ``idempotency_key`` it also looks first, so calling again with the same key is safe."""
        order = _body(body, what="create_order needs the order as a dict")
        sale = str(order.get("sale_number") or "").strip() or None
        marker = None
        if sale is None:
            key = idempotency_key or uuid.uuid4().hex[:20]
            marker = f"[kounta_nb:{key}]"
            notes = str(order.get("notes") or "")
            if marker not in notes:
                order["notes"] = f"{notes} {marker}".strip()
        site = order.get("site_id")

        def lookup() -> dict[str, Any] | None:
            return self._find_order(sale, marker, site)

        if idempotency_key is not None:
            existing = lookup()
            if existing is not None:
                return existing
        check = f"for an order with sale number {sale}" if sale else f"for an order whose notes contain {marker}"
        return self._create("orders", order, what="the order", lookup=lookup, check=check)

    def _find_order(self, sale: str | None, marker: str | None, site: Any) -> dict[str, Any] | None:
        """The order a lost POST may have created, or None; never read from the HTTP cache."""
        if sale is not None:
            try:
                return _as_record(self._fresh(f"orders/saleid/{quote_segment(sale)}"), "order")
            except NotFoundError:
                return None
        site_id = int(site) if isinstance(site, int | str) and str(site).isdigit() else None
        query = OrderQuery(site=site_id)
        newest = None
        for page in self._pages(self._company_path(query.path()), None, CREATE_LOOKUP_PAGES, store=False):
            for item in page.records:
                created = parse_timestamp(item.get("created_at"))
                newest = newest or created
                if marker and marker in str(item.get("notes") or ""):
                    return _as_record(self._fresh(f"orders/{item.get('id_str') or item['id']}"), "order")
                if created is not None and newest is not None and (newest - created).total_seconds() > CREATE_LOOKUP_MINUTES * 60:
                    return None
        return None

    def update_order(self, id: int | str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change an order (partial update; safe to repeat); returns the updated record."""
        return self._update(f"orders/{as_id(id, 'order id')}", changes)

    def add_payment(self, order_id: int | str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Add a payment to an order (negative amount = refund); returns the updated order.
        After a lost answer, the order's payments show whether it landed (a new payment of that
        amount and method) before it is sent again."""
        oid = as_id(order_id, "order id")
        payment = _body(body)
        path = f"orders/{oid}"
        known = {_payment_key(p) for p in (_as_record(self._fresh(path), "order").get("payments") or [])}

        def lookup() -> dict[str, Any] | None:
            order = _as_record(self._fresh(path), "order")
            new = [p for p in order.get("payments") or [] if _payment_key(p) not in known]
            return order if any(_same_payment(p, payment) for p in new) else None

        return self._create(f"{path}/payments", payment, what=f"the payment on order {oid}", lookup=lookup,
                            check=f"the payments of order {oid} (Kounta.order({oid})['payments'])", record=path)  # fmt: skip

    def update_payment(self, order_id: int | str, number: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change one payment of an order (safe to repeat); returns the updated order."""
        oid = as_id(order_id, "order id")
        return self._update(f"orders/{oid}/payments/{as_id(number, 'payment number')}", changes, record=f"orders/{oid}")

    # ------------------------------------------------------------------ customers, categories, …

    def create_customer(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a customer (needs ``first_name`` plus an email, phone or mobile). After a lost
        answer it is looked up by e-mail (or first name, last name and phone) before being sent
        again; with only a mobile number it cannot be, and :class:`WriteOutcomeUnknown` says so."""
        customer = _body(body)
        email = str(customer.get("primary_email_address") or customer.get("email") or "").strip()
        names = (customer.get("first_name"), customer.get("last_name"), customer.get("phone"))
        params: dict[str, Any] | None = None
        if "@" in email:
            params = {"email": email}
        elif all(isinstance(v, str) and v.strip() for v in names):
            params = dict(zip(("first_name", "last_name", "phone"), names, strict=True))
        lookup: Lookup | None = None
        if params is not None:
            before = self._customer_by(params)

            def lookup() -> dict[str, Any] | None:
                found = self._customer_by(params)
                if found is None:
                    return None
                if before is not None and found.get("id") == before.get("id"):
                    raise _CannotTell("an earlier customer has the same key")
                return found

        check = (f"Kounta.customer_by_email({email!r})" if "@" in email
                 else "the customer list (Kounta.customers()) for the new customer")  # fmt: skip
        return self._create("customers", customer, what="the customer", lookup=lookup, check=check)

    def _customer_by(self, params: Mapping[str, Any]) -> dict[str, Any] | None:
        try:
            return _as_record(self._fresh("customers", params), "customer")
        except NotFoundError:
            return None

    def update_customer(self, id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a customer (safe to repeat)."""
        return self._update(f"customers/{as_id(id, 'customer id')}", changes)

    def create_category(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Create a category. After a lost answer the category list shows whether a category of
        that name was added before it is sent again."""
        category = _body(body)
        name = str(category.get("name") or "").strip().lower()
        if not name:
            return self._create("categories", category, what="the category", lookup=None,
                                check="the category list (Kounta.categories())")  # fmt: skip
        known = {c.get("id") for c in self._fresh_list("categories")}

        def lookup() -> dict[str, Any] | None:
            for item in self._fresh_list("categories"):
                if item.get("id") not in known and str(item.get("name") or "").strip().lower() == name:
                    return _as_record(self._fresh(f"categories/{as_id(item.get('id'), 'category id')}"), "category")
            return None

        return self._create("categories", category, what="the category", lookup=lookup,
                            check=f"the category list for {category.get('name')!r}")  # fmt: skip

    def update_category(self, id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a category (safe to repeat)."""
        return self._update(f"categories/{as_id(id, 'category id')}", changes)

    def update_site(self, id: int | str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a site (safe to repeat)."""
        result = self._update(f"sites/{self.resolve_site(id)}", changes)
        self._forget_sites()
        return result

    def update_reconciliation(self, id: int | str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a reconciliation, e.g. mark it processed (safe to repeat)."""
        return self._update(f"reconciliations/{as_id(id, 'reconciliation id')}", changes)

    def create_webhook(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """Register a webhook. After a lost answer the webhook list shows whether one with that
        topic and address was added before it is sent again."""
        hook = _body(body)
        known = {w.get("id") for w in self._fresh_list("webhooks")}

        def lookup() -> dict[str, Any] | None:
            for item in self._fresh_list("webhooks"):
                if item.get("id") not in known and item.get("topic") == hook.get("topic") \
                        and item.get("address") == hook.get("address"):
                    return item
            return None

        return self._create("webhooks", hook, what="the webhook", lookup=lookup,
                            check="the webhook list (Kounta.webhooks())")  # fmt: skip

    def update_webhook(self, id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change a webhook (safe to repeat)."""
        return self._update(f"webhooks/{as_id(id, 'webhook id')}", changes)

    def delete_webhook(self, id: int) -> None:
        """Delete a webhook (safe to repeat: a NotFoundError then means it is already gone)."""
        self._delete(f"webhooks/{as_id(id, 'webhook id')}")


# ---------------------------------------------------------------------------- helpers


def _body(body: Any, *, what: str = "The request body must be a dict of fields") -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise ConfigError(f"{what}, not {type(body).__name__}.")
    return dict(body)


def _as_record(body: Any, where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise APIError(200, "unexpected_body", f"{where} did not return a record")
    return body


def _payment_key(payment: Mapping[str, Any]) -> Any:
    return payment.get("id_str") or payment.get("id") or payment.get("number")


def _same_payment(found: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    try:
        if round(float(found.get("amount") or 0), 2) != round(float(sent.get("amount") or 0), 2):
            return False
    except (TypeError, ValueError):
        return False
    return _method(sent) is None or str(_method(sent)) == str(_method(found))


def _method(payment: Mapping[str, Any]) -> Any:
    """The payment method id of a payment record (``method{id}``) or body (``method_id``)."""
    method = payment.get("method")
    return method.get("id") if isinstance(method, Mapping) else payment.get("method_id")
