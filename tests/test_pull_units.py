"""Pull engine pieces without a server: the store, slicing, keys."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kounta_nb.pull import _arenas
from kounta_nb.pull.plan import plan_slices, pull_key
from kounta_nb.pull.store import PullStore, store_path


def test_store__one_file_per_company_and_api_base(tmp_path: Path) -> None:
    a = store_path("https://api.kounta.com/v1/", 1, tmp_path)
    assert a == store_path("https://api.kounta.com/v1", 1, tmp_path)
    assert a != store_path("https://api.kounta.com/v1/", 2, tmp_path)
    assert a != store_path("http://127.0.0.1:5000/v1/", 1, tmp_path)
    assert "kounta.com" not in a.name


def test_store__page_and_cursor_are_written_together(tmp_path: Path) -> None:
    store = PullStore(tmp_path / "s.sqlite")
    store.begin_pull("k", site=None, status="complete", since_ts=0.0, until_ts=100.0, slices=[(50.0, 100.0), (0.0, 50.0)])
    records = [{"id": 2**60 + i, "id_str": str(2**60 + i), "updated_at": "u", "total": 1.5} for i in range(3)]
    assert store.record_page("k", 50.0, records, [60.0, 70.0, 80.0], "http://x/next") == 3
    assert store.record_page("k", 50.0, records[:1], [60.0], None) == 0  # already a member
    newest, oldest = store.slices("k")
    assert (newest.lo_ts, newest.done, newest.pages, newest.oldest_ts) == (50.0, True, 2, 60.0)
    assert (oldest.lo_ts, oldest.done, oldest.next_url) == (0.0, False, None)
    assert {m[0] for m in store.members("k")} == {2**60, 2**60 + 1, 2**60 + 2}  # 64-bit ids intact
    store.save_detail({"id_str": str(2**60), "updated_at": "u", "lines": []})  # keyed by the body's own version
    store.save_missing(2**60 + 1, "u")
    assert store.detail_versions() == {2**60: ("u", False), 2**60 + 1: ("u", True)}
    assert [r["id_str"] for r in store.details([2**60, 2**60 + 1])] == [str(2**60)]
    # a finished pull reopened starts its list walk again; an unfinished one keeps its cursors
    store.set_pull_state("k", "cancelled")
    _, resumed = store.begin_pull("k", site=None, status="complete", since_ts=0.0, until_ts=100.0, slices=[])
    assert resumed and store.slices("k")[0].done
    store.set_pull_state("k", "finished", high_water=80.0)
    assert store.last_finished(None, "complete").high_water == 80.0
    store.begin_pull("k", site=None, status="complete", since_ts=0.0, until_ts=100.0, slices=[])
    assert not any(s.done for s in store.slices("k"))
    assert store.counts() == {"orders": 3, "details": 1, "pulls": 1}


def test_plan_slices__equal_spans_newest_first_last_one_open() -> None:
    day = 86400.0
    plan = plan_slices(0.0, None, 4 * day, 4)
    assert plan[0] == (3 * day, None) and plan[-1] == (0.0, day)
    fixed = plan_slices(0.0, 2 * day, 10 * day, 2)
    assert fixed == [(day, 2 * day), (0.0, day)]
    assert plan_slices(0.0, None, 600.0, 8) == [(0.0, None)]  # under an hour: one slice


def test_pull_key__same_parameters_same_key() -> None:
    since = datetime(2026, 5, 1, tzinfo=UTC)
    assert pull_key(1, "complete", since, None) == pull_key(1, "complete", since, None)
    assert pull_key(1, "complete", since, None) != pull_key(None, "complete", since, None)
    assert pull_key(1, "complete", since, None) != pull_key(1, "complete", since, since.replace(day=2))


def test_arenas__limited_once_before_a_pull_unless_the_user_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []

    class Libc:
        def mallopt(self, param: int, value: int) -> int:
            calls.append((param, value))
            return 1

    monkeypatch.setattr(_arenas, "_libc", Libc)
    monkeypatch.setattr(_arenas, "_glibc", lambda: True)
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)

    def fresh() -> bool:
        monkeypatch.setattr(_arenas, "_done", False)
        return _arenas.limit_malloc_arenas()

    assert fresh() is True and calls == [(-8, _arenas.ARENAS)]  # glibc's M_ARENA_MAX
    assert _arenas.limit_malloc_arenas() is False and len(calls) == 1  # once per process
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert fresh() is False and len(calls) == 1  # the user's own setting stands
    monkeypatch.delenv("MALLOC_ARENA_MAX")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=8")
    assert fresh() is False and len(calls) == 1
    monkeypatch.delenv("GLIBC_TUNABLES")
    monkeypatch.setattr(_arenas, "_glibc", lambda: False)  # macOS, musl: nothing to set
    assert fresh() is False and len(calls) == 1
