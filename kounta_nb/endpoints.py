"""The endpoint catalogue as data, plus the pure functions that build paths and decide cache policy.

Every read of kounta-api.md §4 is an :class:`Endpoint`: a path template relative to
``companies/{company}/`` (or to the API base for ``companies/me``), its kind, and the filters it
takes. :func:`order_path` builds the combinable order path filters; :func:`is_settled` is the
cache policy for records that cannot change any more.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from .errors import ConfigError

__all__ = [
    "ENDPOINTS",
    "ORDER_QUERY_FILTERS",
    "ORDER_STATUSES",
    "SETTLED_AFTER",
    "Endpoint",
    "endpoint",
    "is_settled",
    "order_path",
    "record_id",
]

#: Order statuses as the API spells them in records; the path filter is the lower-case form.
ORDER_STATUSES = ("SUBMITTED", "ON_HOLD", "PENDING", "ACCEPTED", "REJECTED", "COMPLETE")

#: Query filters accepted by order lists.
ORDER_QUERY_FILTERS = (
    "created",
    "created_gt",
    "created_gte",
    "created_lt",
    "created_lte",
    "value",
    "value_gt",
    "value_gte",
    "value_lt",
    "value_lte",
)

#: A completed order untouched for this long is treated as final: served from cache unasked.
SETTLED_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class Endpoint:
    """One entry of the catalogue."""

    name: str
    path: str
    kind: Literal["list", "detail", "write"]
    filters: tuple[str, ...] = ()
    method: str = "GET"
    #: Whether ``path`` is relative to ``companies/{company}/`` (False: to the API base).
    in_company: bool = True
    doc: str = field(default="", compare=False)

    def format(self, **values: Any) -> str:
        """The path with its placeholders filled in."""
        try:
            return self.path.format(**values)
        except KeyError as exc:
            raise ConfigError(f"The {self.name} endpoint needs a value for {exc.args[0]}.") from None


def _e(name: str, path: str, kind: Literal["list", "detail", "write"], *filters: str, method: str = "GET",
       in_company: bool = True, doc: str = "") -> tuple[str, Endpoint]:
    return name, Endpoint(name, path, kind, tuple(filters), method, in_company, doc)


ENDPOINTS: dict[str, Endpoint] = dict(
    [
        _e("me", "companies/me", "detail", in_company=False, doc="the company of the credentials"),
        _e("company", "companies/{company}", "detail", in_company=False),
        _e("status", "status", "detail", doc="per-site online status"),
        _e("sites", "sites", "list"),
        _e("site", "sites/{id}", "detail"),
        _e("registers", "registers", "list", "site"),
        _e("site_registers", "sites/{site}/registers", "list"),
        _e("register", "registers/{id}", "detail"),
        _e("orders", "orders", "list", "site", "register", "staff", "customer", "status",
           *ORDER_QUERY_FILTERS, doc="path filters combine in any order"),
        _e("order", "orders/{id}", "detail"),
        _e("order_by_sale", "orders/saleid/{sale}", "detail"),
        _e("products", "products", "list", "site"),
        _e("site_products", "sites/{site}/products", "list"),
        _e("product", "products/{id}", "detail"),
        _e("categories", "categories", "list", "site"),
        _e("site_categories", "sites/{site}/categories", "list"),
        _e("category", "categories/{id}", "detail"),
        _e("category_products", "categories/{id}/products", "list"),
        _e("inventory", "sites/{site}/inventory", "list"),
        _e("customers", "customers", "list", "reference_id"),
        _e("customer", "customers/{id}", "detail"),
        _e("customer_by_email", "customers", "detail", "email", doc="302 to the record or 404"),
        _e("customer_orders", "customers/{id}/orders", "list"),
        _e("staff", "staff", "list"),
        _e("staff_member", "staff/{id}", "detail"),
        _e("staff_me", "staff/me", "detail"),
        _e("shifts_on", "shifts/{date}", "list"),
        _e("shifts_since", "shifts/since/{date}", "list", "site", "staff"),
        _e("taxes", "taxes", "list"),
        _e("tax", "taxes/{id}", "detail"),
        _e("price_lists", "price_lists", "list"),
        _e("price_list", "price_lists/{id}", "detail"),
        _e("payment_methods", "payment_methods", "list"),
        _e("reconciliations", "reconciliations", "list", "site", "register", "date", "since",
           "unprocessed"),
        _e("reconciliation", "reconciliations/{id}", "detail"),
        _e("webhooks", "webhooks", "list"),
        _e("webhook", "webhooks/{id}", "detail"),
        # writes
        _e("create_order", "orders", "write", method="POST"),
        _e("update_order", "orders/{id}", "write", method="PUT"),
        _e("add_payment", "orders/{id}/payments", "write", method="POST"),
        _e("update_payment", "orders/{id}/payments/{number}", "write", method="PUT"),
        _e("create_customer", "customers", "write", method="POST"),
        _e("update_customer", "customers/{id}", "write", method="PUT"),
        _e("create_category", "categories", "write", method="POST"),
        _e("update_category", "categories/{id}", "write", method="PUT"),
        _e("update_site", "sites/{id}", "write", method="PUT"),
        _e("update_reconciliation", "reconciliations/{id}", "write", method="PUT"),
        _e("create_webhook", "webhooks", "write", method="POST"),
        _e("update_webhook", "webhooks/{id}", "write", method="PUT"),
        _e("delete_webhook", "webhooks/{id}", "write", method="DELETE"),
    ]
)


def endpoint(name: str) -> Endpoint:
    """Look an endpoint up by name (ConfigError listing the names when unknown)."""
    try:
        return ENDPOINTS[name]
    except KeyError:
        raise ConfigError(
            f"Unknown endpoint {name!r}; known endpoints: {', '.join(sorted(ENDPOINTS))}."
        ) from None


def normalise_status(status: str) -> str:
    """``"COMPLETE"``/``"complete"``/``"completed"`` → the path segment ``"complete"``."""
    value = str(status).strip().upper().replace(" ", "_").replace("-", "_")
    if value == "COMPLETED":
        value = "COMPLETE"
    if value not in ORDER_STATUSES:
        raise ConfigError(
            f"Unknown order status {status!r}; use one of {', '.join(s.lower() for s in ORDER_STATUSES)}."
        )
    return value.lower()


def order_path(
    *,
    site: int | None = None,
    register: int | None = None,
    staff: int | None = None,
    customer: int | None = None,
    status: str | None = None,
) -> str:
    """The order list path with its path filters, e.g. ``sites/1/registers/2/orders/complete``."""
    parts: list[str] = []
    for segment, value in (("sites", site), ("registers", register), ("staff", staff),
                           ("customers", customer)):
        if value is not None:
            parts += [segment, str(int(value))]
    parts.append("orders")
    if status is not None:
        parts.append(normalise_status(status))
    return "/".join(parts)


def record_id(record: Mapping[str, Any]) -> str | None:
    """The record's identity for de-duplication: ``id_str`` when present (64-bit ids), else ``id``."""
    value = record.get("id_str")
    if value in (None, ""):
        value = record.get("id")
    return None if value is None else str(value)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def is_settled(path: str, record: Any, fetched_at: datetime) -> bool:
    """Cache policy: can this cached detail record be served without asking the API again?

    True for a full order whose status is ``COMPLETE`` and that had not been touched for
    :data:`SETTLED_AFTER` when it was fetched, and for a processed reconciliation. Lists, the
    company and anything else always revalidate.
    """
    if not isinstance(record, dict):
        return False
    segments = [s for s in path.split("?", 1)[0].strip("/").split("/") if s]
    if len(segments) < 2 or not segments[-1].isdigit():
        return False
    kind = segments[-2]
    if kind == "orders" and record.get("status") == "COMPLETE" and "lines" in record:
        updated = _parse_time(record.get("updated_at")) or _parse_time(record.get("created_at"))
        return updated is not None and fetched_at - updated >= SETTLED_AFTER
    return kind == "reconciliations" and record.get("processed") is True
