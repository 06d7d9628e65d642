"""paging: the X-Next-Page follower as a small stateful object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from kounta_nb.errors import APIError, ConfigError, PagingError
from kounta_nb.paging import Paginator, paginate

BASE = "https://api.kounta.com/v1/companies/1/orders"


@dataclass
class Resp:
    url: str
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    status_code: int = 200

    def json(self) -> Any:
        return self.body


def rec(i: int) -> dict[str, Any]:
    return {"id": 2**60 + i, "id_str": str(2**60 + i)}


class Server:
    """Answers from a dict url → (records, next header); records every request made."""

    def __init__(self, pages: dict[str, tuple[list, str | None]]) -> None:
        self.pages = pages
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, url: str, params: Any) -> Resp:
        self.calls.append((url, params))
        records, nxt = self.pages[url]
        return Resp(url + ("?status=x" if params else ""), records, {"X-Next-Page": nxt} if nxt else {})


def test_paging__follows_absolute_cursor_without_reappending_the_query():
    server = Server({
        BASE: ([rec(3), rec(2)], BASE + "?created_gte=2026-05-01&start=1"),
        BASE + "?created_gte=2026-05-01&start=1": ([rec(1)], None),
    })
    pages = list(paginate(server, BASE, {"created_gte": "2026-05-01"}))
    assert [len(p.records) for p in pages] == [2, 1]
    assert server.calls[1] == (BASE + "?created_gte=2026-05-01&start=1", None)
    assert [p.number for p in pages] == [1, 2]


def test_paging__relative_cursor_resolves_against_the_page_url():
    nxt = "/v1/companies/1/orders?start=1"
    server = Server({BASE: ([rec(2)], nxt), "https://api.kounta.com" + nxt: ([rec(1)], None)})
    assert sum(len(p.records) for p in paginate(server, BASE)) == 2


def test_paging__stops_on_an_empty_page_even_with_a_cursor():
    server = Server({BASE: ([rec(2)], BASE + "?start=1"), BASE + "?start=1": ([], BASE + "?start=0")})
    pages = list(paginate(server, BASE))
    assert len(pages) == 2 and len(server.calls) == 2


def test_paging__loop_guard():
    server = Server({BASE: ([rec(2)], BASE + "?start=1"), BASE + "?start=1": ([rec(1)], BASE + "?start=1")})
    with pytest.raises(PagingError, match="repeated"):
        list(paginate(server, BASE))


def test_paging__loop_back_to_the_first_page_is_caught():
    server = Server({BASE: ([rec(2)], BASE + "?start=1"), BASE + "?start=1": ([rec(1)], BASE)})
    with pytest.raises(PagingError):
        list(paginate(server, BASE))


def test_paging__dedupes_by_id_str_when_data_shifts():
    server = Server({
        BASE: ([rec(5), rec(4), rec(3)], BASE + "?start=3"),
        BASE + "?start=3": ([rec(3), rec(2)], None),  # a new order pushed rec(3) onto page 2
    })
    records = [r for p in paginate(server, BASE) for r in p.records]
    assert [r["id_str"] for r in records] == [rec(i)["id_str"] for i in (5, 4, 3, 2)]


def test_paging__prefers_id_str_over_a_float_rounded_id():
    a = {"id": 2**60, "id_str": str(2**60 + 1)}
    b = {"id": 2**60, "id_str": str(2**60 + 2)}  # ids collide as floats, id_str differs
    server = Server({BASE: ([a, b], None)})
    assert len(next(iter(paginate(server, BASE))).records) == 2


def test_paging__records_without_id_are_kept():
    server = Server({BASE: ([{"started_at": "x"}, {"started_at": "x"}], None)})
    assert len(next(iter(paginate(server, BASE))).records) == 2


def test_paging__max_pages():
    server = Server({BASE: ([rec(3)], BASE + "?start=2"), BASE + "?start=2": ([rec(2)], BASE + "?start=1")})
    assert len(list(paginate(server, BASE, max_pages=1))) == 1
    assert len(server.calls) == 1
    with pytest.raises(ConfigError):
        Paginator(max_pages=0)


def test_paging__a_non_list_page_is_an_api_error():
    server = Server({BASE: ({"id": 1}, None)})
    with pytest.raises(APIError, match="list was expected"):
        list(paginate(server, BASE))


def test_paging__first_answer_can_be_given():
    server = Server({BASE + "?start=1": ([rec(1)], None)})
    first = Resp(BASE, [rec(2)], {"X-Next-Page": BASE + "?start=1"})
    pages = list(paginate(server, BASE, first=first))
    assert [len(p.records) for p in pages] == [1, 1] and len(server.calls) == 1


def test_paging__state_object_protocol():
    p = Paginator()
    url, params = p.init_request(BASE, {"a": 1})
    assert (url, params) == (BASE, {"a": 1}) and p.has_next_page()
    p.update_state(url, Resp(BASE + "?a=1", [rec(1)], {"X-Next-Page": BASE + "?a=1&start=0"}), [rec(1)])
    assert p.update_request() == (BASE + "?a=1&start=0", None)
    p.update_state(BASE + "?a=1&start=0", Resp(BASE + "?a=1&start=0", [rec(0)]), [rec(0)])
    assert not p.has_next_page()
    with pytest.raises(PagingError):
        p.update_request()
