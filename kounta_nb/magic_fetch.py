"""``%kounta <resource> …``: from a parsed line to a DataFrame, a dry run or a background pull.

Everything the user wrote is checked before the first request: the site (with "did you mean"),
the status, the dates (``--since`` in the future or after ``--until`` is an error, as for pulls),
every ``KEY=VALUE`` filter against what the resource takes and the kind of value it needs.

Two guards keep a foreground fetch honest about time: before a fetch that would take longer than
``Kounta.max_wait`` seconds at the rate limit, it stops and says so (``--background`` pulls it
resumably, ``--yes`` waits for it here); and Ctrl-C during a fetch keeps what was fetched — the
partial frame is returned with ``attrs["meta"]["partial"] = True``.
"""

from __future__ import annotations

import contextlib
import math
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import settings
from .dates import LAST, parse_moment, parse_timestamp
from .endpoints import ANY_STATUS as ANY_STATUSES
from .endpoints import is_all_sites
from .errors import ConfigError
from .magic_args import parse_pairs, suggest
from .session import load_choices, save_choice

if TYPE_CHECKING:
    import argparse

    import pandas as pd

    from .magic_commands import MagicsLike

__all__ = [
    "ORDER_RESOURCES", "Fetcher", "positive_int", "ANY_STATUS",
    "moment", "say_how_fresh", "select_columns",
]

#: Resources whose rows come from orders (the pull engine can fetch them in the background).
ORDER_RESOURCES = frozenset({"orders", "lines", "payments", "options"})
#: ``--status any`` (or ``all``): every order status (the words of :data:`endpoints.ANY_STATUS`).
ANY_STATUS = ANY_STATUSES[0]
#: The first moment ``--dry-run`` and the time guard consider when no ``--since`` is given.
_BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)

#: What kind of value each filter takes (anything else is passed on as text).
_KINDS: dict[str, str] = {
    "register": "id", "staff": "id", "customer": "id", "id": "id", "max_pages": "count",
    "value": "money", "value_gt": "money", "value_gte": "money", "value_lt": "money",
    "value_lte": "money", "unprocessed": "bool", "date": "day", "created": "day",
    "reference_id": "text", "sale_number": "text", "part": "part",
}  # fmt: skip
_PARTS = ("lines", "payments", "options", "orders")
#: Options that may also be written as KEY=VALUE (``status=pending``): the same rules apply.
_OPTION_KEYS = ("since", "until", "site", "status", "limit")
_DIGITS = re.compile(r"\d+", re.ASCII)


def positive_int(value: Any, what: str) -> int:
    """``value`` as a whole number ≥ 1 (ASCII digits only: ``²`` is not a number)."""
    text = str(value).strip()
    if isinstance(value, bool) or not _DIGITS.fullmatch(text) or int(text) < 1:
        raise ConfigError(f"{what} needs a whole number of at least 1, not {value!r}.")
    return int(text)


