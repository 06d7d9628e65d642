"""The README's code runs: its magics through a real IPython shell, its Python against the sandbox.

Each example runs as written, with two documented changes so a test stays short: a six-month pull
becomes a one-day pull, and the OAuth example's ``client_id``/``client_secret``/``redirect_uri``
and ``redirected_url`` are the sandbox's (the URL comes from its real consent form).
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support_magics import live_sandbox, magics_of, run, shell  # noqa: F401

from kounta_nb.consent import consent_login
from kounta_nb.pull import PullJob

README = Path(__file__).resolve().parents[1] / "README.md"


def _section_blocks(title: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert section, f"README has no '## {title}' section"
    return re.findall(r"```python\n(.*?)```", section.group(1), re.S)


def _shorter(code: str) -> str:
    """The one change for speed: a six-month pull becomes a one-day pull."""
    changed = code.replace("--since 6m --background", "--since 1d --background")
    return changed.replace('pull_orders(since="6m")', 'pull_orders(since="1d")')


def test_readme__magic_examples_run_in_a_real_shell(shell: Any, tmp_path: Path) -> None:  # noqa: F811
    lines_block, cell_block = _section_blocks("In a notebook")[:2]
    for line in _shorter(lines_block).splitlines():
        if line.strip():
            run(shell, line)
    ns = shell.user_ns
    assert isinstance(ns["df"], pd.DataFrame) and len(ns["df"]) > 0
    assert isinstance(ns["lines"], pd.DataFrame) and {"order_id", "product_name"} <= set(ns["lines"].columns)
    job = ns["job"]
    assert isinstance(job, PullJob)
    job.cancel()
    # %kounta logout ended the session; the cell magic needs it again
    run(shell, "%kounta sandbox")
    assert cell_block.startswith("%%kounta")
    run(shell, cell_block)
    assert isinstance(ns["week"], pd.DataFrame) and len(ns["week"]) > 0
    config_block = _section_blocks("In a notebook")[2]
    for line in config_block.splitlines():
        if line.strip():
            run(shell, line)
    magics = magics_of(shell)
    assert magics.options.rate_limit == 120 and magics.options.display_limit == 50


def test_readme__python_examples_run_against_the_sandbox(live_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("KOUNTA_RATE_LIMIT", "60000")  # the sandbox does not limit; neither need we
    monkeypatch.setattr("kounta_nb.consent._SANDBOX", live_sandbox)
    quick, later, oauth = _section_blocks("In Python")[:3]
    ns: dict[str, Any] = {}
    exec(compile(_shorter(quick), "README:In Python", "exec"), ns)  # noqa: S102 - our own README
    deadline = time.monotonic() + 60
    while not ns["job"].progress.listing_done:
        assert time.monotonic() < deadline, "the order list never completed"
        time.sleep(0.05)
    exec(compile(later, "README:In Python", "exec"), ns)  # noqa: S102
    assert set(ns["tabs"]) >= {"orders", "lines", "payments", "options"}
    assert len(ns["tabs"]["orders"]) > 0 and ns["job"].state == "finished"
    assert ns["orders"].attrs["meta"]["endpoint"] and "stats" in ns["orders"].attrs["meta"]

    h = live_sandbox
    ns = {"Kounta": ns["Kounta"], "client_id": h.client_id, "client_secret": h.client_secret,
          "redirect_uri": h.redirect_uri, "api_base": h.api_base}
    first, rest = oauth.split("k = Kounta.from_flow", 1)
    monkeypatch.setenv("KOUNTA_API_BASE", h.api_base)
    monkeypatch.setenv("KOUNTA_AUTHORIZE_URL", h.authorize_url)
    exec(compile(first, "README:OAuth", "exec"), ns)  # noqa: S102
    ns["redirected_url"] = consent_login(ns["url"], email=h.username, password=h.password,
                                         redirect_uri=h.redirect_uri)
    exec(compile("k = Kounta.from_flow" + rest, "README:OAuth", "exec"), ns)  # noqa: S102
    assert ns["k"].company["name"]
