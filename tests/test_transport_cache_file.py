"""Contract: the HTTP cache file is private, disposable and never a dead end.

- 0600 in a 0700 directory, side files included, whatever existed before (fresh HOME, umask 022);
- each kind of damage (garbled header, garbled pages, cut off, a -wal that is not one; at open or
  mid-use) → the file is moved aside to ``*.corrupt-<time>``, one ``KountaWarning``, correct data,
  nothing on stderr; a zero-byte file is an empty cache, not damage;
- ``clear_cache`` removes this company's entries (or all) and the file really shrinks;
- ``store=False`` keeps bodies out of it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import threading
import warnings
from pathlib import Path

import pytest
from support_sandbox import company_ids, oauth_token
from support_transport import DAY, a_site, client, quiet

from kounta_nb import settings
from kounta_nb.errors import KountaWarning
from kounta_nb.transport import HttpCache, Transport
from kounta_nb.transport.httpcache import inspect_file


def _reads(k) -> dict:
    site = a_site(k)
    listing = k.orders(site=site, since=DAY, until=DAY)
    details = [k.order(r["id"]) for r in listing[:5]]
    return {"sites": list(k.sites()), "orders": list(listing), "details": details}


def _warm(handle, path: Path) -> dict:
    k = client(handle, path)
    data = _reads(k)
    k.close()
    return data


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _ours(caught) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, KountaWarning)]


# ------------------------------------------------------------------ privacy


@pytest.mark.parametrize("before", ["nothing", "open 0755 dir and 0644 file"])
def test_modes__0600_files_in_a_0700_dir_with_a_fresh_home(sandbox, tmp_path, monkeypatch, before):
    home = tmp_path / "home"
    home.mkdir()
    for var in ("KOUNTA_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    path = settings.http_cache_file()
    assert path.is_relative_to(home)
    old = os.umask(0o022)
    try:
        if before != "nothing":
            path.parent.mkdir(parents=True, mode=0o755)
            path.parent.chmod(0o755)
            path.write_bytes(b"")
            path.chmod(0o644)
        k = client(sandbox, None)
        _reads(k)
        side = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
        assert any(p.exists() for p in side)  # open in WAL mode right now
        assert _mode(path.parent) == 0o700 and _mode(path) == 0o600
        assert all(_mode(p) == 0o600 for p in side if p.exists())
        k.close()
    finally:
        os.umask(old)
    assert _mode(path) == 0o600 and _mode(path.parent) == 0o700
    assert _mode(home / ".cache") == 0o755  # parents that existed are left alone


# ------------------------------------------------------------------ damage found at open


def _garble_header(path: Path) -> None:
    with path.open("r+b") as fh:
        fh.write(os.urandom(100))


def _garble_pages(path: Path) -> None:
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(os.urandom(size - 4096))


def _cut_off(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garbage_wal(path: Path) -> None:
    path.with_name(path.name + "-wal").write_bytes(os.urandom(64 * 1024))


DAMAGE = {"garbled header": _garble_header, "garbled pages": _garble_pages, "cut off": _cut_off,
          "garbage -wal": _garbage_wal}


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damage__moved_aside_one_warning_correct_data(fresh_sandbox, tmp_path, kind, capfd, caplog):
    path = tmp_path / "http.sqlite"
    expected = _warm(fresh_sandbox, path)
    DAMAGE[kind](path)
    capfd.readouterr()
    with pytest.warns(KountaWarning) as caught:
        k = client(fresh_sandbox, path)
        got = _reads(k)
        again = _reads(k)  # the rebuilt cache works: revalidations now
    assert got == expected == again
    messages = _ours(caught)
    assert len(messages) == 1, messages
    assert "damaged" in messages[0] and "moved aside" in messages[0] and "\n" not in messages[0]
    moved = [p for p in tmp_path.glob("http.sqlite.corrupt-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(moved) == 1 and moved[0].name in messages[0]
    assert k.transport.cache_info()["entries"] > 0
    k.close()
    quiet(capfd, caplog)
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_damage__a_zero_byte_file_is_an_empty_cache_not_damage(fresh_sandbox, tmp_path):
    path = tmp_path / "http.sqlite"
    expected = _warm(fresh_sandbox, path)
    os.truncate(path, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", KountaWarning)
        k = client(fresh_sandbox, path)
        assert _reads(k) == expected
    assert not list(tmp_path.glob("*.corrupt-*"))
    k.close()


def test_inspect_file__sound_files_pass(fresh_sandbox, tmp_path):
    path = tmp_path / "http.sqlite"
    assert inspect_file(path) is None  # missing
    _warm(fresh_sandbox, path)
    assert inspect_file(path) is None
    _cut_off(path)
    assert "cut off" in (inspect_file(path) or "")


def test_damage__an_unusable_place_means_no_cache_not_an_error(fresh_sandbox, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.warns(KountaWarning, match="carries on without a cache"):
        k = client(fresh_sandbox, blocker / "http.sqlite")
    assert _reads(k)["sites"]
    assert not k.transport.caching and k.transport.cache_info()["available"] is False
    k.close()


# ------------------------------------------------------------------ damage found mid-use


def test_damage__cut_off_under_an_open_cache_is_repaired_mid_use(fresh_sandbox, tmp_path, capfd, caplog):
    path = tmp_path / "http.sqlite"
    expected = _warm(fresh_sandbox, path)
    k = client(fresh_sandbox, path)
    k.company_id  # noqa: B018  (opened and verified; no entry read yet)
    capfd.readouterr()
    os.truncate(path, 8192)  # another process (or the disk) cuts the file while it is open
    with pytest.warns(KountaWarning) as caught:
        assert _reads(k) == expected
    messages = _ours(caught)
    assert len(messages) == 1 and "moved aside" in messages[0], messages
    assert _reads(k) == expected
    k.close()
    quiet(capfd, caplog)
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("error", [sqlite3.InterfaceError("bad parameter or other API misuse"),
                                   sqlite3.DatabaseError("database disk image is malformed")],
                         ids=["transient", "damage"])
def test_damage__an_error_inside_a_write_never_leaves_the_cache_stuck(fresh_sandbox, tmp_path, monkeypatch,
                                                                        error):
    # requests-cache >= 1.3 rolls back only on OperationalError: any other error in the middle of
    # a write leaves the shared connection in its transaction, and every later write would spin
    # forever on "cannot start a transaction within a transaction". The transport rolls it back;
    # a transient error costs only that entry, damage rebuilds the file.
    path = tmp_path / "http.sqlite"
    k = client(fresh_sandbox, path)
    site = a_site(k)
    responses = k.transport._cache._current.session.cache.responses
    real = type(responses)._write
    calls = {"n": 0}

    def flaky(self, key, value):
        calls["n"] += 1
        if calls["n"] == 1:
            with self.connection(commit=True) as con:
                con.execute("INSERT OR REPLACE INTO responses (key,value,expires) VALUES ('x', x'00', 0)")
                raise error
        return real(self, key, value)

    monkeypatch.setattr(type(responses), "_write", flaky)
    done: list = []
    worker = threading.Thread(target=lambda: done.append(k.orders(site=site, since=DAY, until=DAY)))
    damage = isinstance(error, sqlite3.DatabaseError)
    # damage is said once; a transient error is not (any warning would be an error then)
    with pytest.warns(KountaWarning) if damage else contextlib.nullcontext() as caught:
        worker.start()
        worker.join(30)
    assert not worker.is_alive(), "a cache write is stuck"
    assert done and len(done[0]) > 0 and calls["n"] > 2
    assert len(_ours(caught or [])) == (1 if damage else 0)
    assert k.transport.caching and k.transport.cache_info()["entries"] > 1
    k.close()


# ------------------------------------------------------------------ info and clear


def test_clear__removes_this_companys_entries_and_the_file_shrinks(fresh_sandbox, tmp_path):
    path = tmp_path / "http.sqlite"
    ids = company_ids(fresh_sandbox)
    a = client(fresh_sandbox, path)
    site = a_site(a)
    listing = a.orders(site=site, since=DAY, until=DAY)
    for record in listing[:30]:
        a.order(record["id"])
    b = Transport(fresh_sandbox.api_base, _oauth(fresh_sandbox, ids["other"]), cache_path=path, rate_limit=100_000)
    b.request("GET", f"companies/{ids['other']}/sites")
    info = a.transport.cache_info()
    assert info["path"] == str(path) and info["namespace"] == f"company-{ids['developer']}"
    # A: companies/me, the list pages, 30 orders; B: its sites (its companies/me went uncached)
    assert info["entries"] >= 30 + 2 and info["entries_total"] == info["entries"] + 1
    assert info["bytes"] >= path.stat().st_size > 0
    removed = a.transport.clear_cache()
    assert removed == info["entries"]
    after = a.transport.cache_info()
    assert (after["entries"], after["entries_total"]) == (0, 1)
    assert after["bytes"] < info["bytes"] / 2
    assert b.request("GET", f"companies/{ids['other']}/sites").revalidated  # B's entries stayed
    assert a.transport.clear_cache(all_companies=True) == 1
    assert a.transport.cache_info()["entries_total"] == 0
    # the cache still works after a clear
    a.order(listing[0]["id"])
    assert a.transport.request("GET", f"companies/{ids['developer']}/orders/{listing[0]['id']}").revalidated
    a.close()
    b.close()


def test_clear__without_a_cache(sandbox):
    k = client(sandbox, False)
    assert k.transport.clear_cache() == 0
    assert k.transport.cache_info() == {"path": None, "bytes": 0, "entries": 0, "entries_total": 0,
                                        "namespace": None, "available": False}


def test_store_false__keeps_detail_bodies_out_of_the_file(fresh_sandbox, tmp_path):
    path = tmp_path / "http.sqlite"
    k = client(fresh_sandbox, path)
    site = a_site(k)
    listing = k.orders(site=site, since=DAY, until=DAY)
    before = k.transport.cache_info()["entries"]
    for record in listing[:10]:
        k.transport.request("GET", f"companies/{k.company_id}/orders/{record['id']}", store=False)
    assert k.transport.cache_info()["entries"] == before
    k.close()


def test_http_cache__is_importable_on_its_own(tmp_path):
    cache = HttpCache(tmp_path / "c.sqlite", key_fn=lambda request, **kw: "k", filter_fn=lambda r: True,
                      setup=lambda s: s)
    assert cache.available and cache.info("company-1")["entries_total"] == 0
    cache.close()
    assert not cache.available


def _oauth(handle, company: int):
    import time

    from kounta_nb.auth import OAuthCredentials, Token

    token = oauth_token(handle, company)
    return OAuthCredentials(Token(token["access_token"], token["refresh_token"], time.time() + 3000),
                            client_id=handle.client_id, client_secret=handle.client_secret,
                            token_url=handle.token_url)
