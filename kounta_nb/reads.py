"""The named reads of :class:`~kounta_nb.client.Kounta`: one line each over the catalogue.

Each method here is a row of :data:`kounta_nb.endpoints.CATALOGUE` read through
``Kounta._records`` (a list → :class:`~kounta_nb.client.RecordList`) or ``Kounta._record`` (one
record → ``dict``); the filters are checked there, with a "did you mean" for near-misses. Lists
also take ``max_pages`` and ``limit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import RecordList

__all__ = ["NamedReads"]


class NamedReads:
    """``sites()``, ``orders()``, ``product(id)`` …: the catalogue by name (inherited by ``Kounta``)."""

    if TYPE_CHECKING:
        def _refresh_company(self) -> dict[str, Any]: ...

        def _refresh_sites(self) -> RecordList: ...

        def _records(self, name: str, *, site: Any = None, **filters: Any) -> RecordList: ...

        def _record(self, name: str, *, site: Any = None, **filters: Any) -> dict[str, Any]: ...

        def resolve_site(self, site: int | str) -> int: ...

    def me(self) -> dict[str, Any]:
        """The company record, fresh from ``/companies/me``."""
        return self._refresh_company()

    def status(self) -> RecordList:
        """Per-site online status."""
        return self._records("status")

    def sites(self) -> RecordList:
        """All sites (venues) of the company."""
        return self._refresh_sites()

    def site(self, id: int | str) -> dict[str, Any]:
        """One site (id, code or name)."""
        return self._record("site", id=self.resolve_site(id))

    def registers(self, site: int | str | None = None, **filters: Any) -> RecordList:
        """Registers, of one site or all."""
        return self._records("registers", site=site, **filters)

    def register(self, id: int) -> dict[str, Any]:
        """One register."""
        return self._record("register", id=id)

    def order(self, id: int | str) -> dict[str, Any]:
        """The full order (lines, payments, options), as the API has it now."""
        return self._record("order", id=id)

    def order_by_sale(self, sale_number: str) -> dict[str, Any]:
        """The order with this sale number."""
        return self._record("order_by_sale", sale_number=sale_number)

    def products(self, site: int | str | None = None, **filters: Any) -> RecordList:
        """Products (abridged list items), of one site (site prices) or the whole company."""
        return self._records("products", site=site, **filters)

    def product(self, id: int) -> dict[str, Any]:
        """One product."""
        return self._record("product", id=id)

    def categories(self, site: int | str | None = None, **filters: Any) -> RecordList:
        """Categories, of one site or all."""
        return self._records("categories", site=site, **filters)

    def category(self, id: int) -> dict[str, Any]:
        """One category."""
        return self._record("category", id=id)

    def category_products(self, id: int, **filters: Any) -> RecordList:
        """The products in a category."""
        return self._records("category_products", id=id, **filters)

    def inventory(self, site: int | str, **filters: Any) -> RecordList:
        """Stock levels of one site: ``[{"id": product_id, "stock": n}]``."""
        return self._records("inventory", site=site, **filters)

    def customers(self, reference_id: str | None = None, **filters: Any) -> RecordList:
        """Customers (abridged list items; optionally those with a reference id)."""
        return self._records("customers", reference_id=reference_id, **filters)

    def customer(self, id: int) -> dict[str, Any]:
        """One customer."""
        return self._record("customer", id=id)

    def customer_by_email(self, email: str) -> dict[str, Any]:
        """The customer with this e-mail address (NotFoundError when there is none)."""
        return self._record("customer_by_email", email=email)

    def customer_orders(self, id: int, **filters: Any) -> RecordList:
        """The orders of one customer."""
        return self._records("customer_orders", id=id, **filters)

    def staff(self, **filters: Any) -> RecordList:
        """All staff members."""
        return self._records("staff", **filters)

    def staff_member(self, id: int | str) -> dict[str, Any]:
        """One staff member (``"me"`` for the credentials' own)."""
        return self._record("staff_member", id=id)

    def people(self, **filters: Any) -> RecordList:
        """People: the legacy record behind each customer and staff member (abridged list items)."""
        return self._records("people", **filters)

    def person(self, id: int) -> dict[str, Any]:
        """One person."""
        return self._record("person", id=id)

    def addresses(self, *, site: int | str | None = None, customer: int | None = None,
                  **filters: Any) -> RecordList:  # fmt: skip
        """The addresses of one site or one customer."""
        return self._records("addresses", site=site, customer=customer, **filters)

    def address(self, id: int, *, site: int | str | None = None, customer: int | None = None) -> dict[str, Any]:
        """One address of a site or a customer."""
        return self._record("address", id=id, site=site, customer=customer)

    def shifts(self, **filters: Any) -> RecordList:
        """Shifts of one local day (``date=``) or since a day (``since=``), optionally of one
        ``site`` and/or ``staff`` member."""
        return self._records("shifts", **filters)

    def taxes(self, **filters: Any) -> RecordList:
        """Taxes (``rate`` is a factor: 0.1 = 10 %)."""
        return self._records("taxes", **filters)

    def tax(self, id: int) -> dict[str, Any]:
        """One tax."""
        return self._record("tax", id=id)

    def price_lists(self, **filters: Any) -> RecordList:
        """Price lists."""
        return self._records("price_lists", **filters)

    def price_list(self, id: int | str = "base") -> dict[str, Any]:
        """One price list (``"base"`` for the base list)."""
        return self._record("price_list", id=id)

    def payment_methods(self, **filters: Any) -> RecordList:
        """Payment methods ``[{id, name, ledger_code}]``."""
        return self._records("payment_methods", **filters)

    def reconciliations(self, **filters: Any) -> RecordList:
        """Register reconciliations (end-of-day takings), by ``site`` or ``register``, one
        ``date`` or ``since`` a day, and/or only the ``unprocessed=True`` ones."""
        return self._records("reconciliations", **filters)

    def reconciliation(self, id: int | str) -> dict[str, Any]:
        """One reconciliation."""
        return self._record("reconciliation", id=id)

    def webhooks(self, **filters: Any) -> RecordList:
        """Registered webhooks."""
        return self._records("webhooks", **filters)

    def webhook(self, id: int) -> dict[str, Any]:
        """One webhook."""
        return self._record("webhook", id=id)
