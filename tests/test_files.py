"""Local files are private (0600 in 0700) and damaged ones are moved aside, not deleted."""

import os
import sqlite3
import stat
from datetime import UTC, datetime

import pytest

from kounta_nb import files


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_private_dir__tightens_an_existing_open_directory(tmp_path):
    target = tmp_path / "cache" / "kounta_nb"
    target.mkdir(parents=True, mode=0o755)
    target.chmod(0o755)
    files.private_dir(target)
    assert mode(target) == 0o700


def test_private_dir__leaves_a_sticky_shared_directory_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    files.private_dir(shared)
    assert mode(shared) == 0o1777


def test_private_file__creates_0600_and_sqlite_side_files_follow(tmp_path):
    db = files.private_file(tmp_path / "d" / "store.sqlite")
    assert mode(db) == 0o600 and mode(db.parent) == 0o700
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (x)")
    con.execute("INSERT INTO t VALUES (1)")
    con.commit()
    wal = db.with_name(db.name + "-wal")
    assert wal.exists() and mode(wal) == 0o600
    con.close()


def test_private_file__tightens_an_existing_file(tmp_path):
    path = tmp_path / "tokens.json"
    path.write_text("{}")
    path.chmod(0o644)
    files.private_file(path)
    assert mode(path) == 0o600 and path.read_text() == "{}"


def test_write_private_text__atomic_and_private(tmp_path):
    path = files.write_private_text(tmp_path / "x" / "choices.json", '{"a": 1}')
    assert path.read_text() == '{"a": 1}' and mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["choices.json"]


def test_move_aside__renames_the_file_and_its_side_files(tmp_path):
    db = tmp_path / "cache.sqlite"
    db.write_bytes(b"garbage")
    (tmp_path / "cache.sqlite-wal").write_bytes(b"w")
    moved = files.move_aside(db, now=datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    assert moved.name == "cache.sqlite.corrupt-20261202T070000Z"
    assert moved.read_bytes() == b"garbage" and not db.exists()
    assert (tmp_path / "cache.sqlite.corrupt-20261202T070000Z-wal").read_bytes() == b"w"
    db.write_bytes(b"again")
    second = files.move_aside(db, now=datetime(2026, 12, 2, 7, 0, tzinfo=UTC))
    assert second != moved and second.read_bytes() == b"again"


def test_is_damaged_database__garbage_yes_locked_no(tmp_path):
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"this is not a database at all, just text" * 100)
    with pytest.raises(sqlite3.DatabaseError) as info:
        sqlite3.connect(bad).execute("SELECT * FROM sqlite_master").fetchall()
    assert files.is_damaged_database(info.value)
    assert not files.is_damaged_database(sqlite3.OperationalError("database is locked"))
    assert not files.is_damaged_database(sqlite3.OperationalError("unable to open database file"))
    assert not files.is_damaged_database(ValueError("malformed"))
