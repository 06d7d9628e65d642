"""Kounta: constructors, env fallbacks, sites, dates, reads, writes, create_order safety, secrets."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from support_client import BASIC, FakeKounta
from support_sandbox import company_ids

from kounta_nb.auth import OAuthFlow, TokenStore
from kounta_nb.client import Kounta, RecordList
from kounta_nb.errors import APIError, ConfigError, NotFoundError, TokenExpiredError

FAST = {"rate_limit": 60_000, "backoff_base": 0.01}


@pytest.fixture
def fake() -> Iterator[FakeKounta]:
    server = FakeKounta().start()
    yield server
    server.stop()


@pytest.fixture
def k(fake, tmp_path) -> Kounta:
    return Kounta.basic(*BASIC, api_base=fake.api_base, cache=tmp_path / "c.sqlite", **FAST)


def last_query(fake: FakeKounta) -> dict[str, str]:
    return {key: v[0] for key, v in parse_qs(fake.api_requests()[-1]["query"]).items()}


# ------------------------------------------------------------------ constructors


def test_basic__env_fallback_and_missing_credentials(fake, monkeypatch):
    with pytest.raises(ConfigError, match="KOUNTA_CLIENT_ID"):
        Kounta.basic()
    monkeypatch.setenv("KOUNTA_CLIENT_ID", BASIC[0])
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", BASIC[1])
    monkeypatch.setenv("KOUNTA_API_BASE", fake.api_base)
    client = Kounta.basic(cache=False)
    assert client.company_id == 101 and client.api_base == fake.api_base


def test_from_env__token_first_then_basic_then_error(fake, monkeypatch):
    with pytest.raises(ConfigError, match="KOUNTA_ACCESS_TOKEN"):
        Kounta.from_env()
    monkeypatch.setenv("KOUNTA_API_BASE", fake.api_base)
    monkeypatch.setenv("KOUNTA_CLIENT_ID", BASIC[0])
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", BASIC[1])
    assert Kounta.from_env(cache=False).credentials.kind == "basic"
    access, refresh = fake.issue(202)
    monkeypatch.setenv("KOUNTA_ACCESS_TOKEN", access)
    monkeypatch.setenv("KOUNTA_REFRESH_TOKEN", refresh)
    client = Kounta.from_env(cache=False, token_store=False)
    assert client.credentials.kind == "oauth" and client.company_id == 202
    assert client.credentials.can_refresh()


def test_from_env__rate_limit_variable(fake, monkeypatch):
    monkeypatch.setenv("KOUNTA_RATE_LIMIT", "1800")
    client = Kounta.basic(*BASIC, api_base=fake.api_base, cache=False)
    assert client.transport.limiter.per_minute == 1800
    monkeypatch.setenv("KOUNTA_RATE_LIMIT", "fast")
    with pytest.raises(ConfigError, match="KOUNTA_RATE_LIMIT"):
        Kounta.basic(*BASIC, api_base=fake.api_base, cache=False)


def test_default_rate_limits_follow_the_credentials(fake):
    basic = Kounta.basic(*BASIC, api_base=fake.api_base, cache=False)
    access, _ = fake.issue(101)
    oauth = Kounta.from_token(access, api_base=fake.api_base, cache=False, token_store=False)
    assert (basic.transport.limiter.per_minute, oauth.transport.limiter.per_minute) == (60, 180)
    with pytest.raises(ConfigError):
        Kounta.basic(*BASIC, api_base=fake.api_base, cache=False, rate_limit=-1)


def test_from_token__refresh_token_only_refreshes_first(fake):
    _, refresh = fake.issue(202)
    client = Kounta.from_token(refresh_token=refresh, client_id=BASIC[0], client_secret=BASIC[1],
                               api_base=fake.api_base, cache=False, token_store=False)
    assert client.company_id == 202
    assert [e["path"] for e in fake.log][:1] == ["/v1/token"]
    with pytest.raises(ConfigError):
        Kounta.from_token(refresh_token=refresh, api_base=fake.api_base)
    with pytest.raises(ConfigError, match="No token"):
        Kounta.from_token(api_base=fake.api_base)


def test_oauth_flow_from_flow_saves_and_refreshes_the_token_file(fake, tmp_path):
    flow = Kounta.oauth(BASIC[0], BASIC[1], "http://127.0.0.1:9/cb", api_base=fake.api_base,
                        authorize_url=fake.url + "/authorize")
    assert isinstance(flow, OAuthFlow) and flow.token_url == fake.api_base + "token"
    _, state = flow.authorization_url()
    token = flow.fetch_token(f"http://127.0.0.1:9/cb?code=code-202&state={state}")
    store = TokenStore(tmp_path / "t.json")
    client = Kounta.from_flow(flow, token, token_store=store, cache=False, **FAST)
    assert client.company_id == 202
    assert store.load(fake.api_base, 202).access_token == token.access_token
    assert stat.S_IMODE((tmp_path / "t.json").stat().st_mode) == 0o600
    fake.expire_all()
    client.sites()
    saved = store.load(fake.api_base, 202)
    assert saved.access_token == client.credentials.token.access_token != token.access_token
    again = Kounta.from_store(202, client_id=BASIC[0], client_secret=BASIC[1], token_store=store,
                              api_base=fake.api_base, cache=False)
    assert again.sites() == client.sites()


def test_from_store__nothing_saved(tmp_path):
    with pytest.raises(ConfigError, match="No saved Kounta login"):
        Kounta.from_store(token_store=TokenStore(tmp_path / "none.json"))


def test_bad_options_are_config_errors(fake):
    with pytest.raises(ConfigError, match="not an http"):
        Kounta.basic(*BASIC, api_base="ftp://x/v1/")
    with pytest.raises(ConfigError):
        Kounta.basic(*BASIC, api_base=fake.api_base, token_store="yes")
    with pytest.raises(ConfigError, match="Unknown Kounta option 'cahce'; the options are: api_base"):
        Kounta.basic(*BASIC, api_base=fake.api_base, cahce=False)


# ------------------------------------------------------------------ company, sites, dates


def test_company_and_tz(k):
    assert k.company["name"] == "Harbour Group" and str(k.tz) == "Australia/Sydney"
    assert "SECRET" not in repr(k) and "csecret" not in repr(k)


def test_company_me_redirect_keeps_authorization(fake, tmp_path):
    fake.me_redirect = True
    client = Kounta.basic(*BASIC, api_base=fake.api_base, cache=False)
    assert client.company_id == 101


@pytest.mark.parametrize("given", [11, "11", "HC", "hc", "harbour cafe", " Harbour Cafe "])
def test_resolve_site__id_code_or_name(k, given):
    assert k.resolve_site(given) == 11


def test_resolve_site__unknown_lists_valid_names(k):
    with pytest.raises(ConfigError, match=r"Harbour Cafe \(HC\), Harbour Bar \(HB\)"):
        k.resolve_site("Nowhere")


@pytest.mark.parametrize(("since", "sent", "first"), [
    ("2026-05-01", "2026-05-01T00:00:00+10:00", "2026-05-01T00:00:00+10:00"),
    (date(2026, 5, 1), "2026-05-01T00:00:00+10:00", "2026-05-01T00:00:00+10:00"),
    (datetime(2026, 5, 1, 9, 30), "2026-05-01T00:00:00+10:00", "2026-05-01T09:30:00+10:00"),
    (datetime(2026, 4, 30, 14, 0, tzinfo=UTC), "2026-05-01T00:00:00+10:00", "2026-05-01T00:00:00+10:00"),
    ("2026-05-01T14:00:00Z", "2026-05-02T00:00:00+10:00", "2026-05-02T00:00:00+10:00"),
])
def test_orders__since_is_sent_with_the_company_offset(k, fake, since, sent, first):
    # The API is asked from the local midnight on or before `since` (a URL that stays the same
    # all day, so re-runs are 304s); the exact moment is applied to the records here.
    records = k.orders(since=since)
    assert last_query(fake)["created_gte"] == sent
    oldest = min(datetime.fromisoformat(r["created_at"]) for r in records)
    assert oldest >= datetime.fromisoformat(first)
    everything = [r for r in fake.orders[101] if datetime.fromisoformat(r["created_at"]) >= datetime.fromisoformat(first)]
    assert len(records) == len(everything)


def test_orders__relative_dates_as_in_the_magics(k, fake):
    before = datetime.now(k.tz)
    records = k.orders(since="30d", until="today")
    query = last_query(fake)
    since = datetime.fromisoformat(query["created_gte"])
    assert since.utcoffset() is not None and (since.hour, since.minute) == (0, 0)  # local midnight
    assert since.date() == (before - timedelta(days=30)).date()
    assert datetime.fromisoformat(query["created_lt"]) >= since
    assert records.meta["filters"]["since"] == "30d"
    with pytest.raises(ConfigError, match="^since: Cannot read 'last tuesday' as a date"):
        k.orders(since="last tuesday")


def test_orders__date_only_until_includes_that_day(k, fake):
    records = k.orders(since="2026-05-01", until="2026-05-01", status="complete", site="Harbour Cafe")
    query = last_query(fake)
    assert query["created_lt"] == "2026-05-02T00:00:00+10:00"
    assert fake.api_requests()[-1]["path"] == "/v1/companies/101/sites/11/orders/complete"
    assert records and all(r["status"] == "COMPLETE" and r["site_id"] == 11 for r in records)
    assert all(r["created_at"].startswith("2026-05-01") for r in records)


@pytest.mark.parametrize("bad", [{"since": "last tuesday"}, {"since": 5}, {"status": "done"},
                                 {"register": "x"}, {"value_gt": "ten"}, {"site": "Nowhere"}])
def test_orders__bad_filters_are_config_errors(k, bad):
    with pytest.raises(ConfigError):
        k.orders(**bad)


def _open_windows(k: Kounta) -> int:
    """The windows after the past days (see ``OrderQuery.windows``): today so far and the current
    hour — one window, not two, in the first hour of a local day (CI met it at 00:0x in Sydney)."""
    now = datetime.now(k.tz)
    return len({now.replace(hour=0, minute=0, second=0, microsecond=0),
                now.replace(minute=0, second=0, microsecond=0)})


def test_orders__record_list_meta_and_value_filters(k, fake):
    k.company_id  # noqa: B018 - so the stats below count only the list pages
    count = len(fake.api_requests())
    records = k.orders(value_gte=10, status="COMPLETE")
    assert isinstance(records, RecordList) and len(records) > 25
    assert set(records.meta) >= {"endpoint", "filters", "fetched_at", "stats", "stale"}
    assert records.meta["endpoint"] == "orders" and records.meta["filters"]["status"] == "COMPLETE"
    assert records.meta["stale"] is False and "stale_since" not in records.meta
    # two pages of May, and one (empty) page each for today and the current hour: the windows
    pages = fake.api_requests()[count:]
    assert records.meta["stats"]["requests"] == len(pages) == 2 + _open_windows(k)
    assert all("value_gte=10" in r["query"] and r["path"].endswith("/orders/complete") for r in pages)


def test_iter_orders__streams_page_by_page(k, fake):
    k.company_id  # noqa: B018 - resolve the company first
    count = len(fake.api_requests())
    stream = k.iter_orders()
    next(stream)
    # the current hour and today are empty (one request each), then the first page of the past
    opened = _open_windows(k)
    assert len(fake.api_requests()) == count + opened + 1
    assert 1 + sum(1 for _ in stream) == 60
    assert len(fake.api_requests()) == count + opened + 3  # the two other pages of the past


def test_get__records_lists_and_paths(k):
    assert k.get("companies/me")["id"] == 101
    order = k.get(f"orders/{2**60 + 101 * 100_000 + 1}")
    assert isinstance(order, dict) and order["lines"]
    assert len(k.get("orders")) == 60
    assert len(k.get("orders", paged=False)) == 25
    assert len(k.get("/v1/companies/101/sites")) == 2
    with pytest.raises(APIError, match="not a list"):
        k.get("companies/me", paged=True)


def test_order_errors(k, fake):
    with pytest.raises(NotFoundError, match="404"):
        k.order(5)
    with pytest.raises(ConfigError):
        k.order("abc")
    fake.faults.append("html")
    with pytest.raises(APIError, match="HTML page"):
        Kounta.basic(*BASIC, api_base=fake.api_base, cache=False, max_retries=0).sites()


# ------------------------------------------------------------------ writes


def test_update_order_forgets_the_cached_copy(k, fake):
    oid = fake.orders[101][1]["id"]  # COMPLETE and settled: normally served from the cache
    k.order(oid)
    assert k.order(oid)["notes"] == ""
    assert k.update_order(oid, {"notes": "comped"})["notes"] == "comped"
    assert k.order(oid)["notes"] == "comped"


def test_create_order__201_location_gives_the_full_record(k, fake):
    created = k.create_order({"site_id": 11, "lines": [{"product_id": 1, "quantity": 2}]})
    assert created["id_str"] and created["site_id"] == 11
    assert "[kounta_nb:" in created["notes"]


def test_create_order__lost_answer_is_looked_up_not_posted_twice(k, fake):
    k.company_id  # noqa: B018
    fake.fault_paths = ("/orders",)
    fake.faults.append("drop-after")
    created = k.create_order({"site_id": 11, "notes": "table 4"}, idempotency_key="abc123")
    posts = [e for e in fake.log if e["method"] == "POST"]
    assert len(posts) == 1
    assert created["notes"] == "table 4 [kounta_nb:abc123]"
    assert sum(1 for r in fake.orders[101] if "abc123" in str(r.get("notes"))) == 1


def test_create_order__with_sale_number_looks_up_by_sale(k, fake):
    k.company_id  # noqa: B018
    fake.fault_paths = ("/orders",)
    fake.faults.append("drop-after")
    created = k.create_order({"site_id": 11, "sale_number": "WEB-77"})
    assert created["sale_number"] == "WEB-77"
    assert "[kounta_nb:" not in str(created.get("notes") or "")
    assert sum(1 for r in fake.orders[101] if r.get("sale_number") == "WEB-77") == 1


def test_create_order__not_created_then_posted_again(k, fake):
    k.company_id  # noqa: B018
    fake.fault_paths = ("/orders",)
    fake.faults.append("drop")  # dropped before the server did anything
    created = k.create_order({"site_id": 11})
    assert sum(1 for e in fake.log if e["method"] == "POST") == 2
    assert sum(1 for r in fake.orders[101] if r.get("notes") == created["notes"]) == 1


def test_create_order__idempotency_key_finds_an_earlier_order(k, fake):
    first = k.create_order({"site_id": 11}, idempotency_key="k-1")
    second = k.create_order({"site_id": 11}, idempotency_key="k-1")
    assert first["id"] == second["id"]
    assert sum(1 for e in fake.log if e["method"] == "POST") == 1


def test_writes_validate_bodies(k):
    with pytest.raises(ConfigError):
        k.create_order(["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        k.update_order(1, "notes")  # type: ignore[arg-type]


# ------------------------------------------------------------------ secrets, expiry


def test_no_secret_anywhere_after_a_refresh_and_a_failure(fake, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    access, refresh = fake.issue(101)
    client = Kounta.from_token(access, refresh, client_id=BASIC[0], client_secret=BASIC[1],
                               api_base=fake.api_base, cache=tmp_path / "c.sqlite", **FAST)
    client.orders()
    fake.expire_all()
    client.sites()
    fake.revoke_all()
    fake.expire_all()
    with pytest.raises(TokenExpiredError) as info:
        client.sites()
    client.close()
    text = " ".join([repr(client), repr(client.credentials), repr(client.transport), str(info.value),
                     repr(info.value), caplog.text])
    assert "SECRET" not in text and BASIC[1] not in text
    cache = b"".join(p.read_bytes() for p in tmp_path.glob("c.sqlite*"))
    assert b"SECRET" not in cache


# ------------------------------------------------------------------ the sandbox helper


def test_sandbox__oauth_login_through_the_form_and_basic(sandbox):
    cids = company_ids(sandbox)
    by_name = Kounta.sandbox(handle=sandbox, company="Brunswick Street Bakehouse", cache=False)
    assert by_name.company_id == cids["other"]
    basic = Kounta.sandbox(handle=sandbox, auth="basic", cache=False)
    assert basic.company_id == cids["developer"]
    with pytest.raises(ConfigError, match="only reaches the developer company"):
        Kounta.sandbox(handle=sandbox, auth="basic", company=cids["other"], cache=False)
    with pytest.raises(ConfigError):
        Kounta.sandbox(handle=sandbox, auth="magic", cache=False)  # type: ignore[arg-type]
