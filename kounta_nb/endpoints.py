"""The endpoint catalogue: every read of the API as one row of data, and :class:`OrderQuery`.

One :class:`Endpoint` per read of docs/api.md §4: its path template(s) relative to
``companies/{company}/``, whether it is a paged list or one record, the filters it takes (path
placeholders, query parameters, and those applied client-side), the frame kind its records
become, a one-line description, and what an abridged list item leaves out.
:meth:`kounta_nb.client.Kounta.read` fills a row in; :mod:`kounta_nb.tables` and the magics' help
read the same rows. Adding an endpoint is one row here plus one frame schema.

Path templates: ``{name}`` is a placeholder the caller must give; a bracketed group
``[sites/{site}/]`` is kept only when every placeholder inside it is given. When an endpoint has
several templates, the first whose required placeholders are all given is used.

:class:`OrderQuery` is the pure description of an order list request (path filters, status
segment, created/value filters with the company's offset) shared by the client, ``tables`` and
the pull engine; :meth:`OrderQuery.windows` cuts it on stable local boundaries so re-runs hit the
same URLs (and get 304s).
"""

from __future__ import annotations

import dataclasses
import numbers
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal
from urllib.parse import quote

from .dates import check_range, parse_timestamp, to_moment
from .errors import ConfigError, did_you_mean
from .vocab import ORDER_STATUSES

__all__ = [
    "ALL_SITES",
    "ANY_STATUS",
    "CATALOGUE",
    "ORDER_FILTERS",
    "ORDER_STATUSES",
    "TABLES",
    "Endpoint",
    "OrderQuery",
    "Table",
    "as_id",
    "endpoint",
    "check_filters",
    "is_all_sites",
    "normalise_status",
    "quote_segment",
    "record_id",
    "status_filter",
    "table",
]

#: Words that mean "every status" (no status segment in the path).
ANY_STATUS = ("any", "all")
#: ``site="all"``: every site (no site filter) — the same word in Python, pulls and the magics.
ALL_SITES = "all"

_VALUE_FILTERS = ("value", "value_gt", "value_gte", "value_lt", "value_lte")

#: The filters of an order list, as the client, ``tables`` and the magics take them.
ORDER_FILTERS = (
    "site", "status", "register", "staff", "customer", "since", "until", "created",
    *_VALUE_FILTERS,
)  # fmt: skip

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_GROUP = re.compile(r"\[([^\[\]]*)\]")


# --------------------------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class Endpoint:
    """One read of the API.

    ``paths``: templates relative to ``companies/{company}/`` (or to the API base when
    ``in_company`` is False). ``query``: filters sent as query parameters under the same name.
    ``narrow``: filters the API cannot apply on the chosen path, applied to the records here
    (filter → dotted key of the record, e.g. ``"site": "site.id"``). ``exclusive``: pairs that
    cannot be combined. ``needs_one_of``: at least one of these must be given. ``frame``: the
    frame kind of the records (:mod:`kounta_nb.frames`). ``site_column``: the frame column the
    ``site`` filter fills in when the API leaves the site out. ``list_fields``: the keys an
    abridged list item carries (None: list items are full records) and ``detail``: the endpoint
    that gives the full record. ``per_site``: the endpoint exists only per site (a table of it
    without ``site`` stacks every site). ``id_words``: literal ids besides numbers (``me``).
    """

    name: str
    description: str
    paths: tuple[str, ...]
    kind: Literal["list", "detail"] = "list"
    frame: str | None = None
    query: tuple[str, ...] = ()
    narrow: Mapping[str, str] = field(default_factory=dict)
    exclusive: tuple[tuple[str, str], ...] = ()
    needs_one_of: tuple[str, ...] = ()
    site_column: str | None = None
    list_fields: tuple[str, ...] | None = None
    detail: str | None = None
    per_site: bool = False
    id_words: tuple[str, ...] = ()
    in_company: bool = True

    @property
    def filters(self) -> tuple[str, ...]:
        """Every filter this endpoint takes (path placeholders, query parameters, narrowing)."""
        names: list[str] = []
        for template in self.paths:
            names += [n for n in _PLACEHOLDER.findall(template) if n not in names]
        names += [n for n in (*self.query, *self.narrow) if n not in names]
        return tuple(names)

    def template_for(self, given: Iterable[str]) -> str:
        """The first template whose required placeholders are all in ``given``."""
        have = set(given)
        for template in self.paths:
            if set(_PLACEHOLDER.findall(_GROUP.sub("", template))) <= have:
                return template
        need = _PLACEHOLDER.findall(_GROUP.sub("", self.paths[0]))
        raise ConfigError(f"{self.name} needs {' and '.join(f'{n}=' for n in need)}.")

    def render(self, values: Mapping[str, str]) -> tuple[str, set[str]]:
        """``(path, used)``: the chosen template filled in with ``values`` (already formatted
        as path segments), and the names it used. The caller applies the rest."""
        template = self.template_for(values)
        used: set[str] = set()

        def group(match: re.Match[str]) -> str:
            inner = match.group(1)
            names = _PLACEHOLDER.findall(inner)
            if all(values.get(n) not in (None, "") for n in names):
                used.update(names)
                return _PLACEHOLDER.sub(lambda m: values[m.group(1)], inner)
            return ""

        path = _GROUP.sub(group, template)
        names = _PLACEHOLDER.findall(path)
        used.update(names)
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], path), used


