"""Background pull jobs: list every order of a period, then fetch each one's details at full speed.

Shape of a pull (``pull_orders``):

1. The period is cut into time slices; each slice's list pages (25 abridged orders each, newest
   first) are walked by a pool of worker threads, several slices at once, so network latency never
   keeps the request rate under the client's rate limit. Every page and the cursor reached are
   written to the :class:`~kounta_nb.pull.store.PullStore` in one transaction.
2. Order details are fetched in a seeded random order (a hash of seed and order id), so at any
   moment the longest fully fetched prefix of that order is a simple random sample of the period's
   orders: :meth:`PullJob.estimate` turns it into totals with intervals long before the end.
   Workers pick list pages first and details when no page is ready.
3. Details already in the store with the ``updated_at`` the list shows are never fetched again, so
   an interrupted pull (error, ``cancel()``, closed laptop, kernel restart) resumes where it stopped
   and a re-run only revalidates list pages (304s through the client's ETag cache).
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import html
import math
import sys
import threading
import time
import weakref
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..dates import LAST, parse_moment
from ..endpoints import normalise_status
from ..errors import ConfigError, DataFileError, KountaError, NotFoundError, PullError
from ._api import Api, created_ts, iso
from .orders_view import StoredOrders
from .store import PullStore, order_id, store_path, timestamp

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["INCREMENTAL_OVERLAP", "Progress", "PullJob", "pull_orders", "running_jobs"]

#: ``since="last"`` starts this long before the previous pull's newest order, so orders completed
#: late (open tabs, offline registers uploading afterwards) are still caught; repeats are de-duplicated.
INCREMENTAL_OVERLAP = timedelta(hours=6)
#: Estimate dimensions: known for every listed order (post-strata) or only from details (domains).
KNOWN_GROUPS = ("hour", "weekday", "day", "site")
DETAIL_GROUPS = ("product", "category")
#: A fetched body older than its listed ``updated_at`` is asked for again this often, with a
#: doubling pause from STALE_BACKOFF_S (a replica catching up), before the pull fails.
STALE_RETRIES = 3
STALE_BACKOFF_S = 0.5
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

State = Literal["starting", "listing", "fetching", "finished", "failed", "cancelled"]


@dataclass(frozen=True)
class Progress:
    """A snapshot of a pull, safe to read from any thread."""

    state: str
    requests_done: int
    requests_to_go: int | None
    list_pages: int
    orders_listed: int
    orders_expected: int | None
    listing_done: bool
    details_done: int
    details_total: int
    details_fetched: int
    details_reused: int
    rate_per_minute: float
    limit_per_minute: float
    eta_s: float | None
    waiting_s: float
    elapsed_s: float
    revalidated: int
    rate_limited: int
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The snapshot as a plain dict."""
        return asdict(self)

    def summary(self) -> str:
        """One line for people: state, details, requests, rate and ETA."""
        total = f"/{self.details_total:,}" if self.listing_done else f"/{self.orders_expected or 0:,}~"
        parts = [
            self.state,
            f"{self.details_done:,}{total} orders with details",
            f"{self.requests_done:,} requests",
            f"{self.rate_per_minute:.0f}/min of {self.limit_per_minute:.0f}",
        ]
        if self.eta_s is not None and self.state in ("listing", "fetching"):
            parts.append(f"ETA {_duration(self.eta_s)}")
        if self.waiting_s > 0.5:
            parts.append(f"waiting {self.waiting_s:.0f}s for the rate limit")
        if self.error:
            parts.append(self.error)
        return ", ".join(parts)


@dataclass
class _Slice:
    lo_ts: float
    hi_ts: float | None
    next_url: str | None
    started: bool
    listed: int = 0
    oldest_ts: float | None = None
    done: bool = False


@dataclass
class _Counters:
    requests: int = 0
    list_pages: int = 0
    details_fetched: int = 0
    revalidated: int = 0
    stamps: deque[float] = field(default_factory=lambda: deque(maxlen=4096))


