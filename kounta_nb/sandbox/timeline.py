"""Time for the sandbox: the clock, public holidays, and fast local-time formatting per day.

All sandbox timestamps are ISO-8601 strings with the company's local UTC offset, DST-correct via
``zoneinfo``. Generated activity (trading, shifts) happens between 04:00 on a day and 02:00 the
next morning, local time; Australian DST changes happen at 02:00/03:00 on a Sunday, so within that
window a day has a single offset. :class:`DayTime` relies on that for speed and falls back to
``zoneinfo`` for anything outside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "Clock",
    "DayTime",
    "day_from_number",
    "day_number",
    "holiday_name",
    "holidays",
    "local_date",
    "months_before",
    "parse_iso",
    "parse_moment",
]

_EPOCH_DAY = date(2000, 1, 1).toordinal()


class Clock:
    """The sandbox's "now": frozen at construction (or at ``now``) unless ``live``.

    A live clock runs from ``now`` at ``speed`` times real time; :meth:`advance` moves either kind
    forward. ``ticks`` is the real-time source a live clock follows (``time.monotonic``; tests pass
    their own so a live clock moves exactly as far as they say). Thread-safe.
    """

    def __init__(self, now: datetime | None = None, live: bool = False, speed: float = 1.0,
                 ticks: Callable[[], float] = time.monotonic) -> None:
        if now is None:
            now = datetime.now(UTC).replace(microsecond=0)
        elif now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("Clock(now=...) needs a timezone-aware datetime, e.g. one with tzinfo=UTC.")
        if not speed > 0:
            raise ValueError(f"Clock speed must be a positive number, not {speed!r}.")
        self._base = now.astimezone(UTC).timestamp()
        self.live = bool(live)
        self.speed = float(speed)
        self._ticks = ticks
        self._started = ticks()
        self._advanced = 0.0
        self._lock = threading.Lock()

    def timestamp(self) -> float:
        """Now as POSIX seconds."""
        with self._lock:
            t = self._base + self._advanced
            if self.live:
                t += (self._ticks() - self._started) * self.speed
            return t

    def now(self) -> datetime:
        """Now as a timezone-aware UTC datetime."""
        return datetime.fromtimestamp(self.timestamp(), UTC)

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (>= 0)."""
        seconds = float(seconds)
        if not seconds >= 0:
            raise ValueError(f"The sandbox clock only moves forward: advance({seconds!r}) is not allowed.")
        with self._lock:
            self._advanced += seconds

    def __repr__(self) -> str:
        mode = f"live x{self.speed:g}" if self.live else "frozen"
        return f"Clock({self.now().isoformat(timespec='seconds')}, {mode})"


def day_number(day: date) -> int:
    """Days since 2000-01-01 (the day field inside sandbox ids)."""
    return day.toordinal() - _EPOCH_DAY


def day_from_number(n: int) -> date:
    """Inverse of :func:`day_number`."""
    return date.fromordinal(n + _EPOCH_DAY)


def months_before(day: date, months: int) -> date:
    """The same day-of-month ``months`` earlier (clamped to the month's length)."""
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(y, m, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _fmt_offset(seconds: int) -> str:
    sign = "+" if seconds >= 0 else "-"
    h, m = divmod(abs(seconds) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}"


class DayTime:
    """Local-time arithmetic for one calendar day in one zone.

    Times inside a day are *wall seconds*: seconds since local midnight on the wall clock
    (``7.5 * 3600`` is 07:30). ``epoch(wall)`` and ``iso(wall)`` are exact for wall seconds in
    [04:00, 26:00) — the sandbox's activity window — and go through ``zoneinfo`` otherwise.
    """

    __slots__ = ("day", "tz", "offset", "offset_str", "wall_epoch", "_prefix", "_next_prefix")

    def __init__(self, day: date, tz: ZoneInfo) -> None:
        self.day = day
        self.tz = tz
        noon = datetime(day.year, day.month, day.day, 12, tzinfo=tz)
        offset = noon.utcoffset()
        if offset is None:  # a ZoneInfo always has one; this tells mypy so
            raise ValueError(f"{tz!r} gives no UTC offset")
        self.offset = int(offset.total_seconds())
        self.offset_str = _fmt_offset(self.offset)
        #: POSIX seconds of local midnight *as if* the offset held all day
        self.wall_epoch = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) - self.offset
        self._prefix = f"{day.isoformat()}T"
        self._next_prefix = f"{(day + timedelta(days=1)).isoformat()}T"

    @staticmethod
    @lru_cache(maxsize=4096)
    def of(day: date, tz: ZoneInfo) -> DayTime:
        """The (cached) DayTime of ``day`` in ``tz``."""
        return DayTime(day, tz)

    def epoch(self, wall: int) -> int:
        """POSIX seconds of ``wall`` seconds after local midnight."""
        if 14400 <= wall < 93600:
            return self.wall_epoch + wall
        naive = datetime(self.day.year, self.day.month, self.day.day) + timedelta(seconds=wall)
        return int(naive.replace(tzinfo=self.tz).timestamp())

    def iso(self, wall: int) -> str:
        """ISO-8601 local timestamp with offset, e.g. ``2026-05-29T11:14:06+10:00``."""
        if 14400 <= wall < 86400:
            prefix = self._prefix
        elif 86400 <= wall < 93600:
            prefix, wall = self._next_prefix, wall - 86400
        else:
            naive = datetime(self.day.year, self.day.month, self.day.day) + timedelta(seconds=wall)
            return naive.replace(tzinfo=self.tz).isoformat(timespec="seconds")
        h, rest = divmod(wall, 3600)
        m, s = divmod(rest, 60)
        return f"{prefix}{h:02d}:{m:02d}:{s:02d}{self.offset_str}"