def _row(name: str, description: str, *paths: str, **options: Any) -> tuple[str, Endpoint]:
    return name, Endpoint(name, description, paths, **options)


_ORDER_PATH = "[sites/{site}/][registers/{register}/][staff/{staff}/][customers/{customer}/]orders[/{status}]"
_ORDER_ITEM = (
    "id", "id_str", "sale_number", "status", "notes", "site_id", "register_id", "staff_id",
    "customer_id", "total", "total_tax", "paid", "deleted", "order_type", "is_refund",
    "refunded_order_id", "created_at", "updated_at",
)  # fmt: skip
#: What product list items have been seen to carry (versions differ; never categories, taxes, sites).
_PRODUCT_ITEM = ("id", "company_id", "name", "code", "description", "barcode", "is_modifier", "image",
                 "tags", "unit_price", "cost_price", "stock")  # fmt: skip
_RECONCILIATIONS = "[sites/{site}/][registers/{register}/]reconciliations[/{unprocessed}][/{date}][/since/{since}]"

#: Every read, by name (docs/api.md §4).
CATALOGUE: dict[str, Endpoint] = dict(
    [
        _row("company", "the company record (one row)", "companies/me", kind="detail",
             frame="company", in_company=False),
        _row("status", "per-site online status: registers online, last sale", "status",
             frame="site_status"),
        _row("sites", "sites (venues)", "sites", frame="sites", list_fields=("id", "company_id", "name", "code"),
             detail="site"),
        _row("site", "one site", "sites/{id}", kind="detail", frame="sites"),
        _row("registers", "registers (tills), of one site or all", "[sites/{site}/]registers",
             frame="registers", site_column="site_id", list_fields=("id", "code", "name", "site_id"),
             detail="register"),
        _row("register", "one register", "registers/{id}", kind="detail", frame="registers"),
        _row("orders", "orders (abridged list items), newest first", _ORDER_PATH, frame="orders",
             query=ORDER_FILTERS[5:], site_column="site_id", list_fields=_ORDER_ITEM, detail="order"),
        _row("order", "one full order (lines, payments, options)", "orders/{id}", kind="detail",
             frame="orders"),
        _row("order_by_sale", "the order with a sale number", "orders/saleid/{sale_number}",
             kind="detail", frame="orders"),
        _row("products", "products, company-wide or of one site", "[sites/{site}/]products",
             frame="products", list_fields=_PRODUCT_ITEM, detail="product"),
        _row("product", "one product", "products/{id}", kind="detail", frame="products"),
        _row("categories", "product categories, company-wide or of one site",
             "[sites/{site}/]categories", frame="categories", detail="category"),
        _row("category", "one category", "categories/{id}", kind="detail", frame="categories"),
        _row("category_products", "the products of one category", "categories/{id}/products",
             frame="products", list_fields=_PRODUCT_ITEM, detail="product"),
        _row("inventory", "stock on hand per product, of one site or every site",
             "sites/{site}/inventory", frame="inventory", site_column="site_id", per_site=True),
        _row("customers", "customers (optionally by reference_id)", "customers",
             frame="customers", query=("reference_id",),
             list_fields=("id", "company_id", "first_name", "last_name", "primary_email_address",
                          "image", "reference_id"),
             detail="customer"),
        _row("customer", "one customer", "customers/{id}", kind="detail", frame="customers"),
        _row("customer_by_email", "the customer with an e-mail address (302 to the record)",
             "customers", kind="detail", frame="customers", query=("email",),
             needs_one_of=("email",)),
        _row("customer_orders", "the orders of one customer", "customers/{id}/orders",
             frame="orders", list_fields=_ORDER_ITEM, detail="order"),
        _row("staff", "staff members", "staff", frame="staff",
             list_fields=("id", "first_name", "last_name", "primary_email_address"),
             detail="staff_member"),
        _row("staff_member", "one staff member ('me' for the credentials' own)", "staff/{id}",
             kind="detail", frame="staff", id_words=("me",)),
        _row("people", "people: the legacy person record behind each customer and staff member",
             "people", frame="people",
             list_fields=("id", "first_name", "last_name", "customer_id", "staff_id",
                          "primary_email_address", "image"),
             detail="person"),
        _row("person", "one person", "people/{id}", kind="detail", frame="people"),
        _row("addresses", "addresses of one site or one customer", "sites/{site}/addresses",
             "customers/{customer}/addresses", frame="addresses", exclusive=(("site", "customer"),),
             needs_one_of=("site", "customer"), per_site=True, detail="address"),
        _row("address", "one address of a site or customer", "sites/{site}/addresses/{id}",
             "customers/{customer}/addresses/{id}", kind="detail", frame="addresses",
             exclusive=(("site", "customer"),), needs_one_of=("site", "customer")),
        _row("shifts", "staff shifts of one day (date=) or since a day (since=)",
             "shifts/{date}", "sites/{site}/shifts/since/{since}",
             "staff/{staff}/shifts/since/{since}", "shifts/since/{since}",
             frame="shifts", narrow={"site": "site.id", "staff": "staff_member.id"},
             exclusive=(("date", "since"),), needs_one_of=("date", "since"), site_column="site_id"),
        _row("taxes", "taxes (rate 0.1 = 10 %)", "taxes", frame="taxes", detail="tax"),
        _row("tax", "one tax", "taxes/{id}", kind="detail", frame="taxes"),
        _row("price_lists", "price lists", "price_lists", frame="price_lists", detail="price_list"),
        _row("price_list", "one price list with its products ('base' for the base list)",
             "price_lists/{id}", kind="detail", frame="price_lists", id_words=("base",)),
        _row("payment_methods", "payment methods and their ledger codes", "payment_methods",
             frame="payment_methods"),
        _row("reconciliations", "register reconciliations (cash-ups) with takings totals",
             _RECONCILIATIONS, frame="reconciliations", site_column="site_id",
             exclusive=(("site", "register"), ("date", "since")), detail="reconciliation"),
        _row("reconciliation", "one reconciliation", "reconciliations/{id}", kind="detail",
             frame="reconciliations"),
        _row("webhooks", "registered webhooks (header values withheld)", "webhooks",
             frame="webhooks", detail="webhook"),
        _row("webhook", "one webhook", "webhooks/{id}", kind="detail", frame="webhooks"),
    ]
)  # fmt: skip


