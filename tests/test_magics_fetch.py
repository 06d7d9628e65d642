"""Foreground fetches that respect the user's time and keep what they fetched (issue 11 §3–4):
Ctrl-C keeps the partial frame, a long fetch says so first, ``display_limit`` applies to
``%%kounta``; and one line for warnings, damaged files and errors raised outside the magic
(issue 10) — through a real IPython shell against the sandbox over sockets."""

from __future__ import annotations

import re
import threading
import time
import warnings

import pandas as pd
import pytest
from support_magics import magics_of, one_line_error, run

from kounta_nb import settings, tables
from kounta_nb.errors import KountaWarning, PullError, warn

TLB = 1202


def _interrupt_after(calls: int, original):
    count = {"n": 0}

    def call(*args, **kwargs):
        count["n"] += 1
        if count["n"] > calls:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    return call, count


# -- Ctrl-C ---------------------------------------------------------------------------------------


def test_ctrl_c__lines_keeps_the_orders_fetched_so_far(connected, monkeypatch, capsys):
    client = magics_of(connected).session.client
    # orders already in the HTTP cache and proven current by the list are not fetched again:
    # make each one a request, so the interruption lands among the full-order reads
    monkeypatch.setattr(client.transport, "cached", lambda *args, **kwargs: None)
    patched, count = _interrupt_after(3, client._record)  # each full order is one _record read
    monkeypatch.setattr(client, "_record", patched)
    capsys.readouterr()
    result = connected.run_cell("df = %kounta lines --since 2d --site TLB --limit 100", store_history=False)
    captured = capsys.readouterr()
    assert result.error_in_exec is None and "Traceback" not in captured.out + captured.err
    out = [line for line in captured.out.splitlines() if line.strip()]
    assert len(out) == 1 and out[0].startswith("Interrupted: kept the ") and "--background" in out[0]
    df = connected.user_ns["df"]
    assert df.attrs["meta"]["partial"] is True and count["n"] == 4
    kept_orders = set(df["order_id"])
    assert len(kept_orders) == 3
    monkeypatch.undo()
    for order_id in kept_orders:
        whole = run(connected, f"%kounta order id={order_id}")
        assert len(whole) == (df["order_id"] == order_id).sum()
        assert list(whole.columns) == list(df.columns)


def test_ctrl_c__an_order_list_keeps_the_pages_listed(connected, monkeypatch, capsys):
    client = magics_of(connected).session.client
    patched, _ = _interrupt_after(3, client.transport.request)
    monkeypatch.setattr(client.transport, "request", patched)
    capsys.readouterr()
    df = run(connected, "%kounta orders --since 20d --yes")
    out = capsys.readouterr().out
    assert "Interrupted: kept the " in out and "orders rows listed" in out
    assert df.attrs["meta"]["partial"] is True and 0 < len(df) <= 3 * settings.PAGE_SIZE
    assert df["id"].is_unique and set(df["status"].astype(str)) == {"COMPLETE"}
    # the monkeypatch is back in place after the fetch (the recorder restores what it found)
    assert client.transport.request is patched


def test_ctrl_c__elsewhere_is_one_line(connected, monkeypatch, capsys):
    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(magics_of(connected).session, "choose_site", stop)
    assert one_line_error(connected, "%kounta venue TLB", capsys).startswith("Interrupted")


# -- a long foreground fetch says so first ----------------------------------------------------------------


@pytest.fixture
def throttled(shell):
    run(shell, "%config Kounta.rate_limit = 180")
    run(shell, "%config Kounta.max_wait = 5")
    run(shell, "%kounta sandbox")
    return shell


def test_guard__a_long_fetch_stops_before_it_starts(throttled, capsys):
    client = magics_of(throttled).session.client
    before = client.stats.as_dict()["requests"]
    message = one_line_error(throttled, "%kounta lines --since 3d --site TLB", capsys)
    spent = client.stats.as_dict()["requests"] - before
    assert "This would take about" in message and "--background" in message and "--yes" in message
    assert "180 requests/minute" in message and re.search(r"~[\d,]+ orders", message)
    assert spent <= 1 + 40, spent  # one list page, then at most a rough dry run (budget 40)


def test_guard__the_whole_history_is_stopped_too(throttled, capsys):
    message = one_line_error(throttled, "%kounta orders", capsys)
    assert "This would take about" in message and "--since WHEN --background" in message


def test_guard__a_short_fetch_goes_ahead(throttled):
    df = run(throttled, "%kounta lines --since 3d --site TLB --limit 4")
    assert len(df) == 4


