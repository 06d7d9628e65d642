"""The pull engine: every order of a period, with details, at the full speed the rate limit allows.

``pull_orders(client, since, …)`` starts a :class:`PullJob` on a background thread (progress bar,
``estimate()`` from a random sample long before the end, ``frames()``, ``cancel()``, resume from the
durable :class:`PullStore`); ``dry_run(client, since, …)`` says what a pull would cost first.

Modules: :mod:`.plan` (the period, slices, :class:`PullSpec`), :mod:`.source` (the client, typed),
:mod:`.scheduler` (workers, list and detail steps, claims), :mod:`.progress`, :mod:`.analysis`
(estimates from the sample), :mod:`.store` (the SQLite store), :mod:`.dryrun` (costs up front).
"""

from __future__ import annotations

from .dryrun import Estimate, dry_run
from .estimates import estimate_totals
from .job import INCREMENTAL_OVERLAP, Progress, PullJob, pull_orders, running_jobs
from .orders_view import StoredOrders
from .plan import PullSpec
from .store import PullStore, store_path

__all__ = [
    "INCREMENTAL_OVERLAP",
    "Estimate",
    "Progress",
    "PullJob",
    "PullSpec",
    "PullStore",
    "StoredOrders",
    "dry_run",
    "estimate_totals",
    "pull_orders",
    "running_jobs",
    "store_path",
]
