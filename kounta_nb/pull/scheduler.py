"""The pull's workers: list pages first, then order details in a seeded random order.

1. The period is cut into time slices; each slice's list pages (25 abridged orders each, newest
   first) are walked by a pool of worker threads, several slices at once, so network latency never
   keeps the request rate under the client's rate limit. Every page and the cursor reached are
   written to the :class:`~kounta_nb.pull.store.PullStore` in one transaction.
2. Order details are fetched in a seeded random order (a hash of seed and order id), so at any
   moment the longest fully fetched prefix of that order is a simple random sample of the period's
   orders (see :mod:`kounta_nb.pull.analysis`). Workers pick list pages first and details when no
   page is ready.
3. A detail in the store is reused only when a list page walked in this run shows the same
   ``updated_at`` as the stored body; otherwise it is fetched fresh, and a body older than its
   listing is asked for again, then the pull fails — a body is never trusted only because the
   transport returned it.
4. Before fetching a detail a worker *claims* it in the store (a lease, in a transaction): two
   processes pulling into one store share the work; a detail another live process is fetching is
   waited for, not fetched twice; a dead claimer's lease is void.
"""

from __future__ import annotations

import hashlib
import heapq
import math
import os
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import DataFileError, NotFoundError, PullError
from ..paging import Paginator
from .plan import PullSpec, plan_slices
from .progress import Progress
from .source import OrderSource, created_ts
from .store import PullStore, order_id, timestamp

__all__ = [
    "LEASE_S", "STALE_RETRIES", "Scheduler", "State", "failure_message", "owner_alive", "rank_key",
    "same_moment", "RECHECK_S", "STALE_BACKOFF_S",
]

State = Literal["starting", "listing", "fetching", "finished", "failed", "cancelled"]
#: A fetched body older than its listed ``updated_at`` is asked for again this often, with a
#: doubling pause from STALE_BACKOFF_S (a replica catching up), before the pull fails.
STALE_RETRIES = 3
STALE_BACKOFF_S = 0.5
#: How long a claim on a detail lasts without renewal; the running pull renews every quarter.
LEASE_S = 120.0
#: How often a detail claimed by another process is looked at again.
RECHECK_S = 0.5
_HOST = socket.gethostname()

_Item = tuple[int, int, str | None]  # (rank, order id, listed updated_at)