class Fetcher:
    """Fetches resources for the magics (``session``, ``options``)."""

    def __init__(self, magics: MagicsLike) -> None:
        self.magics = magics
        self._clock: datetime | None = None

    # -- the resource command --------------------------------------------------------------------

    def run(self, args: argparse.Namespace) -> Any:
        """``%kounta <resource> [options] [KEY=VALUE …]``."""
        from . import tables

        client = self.magics.session.require()
        self._clock = None
        name = args.command
        res = tables.resource(name)
        tz = self.zone(client)
        filters = parse_pairs(list(args.args), "filter")
        given = self._options(args, filters)
        self._check_filters(res, filters, tz)
        site = self._site(res, given.get("site"))
        status = self._status(name, given.get("status"))
        limit = positive_int(given["limit"], "--limit") if "limit" in given else None
        if args.dry_run or args.background:
            return self._pull(args, client, name, given, site, status, tz)
        if args.export is not None:
            raise ConfigError("--export goes with --background (a pull into the dataset); to save this "
                              "one frame, use --to FILE.parquet.")
        since = self._since(given.get("since"), tz, name, client)
        until = self._until(given.get("until"), tz, since)
        query = {**filters, "since": since, "until": until, "site": site, "status": status}
        query = {key: value for key, value in query.items() if value is not None}
        if name in ORDER_RESOURCES and not args.yes:
            self._guard(client, name, query, limit)
        frame = self._fetch(client, name, query, limit, tz, full=bool(args.full))
        if since is not None:
            save_choice(client.company_id, f"last:{name}", (until or datetime.now(tz)).isoformat())
        if self.magics.options.timezone:
            frame = _convert_timestamps(frame, tz)
        if args.columns is not None:
            frame = select_columns(frame, args.columns)
        say_how_fresh(frame)
        return frame

    def _options(self, args: argparse.Namespace, filters: dict[str, Any]) -> dict[str, Any]:
        """The options, whether written ``--status pending`` or ``status=pending`` (not both)."""
        given: dict[str, Any] = {}
        for key in _OPTION_KEYS:
            option = getattr(args, key)
            if key in filters:
                if option is not None:
                    raise ConfigError(f"{key} is given twice (--{key} and {key}=): give it once.")
                option = filters.pop(key)
            if option is None:
                continue
            if isinstance(option, str) and not option.strip():
                raise ConfigError(f"--{key} needs a value; leave it out for the default.")
            given[key] = option.strip() if isinstance(option, str) else option
        return given

    def _check_filters(self, res: Any, filters: dict[str, Any], tz: tzinfo) -> None:
        known = [f for f in res.filters if f not in _OPTION_KEYS]
        for key, value in list(filters.items()):
            if key == "progress":
                raise ConfigError("progress is not a filter; progress bars are set with %config Kounta.progress.")
            if key not in known:
                takes = f"it takes {', '.join(known)}" if known else "it takes no KEY=VALUE filters"
                hint = suggest(key, known)
                raise ConfigError(f"{res.name} does not take {key}={hint}. {takes.capitalize()} "
                                  "(and --since/--until/--site/--limit where they apply).")
            filters[key] = _typed(key, value, tz)

    def _site(self, res: Any, wanted: Any) -> Any:
        """The site to fetch: ``--site`` (``all`` = every site), else the venue picked."""
        takes_site = "site" in res.filters
        if wanted is None:
            return self.magics.session.site_id if takes_site else None
        if is_all_sites(str(wanted)):
            return None
        if not takes_site:
            raise ConfigError(f"{res.name} are company-wide: --site does not apply (leave it out).")
        return self.site_id(wanted)

    def site_id(self, wanted: Any) -> int:
        """A site id from an id, code or name of the current company, with "did you mean"."""
        client = self.magics.session.require()
        if not str(wanted).strip():
            raise ConfigError("A site needs an id, code or name (or `all` for every site).")
        try:
            return int(client.resolve_site(wanted))
        except ConfigError:
            sites = client.sites()
            names = [str(s.get(key)) for s in sites for key in ("name", "code") if s.get(key)]
            listed = ", ".join(f"{s.get('name')} ({s.get('code') or s.get('id')})" for s in sites)
            raise ConfigError(f"Unknown site {wanted!r}{suggest(str(wanted), names)}; this company's "
                              f"sites are: {listed or 'none'}.") from None

    def _status(self, name: str, wanted: Any) -> str | None:
        """The status as given (``any`` for every status), None for the shared default: COMPLETE,
        applied by ``tables.fetch`` and the pull engine alike."""
        if wanted is None:
            return None
        if name not in ORDER_RESOURCES:
            raise ConfigError(f"--status is for orders, lines, payments and options, not {name}.")
        from .endpoints import ORDER_STATUSES, normalise_status

        text = str(wanted).strip().lower()
        if text in ANY_STATUSES:
            return ANY_STATUS
        try:
            return normalise_status(text)
        except ConfigError:
            choices = [s.lower() for s in ORDER_STATUSES] + [ANY_STATUS]
            raise ConfigError(f"Unknown order status {wanted!r}{suggest(text, choices)}; use one of "
                              f"{', '.join(choices)}.") from None

    # -- dates -----------------------------------------------------------------------------------

    def zone(self, client: Any) -> tzinfo:
        """``Kounta.timezone``, else the company's."""
        name = self.magics.options.timezone
        if not name:
            company_zone: tzinfo = client.tz
            return company_zone
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"Unknown time zone {name!r} in Kounta.timezone: use an IANA name like "
                              "Australia/Sydney.") from None

    def _now(self, tz: tzinfo) -> datetime:
        """One "now" for a whole line, so `--since 1d --until 1d` is the empty period it says."""
        if self._clock is None:
            self._clock = datetime.now(tz)
        return self._clock.astimezone(tz)

    def _since(self, text: Any, tz: tzinfo, resource: str, client: Any) -> datetime | None:
        if text is None:
            return None
        if str(text).lower() == LAST:
            stamp = load_choices(client.company_id).get(f"last:{resource}")
            if not isinstance(stamp, str):
                raise ConfigError(f"There is no earlier pull of {resource} to continue from: give "
                                  "--since a date the first time.")
            remembered = parse_timestamp(stamp)
            if remembered is None:
                raise ConfigError(f"The remembered end of the last fetch of {resource} ({stamp!r}) "
                                  "is unreadable: give --since a date.")
            return remembered.astimezone(tz)
        now = self._now(tz)
        since = moment(str(text), tz, "--since", now=now)
        if since > now:
            raise ConfigError(f"--since {text} is in the future ({since:%Y-%m-%d %H:%M}): nothing has "
                              "been sold yet. Use a past date or a span such as 30d.")
        return since

    def _until(self, text: Any, tz: tzinfo, since: datetime | None) -> datetime | None:
        if text is None:
            return None
        until = moment(str(text), tz, "--until", end=True, now=self._now(tz))
        if since is not None and until <= since:
            raise ConfigError(f"The period is empty: --until ({until:%Y-%m-%d %H:%M}) is not after "
                              f"--since ({since:%Y-%m-%d %H:%M}).")
        return until

    # -- dry run and background pull ---------------------------------------------------------------

    def _pull(self, args: argparse.Namespace, client: Any, name: str, given: dict[str, Any],
              site: Any, status: str | None, tz: tzinfo) -> Any:
        from . import pull

        if name not in ORDER_RESOURCES:
            raise ConfigError("--dry-run and --background work for orders, lines and payments only.")
        if args.dry_run and args.background:
            raise ConfigError("--dry-run estimates a pull and --background starts one: choose one.")
        extra = [opt for opt in ("columns", "yes", "limit", "to", "full") if opt in args.given or opt in given]
        if extra or args.args:
            what = ", ".join([f"--{opt}" for opt in extra] + list(args.args))
            raise ConfigError(f"A pull takes --since, --until, --site and --status only, not {what}.")
        if "since" not in given:
            raise ConfigError("A pull needs --since (for example --since 30d).")
        text = str(given["since"])
        last = text.lower() == LAST
        since = None if last else self._since(text, tz, name, client)
        start: datetime | str = since or LAST
        until = self._until(given.get("until"), tz, since)
        # the pull engine's status: its default is the same COMPLETE; None there means every status
        status = _default_status() if status is None else None if status == ANY_STATUS else status
        if args.dry_run:
            if args.export is not None:
                raise ConfigError("--export goes with --background, not --dry-run.")
            return pull.dry_run(client, start, until, site=site, status=status)
        export = None
        if args.export is not None:
            from .magic_data import dataset_root

            export = Path(args.export).expanduser() if args.export.strip() else dataset_root(self.magics.options)
        return pull.pull_orders(client, start, until, site=site, status=status,
                                progress=self.magics.options.progress, export=export)

    # -- the time guard ----------------------------------------------------------------------------

    def _guard(self, client: Any, name: str, query: dict[str, Any], limit: int | None) -> None:
        """Stop a foreground fetch that would take longer than ``Kounta.max_wait`` at the rate
        limit, before it starts; cheap: one list page, a dry run only when that page says the
        fetch is long."""
        max_wait = float(self.magics.options.max_wait)
        per_minute = float(client.transport.limiter.per_minute)
        if max_wait <= 0 or per_minute <= 0:
            return
        details = name != "orders"

        def seconds(orders: float) -> float:
            requests = math.ceil(max(orders, 1) / settings.PAGE_SIZE) + (orders if details else 0)
            return requests * 60.0 / per_minute

        if limit is not None and seconds(limit) <= max_wait:
            return
        listing = dict(query)
        status = listing.pop("status", None) or _default_status()
        if status != ANY_STATUS:  # Kounta.orders() lists every status unless asked
            listing["status"] = status
        page = list(client.orders(**listing, max_pages=1))
        if len(page) < settings.PAGE_SIZE:
            return
        orders = _pace(page, query.get("since"), query.get("until"))
        method = "from the newest page's pace"
        simple = set(listing) <= {"since", "until", "site", "status"}
        if simple and seconds(min(orders, limit or orders)) > max_wait / 3:
            orders, method = self._dry_run(client, listing)
        if limit is not None:
            orders = min(orders, limit)
        if seconds(orders) > max_wait:
            background = "--background" if "since" in query else "--since WHEN --background"
            requests = math.ceil(orders / settings.PAGE_SIZE) + (orders if details else 0)
            raise ConfigError(
                f"This would take about {_duration(seconds(orders))} at {per_minute:g} requests/minute "
                f"(~{orders:,} orders, ~{requests:,} requests; estimated {method}): add {background} to "
                f"pull it in the background (resumable, with progress), or --yes to wait for it here."
            )

    @staticmethod
    def _dry_run(client: Any, listing: dict[str, Any]) -> tuple[int, str]:
        from . import pull

        # a rough size is enough to decide "would this take long?": a small budget of requests
        estimate = pull.dry_run(client, listing.get("since") or _BEGINNING, listing.get("until"),
                                site=listing.get("site"), status=listing.get("status"), budget=40)
        return int(estimate.orders), f"by a dry run, {estimate.method}"

    # -- the fetch, keeping what Ctrl-C interrupts ---------------------------------------------------

    def _fetch(self, client: Any, name: str, query: dict[str, Any], limit: int | None, tz: tzinfo,
               *, full: bool = False) -> Any:
        from . import frames, tables

        res = tables.resource(name)
        with _recording(client) as seen:
            try:
                return tables.fetch(client, name, progress=self.magics.options.progress, full=full, limit=limit,
                                    **query)
            except KeyboardInterrupt:
                records = _kept(seen, res, query)
        frame = frames.frame(res.kind, records, tz=client.tz)
        if limit is not None:
            frame = frame.head(limit).copy()
        meta = {"resource": name, "filters": query, "partial": True,
                "fetched_at": datetime.now(UTC), "requests": len(seen)}
        frames.stamp(frame, res.kind, client.tz, meta)
        source = f"of the {len(records):,} full records fetched" if res.detail else "listed"
        print(f"Interrupted: kept the {len(frame):,} {name} rows {source} so far "
              "(attrs['meta']['partial'] is True); run it again for all of them, or pull them with "
              "--background (resumable).")
        return frame


