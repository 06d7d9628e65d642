"""Background pull jobs: every order of a period with its details, while the notebook stays free.

:func:`pull_orders` resolves the period (:mod:`.plan`), opens the company's
:class:`~kounta_nb.pull.store.PullStore`, and runs a :class:`~kounta_nb.pull.scheduler.Scheduler`
on a background thread. The :class:`PullJob` it returns shows :class:`~.progress.Progress`,
answers early with :meth:`PullJob.estimate` (:mod:`.analysis`), and builds DataFrames from the
store in chunks (:meth:`PullJob.frames`). Running the same pull again resumes it; a finished one is
revalidated (list pages by 304) and only orders whose ``updated_at`` changed are fetched again.
"""

from __future__ import annotations

import threading
import weakref
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..dates import LAST
from ..errors import ConfigError, DataFileError, PullError
from ._arenas import limit_malloc_arenas
from .analysis import Analysis, By, Metric
from .export import Exporter, export_pull
from .orders_view import StoredOrders
from .plan import INCREMENTAL_OVERLAP, Moment, PullSpec, default_workers
from .progress import Bar, Progress, html_table, in_notebook
from .scheduler import Scheduler, failure_message
from .source import KountaLike, OrderSource, iso
from .store import PullStore, store_path

if TYPE_CHECKING:
    import pandas as pd

    from ..dataset import Manifest

__all__ = ["FRAMES_CHUNK", "INCREMENTAL_OVERLAP", "Progress", "PullJob", "pull_orders", "running_jobs"]

#: Orders decoded at a time by :meth:`PullJob.frames`. A chunk is ~11 kB of Python objects per
#: order while it is framed (2,000 orders: ~22 MB, and the memory those small objects came from
#: stays split up afterwards); 500 keep that to ~6 MB (see ``frames._Stack`` for the figures).
FRAMES_CHUNK = 500


