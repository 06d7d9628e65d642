"""Early answers from a running pull: totals by group with intervals, from the random sample of
details fetched so far (see :func:`kounta_nb.pull.estimates.estimate_totals` for the statistics).

The scheduler fetches details in the seeded order ``rank_key(seed, id)``; the longest fully fetched
prefix of that order is a simple random sample of the listed orders, which is what
:meth:`Analysis.sample` returns and :meth:`Analysis.estimate` feeds to the estimator.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ConfigError, KountaError, PullError
from .scheduler import Scheduler, rank_key
from .source import KountaLike
from .store import PullStore, order_id

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DETAIL_GROUPS", "KNOWN_GROUPS", "Analysis", "line_value", "By", "Metric",
]

#: Estimate dimensions: known for every listed order (post-strata) or only from details (domains).
KNOWN_GROUPS = ("hour", "weekday", "day", "site")
DETAIL_GROUPS = ("product", "category")
By = Literal["product", "category", "hour", "weekday", "site", "day"]
Metric = Literal["revenue", "quantity"]
_Line = tuple[Any, str | None, float, float]  # (product id, name, quantity, revenue)


def line_value(line: Mapping[str, Any], metric: str) -> float:
    """A line's revenue (total including tax) or quantity."""
    quantity = float(line.get("quantity") or 0.0)
    if metric == "quantity":
        return quantity
    ex_tax = line.get("line_total_ex_tax")
    tax = line.get("line_total_tax")
    if ex_tax is None:
        return quantity * (float(line.get("unit_price") or 0.0) + float(line.get("unit_tax") or 0.0))
    return float(ex_tax) + float(tax or 0.0)


class Analysis:
    """Estimates for one pull; parses each sampled order's lines once and caches look-ups."""

    def __init__(self, scheduler: Scheduler, store: PullStore, client: KountaLike, tz: tzinfo, seed: int) -> None:
        self._scheduler = scheduler
        self._store = store
        self._client = client
        self._tz = tz
        self._seed = seed
        self._lock = threading.Lock()
        self._lines: dict[int, list[_Line]] = {}
        self._groups: dict[str, dict[Any, str]] = {}

    def forget(self, oid: int) -> None:
        """Drop the parsed lines of an order fetched again (it changed)."""
        with self._lock:
            self._lines.pop(oid, None)

    def estimate(self, by: str, metric: str, confidence: float, *, details: bool) -> pd.DataFrame:
        """See :meth:`kounta_nb.pull.PullJob.estimate`."""
        from ..vocab import WEEKDAYS
        from .estimates import estimate_totals

        if by not in KNOWN_GROUPS + DETAIL_GROUPS:
            raise ConfigError(f"estimate(by=…) must be one of {', '.join(KNOWN_GROUPS + DETAIL_GROUPS)}, not {by!r}.")
        if metric not in ("revenue", "quantity"):
            raise ConfigError(f"estimate(metric=…) must be 'revenue' or 'quantity', not {metric!r}.")
        if not details:
            raise PullError("This pull does not fetch order details (details=False), so there is nothing to estimate from.")
        s = self._scheduler
        with s.cv:
            if not s.listing_done_locked():
                raise PullError(
                    f"Estimates start once the order list is complete ({len(s.members):,} orders "
                    "listed so far); try again in a moment."
                )
        population, sample = self.sample()
        table = estimate_totals(self._values(sample, by, metric, population), population, sample,
                                groups_known=by in KNOWN_GROUPS, confidence=confidence)
        table.index.name = by
        if by in ("hour", "day", "weekday"):
            order = list(WEEKDAYS) if by == "weekday" else sorted(table.index)
            table = table.reindex([g for g in order if g in table.index])
        table.attrs.update({"by": by, "metric": metric, "n": len(sample), "N": len(population)})
        return table

    def sample(self) -> tuple[pd.DataFrame, list[int]]:
        """``(population, sample_ids)``: every listed order (``x`` = list total) and the longest
        fully fetched prefix of the random fetch order."""
        import pandas as pd

        s = self._scheduler
        with s.cv:  # the rows straight from the scheduler's map, not from a copy of it
            rows = [(oid, ts, site, total) for oid, (ts, site, total) in s.members.items() if oid not in s.missing]
            done = set(s.done_ids)
        population = pd.DataFrame(rows, columns=["order_id", "created_ts", "site_id", "x"]).set_index("order_id")
        # the scheduler's fetch order, recomputed (~50 ms for 82k orders) rather than kept per order
        ranked = sorted(population.index, key=lambda oid: rank_key(self._seed, oid))
        sample: list[int] = []
        for oid in ranked:
            if oid not in done:
                break
            sample.append(int(oid))
        return population, sample

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

    def _lines_of(self, ids: list[int]) -> dict[int, list[_Line]]:
        """``(product id, name, quantity, revenue)`` per line of each order, parsed once per job."""
        with self._lock:
            todo = [oid for oid in ids if oid not in self._lines]
        for record in self._store.details(todo):
            parsed: list[_Line] = []
            for line in record.get("lines") or []:
                product = line.get("product") or {}
                parsed.append((product.get("id"), product.get("name"), line_value(line, "quantity"),
                               line_value(line, "revenue")))
            with self._lock:
                self._lines[order_id(record)] = parsed
        with self._lock:
            return {oid: self._lines.get(oid, []) for oid in ids}

    def _known_groups(self, by: str, population: pd.DataFrame) -> dict[int, Any]:
        from ..vocab import WEEKDAYS

        names = self._site_names() if by == "site" else {}
        out: dict[int, Any] = {}
        for oid, ts, site in zip(population.index, population["created_ts"], population["site_id"], strict=True):
            moment = datetime.fromtimestamp(float(ts), self._tz)
            if by == "hour":
                out[oid] = moment.hour
            elif by == "weekday":
                out[oid] = WEEKDAYS[moment.weekday()]
            elif by == "day":
                out[oid] = moment.date().isoformat()
            else:
                out[oid] = names.get(site, f"site {site}")
        return out

    def _site_names(self) -> dict[Any, str]:
        if "site" not in self._groups:
            try:
                self._groups["site"] = {s.get("id"): str(s.get("name")) for s in self._client.sites()}
            except KountaError:
                self._groups["site"] = {}
        return self._groups["site"]

    def _categories(self) -> dict[Any, str]:
        """product id → its first category's name (one request per category, cached per job)."""
        if "category" not in self._groups:
            mapping: dict[Any, str] = {}
            for cat in self._client.categories():
                for product in self._client.category_products(int(cat["id"])):
                    mapping.setdefault(product.get("id"), str(cat.get("name")))
            self._groups["category"] = mapping
        return self._groups["category"]
