"""Every read and write of the client against the real sandbox (real sockets, OAuth login)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kounta_nb import settings
from kounta_nb.client import Kounta, RecordList
from kounta_nb.errors import KountaWarning, NotFoundError

FAST = {"rate_limit": 100_000, "backoff_base": 0.01}


@pytest.fixture
def k(sandbox) -> Kounta:
    return Kounta.sandbox(handle=sandbox, cache=False, **FAST)


def list_reads(k: Kounta) -> dict[str, Callable[[], Any]]:
    site = k.sites()[0]
    return {
        "registers": k.registers,
        "site_registers": lambda: k.registers(site["code"]),
        "products": k.products,
        "site_products": lambda: k.products(site["name"]),
        "categories": k.categories,
        "inventory": lambda: k.inventory(site["id"]),
        "customers": k.customers,
        "staff": k.staff,
        "shifts_on": lambda: k.shifts(date="2026-05-28"),
        "shifts_since_site": lambda: k.shifts(since="2026-05-27", site=site["id"]),
        "taxes": k.taxes,
        "price_lists": k.price_lists,
        "payment_methods": k.payment_methods,
        "reconciliations": lambda: k.reconciliations(since="2026-05-20"),
        "reconciliations_site_day": lambda: k.reconciliations(site=site["id"], date="2026-05-27"),
        "orders_register": lambda: k.orders(register=k.registers()[0]["id"], since="2026-05-28"),
    }


def test_sandbox__every_list_read_returns_records(k):
    for name, read in list_reads(k).items():
        records = read()
        assert isinstance(records, RecordList) and records, name
        assert records.meta["endpoint"] and "stats" in records.meta, name


def test_sandbox__detail_reads(k):
    register = k.registers()[0]
    product = k.products()[0]
    category = k.categories()[0]
    customer = k.customers()[0]
    staff = k.staff()[0]
    tax = k.taxes()[0]
    rec = k.reconciliations(since="2026-05-20")[0]
    order = k.orders(since="2026-05-28", max_pages=1)[0]
    assert k.register(register["id"])["id"] == register["id"]
    assert k.product(product["id"])["id"] == product["id"]
    assert k.category(category["id"])["id"] == category["id"]
    assert all("id" in p for p in k.category_products(category["id"]))
    assert k.customer(customer["id"])["id"] == customer["id"]
    assert k.customer_by_email(customer["primary_email_address"])["id"] == customer["id"]  # via 302
    assert isinstance(k.customer_orders(customer["id"]), RecordList)
    assert k.staff_member(staff["id"])["id"] == staff["id"]
    assert k.staff_member("me")["id"]
    assert k.tax(tax["id"])["id"] == tax["id"]
    assert k.price_list()["id"] is not None
    assert k.reconciliation(rec["id_str"])["id_str"] == rec["id_str"]
    assert k.order(order["id_str"])["lines"]
    assert k.order_by_sale(order["sale_number"])["id_str"] == order["id_str"]
    assert k.site(k.sites()[0]["code"])["id"] == k.sites()[0]["id"]
    assert k.status() and k.me()["id"] == k.company_id
    with pytest.raises(NotFoundError):
        k.customer_by_email("nobody@nowhere.test")


def test_sandbox__writes(fresh_sandbox):
    k = Kounta.sandbox(handle=fresh_sandbox, cache=False, **FAST)
    site = k.sites()[0]
    product = k.products()[0]
    customer = k.create_customer({"first_name": "Ada", "email": "ada@example.test"})
    assert k.update_customer(customer["id"], {"last_name": "Lovelace"})["last_name"] == "Lovelace"
    category = k.create_category({"name": "Specials"})
    assert k.update_category(category["id"], {"name": "Specials 2"})["name"] == "Specials 2"
    hook = k.create_webhook({"topic": "orders/completed", "address": "https://example.test/h", "format": "json"})
    assert k.update_webhook(hook["id"], {"address": "https://example.test/h2"})["address"].endswith("h2")
    k.delete_webhook(hook["id"])
    assert hook["id"] not in {w["id"] for w in k.webhooks()}
    order = k.create_order({"site_id": site["id"], "lines": [{"product_id": product["id"], "quantity": 1}]})
    assert order["notes"].startswith("[kounta_nb:") and order["lines"]
    paid = k.add_payment(order["id_str"], {"method_id": k.payment_methods()[0]["id"], "amount": 5.0})
    assert len(paid["payments"]) == 1
    assert k.update_payment(order["id_str"], 1, {"tip": 1.0})["payments"][0]["tip"] == 1.0
    assert k.update_order(order["id_str"], {"notes": "table 4"})["notes"] == "table 4"
    assert k.update_site(site["id"], {"phone": "0400 000 000"})["phone"] == "0400 000 000"
    rec = k.reconciliations(unprocessed=True)[0]
    assert k.update_reconciliation(rec["id_str"], {"processed": True})["processed"] is True


def test_sandbox__default_cache_is_kept_apart_from_real_accounts(sandbox):
    client = Kounta.sandbox(handle=sandbox, **FAST)
    assert client.transport.cache_path == settings.cache_dir() / settings.SANDBOX_HTTP_CACHE_FILE
    client.close()


@pytest.mark.parametrize("created_body", ["empty", "null"])
def test_sandbox__created_record_is_fetched_from_location(sandbox_factory, created_body):
    handle = sandbox_factory(created_body=created_body)
    k = Kounta.sandbox(handle=handle, cache=False, **FAST)
    created = k.create_customer({"first_name": "Grace", "mobile": "0400 111 222"})
    assert created["first_name"] == "Grace" and k.customer(created["id"])["id"] == created["id"]


# ------------------------------------------------------------------ the sandbox's rate (issue 11 §5)


def test_sandbox__unthrottled_unless_the_sandbox_simulates_limits(sandbox, sandbox_factory, monkeypatch):
    plain = Kounta.sandbox(handle=sandbox, cache=False)
    assert plain.transport.limiter.per_minute == settings.SANDBOX_RATE_LIMIT == 60_000
    assert Kounta.sandbox(handle=sandbox, auth="basic", cache=False).transport.limiter.per_minute == 60_000
    limited = sandbox_factory(rate_limit=True, rate_oauth=180, rate_basic=60, time_scale=10)
    with pytest.warns(KountaWarning, match=r"simulates Kounta's rate limit \(1800 requests/min for a oauth login\)"):
        k = Kounta.sandbox(handle=limited, cache=False)
    assert k.transport.limiter.per_minute == 1800
    with pytest.warns(KountaWarning, match=r"\(600 requests/min for a basic login\)"):
        assert Kounta.sandbox(handle=limited, auth="basic", cache=False).transport.limiter.per_minute == 600
    # an explicit figure wins, and then nothing needs saying
    assert Kounta.sandbox(handle=limited, cache=False, rate_limit=90).transport.limiter.per_minute == 90
    monkeypatch.setenv("KOUNTA_RATE_LIMIT", "120")
    assert Kounta.sandbox(handle=sandbox, cache=False).transport.limiter.per_minute == 120