def rank_key(seed: int, oid: int) -> int:
    """The order's place in the seeded random fetch order (independent of the data)."""
    digest = hashlib.blake2b(f"{seed}:{oid}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def pull_key(site: int | None, status: str | None, since: datetime, until: datetime | None) -> str:
    """The identity of a pull definition: same parameters, same stored progress."""
    return f"site={site if site is not None else '*'}|status={status or '*'}|since={since.timestamp():.0f}|until={'open' if until is None else f'{until.timestamp():.0f}'}"


def plan_slices(since_ts: float, until_ts: float | None, end_ts: float, count: int) -> list[tuple[float, float | None]]:
    """Cut ``[since, end)`` into ``count`` equal time slices (at least an hour each), newest first.

    ``end`` is where orders stop (the newest one); the newest slice reaches on to ``until`` and
    stays open (``hi=None``) for an open-ended pull, so a re-run sees new orders.
    """
    end = min(end_ts, until_ts) if until_ts is not None else end_ts
    end = max(end, since_ts + 1.0)
    span = max(end - since_ts, 1.0)
    count = max(1, min(count, int(span // 3600) or 1))
    edges = [since_ts + span * i / count for i in range(count + 1)]
    out: list[tuple[float, float | None]] = []
    for i in range(count):
        hi: float | None = edges[i + 1]
        if i == count - 1:
            hi = until_ts
        out.append((edges[i], hi))
    return out[::-1]


def _same_moment(a: str | None, b: str | None) -> bool:
    """Whether two API timestamps name the same instant (offsets may be written differently)."""
    if a == b:
        return True
    ta, tb = timestamp(a), timestamp(b)
    return ta is not None and ta == tb


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:
        return False
    return ip is not None and "ipykernel" in sys.modules


def default_workers(per_minute: float) -> int:
    """Enough threads that up to ~2 s of latency per request still saturates the limit."""
    return max(4, min(32, math.ceil(per_minute / 60.0 * 2.0) + 2))


def resolve_moment(value: datetime | date | str, tz: Any, *, end: bool) -> datetime:
    """``since``/``until`` → tz-aware datetime in the company zone (dates mean local midnight)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)
    if isinstance(value, date):
        return parse_moment(value.isoformat(), tz=tz, end=end)
    if isinstance(value, timedelta):
        return datetime.now(tz) - value
    if isinstance(value, str):
        return parse_moment(value, tz=tz, end=end)
    raise ConfigError(f"A pull period needs a date, datetime or text like '30d', not {type(value).__name__}.")


class PullJob:
    """A pull running on a background thread; the notebook stays free meanwhile.

    Read :attr:`progress` (or just display the job), call :meth:`estimate` for early answers,
    :meth:`frames` for the DataFrames so far, :meth:`wait` to block until done, :meth:`cancel`
    to stop. Running the same pull again resumes it; nothing already fetched is fetched again.
    """

    def __init__(
        self,
        client: Any,
        since: datetime | date | str,
        until: datetime | date | str | None = None,
        *,
        site: int | str | None = None,
        status: str | None = "complete",
        details: bool = True,
        seed: int = 0,
        store: PullStore | str | Path | None = None,
        progress: bool | Literal["auto"] = "auto",
        workers: int | None = None,
        overlap: timedelta = INCREMENTAL_OVERLAP,
        slices: int | None = None,
        _start: bool = True,
    ) -> None:
        if not isinstance(seed, int):
            raise ConfigError("seed must be a whole number.")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ConfigError("workers must be a positive whole number.")
        if progress not in (True, False, "auto"):
            raise ConfigError("progress must be True, False or 'auto'.")
        self._api = Api(client)
        self.client = client
        self.seed = seed
        self.details = bool(details)
        self.status = normalise_status(status) if status else None
        self.site = self._api.resolve_site(site)
        self.tz = self._api.tz
        if isinstance(store, PullStore):
            self.store = store
        else:
            path = Path(store) if store is not None else store_path(self._api.api_base, self._api.company_id)
            self.store = PullStore(path)
        now = datetime.now(self.tz)
        self.incremental = isinstance(since, str) and since.strip().lower() == LAST
        if self.incremental:
            last = self.store.last_finished(self.site, self.status or "*")
            if last is None or last.high_water is None:
                raise ConfigError(
                    "since='last' needs an earlier finished pull of the same site and status; "
                    "run one with a start date first."
                )
            self.since = datetime.fromtimestamp(last.high_water, self.tz) - overlap
        else:
            self.since = resolve_moment(since, self.tz, end=False)  # type: ignore[arg-type]
        self.until = resolve_moment(until, self.tz, end=True) if until is not None else None
        if self.until is not None and self.until <= self.since:
            raise ConfigError("The pull period is empty: 'until' must come after 'since'.")
        if self.since > now + timedelta(days=1):
            raise ConfigError("The pull period starts in the future.")
        self.key = pull_key(self.site, self.status, self.since, self.until)
        if self.incremental:
            # an incremental pull is its own (open) window; its key marks it so it never collides
            self.key += "|incremental"
        self.workers = workers or default_workers(self._api.per_minute)
        self._slice_count = max(4, 2 * self.workers)
        self._slice_override = slices
        self._early_members: tuple[list[dict[str, Any]], list[float]] | None = None
        self._cv = threading.Condition()
        self._stop = threading.Event()
        self._cancelled = False
        self._error: BaseException | None = None
        self._state: State = "starting"
        self._slices: dict[float, _Slice] = {}
        self._ready: deque[_Slice] = deque()
        self._lists_inflight = 0
        self._heap: list[tuple[int, int, str | None]] = []
        self._member_rank: dict[int, int] = {}
        self._members: dict[int, tuple[float, int | None, float | None]] = {}
        self._done_ids: set[int] = set()
        self._missing: set[int] = set()
        self._reused = 0
        self._counts = _Counters()
        self._started = time.monotonic()
        self._finished_at: float | None = None
        self._stats0 = self._stats_snapshot()
        self._threads: list[threading.Thread] = []
        self._bar: Any = None
        self._group_cache: dict[str, dict[Any, str]] = {}
        self._lines_cache: dict[int, list[tuple[Any, str | None, float, float]]] = {}
        show = _in_notebook() or sys.stderr.isatty() if progress == "auto" else bool(progress)
        if show:
            self._bar = _make_bar()
        self._thread = threading.Thread(target=self._run, name=f"kounta-pull-{self._api.company_id}", daemon=True)
        if _start:
            self._thread.start()

    # -- public surface ------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """``starting``, ``listing``, ``fetching``, ``finished``, ``failed`` or ``cancelled``."""
        return self._state

    @property
    def done(self) -> bool:
        """True once the job finished, failed or was cancelled (its threads have stopped)."""
        return self._state in ("finished", "failed", "cancelled")

    @property
    def error(self) -> BaseException | None:
        """The error that stopped the job, if any."""
        return self._error

    def cancel(self, wait: bool = True, timeout: float | None = 30.0) -> None:
        """Stop the pull: no new request starts; requests in flight finish and are stored.

        Everything fetched so far stays in the store; the same pull later resumes from here.
        """
        with self._cv:
            if not self.done:
                self._cancelled = True
            self._stop.set()
            self._cv.notify_all()
        if wait and self._thread.is_alive():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> PullJob:
        """Block until the job ends; re-raise its failure as a one-line :class:`PullError`."""
        if self._thread.ident is None:
            raise PullError("This pull was never started.")
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise PullError(f"The pull is still running after {timeout:g} s: {self.progress.summary()}.")
        if self._state == "failed":
            raise PullError(self._failure_message()) from self._error
        return self

    @property
    def progress(self) -> Progress:
        """Where the pull stands (see :class:`Progress`)."""
        with self._cv:
            c = self._counts
            listed = len(self._member_rank)
            expected = self._expected_orders_locked()
            listing_done = self._listing_done_locked()
            now = time.monotonic()
            elapsed = (self._finished_at or now) - self._started
            recent = [t for t in c.stamps if t >= now - 60.0]
            span = min(60.0, elapsed) if elapsed > 0 else 0.0
            if self.done:
                rate = c.requests / elapsed * 60.0 if elapsed > 0 else 0.0
            else:
                rate = len(recent) / span * 60.0 if span >= 1.0 else 0.0
            to_go = None
            eta = None
            if expected is not None:
                details_left = (expected - listed) + len(self._heap) if self.details else 0
                pages_left = self._pages_left_locked()
                to_go = max(0, pages_left + details_left) if not self.done else 0
                pace = rate if len(recent) >= 20 else self._api.per_minute
                eta = to_go / pace * 60.0 if pace > 0 else None
            stats_now = self._stats_snapshot()
            return Progress(
                state=self._state,
                requests_done=c.requests,
                requests_to_go=to_go,
                list_pages=c.list_pages,
                orders_listed=listed,
                orders_expected=expected,
                listing_done=listing_done,
                details_done=len(self._done_ids),
                details_total=listed - len(self._missing),
                details_fetched=c.details_fetched,
                details_reused=self._reused,
                rate_per_minute=rate,
                limit_per_minute=self._api.per_minute,
                eta_s=eta,
                waiting_s=0.0 if self.done else self._api.current_wait(),
                elapsed_s=elapsed,
                revalidated=c.revalidated,
                rate_limited=max(0, stats_now.get("rate_limited", 0) - self._stats0.get("rate_limited", 0)),
                error=self._failure_message() if self._state == "failed" else None,
            )

    @property
    def orders(self) -> StoredOrders:
        """The full orders fetched so far (this pull's orders only), newest first.

        A read-only sequence backed by the store: only the ids are held in memory; iterating
        streams bodies 2,000 at a time, ``job.orders[i]`` reads one, ``list(job.orders)``
        materialises them all (several hundred MB for a six-month pull: prefer :meth:`frames`).
        """
        members = self._members_snapshot()
        have = self._done_ids_snapshot()
        ids = [oid for oid, _ in sorted(members.items(), key=lambda kv: -kv[1][0]) if oid in have]
        return StoredOrders(self.store, ids)

    def frames(self) -> dict[str, pd.DataFrame]:
        """DataFrames of what is in so far: ``orders``, ``lines``, ``payments``, ``options`` (full
        orders via :func:`kounta_nb.frames.order_tables`) and ``listed`` (every abridged order).

        Built from the store 2,000 orders at a time, so no dict per order stays alive: memory
        holds the frames themselves plus one chunk.
        """
        from .. import frames as _frames

        meta = {"endpoint": self._api.list_path(self.site, self.status), "since": iso(self.since),
                "until": iso(self.until) if self.until else None, "pull": self.progress.as_dict()}
        parts: dict[str, list[pd.DataFrame]] = {}
        for chunk in self.orders.chunks():
            for name, df in _frames.order_tables(chunk, self.tz, meta=meta).items():
                parts.setdefault(name, []).append(df)
        tables = {name: _frames.concat(dfs) for name, dfs in parts.items()} or \
            _frames.order_tables([], self.tz, meta=meta)
        listed = [_frames.frame("orders", chunk, tz=self.tz, meta=meta) for chunk in self.store.iter_summaries(self.key)]
        tables["listed"] = _frames.concat(listed) if listed else _frames.frame("orders", [], tz=self.tz, meta=meta)
        return tables

    def estimate(
        self,
        by: Literal["product", "category", "hour", "weekday", "site", "day"] = "product",
        metric: Literal["revenue", "quantity"] = "revenue",
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Totals by group for the whole period from the details fetched so far, with intervals.

        ``revenue`` is line totals including tax; ``quantity`` is units sold. Columns: ``estimate,
        lo, hi`` (the ``confidence`` interval), ``se``, ``sampled`` (sampled orders in the group),
        ``exact``. Once every detail is in, estimates are the exact totals with zero-width intervals.
        """
        from .estimates import estimate_totals

        if by not in KNOWN_GROUPS + DETAIL_GROUPS:
            raise ConfigError(f"estimate(by=…) must be one of {', '.join(KNOWN_GROUPS + DETAIL_GROUPS)}, not {by!r}.")
        if metric not in ("revenue", "quantity"):
            raise ConfigError(f"estimate(metric=…) must be 'revenue' or 'quantity', not {metric!r}.")
        if not self.details:
            raise PullError("This pull does not fetch order details (details=False), so there is nothing to estimate from.")
        with self._cv:
            if not self._listing_done_locked():
                raise PullError(
                    f"Estimates start once the order list is complete ({len(self._member_rank):,} orders "
                    "listed so far); try again in a moment."
                )
        population, sample = self.sample()
        table = estimate_totals(
            self._values(sample, by, metric, population),
            population,
            sample,
            groups_known=by in KNOWN_GROUPS,
            confidence=confidence,
        )
        table.index.name = by
        if by in ("hour", "day", "weekday"):
            order = list(_WEEKDAYS) if by == "weekday" else sorted(table.index)
            table = table.reindex([g for g in order if g in table.index])
        table.attrs.update({"by": by, "metric": metric, "n": len(sample), "N": len(population)})
        return table

    def sample(self) -> tuple[pd.DataFrame, list[int]]:
        """``(population, sample_ids)``: every listed order (``x`` = list total, ``group`` columns
        for the known dimensions) and the longest fully fetched prefix of the random fetch order."""
        import pandas as pd

        members = self._members_snapshot()
        done = self._done_ids_snapshot()
        with self._cv:
            missing = set(self._missing)
        rows = [(oid, ts, site, total) for oid, (ts, site, total) in members.items() if oid not in missing]
        population = pd.DataFrame(rows, columns=["order_id", "created_ts", "site_id", "x"]).set_index("order_id")
        with self._cv:
            ranks = dict(self._member_rank)
        # the members' ranks were computed as they were listed; rank_key only for a stray late one
        ranked = sorted(population.index, key=lambda oid: ranks[oid] if oid in ranks else rank_key(self.seed, oid))
        sample: list[int] = []
        for oid in ranked:
            if oid not in done:
                break
            sample.append(oid)
        return population, sample

    def __repr__(self) -> str:
        return f"PullJob({self.progress.summary()})"

    def _repr_html_(self) -> str:
        p = self.progress
        rows = [
            ("State", p.state),
            ("Period", f"{self.since:%Y-%m-%d %H:%M} → {f'{self.until:%Y-%m-%d %H:%M}' if self.until else 'now'}"),
            ("Orders listed", f"{p.orders_listed:,}" + ("" if p.listing_done else f" of ~{p.orders_expected or 0:,}")),
            ("Details", f"{p.details_done:,} of {p.details_total:,} ({p.details_reused:,} reused from the store)"),
            ("Requests", f"{p.requests_done:,} done" + (f", ~{p.requests_to_go:,} to go" if p.requests_to_go else "")),
            ("Rate", f"{p.rate_per_minute:.0f}/min (limit {p.limit_per_minute:.0f}/min), {p.rate_limited} answered 429"),
        ]
        if p.eta_s is not None and not self.done:
            rows.append(("ETA", _duration(p.eta_s)))
        if p.error:
            rows.append(("Error", p.error))
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table class='kounta-pull'><caption style='text-align:left'>Kounta order pull</caption>{body}</table>"

    # -- the run -------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._prepare()
            self._set_state("listing")
            for i in range(self.workers):
                t = threading.Thread(target=self._worker, name=f"kounta-pull-worker-{i}", daemon=True)
                t.start()
                self._threads.append(t)
            last_bar = 0.0
            while any(t.is_alive() for t in self._threads):
                with self._cv:
                    if self._state == "listing" and self._listing_done_locked():
                        self._state = "fetching"
                    self._cv.wait(0.25)
                if time.monotonic() - last_bar >= 0.25:
                    self._update_bar()
                    last_bar = time.monotonic()
            with self._cv:
                if self._error is not None:
                    self._state = "failed"
                elif self._cancelled:
                    self._state = "cancelled"
                else:
                    self._state = "finished"
        except BaseException as exc:  # noqa: BLE001 - reported through wait() / progress
            with self._cv:
                self._error = exc
                self._state = "failed"
        finally:
            self._finished_at = time.monotonic()
            self._record_final_state()
            self._update_bar(final=True)
            with self._cv:
                self._cv.notify_all()

    def _record_final_state(self) -> None:
        """Write the outcome to the store; a pull whose store vanished is not 'finished'."""
        try:
            high = max((ts for ts, _, _ in self._members_snapshot().values()), default=None)
            self.store.set_pull_state(self.key, self._state, high_water=high)
        except DataFileError as exc:
            with self._cv:
                if self._state == "finished":
                    self._state = "failed"
                    self._error = exc
        except Exception:  # noqa: BLE001 - the store may be closed by the user; state is in memory
            pass

    def _prepare(self) -> None:
        until_ts = self.until.timestamp() if self.until else None
        plan: list[tuple[float, float | None]] = []
        if self.store.pull(self.key) is None:
            # Slice the span that actually holds orders: the newest order of the period bounds it
            # (the API's clock, not ours, decides what "now" is).
            probe = self._probe()
            if probe is None:
                plan = [(self.since.timestamp(), until_ts)]
            else:
                end_ts, pages = probe
                # every slice costs about one partly filled page more than one long walk, so slices
                # get ~8 pages each; workers without a page to walk fetch details meanwhile
                count = self._slice_override or max(1, min(self._slice_count, pages // 5))
                plan = plan_slices(self.since.timestamp(), until_ts, end_ts + 1.0, count)
        self.store.begin_pull(
            self.key,
            site=self.site,
            status=self.status or "*",
            since_ts=self.since.timestamp(),
            until_ts=self.until.timestamp() if self.until else None,
            slices=plan,
        )
        early = self._early_members
        if early is not None:
            # the probe's page is the newest orders: their details can start while slices list
            self.store.record_orders(self.key, *early)
        members = self.store.members(self.key)
        versions = self.store.detail_versions([m[0] for m in members])
        with self._cv:
            for s in self.store.slices(self.key):
                sl = _Slice(s.lo_ts, s.hi_ts, s.next_url, started=s.pages > 0, listed=s.listed, oldest_ts=s.oldest_ts, done=s.done)
                self._slices[s.lo_ts] = sl
                if not sl.done:
                    self._ready.append(sl)
            for oid, ts, updated, site, total in members:
                self._add_member_locked(oid, ts, updated, site, total, versions.get(oid))

    def _probe(self) -> tuple[float, int] | None:
        """The first list page of the whole period: ``(newest order time, expected pages)``."""
        params = {"created_gte": iso(self.since)}
        if self.until is not None:
            params["created_lt"] = iso(self.until)
        records, nxt, response = self._api.list_page(self._api.list_path(self.site, self.status), params)
        with self._cv:
            self._note_request(response)
            self._counts.list_pages += 1
        if not records:
            return None
        stamps = [created_ts(r) for r in records]
        self._early_members = (records, stamps)
        newest, oldest = max(stamps), min(stamps)
        if nxt is None:
            return newest, 1
        per_second = len(stamps) / max(newest - oldest, 60.0)
        expected = per_second * max(newest - self.since.timestamp(), 0.0)
        return newest, max(1, math.ceil(expected / 25))

    def _add_member_locked(self, oid: int, ts: float, updated: str | None, site: int | None,
                           total: float | None, version: tuple[str | None, bool] | None) -> None:
        rank = rank_key(self.seed, oid)
        first = oid not in self._member_rank
        self._member_rank[oid] = rank
        self._members[oid] = (ts, site, total)
        if not self.details:
            return
        if version is not None and _same_moment(version[0], updated):
            if version[1]:
                self._missing.add(oid)
            elif oid not in self._done_ids:
                self._done_ids.add(oid)
                self._reused += 1
            return
        # a changed order (new updated_at) must be fetched again
        self._done_ids.discard(oid)
        if first or version is not None:
            heapq.heappush(self._heap, (rank, oid, updated))

    def _worker(self) -> None:
        try:
            self._work()
        finally:
            with self._cv:
                self._cv.notify_all()

    def _work(self) -> None:
        while True:
            task = self._next_task()
            if task is None:
                return
            kind, payload = task
            try:
                if not self._gate():
                    self._requeue(kind, payload)
                    return
                if kind == "list":
                    self._do_list(payload)
                else:
                    self._do_detail(payload)
            except BaseException as exc:  # noqa: BLE001 - first error stops the job, others finish
                with self._cv:
                    if kind == "list":
                        self._lists_inflight -= 1
                    if self._error is None:
                        self._error = exc
                    self._stop.set()
                    self._cv.notify_all()
                return

    def _next_task(self) -> tuple[str, Any] | None:
        with self._cv:
            while True:
                if self._stop.is_set():
                    return None
                if self._ready:
                    sl = self._ready.popleft()
                    self._lists_inflight += 1
                    return "list", sl
                if self._heap:
                    return "detail", heapq.heappop(self._heap)
                if self._lists_inflight == 0:
                    self._cv.notify_all()
                    return None
                self._cv.wait(0.2)

    def _requeue(self, kind: str, payload: Any) -> None:
        with self._cv:
            if kind == "list":
                self._lists_inflight -= 1
                self._ready.appendleft(payload)
            else:
                heapq.heappush(self._heap, payload)
            self._cv.notify_all()

    def _gate(self) -> bool:
        """Wait for the rate limiter in small steps so ``cancel()`` is honoured within ~0.1 s."""
        while not self._stop.is_set():
            wait = self._api.current_wait()
            if wait <= 0.05:
                return True
            self._stop.wait(min(wait, 0.1))
        return False

    def _note_request(self, response: Any = None) -> None:
        c = self._counts
        c.requests += 1
        c.stamps.append(time.monotonic())
        if response is not None and (getattr(response, "revalidated", False) or getattr(response, "status_code", 200) == 304):
            c.revalidated += 1

    def _do_list(self, sl: _Slice) -> None:
        if sl.next_url:
            url, params = sl.next_url, None
        else:
            url = self._api.list_path(self.site, self.status)
            params = {"created_gte": iso(datetime.fromtimestamp(sl.lo_ts, self.tz))}
            if sl.hi_ts is not None:
                params["created_lt"] = iso(datetime.fromtimestamp(sl.hi_ts, self.tz))
        records, nxt, response = self._api.list_page(url, params)
        if nxt is not None and nxt == sl.next_url:
            nxt = None  # a cursor pointing at itself would loop forever
        created = [created_ts(r) for r in records]
        self.store.record_page(self.key, sl.lo_ts, records, created, nxt)
        versions = self.store.detail_versions([order_id(r) for r in records]) if self.details else {}
        with self._cv:
            self._note_request(response)
            self._counts.list_pages += 1
            self._lists_inflight -= 1
            sl.started = True
            sl.next_url = nxt
            sl.listed += len(records)
            if created:
                sl.oldest_ts = min(created + ([sl.oldest_ts] if sl.oldest_ts is not None else []))
            for r, ts in zip(records, created, strict=True):
                oid = order_id(r)
                self._add_member_locked(oid, ts, r.get("updated_at"), r.get("site_id"), r.get("total"), versions.get(oid))
            if nxt is None:
                sl.done = True
            else:
                self._ready.append(sl)
            self._cv.notify_all()

    def _do_detail(self, item: tuple[int, int, str | None]) -> None:
        _, oid, updated = item
        try:
            record = self._fetch_current(oid, updated)
        except NotFoundError:
            self.store.save_missing(oid, updated)
            with self._cv:
                self._missing.add(oid)
                self._cv.notify_all()
            return
        except KountaError:
            with self._cv:
                heapq.heappush(self._heap, item)
            raise
        self.store.save_detail(record)
        with self._cv:
            self._lines_cache.pop(oid, None)
            self._counts.details_fetched += 1
            self._done_ids.add(oid)
            self._cv.notify_all()

    def _fetch_current(self, oid: int, listed: str | None) -> dict[str, Any]:
        """The order's body, at least as new as the list said (a body is never trusted only
        because the transport returned it): an older one is asked for again, then fails."""
        wanted = timestamp(listed)
        for attempt in range(STALE_RETRIES + 1):
            try:
                record = self._api.order(oid)
            finally:
                with self._cv:
                    self._note_request()
            own = timestamp(record.get("updated_at"))
            if wanted is None or (own is not None and own >= wanted):
                return record
            if attempt < STALE_RETRIES:
                self._stop.wait(STALE_BACKOFF_S * 2**attempt)
        raise PullError(
            f"Kounta kept answering order {oid} with an older version (updated {record.get('updated_at')}) "
            f"than its list shows ({listed}); the pull stopped rather than keep stale data."
        )

    # -- bookkeeping ----------------------------------------------------------------------------

    def _set_state(self, state: State) -> None:
        with self._cv:
            if self._state not in ("finished", "failed", "cancelled"):
                self._state = state

    def _listing_done_locked(self) -> bool:
        return bool(self._slices) and all(s.done for s in self._slices.values())

    def _expected_orders_locked(self) -> int | None:
        listed = len(self._member_rank)
        if self._listing_done_locked():
            return listed
        now = time.time()
        covered = 0.0
        counted = 0
        extra = 0.0
        unseen = 0.0
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

    def _pages_left_locked(self) -> int:
        expected = self._expected_orders_locked() or 0
        missing = max(0, expected - len(self._member_rank))
        open_slices = sum(1 for s in self._slices.values() if not s.done)
        return math.ceil(missing / 25) + open_slices

    def _members_snapshot(self) -> dict[int, tuple[float, int | None, float | None]]:
        with self._cv:
            return dict(self._members)

    def _done_ids_snapshot(self) -> set[int]:
        with self._cv:
            return set(self._done_ids)

    def _stats_snapshot(self) -> dict[str, int]:
        try:
            stats = self._api.stats()
        except Exception:  # noqa: BLE001 - figures only
            return {}
        snap = getattr(stats, "snapshot", None)
        stats = snap() if callable(snap) else stats
        out: dict[str, int] = {}
        for name in ("requests", "rate_limited", "revalidated", "from_cache", "retries"):
            value = getattr(stats, name, None)
            if value is None and isinstance(stats, dict):
                value = stats.get(name)
            if isinstance(value, (int, float)):
                out[name] = int(value)
        return out

    def _failure_message(self) -> str:
        err = self._error
        what = " ".join(str(err).split()) if err is not None else "unknown error"
        with self._cv:
            done, total = len(self._done_ids), len(self._member_rank)
        kept = "" if isinstance(err, DataFileError) else \
            " Everything fetched so far is kept; run the same pull again to resume."
        return f"The pull stopped after {done:,} of {total:,} listed orders: {what}{kept}".replace(".. ", ". ")

    def _close_bar(self) -> None:
        if self._bar is not None:
            with contextlib.suppress(Exception):
                self._bar.close()
            self._bar = None

    def _update_bar(self, final: bool = False) -> None:
        bar = self._bar
        if bar is None:
            return
        try:
            p = self.progress
            total = p.requests_done + (p.requests_to_go or 0)
            if total and bar.total != total:
                bar.total = total
            bar.n = p.requests_done
            bar.set_postfix_str(f"{p.state}, {p.details_done:,}/{p.details_total:,} orders, {p.rate_per_minute:.0f}/min", refresh=False)
            bar.refresh()
            if final:
                bar.close()
                self._bar = None
        except Exception:  # noqa: BLE001 - a broken display never stops a pull
            self._bar = None

    # -- estimate helpers ---------------------------------------------------------------------

    def _values(self, sample: list[int], by: str, metric: str, population: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        rows: list[tuple[int, Any, float]] = []
        groups = self._known_groups(by, population) if by in KNOWN_GROUPS else None
        category_of = self._categories() if by == "category" else None
        for oid, lines in self._lines_of(sample).items():
            for pid, name, quantity, revenue in lines:
                value = quantity if metric == "quantity" else revenue
                if groups is not None:
                    rows.append((oid, groups[oid], value))
                elif by == "product":
                    rows.append((oid, name or f"product {pid}", value))
                else:
                    rows.append((oid, (category_of or {}).get(pid, "(no category)"), value))
        if groups is not None:
            population["group"] = [groups[oid] for oid in population.index]
        return pd.DataFrame(rows, columns=["order_id", "group", "y"])

    def _lines_of(self, ids: list[int]) -> dict[int, list[tuple[Any, str | None, float, float]]]:
        """``(product id, name, quantity, revenue)`` per line of each order, parsed once per job."""
        cache = self._lines_cache
        with self._cv:
            todo = [oid for oid in ids if oid not in cache]
        for record in self.store.details(todo):
            parsed = []
            for line in record.get("lines") or []:
                product = line.get("product") or {}
                parsed.append((product.get("id"), product.get("name"), line_value(line, "quantity"),
                               line_value(line, "revenue")))
            with self._cv:
                cache[order_id(record)] = parsed
        with self._cv:
            return {oid: cache.get(oid, []) for oid in ids}

    def _known_groups(self, by: str, population: pd.DataFrame) -> dict[int, Any]:
        names = self._site_names() if by == "site" else {}
        out: dict[int, Any] = {}
        for oid, ts, site in zip(population.index, population["created_ts"], population["site_id"], strict=True):
            moment = datetime.fromtimestamp(float(ts), self.tz)
            if by == "hour":
                out[oid] = moment.hour
            elif by == "weekday":
                out[oid] = _WEEKDAYS[moment.weekday()]
            elif by == "day":
                out[oid] = moment.date().isoformat()
            else:
                out[oid] = names.get(site, f"site {site}")
        return out

    def _site_names(self) -> dict[Any, str]:
        if "site" not in self._group_cache:
            try:
                self._group_cache["site"] = {s.get("id"): str(s.get("name")) for s in self.client.sites()}
            except KountaError:
                self._group_cache["site"] = {}
        return self._group_cache["site"]

    def _categories(self) -> dict[Any, str]:
        """product id → its first category's name (one request per category, cached per job)."""
        if "category" not in self._group_cache:
            mapping: dict[Any, str] = {}
            for cat in self.client.categories():
                for product in self.client.category_products(cat.get("id")):
                    mapping.setdefault(product.get("id"), str(cat.get("name")))
            self._group_cache["category"] = mapping
        return self._group_cache["category"]


def line_value(line: dict[str, Any], metric: str) -> float:
    """A line's revenue (total including tax) or quantity."""
    quantity = float(line.get("quantity") or 0.0)
    if metric == "quantity":
        return quantity
    ex_tax = line.get("line_total_ex_tax")
    tax = line.get("line_total_tax")
    if ex_tax is None:
        return quantity * (float(line.get("unit_price") or 0.0) + float(line.get("unit_tax") or 0.0))
    return float(ex_tax) + float(tax or 0.0)


def _make_bar() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is a dependency; a stripped install just gets no bar
        return None
    return tqdm(total=None, unit="req", desc="Kounta pull", leave=True, dynamic_ncols=True)


def pull_orders(
    client: Any,
    since: datetime | date | str,
    until: datetime | date | str | None = None,
    *,
    site: int | str | None = None,
    status: str | None = "complete",
    details: bool = True,
    seed: int = 0,
    store: PullStore | str | Path | None = None,
    progress: bool | Literal["auto"] = "auto",
    workers: int | None = None,
) -> PullJob:
    """Start pulling every order of a period in the background and return the :class:`PullJob`.

    ``since``/``until``: datetime, date, or text (``2026-05-01``, ``30d``, ``12h``); ``until=None``
    means up to now; ``since="last"`` continues from the newest order of the last finished pull of
    the same site and status. ``site``: id, code or name. ``status``: the order status path
    filter (``None`` = every status). ``store``: a :class:`PullStore` or a path (default: one file
    per company under the cache directory). ``workers`` defaults to enough threads to keep the
    rate limit busy.
    """
    job = PullJob(client, since, until, site=site, status=status, details=details, seed=seed,
                  store=store, progress=progress, workers=workers, _start=False)
    with _RUNNING_LOCK:
        # the same pull already running in this process: hand that one back rather than pay twice
        running = _RUNNING.get((str(job.store.path), job.key))
        if running is not None and not running.done:
            job._close_bar()
            return running
        _RUNNING[(str(job.store.path), job.key)] = job
        job._thread.start()
    return job


_RUNNING: weakref.WeakValueDictionary[tuple[str, str], PullJob] = weakref.WeakValueDictionary()
_RUNNING_LOCK = threading.Lock()


def running_jobs(client: Any = None) -> list[PullJob]:
    """The pulls still running in this process — only those of ``client`` when it is given."""
    with _RUNNING_LOCK:
        jobs = list(_RUNNING.values())
    return [job for job in jobs if not job.done and (client is None or job.client is client)]