def local_date(epoch: float, tz: ZoneInfo) -> date:
    """The local calendar date of POSIX seconds."""
    return datetime.fromtimestamp(epoch, tz).date()


def parse_iso(value: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` allowed); naive values are rejected."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        raise ValueError(f"Timestamp {value!r} has no UTC offset; sandbox timestamps need one.")
    return dt


def parse_moment(value: str, tz: tzinfo) -> datetime:
    """A date-time as people and clients write it (``Z``, a space for ``T``, or no offset = local
    time in ``tz``) as an aware datetime; ``ValueError`` otherwise. The one lenient parser of the
    sandbox (query filters, the command line); stored timestamps go through :func:`parse_iso`."""
    dt = datetime.fromisoformat(value.strip().replace(" ", "T").replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=tz)


# --- public holidays -------------------------------------------------------------------------


def _easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _with_monday_substitute(out: dict[date, str], day: date, name: str) -> None:
    out[day] = name
    if day.weekday() >= 5:
        out[day + timedelta(days=7 - day.weekday())] = f"{name} (additional day)"


@lru_cache(maxsize=64)
def holidays(state: str, year: int) -> dict[date, str]:
    """Public holidays of ``state`` ("NSW" or "VIC") in ``year``: date → name.

    The statutory days and their Monday substitutes; close enough to the gazetted lists for a
    sandbox (the AFL Grand Final Friday is taken as the Friday before the last Saturday of
    September).
    """
    if state not in ("NSW", "VIC"):
        raise ValueError(f"Unknown state {state!r}: the sandbox knows NSW and VIC holidays.")
    out: dict[date, str] = {}
    _with_monday_substitute(out, date(year, 1, 1), "New Year's Day")
    _with_monday_substitute(out, date(year, 1, 26), "Australia Day")
    easter = _easter(year)
    out[easter - timedelta(days=2)] = "Good Friday"
    out[easter - timedelta(days=1)] = "Easter Saturday"
    out[easter] = "Easter Sunday"
    out[easter + timedelta(days=1)] = "Easter Monday"
    out[date(year, 4, 25)] = "Anzac Day"
    out[_nth_weekday(year, 6, 0, 2)] = "King's Birthday"
    if state == "NSW":
        out[_nth_weekday(year, 10, 0, 1)] = "Labour Day"
    else:
        out[_nth_weekday(year, 3, 0, 2)] = "Labour Day"
        out[_last_weekday(year, 9, 5) - timedelta(days=1)] = "AFL Grand Final Friday"
        out[_nth_weekday(year, 11, 1, 1)] = "Melbourne Cup"
    christmas = date(year, 12, 25)
    out[christmas] = "Christmas Day"
    out[date(year, 12, 26)] = "Boxing Day"
    wd = christmas.weekday()
    if wd == 5:  # Sat: Christmas moves to Mon 27, Boxing Day (Sun) to Tue 28
        out[date(year, 12, 27)] = "Christmas Day (additional day)"
        out[date(year, 12, 28)] = "Boxing Day (additional day)"
    elif wd == 6:  # Sun: Boxing Day is Mon 26, Christmas moves to Tue 27
        out[date(year, 12, 27)] = "Christmas Day (additional day)"
    elif wd == 4:  # Fri: Boxing Day (Sat) moves to Mon 28
        out[date(year, 12, 28)] = "Boxing Day (additional day)"
    return out


def holiday_name(state: str, day: date) -> str | None:
    """The public holiday on ``day`` in ``state``, or None."""
    return holidays(state, day.year).get(day)
