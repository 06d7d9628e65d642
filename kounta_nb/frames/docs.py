"""One sentence per column of every frame kind, for :func:`kounta_nb.frames.describe`.

Looked up as ``"<kind>.<column>"`` first, then ``"<column>"`` (shared meanings), then by pattern
(addresses, related-collection summaries). A test checks that every column of every schema has
one, so a new column cannot ship undocumented.
"""

from __future__ import annotations

__all__ = ["column_doc"]

_SHARED: dict[str, str] = {
    "id": "the record's id",
    "company_id": "the Kounta company the record belongs to (NA where the API leaves it out of list items)",
    "site_id": "the site (venue) id",
    "name": "the name as shown in Kounta",
    "code": "the short code",
    "description": "the description text",
    "image": "URL of the image",
    "created_at": "when the record was created (tz-aware; the company's zone when tz is given)",
    "updated_at": "when the record was last changed (tz-aware)",
    "phone": "phone number (text: leading zeros and + kept)",
    "mobile": "mobile number (text)",
    "fax": "fax number (text)",
    "email": "e-mail address",
    "website": "website URL",
    "business_number": "the business number (ABN), as text",
    "first_name": "first name",
    "last_name": "last name",
    "primary_email_address": "the primary e-mail address",
    "email_addresses": "every e-mail address; NA when the record does not carry them (list items)",
    "tags": "tags; NA when the record does not carry them (list items)",
    "friendly_name": "the name shown to customers online",
    "show_online": "whether it is shown in online ordering",
    "unit_price": "unit price ex tax (4 decimal places, as Kounta keeps it)",
    "unit_tax": "tax per unit (4 decimal places)",
    "tax_ids": "ids of the taxes that apply; NA when the record does not carry them",
    "tax_rate": "sum of the tax rates that apply (a factor: 0.1 = 10 %)",
    "notes": "free-text notes",
    "product_id": "the product id",
    "product_name": "the product's name",
    "staff_id": "the staff member id",
    "register_id": "the register (till) id",
    "site_name": "the site's name",
    "site_code": "the site's code",
    "ledger_code": "the accounting ledger code (text)",
    "number": "the sequence number",
    "price_variation": "price multiplier: 0.9 = 10 % off, 1.15 = 15 % surcharge",
    "price_fixed_variation": "fixed amount added to the price (negative = discount)",
    "order_id": "the order's id (as orders.id: text, exact 64-bit)",
    "reconciliation_id": "the reconciliation's id (text, exact 64-bit)",
    "recorded": "takings the system recorded",
    "counted": "takings counted at the cash-up",
    "cash_in": "cash put into the drawer",
    "cash_out": "cash taken out of the drawer",
    "difference": "counted minus recorded (negative = short)",
    "started_at": "start time (tz-aware)",
    "finished_at": "end time (tz-aware); NA while still open",
    "stock": "stock on hand",
    "deleted": "whether the record is deleted",
}

