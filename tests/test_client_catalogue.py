"""The endpoint catalogue against the sandbox, over real sockets: one test per row.

Adding an endpoint is one catalogue row plus one frame schema; this test then reads it through
``Kounta.read`` and frames what comes back, without any other change. Filters a row needs are
found from the rows that list them (an id from the list whose ``detail`` the row is, a site from
``sites``, …).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from kounta_nb import Kounta, frames
from kounta_nb.client import RecordList
from kounta_nb.endpoints import CATALOGUE, TABLES, Endpoint

DAY = "2026-05-28"


@pytest.fixture(scope="module")
def k(sandbox):
    client = Kounta.sandbox(handle=sandbox, cache=False, rate_limit=60_000)
    yield client
    client.close()


def _first(k: Kounta, name: str, **filters: Any) -> dict[str, Any]:
    records = k.read(name, **filters, limit=1)
    assert isinstance(records, RecordList) and records, f"{name} listed nothing to test with"
    return records[0]


def sample_filters(k: Kounta, row: Endpoint) -> dict[str, Any]:
    """Values for the placeholders of the row's first template (and its required filters)."""
    required = re.findall(r"\{(\w+)\}", re.sub(r"\[[^\]]*\]", "", row.paths[0]))
    needed = [*(n for n in row.needs_one_of[:1] if n not in required), *required]
    out: dict[str, Any] = {}
    for name in needed:
        if name == "site":
            out["site"] = k.sites()[0]["id"]
        elif name in ("date", "since"):
            out[name] = DAY
        elif name == "sale_number":
            out[name] = _first(k, "orders", since=DAY, status="complete")["sale_number"]
        elif name == "email":
            customer = k.customer(_first(k, "customers")["id"])
            out[name] = customer["primary_email_address"]
        elif name == "id":
            lister = next((r for r in CATALOGUE.values() if r.detail == row.name and r.kind == "list"), None)
            if lister is None:  # a list under a record (categories/{id}/products): its parent's id
                parent = row.paths[0].split("/")[0]
                lister = next(r for r in CATALOGUE.values() if re.sub(r"\[[^\]]*\]", "", r.paths[0]) == parent)
            extra = {"since": DAY} if lister.name in ("orders", "reconciliations") else {}
            extra |= {n: out[n] for n in lister.filters if n in out}  # the same scope (site=…)
            item = _first(k, lister.name, **{**sample_filters(k, lister), **extra})
            out["id"] = item.get("id_str") or item["id"]
    return out


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue__every_row_reads_and_frames_over_http(k, name):
    row = CATALOGUE[name]
    filters = sample_filters(k, row)
    got = k.read(name, **filters)
    if row.kind == "list":
        assert isinstance(got, RecordList), name
        assert got.meta["endpoint"] == name and "stats" in got.meta and got.meta["stale"] is False
        records = list(got)
    else:
        assert isinstance(got, dict) and got, name
        records = [got]
    assert records, f"{name} returned nothing for {filters}"
    if row.list_fields is not None:
        assert set(records[0]) <= set(row.list_fields) | {"id_str"}, f"{name}: list items carry more than declared"
    df = frames.frame(row.frame, records, tz=k.tz)
    empty = frames.empty(row.frame, tz=k.tz)
    assert list(df.columns) == list(empty.columns) and len(df) >= 1


@pytest.mark.parametrize("name", sorted(TABLES))
def test_catalogue__every_table_names_a_row_and_a_frame_kind(name):
    t = TABLES[name]
    assert t.endpoint in CATALOGUE and t.kind in frames.KINDS