class PullJob:
    """A pull running on a background thread; the notebook stays free meanwhile.

    Read :attr:`progress` (or just display the job), call :meth:`estimate` for early answers,
    :meth:`frames` for the DataFrames so far, :meth:`wait` to block until done, :meth:`cancel`
    to stop. Running the same pull again resumes it; nothing already fetched is fetched again.
    """

    def __init__(
        self,
        source: OrderSource,
        spec: PullSpec,
        store: PullStore,
        *,
        seed: int,
        details: bool,
        workers: int | None,
        progress: bool | Literal["auto"],
        export: str | Path | None,
    ) -> None:
        # built by pull_orders, which checks and resolves the user's arguments
        self._source = source
        self.client = source.client
        self.seed = seed
        self.details = details
        self.tz = spec.tz
        self.store = store
        self.spec = spec
        self.workers = workers or default_workers(self._source.per_minute)
        self._scheduler = Scheduler(self._source, self.store, spec, seed=seed, details=self.details,
                                    workers=self.workers)
        self._analysis = Analysis(self._scheduler, self.store, self.client, self.tz, seed)
        self._exporter: Exporter | None = None
        if export is not None:
            self._exporter = Exporter(export, self.store, spec.key, company_id=self._source.company_id, tz=self.tz)
        self._scheduler.on_detail = self._on_detail
        self._exporting = False
        self._export_error: DataFileError | None = None
        self._stats0 = self._rate_limited_total()
        show = (in_notebook() or _stderr_tty()) if progress == "auto" else bool(progress)
        self._bar: Bar | None = Bar() if show else None
        self._thread = threading.Thread(target=self._run, name=f"kounta-pull-{self._source.company_id}", daemon=True)

    # -- what the pull is ------------------------------------------------------------------------

    @property
    def site(self) -> int | None:
        """The site pulled (None: every site)."""
        return self.spec.site

    @property
    def status(self) -> str | None:
        """The order status path filter (None: every status)."""
        return self.spec.status

    @property
    def since(self) -> datetime:
        """Start of the period (tz-aware, company zone)."""
        return self.spec.since

    @property
    def until(self) -> datetime | None:
        """End of the period (None: open-ended, up to now)."""
        return self.spec.until

    @property
    def key(self) -> str:
        """The pull's identity in the store."""
        return self.spec.key

    @property
    def incremental(self) -> bool:
        """Whether this pull continues an earlier one (``since="last"``)."""
        return self.spec.incremental

    # -- control ---------------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """True once the job finished, failed or was cancelled (its threads have stopped, and a
        dataset given with ``export=`` is written)."""
        return self.state in ("finished", "failed", "cancelled") and not self._exporting

    @property
    def state(self) -> str:
        """``starting``, ``listing``, ``fetching``, ``finished``, ``failed`` or ``cancelled``."""
        if self._export_error is not None:
            return "failed"
        return self._scheduler.state

    @property
    def error(self) -> BaseException | None:
        """The error that stopped the job, if any."""
        return self._scheduler.error or self._export_error

    def cancel(self, wait: bool = True, timeout: float | None = 30.0) -> None:
        """Stop the pull: no new request starts; requests in flight finish and are stored.

        Everything fetched so far stays in the store; the same pull later resumes from here.
        """
        self._scheduler.cancel()
        if wait and self._thread.is_alive():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> PullJob:
        """Block until the job ends; re-raise its failure as a one-line :class:`PullError`."""
        if self._thread.ident is None:
            raise PullError("This pull was never started.")
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise PullError(f"The pull is still running after {timeout:g} s: {self.progress.summary()}.")
        if self.state == "failed":
            raise PullError(self._failure_message()) from self.error
        return self

    @property
    def progress(self) -> Progress:
        """Where the pull stands (see :class:`Progress`)."""
        p = self._scheduler.progress(max(0, self._rate_limited_total() - self._stats0))
        if self.state == "failed":
            return Progress(**{**p.as_dict(), "state": "failed", "error": self._failure_message()})
        return p

    # -- results ---------------------------------------------------------------------------------

    @property
    def orders(self) -> StoredOrders:
        """The full orders fetched so far (this pull's orders only), newest first.

        A read-only sequence backed by the store: only the ids are held in memory; iterating
        streams bodies 2,000 at a time, ``job.orders[i]`` reads one, ``list(job.orders)``
        materialises them all (several hundred MB for a six-month pull: prefer :meth:`frames`).
        """
        return StoredOrders(self.store, self._scheduler.done_newest_first())

    def frames(self) -> dict[str, pd.DataFrame]:
        """DataFrames of what is in so far: ``orders``, ``lines``, ``payments``, ``options`` (full
        orders via :func:`kounta_nb.frames.order_tables`) and ``listed`` (every abridged order).

        Built from the store :data:`FRAMES_CHUNK` orders at a time, so no dict per order stays
        alive: memory holds the frames themselves plus one chunk.
        """
        from .. import frames as _frames

        meta = {"endpoint": self._source.list_path(self.spec.query()), "since": iso(self.spec.since),
                "until": iso(self.spec.until) if self.spec.until else None, "pull": self.progress.as_dict()}
        tables = _frames.order_tables_from_chunks(self.orders.chunks(FRAMES_CHUNK), self.tz, meta=meta)
        tables["listed"] = _frames.frame_from_chunks(
            "orders", self.store.iter_summaries(self.key, chunk=FRAMES_CHUNK), tz=self.tz, meta=meta
        )
        return tables

    def export(self, path: str | Path) -> Manifest:
        """Write the pull's orders so far into the Parquet dataset at ``path`` (see
        :mod:`kounta_nb.dataset`; tables ``orders``, ``lines``, ``payments``, ``options``,
        ``listed``, Hive-partitioned by company, site and month) and return its manifest.

        Streams from the store in chunks (memory stays bounded). Exporting again, or after an
        incremental pull, rewrites only the partitions where an order is new or changed; a changed
        order's rows are replaced, never duplicated. Safe while the pull runs.
        """
        if not isinstance(path, (str, Path)) or not str(path).strip():
            raise ConfigError(f"export needs a directory path for the dataset, not {path!r}.")
        return export_pull(path, self.store, self.key, company_id=self._source.company_id, tz=self.tz)

    @property
    def exported(self) -> Manifest | None:
        """The manifest of the last export made by ``pull_orders(..., export=path)`` (None before
        the first)."""
        return self._exporter.manifest if self._exporter is not None else None

    def estimate(self, by: By = "product", metric: Metric = "revenue", confidence: float = 0.95) -> pd.DataFrame:
        """Totals by group for the whole period from the details fetched so far, with intervals.

        ``revenue`` is line totals including tax; ``quantity`` is units sold. Columns: ``estimate,
        lo, hi`` (the ``confidence`` interval), ``se``, ``sampled`` (sampled orders in the group),
        ``exact``. Once every detail is in, estimates are the exact totals with zero-width intervals.
        """
        return self._analysis.estimate(by, metric, confidence, details=self.details)

    def sample(self) -> tuple[pd.DataFrame, list[int]]:
        """``(population, sample_ids)``: every listed order (``x`` = list total) and the longest
        fully fetched prefix of the random fetch order (a simple random sample)."""
        return self._analysis.sample()

    def __repr__(self) -> str:
        return f"PullJob({self.progress.summary()})"

    def _repr_html_(self) -> str:
        return html_table(self.progress, self.spec.describe(), done=self.done)

    # -- internals -------------------------------------------------------------------------------

    def _run(self) -> None:
        exporter = self._exporter
        if exporter is not None:
            self._exporting = True
            exporter.start()
        try:
            self._scheduler.run(tick=self._tick)
        finally:
            if exporter is not None:
                # what is not out yet (orders reused from the store, list records without a
                # detail): the dataset then holds exactly the pull's orders
                exporter.finish(self._scheduler.done_snapshot(), self._scheduler.member_ids())
                if exporter.error is not None and self._scheduler.state != "failed":
                    self._export_error = DataFileError(
                        f"The pull finished but writing the dataset at {exporter.root} failed: "
                        f"{' '.join(str(exporter.error).split())} Run job.export(path) to try again.".replace("..", "."),
                        exporter.root,
                    )
                self._exporting = False
            if self._bar is not None:
                self._bar.update(self.progress, final=True)

    def _on_detail(self, oid: int) -> None:
        self._analysis.forget(oid)
        if self._exporter is not None:
            self._exporter.fetched(oid)

    def _tick(self) -> None:
        if self._bar is not None:
            self._bar.update(self.progress)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def _failure_message(self) -> str:
        if self._export_error is not None and self._scheduler.error is None:
            return str(self._export_error)
        s = self._scheduler
        with s.cv:
            done, total = len(s.done_ids), len(s.members)
        return failure_message(s.error, done, total)

    def _rate_limited_total(self) -> int:
        try:
            snapshot = self.client.stats.snapshot()
            return int(getattr(snapshot, "rate_limited", 0) or 0)
        except Exception:  # noqa: BLE001 - figures only
            return 0


def _status(status: str | None) -> str:
    from ..endpoints import status_filter

    return status_filter(status) or "*"


def _stderr_tty() -> bool:
    import sys

    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def pull_orders(
    client: KountaLike,
    since: Moment,
    until: Moment | None = None,
    *,
    site: int | str | None = None,
    status: str | None = "complete",
    details: bool = True,
    seed: int = 0,
    store: PullStore | str | Path | None = None,
    progress: bool | Literal["auto"] = "auto",
    workers: int | None = None,
    export: str | Path | None = None,
) -> PullJob:
    """Start pulling every order of a period in the background and return the :class:`PullJob`.

    ``since``/``until``: datetime, date, or text (``2026-05-01``, ``30d``, ``12h``); ``until=None``
    means up to now; ``since="last"`` continues from the newest order of the last finished pull of
    the same site and status. ``site``: id, code or name. ``status``: the order status path
    filter (``None`` = every status). ``store``: a :class:`PullStore` or a path (default: one file
    per company under the cache directory). ``workers`` defaults to enough threads to keep the
    rate limit busy. ``export``: a directory for a Parquet dataset that grows while the pull runs
    (see :meth:`PullJob.export`); the job is done once it holds the whole pull.
    """
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError("seed must be a whole number.")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError("workers must be a positive whole number.")
    if progress not in (True, False, "auto"):
        raise ConfigError("progress must be True, False or 'auto'.")
    source = OrderSource(client)
    site_id = source.resolve_site(site)
    incremental = isinstance(since, str) and since.strip().lower() == LAST
    spec = None if incremental else PullSpec.resolve(since, until, tz=source.tz, site=site_id, status=status)
    if not isinstance(store, PullStore):
        store = PullStore(Path(store) if store is not None else store_path(source.api_base, source.company_id))
    if spec is None:
        last = store.last_finished(site_id, _status(status))
        if last is None or last.high_water is None:
            raise ConfigError(
                "since='last' needs an earlier finished pull of the same site and status; "
                "run one with a start date first."
            )
        spec = PullSpec.incremental_from(last.high_water, tz=source.tz, site=site_id, status=status)
    if export is not None and (not isinstance(export, (str, Path)) or not str(export).strip()):
        raise ConfigError(f"export must be a directory path for the dataset, not {export!r}.")
    job = PullJob(source, spec, store, seed=seed, details=bool(details), workers=workers, progress=progress,
                  export=export)
    with _RUNNING_LOCK:
        # the same pull already running in this process: hand that one back rather than pay twice
        running = _RUNNING.get((str(job.store.path), job.key))
        if running is not None and not running.done:
            job._close_bar()
            return running
        _RUNNING[(str(job.store.path), job.key)] = job
        limit_malloc_arenas()  # before the pull's threads exist (see _arenas)
        job._thread.start()
    return job


_RUNNING: weakref.WeakValueDictionary[tuple[str, str], PullJob] = weakref.WeakValueDictionary()
_RUNNING_LOCK = threading.Lock()


def running_jobs(client: Any = None) -> list[PullJob]:
    """The pulls still running in this process — only those of ``client`` when it is given."""
    with _RUNNING_LOCK:
        jobs = list(_RUNNING.values())
    return [job for job in jobs if not job.done and (client is None or job.client is client)]