@dataclass(frozen=True)
class Table:
    """A DataFrame built from a list endpoint: ``kind`` is its frame kind; ``needs`` is the key
    of the full record it is built from (when list items lack it, each full record is fetched)."""

    name: str
    endpoint: str
    kind: str
    description: str
    needs: str | None = None

    @property
    def filters(self) -> tuple[str, ...]:
        """The filters ``tables.fetch`` takes for this table (besides ``limit`` and ``site``)."""
        if self.name == "order":
            return ("id", "sale_number", "part")
        row = CATALOGUE[self.endpoint]
        return ORDER_FILTERS if row.name == "orders" else row.filters

    @property
    def detail(self) -> str | None:
        """The endpoint each full record is read from, when list items lack :attr:`needs`."""
        return CATALOGUE[self.endpoint].detail if self.needs is not None else None


#: Tables that are not one endpoint's records as they come: children of full records.
_VIEWS: tuple[Table, ...] = (
    Table("lines", "orders", "lines", "order lines of the matching orders (fetches each full order)",
          "lines"),
    Table("payments", "orders", "payments", "payments of the matching orders (fetches each full "
          "order)", "payments"),
    Table("options", "orders", "options", "chosen modifier options of the matching orders "
          "(fetches each full order)", "options"),
    Table("product_prices", "products", "product_prices", "per-site product prices (fetches each "
          "full product)", "sites"),
    Table("product_categories", "products", "product_categories", "which categories each product "
          "is in (fetches each full product)", "categories"),
    Table("order", "order", "lines", "one full order by id (or sale_number): its lines, "
          "payments, options or the order row (part=)"),
    Table("breaks", "shifts", "breaks", "breaks within those shifts"),
    Table("reconciliation_takings", "reconciliations", "reconciliation_takings", "reconciliation "
          "takings per payment method: recorded, counted, cash in/out", "reconciliations"),
    Table("reconciliation_income", "reconciliations", "reconciliation_income", "reconciliation "
          "income-account amounts (net, tax)", "income_accounts"),
)  # fmt: skip

