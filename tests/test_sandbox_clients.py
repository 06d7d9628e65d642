"""The sandbox as other people's Kounta code expects it (issue 14), over real sockets: single
records under parent paths, bare dates as whole days, write bodies as real clients send them,
people and addresses, the small fields real records carry, and absolute URLs behind a proxy.
(Legacy page numbers: tests/test_sandbox_paging.py.)"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from support_sandbox import api, basic_session

SYD = ZoneInfo("Australia/Sydney")
CAFE, BAR, RESTAURANT = 1201, 1202, 1203


@pytest.fixture(scope="module")
def s(sandbox):
    return basic_session(sandbox)


def walk(session: requests.Session, url: str, params: dict | None = None) -> list[dict]:
    out: list[dict] = []
    r = session.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        out.extend(r.json())
        nxt = r.headers.get("X-Next-Page")
        if not nxt:
            return out
        r = session.get(nxt)


def local_day(order: dict) -> date:
    return datetime.fromisoformat(order["created_at"]).astimezone(SYD).date()


# -- 1. single records under parent paths ---------------------------------------------------------

def test_nested__a_record_under_its_parent_is_served_and_under_another_is_404(sandbox, s):
    order = s.get(api(sandbox, "companies/me/orders.json"), params={"created": "2026-05-27"}).json()[3]
    full = s.get(api(sandbox, f"companies/me/orders/{order['id']}.json")).json()
    cafe_product = next(p for p in walk(s, api(sandbox, f"companies/me/sites/{CAFE}/products.json"))
                        if p["id"] not in {x["id"] for x in walk(s, api(sandbox, f"companies/me/sites/{BAR}/products.json"))})
    bar_only = next(p for p in walk(s, api(sandbox, f"companies/me/sites/{BAR}/products.json"))
                    if p["id"] not in {x["id"] for x in walk(s, api(sandbox, f"companies/me/sites/{CAFE}/products.json"))})
    cafe_category = s.get(api(sandbox, f"companies/me/products/{cafe_product['id']}.json")).json()["categories"][0]["id"]
    other_site = next(x for x in (CAFE, BAR, RESTAURANT) if x != order["site_id"])
    other_register = next(r["id"] for r in s.get(api(sandbox, "companies/me/registers.json")).json()
                          if r["id"] != order["register_id"])
    rec = s.get(api(sandbox, f"companies/me/sites/{CAFE}/reconciliations.json")).json()[0]
    served = [
        (f"sites/{order['site_id']}/orders/{order['id']}", full),
        (f"registers/{order['register_id']}/orders/{order['id']}", full),
        (f"staff/{order['staff_id']}/orders/{order['id']}", full),
        (f"sites/{order['site_id']}/registers/{order['register_id']}/staff/{order['staff_id']}/orders/{order['id']}",
         full),
        (f"sites/{order['site_id']}/orders/saleid/{order['sale_number']}", full),
        (f"sites/{CAFE}/products/{cafe_product['id']}", None),
        (f"sites/{CAFE}/categories/{cafe_category}", None),
        (f"sites/{CAFE}/registers/4101", None),
        (f"sites/{CAFE}/reconciliations/{rec['id']}", rec),
    ]
    for path, expected in served:
        r = s.get(api(sandbox, f"companies/me/{path}.json"))
        assert r.status_code == 200, (path, r.text)
        flat = path.split("/")[-2:] if "saleid" not in path else ["orders", str(order["id"])]
        assert r.json() == (expected or s.get(api(sandbox, f"companies/me/{'/'.join(flat)}.json")).json())
    refused = [
        f"sites/{other_site}/orders/{order['id']}", f"registers/{other_register}/orders/{order['id']}",
        f"sites/{other_site}/orders/saleid/{order['sale_number']}",
        f"sites/{CAFE}/products/{bar_only['id']}", f"sites/{BAR}/registers/4101",
        f"sites/{BAR}/reconciliations/{rec['id']}", f"registers/4101/reconciliations/{rec['id']}",
    ]
    for path in refused:
        r = s.get(api(sandbox, f"companies/me/{path}.json"))
        assert r.status_code == 404, path
        assert r.json() == {"error": "not_found", "error_description": "No such resource under that path."}


def test_nested__customer_orders_by_id(sandbox, s):
    mine = walk(s, api(sandbox, "companies/me/customers/5100003/orders.json"))
    assert mine
    r = s.get(api(sandbox, f"companies/me/customers/5100003/orders/{mine[0]['id']}.json"))
    assert r.status_code == 200 and r.json()["customer_id"] == 5100003
    stranger = s.get(api(sandbox, "companies/me/orders.json"), params={"created": "2026-05-27"}).json()
    theirs = next(o for o in stranger if o["customer_id"] != 5100003)
    assert s.get(api(sandbox, f"companies/me/customers/5100003/orders/{theirs['id']}.json")).status_code == 404


def test_nested__writes_under_a_parent_path(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    order = s.get(api(fresh_sandbox, f"companies/me/sites/{BAR}/orders/complete.json")).json()[0]
    r = s.put(api(fresh_sandbox, f"companies/me/sites/{BAR}/orders/{order['id']}.json"), json={"notes": "nested"})
    assert r.status_code == 200 and r.json()["notes"] == "nested"
    assert s.put(api(fresh_sandbox, f"companies/me/sites/{CAFE}/orders/{order['id']}.json"),
                 json={"notes": "x"}).status_code == 404


# -- 2. bare dates compare as whole local days ----------------------------------------------------

def test_dates__a_bare_date_range_covers_whole_days(sandbox, s):
    url = api(sandbox, "companies/me/orders.json")
    days = [walk(s, url, {"created": f"2026-05-{d}"}) for d in (25, 26, 27)]
    assert all(days)
    three = walk(s, url, {"created_gte": "2026-05-25", "created_lte": "2026-05-27"})
    assert [o["id"] for o in three] == [o["id"] for day in reversed(days) for o in day]
    same_day = walk(s, url, {"created_gte": "2026-05-26", "created_lte": "2026-05-26"})
    assert same_day == days[1]
    assert walk(s, url, {"created_gt": "2026-05-25", "created_lt": "2026-05-27"}) == days[1]
    assert walk(s, url, {"created_gte": "2026-05-26", "created_lt": "2026-05-27"}) == days[1]
    assert walk(s, url, {"created_gt": "2026-05-26", "created_lte": "2026-05-27"}) == days[2]


def test_dates__datetimes_still_compare_as_instants(sandbox, s):
    url = api(sandbox, "companies/me/orders.json")
    day = walk(s, url, {"created": "2026-05-26"})
    pivot = day[len(day) // 2]["created_at"]
    upto = walk(s, url, {"created_gte": "2026-05-26T00:00:00+10:00", "created_lte": pivot})
    assert upto[0]["created_at"] == pivot and all(o["created_at"] <= pivot for o in upto)
    before = walk(s, url, {"created_gte": "2026-05-26T00:00:00+10:00", "created_lt": pivot})
    assert all(o["created_at"] < pivot for o in before) and len(before) < len(upto)
    after = walk(s, url, {"created_gt": pivot, "created_lt": "2026-05-27T00:00:00+10:00"})
    assert len(after) + len(upto) == len(day)


def test_dates__our_client_sends_datetimes_and_gets_the_same_days(sandbox, s):
    from kounta_nb.client import Kounta

    k = Kounta.sandbox(handle=sandbox, cache=False, rate_limit=100_000)
    try:
        sent = []
        original = k.transport.request

        def spy(method, url, params=None, **kw):
            sent.append(dict(params or {}))
            return original(method, url, params=params, **kw)

        k.transport.request = spy  # type: ignore[method-assign]
        got = k.orders(since=date(2026, 5, 25), until=date(2026, 5, 27))
    finally:
        k.close()
    bare = walk(s, api(sandbox, "companies/me/orders.json"), {"created_gte": "2026-05-25", "created_lte": "2026-05-27"})
    assert [o["id"] for o in got] == [o["id"] for o in bare]
    first = sent[0]
    assert first["created_gte"] == "2026-05-25T00:00:00+10:00" and first["created_lt"] == "2026-05-28T00:00:00+10:00"
    assert {local_day(o) for o in got} == {date(2026, 5, 25), date(2026, 5, 26), date(2026, 5, 27)}


# -- 4. write bodies as real clients send them ----------------------------------------------------

def _a_product(s: requests.Session, handle, site: int) -> dict:
    return next(p for p in walk(s, api(handle, f"companies/me/sites/{site}/products.json")) if not p["is_modifier"])


def test_writes__an_order_with_a_register_and_no_site(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    product = _a_product(s, fresh_sandbox, BAR)
    r = s.post(api(fresh_sandbox, "companies/me/orders.json"),
               json={"register_id": 4104, "lines": [{"product_id": product["id"], "quantity": 1}]})
    assert r.status_code == 201
    order = s.get(r.headers["Location"]).json()
    assert order["site_id"] == BAR and order["register_id"] == 4104
    under_site = s.post(api(fresh_sandbox, f"companies/me/sites/{BAR}/orders.json"),
                        json={"lines": [{"product_id": product["id"], "quantity": 2}]})
    assert under_site.status_code == 201 and s.get(under_site.headers["Location"]).json()["site_id"] == BAR
    clash = s.post(api(fresh_sandbox, "companies/me/orders.json"), json={"register_id": 4104, "site_id": CAFE})
    assert clash.status_code == 400 and "not at site" in clash.json()["error_description"]
    assert s.post(api(fresh_sandbox, "companies/me/orders.json"), json={"notes": "x"}).status_code == 400
    fresh_sandbox.set_options(strict_writes=True)
    strict = s.post(api(fresh_sandbox, "companies/me/orders.json"), json={"register_id": 4104})
    assert strict.status_code == 400 and "site_id" in strict.json()["error_description"]


def test_writes__a_payment_repeating_its_order_id(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    order = s.get(api(fresh_sandbox, "companies/me/orders/complete.json")).json()[0]
    url = api(fresh_sandbox, f"companies/me/orders/{order['id']}/payments.json")
    ok = s.post(url, json={"order_id": order["id"], "method_id": 611, "amount": -0.5})
    assert ok.status_code == 201
    as_text = s.post(url, json={"order_id": order["id_str"], "method_id": 611, "amount": -0.5})
    assert as_text.status_code == 201
    other = s.post(url, json={"order_id": order["id"] + 64, "method_id": 611, "amount": -0.5})
    assert other.status_code == 400 and "order_id" in other.json()["error_description"]
    fresh_sandbox.set_options(strict_writes=True)
    assert s.post(url, json={"order_id": order["id"], "method_id": 611, "amount": -0.5}).status_code == 400


def test_writes__the_whole_order_sent_back(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    item = next(o for o in s.get(api(fresh_sandbox, "companies/me/orders/complete.json"),
                                 params={"created": "2026-05-27"}).json() if o["customer_id"])
    url = api(fresh_sandbox, f"companies/me/orders/{item['id']}.json")
    before = s.get(url).json()
    assert len(before["lines"]) >= 1
    # 1. sent back untouched: nothing but updated_at changes
    same = s.put(url, json=before)
    assert same.status_code == 200
    assert {k: v for k, v in same.json().items() if k != "updated_at"} == \
        {k: v for k, v in before.items() if k != "updated_at"}
    # 2. writable fields changed, read-only ones stale or wrong: applied / ignored
    body = s.get(url).json()
    body["notes"] = "Whole record"
    body["lines"][0]["notes"] = "no foam"
    body["lines"][0]["quantity"] += 1
    body.update(total=1.0, paid=2.0, total_tax=0.0, customer={"id": 1, "first_name": "Nobody"})
    r = s.put(url, json=body)
    assert r.status_code == 200, r.text
    after = r.json()
    line, old = after["lines"][0], before["lines"][0]
    assert after["notes"] == "Whole record" and line["notes"] == "no foam"
    assert line["quantity"] == old["quantity"] + 1 and line["id"] == old["id"]
    assert line["unit_price"] == old["unit_price"]  # the price of the day of sale, not today's
    assert after["lines"][1:] == before["lines"][1:] and after["options"] == before["options"]
    assert after["total"] == round(sum(x["line_total_ex_tax"] + x["line_total_tax"] for x in after["lines"]), 2)
    assert after["total"] > before["total"] and after["paid"] == before["paid"]
    assert after["customer"] == before["customer"]
    # 3. genuinely invalid values are still refused
    for change, needle in ((lambda b: b["lines"][0].update(quantity=-1), "quantity"),
                           (lambda b: b.update(status="DONE"), "status"),
                           (lambda b: b.update(id=b["id"] + 64), "id"),
                           (lambda b: b.update(site_id=BAR if b["site_id"] != BAR else CAFE), "site"),
                           (lambda b: b["payments"].append({"method_id": 611, "amount": 1.0}), "payments"),
                           (lambda b: b.update(colour="red"), "colour"),
                           (lambda b: b["lines"][0].update(product_id=1), "product_id")):
        bad = s.get(url).json()
        change(bad)
        refused = s.put(url, json=bad)
        assert refused.status_code == 400 and needle in refused.json()["error_description"], needle
    # 4. the old behaviour on demand
    fresh_sandbox.set_options(strict_writes=True)
    assert s.put(url, json=s.get(url).json()).status_code == 400
    assert s.put(url, json={"notes": "partial still fine"}).status_code == 200


def test_writes__whole_small_records_sent_back(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    for path, field, value in (("customers/5100004", "last_name", "Sent-Back"), (f"sites/{CAFE}", "phone", "(02) 1"),
                               ("categories/8201", "description", "Hot"), ("webhooks/537", "address",
                                                                           "https://hooks.example.com/v2")):
        url = api(fresh_sandbox, f"companies/me/{path}.json")
        body = s.get(url).json()
        body[field] = value
        r = s.put(url, json=body)
        assert r.status_code == 200, (path, r.text)
        assert r.json()[field] == value and r.json()["id"] == body["id"]
        assert s.put(url, json={**body, "id": body["id"] + 1}).status_code == 400
        assert s.put(url, json={**body, "nonsense": 1}).status_code == 400
    customer = api(fresh_sandbox, "companies/me/customers/5100004.json")
    assert s.put(customer, json={**s.get(customer).json(), "first_name": ""}).status_code == 400


# -- 5. people, addresses and the small fields ----------------------------------------------------

def test_people__customers_and_staff_as_people(sandbox, s):
    people = walk(s, api(sandbox, "companies/me/people.json"))
    staff = walk(s, api(sandbox, "companies/me/staff.json"))
    customers = walk(s, api(sandbox, "companies/me/customers.json"))
    assert len(people) == len(staff) + len(customers)
    assert set(people[0]) == {"id", "first_name", "last_name", "customer_id", "staff_id", "primary_email_address",
                              "image"}
    ids = [p["id"] for p in people]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    customer = s.get(api(sandbox, "companies/me/customers/5100002.json")).json()
    person = s.get(api(sandbox, f"companies/me/people/{customer['people_id']}.json")).json()
    assert person["customer_id"] == customer["id"] and person["staff_id"] is None
    assert person["first_name"] == customer["first_name"] and person["email_addresses"] == customer["email_addresses"]
    assert {"label": "Mobile", "number": customer["mobile"]} in person["phone_numbers"]
    member = next(p for p in people if p["staff_id"])
    detail = s.get(api(sandbox, f"companies/me/people/{member['id']}.json")).json()
    assert detail["customer_id"] is None and detail["staff_id"] == member["staff_id"]
    assert s.get(api(sandbox, "companies/me/people/1.json")).status_code == 404


def test_addresses__of_customers_sites_and_the_company(sandbox, s):
    customers = [s.get(api(sandbox, f"companies/me/customers/{c['id']}.json")).json()
                 for c in s.get(api(sandbox, "companies/me/customers.json")).json()]
    with_address = next(c for c in customers if c["shipping_address"])
    without = next(c for c in customers if not c["shipping_address"])
    listed = s.get(api(sandbox, f"companies/me/customers/{with_address['id']}/addresses.json")).json()
    assert listed == [{"id": with_address["shipping_address"]["id"], "people_id": with_address["people_id"],
                       **{k: v for k, v in with_address["shipping_address"].items() if k != "id"}}]
    assert with_address["addresses"]["count"] == 1
    assert set(listed[0]) == {"id", "people_id", "lines", "city", "zone", "postal_code", "country"}
    one = s.get(api(sandbox, f"companies/me/customers/{with_address['id']}/addresses/{listed[0]['id']}.json"))
    assert one.status_code == 200 and one.json() == listed[0]
    assert s.get(api(sandbox, f"companies/me/customers/{without['id']}/addresses.json")).json() == []
    assert s.get(api(sandbox, f"companies/me/customers/{without['id']}/addresses/{listed[0]['id']}.json")
                 ).status_code == 404
    site = s.get(api(sandbox, f"companies/me/sites/{CAFE}.json")).json()
    assert s.get(api(sandbox, f"companies/me/sites/{CAFE}/addresses.json")).json() == [site["shipping_address"]]
    company = s.get(api(sandbox, "companies/me.json")).json()
    assert s.get(api(sandbox, "companies/me/addresses.json")).json() == [company["postal_address"]]


def test_fields__site_company_register_site_customer_people(sandbox, s):
    company = s.get(api(sandbox, "companies/me.json")).json()
    assert s.get(api(sandbox, f"companies/me/sites/{CAFE}.json")).json()["company_id"] == company["id"]
    register = s.get(api(sandbox, "companies/me/registers/4103.json")).json()
    assert register["site_id"] == register["site"]["id"] == BAR
    customer = s.get(api(sandbox, "companies/me/customers/5100001.json")).json()
    assert isinstance(customer["people_id"], int)


# -- 6. absolute URLs behind a proxy --------------------------------------------------------------

def test_proxy__absolute_urls_follow_the_forwarded_scheme_and_host(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    host = urlsplit(fresh_sandbox.url).netloc
    orders = api(fresh_sandbox, "companies/me/orders.json")
    plain = s.get(orders).headers["X-Next-Page"]
    assert plain.startswith(f"http://{host}/v1/")
    tls = s.get(orders, headers={"X-Forwarded-Proto": "https"}).headers["X-Next-Page"]
    assert tls.startswith(f"https://{host}/v1/companies/me/orders.json?")
    rfc = s.get(orders, headers={"Forwarded": "for=10.0.0.9;proto=https;host=hub.example.org"})
    assert rfc.headers["X-Next-Page"].startswith("https://hub.example.org/v1/")
    prefixed = s.get(orders, headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example.org",
                                      "X-Forwarded-Prefix": "/user/ada/proxy/8765"})
    assert prefixed.headers["X-Next-Page"].startswith("https://hub.example.org/user/ada/proxy/8765/v1/")
    # only the nearest proxy's value counts (the last one), and junk is ignored
    hops = s.get(orders, headers={"X-Forwarded-Proto": "https, http"}).headers["X-Next-Page"]
    assert hops.startswith("http://")
    for junk in ({"X-Forwarded-Proto": "javascript"}, {"X-Forwarded-Host": "evil.example/@x"},
                 {"X-Forwarded-Host": "user@evil.example"}, {"X-Forwarded-Prefix": "//evil.example"}):
        assert s.get(orders, headers=junk).headers["X-Next-Page"].startswith(f"http://{host}/v1/"), junk
    created = s.post(api(fresh_sandbox, "companies/me/categories.json"), json={"name": "Proxied"},
                     headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example.org"})
    assert created.headers["Location"].startswith("https://hub.example.org/v1/companies/")
    fresh_sandbox.set_options(me_redirect=True)
    me = s.get(api(fresh_sandbox, "companies/me.json"), allow_redirects=False,
               headers={"X-Forwarded-Proto": "https", "X-Forwarded-Port": "8443"})
    assert me.status_code == 302 and me.headers["Location"] == f"https://{host.split(':')[0]}:8443/v1/companies/51642.json"


def test_proxy__consent_flow_and_control_endpoints(fresh_sandbox):
    behind = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example.org", "X-Forwarded-Prefix": "/p"}
    done = "https://hub.example.org/p/oauth/done"
    params = {"response_type": "code", "client_id": fresh_sandbox.client_id, "redirect_uri": done, "state": "s1"}
    r = requests.post(fresh_sandbox.authorize_url, allow_redirects=False, headers=behind,
                      data={**params, "email": fresh_sandbox.username, "password": fresh_sandbox.password,
                            "company_id": "51642", "decision": "grant"})
    assert r.status_code == 302 and r.headers["Location"].startswith(done + "?code=")
    # without the proxy's headers that https URI is not this server's page: refused
    direct = requests.get(fresh_sandbox.authorize_url, params=params)
    assert direct.status_code == 400
    assert requests.get(fresh_sandbox.url + "/_sandbox/info", headers=behind).status_code == 403
    info = requests.get(fresh_sandbox.url + "/_sandbox/info").json()
    assert info["api_base"] == fresh_sandbox.api_base


def test_never_crash__odd_requests_get_proper_answers(sandbox, s):
    odd = ["companies/me/orders.json?created=%00", "companies/me/orders.json?start=" + "9" * 30,
           "companies/me/orders.json?value=nan", "companies/me/orders.json?value=inf",
           "companies/me/shifts/2026-99-99.json", "companies/me/reconciliations/x/y/z.json",
           "companies/me/sites/" + "1" * 40 + ".json", "companies/me/people/abc.json",
           "companies/me/customers/5100001/addresses/xyz.json", "companies/me/orders/saleid/.json",
           "companies/me/orders.json?created_lte=2026-05-01T25:00:00"]
    for path in odd:
        r = s.get(api(sandbox, path))
        assert r.status_code in (400, 404), (path, r.status_code)
        assert set(r.json()) == {"error", "error_description"}
    for headers in ({"X-Page": "1e9"}, {"X-Page": "99999999999999999999"}, {"If-None-Match": "\x7f"}):
        r = s.get(api(sandbox, "companies/me/orders.json"), headers=headers)
        assert r.status_code in (200, 400), headers
    weird = s.put(api(sandbox, "companies/me/orders/1.json"), data=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert weird.status_code in (400, 404)


def test_never_crash__far_dates_huge_numbers_deep_bodies(fresh_sandbox):
    s = basic_session(fresh_sandbox)
    orders = api(fresh_sandbox, "companies/me/orders.json")
    everything = s.get(orders, params={"created_lte": "9999-12-31"})
    assert everything.status_code == 200 and everything.json() == s.get(orders).json()
    assert s.get(orders, params={"created_gt": "9999-12-31"}).json() == []
    assert s.get(orders, params={"created": "0001-01-01"}).json() == []
    assert s.get(orders, params={"created_lte": "9999-12-31T23:59:59-23:00"}).status_code == 200
    assert s.get(api(fresh_sandbox, "companies/me/reconciliations/9999-12-31.json")).json() == []
    assert s.get(api(fresh_sandbox, "companies/me/reconciliations/since/0001-01-01.json")).status_code == 200
    json_type = {"Content-Type": "application/json"}
    deep = s.put(api(fresh_sandbox, "companies/me/customers/5100001.json"), data=b"[" * 100_000, headers=json_type)
    assert deep.status_code == 400 and "JSON" in deep.json()["error_description"]
    huge = s.post(orders, json={"site_id": CAFE, "lines": [{"product_id": _a_product(s, fresh_sandbox, CAFE)["id"],
                                                            "quantity": 1e308}]})
    assert huge.status_code == 400 and "at most" in huge.json()["error_description"]
    for body in ({"first_name": "A", "mobile": "1", "tags": 5}, {"first_name": ["A"], "mobile": "1"},
                 {"first_name": "A", "email_addresses": "a@b.c"}):
        r = s.post(api(fresh_sandbox, "companies/me/customers.json"), json=body)
        assert r.status_code == 400 and "must be" in r.json()["error_description"], body
    assert s.put(api(fresh_sandbox, f"companies/me/sites/{CAFE}.json"), json={"phone": 5}).status_code == 400
    assert s.post(api(fresh_sandbox, "companies/me/categories.json"), json={"name": "X", "show_online": "yes"}
                  ).status_code == 400
    assert "500" not in fresh_sandbox.stats()["by_status"]
