"""Human date expressions for ``--since`` / ``--until``: ISO dates and datetimes, ``90min``,
``12h``, ``30d``, ``2w``, ``6m`` (calendar months), ``1y``, ``today``, ``yesterday``, ``now``;
plus the one ISO timestamp reader of the client side (:func:`parse_timestamp`) and the one check
of a ``since``/``until`` range (:func:`check_range`) that the client, the pull and the dry run share.

Everything is resolved to a tz-aware ``datetime`` in the given zone (the company's, or the
``Kounta.timezone`` option), because the API's date-only filters are ambiguous about midnight
(docs/api.md §6.4): the client always sends full datetimes with an offset.

``last`` (since the end of the previous pull) needs memory of earlier pulls, so the magics resolve
it themselves; this module only knows the keyword.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, tzinfo

from .errors import ConfigError

__all__ = [
    "LAST",
    "check_range",
    "parse_moment",
    "parse_timestamp",
    "span_text",
    "to_day",
    "to_moment",
]

#: The keyword for "since the end of the previous pull of this resource".
LAST = "last"

# ASCII digits only: ``²`` or ``٣`` pass str.isdigit() but are not numbers anyone typed on purpose.
_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|mo|m|h|d|w|y)\s*$", re.IGNORECASE | re.ASCII)
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
    try:
        if match:
            amount = float(match.group(1))
            unit = match.group(2).lower()
            if unit in _MONTHS:
                if not amount.is_integer():
                    raise ConfigError(f"Months and years must be whole numbers, not {raw!r}: {_HELP}.")
                return _months_back(current, int(amount) * _MONTHS[unit])
            return current - timedelta(**{_UNITS[unit]: amount})
        return _parse_iso(raw, tz=tz, end=end)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{raw!r} is outside the dates a calendar can hold: {_HELP}.") from None


def _parse_iso(raw: str, *, tz: tzinfo, end: bool) -> datetime:
    if not raw.isascii():
        raise ConfigError(f"Cannot read {raw!r} as a date: {_HELP}.")
    if len(raw) == 10:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ConfigError(f"Cannot read {raw!r} as a date: {_HELP}.") from None
        # OverflowError for 9999-12-31 as an end: the caller turns it into one sentence
        return _local_midnight(day + timedelta(days=1) if end else day, tz)
    moment = parse_timestamp(raw, naive=tz)
    if moment is None:
        raise ConfigError(f"Cannot read {raw!r} as a date: {_HELP}.")
    return moment.astimezone(tz)


def _months_back(moment: datetime, months: int) -> datetime:
    """The same wall-clock time ``months`` calendar months earlier (the day clamped to the month)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _local_midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def to_moment(value: object, *, tz: tzinfo, name: str, end: bool = False,
              now: datetime | None = None) -> datetime:
    """A ``datetime``, ``date`` or :func:`parse_moment` text → a tz-aware datetime in ``tz``.

    A date means local midnight; with ``end=True`` a date (or date-only text) means the next
    local midnight, so that day is included. Anything else is a :class:`ConfigError` naming
    ``name`` (``since=12345`` is not read as a timestamp: say what you mean with a datetime).
    """
    try:
        if isinstance(value, datetime):
            moment = value if value.tzinfo is not None else value.replace(tzinfo=tz)
            return moment.astimezone(tz)
        if isinstance(value, date):
            return _local_midnight(value + timedelta(days=1) if end else value, tz)
        if isinstance(value, str) and value.strip():
            return parse_moment(value, tz=tz, now=now, end=end)
    except ConfigError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    except (OverflowError, ValueError):
        raise ConfigError(f"{name}={value!r} is outside the dates a calendar can hold.") from None
    raise ConfigError(
        f"{name}={value!r} is not a date: use a datetime, a date or text such as '2026-05-01', "
        "'30d' or 'yesterday'."
    )


def to_day(value: object, *, tz: tzinfo, name: str, now: datetime | None = None) -> date:
    """A local calendar date (for the endpoints with a date in the path): a ``date``, a
    ``datetime`` (its local date in ``tz``) or :func:`parse_moment` text (``2026-05-01``, ``7d``)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return to_moment(value, tz=tz, name=name, now=now).date()


def check_range(since: datetime | None, until: datetime | None, *, now: datetime) -> None:
    """The one check of a period, shared by the client, the pull and the dry run: ``since``
    must not be in the future and must come before ``until`` (ConfigError otherwise)."""
    if since is not None and since > now:
        raise ConfigError(
            f"since={since.isoformat(timespec='seconds')} is in the future: there are no orders "
            "yet (use a past moment such as 7d or yesterday)."
        )
    if since is not None and until is not None and since >= until:
        raise ConfigError(
            f"since={since.isoformat(timespec='seconds')} is not before "
            f"until={until.isoformat(timespec='seconds')}: swap them or widen the period."
        )


def parse_timestamp(value: object, *, naive: tzinfo | None = None) -> datetime | None:
    """An ISO 8601 timestamp (``2026-05-29T11:14:06+10:00``, ``…Z``) → an aware datetime; ``None``
    for anything else (missing, not a string, not a timestamp).

    The one timestamp parser of the client side. Text without an offset is read in the zone
    ``naive``; without ``naive`` it is not a timestamp (the API always sends an offset).
    """
    if not isinstance(value, str) or not value.isascii():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=naive) if naive is not None else None
    return parsed


def span_text(since: datetime | None, until: datetime | None) -> str:
    """A short human description of a range, for status lines: ``2026-05-01 00:00 → now``."""
    left = since.strftime("%Y-%m-%d %H:%M") if since else "the beginning"
    right = until.strftime("%Y-%m-%d %H:%M") if until else "now"
    return f"{left} → {right}"
