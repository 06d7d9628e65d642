"""Every response-shaped real fixture has a sandbox counterpart with at least its fields and types.

For each real-shaped JSON fixture (``FIXTURES_REAL``; docs/api.md §7) we fetch the sandbox's
counterpart and check, recursively, that every field name of the fixture is there with the same
JSON type (int and float both count as number; ``null`` in the fixture matches anything). A
fixture that is a list is checked item by item. The sandbox side is a *pool* of records of that
kind (e.g. every site, dozens of orders), so a field that is legitimately ``null`` on one record
is judged on the records where it has a value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from conftest import FIXTURES_REAL
from support_sandbox import api, basic_session, bearer_session, company_ids, oauth_token

#: Files that are not API responses, or responses of endpoints the API no longer has (docs/api.md §7).
EXEMPT_FILES = {
    "tanda-kounta/line.json": "an order-line request body (product_id, no prices or id)",
    "kounta-python/line.json": "an order-line request body (product_id rather than product{})",
    "tanda-kounta/payment.json": "a payment request body (method_id rather than method{})",
    "kounta-python/payment.json": "a payment request body (method_id, no id)",
    "kounta-python/checkin.json": "a customer check-in request body; no check-in endpoint in §4",
}

#: Single fields whose fixture value is outdated or wrong (checked: the rest of the file).
EXEMPT_FIELDS = {
    ("kounta-python/cashup.json", "register_level_reconciliation"):
        "older cash-up shape; the API now says reconciliation_level",
    ("kountagious/product.json", "unit_price"): 'money as the string "3.0", the fixture author\'s doing',
}

# fixture → sandbox pool. Where a file's shape differs from its name (docs/api.md §7: "list and
# detail shapes are mixed up"), it is compared with the pool its fields actually belong to.
MAPPING = {
    "kounta-python/address.json": "address",
    "kounta-python/adjustments.json": "rec_adjustments",
    "kounta-python/cashup.json": "reconciliation",
    "kounta-python/category.json": "category",
    "kounta-python/company.json": "company",
    "kounta-python/customer.json": "customer_item",
    "kounta-python/income_account.json": "rec_income_account",
    "kounta-python/income_account_amount.json": "rec_amount",
    "kounta-python/inventory.json": "inventory",
    "kounta-python/location.json": "location",
    "kounta-python/order.json": "order_item",
    "kounta-python/payment_method.json": "payment_method",
    "kounta-python/price_list.json": "price_list_item",
    "kounta-python/product.json": "product_item",
    "kounta-python/reconciliation.json": "rec_payment_method",
    "kounta-python/register.json": "register_item",
    "kounta-python/shift.json": "shift",
    "kounta-python/shift_period.json": "break",
    "kounta-python/site.json": "site",
    "kounta-python/staff.json": "staff",
    "kounta-python/takings.json": "rec_takings",
    "kounta-python/tax.json": "tax",
    "kountagious/categories.json": "category_item",
    "kountagious/product.json": "product",
    "kountagious/products.json": "product_item",
    "kountagious/token.json": "token",
    # the "base" fixtures are really the VIP list (parent_id 201, docs/api.md §7): any price list.
    "tanda-kounta/base_price_list.json": "price_list",
    "tanda-kounta/categories.json": "category_item",
    "tanda-kounta/category.json": "category",
    "tanda-kounta/companies_me.json": "company",
    "tanda-kounta/customer.json": "customer",
    "tanda-kounta/customers.json": "customer_item",
    "tanda-kounta/inventory.json": "inventory",
    "tanda-kounta/order.json": "order",
    "tanda-kounta/orders.json": "order",  # list items carrying full lines/payments: detail fields
    # the legacy people endpoints (a person stands for a customer or a staff member)
    "tanda-kounta/people.json": "person_item",
    "tanda-kounta/person.json": "person",
    "tanda-kounta/address.json": "person_address",
    "tanda-kounta/addresses.json": "person_address",
    "tanda-kounta/price_list.json": "price_list",
    "tanda-kounta/price_lists.json": "price_list_item",
    "tanda-kounta/product.json": "product",
    "tanda-kounta/products.json": "product",  # list items carrying detail fields (prices, stock)
    "tanda-kounta/register.json": "register",  # list-item shape served as detail: records carry site_id too
    "tanda-kounta/registers.json": "register_item",
    "tanda-kounta/site.json": "site",  # list-item shape served as detail: records carry company_id too
    "tanda-kounta/sites.json": "site_item",
    "tanda-kounta/tax.json": "tax",
    "tanda-kounta/taxes.json": "tax",
    "tanda-kounta/webhook.json": "webhook",
    "tanda-kounta/webhooks.json": "webhook",
    "tanda-kounta-history/v1_companies_2345_categories.json": "category_item",
    "tanda-kounta-history/v1_companies_2345_price_lists.json": "price_list_item",
    "tanda-kounta-history/v1_companies_2345_price_lists_base.json": "price_list",
    "tanda-kounta-history/v1_companies_2345_products_3274192.json": "product",
    "tanda-kounta-history/v1_companies_2345_products_3274192_categories.json": "product_category_item",
    "tanda-kounta-history/v1_companies_2345_sites.json": "site_item",
    "tanda-kounta-history/v1_companies_2345_sites_985_products.json": "product",  # company_id, tags
}

#: Free-form objects: any keys may appear (the fixture's keys are examples, not a schema).
FREE_FORM = {"headers"}

#: Fields the sandbox serves (so the name is checked) but always as null, and why.
NULL_IN_SANDBOX = {
    "image": "the synthetic business has no pictures",
    "shipping_address": "synthetic staff have no street address on file",
    "postal_address": "synthetic staff have no postal address on file",
    "register": "the sandbox's sites reconcile at site level (reconciliation_level 'site'), so a "
                "reconciliation's register is null; cashup.json is a register-level cash-up",
}


def _all_fixture_files() -> list[str]:
    return sorted(str(p.relative_to(FIXTURES_REAL)) for p in FIXTURES_REAL.rglob("*.json"))


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_errors(fixture: Any, pool: list[Any], where: str, skip: set[str]) -> list[str]:
    """Why ``fixture`` does not fit the sandbox values in ``pool`` (empty when it fits)."""
    if fixture is None:
        return []
    values = [v for v in pool if v is not None]
    if not values:
        if pool and where.rsplit(".", 1)[-1] in NULL_IN_SANDBOX:
            return []
        return [f"{where}: the sandbox never gives a value here (fixture has {_kind(fixture)})"]
    kinds = {_kind(v) for v in values}
    if _kind(fixture) not in kinds:
        return [f"{where}: fixture {_kind(fixture)}, sandbox {'/'.join(sorted(kinds))}"]
    errors: list[str] = []
    if isinstance(fixture, dict):
        if where.rsplit(".", 1)[-1] in FREE_FORM:
            return []
        dicts = [v for v in values if isinstance(v, dict)]
        for key, sub in fixture.items():
            if key in skip:
                continue
            having = [d[key] for d in dicts if key in d]
            if not having:
                errors.append(f"{where}.{key}: missing in the sandbox")
                continue
            errors.extend(shape_errors(sub, having, f"{where}.{key}", set()))
    elif isinstance(fixture, list):
        items = [item for v in values if isinstance(v, list) for item in v]
        for i, sub in enumerate(fixture):
            errors.extend(shape_errors(sub, items, f"{where}[{i}]", set()))
    return errors


class Pools:
    """Sandbox records by kind, fetched once per test session over HTTP."""

    def __init__(self, handle: Any) -> None:
        self.h = handle
        self.s = basic_session(handle)
        self._cache: dict[str, list[Any]] = {}
        self._builders: dict[str, Callable[[], list[Any]]] = {
            name[len("_p_"):]: getattr(self, name) for name in dir(self) if name.startswith("_p_")}

    def get(self, kind: str) -> list[Any]:
        if kind not in self._cache:
            self._cache[kind] = self._builders[kind]()
        return self._cache[kind]

    def _j(self, path: str, session: Any = None) -> Any:
        r = (session or self.s).get(api(self.h, path))
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        return r.json()

    def _details(self, list_path: str, detail: str, limit: int = 40) -> list[dict]:
        return [self._j(f"{detail}/{item['id']}.json") for item in self._j(list_path)[:limit]]

    # pools ---------------------------------------------------------------------------------
    def _p_company(self) -> list[Any]:
        other = bearer_session(oauth_token(self.h, company_ids(self.h)["other"])["access_token"])
        return [self._j("companies/me.json"), self._j("companies/me.json", other)]

    def _p_address(self) -> list[Any]:
        out = []
        for record in self.get("company") + self.get("site"):
            out += [record.get("postal_address"), record.get("shipping_address")]
        return out

    def _p_site(self) -> list[Any]:
        return self._details("companies/me/sites.json", "companies/me/sites")

    def _p_register(self) -> list[Any]:
        return self._details("companies/me/registers.json", "companies/me/registers")

    def _p_person_item(self) -> list[Any]:
        return self._j("companies/me/people.json") + self._j("companies/me/people.json?start=7100001")

    def _p_person(self) -> list[Any]:
        customers = [c for c in self.get("customer") if c.get("shipping_address")]
        people = [self._j(f"companies/me/people/{c['people_id']}.json") for c in customers]
        return people + [self._j(f"companies/me/people/{p['id']}.json") for p in self.get("person_item")[:5]]

    def _p_person_address(self) -> list[Any]:
        out = []
        for c in self.get("customer"):
            out += self._j(f"companies/me/customers/{c['id']}/addresses.json")
        return out

    def _p_site_item(self) -> list[Any]:
        return self._j("companies/me/sites.json")

    def _p_location(self) -> list[Any]:
        return [s.get("location") for s in self.get("site")]

    def _p_register_item(self) -> list[Any]:
        return self._j("companies/me/registers.json")

    def _p_order_item(self) -> list[Any]:
        return self._j("companies/me/orders.json") + self._j("companies/me/orders.json?created=2026-05-23")

    def _p_order(self) -> list[Any]:
        return [self._j(f"companies/me/orders/{o['id']}.json") for o in self.get("order_item")]

    def _p_product_item(self) -> list[Any]:
        return self._j("companies/me/products.json") + self._j("companies/me/products.json?start=310100")

    def _p_product(self) -> list[Any]:
        return [self._j(f"companies/me/products/{p['id']}.json") for p in self.get("product_item")]

    def _p_category_item(self) -> list[Any]:
        return self._j("companies/me/categories.json")

    def _p_category(self) -> list[Any]:
        return self._details("companies/me/categories.json", "companies/me/categories")

    def _p_product_category_item(self) -> list[Any]:
        out = []
        for p in self.get("product")[-10:]:
            out += self._j(f"companies/me/products/{p['id']}/categories.json")
        return out

    def _p_customer_item(self) -> list[Any]:
        return self._j("companies/me/customers.json")

    def _p_customer(self) -> list[Any]:
        return self._details("companies/me/customers.json", "companies/me/customers")

    def _p_staff(self) -> list[Any]:
        return self._details("companies/me/staff.json", "companies/me/staff")

    def _p_tax(self) -> list[Any]:
        return self._j("companies/me/taxes.json")

    def _p_price_list_item(self) -> list[Any]:
        return self._j("companies/me/price_lists.json")

    def _p_price_list(self) -> list[Any]:
        base = self._j("companies/me/price_lists/base.json")
        return [base, *self._details("companies/me/price_lists.json", "companies/me/price_lists")]

    def _p_payment_method(self) -> list[Any]:
        return self._j("companies/me/payment_methods.json")

    def _p_inventory(self) -> list[Any]:
        site = self.get("site_item")[0]["id"]
        return self._j(f"companies/me/sites/{site}/inventory.json")

    def _p_shift(self) -> list[Any]:
        return self._j("companies/me/shifts/2026-05-28.json")

    def _p_break(self) -> list[Any]:
        return [b for shift in self.get("shift") for b in shift["breaks"]]

    def _p_reconciliation(self) -> list[Any]:
        return self._j("companies/me/reconciliations.json")

    def _p_rec_income_account(self) -> list[Any]:
        return [a for r in self.get("reconciliation") for a in r["income_accounts"]]

    def _p_rec_amount(self) -> list[Any]:
        return [x for a in self.get("rec_income_account") for x in a["amounts"]]

    def _p_rec_payment_method(self) -> list[Any]:
        return [x for r in self.get("reconciliation") for x in r["reconciliations"]]

    def _p_rec_takings(self) -> list[Any]:
        return [x["takings"] for x in self.get("rec_payment_method")]

    def _p_rec_adjustments(self) -> list[Any]:
        return [x["adjustments"] for x in self.get("rec_payment_method")]

    def _p_webhook(self) -> list[Any]:
        return self._details("companies/me/webhooks.json", "companies/me/webhooks")

    def _p_token(self) -> list[Any]:
        return [oauth_token(self.h)]


@pytest.fixture(scope="module")
def pools(sandbox):
    return Pools(sandbox)


def test_every_fixture_file_is_mapped_or_exempt():
    files = _all_fixture_files()
    assert len(files) == 63, "the fixture folder holds 63 files (docs/api.md §7)"
    unknown = set(files) - set(MAPPING) - set(EXEMPT_FILES)
    assert not unknown, f"fixture files with no sandbox counterpart: {sorted(unknown)}"
    assert not set(MAPPING) & set(EXEMPT_FILES)
    assert {f for f, _ in EXEMPT_FIELDS} <= set(MAPPING)


@pytest.mark.parametrize("name", sorted(MAPPING))
def test_fixture_shape_is_served_by_the_sandbox(pools, name):
    fixture = json.loads((FIXTURES_REAL / name).read_text("utf-8"))
    pool = pools.get(MAPPING[name])
    skip = {field for f, field in EXEMPT_FIELDS if f == name}
    items = fixture if isinstance(fixture, list) else [fixture]
    errors = []
    for i, item in enumerate(items):
        errors += shape_errors(item, pool, f"{name}[{i}]" if isinstance(fixture, list) else name, skip)
    assert not errors, "\n".join(errors)


def test_shape_check_can_fail():
    assert shape_errors({"a": 1}, [{"a": "x"}], "t", set()) == ["t.a: fixture number, sandbox string"]
    assert shape_errors({"a": [1]}, [{"b": 1}], "t", set()) == ["t.a: missing in the sandbox"]
    assert shape_errors({"a": None, "b": 2.5}, [{"a": [], "b": 3}], "t", set()) == []
    assert shape_errors({"a": "x"}, [{"a": None}], "t", set()) == [
        "t.a: the sandbox never gives a value here (fixture has string)"]
    assert shape_errors({"image": "x"}, [{"image": None}], "t", set()) == []
