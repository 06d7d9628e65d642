"""Contract (issue 10): writes are never duplicated by us, and ambiguity is never hidden.

A fault-injecting proxy between the client and the sandbox (real sockets) lets the server carry a
POST out and then drops the answer, and makes look-ups flaky. The HTTP cache is on throughout:
the look-up after a lost answer must see the server, never a cached copy.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from support_proxy import FaultProxy, flaky
from support_sandbox import SANDBOX_NOW, api, basic_session

from kounta_nb import Kounta
from kounta_nb.errors import TransportError, WriteOutcomeUnknown
from kounta_nb.sandbox.server import SandboxHandle


@pytest.fixture
def proxy(fresh_sandbox: SandboxHandle) -> Iterator[FaultProxy]:
    p = FaultProxy(fresh_sandbox.url)
    yield p
    p.stop()


def client(handle: SandboxHandle, proxy: FaultProxy, tmp_path: Any, **opts: Any) -> Kounta:
    k = Kounta.basic(handle.client_id, handle.client_secret, api_base=proxy.api_base,
                     cache=tmp_path / "http.sqlite", rate_limit=60_000, backoff_base=0.001, **opts)
    k.company_id  # noqa: B018 - verified before any fault is switched on
    return k


def lose(method: str, suffix: str, times: int = 1) -> Any:
    """A rule that carries out the first ``times`` matching requests and loses their answers."""
    left = [times]

    def rule(m: str, path: str) -> str:
        if m == method and path.endswith(suffix) and left[0] > 0:
            left[0] -= 1
            return "lost"
        return "pass"

    return rule


def server_records(handle: SandboxHandle, path: str) -> list[dict[str, Any]]:
    """Every record of a list, straight from the sandbox (no proxy, no client)."""
    session = basic_session(handle)
    url: str | None = api(handle, path)
    out: list[dict[str, Any]] = []
    while url:
        answer = session.get(url)
        answer.raise_for_status()
        out += answer.json()
        url = answer.headers.get("X-Next-Page")
    return out


def server_orders(handle: SandboxHandle, company: int, site: int) -> list[dict[str, Any]]:
    """The site's orders of the sandbox's day, straight from the sandbox (no proxy, no client)."""
    session = basic_session(handle)
    url: str | None = api(handle, f"companies/{company}/sites/{site}/orders")
    params: dict[str, str] | None = {"created_gte": SANDBOX_NOW.date().isoformat()}
    out: list[dict[str, Any]] = []
    while url:
        answer = session.get(url, params=params)
        answer.raise_for_status()
        out += answer.json()
        url, params = answer.headers.get("X-Next-Page"), None
    return out


def test_lost_writes__create_order_never_duplicates_over_sixty_calls(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path, max_retries=3)
    site = k.sites()[0]["id"]
    k.orders(site=site, since="2026-05-29", status="any")  # the cache holds the list pages
    proxy.rule = flaky(11, POST_lost=0.45, POST_drop=0.1, GET_drop=0.3)
    outcomes: dict[str, str] = {}
    for i in range(60):
        key = f"run-{i}"
        body = {"site_id": site, "notes": f"call {i}"}
        try:
            if i % 2:
                k.create_order(body, idempotency_key=key)
            else:
                body["sale_number"] = f"WEB-{i}"
                k.create_order(body)
            outcomes[key] = "created"
        except WriteOutcomeUnknown as exc:
            assert "may or may not" in str(exc) and "\n" not in str(exc)
            outcomes[key] = "unknown"
        except TransportError as exc:
            # created, but reading it back failed — or every attempt failed and the look-ups
            # proved that none landed
            outcomes[key] = "created" if "worked, but reading it back" in str(exc) else "failed"
    assert proxy.actions("lost", "POST") >= 15 and proxy.actions("drop", "GET") >= 10
    found: Counter[str] = Counter()
    for order in server_orders(fresh_sandbox, k.company_id, site):
        notes, sale = str(order.get("notes") or ""), str(order.get("sale_number") or "")
        for i in range(60):
            if f"[kounta_nb:run-{i}]" in notes or sale == f"WEB-{i}":
                found[f"run-{i}"] += 1
    assert max(found.values()) == 1, f"duplicates: {[k for k, n in found.items() if n > 1]}"
    for key, outcome in outcomes.items():
        expected = {"created": {1}, "unknown": {0, 1}, "failed": {0}}[outcome]
        assert found[key] in expected, (key, outcome, found[key])
    assert Counter(outcomes.values())["created"] >= 40


def test_lost_writes__the_look_up_never_reads_the_cache(fresh_sandbox, proxy, tmp_path):
    # Offline mode would answer a failed GET from the cache — where the newest orders page
    # predates the POST. The look-up must not take that copy for the truth (and POST again).
    k = client(fresh_sandbox, proxy, tmp_path, offline=True, max_retries=1)
    site = k.sites()[0]["id"]
    k.get(f"sites/{site}/orders", paged=False)  # the look-up's page, cached before the POST
    posted: list[str] = []

    def rule(method: str, path: str) -> str:
        if method == "POST":
            posted.append(path)
            return "lost"
        return "drop" if posted else "pass"

    proxy.rule = rule
    with pytest.raises(WriteOutcomeUnknown, match="may or may not have worked"):
        k.create_order({"site_id": site, "notes": "table 9"})
    assert len(posted) == 1  # never re-sent on the strength of a cached page
    proxy.rule = lose("POST", "/orders")
    created = k.create_order({"site_id": site, "sale_number": "WEB-NEW"})
    assert created["sale_number"] == "WEB-NEW" and len(posted) == 1
    sale = [o for o in server_orders(fresh_sandbox, k.company_id, site) if o["sale_number"] == "WEB-NEW"]
    assert len(sale) == 1


def test_lost_writes__a_customer_is_found_by_email_not_created_twice(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path)
    proxy.rule = lose("POST", "/customers")
    made = k.create_customer({"first_name": "Ada", "last_name": "Lost", "primary_email_address": "ada@lost.test"})
    assert made["primary_email_address"] == "ada@lost.test"
    same = [c for c in server_records(fresh_sandbox, f"companies/{k.company_id}/customers")
            if c.get("primary_email_address") == "ada@lost.test"]
    assert len(same) == 1 and sum(1 for m, p, _ in proxy.log if m == "POST") == 1


def test_lost_writes__a_customer_with_only_a_mobile_is_an_unknown_outcome(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path)
    proxy.rule = lose("POST", "/customers")
    with pytest.raises(WriteOutcomeUnknown, match="may or may not have worked.*check the customer list") as info:
        k.create_customer({"first_name": "Mo", "mobile": "0400 000 000"})
    assert info.value.method == "POST" and info.value.path.endswith("/customers") and info.value.check
    assert "\n" not in str(info.value)
    assert sum(1 for m, p, _ in proxy.log if m == "POST") == 1  # never re-sent blindly


def test_lost_writes__an_earlier_customer_with_that_email_means_unknown(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path)
    someone = k.customers()[0]
    email = k.customer(someone["id"])["primary_email_address"]
    proxy.rule = lose("POST", "/customers")
    with pytest.raises(WriteOutcomeUnknown, match="customer_by_email"):
        k.create_customer({"first_name": "Twin", "primary_email_address": email})


def test_lost_writes__a_category_is_found_by_name(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path)
    proxy.rule = lose("POST", "/categories")
    made = k.create_category({"name": "Lost & Found"})
    assert made["name"] == "Lost & Found" and made["id"]
    names = [c["name"] for c in k.categories()]
    assert names.count("Lost & Found") == 1


def test_lost_writes__a_payment_is_found_among_the_order_payments(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path)
    site = k.sites()[0]["id"]
    order = k.create_order({"site_id": site, "lines": [{"product_id": k.products()[-1]["id"], "quantity": 1}]})
    method = k.payment_methods()[0]["id"]
    proxy.rule = lose("POST", "/payments")
    paid = k.add_payment(order["id_str"], {"method_id": method, "amount": 1.5})
    assert [p["amount"] for p in paid["payments"]] == [1.5]
    assert [p["amount"] for p in k.order(order["id_str"])["payments"]] == [1.5]
    # the same amount again is a second payment, on purpose
    again = k.add_payment(order["id_str"], {"method_id": method, "amount": 1.5})
    assert [p["amount"] for p in again["payments"]] == [1.5, 1.5]


def test_lost_writes__a_webhook_is_found_in_the_list(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path)
    proxy.rule = lose("POST", "/webhooks")
    hook = k.create_webhook({"topic": "orders/completed", "address": "https://example.test/lost", "format": "json"})
    assert hook["address"] == "https://example.test/lost"
    assert [w["address"] for w in k.webhooks()].count("https://example.test/lost") == 1


def test_lost_writes__updates_are_safe_to_repeat(fresh_sandbox, proxy, tmp_path):
    k = client(fresh_sandbox, proxy, tmp_path)
    customer = k.customers()[0]["id"]
    proxy.rule = lose("PUT", f"/customers/{customer}")
    changed = k.update_customer(customer, {"description": "regular"})  # the transport re-sends the PUT
    assert changed["description"] == "regular"
    assert sum(1 for m, _, _ in proxy.log if m == "PUT") == 2
