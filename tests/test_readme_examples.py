"""The README's code runs: its magics through a real IPython shell, its Python against the sandbox.

Each example runs as written, with two documented changes so a test stays short: a six-month pull
becomes a one-day pull, and the OAuth example's ``client_id``/``client_secret``/``redirect_uri``
and ``redirected_url`` are the sandbox's (the URL comes from its real consent form). The one block
not run is Spark's (``spark.read.parquet``): it needs a Spark session.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support_magics import magics_of, run

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
    return changed.replace('pull_orders(since="6m"', 'pull_orders(since="1d"')


def _run_lines(ip: Any, block: str) -> None:
    """A block of magics and Python, one line at a time, as a notebook user would type it."""
    for line in _shorter(block).splitlines():
        if line.strip():
            run(ip, line)


def test_readme__the_tour_runs_in_a_real_shell(shell: Any) -> None:
    (tour,) = _section_blocks("A 30-second tour")
    assert tour.startswith("%load_ext kounta_nb")
    _run_lines(shell, tour)
    df = shell.user_ns["df"]
    assert isinstance(df, pd.DataFrame) and len(df) > 0
    assert set(df["status"].astype(str)) == {"COMPLETE"}  # the documented default
    assert df.attrs["meta"]["filters"].get("site") is None  # every venue
    revenue = run(shell, tour.strip().splitlines()[-1].split("#")[0])
    assert float(revenue.sum()) == pytest.approx(float(df["total"].sum()))


def test_readme__big_data_examples_run(live_sandbox: Any, shell: Any, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("kounta_nb.consent._SANDBOX", live_sandbox)
    python, magics, *readers = _section_blocks("Big data")
    ns: dict[str, Any] = {}
    exec(compile(_shorter(python), "README:Big data", "exec"), ns)  # noqa: S102 - our own README
    daily, job = ns["daily"], ns["job"]
    assert job.state == "finished" and job.exported is not None
    assert (tmp_path / "sales-data" / "manifest.json").is_file()
    orders = job.frames()["orders"]
    assert len(daily) > 0 and float(daily["revenue"].sum()) == pytest.approx(float(orders["total"].sum()))
    spark = [block for block in readers if "spark." in block]
    assert len(spark) == 1, "the Spark example is the one block not run"
    for block in readers:
        if block not in spark:
            exec(compile(block, "README:Big data", "exec"), ns)  # noqa: S102
    polars_total = ns["orders"].select(ns["pl"].col("total").sum()).collect().item()
    assert polars_total == pytest.approx(float(orders["total"].sum()))
    assert len(ns["lines"].compute()) == len(job.frames()["lines"])

    run(shell, "%kounta sandbox")
    _run_lines(shell, magics)
    assert shell.user_ns["job"].state == "finished"
    assert magics_of(shell).options.dataframe == "polars"
    sales = run(shell, next(line for line in magics.splitlines() if line.startswith("%kounta sql")))
    assert len(sales) > 0 and {"company_id", "site_id", "month", "sales"} <= set(sales.columns)


def test_readme__several_companies_in_one_shell(shell: Any, capsys: pytest.CaptureFixture[str]) -> None:
    (block,) = _section_blocks("Several companies in one notebook")
    lines = [line for line in block.splitlines() if line.strip()]
    _run_lines(shell, "\n".join(lines[:-1]))
    out = capsys.readouterr().out
    assert "* Harbour Lane Hospitality" not in out and "* Brunswick Street Bakehouse" in out
    assert "Using Harbour Lane Hospitality" in out
    run(shell, lines[-1])
    out = capsys.readouterr().out
    assert "Logged out of Harbour Lane Hospitality" in out and "Logged out of Brunswick Street Bakehouse" in out


def test_readme__writes_run_against_the_sandbox(live_sandbox: Any, shell: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kounta_nb.consent._SANDBOX", live_sandbox)
    cell, python = _section_blocks("Writes")
    run(shell, "%kounta sandbox")
    customer = run(shell, cell)
    assert customer["id"] and customer["primary_email_address"] == "ada@example.com"
    from kounta_nb import Kounta

    ns: dict[str, Any] = {"Kounta": Kounta}
    exec(compile(python, "README:Writes", "exec"), ns)  # noqa: S102 - our own README
    assert ns["again"]["id"] == ns["order"]["id"]


def test_readme__offline_mode_is_the_documented_switch(shell: Any) -> None:
    (block,) = _section_blocks("Fresh or an error")
    _run_lines(shell, block)
    assert magics_of(shell).options.offline is True


def test_readme__magic_examples_run_in_a_real_shell(shell: Any, tmp_path: Path) -> None:
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


def test_readme__python_examples_run_against_the_sandbox(live_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
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