def _default_status() -> str:
    """The one default of order tables and pulls (COMPLETE), as ``tables`` declares it."""
    from .tables import DEFAULT_ORDER_STATUS

    return DEFAULT_ORDER_STATUS


def moment(text: str, tz: tzinfo, what: str, *, end: bool = False, now: datetime | None = None) -> datetime:
    """A date expression as a datetime in ``tz``; out-of-range spans are one ConfigError."""
    try:
        return parse_moment(text, tz=tz, end=end, now=now)
    except ConfigError as exc:
        raise ConfigError(f"{what}: {exc}") from None
    except (OverflowError, ValueError):
        raise ConfigError(f"{what} {text} is out of range: dates must lie between the years 1 and "
                          "9999 (e.g. --since 30d, --since 2026-05-01).") from None


def _typed(key: str, value: Any, tz: tzinfo) -> Any:
    """``value`` as the kind of value filter ``key`` takes; one sentence when it is not one."""
    kind = _KINDS.get(key, "text")
    if kind in ("id", "count"):
        return positive_int(value, f"{key}=")
    if kind == "money":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}= needs an amount in dollars such as 40 or 12.50, not {value!r}.")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{key}= needs true or false, not {value!r}.")
        return value
    if kind == "day":
        return moment(str(value), tz, f"{key}=").date()
    if kind == "part":
        text = str(value).lower()
        if text not in _PARTS:
            raise ConfigError(f"part= must be one of {', '.join(_PARTS)}, not {value!r}{suggest(text, _PARTS)}.")
        return text
    return str(value)