def test_guard__yes_fetches_anyway(throttled, capsys):
    run(throttled, "%config Kounta.max_wait = 0.5")
    assert "--yes" in one_line_error(throttled, "%kounta orders --since 1d --site TLB", capsys)
    df = run(throttled, "%kounta orders --since 1d --site TLB --yes")
    assert len(df) > settings.PAGE_SIZE


# -- what %%kounta shows ----------------------------------------------------------------------------------


def _shown_rows(text: str) -> int:
    return len(re.findall(r"^\d+\s", text, re.M))


def test_display_limit__applies_to_what_the_cell_magic_shows(connected, capsys):
    run(connected, "%config Kounta.display_limit = 4")
    default_rows = pd.get_option("display.max_rows")
    capsys.readouterr()
    result = connected.run_cell("%%kounta\nweek = orders --since 7d --site TLB --limit 30\nsites\n"
                                "orders --since 7d --site TLB --limit 30\n")
    out = capsys.readouterr().out
    assert result.error_in_exec is None and len(result.result) == 30
    assert out.count("[30 rows x") == 2  # `week` and the returned last result, each cut short
    assert _shown_rows(out) <= 4 + 3 + 4 + 3  # week, sites (3 rows), last
    assert pd.get_option("display.max_rows") == default_rows  # put back once the cell is done
    assert len(connected.user_ns["week"]) == 30


# -- status after leaving the sandbox -------------------------------------------------------------------------


def test_status__a_real_server_is_not_the_sandbox(connected, monkeypatch, capsys):
    from kounta_nb.sandbox.server import start_sandbox

    run(connected, "%kounta status")
    assert "(the embedded sandbox)" in capsys.readouterr().out
    with start_sandbox(seed=3, months=1) as elsewhere:  # stands in for a real Kounta server
        monkeypatch.setenv("KOUNTA_CLIENT_ID", elsewhere.client_id)
        monkeypatch.setenv("KOUNTA_CLIENT_SECRET", elsewhere.client_secret)
        run(connected, f"%config Kounta.api_base = '{elsewhere.api_base}'")
        run(connected, "%kounta login --basic")
        capsys.readouterr()
        run(connected, "%kounta status")
        out = capsys.readouterr().out
        run(connected, "%kounta logout")
    assert elsewhere.api_base in out and "sandbox" not in out.lower()
    assert "Also logged in: Harbour Lane Hospitality" in out


# -- cache -------------------------------------------------------------------------------------------------------


def test_cache__info_says_the_footprint_and_clear_shrinks_the_file(connected, capsys):
    run(connected, "%kounta orders --since 10d --yes")
    client = magics_of(connected).session.client
    path = client.transport.cache_path
    capsys.readouterr()
    run(connected, "%kounta cache info")
    out = capsys.readouterr().out
    assert str(path) in out and "MB on disk" in out and "Pull store:" in out and "On disk: " in out
    before = path.stat().st_size
    run(connected, "%kounta cache clear")
    out = capsys.readouterr().out
    assert re.search(r"Cleared [1-9]\d* cached responses", out) and "went from" in out
    assert path.stat().st_size < before
    run(connected, "%kounta cache")
    assert " 0 responses of this company" in capsys.readouterr().out


# -- one line for warnings and for errors outside the magic ----------------------------------------------------


def test_warnings__each_kounta_warning_is_one_line_once(connected, monkeypatch, capsys):
    original = tables.fetch

    def noisy(*args, **kwargs):
        for _ in range(3):
            warn("The HTTP cache was damaged; moved aside and rebuilt.")
        warn("Served from the cache: 2 h old.")
        return original(*args, **kwargs)

    monkeypatch.setattr(tables, "fetch", noisy)
    capsys.readouterr()
    run(connected, "%kounta sites")
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["KountaWarning: The HTTP cache was damaged; moved aside and rebuilt.",
                   "KountaWarning: Served from the cache: 2 h old."]


def test_warnings__from_a_background_thread_are_one_line(shell, capsys):
    capsys.readouterr()
    with warnings.catch_warnings():
        # past the suite's "error" filter to the magics' display, which is what is asserted
        warnings.simplefilter("always", KountaWarning)
        thread = threading.Thread(target=warn, args=("The pull store was damaged; starting again.",))
        thread.start()
        thread.join()
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert err == ["KountaWarning: The pull store was damaged; starting again."]