def rank_key(seed: int, oid: int) -> int:
    """The order's place in the seeded random fetch order (independent of the data)."""
    digest = hashlib.blake2b(f"{seed}:{oid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner_alive(owner: str) -> bool:
    """Whether the process behind a claim still runs (another host: trust its lease)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != _HOST or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but not ours to signal
    return True


def same_moment(a: str | None, b: str | None) -> bool:
    """Whether two API timestamps name the same instant (offsets may be written differently)."""
    if a == b:
        return True
    ta, tb = timestamp(a), timestamp(b)
    return ta is not None and ta == tb


@dataclass
class _Slice:
    lo_ts: float
    hi_ts: float | None
    next_url: str | None
    started: bool
    listed: int = 0
    oldest_ts: float | None = None
    done: bool = False
    paginator: Paginator | None = None


@dataclass
class _Counters:
    requests: int = 0
    list_pages: int = 0
    details_fetched: int = 0
    revalidated: int = 0
    stamps: deque[float] = field(default_factory=lambda: deque(maxlen=4096))


class Scheduler:
    """Runs one pull: prepares it from the store, then list and detail steps on worker threads."""

    def __init__(self, source: OrderSource, store: PullStore, spec: PullSpec, *, seed: int, details: bool,
                 workers: int, slices: int | None = None) -> None:
        self.source = source
        self.store = store
        self.spec = spec
        self.key = spec.key
        self.seed = seed
        self.details = details
        self.workers = workers
        self.owner = f"{_HOST}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self._slice_count = slices or max(4, 2 * workers)
        self._slice_override = slices
        self._early: tuple[list[dict[str, Any]], list[float]] | None = None
        self.cv = threading.Condition()
        self.stop = threading.Event()
        self.cancelled = False
        self.error: BaseException | None = None
        self.state: State = "starting"
        self._slices: dict[float, _Slice] = {}
        self._ready: deque[_Slice] = deque()
        self._lists_inflight = 0
        self._heap: list[_Item] = []
        self._deferred: list[tuple[float, _Item]] = []
        # id → (created_ts, site_id, list total) of every listed order; an order's place in the
        # fetch order is not kept beside it (rank_key recomputes 82k of them in ~50 ms)
        self.members: dict[int, tuple[float, int | None, float | None]] = {}
        self._site_ids: dict[int, int] = {}  # one int object per site, not one per order
        self.done_ids: set[int] = set()
        self.missing: set[int] = set()
        self.reused_ids: set[int] = set()
        self.counts = _Counters()
        self.started = time.monotonic()
        self.finished_at: float | None = None
        self._threads: list[threading.Thread] = []
        self.on_detail: Callable[[int], None] = lambda oid: None

    # -- the run -------------------------------------------------------------------------------

    def run(self, tick: Callable[[], None]) -> None:
        """Prepare, start the workers and wait for them, calling ``tick`` about 4× a second."""
        try:
            self._prepare()
            self._set_state("listing")
            for i in range(self.workers):
                t = threading.Thread(target=self._worker, name=f"kounta-pull-worker-{i}", daemon=True)
                t.start()
                self._threads.append(t)
            last_tick = last_renew = 0.0
            while any(t.is_alive() for t in self._threads):
                with self.cv:
                    if self.state == "listing" and self.listing_done_locked():
                        self.state = "fetching"
                    self.cv.wait(0.25)
                now = time.monotonic()
                if now - last_tick >= 0.25:
                    tick()
                    last_tick = now
                if now - last_renew >= LEASE_S / 4:
                    self.store.renew(self.owner, LEASE_S)
                    last_renew = now
            with self.cv:
                self.state = "failed" if self.error is not None else "cancelled" if self.cancelled else "finished"
        except BaseException as exc:  # noqa: BLE001 - reported through wait() / progress
            with self.cv:
                self.error = exc
                self.state = "failed"
        finally:
            self.finished_at = time.monotonic()
            self._record_final_state()
            with self.cv:
                self.cv.notify_all()

    def cancel(self) -> None:
        """No new request starts; requests in flight finish and are stored."""
        with self.cv:
            if self.state not in ("finished", "failed", "cancelled"):
                self.cancelled = True
            self.stop.set()
            self.cv.notify_all()

    def _record_final_state(self) -> None:
        """Write the outcome to the store; a pull whose store vanished is not 'finished'."""
        try:
            self.store.release(self.owner)
            self.store.set_pull_state(self.key, self.state, high_water=self.high_water())
        except DataFileError as exc:
            with self.cv:
                if self.state == "finished":
                    self.state = "failed"
                    self.error = exc
        except Exception:  # noqa: BLE001 - the store may be closed by the user; state is in memory
            pass

    def _set_state(self, state: State) -> None:
        with self.cv:
            if self.state not in ("finished", "failed", "cancelled"):
                self.state = state

    def _prepare(self) -> None:
        plan: list[tuple[float, float | None]] = []
        if self.store.pull(self.key) is None:
            # Slice the span that actually holds orders: the newest order of the period bounds it
            # (the API's clock, not ours, decides what "now" is).
            probe = self._probe()
            if probe is None:
                plan = [(self.spec.since_ts, self.spec.until_ts)]
            else:
                end_ts, pages = probe
                # every slice costs about one partly filled page more than one long walk, so slices
                # get ~5 pages each; workers without a page to walk fetch details meanwhile
                count = self._slice_override or max(1, min(self._slice_count, pages // 5))
                plan = plan_slices(self.spec.since_ts, self.spec.until_ts, end_ts + 1.0, count)
        self.store.begin_pull(self.key, site=self.spec.site, status=self.spec.status or "*",
                              since_ts=self.spec.since_ts, until_ts=self.spec.until_ts, slices=plan)
        if self._early is not None:
            # the probe's page is the newest orders: their details can start while slices list
            self.store.record_orders(self.key, *self._early)
        members = self.store.members(self.key)
        versions = self.store.detail_versions([m[0] for m in members])
        with self.cv:
            for s in self.store.slices(self.key):
                sl = _Slice(s.lo_ts, s.hi_ts, s.next_url, started=s.pages > 0, listed=s.listed,
                            oldest_ts=s.oldest_ts, done=s.done)
                self._slices[s.lo_ts] = sl
                if not sl.done:
                    self._ready.append(sl)
            for oid, ts, updated, site, total in members:
                self._add_member_locked(oid, ts, updated, site, total, versions.get(oid))

    def _probe(self) -> tuple[float, int] | None:
        """The first list page of the whole period: ``(newest order time, expected pages)``."""
        paginator, url, params = self.source.start(self.spec.query())
        records, nxt, response = self.source.list_page(paginator, url, params)
        with self.cv:
            self._note_request(response)
            self.counts.list_pages += 1
        if not records:
            return None
        stamps = [created_ts(r) for r in records]
        self._early = (records, stamps)
        newest, oldest = max(stamps), min(stamps)
        if nxt is None:
            return newest, 1
        per_second = len(stamps) / max(newest - oldest, 60.0)
        expected = per_second * max(newest - self.spec.since_ts, 0.0)
        return newest, max(1, math.ceil(expected / 25))

    # -- workers --------------------------------------------------------------------------------

    def _worker(self) -> None:
        try:
            self._work()
        finally:
            with self.cv:
                self.cv.notify_all()

    def _work(self) -> None:
        while True:
            task = self._next_task()
            if task is None:
                return
            try:
                if not self._gate():
                    self._requeue(task)
                    return
                if isinstance(task, _Slice):
                    self._do_list(task)
                else:
                    self._do_detail(task)
            except BaseException as exc:  # noqa: BLE001 - first error stops the job, others finish
                with self.cv:
                    if isinstance(task, _Slice):
                        self._lists_inflight -= 1
                    if self.error is None:
                        self.error = exc
                    self.stop.set()
                    self.cv.notify_all()
                return

    def _next_task(self) -> _Slice | _Item | None:
        with self.cv:
            while True:
                if self.stop.is_set():
                    return None
                if self._ready:
                    self._lists_inflight += 1
                    return self._ready.popleft()
                if self._heap:
                    return heapq.heappop(self._heap)
                if self._deferred:
                    due, item = self._deferred[0]
                    wait = due - time.time()
                    if wait <= 0:
                        heapq.heappop(self._deferred)
                        return item
                    self.cv.wait(min(wait, 0.2))
                    continue
                if self._lists_inflight == 0:
                    self.cv.notify_all()
                    return None
                self.cv.wait(0.2)

    def _requeue(self, task: _Slice | _Item) -> None:
        with self.cv:
            if isinstance(task, _Slice):
                self._lists_inflight -= 1
                self._ready.appendleft(task)
            else:
                heapq.heappush(self._heap, task)
            self.cv.notify_all()

    def _gate(self) -> bool:
        """Wait for the rate limiter in small steps so ``cancel()`` is honoured within ~0.1 s."""
        while not self.stop.is_set():
            wait = self.source.current_wait()
            if wait <= 0.05:
                return True
            self.stop.wait(min(wait, 0.1))
        return False

    def _note_request(self, response: object = None) -> None:
        c = self.counts
        c.requests += 1
        c.stamps.append(time.monotonic())
        if response is not None and (getattr(response, "revalidated", False)
                                     or getattr(response, "status_code", 200) == 304):
            c.revalidated += 1

    def _do_list(self, sl: _Slice) -> None:
        if sl.paginator is None or sl.paginator.next_url is None:
            sl.paginator, url, params = self.source.start(self.spec.query(sl.lo_ts, sl.hi_ts), sl.next_url)
        else:
            url, params = sl.paginator.update_request()
        records, nxt, response = self.source.list_page(sl.paginator, url, params)
        created = [created_ts(r) for r in records]
        self.store.record_page(self.key, sl.lo_ts, records, created, nxt)
        versions = self.store.detail_versions([order_id(r) for r in records]) if self.details else {}
        with self.cv:
            self._note_request(response)
            self.counts.list_pages += 1
            self._lists_inflight -= 1
            sl.started = True
            sl.next_url = nxt
            sl.listed += len(records)
            if created:
                sl.oldest_ts = min([*created, *([sl.oldest_ts] if sl.oldest_ts is not None else [])])
            for r, ts in zip(records, created, strict=True):
                oid = order_id(r)
                site, total = r.get("site_id"), r.get("total")
                self._add_member_locked(oid, ts, r.get("updated_at"), site if isinstance(site, int) else None,
                                        float(total) if isinstance(total, int | float) else None, versions.get(oid))
            if nxt is None:
                sl.done = True
                sl.paginator = None  # its sets of seen ids and URLs are only for the walk
            else:
                self._ready.append(sl)
            self.cv.notify_all()

    def _do_detail(self, item: _Item) -> None:
        _, oid, listed = item
        result, expires = self.store.claim(oid, listed, self.owner, lease_s=LEASE_S, alive=owner_alive)
        if result == "busy":  # another process is fetching it: look again later, never ask twice
            with self.cv:
                heapq.heappush(self._deferred, (min(expires, time.time() + RECHECK_S), item))
                self.cv.notify_all()
            return
        if result in ("have", "missing"):
            with self.cv:
                if result == "have":
                    self._mark_done_locked(oid, reused=True)
                else:
                    self.missing.add(oid)
                self.cv.notify_all()
            return
        try:
            record = self._fetch_current(oid, listed)
        except NotFoundError:
            self.store.save_missing(oid, listed, owner=self.owner)
            with self.cv:
                self.missing.add(oid)
                self.cv.notify_all()
            return
        except BaseException:
            self.store.release(self.owner, oid)
            with self.cv:
                heapq.heappush(self._heap, item)
            raise
        self.store.save_detail(record, owner=self.owner)
        self.on_detail(oid)
        with self.cv:
            self.counts.details_fetched += 1
            self._mark_done_locked(oid, reused=False)
            self.cv.notify_all()

    def _fetch_current(self, oid: int, listed: str | None) -> dict[str, Any]:
        """The order's body, at least as new as the list said (a body is never trusted only
        because the transport returned it): an older one is asked for again, then fails."""
        wanted = timestamp(listed)
        for attempt in range(STALE_RETRIES + 1):
            try:
                record = self.source.order(oid)
            finally:
                with self.cv:
                    self._note_request()
            own = timestamp(record.get("updated_at"))
            if wanted is None or (own is not None and own >= wanted):
                return record
            if attempt < STALE_RETRIES:
                self.stop.wait(STALE_BACKOFF_S * 2**attempt)
        raise PullError(
            f"Kounta kept answering order {oid} with an older version (updated {record.get('updated_at')}) "
            f"than its list shows ({listed}); the pull stopped rather than keep stale data."
        )

    # -- bookkeeping ----------------------------------------------------------------------------

    def _mark_done_locked(self, oid: int, *, reused: bool) -> None:
        if not reused:
            self.reused_ids.discard(oid)
        elif oid not in self.done_ids:
            self.reused_ids.add(oid)
        self.done_ids.add(oid)

    def _add_member_locked(self, oid: int, ts: float, updated: str | None, site: int | None,
                           total: float | None, version: tuple[str | None, bool] | None) -> None:
        first = oid not in self.members
        if site is not None:
            site = self._site_ids.setdefault(site, site)
        self.members[oid] = (ts, site, total)
        if not self.details:
            return
        if version is not None and same_moment(version[0], updated):
            if version[1]:
                self.missing.add(oid)
            else:
                self._mark_done_locked(oid, reused=True)
            return
        # a changed order (new updated_at) must be fetched again
        self.done_ids.discard(oid)
        self.reused_ids.discard(oid)
        if first or version is not None:
            heapq.heappush(self._heap, (rank_key(self.seed, oid), oid, updated))

    def listing_done_locked(self) -> bool:
        """Whether every slice has been walked to its end (call with :attr:`cv` held)."""
        return bool(self._slices) and all(s.done for s in self._slices.values())

    def expected_orders_locked(self) -> int | None:
        """Orders listed so far plus an extrapolation over the slices not walked yet."""
        listed = len(self.members)
        if self.listing_done_locked():
            return listed
        now = time.time()
        covered = counted = 0.0
        extra = unseen = 0.0
        for s in self._slices.values():
            hi = s.hi_ts if s.hi_ts is not None else now
            if s.done:
                covered += max(hi - s.lo_ts, 0.0)
                counted += s.listed
            elif s.started and s.oldest_ts is not None:
                seen = max(hi - s.oldest_ts, 1.0)
                covered += seen
                counted += s.listed
                extra += s.listed / seen * max(s.oldest_ts - s.lo_ts, 0.0)
            else:
                unseen += max(hi - s.lo_ts, 0.0)
        if covered <= 0:
            return None
        extra += counted / covered * unseen
        return listed + int(round(extra))

    def progress(self, rate_limited: int) -> Progress:
        """A :class:`Progress` snapshot (``rate_limited``: 429s seen by the client meanwhile)."""
        with self.cv:
            c = self.counts
            done = self.state in ("finished", "failed", "cancelled")
            listed = len(self.members)
            expected = self.expected_orders_locked()
            now = time.monotonic()
            elapsed = (self.finished_at or now) - self.started
            recent = [t for t in c.stamps if t >= now - 60.0]
            span = min(60.0, elapsed) if elapsed > 0 else 0.0
            if done:
                rate = c.requests / elapsed * 60.0 if elapsed > 0 else 0.0
            else:
                rate = len(recent) / span * 60.0 if span >= 1.0 else 0.0
            to_go = eta = None
            if expected is not None:
                details_left = (expected - listed) + len(self._heap) + len(self._deferred) if self.details else 0
                pages_left = math.ceil(max(0, expected - listed) / 25) + sum(1 for s in self._slices.values()
                                                                             if not s.done)
                to_go = max(0, pages_left + details_left) if not done else 0
                pace = rate if len(recent) >= 20 else self.source.per_minute
                eta = to_go / pace * 60.0 if pace > 0 else None
            return Progress(
                state=self.state, requests_done=c.requests, requests_to_go=to_go, list_pages=c.list_pages,
                orders_listed=listed, orders_expected=expected, listing_done=self.listing_done_locked(),
                details_done=len(self.done_ids), details_total=listed - len(self.missing),
                details_fetched=c.details_fetched, details_reused=len(self.reused_ids), rate_per_minute=rate,
                limit_per_minute=self.source.per_minute, eta_s=eta,
                waiting_s=0.0 if done else self.source.current_wait(), elapsed_s=elapsed,
                revalidated=c.revalidated, rate_limited=rate_limited, details_elsewhere=len(self._deferred),
            )

    def member_ids(self) -> set[int]:
        """The ids of every listed order (without copying what is known of each)."""
        with self.cv:
            return set(self.members)

    def high_water(self) -> float | None:
        """``created_ts`` of the newest listed order (None before the first)."""
        with self.cv:
            return max((ts for ts, _, _ in self.members.values()), default=None)

    def done_newest_first(self) -> list[int]:
        """Ids whose details are in the store, newest ``created_at`` first (listing order among
        equal times)."""
        with self.cv:
            done = [oid for oid in self.members if oid in self.done_ids]
            members = self.members
            done.sort(key=lambda oid: -members[oid][0])
        return done

    def done_snapshot(self) -> set[int]:
        """Ids whose details are in the store, current for this run."""
        with self.cv:
            return set(self.done_ids)

    @property
    def threads(self) -> list[threading.Thread]:
        """The worker threads (empty before :meth:`run`)."""
        return list(self._threads)


def failure_message(error: BaseException | None, done: int, total: int) -> str:
    """The one line :meth:`PullJob.wait` raises: what stopped the pull, and whether it resumes."""
    what = " ".join(str(error).split()) if error is not None else "unknown error"
    kept = "" if isinstance(error, DataFileError) else \
        " Everything fetched so far is kept; run the same pull again to resume."
    return f"The pull stopped after {done:,} of {total:,} listed orders: {what}{kept}".replace(".. ", ". ")