def _pace(page: list[dict[str, Any]], since: datetime | None, until: datetime | None) -> int:
    """Orders in the period at the pace of its newest page (a first, cheap guess)."""
    stamps = sorted(t for t in (_created(r) for r in page) if t is not None)
    if not stamps:
        return len(page)
    newest, oldest = stamps[-1], stamps[0]
    end = min(until, newest) if until is not None else newest
    if since is None:
        return 10**9  # all of history: only a dry run can say
    covered = max((newest - oldest).total_seconds(), 60.0)
    return max(len(page), round(len(page) * max((end - since).total_seconds(), 0.0) / covered))


def _created(record: dict[str, Any]) -> datetime | None:
    return parse_timestamp(record.get("created_at"), naive=UTC)


def _duration(seconds: float) -> str:
    minutes = seconds / 60.0
    if minutes < 90:
        return f"{max(1, round(minutes))} min"
    return f"{minutes / 60.0:.1f} h"


@contextlib.contextmanager
def _recording(client: Any) -> Iterator[list[Any]]:
    """Every answer the client's transport gives *this thread* while the block runs.

    Ctrl-C lands wherever the fetch happens to be (a socket read, the rate limiter's sleep); the
    answers seen so far are what it had fetched. Background pulls on the same client run on
    other threads and are not recorded.
    """
    transport = client.transport
    owner = threading.get_ident()
    seen: list[Any] = []
    wrapped = [name for name in ("request", "cached") if callable(getattr(transport, name, None))]

    def recorder(name: str) -> Any:
        original = getattr(transport, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            response = original(*args, **kwargs)
            if response is not None and threading.get_ident() == owner:
                seen.append(response)
            return response

        return call

    # instance attributes set by someone else (a test's monkeypatch) are put back as they were
    before = {name: transport.__dict__[name] for name in wrapped if name in transport.__dict__}
    for name in wrapped:
        setattr(transport, name, recorder(name))
    try:
        yield seen
    finally:
        for name in wrapped:
            if name in before:
                setattr(transport, name, before[name])
            else:
                with contextlib.suppress(AttributeError):
                    delattr(transport, name)


def _kept(seen: list[Any], res: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    """The records an interrupted fetch had: full records for detail tables, else the listed
    records within the period, each once."""
    records: dict[str, dict[str, Any]] = {}
    for response in seen:
        if getattr(response, "method", "GET") != "GET" or getattr(response, "status_code", 200) != 200:
            continue
        try:
            body = response.json()
        except Exception:  # noqa: BLE001 - an unreadable answer is simply not kept
            continue
        items = [body] if isinstance(body, dict) else body if isinstance(body, list) else []
        for item in items:
            if not isinstance(item, dict) or item.get("id") is None:
                continue
            if res.detail is not None and res.needs not in item:
                continue
            if res.detail is None and not _within(item, query):
                continue
            records[str(item.get("id_str") or item["id"])] = item
    return sorted(records.values(), key=lambda r: str(r.get("created_at") or ""), reverse=True)


def _within(record: dict[str, Any], query: dict[str, Any]) -> bool:
    created = _created(record)
    since, until = query.get("since"), query.get("until")
    if created is None:
        return since is None and until is None
    return (since is None or created >= since) and (until is None or created < until)


def select_columns(frame: Any, spec: str) -> Any:
    """``frame`` with only the columns of ``spec`` (``a,b,c``), in that order; attrs kept."""
    names = [name.strip() for name in str(spec).split(",")]
    if not names or any(not name for name in names):
        raise ConfigError("--columns needs column names separated by commas, e.g. --columns sale_number,total.")
    columns = [str(c) for c in frame.columns]
    for name in names:
        if name not in columns:
            raise ConfigError(f"There is no column {name!r}{suggest(name, columns)}; the columns are: "
                              f"{', '.join(columns)}.")
    if len(set(names)) != len(names):
        raise ConfigError("--columns names a column twice: name each once.")
    attrs = dict(frame.attrs)
    picked = frame[names].copy()
    picked.attrs.update(attrs)
    return picked


def say_how_fresh(frame: Any) -> None:
    """One line when the result was served from the cache in offline mode: how old it is."""
    meta = getattr(frame, "attrs", {}).get("meta") or {}
    if not meta.get("stale"):
        return
    since = meta.get("stale_since")
    if isinstance(since, datetime):
        when: datetime | None = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    else:
        when = parse_timestamp(since, naive=UTC)
    if when is None:
        print("Offline: this result came from the cache, not the API (Kounta.offline is on); its age is unknown.")
        return
    age = datetime.now(UTC) - when
    print(f"Offline: this result came from the cache, not the API: the oldest part is "
          f"{_age(age)} old (fetched {when.astimezone():%Y-%m-%d %H:%M %Z}).")


def _age(age: timedelta) -> str:
    seconds = max(age.total_seconds(), 0.0)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _convert_timestamps(frame: pd.DataFrame, tz: tzinfo) -> pd.DataFrame:
    import pandas as pd

    frame = frame.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert(tz)
    return frame