_BY_KIND: dict[str, str] = {
    # orders
    "orders.sale_number": "the receipt number people see (text, e.g. 'HLC1-0412')",
    "orders.created_at": "when the sale was made (tz-aware; the company's zone when tz is given)",
    "orders.total": "order total incl. tax (refunds negative)",
    "orders.total_tax": "tax in the total (the sum of line taxes when the detail leaves it out)",
    "orders.total_ex_tax": "total minus tax",
    "orders.paid": "amount paid (tips not included)",
    "orders.tips": "tips paid on top (NA on list items)",
    "orders.status": "order status: SUBMITTED, ON_HOLD, PENDING, ACCEPTED, REJECTED, COMPLETE (others kept as written)",
    "orders.order_type": "how it was served, e.g. 'Dine in', 'Take away'",
    "orders.date": "the local calendar day of created_at in the company's zone (a date, no time and no zone)",
    "orders.hour": "the local hour of created_at (0-23)",
    "orders.weekday": "the local day of the week of created_at, Monday first (ordered)",
    "orders.customer_id": "the customer id (NA for walk-in sales)",
    "orders.customer_email": "the customer's e-mail (full orders only)",
    "orders.lines_count": "number of lines (NA on list items: they carry no lines)",
    "orders.payments_count": "number of payments (NA on list items)",
    "orders.is_refund": "whether this order refunds another",
    "orders.refunded_order_id": "the refunded order's id (text), for refunds",
    "orders.order_payment_type": "the payment type Kounta records for the order (full orders only)",
    "orders.placed_at": "when an online order was placed (full orders only)",
    "orders.fulfil_at": "when an online order is due (full orders only)",
    "orders.updated_at": "when the order last changed: a changed updated_at means a changed order",
    "orders.callback_uri": "the online-ordering callback URL (full orders only)",
    "orders.id": "the order id (text: exact 64-bit, from id_str)",
    "orders.company_id": "the company (full orders only; NA on list items)",
    # lines
    "lines.number": "line number within the order, from 1",
    "lines.created_at": "the order's created_at",
    "lines.site_id": "the order's site",
    "lines.quantity": "units sold (negative on refunds)",
    "lines.line_total": "line total incl. tax, after price variation",
    "lines.discount": "amount taken off by a price variation below 1 (incl. tax)",
    "lines.surcharge": "amount added by a price variation above 1 (incl. tax)",
    "lines.line_total_ex_tax": "line total ex tax",
    "lines.line_total_tax": "tax of the line",
    "lines.modifiers": "product ids of the modifiers chosen (negative ids occur)",
    "lines.part_of_option_set": "whether the line is part of an option set",
    "lines.id": "the line id (text, exact 64-bit)",
    "lines.line_id": "Kounta's line reference (often absent)",
    # payments
    "payments.number": "payment number within the order, from 1",
    "payments.created_at": "when the payment was taken (tz-aware)",
    "payments.site_id": "the order's site",
    "payments.method": "payment method name, e.g. Cash, Card",
    "payments.amount": "amount paid (negative = refund); tips not included",
    "payments.tip": "tip paid with this payment",
    "payments.ref": "the payment reference (card terminal receipt), as text",
    "payments.method_id": "the payment method id",
    "payments.id": "the payment id (text, exact 64-bit)",
    # options
    "options.line_number": "the number of the order line the option belongs to",
    "options.created_at": "the order's created_at",
    "options.site_id": "the order's site",
    "options.name": "the option chosen, e.g. 'Oat milk'",
    "options.option_set": "the option set it belongs to, e.g. 'Milk'",
    "options.product_id": "the option's product id",
    "options.option_set_ids": "ids of the option sets offering it",
    # products
    "products.id": "the product id",
    "products.number": "the product number (text)",
    "products.sku": "stock-keeping unit (text)",
    "products.barcode": "barcode (text: leading zeros kept)",
    "products.online_description": "the description shown online",
    "products.unit_price": "base unit price ex tax (NA on list items)",
    "products.cost_price": "cost price ex tax",
    "products.unit_of_measure": "the unit it is measured in",
    "products.measure": "the measure per unit",
    "products.is_modifier": "whether it is a modifier (milk, size, extra) rather than an item",
    "products.is_sold": "whether it is sold",
    "products.top_seller": "whether Kounta marks it a top seller",
    "products.special_item": "whether it is a special item",
    "products.category_ids": "ids of its categories; NA when the record does not carry them (list items)",
    "products.tax_ids": "ids of its taxes; NA when the record does not carry them (list items)",
    "products.site_ids": "ids of the sites selling it; NA when the record does not carry them (list items)",
    "products.tax_rate": "sum of its tax rates (a factor: 0.1 = 10 %)",
    "products.stock": "stock on hand (company-wide)",
    # product prices and categories
    "product_prices.site_id": "the site the price applies at",
    "product_prices.unit_price": "the price at this site, ex tax",
    "product_prices.base_unit_price": "the product's base price, ex tax",
    "product_categories.category_id": "a category the product is in",
    "product_categories.category_name": "that category's name",
    # sites
    "sites.id": "the site id",
    "sites.contact_person_id": "the contact person's staff id",
    "sites.contact_person_email": "the contact person's e-mail",
    "sites.latitude": "latitude (degrees)",
    "sites.longitude": "longitude (degrees)",
    "sites.register_level_reconciliation": "whether cash-ups are per register (else per site)",
    "sites.price_list_id": "the site's price list",
    "sites.price_list_name": "the price list's name",
    # registers
    "registers.id": "the register id",
    "registers.current_staff_id": "the staff member signed in now",
    "registers.sale_prefix": "prefix of its sale numbers",
    "registers.return_prefix": "prefix of its refund numbers",
    "registers.assigned_to_device": "whether a device is assigned to it",
    # customers and staff
    "customers.id": "the customer id",
    "customers.reference_id": "an external reference (text)",
    "customers.accepts_marketing": "whether the customer accepts marketing",
    "staff.id": "the staff member id",
    "staff.is_admin": "whether the staff member is an administrator",
    "staff.permissions": "permission codes; NA when the record does not carry them",
    # shifts and breaks
    "shifts.staff_first_name": "the staff member's first name",
    "shifts.staff_last_name": "the staff member's last name",
    "shifts.breaks_count": "number of breaks",
    "shifts.break_minutes": "minutes on break",
    "shifts.worked_hours": "hours worked, breaks excluded (NaN while the shift is open)",
    "breaks.shift_started_at": "when the shift the break belongs to started",
    "breaks.minutes": "length of the break in minutes",
    # taxes, categories, inventory
    "taxes.rate": "the rate as a factor (0.1 = 10 %)",
    "categories.id": "the category id",
    "inventory.stock": "stock on hand at the site",
    # reconciliations
    "reconciliations.id": "the reconciliation id (text, exact 64-bit)",
    "reconciliations.number": "the cash-up number",
    "reconciliations.processed": "whether it has been processed",
    "reconciliations.reconciliation_level": "per site, register or staff member",
    "reconciliations.register_level_reconciliation": "the older flag for per-register cash-ups",
    "reconciliations.register_name": "the register's name",
    "reconciliations.recorded": "takings recorded, all payment methods",
    "reconciliations.counted": "takings counted, all payment methods",
    "reconciliations.cash_in": "cash put in, all methods",
    "reconciliations.cash_out": "cash taken out, all methods",
    "reconciliations.created_at": "when the cash-up was made (tz-aware)",
    "reconciliation_takings.payment_method_id": "the payment method id",
    "reconciliation_takings.payment_method": "the payment method name",
    "reconciliation_takings.created_at": "the reconciliation's created_at",
    "reconciliation_income.tax_id": "the tax id",
    "reconciliation_income.net": "net income ex tax for this ledger code and tax",
    "reconciliation_income.tax": "tax for this ledger code and tax",
    "reconciliation_income.gross": "net plus tax",
    "reconciliation_income.created_at": "the reconciliation's created_at",
    # webhooks
    "webhooks.topic": "the event, e.g. orders/completed",
    "webhooks.address": "the URL Kounta calls",
    "webhooks.format": "the body format (json)",
    "webhooks.filter_site_ids": "the sites it is limited to; NA when not filtered",
    "webhooks.header_names": "names of the extra headers sent (values never copied: they can be secrets)",
    # price lists
    "price_lists.parent_id": "the price list it inherits from",
    "price_lists.products_count": "number of products on the list",
    "price_lists.products_updated_at": "when its products last changed",
    "price_list_products.price_list_id": "the price list",
    "price_list_products.unit_price": "the price on this list, ex tax",
    # company and status
    "company.id": "the company id",
    "company.currency": "the currency code, e.g. AUD",
    "company.timezone": "the IANA time zone, e.g. Australia/Sydney",
    "company.timezone_offset": "the UTC offset as Kounta writes it",
    "company.contact_staff_id": "the contact staff member",
    "company.contact_email": "the contact e-mail",
    "company.registers_limit": "how many registers the plan allows",
    "site_status.online": "whether the site is online",
    "site_status.registers_count": "number of registers",
    "site_status.registers_online": "registers online now",
    "site_status.last_sale_at": "time of the last sale (tz-aware)",
    "site_status.checked_at": "when the status was checked (tz-aware)",
}

_ADDRESS = {
    "lines": "address lines joined with ', '",
    "city": "city",
    "zone": "state or region",
    "postal_code": "postcode (text)",
    "country": "country",
}


def column_doc(kind: str, column: str) -> str | None:
    """The description of ``column`` in frames of ``kind`` (None if it has none)."""
    found = _BY_KIND.get(f"{kind}.{column}") or _SHARED.get(column)
    if found:
        return found
    for prefix in ("shipping_address", "postal_address"):
        if column.startswith(prefix + "_"):
            part = _ADDRESS.get(column[len(prefix) + 1 :])
            if part:
                return f"{prefix.replace('_', ' ')}: {part}"
    for suffix, text in (("_count", "number of related {}"), ("_updated_at", "when its {} last changed")):
        if column.endswith(suffix):
            return text.format(column[: -len(suffix)])
    return None
