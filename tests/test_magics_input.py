"""Every wrong %kounta input is one line (issue 11 §3), the help has examples (§5), and the
configurable has its own class under the config name ``Kounta`` (issue 13) — through a real
IPython shell against the sandbox."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from support_magics import magics_of, one_line_error, run

from kounta_nb.magic_args import EXAMPLES, parse_line
from kounta_nb.magic_config import KountaConfig
from kounta_nb.magics import KountaMagics
from kounta_nb.session import choices_file, load_choices

TLB = 1202
OUT_OF_RANGE = "out of range|outside the dates a calendar can hold"


# -- lines that cannot be read ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('%kounta venue "The Lane Bar', "a quote is not closed"),
        ("%kounta venue 'The Lane Bar", "a quote is not closed"),
        ("%kounta orders --site TLB\\", "trailing backslash"),
    ],
)
def test_unreadable_line__one_line(connected, capsys, line, expected):
    assert expected in one_line_error(connected, line, capsys)


def test_unreadable_line__inside_a_cell_too(connected, capsys):
    message = one_line_error(connected, '%%kounta\nsites\nvenue "The Lane\n', capsys)
    assert "a quote is not closed" in message


# -- dates -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%kounta orders --since 100000000d", OUT_OF_RANGE),
        ("%kounta orders --since 99999999999999999999999999d", OUT_OF_RANGE),
        ("%kounta orders --since 1d --until 9999-12-31", OUT_OF_RANGE),
        ("%kounta orders --since 9999-12-31", "in the future"),
        ("%kounta orders --since 2d --until 3d", "The period is empty"),
        ("%kounta orders --since 2026-05-02 --until 2026-05-01", "The period is empty"),
        ("%kounta orders --since ²d", "Cannot read '²d' as a date"),
        ("%kounta lines --since 1d --until 1d", "The period is empty"),
        ("%kounta shifts date=100000000d", OUT_OF_RANGE),
    ],
)
def test_dates__impossible_periods_are_errors(connected, capsys, line, expected):
    assert re.search(expected, one_line_error(connected, line, capsys))


def test_dates__a_future_since_is_an_error_as_for_pulls(connected, capsys):
    for suffix in ("", " --dry-run", " --background"):
        message = one_line_error(connected, f"%kounta orders --since 2999-01-01{suffix}", capsys)
        assert "in the future" in message, suffix


# -- values ---------------------------------------------------------------------------------------------


def test_status_as_key_value_is_honoured(connected):
    df = run(connected, "%kounta orders --since 30d --site TLB status=on_hold")
    assert len(df) > 0 and set(df["status"].astype(str)) == {"ON_HOLD"}
    assert df.attrs["meta"]["filters"]["status"] == "on_hold"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%kounta orders --since 1d --site ''", "--site needs a value"),
        ("%kounta orders --since 1d --status ''", "--status needs a value"),
        ("%kounta orders --since 1d site=", "site= needs a value"),
        ("%kounta reconciliations unprocessed=maybe", "unprocessed= needs true or false"),
        ("%kounta customers reference_id=", "reference_id= needs a value"),
        ("%kounta customers reference_id=''", "reference_id= needs a value"),
        ("%kounta orders --since 1d customer=²", "customer= needs a whole number"),
        ("%kounta orders --since 1d customer=-3", "customer= needs a whole number"),
        ("%kounta orders --since 1d --limit ²", "--limit needs a whole number"),
        ("%kounta orders --since 1d --limit 0", "--limit needs a whole number"),
        ("%kounta orders --since 1d value_gt=lots", "value_gt= needs an amount"),
        ("%kounta orders --since 1d value_gt=nan", "value_gt= needs an amount"),
        ("%kounta order id=1 part=everything", "part= must be one of"),
        ("%kounta orders --since 1d --status pendng", "(did you mean 'pending'?)"),
        ("%kounta sites -o class", "needs a Python variable name, not 'class'"),
        ("%kounta sites -o 9lives", "needs a Python variable name"),
        ("%kounta get", "Use `%kounta get PATH"),
        ("%kounta sandbox --company ''", "--company needs a company name or id"),
    ],
)
def test_values__wrong_kinds_are_errors(connected, capsys, line, expected):
    assert expected in one_line_error(connected, line, capsys)


def test_venue__empty_name_is_an_error_and_nothing_is_remembered(connected, capsys):
    run(connected, "%kounta venue TLB")
    before = choices_file().read_text(encoding="utf-8")
    assert "A site needs an id, code or name" in one_line_error(connected, "%kounta venue ''", capsys)
    assert magics_of(connected).session.site_id == TLB
    assert choices_file().read_text(encoding="utf-8") == before
    assert load_choices(magics_of(connected).session.client.company_id)["site"] == TLB


def test_names__keywords_are_not_variables(connected, capsys):
    assert "variable name" in one_line_error(connected, "%%kounta class\nsites\n", capsys)
    assert "variable name" in one_line_error(connected, "%%kounta\nclass = sites\n", capsys)
    assert "class" not in connected.user_ns


# -- words and options that would be ignored ------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%kounta cache info extra", "cache takes only info, clear or clear all"),
        ("%kounta cache wipe", "cache takes only info, clear or clear all"),
        ("%kounta status now", "status takes no further words"),
        ("%kounta logout please", "logout takes only all"),
        ("%kounta sandbox now", "sandbox takes no further words"),
        ("%kounta status --since 7d", "status does not take --since"),
        ("%kounta venue TLB --limit 3", "venue does not take --limit"),
        ("%kounta orders --since 1d --basic", "orders does not take --basic"),
        ("%kounta taxes --site TLB", "company-wide: --site does not apply"),
        ("%kounta products --status any", "--status is for orders"),
        ("%kounta orders --since 1d --dry-run --background", "choose one"),
        ("%kounta orders --since 1d --dry-run --limit 5", "not --limit"),
        ("%kounta sites --", "A bare --"),
    ],
)
def test_extra_words__are_errors(connected, capsys, line, expected):
    assert expected in one_line_error(connected, line, capsys)


@pytest.mark.parametrize(
    "line",
    [
        "%kounta orders --since 7d --since 8d",
        "%kounta orders --since 1d --dry-run --dry-run",
        "%kounta sites -o a --out b",
        "%kounta orders --since 1d --site TLB site=MDR",
        "%kounta orders --since 1d status=pending --status complete",
        "%kounta orders --since 1d value_gt=1 value_gt=2",
        "%kounta orders --since=1d --since 2d",
    ],
)
def test_repeated_options__are_errors_not_the_last_silently(connected, capsys, line):
    assert "given twice" in one_line_error(connected, line, capsys)


# -- did you mean -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%kounta ordrs --since 1d", "(did you mean 'orders'?)"),
        ("%kounta prodcts", "(did you mean 'products'?)"),
        ("%kounta orders --sinse 1d", "(did you mean '--since'?)"),
        ("%kounta orders --sin 1d", "(did you mean '--since'?)"),
        ('%kounta orders --since 1d --site "Lane Bar"', "(did you mean 'The Lane Bar'?)"),
        ("%kounta venue marlow", "(did you mean 'Marlow Dining Room'?)"),
        ("%kounta orders --since 1d valeu_gt=4", "valeu_gt= (did you mean 'value_gt'?)"),
        ("%kounta orders --since 1d --columns sale_numbr", "(did you mean 'sale_number'?)"),
        ("%kounta company harbour", "(did you mean 'Harbour Lane Hospitality'?)"),
    ],
)
def test_did_you_mean(connected, capsys, line, expected):
    assert expected in one_line_error(connected, line, capsys)


# -- the configurable and the help ----------------------------------------------------------------------


def test_config__its_own_class_under_the_name_kounta(shell):
    magics = magics_of(shell)
    assert type(magics) is KountaMagics and type(magics).__name__ == "KountaMagics"
    assert isinstance(magics.options, KountaConfig) and type(magics.options).__name__ == "Kounta"
    assert magics.options in shell.configurables
    run(shell, "%config Kounta.display_limit = 7")
    assert magics.options.display_limit == 7 and run(shell, "%config Kounta.display_limit") == 7


def test_config__ipython_config_c_kounta_applies_at_load(shell):
    run(shell, "%unload_ext kounta_nb")
    shell.config.Kounta.rate_limit = 77
    run(shell, "%load_ext kounta_nb")
    assert magics_of(shell).options.rate_limit == 77


def test_help__starts_with_a_summary_and_has_examples(shell, capsys):
    run(shell, "%kounta?")
    out = capsys.readouterr().out
    doc = out.split("Docstring:", 1)[1].lstrip("\x1b[0m39 \n")
    assert doc.startswith("Kounta POS data in the notebook")
    assert "::" not in out
    assert "Examples:" in out and "df = %kounta orders --since 30d" in out and "%%kounta post customers" in out
    assert "Usage: %kounta" in out and "--columns" in out and "--yes" in out


def test_help__every_example_line_parses():
    for text in EXAMPLES.splitlines():
        text = text.strip()
        if not text.startswith("%kounta") and "= %kounta" not in text:
            continue
        magic = text.split("%kounta", 1)[1]
        args = parse_line(magic)
        assert args.command, text


def test_columns__order_and_attrs_kept(connected):
    df = run(connected, "%kounta orders --since 7d --site TLB --limit 30 --columns total,sale_number")
    assert list(df.columns) == ["total", "sale_number"] and len(df) == 30
    assert df.attrs["meta"]["resource"] == "orders"
    full = run(connected, "%kounta orders --since 7d --site TLB --limit 30")
    pd.testing.assert_series_equal(df["total"], full["total"])


def test_unknown_filter_lists_what_the_resource_takes(connected, capsys):
    message = one_line_error(connected, "%kounta customers email=x@y.z", capsys)
    assert "customers does not take email=" in message and "reference_id" in message


def test_site_all_and_default_status_agree_with_tables(connected):
    from kounta_nb import tables

    client = magics_of(connected).session.client
    magic = run(connected, "%kounta orders --since 3d --site all")
    python = tables.fetch(client, "orders", since=magic.attrs["meta"]["filters"]["since"], status="complete")
    assert sorted(magic["id"]) == sorted(python["id"])
    assert set(magic["status"].astype(str)) == {"COMPLETE"}


def test_choices_file__private_and_a_damaged_one_is_one_line(connected, capsys):
    run(connected, "%kounta venue TLB")
    path = choices_file()
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    path.write_text("{not json", encoding="utf-8")
    capsys.readouterr()
    run(connected, "%kounta venue MDR")
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("KountaWarning: ") and "damaged" in lines[0]
    assert "Traceback" not in err
    assert json.loads(path.read_text(encoding="utf-8"))  # rewritten, readable
    assert list(path.parent.glob("choices.json.corrupt-*"))
    assert load_choices(magics_of(connected).session.client.company_id)["site"] == 1203