def test_errors__a_kounta_error_in_python_code_is_one_line(shell, capsys):
    capsys.readouterr()
    result = shell.run_cell("from kounta_nb.errors import PullError\n"
                            "def wait():\n    raise PullError('The pull stopped after 3 of 9 orders: boom.')\nwait()\n")
    captured = capsys.readouterr()
    assert isinstance(result.error_in_exec, PullError)
    assert "Traceback" not in captured.out + captured.err
    assert [line for line in captured.err.splitlines() if line.strip()] == [
        "PullError: The pull stopped after 3 of 9 orders: boom."]
    run(shell, "%unload_ext kounta_nb")
    assert shell.custom_exceptions == ()
    run(shell, "%load_ext kounta_nb")


def test_damaged_pull_store__background_is_one_line(connected, capsys):
    from kounta_nb.pull import store_path

    client = magics_of(connected).session.client
    path = store_path(client.api_base, client.company_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    run(connected, "%config Kounta.progress = False")
    capsys.readouterr()
    result = connected.run_cell("job = %kounta orders --since 1d --site TLB --background", store_history=False)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and re.match(r"(UsageError|KountaWarning): ", lines[0]), captured.err
    if result.error_in_exec is None:  # the store was moved aside and the pull started afresh
        job = connected.user_ns["job"]
        job.wait(timeout=60)
        assert job.error is None


def test_damaged_http_cache__sandbox_is_one_line(shell, capsys):
    path = settings.cache_dir() / settings.SANDBOX_HTTP_CACHE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"garbage, not SQLite " * 200)
    capsys.readouterr()
    result = shell.run_cell("%kounta sandbox", store_history=False)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and re.match(r"(UsageError|KountaWarning): ", lines[0]), captured.err
    if result.error_in_exec is None:
        assert magics_of(shell).session.client is not None


def test_pull_error_raised_by_wait_is_one_line(shell, capsys):
    from kounta_nb.sandbox.server import start_sandbox

    run(shell, "%config Kounta.max_retries = 0")
    run(shell, "%config Kounta.rate_limit = 600")  # slow enough to be mid-pull when the server goes
    run(shell, "%config Kounta.progress = False")
    fresh = start_sandbox(seed=7, months=1)
    magics_of(shell).session.sandbox_handle = fresh
    try:
        run(shell, "%kounta sandbox")
        job = run(shell, "job = %kounta orders --since 7d --background") or shell.user_ns["job"]
        deadline = time.monotonic() + 30
        while job.progress.requests_done < 3:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        fresh.stop()
        magics_of(shell).session.sandbox_handle = None
    capsys.readouterr()
    result = shell.run_cell("job.wait(timeout=60)", store_history=False)
    captured = capsys.readouterr()
    assert isinstance(result.error_in_exec, PullError)
    assert "Traceback" not in captured.err, captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("PullError: "), captured.err


# -- offline mode and full records ------------------------------------------------------------------------


def test_offline__a_stale_result_says_how_old_in_one_line(shell, capsys):
    from kounta_nb.sandbox.server import start_sandbox

    run(shell, "%config Kounta.max_retries = 0")
    run(shell, "%config Kounta.offline = True")
    fresh = start_sandbox(seed=7, months=1)
    magics_of(shell).session.sandbox_handle = fresh
    try:
        run(shell, "%kounta sandbox")
        assert magics_of(shell).session.client.transport.offline is True
        first = run(shell, "%kounta sites")
        assert first.attrs["meta"]["stale"] is False
    finally:
        fresh.stop()
        magics_of(shell).session.sandbox_handle = None
    capsys.readouterr()
    df = run(shell, "%kounta sites")
    captured = capsys.readouterr()
    assert df.attrs["meta"]["stale"] is True and list(df["id"]) == list(first["id"])
    out = [line for line in captured.out.splitlines() if line.strip() and not line.startswith(("Out", " "))]
    stale = [line for line in out if line.startswith("Offline:")]
    assert len(stale) == 1 and " old (fetched " in stale[0]
    err = [line for line in captured.err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("KountaWarning: Offline mode"), captured.err
    assert "Traceback" not in captured.out + captured.err
    run(shell, "%kounta status")
    assert "Offline mode: on" in capsys.readouterr().out


def test_full__fetches_the_full_records_the_list_leaves_out(connected):
    abridged = run(connected, "%kounta products --limit 3")
    full = run(connected, "%kounta products --full --limit 3")
    assert abridged["category_ids"].isna().all()
    assert full["category_ids"].notna().all() and list(full["id"]) == list(abridged["id"])
