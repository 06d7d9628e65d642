"""%kounta / %%kounta through a real IPython shell, against a real sandbox over sockets."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pandas as pd
import pytest
from support_magics import magics_of, one_line_error, run

from kounta_nb import tables
from kounta_nb.sandbox.server import start_sandbox
from kounta_nb.session import load_choices

TLB = 1202  # "The Lane Bar" in the sandbox's hospitality group


@pytest.fixture
def connected(shell):
    run(shell, "%kounta sandbox")
    return shell


# -- extension, help, config ------------------------------------------------------------------


def test_load_ext__registers_magics_and_config(shell):
    assert "kounta" in shell.magics_manager.magics["line"]
    assert "kounta" in shell.magics_manager.magics["cell"]
    assert any(type(c).__name__ == "Kounta" for c in shell.configurables)


def test_unload_ext__removes_everything_and_reloads(shell, capsys):
    magics_of(shell).session.sandbox_handle = None  # unloading stops the session's own sandbox
    run(shell, "%unload_ext kounta_nb")
    assert "kounta" not in shell.magics_manager.magics["line"]
    assert not any(type(c).__name__ == "Kounta" for c in shell.configurables)
    run(shell, "%load_ext kounta_nb")
    assert "kounta" in shell.magics_manager.magics["line"]


def test_help__is_the_argument_declaration(shell, capsys):
    run(shell, "%kounta?")
    out = capsys.readouterr().out
    for option in ("--since", "--until", "--site", "--background", "--dry-run", "-o NAME", "--param"):
        assert option in out


def test_config__sets_and_reads_options(shell, capsys):
    run(shell, "%config Kounta.rate_limit = 90")
    run(shell, "%config Kounta.cache = False")
    options = magics_of(shell).options
    assert options.rate_limit == 90
    assert options.client_options()["rate_limit"] == 90
    assert options.client_options()["cache"] is False
    assert run(shell, "%config Kounta.rate_limit") == 90
    run(shell, "%config Kounta")
    out = capsys.readouterr().out
    for name in ("rate_limit", "cache", "timezone", "progress", "display_limit", "site",
                 "api_base", "autoconnect", "redirect_uri"):
        assert f"Kounta.{name}" in out


def test_config__site_sets_the_default_site(connected):
    run(connected, "%config Kounta.site = 'TLB'")
    assert magics_of(connected).session.site_id == TLB


def test_config__cache_off_reaches_the_client(shell):
    run(shell, "%config Kounta.cache = False")
    run(shell, "%kounta sandbox")
    assert magics_of(shell).session.client.transport.cache_path is None


# -- connection commands ------------------------------------------------------------------------


def test_sandbox__connects_in_one_step(shell, capsys):
    run(shell, "%kounta sandbox")
    assert "Harbour Lane Hospitality" in capsys.readouterr().out
    run(shell, '%kounta sandbox --company "Brunswick Street Bakehouse"')
    assert "Brunswick Street Bakehouse" in capsys.readouterr().out
    assert magics_of(shell).session.client.company["name"] == "Brunswick Street Bakehouse"


def test_status__shows_connection_never_the_token(connected, capsys):
    capsys.readouterr()
    run(connected, "%kounta status")
    out = capsys.readouterr().out
    client = magics_of(connected).session.client
    token = client.credentials.token
    assert "Harbour Lane Hospitality" in out and "Default site: all sites" in out
    assert "expires at" in out and "Rate limit:" in out and "Cache:" in out
    assert token.access_token not in out and token.refresh_token not in out


def test_status__not_connected_says_how(shell, capsys):
    run(shell, "%kounta status")
    assert "%kounta login" in capsys.readouterr().out


def test_venue__by_code_name_or_id_and_remembered(connected, capsys):
    run(connected, "%kounta venue TLB")
    session = magics_of(connected).session
    assert session.site_id == TLB
    assert load_choices(session.client.company_id)["site"] == TLB
    run(connected, "%kounta venue marlow dining room")
    assert session.site_id == 1203
    run(connected, f"%kounta venue {TLB}")
    assert session.site_id == TLB
    assert "The Lane Bar" in capsys.readouterr().out
    # A new connection picks the remembered venue up again.
    run(connected, "%kounta sandbox")
    assert session.site_id == TLB


def test_line__a_trailing_comment_is_not_an_argument(connected):
    run(connected, '%kounta venue "The Lane Bar"   # the bar, by name')
    assert magics_of(connected).session.site_id == TLB


def test_venue__without_argument_shows_the_picker(connected, capsys):
    capsys.readouterr()
    run(connected, "%kounta venue")
    assert "VenuePicker" in capsys.readouterr().out


def test_venue__kounta_site_environment_wins_over_memory(connected, monkeypatch):
    run(connected, "%kounta venue TLB")
    monkeypatch.setenv("KOUNTA_SITE", "MDR")
    run(connected, "%kounta sandbox")
    assert magics_of(connected).session.site_id == 1203


def test_sandbox__site_parameter_picks_the_venue(shell):
    run(shell, "%kounta sandbox --site MDR")
    assert magics_of(shell).session.site_id == 1203


def test_login__shows_the_login_widget(shell, capsys):
    run(shell, "%kounta login")
    assert "LoginWidget" in capsys.readouterr().out


def test_login_basic__uses_environment_credentials(shell, live_sandbox, monkeypatch, capsys):
    monkeypatch.setenv("KOUNTA_CLIENT_ID", live_sandbox.client_id)
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", live_sandbox.client_secret)
    run(shell, f"%config Kounta.api_base = '{live_sandbox.api_base}'")
    run(shell, "%kounta login --basic")
    assert "Harbour Lane Hospitality with Basic auth" in capsys.readouterr().out
    run(shell, "%kounta status")
    assert "Basic auth" in capsys.readouterr().out


def test_autoconnect__from_environment_on_load(live_sandbox, monkeypatch, capsys):
    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("KOUNTA_CLIENT_ID", live_sandbox.client_id)
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", live_sandbox.client_secret)
    monkeypatch.setenv("KOUNTA_API_BASE", live_sandbox.api_base)
    ip = InteractiveShell.instance()
    run(ip, "%load_ext kounta_nb")
    try:
        assert "connected to Harbour Lane Hospitality" in capsys.readouterr().out
        assert magics_of(ip).session.client is not None
    finally:
        run(ip, "%unload_ext kounta_nb")


def test_logout__forgets_the_connection(connected, capsys):
    run(connected, "%kounta logout")
    assert "Logged out of Harbour Lane Hospitality" in capsys.readouterr().out
    assert "Not connected" in one_line_error(connected, "%kounta sites", capsys)


def test_logout__stops_a_running_background_pull_cleanly(connected, capsys):
    run(connected, "%config Kounta.rate_limit = 300")  # slow enough to be mid-pull at logout
    run(connected, "%kounta sandbox")
    job = run(connected, "%kounta orders --since 7d --background")
    deadline = time.monotonic() + 20
    while job.progress.requests_done < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    capsys.readouterr()
    run(connected, "%kounta logout")
    out = capsys.readouterr().out
    assert "1 background pull stopped" in out and "to resume" in out
    assert job.done and job.state == "cancelled" and job.error is None


# -- resources ----------------------------------------------------------------------------------


def test_resource__returns_a_dataframe_for_assignment(connected):
    run(connected, "df = %kounta orders --since 30d --site TLB --limit 60")
    df = connected.user_ns["df"]
    assert isinstance(df, pd.DataFrame) and len(df) == 60
    assert set(df["site_id"].astype(int)) == {TLB}
    assert df["created_at"].min() >= pd.Timestamp.now(tz="UTC") - pd.Timedelta(days=30)


def test_resource__default_site_applies(connected):
    run(connected, "%kounta venue TLB")
    df = run(connected, "%kounta orders --since 7d --limit 30")
    assert len(df) > 0 and set(df["site_id"].astype(int)) == {TLB}


def test_resource__filters_as_key_value(connected):
    df = run(connected, "%kounta orders --since 7d --site TLB value_gt=40 --limit 30")
    assert len(df) > 0 and (df["total"] > 40).all()


def test_resource__since_until_window(connected):
    df = run(connected, "%kounta orders --since 2w --until yesterday --site TLB")
    tz = magics_of(connected).session.client.tz
    today = pd.Timestamp.now(tz=tz).normalize()
    assert len(df) > 0
    assert (df["created_at"] >= today - pd.Timedelta(days=15)).all() and (df["created_at"] < today).all()


RESOURCE_ARGS = {
    "orders": "--since 7d --limit 30 --site TLB",
    "lines": "--since 7d --site TLB --limit 3",
    "payments": "--since 7d --site TLB --limit 3",
    "options": "--since 7d --site TLB --limit 3",
    "order": "id={order_id}",
    "inventory": "--site TLB",
    "product_prices": "--limit 3",
    "product_categories": "--limit 3",
    "shifts": "--since 2d",
    "breaks": "date=yesterday",
    "reconciliations": "--since 2d",
    "reconciliation_income": "--since 2d --limit 3",
    "reconciliation_takings": "--since 2d --limit 3",
}


def test_resource__every_resource_answers(connected):
    order_id = int(run(connected, "%kounta orders --since 7d --site TLB --limit 1")["id"].iloc[0])
    for name in sorted(tables.RESOURCES):
        if name == "status":  # `%kounta status` is the connection status; the API's is `get status`
            continue
        args = RESOURCE_ARGS.get(name, "").format(order_id=order_id)
        df = run(connected, f"%kounta {name} {args}")
        assert isinstance(df, pd.DataFrame), name
        assert df.attrs.get("meta"), name


def test_resource__since_last_continues_the_previous_pull(connected, capsys):
    message = one_line_error(connected, "%kounta orders --since last --site TLB", capsys)
    assert "no earlier pull of orders" in message
    run(connected, "%kounta orders --since 1h --site TLB")
    company = magics_of(connected).session.client.company_id
    assert "last:orders" in load_choices(company)
    df = run(connected, "%kounta orders --since last --site TLB")
    assert isinstance(df, pd.DataFrame)


def test_resource__timezone_option_converts_timestamps(connected):
    run(connected, "%config Kounta.timezone = 'UTC'")
    df = run(connected, "%kounta orders --since 7d --limit 30 --site TLB")
    assert str(df["created_at"].dt.tz) == "UTC"


def test_out__stores_in_the_namespace(connected, capsys):
    capsys.readouterr()
    assert run(connected, "%kounta sites -o venues") is None
    assert len(connected.user_ns["venues"]) == 3
    assert "Stored 3 rows × " in capsys.readouterr().out


def test_interpolation__braces_and_dollar(connected):
    connected.user_ns["where"] = "TLB"
    connected.user_ns["span"] = "7d"
    a = run(connected, "%kounta orders --since {span} --site {where} --limit 30")
    b = run(connected, "%kounta orders --since $span --site $where --limit 30")
    assert len(a) == len(b) > 0 and set(a["site_id"].astype(int)) == {TLB}


def test_site_all__overrides_the_default_venue(connected):
    run(connected, "%kounta venue TLB")
    df = run(connected, "%kounta orders --since 7d --site all --limit 100")
    assert len(df) == 100 and set(df["site_id"].astype(int)) != {TLB}
    run(connected, "%kounta venue all")
    assert magics_of(connected).session.site_id is None


def test_get__paths_as_the_api_docs_write_them(connected):
    taxes = run(connected, "%kounta get /companies/me/taxes")
    assert taxes and all("rate" in tax for tax in taxes)
    assert len(run(connected, "%kounta get /v1/companies/me/sites")) == 3


def test_get__any_endpoint_with_params(connected):
    me = run(connected, "%kounta get companies/me")
    assert me["name"] == "Harbour Lane Hospitality"
    assert run(connected, f"%kounta get sites/{TLB}")["code"] == "TLB"
    orders = run(connected, f"%kounta get sites/{TLB}/orders --param created_gte=2020-01-01 --limit 25")
    assert len(orders) == 25 and all(o["site_id"] == TLB for o in orders)


def test_cache__info_and_clear(connected, capsys):
    run(connected, "%kounta sites")
    run(connected, "%kounta cache info")
    out = capsys.readouterr().out
    assert "http_cache.sqlite" in out and "responses of this company" in out
    run(connected, "%kounta cache clear")
    assert "Cleared" in capsys.readouterr().out
    run(connected, "%kounta cache")
    assert " 0 responses of this company" in capsys.readouterr().out


# -- the cell magic -------------------------------------------------------------------------------


def test_cell__several_requests_named_and_last(connected, capsys):
    connected.user_ns["where"] = "TLB"
    result = run(
        connected,
        "%%kounta everything\n"
        "# the bar's last orders\n"
        "sales = orders --since 7d --limit 30 --site {where}   # inline comment\n"
        "\n"
        "sites\n",
    )
    assert set(connected.user_ns["sales"]["site_id"].astype(int)) == {TLB}
    assert connected.user_ns["everything"] is result and len(result) == 3
    assert "sales" in capsys.readouterr().out


def test_cell__named_last_line_is_returned(connected):
    result = run(connected, "%%kounta\nstaff_list = staff\n")
    assert result is connected.user_ns["staff_list"]


def test_cell__error_names_no_traceback(connected, capsys):
    message = one_line_error(connected, "%%kounta\nsites\nfrobnicate\n", capsys)
    assert "Unknown command or resource 'frobnicate'" in message


# -- each error is one line -----------------------------------------------------------------------


def test_error__unknown_resource(connected, capsys):
    assert "Unknown command or resource 'frobnicate'" in one_line_error(connected, "%kounta frobnicate", capsys)


def test_error__unknown_option(connected, capsys):
    assert "unrecognized arguments: --bogus" in one_line_error(connected, "%kounta sites --bogus", capsys)


def test_error__option_the_resource_does_not_take(connected, capsys):
    assert "products does not take since" in one_line_error(connected, "%kounta products --since 2d", capsys)


def test_error__bad_date(connected, capsys):
    assert "Cannot read '7x' as a date" in one_line_error(connected, "%kounta orders --since 7x", capsys)


def test_error__unknown_site(connected, capsys):
    message = one_line_error(connected, "%kounta orders --since 1h --site Nowhere", capsys)
    assert "Nowhere" in message and "The Lane Bar" in message


def test_error__bad_filter_syntax(connected, capsys):
    assert "KEY=VALUE" in one_line_error(connected, "%kounta orders --since 1h oops", capsys)
    assert "%config Kounta.progress" in one_line_error(connected, "%kounta payments --since 1h progress=0", capsys)


def test_error__not_logged_in(shell, capsys):
    assert "%kounta login" in one_line_error(shell, "%kounta orders --since 7d", capsys)


def test_error__expired_login_offers_reconnect(shell, capsys):
    with start_sandbox(seed=7, months=1) as fresh:
        magics = magics_of(shell)
        magics.session.sandbox_handle = fresh
        run(shell, "%kounta sandbox")
        fresh.revoke()
        fresh.expire_tokens()
        message = one_line_error(shell, "%kounta orders --since 1h --site TLB", capsys)
        magics.session.sandbox_handle = None
    assert "expired" in message and "%kounta login" in message


def test_error__expired_login_displays_the_notice(shell, capsys):
    with start_sandbox(seed=7, months=1) as fresh:
        magics_of(shell).session.sandbox_handle = fresh
        run(shell, "%kounta sandbox")
        fresh.revoke()
        fresh.expire_tokens()
        capsys.readouterr()
        shell.run_cell("%kounta orders --since 1h --site TLB")
        assert "ExpiredNotice" in capsys.readouterr().out
        magics_of(shell).session.sandbox_handle = None


def test_error__sandbox_not_running(shell, capsys):
    run(shell, "%config Kounta.max_retries = 0")
    fresh = start_sandbox(seed=7, months=1)
    magics_of(shell).session.sandbox_handle = fresh
    run(shell, "%kounta sandbox")
    fresh.stop()
    message = one_line_error(shell, "%kounta orders --since 1h --site TLB", capsys)
    assert "sandbox" in message and "not running" in message and "%kounta sandbox" in message


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_error__network_down(shell, monkeypatch, capsys):
    monkeypatch.setenv("KOUNTA_CLIENT_ID", "someone")
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", "something")
    run(shell, "%config Kounta.max_retries = 0")
    run(shell, f"%config Kounta.api_base = 'http://127.0.0.1:{_closed_port()}/v1/'")
    message = one_line_error(shell, "%kounta login --basic", capsys)
    assert "connection failed" in message and "something" not in message


class _Garbage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        body = b"<html><body>Service temporarily unavailable</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


@pytest.fixture
def garbage_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Garbage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1/"
    server.shutdown()
    server.server_close()


def test_error__server_garbage(shell, garbage_server, monkeypatch, capsys):
    monkeypatch.setenv("KOUNTA_CLIENT_ID", "someone")
    monkeypatch.setenv("KOUNTA_CLIENT_SECRET", "something")
    run(shell, "%config Kounta.max_retries = 0")
    run(shell, f"%config Kounta.api_base = '{garbage_server}'")
    message = one_line_error(shell, "%kounta login --basic", capsys)
    assert "not valid JSON" in message and "something" not in message


def test_error__cell_name_must_be_an_identifier(connected, capsys):
    assert "variable name" in one_line_error(connected, "%%kounta not a name\nsites\n", capsys)


def test_error__out_name_must_be_an_identifier(connected, capsys):
    assert "variable name" in one_line_error(connected, "%kounta sites -o 9lives", capsys)


# -- pulls ----------------------------------------------------------------------------------------


def test_orders__complete_by_default_any_on_request(connected):
    complete = run(connected, "%kounta orders --since 7d --site TLB --limit 50")
    assert set(complete["status"].astype(str)) == {"COMPLETE"}
    every = run(connected, "%kounta orders --since 7d --site TLB --status any --limit 50")
    assert len(every) == 50


def test_dry_run__estimates_without_fetching_orders(connected):
    estimate = run(connected, "%kounta orders --since 2d --site TLB --dry-run")
    assert estimate.requests > 0 and "request" in str(estimate)


def test_background__returns_the_pull_job(connected):
    run(connected, "%config Kounta.progress = False")
    job = run(connected, "%kounta orders --since 3d --site TLB --background")
    job.wait(timeout=60)
    assert job.done and job.error is None
    orders = job.frames()["orders"]
    assert len(orders) > 0 and set(orders["site_id"].astype(int)) == {TLB}
    again = run(connected, "%kounta orders --since last --site TLB --background")
    assert again.wait(timeout=60).error is None


def test_background__only_for_orders(connected, capsys):
    assert "orders, lines and payments only" in one_line_error(connected, "%kounta products --background", capsys)
    assert "needs --since" in one_line_error(connected, "%kounta orders --background", capsys)
