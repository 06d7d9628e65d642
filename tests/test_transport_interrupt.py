"""Contract: Ctrl-C in the middle of a request leaves the transport usable and the cache file
consistent (the magics turn the ``KeyboardInterrupt`` into one line; nothing breaks underneath).

A real SIGINT is sent to this process while the main thread is inside a request: once while the
API is slow to answer, once while the answer is being written into the cache (the moment where an
interrupted requests-cache >= 1.3 would leave its SQLite connection inside a transaction and every
later write would spin forever).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from support_transport import DAY, NO_FAULTS, a_site, client

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGINT") or os.name != "posix", reason="POSIX signals")


@pytest.fixture
def sigint() -> Iterator[None]:
    """Python's own SIGINT handler (KeyboardInterrupt) for the test, whatever runs the tests."""
    assert threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _interrupt_when(ready: threading.Event, after: float = 0.0) -> threading.Thread:
    def fire() -> None:
        if ready.wait(10):
            time.sleep(after)
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=fire, daemon=True)
    thread.start()
    return thread


def _settle(k, timeout: float = 20.0) -> None:
    """Wait until the abandoned request (on its helper thread) has finished."""
    deadline = time.monotonic() + timeout
    while k.transport._users and time.monotonic() < deadline:
        time.sleep(0.02)
    assert k.transport._users == 0


def _consistent(path) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_interrupt__while_waiting_for_a_slow_answer(fresh_sandbox, tmp_path, sigint):
    path = tmp_path / "http.sqlite"
    k = client(fresh_sandbox, path)
    site = a_site(k)
    expected = list(k.orders(site=site, since=DAY, until=DAY))
    fresh_sandbox.set_options(fault_slow=1.0, slow_ms=1500)
    started = threading.Event()
    started.set()
    _interrupt_when(started, after=0.3)
    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        k.orders(site=site, since=DAY, until=DAY)
    assert time.monotonic() - began < 1.4  # Ctrl-C answered at once, not after the slow answer
    fresh_sandbox.set_options(**NO_FAULTS)
    assert list(k.orders(site=site, since=DAY, until=DAY)) == expected  # usable at once
    _settle(k)
    k.close()
    _consistent(path)


def test_interrupt__while_the_answer_is_written_into_the_cache(fresh_sandbox, tmp_path, sigint, monkeypatch):
    path = tmp_path / "http.sqlite"
    k = client(fresh_sandbox, path)
    site = a_site(k)
    oid = k.orders(site=site, since=DAY, until=DAY, max_pages=1)[0]["id"]
    responses = k.transport._cache._current.session.cache.responses
    real = type(responses)._write
    writing = threading.Event()

    def slow_write(self, key, value):
        if "orders/" in str(getattr(value, "url", "")) and not writing.is_set():
            # the row is in, the commit not yet: the window a Ctrl-C must not cut
            with self.connection(commit=True) as con:
                con.execute(f"INSERT OR REPLACE INTO {self.table_name} (key,value,expires) VALUES (?,?,?)",
                            (key, self.serialize(value), getattr(value, "expires_unix", None)))
                writing.set()
                time.sleep(0.6)
            return None
        return real(self, key, value)

    monkeypatch.setattr(type(responses), "_write", slow_write)
    _interrupt_when(writing)
    with pytest.raises(KeyboardInterrupt):
        k.order(oid)
    _settle(k)
    # nothing left half-done: the next write goes through (on another thread, so a stuck one shows)
    done: list = []
    worker = threading.Thread(target=lambda: done.append(k.orders(site=site, since=DAY, until=DAY)))
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "a cache write is stuck after the interrupt"
    assert done and len(done[0]) > 0
    again = k.transport.request("GET", f"companies/{k.company_id}/orders/{oid}")
    assert again.revalidated  # the interrupted request's answer was stored whole
    assert k.order(oid)["id"] == oid
    k.close()
    _consistent(path)
