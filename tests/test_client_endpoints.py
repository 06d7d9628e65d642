"""The endpoint catalogue and OrderQuery: pure, no sockets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kounta_nb import frames
from kounta_nb.dates import check_range, parse_moment, parse_timestamp, to_day, to_moment
from kounta_nb.endpoints import (
    CATALOGUE,
    ORDER_FILTERS,
    TABLES,
    OrderQuery,
    endpoint,
    normalise_status,
    table,
)
from kounta_nb.errors import ConfigError, did_you_mean

SYD = ZoneInfo("Australia/Sydney")
NOW = datetime(2026, 5, 29, 14, 30, tzinfo=SYD)


def test_catalogue__every_row_has_a_frame_kind_a_description_and_a_template():
    for name, row in CATALOGUE.items():
        assert row.name == name and row.description and row.paths
        assert row.frame in frames.KINDS, name
        if row.detail is not None:
            assert CATALOGUE[row.detail].kind == "detail"
    for name, view in TABLES.items():
        assert view.kind in frames.KINDS and view.endpoint in CATALOGUE and view.description, name


def test_catalogue__optional_groups_and_first_fitting_template():
    rec = CATALOGUE["reconciliations"]
    assert rec.render({"register": "7", "unprocessed": "unprocessed", "date": "2026-05-01"}) == (
        "registers/7/reconciliations/unprocessed/2026-05-01", {"register", "unprocessed", "date"})
    assert rec.render({})[0] == "reconciliations"
    shifts = CATALOGUE["shifts"]
    assert shifts.render({"date": "2026-05-01", "site": "3"}) == ("shifts/2026-05-01", {"date"})
    assert shifts.render({"since": "2026-05-01", "site": "3", "staff": "9"})[0] == "sites/3/shifts/since/2026-05-01"
    assert shifts.render({"since": "2026-05-01", "staff": "9"})[0] == "staff/9/shifts/since/2026-05-01"
    with pytest.raises(ConfigError, match="inventory needs site="):
        CATALOGUE["inventory"].render({})
    assert set(ORDER_FILTERS) <= set(CATALOGUE["orders"].filters)


def test_catalogue__lookups_say_did_you_mean():
    assert endpoint("Payment-Methods").name == "payment_methods"
    with pytest.raises(ConfigError, match=r"Unknown endpoint 'oders' \(did you mean 'orders'\?\)"):
        endpoint("oders")
    with pytest.raises(ConfigError, match=r"Unknown resource 'payment' \(did you mean 'payments'\?\)"):
        table("payment")
    assert did_you_mean("zzzz", ["orders"]) == ""


def test_order_query__path_segments_in_the_api_order_and_status():
    q = OrderQuery(site=1, register=2, staff=3, customer=4, status="COMPLETED")
    assert q.path() == "sites/1/registers/2/staff/3/customers/4/orders/complete"
    assert q.path(99) == "companies/99/sites/1/registers/2/staff/3/customers/4/orders/complete"
    assert OrderQuery().path() == "orders"
    assert OrderQuery(site=5, status="pending").path() == "sites/5/orders/pending"


def test_order_query__parse_reads_user_values_once():
    q = OrderQuery.parse({"since": "2026-05-01", "until": "2026-05-03", "status": "any", "value_gte": 10,
                          "site": "Bar", "created": None}, tz=SYD, now=NOW, resolve_site=lambda s: 12)
    assert q.site == 12 and q.status is None
    assert q.params() == {"created_gte": "2026-05-01T00:00:00+10:00",
                          "created_lt": "2026-05-04T00:00:00+10:00", "value_gte": "10"}
    assert q.filters["since"] == "2026-05-01T00:00:00+10:00"
    day = OrderQuery.parse({"created": date(2026, 5, 2)}, tz=SYD, now=NOW)
    assert day.params() == {"created": "2026-05-02"}
    assert OrderQuery.parse({"created": "2026-05-02T10:00"}, tz=SYD, now=NOW).params() == {
        "created": "2026-05-02T10:00:00+10:00"}


@pytest.mark.parametrize(("filters", "message"), [
    ({"since": 12345}, "since=12345 is not a date"),
    ({"since": "last tuesday"}, "since: Cannot read 'last tuesday'"),
    ({"since": "100000000d"}, "outside the dates a calendar can hold"),
    ({"until": "9999-12-31"}, "outside the dates a calendar can hold"),
    ({"since": "²d"}, "Cannot read"),
    ({"since": "2026-06-02"}, "is in the future"),
    ({"since": "2026-05-10", "until": "2026-05-01"}, "is not before until"),
    ({"sinse": "7d"}, "did you mean 'since'"),
    ({"status": "done"}, "Unknown order status 'done'"),
    ({"status": 3}, "status must be text"),
    ({"register": "x"}, "register id must be a numeric id"),
    ({"site": True}, "site id must be a numeric id"),
    ({"staff": "²"}, "staff id must be a numeric id"),
    ({"value": "ten"}, "value must be a number of dollars"),
])
def test_order_query__every_bad_value_is_one_config_error(filters, message):
    with pytest.raises(ConfigError, match=message) as info:
        OrderQuery.parse(filters, tz=SYD, now=NOW)
    assert "\n" not in str(info.value)


def test_order_query__frozen_and_hashable():
    q = OrderQuery(site=1)
    with pytest.raises(AttributeError):
        q.site = 2  # type: ignore[misc]
    assert hash(q) == hash(OrderQuery(site=1))


def test_order_query__windows_on_stable_boundaries():
    q = OrderQuery.parse({"since": "7d"}, tz=SYD, now=NOW)
    windows = q.windows(NOW)
    assert [w.params() for w in windows] == [
        {"created_gte": "2026-05-29T14:00:00+10:00"},
        {"created_gte": "2026-05-29T00:00:00+10:00", "created_lt": "2026-05-29T14:00:00+10:00"},
        {"created_gte": "2026-05-22T00:00:00+10:00", "created_lt": "2026-05-29T00:00:00+10:00"},
    ]
    # two seconds later (a re-run): the same URLs
    later = OrderQuery.parse({"since": "7d"}, tz=SYD, now=NOW + timedelta(seconds=2))
    assert [w.params() for w in later.windows(NOW + timedelta(seconds=2))] == [w.params() for w in windows]
    # the exact window is applied client-side
    inside = {"created_at": "2026-05-22T14:30:00+10:00"}
    assert q.contains(inside) and not q.contains({"created_at": "2026-05-22T14:29:59+10:00"})
    assert q.contains({"created_at": None})


def test_order_query__windows_of_past_periods_and_single_days():
    q = OrderQuery.parse({"since": "2026-05-01T09:15", "until": "2026-05-03T10:00"}, tz=SYD, now=NOW)
    assert [w.params() for w in q.windows(NOW)] == [
        {"created_gte": "2026-05-01T00:00:00+10:00", "created_lt": "2026-05-04T00:00:00+10:00"}]
    assert not q.contains({"created_at": "2026-05-03T10:00:00+10:00"})
    today = OrderQuery.parse({"since": "90min"}, tz=SYD, now=NOW)
    assert [w.params() for w in today.windows(NOW)] == [
        {"created_gte": "2026-05-29T14:00:00+10:00"},
        {"created_gte": "2026-05-29T00:00:00+10:00", "created_lt": "2026-05-29T14:00:00+10:00"}]
    earlier_today = OrderQuery.parse({"since": "today", "until": "2026-05-29T09:20"}, tz=SYD, now=NOW)
    assert [w.params() for w in earlier_today.windows(NOW)] == [
        {"created_gte": "2026-05-29T00:00:00+10:00", "created_lt": "2026-05-29T10:00:00+10:00"}]
    one_day = OrderQuery.parse({"created": "2026-05-02"}, tz=SYD, now=NOW)
    assert one_day.windows(NOW) == (one_day,)
    assert [w.params() for w in q.windows(NOW, cut=False)] == [{"created_gte": "2026-05-01T00:00:00+10:00",
                                                                 "created_lt": "2026-05-04T00:00:00+10:00"}]
    whole = OrderQuery.parse({"since": "7d"}, tz=SYD, now=NOW).windows(NOW, cut=False)
    assert [w.params() for w in whole] == [{"created_gte": "2026-05-22T00:00:00+10:00"}]
    at_midnight = datetime(2026, 5, 29, 0, 10, tzinfo=SYD)
    assert len(OrderQuery.parse({"since": "2d"}, tz=SYD, now=at_midnight).windows(at_midnight)) == 2


def test_normalise_status():
    assert normalise_status(" Complete ") == "complete"
    assert normalise_status("on-hold") == "on_hold"


def test_dates__helpers():
    assert to_moment(date(2026, 5, 1), tz=SYD, name="since") == datetime(2026, 5, 1, tzinfo=SYD)
    assert to_moment(date(2026, 5, 1), tz=SYD, name="until", end=True) == datetime(2026, 5, 2, tzinfo=SYD)
    assert to_moment(datetime(2026, 5, 1, 2), tz=SYD, name="x") == datetime(2026, 5, 1, 2, tzinfo=SYD)
    assert to_day("7d", tz=SYD, name="since", now=NOW) == date(2026, 5, 22)
    assert to_day(datetime(2026, 5, 1, 20, tzinfo=UTC), tz=SYD, name="date") == date(2026, 5, 2)
    assert parse_timestamp("2026-05-29T11:14:06+10:00") == datetime(2026, 5, 29, 1, 14, 6, tzinfo=UTC)
    assert parse_timestamp("2026-05-29T01:14:06Z") == datetime(2026, 5, 29, 1, 14, 6, tzinfo=UTC)
    assert parse_timestamp("2026-05-29T11:14:06") is None and parse_timestamp(5) is None
    assert parse_timestamp("２０２６-05-29T11:14:06Z") is None
    # text without an offset is read in the zone the caller names, and only then
    assert parse_timestamp("2026-05-29T11:14:06", naive=SYD) == datetime(2026, 5, 29, 11, 14, 6, tzinfo=SYD)
    assert parse_timestamp("2026-05-29T11:14:06Z", naive=SYD) == datetime(2026, 5, 29, 11, 14, 6, tzinfo=UTC)
    check_range(None, None, now=NOW)
    with pytest.raises(ConfigError, match="in the future"):
        check_range(NOW + timedelta(seconds=1), None, now=NOW)
    with pytest.raises(ConfigError, match="outside the dates"):
        parse_moment("99999y", tz=SYD, now=NOW)
