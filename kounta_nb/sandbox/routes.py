"""The API's routes as data: method, path under ``/v1/companies/{c}/``, handler, accepted scopes.

Placeholders: ``{name}`` an integer id, ``{name:day}`` a ``YYYY-MM-DD`` date, ``{name:status}`` a
lower-case order status, ``{name:text}`` any segment; ``*rest`` takes what is left. The first
route whose pattern matches wins, so literal segments come before placeholders. Scopes
(``site register staff customer``) are the parent paths a route can be asked under: a list is
filtered by them, a single record must belong to them (docs/api.md §4).
"""

from __future__ import annotations

from . import reads, writes
from .routing import Route, route

__all__ = ["ROUTES"]

_ORDER_SCOPES = "site register staff customer"

ROUTES: tuple[Route, ...] = (
    route("GET", "", reads.company),
    route("GET", "status", reads.status),
    # sites and registers
    route("GET", "sites", reads.sites),
    route("GET", "sites/{id}", reads.site),
    route("PUT", "sites/{id}", writes.update_site),
    route("GET", "registers", reads.registers, "site"),
    route("GET", "registers/{id}", reads.register, "site"),
    # orders and payments
    route("GET", "orders", reads.orders, _ORDER_SCOPES),
    route("POST", "orders", writes.create_order, "site register staff customer"),
    route("GET", "orders/saleid/{sale:text}", reads.order_by_sale, _ORDER_SCOPES),
    route("GET", "orders/{status:status}", reads.orders, _ORDER_SCOPES),
    route("GET", "orders/{id}", reads.order, _ORDER_SCOPES),
    route("PUT", "orders/{id}", writes.update_order, _ORDER_SCOPES),
    route("POST", "orders/{id}/payments", writes.add_payment, _ORDER_SCOPES),
    route("PUT", "orders/{id}/payments/{number}", writes.update_payment, _ORDER_SCOPES),
    # menu
    route("GET", "products", reads.products, "site"),
    route("GET", "products/{id}", reads.product, "site"),
    route("GET", "products/{id}/categories", reads.product_categories, "site"),
    route("GET", "categories", reads.categories, "site"),
    route("POST", "categories", writes.create_category),
    route("GET", "categories/{id}", reads.category, "site"),
    route("PUT", "categories/{id}", writes.update_category),
    route("GET", "categories/{id}/products", reads.category_products, "site"),
    route("GET", "inventory", reads.inventory, "site"),
    route("GET", "taxes", reads.taxes),
    route("GET", "taxes/{id}", reads.tax),
    route("GET", "price_lists", reads.price_lists),
    route("GET", "price_lists/base", reads.base_price_list),
    route("GET", "price_lists/{id}", reads.price_list),
    route("GET", "payment_methods", reads.payment_methods),
    route("GET", "payment_methods/{id}", reads.payment_method),
    # people
    route("GET", "customers", reads.customers),
    route("POST", "customers", writes.create_customer),
    route("GET", "customers/{id}", reads.customer),
    route("PUT", "customers/{id}", writes.update_customer),
    route("GET", "staff", reads.staff_list),
    route("GET", "staff/me", reads.staff_member_me),
    route("GET", "staff/{id}", reads.staff_member),
    route("GET", "people", reads.people),
    route("GET", "people/{id}", reads.person),
    route("GET", "addresses", reads.addresses, "site customer"),
    route("GET", "addresses/{id}", reads.address, "site customer"),
    route("GET", "shifts/since/{day:day}", reads.shifts_since, "site staff"),
    route("GET", "shifts/{day:day}", reads.shifts_on, "site staff"),
    # cash-ups and webhooks
    route("PUT", "reconciliations/{id}", writes.update_reconciliation),
    route("GET", "reconciliations/*rest", reads.reconciliations, "site register"),
    route("GET", "webhooks", reads.webhooks),
    route("POST", "webhooks", writes.create_webhook),
    route("GET", "webhooks/{id}", reads.webhook),
    route("PUT", "webhooks/{id}", writes.update_webhook),
    route("DELETE", "webhooks/{id}", writes.delete_webhook),
)
