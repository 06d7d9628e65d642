"""Privacy (issue 10 §7): the pull store holds customer names and e-mails, so it is 0600 in a 0700
directory — with a fresh HOME, and whatever modes existed before."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kounta_nb import Kounta
from kounta_nb.pull import pull_orders
from kounta_nb.pull.store import store_path


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("KOUNTA_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    old = os.umask(0o022)  # the usual umask: without care, files come out 0644 in 0755 dirs
    try:
        yield home
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _pull(handle: Any, tmp_path: Path) -> Any:
    client = Kounta.sandbox(handle=handle, rate_limit=60_000, cache=False)
    site = int(client.sites()[0]["id"])
    job = pull_orders(client, "2026-05-27T11:00", "2026-05-27T12:00", site=site, progress=False)
    return job.wait(60)


def test_privacy__a_fresh_home_gets_a_0600_store_in_a_0700_dir(sandbox: Any, tmp_path: Path,
                                                               fresh_home: Path) -> None:
    job = _pull(sandbox, tmp_path)
    path = job.store.path
    assert path.parent == fresh_home / ".cache" / "kounta_nb"
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    sides = [Path(f"{path}{s}") for s in ("-wal", "-shm") if Path(f"{path}{s}").exists()]
    assert sides and all(_mode(p) == 0o600 for p in sides)
    assert len(job.orders) > 0


def test_privacy__loose_modes_from_before_are_tightened(sandbox: Any, tmp_path: Path,
                                                        fresh_home: Path) -> None:
    client = Kounta.sandbox(handle=sandbox, rate_limit=60_000, cache=False)
    path = store_path(client.api_base, client.company_id)
    path.parent.mkdir(parents=True, mode=0o755)
    os.chmod(path.parent, 0o755)
    first = _pull(sandbox, tmp_path)
    first.store.close()
    for p in [path, *(Path(f"{path}{s}") for s in ("-wal", "-shm"))]:
        if p.exists():
            os.chmod(p, 0o644)
    os.chmod(path.parent, 0o755)
    again = _pull(sandbox, tmp_path)
    assert again.store.path == path
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    assert all(_mode(Path(f"{path}{s}")) == 0o600 for s in ("-wal", "-shm") if Path(f"{path}{s}").exists())
