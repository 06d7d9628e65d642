"""The data side of the magics (issue 12): ``--to FILE``, ``%kounta sql`` over the dataset of
every company logged in, ``%config Kounta.dataframe = "polars"`` — through a real IPython shell
against the sandbox's two companies over sockets."""

from __future__ import annotations

import json
import sys

import pandas as pd
import pyarrow as pa
import pytest
from support_magics import magics_of, one_line_error, run

from kounta_nb import dataset, settings
from kounta_nb.magic_data import DATASET_DIR

HARBOUR, BAKEHOUSE = 51642, 61873


# -- --to FILE ---------------------------------------------------------------------------------------


def test_to__parquet_round_trips_with_the_frames_types(connected, tmp_path, capsys):
    target = tmp_path / "out" / "sales.parquet"
    df = run(connected, f"%kounta orders --since 7d --site TLB --limit 40 --to {target}")
    assert f"Wrote 40 rows to {target}" in capsys.readouterr().out
    back = dataset.read_frame(target)
    assert list(back.columns) == list(df.columns) and len(back) == 40
    assert back["created_at"].dtype == df["created_at"].dtype
    assert back["total"].sum() == pytest.approx(df["total"].sum())


def test_to__csv_writes_lists_as_json(connected, tmp_path):
    target = tmp_path / "lines.csv"
    df = run(connected, f"%kounta lines --since 1d --site TLB --limit 20 --to {target} -o lines")
    assert df is None
    frame = connected.user_ns["lines"]
    lists = [c for c in frame.columns if isinstance(frame[c].dtype, pd.ArrowDtype)
             and pa.types.is_list(frame[c].dtype.pyarrow_dtype) and frame[c].notna().any()]
    assert lists, "the lines frame has list columns (tax_ids)"
    text = pd.read_csv(target, dtype=str)[lists[0]].dropna()
    assert all(isinstance(json.loads(cell), list) for cell in text)


def test_to__a_wrong_file_name_is_refused_before_fetching(connected, capsys):
    client = magics_of(connected).session.client
    before = client.stats.as_dict()["requests"]
    assert ".parquet or .csv" in one_line_error(connected, "%kounta orders --since 7d --to sales.xlsx", capsys)
    assert ".parquet or .csv" in one_line_error(connected, "%kounta orders --since 7d --to ''", capsys)
    assert "--to" in one_line_error(connected, "%kounta orders --since 7d --background --to a.csv", capsys)
    assert client.stats.as_dict()["requests"] == before


# -- polars ------------------------------------------------------------------------------------------


def test_polars__every_dataframe_is_polars(connected):
    import polars as pl

    run(connected, "%config Kounta.dataframe = 'polars'")
    df = run(connected, "%kounta orders --since 3d --site TLB --limit 30")
    assert isinstance(df, pl.DataFrame) and df.height == 30
    assert str(df.schema["created_at"].time_zone) == str(magics_of(connected).session.client.tz)
    cell = run(connected, "%%kounta\nsites\n")
    assert isinstance(cell, pl.DataFrame) and cell.height == 3
    run(connected, "%kounta lines --since 1d --site TLB --limit 5 -o lines")
    assert isinstance(connected.user_ns["lines"], pl.DataFrame)


def test_polars__missing_is_one_line(connected, monkeypatch, capsys):
    run(connected, "%config Kounta.dataframe = 'polars'")
    monkeypatch.setitem(sys.modules, "polars", None)  # `import polars` now fails as if not installed
    message = one_line_error(connected, "%kounta sites", capsys)
    assert "polars is not installed" in message and "Kounta.dataframe = 'pandas'" in message


# -- %kounta sql over every company ------------------------------------------------------------------


def _pull_into_dataset(ip, company: int) -> pd.DataFrame:
    """The company's last 3 days pulled in the background into the default dataset."""
    run(ip, f"%kounta sandbox --company {company}")
    job = run(ip, "%kounta orders --since 3d --background --export")
    job.wait(timeout=120)
    assert job.error is None
    return job.frames()["orders"]


