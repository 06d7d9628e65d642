"""The DataFrame schemas, as data: one ``Schema`` per frame kind.

A column is ``Col(name, type, *sources)``. Each source is a path into the record; the first
alternative that gives a value (not missing, not ``None``, not ``""``) wins. Path syntax:

- ``"a.b"`` — ``record["a"]["b"]``;
- a leading ``^`` per level reads from the enclosing record instead (``"^id"`` on a line is the
  order's id, ``"^^site.id"`` on an income amount is the reconciliation's site);
- ``"a[].b"`` (list, sum and join types only) maps the rest of the path over the list at ``a``.

Column types (the dtype each one becomes):

========== ============================ ===================================================
type       dtype                        values
========== ============================ ===================================================
id         ``Int64``                    record ids and foreign keys (ints, digit strings)
bigid      ``string``                   64-bit ids that travel with ``id_str`` (orders, lines,
                                        payments, reconciliations): ``id_str`` wins, else the
                                        integer written out exactly
int        ``Int64``                    counts, numbers
float      ``float64``                  quantities, rates, multipliers, coordinates
money      ``float64``                  amounts, rounded to cents
price      ``float64``                  unit prices, rounded to 4 places (ex-tax unit prices
                                        carry sub-cent precision, e.g. 1.3636)
str        ``string``                   text; numbers written out (postal codes, barcodes,
                                        ledger codes stay text); ``""`` becomes NA
category   ``category``                 the schema's known values first, then any others seen
bool       ``boolean``                  true/false, 0/1, "true"/"false"
timestamp  ``datetime64[us, UTC]``      ISO-8601 with any offset; converted to ``tz`` if given
date       ``date32[day][pyarrow]``     a local calendar day (no time, no zone): derived only
list       ``list<item>[pyarrow]``      a list as the record holds it (``[]`` stays ``[]``);
                                        NA when the record does not carry the field (lists
                                        are abridged); ``item`` is ``int64`` or ``string``
sum        ``float64``                  sum of the numbers in a list path (NaN when absent)
len        ``Int64``                    length of a list (NA when the list is absent)
join       ``string``                   list of strings joined with ", " (address lines)
keys       ``list<string>[pyarrow]``    list of a mapping's keys (webhook header names: the
                                        values can be secrets and are never copied)
========== ============================ ===================================================

``explode`` names the list keys that lead from a top-level record down to one row. Child kinds
take either the parents (an order → its lines) or the child records themselves (a line, e.g. a
POST body); a record that holds the list key, or any of ``parent_markers``, is a parent.
Derived columns (``derived=True``) are computed after extraction, from other columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..vocab import ORDER_STATUSES, WEEKDAYS

__all__ = [
    "Col", "Schema", "SCHEMAS", "TYPES", "ITEMS", "ORDER_STATUSES", "WEEKDAYS", "ADDRESSES",
    "BREAKS", "CATEGORIES", "COMPANY", "CUSTOMERS", "INVENTORY", "LINES", "OPTIONS", "ORDERS",
    "PAYMENTS", "PAYMENT_METHODS", "PEOPLE", "PRICE_LISTS", "PRICE_LIST_PRODUCTS", "PRODUCTS",
    "PRODUCT_CATEGORIES", "PRODUCT_PRICES", "RECONCILIATIONS", "RECONCILIATION_INCOME",
    "RECONCILIATION_LEVELS", "RECONCILIATION_TAKINGS", "REGISTERS", "SHIFTS", "SITES",
    "SITE_STATUS", "STAFF", "TAXES", "WEBHOOKS",
]

TYPES = (
    "id", "bigid", "int", "float", "money", "price", "str", "category", "bool", "timestamp",
    "date", "list", "sum", "len", "join", "keys",
)  # fmt: skip

#: The element types of ``list`` columns (``keys`` columns hold strings).
ITEMS = ("int", "str")
RECONCILIATION_LEVELS = ("site", "register", "staff_member")


@dataclass(frozen=True)
class Col:
    """One output column: name, type (see ``TYPES``) and source paths, best first.

    ``item`` is the element type of a ``list`` column (``"int"`` or ``"str"``, see ``ITEMS``).
    """

    name: str
    type: str
    sources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    derived: bool = False
    item: str | None = None

    def __init__(
        self,
        name: str,
        type: str,
        *sources: str,
        categories: tuple[str, ...] = (),
        derived: bool = False,
        item: str | None = None,
    ) -> None:
        if type not in TYPES:
            raise ValueError(f"unknown column type {type!r} for {name!r}")
        if type == "keys":
            item = "str"
        elif type == "list":
            if item not in ITEMS:
                raise ValueError(f"list column {name!r} needs item= one of {ITEMS}, not {item!r}")
        elif item is not None:
            raise ValueError(f"column {name!r}: only list columns take item=")
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "type", type)
        object.__setattr__(self, "sources", tuple(sources))
        object.__setattr__(self, "categories", tuple(categories))
        object.__setattr__(self, "derived", derived)


def _derived(name: str, type: str, *, categories: tuple[str, ...] = ()) -> Col:
    """A derived column (computed from other columns after extraction)."""
    return Col(name, type, categories=categories, derived=True)


@dataclass(frozen=True)
class Schema:
    """A frame kind: its columns, how rows are found inside records, and a description."""

    kind: str
    description: str
    columns: tuple[Col, ...]
    explode: tuple[str, ...] = ()
    parent_markers: tuple[tuple[str, ...], ...] = ()
    timestamps: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column in schema {self.kind!r}")
        object.__setattr__(
            self, "timestamps", tuple(c.name for c in self.columns if c.type == "timestamp")
        )


def _address(prefix: str, up: str = "") -> tuple[Col, ...]:
    """An embedded address ``{id, lines[], city, zone, postal_code, country}``, flattened."""
    p = f"{up}{prefix}"
    return (
        Col(f"{prefix}_lines", "join", f"{p}.lines[]"),
        Col(f"{prefix}_city", "str", f"{p}.city"),
        Col(f"{prefix}_zone", "str", f"{p}.zone"),
        Col(f"{prefix}_postal_code", "str", f"{p}.postal_code"),
        Col(f"{prefix}_country", "str", f"{p}.country"),
    )


def _summary(name: str, *extra: str) -> tuple[Col, ...]:
    """A related-collection summary ``{count, updated_at}`` → ``<name>_count``, ``<name>_updated_at``."""
    cols = [Col(f"{name}_count", "int", f"{name}.count")]
    cols += [Col(f"{name}_{key}", "int", f"{name}.{key}") for key in extra]
    cols.append(Col(f"{name}_updated_at", "timestamp", f"{name}.updated_at"))
    return tuple(cols)


_ORDER_MARKERS = ("status", "sale_number", "total", "payments", "options", "order_type", "paid")

ORDERS = Schema(
    "orders",
    "one row per order (list items or full orders)",
    (
        # who/when/where/how much first; then the classification, the people, the flags, and
        # last the columns that are empty on list items (abridged) or only useful for joins
        Col("sale_number", "str", "sale_number"),
        Col("created_at", "timestamp", "created_at"),
        Col("site_id", "id", "site_id", "site.id"),
        Col("total", "money", "total"),
        Col("total_tax", "money", "total_tax"),
        _derived("total_ex_tax", "money"),
        Col("paid", "money", "paid"),
        Col("tips", "money", "tips"),
        Col("status", "category", "status", categories=ORDER_STATUSES),
        Col("order_type", "category", "order_type"),
        _derived("date", "date"),
        _derived("hour", "int"),
        _derived("weekday", "category", categories=WEEKDAYS),
        Col("register_id", "id", "register_id", "register.id"),
        Col("staff_id", "id", "staff_id", "staff_member_id", "staff_member.id"),
        Col("customer_id", "id", "customer_id", "customer.id"),
        Col("customer_email", "str", "customer.email"),
        Col("notes", "str", "notes"),
        Col("lines_count", "len", "lines"),
        Col("payments_count", "len", "payments"),
        Col("deleted", "bool", "deleted"),
        Col("is_refund", "bool", "is_refund"),
        Col("refunded_order_id", "bigid", "refunded_order_id_str", "refunded_order_id"),
        Col("price_variation", "float", "price_variation"),
        Col("price_fixed_variation", "money", "price_fixed_variation"),
        Col("order_payment_type", "str", "order_payment_type"),
        Col("placed_at", "timestamp", "placed_at"),
        Col("fulfil_at", "timestamp", "fulfil_at"),
        Col("updated_at", "timestamp", "updated_at"),
        Col("callback_uri", "str", "callback_uri"),
        Col("id", "bigid", "id_str", "id"),
        Col("company_id", "id", "company_id"),
    ),
)

LINES = Schema(
    "lines",
    "one row per order line (from full orders, or line records)",
    (
        Col("order_id", "bigid", "^id_str", "^id", "order_id"),
        Col("number", "int", "number"),
        Col("created_at", "timestamp", "^created_at", "created_at"),
        Col("site_id", "id", "^site_id", "^site.id", "site_id"),
        Col("product_name", "str", "product.name", "product_name"),
        Col("quantity", "float", "quantity"),
        _derived("line_total", "money"),
        Col("unit_price", "price", "unit_price"),
        Col("unit_tax", "price", "unit_tax"),
        _derived("discount", "money"),
        _derived("surcharge", "money"),
        Col("line_total_ex_tax", "money", "line_total_ex_tax"),
        Col("line_total_tax", "money", "line_total_tax"),
        Col("price_variation", "float", "price_variation"),
        Col("price_fixed_variation", "money", "price_fixed_variation"),
        Col("tax_rate", "sum", "taxes[].rate"),
        Col("tax_ids", "list", "taxes[].id", item="int"),
        Col("modifiers", "list", "modifiers[]", item="int"),
        Col("part_of_option_set", "bool", "part_of_option_set"),
        Col("notes", "str", "notes"),
        Col("product_id", "id", "product.id", "product_id"),
        Col("id", "bigid", "id_str", "id"),
        Col("line_id", "str", "line_id"),
    ),
    explode=("lines",),
    parent_markers=(_ORDER_MARKERS,),
)

PAYMENTS = Schema(
    "payments",
    "one row per payment (refunds are negative amounts)",
    (
        Col("order_id", "bigid", "^id_str", "^id", "order_id"),
        Col("number", "int", "number"),
        Col("created_at", "timestamp", "created_at"),
        Col("site_id", "id", "^site_id", "^site.id", "site_id"),
        Col("method", "category", "method.name", "method_name"),
        Col("amount", "money", "amount"),
        Col("tip", "money", "tip"),
        Col("ref", "str", "ref"),
        Col("method_id", "id", "method.id", "method_id"),
        Col("id", "bigid", "id_str", "id"),
    ),
    explode=("payments",),
    parent_markers=(_ORDER_MARKERS,),
)

OPTIONS = Schema(
    "options",
    "one row per chosen modifier option (e.g. milk type) of an order line",
    (
        Col("order_id", "bigid", "^id_str", "^id", "order_id"),
        Col("line_number", "int", "line_number"),
        Col("created_at", "timestamp", "^created_at", "created_at"),
        Col("site_id", "id", "^site_id", "^site.id", "site_id"),
        Col("name", "str", "name", "product.name"),
        _derived("option_set", "str"),
        Col("unit_price", "price", "unit_price"),
        Col("unit_tax", "price", "unit_tax"),
        Col("product_id", "id", "product_id", "product.id"),
        Col("tax_ids", "list", "taxes[].id", item="int"),
        Col("option_set_ids", "list", "option_sets[].option_set_id", item="int"),
    ),
    explode=("options",),
    parent_markers=(_ORDER_MARKERS,),
)

_PRODUCT_MARKERS = (
    "name", "code", "sku", "barcode", "tags", "categories", "sites", "is_modifier", "taxes",
)  # fmt: skip

PRODUCTS = Schema(
    "products",
    "one row per product",
    (
        Col("id", "id", "id"),
        Col("name", "str", "name"),
        Col("code", "str", "code"),
        Col("number", "str", "number"),
        Col("sku", "str", "sku"),
        Col("barcode", "str", "barcode"),
        Col("description", "str", "description"),
        Col("online_description", "str", "online_description"),
        Col("friendly_name", "str", "friendly_name"),
        Col("unit_price", "price", "unit_price"),
        Col("cost_price", "price", "cost_price"),
        Col("stock", "float", "stock"),
        Col("unit_of_measure", "str", "unit_of_measure"),
        Col("measure", "float", "measure"),
        Col("is_modifier", "bool", "is_modifier"),
        Col("is_sold", "bool", "is_sold"),
        Col("show_online", "bool", "show_online"),
        Col("top_seller", "bool", "top_seller"),
        Col("special_item", "bool", "special_item"),
        Col("deleted", "bool", "deleted"),
        Col("tags", "list", "tags[]", item="str"),
        Col("category_ids", "list", "categories[].id", item="int"),
        Col("tax_ids", "list", "taxes[].id", item="int"),
        Col("tax_rate", "sum", "taxes[].rate"),
        Col("site_ids", "list", "sites[].id", item="int"),
        Col("image", "str", "image"),
        Col("created_at", "timestamp", "created_at"),
        Col("updated_at", "timestamp", "updated_at"),
        Col("company_id", "id", "company_id"),
    ),
)

PRODUCT_PRICES = Schema(
    "product_prices",
    "one row per product and site: the site's price (from the product's sites[])",
    (
        Col("product_id", "id", "^id", "product_id"),
        Col("product_name", "str", "^name", "product_name"),
        Col("site_id", "id", "id", "site_id"),
        Col("unit_price", "price", "unit_price"),
        Col("base_unit_price", "price", "^unit_price"),
    ),
    explode=("sites",),
    parent_markers=(("name", "code", "sku", "barcode", "categories", "taxes"),),
)

PRODUCT_CATEGORIES = Schema(
    "product_categories",
    "one row per product and category it belongs to",
    (
        Col("product_id", "id", "^id", "product_id"),
        Col("category_id", "id", "id", "category_id"),
        Col("category_name", "str", "name", "category_name"),
    ),
    explode=("categories",),
    parent_markers=(("code", "sku", "barcode", "sites", "unit_price", "tags", "is_modifier"),),
)

SITES = Schema(
    "sites",
    "one row per site (venue)",
    (
        Col("id", "id", "id"),
        Col("name", "str", "name"),
        Col("code", "str", "code"),
        Col("business_number", "str", "business_number"),
        Col("email", "str", "email"),
        Col("phone", "str", "phone"),
        Col("mobile", "str", "mobile"),
        Col("fax", "str", "fax"),
        Col("website", "str", "website"),
        Col("image", "str", "image"),
        Col("contact_person_id", "id", "contact_person.id"),
        Col("contact_person_email", "str", "contact_person.email"),
        Col("latitude", "float", "location.latitude"),
        Col("longitude", "float", "location.longitude"),
        Col("register_level_reconciliation", "bool", "register_level_reconciliation"),
        Col("price_list_id", "id", "price_list.id"),
        Col("price_list_name", "str", "price_list.name"),
        *_summary("products"),
        *_address("shipping_address"),
        *_address("postal_address"),
        Col("created_at", "timestamp", "created_at"),
        Col("updated_at", "timestamp", "updated_at"),
        Col("company_id", "id", "company_id"),
    ),
)

REGISTERS = Schema(
    "registers",
    "one row per register (till)",
    (
        Col("id", "id", "id"),
        Col("code", "str", "code"),
        Col("name", "str", "name"),
        Col("site_id", "id", "site_id", "site.id"),
        Col("site_name", "str", "site.name"),
        Col("site_code", "str", "site.code"),
        Col("current_staff_id", "id", "current_staff_member.id"),
        Col("sale_prefix", "str", "sale_prefix"),
        Col("return_prefix", "str", "return_prefix"),
        Col("assigned_to_device", "bool", "assigned_to_device"),
        Col("company_id", "id", "company_id"),
    ),
)

CUSTOMERS = Schema(
    "customers",
    "one row per customer",
    (
        Col("id", "id", "id"),
        Col("first_name", "str", "first_name"),
        Col("last_name", "str", "last_name"),
        Col("description", "str", "description"),
        Col("primary_email_address", "str", "primary_email_address"),
        Col("email_addresses", "list", "email_addresses[]", item="str"),
        Col("phone", "str", "phone"),
        Col("mobile", "str", "mobile"),
        Col("fax", "str", "fax"),
        Col("reference_id", "str", "reference_id"),
        Col("accepts_marketing", "bool", "accepts_marketing"),
        Col("tags", "list", "tags[]", item="str"),
        Col("image", "str", "image"),
        *_summary("addresses"),
        *_address("shipping_address"),
        *_address("postal_address"),
        Col("created_at", "timestamp", "created_at"),
        Col("updated_at", "timestamp", "updated_at"),
        Col("company_id", "id", "company_id"),
    ),
)

STAFF = Schema(
    "staff",
    "one row per staff member",
    (
        Col("id", "id", "id"),
        Col("first_name", "str", "first_name"),
        Col("last_name", "str", "last_name"),
        Col("is_admin", "bool", "is_admin"),
        Col("primary_email_address", "str", "primary_email_address"),
        Col("email_addresses", "list", "email_addresses[]", item="str"),
        Col("phone", "str", "phone"),
        Col("mobile", "str", "mobile"),
        Col("fax", "str", "fax"),
        Col("permissions", "list", "permissions[].code", item="str"),
        Col("image", "str", "image"),
        *_summary("sites"),
        *_summary("addresses"),
        *_address("shipping_address"),
        *_address("postal_address"),
        Col("created_at", "timestamp", "created_at"),
        Col("updated_at", "timestamp", "updated_at"),
    ),
)

SHIFTS = Schema(
    "shifts",
    "one row per shift (no id in the API: staff_id + started_at identify it)",
    (
        Col("staff_id", "id", "staff_member.id", "staff_id"),
        Col("staff_first_name", "str", "staff_member.first_name"),
        Col("staff_last_name", "str", "staff_member.last_name"),
        Col("site_id", "id", "site.id", "site_id"),
        Col("site_name", "str", "site.name"),
        Col("site_code", "str", "site.code"),
        Col("started_at", "timestamp", "started_at"),
        Col("finished_at", "timestamp", "finished_at"),
        Col("breaks_count", "len", "breaks"),
        _derived("break_minutes", "float"),
        _derived("worked_hours", "float"),
    ),
)

BREAKS = Schema(
    "breaks",
    "one row per break within a shift",
    (
        Col("staff_id", "id", "^staff_member.id", "^staff_id", "staff_id"),
        Col("site_id", "id", "^site.id", "^site_id", "site_id"),
        Col("shift_started_at", "timestamp", "^started_at"),
        Col("started_at", "timestamp", "started_at"),
        Col("finished_at", "timestamp", "finished_at"),
        _derived("minutes", "float"),
    ),
    explode=("breaks",),
    parent_markers=(("staff_member", "site", "staff_id"),),
)

TAXES = Schema(
    "taxes",
    "one row per tax (rate is a factor: 0.1 = 10 %)",
    (
        Col("id", "id", "id"),
        Col("code", "str", "code"),
        Col("name", "str", "name"),
        Col("rate", "float", "rate"),
        Col("company_id", "id", "company_id"),
    ),
)

CATEGORIES = Schema(
    "categories",
    "one row per product category",
    (
        Col("id", "id", "id"),
        Col("name", "str", "name"),
        Col("description", "str", "description"),
        Col("friendly_name", "str", "friendly_name"),
        Col("show_online", "bool", "show_online"),
        Col("image", "str", "image"),
        *_summary("products"),
        Col("company_id", "id", "company_id"),
    ),
)

INVENTORY = Schema(
    "inventory",
    "one row per product: stock on hand at a site",
    (
        Col("product_id", "id", "id", "product_id"),
        Col("site_id", "id", "site_id"),
        Col("stock", "float", "stock"),
    ),
)

_RECONCILIATION_MARKERS = ("number", "processed", "reconciliation_level", "site", "register")

RECONCILIATIONS = Schema(
    "reconciliations",
    "one row per reconciliation (cash-up), with takings totals over all payment methods",
    (
        Col("id", "bigid", "id_str", "id"),
        Col("number", "int", "number"),
        Col("processed", "bool", "processed"),
        Col("reconciliation_level", "category", "reconciliation_level",
            categories=RECONCILIATION_LEVELS),
        Col("register_level_reconciliation", "bool", "register_level_reconciliation"),
        Col("site_id", "id", "site.id", "site_id"),
        Col("site_name", "str", "site.name"),
        Col("register_id", "id", "register.id", "register_id"),
        Col("register_name", "str", "register.name"),
        Col("staff_id", "id", "staff_member.id", "staff_id"),
        Col("recorded", "sum", "reconciliations[].takings.recorded"),
        Col("counted", "sum", "reconciliations[].takings.counted"),
        Col("cash_in", "sum", "reconciliations[].adjustments.cash_in"),
        Col("cash_out", "sum", "reconciliations[].adjustments.cash_out"),
        Col("created_at", "timestamp", "created_at"),
        _derived("difference", "money"),
    ),
)  # fmt: skip

RECONCILIATION_TAKINGS = Schema(
    "reconciliation_takings",
    "one row per reconciliation and payment method: recorded, counted, cash in/out",
    (
        Col("reconciliation_id", "bigid", "^id_str", "^id", "reconciliation_id"),
        Col("site_id", "id", "^site.id", "^site_id"),
        Col("register_id", "id", "^register.id", "^register_id"),
        Col("payment_method_id", "id", "payment_method.id", "payment_method_id"),
        Col("payment_method", "category", "payment_method.name"),
        Col("ledger_code", "str", "payment_method.ledger_code", "ledger_code"),
        Col("recorded", "money", "takings.recorded", "recorded"),
        Col("counted", "money", "takings.counted", "counted"),
        Col("cash_in", "money", "adjustments.cash_in", "cash_in"),
        Col("cash_out", "money", "adjustments.cash_out", "cash_out"),
        Col("created_at", "timestamp", "^created_at"),
        _derived("difference", "money"),
    ),
    explode=("reconciliations",),
    parent_markers=(_RECONCILIATION_MARKERS,),
)

RECONCILIATION_INCOME = Schema(
    "reconciliation_income",
    "one row per reconciliation, income account and tax: net and tax amounts",
    (
        Col("reconciliation_id", "bigid", "^^id_str", "^^id", "reconciliation_id"),
        Col("site_id", "id", "^^site.id", "^^site_id"),
        Col("ledger_code", "str", "^ledger_code", "ledger_code"),
        Col("tax_id", "id", "tax_id"),
        Col("net", "money", "net"),
        Col("tax", "money", "tax"),
        Col("created_at", "timestamp", "^^created_at"),
        _derived("gross", "money"),
    ),
    explode=("income_accounts", "amounts"),
    parent_markers=(_RECONCILIATION_MARKERS, ("ledger_code",)),
)

WEBHOOKS = Schema(
    "webhooks",
    "one row per webhook (header values are never copied: they can hold secrets)",
    (
        Col("id", "id", "id"),
        Col("topic", "str", "topic"),
        Col("address", "str", "address"),
        Col("format", "str", "format"),
        Col("filter_site_ids", "list", "filter.site_ids[]", item="int"),
        Col("header_names", "keys", "headers"),
        Col("created_at", "timestamp", "created_at"),
        Col("updated_at", "timestamp", "updated_at"),
    ),
)

PRICE_LISTS = Schema(
    "price_lists",
    "one row per price list",
    (
        Col("id", "id", "id"),
        Col("name", "str", "name"),
        Col("parent_id", "id", "parent_id"),
        Col("products_count", "int", "products.count"),
        Col("products_updated_at", "timestamp", "products.updated_at"),
    ),
)

PRICE_LIST_PRODUCTS = Schema(
    "price_list_products",
    "one row per product of a price list detail (its price on that list)",
    (
        Col("price_list_id", "id", "^id", "price_list_id"),
        Col("product_id", "id", "id", "product_id"),
        Col("product_name", "str", "name"),
        Col("unit_price", "price", "unit_price"),
    ),
    explode=("products",),
    parent_markers=(("parent_id",),),
)

PAYMENT_METHODS = Schema(
    "payment_methods",
    "one row per payment method",
    (
        Col("id", "id", "id"),
        Col("name", "str", "name"),
        Col("ledger_code", "str", "ledger_code"),
    ),
)

COMPANY = Schema(
    "company",
    "the company record as one row",
    (
        Col("id", "id", "id"),
        Col("name", "str", "name"),
        Col("business_number", "str", "business_number"),
        Col("currency", "str", "currency"),
        Col("timezone", "str", "timezone.name"),
        Col("timezone_offset", "str", "timezone.offset"),
        Col("website", "str", "website"),
        Col("image", "str", "image"),
        Col("contact_staff_id", "id", "contact_staff_member.id"),
        Col("contact_email", "str", "contact_staff_member.email"),
        *_summary("sites"),
        *_summary("registers", "limit"),
        *_summary("addresses"),
        *_address("shipping_address"),
        *_address("postal_address"),
        Col("created_at", "timestamp", "created_at"),
        Col("updated_at", "timestamp", "updated_at"),
    ),
)

SITE_STATUS = Schema(
    "site_status",
    "one row per site: online status, registers online, last sale (GET /status)",
    (
        Col("site_id", "id", "site_id", "site.id", "id"),
        Col("site_name", "str", "site.name", "name"),
        Col("site_code", "str", "site.code", "code"),
        Col("online", "bool", "online"),
        Col("registers_count", "len", "registers"),
        _derived("registers_online", "int"),
        Col("last_sale_at", "timestamp", "last_sale_at"),
        Col("checked_at", "timestamp", "checked_at"),
    ),
)

PEOPLE = Schema(
    "people",
    "one row per person (GET /people: the legacy record behind a customer or staff member)",
    (
        Col("id", "id", "id"),
        Col("first_name", "str", "first_name"),
        Col("last_name", "str", "last_name"),
        Col("customer_id", "id", "customer_id"),
        Col("staff_id", "id", "staff_id"),
        Col("primary_email_address", "str", "primary_email_address"),
        Col("email_addresses", "list", "email_addresses[]", item="str"),
        Col("phone_numbers", "list", "phone_numbers[].number", item="str"),
        Col("image", "str", "image"),
        *_summary("addresses"),
        *_address("shipping_address"),
        *_address("postal_address"),
        Col("created_at", "timestamp", "created_at"),
        Col("updated_at", "timestamp", "updated_at"),
    ),
)

ADDRESSES = Schema(
    "addresses",
    "one row per address (GET /sites/{s}/addresses, /customers/{c}/addresses)",
    (
        Col("id", "id", "id"),
        Col("people_id", "id", "people_id"),
        Col("lines", "join", "lines[]"),
        Col("city", "str", "city"),
        Col("zone", "str", "zone"),
        Col("postal_code", "str", "postal_code"),
        Col("country", "str", "country"),
    ),
)

SCHEMAS: dict[str, Schema] = {
    s.kind: s
    for s in (
        ORDERS, LINES, PAYMENTS, OPTIONS, PRODUCTS, PRODUCT_PRICES, PRODUCT_CATEGORIES, SITES,
        REGISTERS, CUSTOMERS, STAFF, SHIFTS, BREAKS, TAXES, CATEGORIES, INVENTORY,
        RECONCILIATIONS, RECONCILIATION_TAKINGS, RECONCILIATION_INCOME, WEBHOOKS, PRICE_LISTS,
        PRICE_LIST_PRODUCTS, PAYMENT_METHODS, COMPANY, SITE_STATUS, PEOPLE, ADDRESSES,
    )
}  # fmt: skip