#: Every table by name: each list endpoint that has a frame kind (plus ``company``), then the views.
TABLES: dict[str, Table] = {
    **{
        e.name: Table(e.name, e.name, e.frame, e.description)
        for e in CATALOGUE.values()
        if e.frame is not None and (e.kind == "list" or e.name == "company")
        and e.name not in ("category_products", "customer_orders")
    },
    **{t.name: t for t in _VIEWS},
}


def _lookup(kind: str, name: object, known: Mapping[str, Any]) -> Any:
    key = name.strip().lower().replace("-", "_") if isinstance(name, str) else None
    if key is not None and key in known:
        return known[key]
    hint = did_you_mean(str(name), known) if isinstance(name, str) else ""
    raise ConfigError(f"Unknown {kind} {name!r}{hint}: choose one of {', '.join(sorted(known))}.")


def endpoint(name: str) -> Endpoint:
    """The catalogue row called ``name`` (``-`` and case ignored); ConfigError with a "did you
    mean" otherwise."""
    found: Endpoint = _lookup("endpoint", name, CATALOGUE)
    return found


def table(name: str) -> Table:
    """The table called ``name`` (``-`` and case ignored); ConfigError with a "did you mean"."""
    found: Table = _lookup("resource", name, TABLES)
    return found


def check_filters(where: str, given: Iterable[str], allowed: Iterable[str], *, plural: bool = False) -> None:
    """ConfigError naming the first unknown filter (with a "did you mean") and the valid ones."""
    allowed = tuple(allowed)
    for key in given:
        if key not in allowed:
            takes = ", ".join(allowed) if allowed else "no filters"
            raise ConfigError(
                f"{where} {'do' if plural else 'does'} not take {key}{did_you_mean(key, allowed)}: "
                f"{'they take' if plural else 'it takes'} {takes}."
            )


# --------------------------------------------------------------------------------------------
# Order queries


def normalise_status(status: str) -> str:
    """``"COMPLETE"``/``"complete"``/``"completed"`` → the path segment ``"complete"``."""
    if not isinstance(status, str):
        raise ConfigError(f"status must be text such as 'complete', not {status!r}.")
    value = status.strip().upper().replace(" ", "_").replace("-", "_")
    if value == "COMPLETED":
        value = "COMPLETE"
    if value not in ORDER_STATUSES:
        choices = [s.lower() for s in ORDER_STATUSES]
        raise ConfigError(
            f"Unknown order status {status!r}{did_you_mean(status.strip().lower(), choices)}; use "
            f"one of {', '.join(choices)} (or any for every status)."
        )
    return value.lower()


def status_filter(status: str | None) -> str | None:
    """The status path segment of an order query: ``None``, ``"any"`` or ``"all"`` → None (every
    status), anything else through :func:`normalise_status` (one ConfigError when unknown)."""
    if status is None or (isinstance(status, str) and status.strip().lower() in ANY_STATUS):
        return None
    return normalise_status(status)


