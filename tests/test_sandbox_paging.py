"""Legacy page numbers (``X-Page`` / ``X-Pages``) in the three ``legacy_pages`` modes, over real
sockets, checked against the ``X-Next-Page`` walk of the same query (docs/api.md §3)."""

from __future__ import annotations

import pytest
import requests
from support_sandbox import api, basic_session

PAGE = 25


@pytest.fixture(scope="module")
def modes():
    """One sandbox per ``legacy_pages`` mode (read-only here)."""
    from support_sandbox import SANDBOX_OPTIONS

    from kounta_nb.sandbox.server import start_sandbox

    handles = {mode: start_sandbox(**SANDBOX_OPTIONS, legacy_pages=mode) for mode in ("asked", "always", "never")}
    yield handles
    for handle in handles.values():
        handle.stop()


def cursor_walk(session: requests.Session, url: str, params: dict | None = None) -> list[dict]:
    out: list[dict] = []
    r = session.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        out.extend(r.json())
        nxt = r.headers.get("X-Next-Page")
        if not nxt:
            return out
        r = session.get(nxt)


def legacy_walk(session: requests.Session, url: str, params: dict | None = None) -> tuple[list[dict], int]:
    """An older client: read X-Pages from the first page (asked for *without* X-Page), then ask
    for pages 1..n with ``X-Page: n`` until one comes back empty."""
    first = session.get(url, params=params)
    assert first.status_code == 200, first.text
    pages = int(first.headers["X-Pages"])
    out = list(first.json())
    for n in range(1, pages + 1):
        r = session.get(url, params=params, headers={"X-Page": str(n)})
        assert r.status_code == 200 and "X-Next-Page" not in r.headers
        assert int(r.headers["X-Pages"]) == pages
        if not r.json():
            break
        out.extend(r.json())
    return out, pages


QUERIES = [
    ("companies/me/orders.json", {"created_gte": "2026-05-26"}),
    ("companies/me/orders/complete.json", {"created_gte": "2026-05-20", "created_lt": "2026-05-23"}),
    ("companies/me/sites/1202/orders.json", {"created": "2026-05-23", "value_gte": "30"}),
    ("companies/me/registers/4101/orders/complete.json", {"created_gte": "2026-05-27"}),
    ("companies/me/staff/91003/orders.json", {}),
    ("companies/me/customers/5100001/orders.json", {}),
    ("companies/me/orders/pending.json", {}),
    ("companies/me/customers.json", {}),
    ("companies/me/products.json", {}),
    ("companies/me/shifts/since/2026-05-20.json", {}),
    ("companies/me/reconciliations.json", {}),
    ("companies/me/taxes.json", {}),
]


@pytest.mark.parametrize("path,params", QUERIES)
def test_legacy__always_a_legacy_client_gets_what_the_cursor_walk_gets(modes, path, params):
    handle = modes["always"]
    s = basic_session(handle)
    walked = cursor_walk(s, api(handle, path), params)
    legacy, pages = legacy_walk(s, api(handle, path), params)
    assert [x.get("id", x.get("started_at")) for x in legacy] == [x.get("id", x.get("started_at")) for x in walked]
    assert legacy == walked
    assert pages == max(1, -(-len(walked) // PAGE))


def test_legacy__always_sends_the_total_on_every_cursor_page(modes):
    handle = modes["always"]
    s = basic_session(handle)
    url = api(handle, "companies/me/orders.json")
    r = s.get(url, params={"created_gte": "2026-05-27"})
    total = int(r.headers["X-Pages"])
    assert total > 3 and "X-Next-Page" in r.headers
    second = s.get(r.headers["X-Next-Page"])
    assert int(second.headers["X-Pages"]) == total  # pages of the query, not of what is left
    assert s.get(api(handle, "companies/me.json")).headers.get("X-Pages") is None  # records: no total


def test_legacy__asked_sends_x_pages_only_with_x_page(modes):
    handle = modes["asked"]
    s = basic_session(handle)
    url = api(handle, "companies/me/orders.json")
    plain = s.get(url, params={"created_gte": "2026-05-27"})
    assert "X-Pages" not in plain.headers and "X-Next-Page" in plain.headers
    asked = s.get(url, params={"created_gte": "2026-05-27"}, headers={"X-Page": "0"})
    assert int(asked.headers["X-Pages"]) == -(-len(cursor_walk(s, url, {"created_gte": "2026-05-27"})) // PAGE)
    assert asked.json() == plain.json()
    # the legacy client of the issue stops after one page here: that is what "asked" means
    assert len(plain.json()) == PAGE


def test_legacy__never_ignores_x_page(modes):
    handle = modes["never"]
    s = basic_session(handle)
    url = api(handle, "companies/me/customers.json")
    first = s.get(url)
    third = s.get(url, headers={"X-Page": "2"})
    assert "X-Pages" not in first.headers and "X-Pages" not in third.headers
    assert third.json() == first.json() and "X-Next-Page" in third.headers
    assert s.get(url, headers={"X-Page": "nonsense"}).status_code == 200


def test_legacy__page_past_the_end_is_empty_and_bad_numbers_are_400(modes):
    handle = modes["asked"]
    s = basic_session(handle)
    url = api(handle, "companies/me/taxes.json")
    r = s.get(url, headers={"X-Page": "7"})
    assert r.status_code == 200 and r.json() == [] and r.headers["X-Pages"] == "1"
    assert s.get(url, headers={"X-Page": "-1"}).json() == []
    bad = s.get(url, headers={"X-Page": "two"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"


def test_legacy__counts_follow_writes(sandbox_factory):
    handle = sandbox_factory(legacy_pages="always")
    s = basic_session(handle)
    url = api(handle, "companies/me/sites/1201/orders.json")
    params = {"created": "2026-05-29"}
    before = cursor_walk(s, url, params)
    product = next(p for p in cursor_walk(s, api(handle, "companies/me/sites/1201/products.json"))
                   if not p["is_modifier"])
    for i in range(PAGE - len(before) % PAGE + 1):  # enough new orders to need one more page
        r = s.post(api(handle, "companies/me/orders.json"),
                   json={"site_id": 1201, "lines": [{"product_id": product["id"], "quantity": 1}], "notes": f"n{i}"})
        assert r.status_code == 201
    after, pages = legacy_walk(s, url, params)
    assert len(after) > len(before) and pages == -(-len(after) // PAGE)
    assert after == cursor_walk(s, url, params)


def test_legacy__option_values(sandbox_factory):
    from kounta_nb.sandbox.app import SandboxOptions

    assert SandboxOptions(legacy_pages=True).legacy_pages == "always"
    assert SandboxOptions(legacy_pages=False).legacy_pages == "asked"
    assert SandboxOptions().legacy_pages == "asked"
    with pytest.raises(ValueError, match="legacy_pages"):
        SandboxOptions(legacy_pages="sometimes")
    handle = sandbox_factory()
    handle.set_options(legacy_pages="always")
    assert "X-Pages" in basic_session(handle).get(api(handle, "companies/me/taxes.json")).headers


def test_legacy__cli_flag_alone_means_always():
    from kounta_nb.sandbox.__main__ import build_parser

    parser = build_parser()
    assert parser.parse_args([]).legacy_pages == "asked"
    assert parser.parse_args(["--legacy-pages"]).legacy_pages == "always"
    assert parser.parse_args(["--legacy-pages", "never"]).legacy_pages == "never"
