"""The pull engine: every order of a period, with details, at the full speed the rate limit allows.

``pull_orders(client, since, …)`` starts a :class:`PullJob` on a background thread (progress bar,
``estimate()`` from a random sample long before the end, ``frames()``, ``cancel()``, resume from the
durable :class:`PullStore`); ``dry_run(client, since, …)`` says what a pull would cost first.
"""

from __future__ import annotations

from .dryrun import Estimate, dry_run
from .estimates import estimate_totals
from .job import INCREMENTAL_OVERLAP, Progress, PullJob, pull_orders, running_jobs
from .store import PullStore, store_path

__all__ = [
    "INCREMENTAL_OVERLAP",
    "Estimate",
    "Progress",
    "PullJob",
    "PullStore",
    "dry_run",
    "estimate_totals",
    "pull_orders",
    "running_jobs",
    "store_path",
]