def is_all_sites(site: Any) -> bool:
    """``site="all"`` (any case, any spaces around it): every site."""
    return isinstance(site, str) and site.strip().lower() == ALL_SITES


def as_id(value: Any, what: str) -> int:
    """A positive numeric id from an int (numpy's too) or digit text; ConfigError otherwise
    (``True``, ``"²"``, ``"12a"``, ``-1`` are not ids)."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    text = str(int(value)) if integral else value.strip() if isinstance(value, str) else ""
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise ConfigError(f"{what} must be a numeric id, not {value!r}.")
    return int(text)



def _amount(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ConfigError(f"{what} must be a number of dollars, not {value!r}.")
    return float(value)


def _local_midnight(moment: datetime, tz: tzinfo) -> datetime:
    local = moment.astimezone(tz)
    return datetime.combine(local.date(), time(0), tzinfo=tz)


@dataclass(frozen=True)
class OrderQuery:
    """One order list request, pure: path filters, status segment and created/value filters.

    ``since`` (inclusive) and ``until`` (exclusive) are aware datetimes, sent with the offset of
    ``tz`` (the company's zone) as ``created_gte``/``created_lt``. ``status`` is the path segment
    (``"complete"``) or None for every status. ``created`` is sent as given (a local date
    ``YYYY-MM-DD`` or a datetime with offset). Build one from user input with :meth:`parse`.
    """

    site: int | None = None
    register: int | None = None
    staff: int | None = None
    customer: int | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    created: str | None = None
    value: float | None = None
    value_gt: float | None = None
    value_gte: float | None = None
    value_lt: float | None = None
    value_lte: float | None = None
    tz: tzinfo = field(default=UTC, compare=False)

    def __post_init__(self) -> None:
        for name in ("site", "register", "staff", "customer"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_id(value, f"{name} id"))
        if self.status is not None:
            object.__setattr__(self, "status", normalise_status(self.status))
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, datetime) or value.tzinfo is None):
                raise ConfigError(f"OrderQuery.{name} must be a datetime with a time zone.")
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ConfigError("since must come before until.")
        for name in _VALUE_FILTERS:
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _amount(value, name))

    @classmethod
    def parse(
        cls,
        filters: Mapping[str, Any],
        *,
        tz: tzinfo,
        now: datetime | None = None,
        resolve_site: Callable[[Any], int | None] | None = None,
    ) -> OrderQuery:
        """Read user filters (the :data:`ORDER_FILTERS`; ``None`` values ignored): ``since`` and
        ``until`` as ``datetime``/``date``/text (``30d``, ``2026-05-01``; a date-only ``until``
        includes that day), ``status="any"`` for every status, ``site`` through
        ``resolve_site`` (id, code or name). Every bad value is one :class:`ConfigError`; a
        future ``since`` or one not before ``until`` too (:func:`kounta_nb.dates.check_range`).
        """
        given = {k: v for k, v in filters.items() if v is not None}
        check_filters("An order list", given, ORDER_FILTERS)
        moment = (now or datetime.now(tz)).astimezone(tz)
        site = given.get("site")
        if site is not None:
            site = resolve_site(site) if resolve_site is not None else as_id(site, "site id")
        status = given.get("status")
        if isinstance(status, str) and status.strip().lower() in ANY_STATUS:
            status = None
        since = to_moment(given["since"], tz=tz, name="since", now=moment) if "since" in given else None
        until = (
            to_moment(given["until"], tz=tz, name="until", end=True, now=moment)
            if "until" in given else None
        )  # fmt: skip
        check_range(since, until, now=moment)
        created = given.get("created")
        if created is not None:
            created = _created(created, tz=tz, now=moment)
        return cls(
            site=site, register=given.get("register"), staff=given.get("staff"),
            customer=given.get("customer"), status=status, since=since, until=until,
            created=created, tz=tz, **{k: given[k] for k in _VALUE_FILTERS if k in given},
        )  # fmt: skip

    # -- what goes over the wire --------------------------------------------------------------

    def path(self, company_id: int | None = None) -> str:
        """``sites/1/registers/2/orders/complete`` (prefixed with ``companies/{id}/`` when given)."""
        values = {
            name: str(getattr(self, name))
            for name in ("site", "register", "staff", "customer", "status")
            if getattr(self, name) is not None
        }
        path, _ = CATALOGUE["orders"].render(values)
        return f"companies/{int(company_id)}/{path}" if company_id is not None else path

    def params(self) -> dict[str, str]:
        """The query parameters: ``created_gte``/``created_lt`` (full datetimes with the
        company's offset: the API's date-only filters are ambiguous about midnight), ``created``
        and the value filters."""
        params: dict[str, str] = {}
        if self.since is not None:
            params["created_gte"] = self.since.astimezone(self.tz).isoformat(timespec="seconds")
        if self.until is not None:
            params["created_lt"] = self.until.astimezone(self.tz).isoformat(timespec="seconds")
        if self.created is not None:
            params["created"] = self.created
        for name in _VALUE_FILTERS:
            amount = getattr(self, name)
            if amount is not None:
                params[name] = f"{amount:g}"
        return params

    @property
    def filters(self) -> dict[str, Any]:
        """The filters that are set (for ``meta``), with datetimes as ISO text."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name != "tz" and value is not None:
                out[f.name] = value.isoformat(timespec="seconds") if isinstance(value, datetime) else value
        return out

    # -- windows ------------------------------------------------------------------------------

    def between(self, since: datetime | None, until: datetime | None) -> OrderQuery:
        """The same query over another period."""
        return dataclasses.replace(self, since=since, until=until)

    def windows(self, now: datetime, *, cut: bool = True) -> tuple[OrderQuery, ...]:
        """The query cut into windows on stable boundaries, newest first.

        Past days never change their boundaries, so re-running a relative period (``7d``) asks
        the same URLs again and gets 304s; only the window holding ``now`` is fetched anew.
        The windows are: everything before today's local midnight (from the local midnight on or
        before ``since``), today up to the start of the current hour, and the current hour
        onwards (no upper bound while ``until`` is not in the past). Records outside
        ``[since, until)`` must then be dropped with :meth:`contains`. A query with ``created``
        is a single day already and stays one window; ``cut=False`` gives one window over the
        same stable bounds (for a walk of the newest few pages only).
        """
        if self.created is not None:
            return (self,)
        now = now.astimezone(self.tz)
        today = _local_midnight(now, self.tz)
        hour = now.replace(minute=0, second=0, microsecond=0)
        lo = _local_midnight(self.since, self.tz) if self.since is not None else None
        hi: datetime | None
        if self.until is None or self.until >= hour:
            hi = None
        elif self.until > today:
            hi = self.until.astimezone(self.tz).replace(minute=0, second=0, microsecond=0)
            hi = hi if hi == self.until else hi + timedelta(hours=1)
        else:
            day = _local_midnight(self.until, self.tz)
            hi = day if day == self.until else day + timedelta(days=1)
        cuts = sorted({today, hour}) if cut else []
        bounds = [lo] + [c for c in cuts if (lo is None or c > lo) and (hi is None or c < hi)] + [hi]
        parts = [self.between(a, b) for a, b in zip(bounds, bounds[1:], strict=False)]
        return tuple(reversed(parts))

    def contains(self, record: Mapping[str, Any]) -> bool:
        """Whether a listed order's ``created_at`` lies in ``[since, until)`` (records without a
        readable timestamp are kept: the server applied the filter)."""
        if self.since is None and self.until is None:
            return True
        created = parse_timestamp(record.get("created_at"))
        if created is None:
            return True
        return (self.since is None or created >= self.since) and (self.until is None or created < self.until)


def _created(value: Any, *, tz: tzinfo, now: datetime) -> str:
    """``created=``: a date (or date-only text) stays a local date; anything else is a moment."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    return to_moment(value, tz=tz, name="created", now=now).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# Records


def record_id(record: Mapping[str, Any]) -> str | None:
    """The record's identity for de-duplication: ``id_str`` when present (64-bit ids), else ``id``."""
    value = record.get("id_str")
    if value in (None, ""):
        value = record.get("id")
    return None if value is None else str(value)


def quote_segment(value: Any) -> str:
    """A value as one path segment (``/`` and everything unsafe escaped)."""
    return quote(str(value).strip(), safe="")
