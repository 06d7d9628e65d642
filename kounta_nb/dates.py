"""Human date expressions for ``--since`` / ``--until``: ISO dates and datetimes, ``90min``,
``12h``, ``30d``, ``2w``, ``6m`` (calendar months), ``1y``, ``today``, ``yesterday``, ``now``.

Everything is resolved to a tz-aware ``datetime`` in the given zone (the company's, or the
``Kounta.timezone`` option), because the API's date-only filters are ambiguous about midnight
(kounta-api.md §6.4): the client always sends full datetimes with an offset.

``last`` (since the end of the previous pull) needs memory of earlier pulls, so the magics resolve
it themselves; this module only knows the keyword.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, tzinfo

from .errors import ConfigError

__all__ = ["LAST", "parse_moment", "span_text"]

#: The keyword for "since the end of the previous pull of this resource".
LAST = "last"

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|mo|m|h|d|w|y)\s*$", re.IGNORECASE)
_UNITS = {"min": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_MONTHS = {"m": 1, "mo": 1, "y": 12}
_HELP = (
    "use an ISO date (2026-05-01), a datetime (2026-05-01T14:00), a span back from now "
    "(90min, 12h, 30d, 2w, 6m, 1y), today, yesterday or now"
)


def parse_moment(text: str, *, tz: tzinfo, now: datetime | None = None, end: bool = False) -> datetime:
    """Turn a date expression into a tz-aware datetime in ``tz``.

    ``end=True`` reads the expression as the end of a range (``--until``): a date-only value then
    means the *end* of that day (the next local midnight, exclusive), ``today`` means now and
    ``yesterday`` means today's midnight. Raises ``ConfigError`` with one sentence otherwise.
    """
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f"Empty date: {_HELP}.")
    raw = text.strip()
    word = raw.lower()
    current = (now or datetime.now(tz)).astimezone(tz)
    midnight = datetime.combine(current.date(), time(0), tzinfo=tz)
    if word == "now":
        return current
    if word == "today":
        return current if end else midnight
    if word == "yesterday":
        return midnight if end else _local_midnight(current.date() - timedelta(days=1), tz)
    if word == LAST:
        raise ConfigError("'last' only works for --since (it means: from the end of the previous pull).")
    match = _RELATIVE.match(raw)
    if match:
        amount = float(match.group(1))
        unit = match.group(2).lower()
        if unit in _MONTHS:
            if not amount.is_integer():
                raise ConfigError(f"Months and years must be whole numbers, not {raw!r}: {_HELP}.")
            return _months_back(current, int(amount) * _MONTHS[unit])
        return current - timedelta(**{_UNITS[unit]: amount})
    return _parse_iso(raw, tz=tz, end=end)


def _parse_iso(raw: str, *, tz: tzinfo, end: bool) -> datetime:
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return _local_midnight(day + timedelta(days=1) if end else day, tz)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        raise ConfigError(f"Cannot read {raw!r} as a date: {_HELP}.") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=tz)
    return moment.astimezone(tz)


def _months_back(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months earlier (the day clamped to the month)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def span_text(since: datetime | None, until: datetime | None) -> str:
    """A short human description of a range, for status lines: ``2026-05-01 00:00 → now``."""
    left = since.strftime("%Y-%m-%d %H:%M") if since else "the beginning"
    right = until.strftime("%Y-%m-%d %H:%M") if until else "now"
    return f"{left} → {right}"
