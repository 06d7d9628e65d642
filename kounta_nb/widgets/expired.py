"""The "Token expired — reconnect" notice shown when a login can no longer be refreshed.

Mirrors what real integrations do (WISK's, docs/api.md §2: an expired token disables the
integration and the user connects again): one line saying so and a button that restarts the login
right where the failed command was.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from ..session import Session

__all__ = ["ExpiredNotice"]


class ExpiredNotice(widgets.VBox):  # type: ignore[misc]  # ipywidgets has no type hints
    """One warning line and a **Reconnect** button that opens a fresh :class:`LoginWidget`."""

    def __init__(self, session: Session, *, login_options: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self._login_options = dict(login_options or {})
        self.login: Any = None
        self._line = widgets.HTML(
            "<span class='kounta-nb-expired' style='color:#b26a00'>⚠ Token expired — reconnect "
            "to carry on (your data and settings are kept).</span>"
        )
        self._reconnect_button = widgets.Button(
            description="Reconnect", button_style="warning", icon="refresh"
        )
        self._reconnect_button.on_click(self._on_reconnect_click)
        self.add_class("kounta-nb-expired-notice")
        self.children = [self._line, self._reconnect_button]

    def _on_reconnect_click(self, _button: Any = None) -> None:
        from .login import LoginWidget

        self.login = LoginWidget(self.session, **self._login_options)
        self.children = [self._line, self.login]
