"""What a pull (or a dry run) covers: the period, the list query, the time slices, the identity.

A :class:`PullSpec` is built once from the user's arguments — the same checks for
:func:`~kounta_nb.pull.pull_orders` and :func:`~kounta_nb.pull.dry_run` — and carries the order
list query (:class:`kounta_nb.endpoints.OrderQuery`) both walk. Everything here is pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from ..dates import LAST, check_range, to_moment
from ..endpoints import OrderQuery, status_filter
from ..errors import ConfigError

__all__ = [
    "INCREMENTAL_OVERLAP",
    "Moment",
    "PullSpec",
    "default_workers",
    "plan_slices",
    "pull_key",
]

#: ``since="last"`` starts this long before the previous pull's newest order, so orders completed
#: late (open tabs, offline registers uploading afterwards) are still caught; repeats are de-duplicated.
INCREMENTAL_OVERLAP = timedelta(hours=6)

#: What ``since``/``until`` accept: a datetime, a date, or text such as ``2026-05-01`` or ``30d``.
Moment = datetime | date | str


@dataclass(frozen=True)
class PullSpec:
    """One pull definition: site, status and period ``[since, until)`` in the company's zone."""

    site: int | None
    status: str | None
    since: datetime
    until: datetime | None
    tz: tzinfo
    incremental: bool = False

    @classmethod
    def resolve(
        cls,
        since: Moment,
        until: Moment | None,
        *,
        tz: tzinfo,
        site: int | None,
        status: str | None,
        now: datetime | None = None,
    ) -> PullSpec:
        """Check and resolve the user's period (one :class:`ConfigError` sentence when wrong).

        ``since="last"`` is not resolved here: it needs the pull store (see :meth:`incremental_from`).
        """
        if isinstance(since, str) and since.strip().lower() == LAST:
            raise ConfigError("since='last' needs the pull store: pull_orders(client, 'last', …) resolves it.")
        moment = (now or datetime.now(tz)).astimezone(tz)
        start = to_moment(since, tz=tz, name="since", now=moment)
        end = to_moment(until, tz=tz, name="until", end=True, now=moment) if until is not None else None
        check_range(start, end, now=moment)
        return cls(site, status_filter(status), start, end, tz)

    @classmethod
    def incremental_from(
        cls, high_water: float, *, tz: tzinfo, site: int | None, status: str | None,
        overlap: timedelta = INCREMENTAL_OVERLAP,
    ) -> PullSpec:
        """An open-ended pull from ``overlap`` before the newest order of an earlier pull."""
        since = datetime.fromtimestamp(high_water, tz) - overlap
        return cls(site, status_filter(status), since, None, tz, incremental=True)

    @property
    def since_ts(self) -> float:
        """``since`` as epoch seconds."""
        return self.since.timestamp()

    @property
    def until_ts(self) -> float | None:
        """``until`` as epoch seconds (None: open-ended)."""
        return self.until.timestamp() if self.until is not None else None

    @property
    def key(self) -> str:
        """The identity of the pull in the store: same parameters, same stored progress."""
        key = pull_key(self.site, self.status, self.since, self.until)
        # an incremental pull is its own (open) window; its key marks it so it never collides
        return key + "|incremental" if self.incremental else key

    def query(self, lo_ts: float | None = None, hi_ts: float | None = None) -> OrderQuery:
        """The order list query of the whole period, or of ``[lo_ts, hi_ts)`` within it."""
        since = datetime.fromtimestamp(lo_ts, self.tz) if lo_ts is not None else self.since
        if hi_ts is not None:
            until: datetime | None = datetime.fromtimestamp(hi_ts, self.tz)
        else:
            until = self.until if lo_ts is None else None
        return OrderQuery(site=self.site, status=self.status, since=since, until=until, tz=self.tz)

    def describe(self) -> str:
        """``2026-05-01 00:00 → now`` for people."""
        right = f"{self.until:%Y-%m-%d %H:%M}" if self.until is not None else "now"
        return f"{self.since:%Y-%m-%d %H:%M} → {right}"


def pull_key(site: int | None, status: str | None, since: datetime, until: datetime | None) -> str:
    """The identity of a pull definition: same parameters, same stored progress."""
    end = "open" if until is None else f"{until.timestamp():.0f}"
    return f"site={site if site is not None else '*'}|status={status or '*'}|since={since.timestamp():.0f}|until={end}"


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


def default_workers(per_minute: float) -> int:
    """Enough threads that up to ~2 s of latency per request still saturates the limit."""
    return max(4, min(32, math.ceil(per_minute / 60.0 * 2.0) + 2))
