"""The venue picker: choose the default site for later ``%kounta`` commands.

One Kounta token reaches one company (the one picked on the consent page); a company has several
sites (venues), so the picker chooses a *site*. The choice is remembered per company (see
:mod:`kounta_nb.session`) and can be overridden by a parameter or ``KOUNTA_SITE`` for headless runs.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..session import Session

__all__ = [
    "VenuePicker", "ALL_SITES",
]

#: Dropdown value meaning "every site of the company" (site ids are positive).
ALL_SITES = 0


class VenuePicker(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """A Dropdown of the company's sites (plus "All sites") bound to ``session.site_id``."""

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        client = session.require()
        sites = sorted(client.sites(), key=lambda site: str(site.get("name") or ""))
        options = [("All sites", ALL_SITES)] + [
            (f"{site.get('name')} ({site.get('code')})" if site.get("code") else str(site.get("name")), int(site["id"]))
            for site in sites
        ]
        self._dropdown = widgets.Dropdown(
            options=options,
            value=session.site_id or ALL_SITES,
            description="Venue",
        )
        self._note = widgets.HTML("")
        self.add_class("kounta-nb-venue")
        self.children = [self._dropdown, self._note]
        self._show_note()
        self._dropdown.observe(self._on_dropdown_value, "value")
        session.observe(self._on_session_site, "site_id")

    @property
    def dropdown(self) -> widgets.Dropdown:
        """The Dropdown itself (its ``value`` is a site id, 0 for all sites)."""
        return self._dropdown

    def _on_dropdown_value(self, change: dict[str, Any]) -> None:
        site = change["new"] or None
        if site != self.session.site_id:
            self.session.choose_site(site)
        self._show_note()

    def _on_session_site(self, change: dict[str, Any]) -> None:
        value = change["new"] or ALL_SITES
        if value != self._dropdown.value and value in {v for _, v in self._dropdown.options}:
            self._dropdown.value = value

    def _show_note(self) -> None:
        self._note.value = (
            "<span class='kounta-nb-venue-note'>Later <code>%kounta</code> commands use "
            f"{html.escape(self.session.site_name())}.</span>"
        )

    def close(self) -> None:
        """Stop following the session and close."""
        self.session.unobserve(self._on_session_site, "site_id")
        super().close()
