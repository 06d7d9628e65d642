"""How a pull shows where it stands: the :class:`Progress` snapshot, the tqdm bar, the HTML table."""

from __future__ import annotations

import contextlib
import html
import sys
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Bar", "Progress", "duration", "html_table", "in_notebook"]


@dataclass(frozen=True)
class Progress:
    """A snapshot of a pull, safe to read from any thread.

    ``details_reused`` counts details taken from the store (fetched by an earlier run or, while
    two processes share the store, by the other one); ``details_elsewhere`` are being fetched by
    another process right now (this one waits for them instead of asking twice).
    """

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
    details_elsewhere: int = 0

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
            parts.append(f"ETA {duration(self.eta_s)}")
        if self.waiting_s > 0.5:
            parts.append(f"waiting {self.waiting_s:.0f}s for the rate limit")
        if self.details_elsewhere:
            parts.append(f"{self.details_elsewhere:,} being fetched by another process")
        if self.error:
            parts.append(self.error)
        return ", ".join(parts)


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``."""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    return f"{int(minutes // 60)} h {int(minutes % 60):02d} min"


def in_notebook() -> bool:
    """Whether we run inside a Jupyter kernel (a bar is shown there by default)."""
    shell = sys.modules.get("IPython")
    if shell is None or "ipykernel" not in sys.modules:
        return False
    try:
        return shell.get_ipython() is not None
    except Exception:  # noqa: BLE001 - no shell, no notebook
        return False


class Bar:
    """A tqdm progress bar of requests done / to go (nothing at all when tqdm is missing)."""

    def __init__(self) -> None:
        # kounta_nb.progress: a saved notebook shows how the pull ended, not the bar's first
        # frame (None without tqdm: a stripped install just gets no bar)
        from ..progress import progress_bar

        self._bar: Any = progress_bar(total=None, unit="req", desc="Kounta pull", leave=True, dynamic_ncols=True)

    def update(self, p: Progress, *, final: bool = False) -> None:
        """Show ``p``; close the bar (keeping its last state) when ``final``."""
        bar = self._bar
        if bar is None:
            return
        try:
            total = p.requests_done + (p.requests_to_go or 0)
            if total and bar.total != total:
                bar.total = total
            bar.n = p.requests_done
            bar.set_postfix_str(f"{p.state}, {p.details_done:,}/{p.details_total:,} orders, "
                                f"{p.rate_per_minute:.0f}/min", refresh=False)
            bar.refresh()
            if final:
                self.close()
        except Exception:  # noqa: BLE001 - a broken display never stops a pull
            self._bar = None

    def close(self) -> None:
        """Close the bar."""
        if self._bar is not None:
            with contextlib.suppress(Exception):
                self._bar.close()
            self._bar = None


def html_table(p: Progress, period: str, *, done: bool) -> str:
    """The job's ``_repr_html_``: a small table of the figures that matter."""
    rows = [
        ("State", p.state),
        ("Period", period),
        ("Orders listed", f"{p.orders_listed:,}" + ("" if p.listing_done else f" of ~{p.orders_expected or 0:,}")),
        ("Details", f"{p.details_done:,} of {p.details_total:,} ({p.details_reused:,} reused from the store)"),
        ("Requests", f"{p.requests_done:,} done" + (f", ~{p.requests_to_go:,} to go" if p.requests_to_go else "")),
        ("Rate", f"{p.rate_per_minute:.0f}/min (limit {p.limit_per_minute:.0f}/min), {p.rate_limited} answered 429"),
    ]
    if p.details_elsewhere:
        rows.append(("Shared", f"{p.details_elsewhere:,} details being fetched by another process"))
    if p.eta_s is not None and not done:
        rows.append(("ETA", duration(p.eta_s)))
    if p.error:
        rows.append(("Error", p.error))
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table class='kounta-pull'><caption style='text-align:left'>Kounta order pull</caption>{body}</table>"
