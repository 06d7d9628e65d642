"""Helpers for the widget tests: the consent page followed like a browser, and widget walking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import ipywidgets as widgets
import requests


def consent(authorize_url: str, *, company: str | None = None, decision: str = "grant") -> str:
    """Do what the user does in the new tab: log in, pick the company, Grant Access.

    Returns the address the consent page redirects the browser to (not followed).
    """
    browser = requests.Session()
    parts = urlsplit(authorize_url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    action = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    page = browser.get(authorize_url)
    assert page.status_code == 200 and 'name="email"' in page.text
    step = browser.post(action, data={**params, "email": "demo@kounta.test", "password": "kounta"})
    assert 'name="company_id"' in step.text
    session_id = step.text.split('name="session" value="', 1)[1].split('"', 1)[0]
    options = step.text.split("<select", 1)[1].split("</select>", 1)[0]
    company_id = options.split('<option value="', 1)[1].split('"', 1)[0]
    if company:
        before = options.split(f">{company}", 1)[0]
        company_id = before.rsplit('<option value="', 1)[1].split('"', 1)[0]
    done = browser.post(
        action,
        data={**params, "session": session_id, "company_id": company_id, "decision": decision},
        allow_redirects=False,
    )
    assert done.status_code == 302, done.text
    return done.headers["Location"]


def tree(widget: widgets.Widget) -> Iterator[widgets.Widget]:
    """The widget and every widget below it."""
    yield widget
    for child in getattr(widget, "children", ()):
        yield from tree(child)


def synced_state(widget: widgets.Widget) -> str:
    """Everything these widgets would sync to the browser and save into the notebook."""
    return json.dumps([w.get_state() for w in tree(widget)], default=str)


def _part(widget: widgets.Widget, kind: type, description: str) -> Any:
    for w in tree(widget):
        if isinstance(w, kind) and getattr(w, "description", None) == description:
            return w
    raise AssertionError(f"no {kind.__name__} {description!r}")