@pytest.fixture
def both(shell):
    run(shell, "%config Kounta.progress = False")
    frames = {company: _pull_into_dataset(shell, company) for company in (HARBOUR, BAKEHOUSE)}
    return shell, frames


def test_sql__sees_every_company_of_the_notebook(both, capsys):
    ip, frames = both
    assert len(magics_of(ip).session.clients) == 2
    counts = run(ip, "%kounta sql SELECT company_id, count(*) AS n, sum(total) AS sales FROM orders "
                     "GROUP BY company_id ORDER BY company_id")
    assert list(counts["company_id"]) == [HARBOUR, BAKEHOUSE]
    for company, frame in frames.items():
        row = counts[counts["company_id"] == company].iloc[0]
        assert row["n"] == len(frame) and row["sales"] == pytest.approx(frame["total"].sum())
    capsys.readouterr()
    run(ip, "%kounta status")
    assert f"companies {HARBOUR}, {BAKEHOUSE}" in capsys.readouterr().out


def test_sql__cell_form_with_options_and_sql_quoting(both, tmp_path):
    ip, _ = both
    target = tmp_path / "daily.csv"
    run(ip, f"%%kounta sql -o daily --to {target}\n"
            "-- sales per company and day (a comment, and a quote: it's fine)\n"
            "SELECT company_id, date, sum(total) AS sales, 'it''s' AS note\n"
            "FROM orders GROUP BY ALL ORDER BY company_id, date\n")
    daily = ip.user_ns["daily"]
    assert set(daily["company_id"]) == {HARBOUR, BAKEHOUSE} and set(daily["note"]) == {"it's"}
    assert len(pd.read_csv(target)) == len(daily)
    line = run(ip, "%kounta sql SELECT count(*) AS n FROM lines WHERE company_id = 61873 -- one company")
    assert line["n"].iloc[0] > 0


def test_sql__polars_too(both):
    import polars as pl

    ip, _ = both
    run(ip, "%config Kounta.dataframe = 'polars'")
    out = run(ip, "%kounta sql SELECT company_id, count(*) AS n FROM payments GROUP BY ALL")
    assert isinstance(out, pl.DataFrame) and set(out["company_id"].to_list()) == {HARBOUR, BAKEHOUSE}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%kounta sql SELEC 1", "SQL error"),
        ("%kounta sql SELECT * FROM nowhere", "SQL error"),
        ("%kounta sql", "sql needs a query"),
        ("%%kounta sql extra\nSELECT 1\n", "Write the query in the cell"),
        ("%%kounta sql --since 1d\nSELECT 1\n", "sql does not take --since"),
    ],
)
def test_sql__mistakes_are_one_line(both, capsys, line, expected):
    ip, _ = both
    assert expected in one_line_error(ip, line, capsys)


def test_export__default_and_named_dataset(shell, tmp_path, capsys):
    run(shell, "%config Kounta.progress = False")
    run(shell, "%kounta sandbox")
    named = tmp_path / "mine"
    job = run(shell, f"%kounta orders --since 1d --site TLB --background --export {named}")
    job.wait(timeout=120)
    held = dataset.manifest(str(named))
    assert list(held.companies) == [HARBOUR]
    assert not (settings.cache_dir() / DATASET_DIR / "manifest.json").exists()
    assert "--background" in one_line_error(shell, "%kounta orders --since 1d --export", capsys)
    assert "--background" in one_line_error(shell, "%kounta orders --since 1d --dry-run --export", capsys)
    assert "--export goes with --background" in one_line_error(shell, "%kounta sites --export", capsys)


def test_sql__no_dataset_yet_says_how_to_make_one(shell, tmp_path, capsys):
    run(shell, f"%config Kounta.dataset = '{tmp_path / 'nothing'}'")
    message = one_line_error(shell, "%kounta sql SELECT 1", capsys)
    assert "There is no dataset in" in message and "--background --export" in message
