"""Several companies in one notebook, and writes from the magic (issues 11 §5 and 12 §4) —
through a real IPython shell against the sandbox's two companies over sockets."""

from __future__ import annotations

import pytest
from support_magics import magics_of, one_line_error, run

from kounta_nb.errors import WriteOutcomeUnknown

HARBOUR, BAKEHOUSE = 51642, 61873
TLB = 1202


@pytest.fixture
def two(connected):
    run(connected, f"%kounta sandbox --company {BAKEHOUSE}")
    return connected


def test_companies__a_second_login_adds_a_company(two, capsys):
    session = magics_of(two).session
    assert [c.company_id for c in session.clients] == [HARBOUR, BAKEHOUSE]
    assert session.client.company_id == BAKEHOUSE
    capsys.readouterr()
    run(two, "%kounta companies")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("  Harbour Lane Hospitality (id 51642)")
    assert out[1].startswith("* Brunswick Street Bakehouse (id 61873)")


def test_companies__switch_by_name_or_id_and_fetch_each(two):
    bakehouse = run(two, "%kounta orders --since 2d")
    run(two, "%kounta company Harbour Lane Hospitality")
    harbour = run(two, "%kounta orders --since 2d")
    run(two, f"%kounta company {BAKEHOUSE}")
    again = run(two, "%kounta orders --since 2d")
    assert set(bakehouse["company_id"].dropna().astype(int)) <= {BAKEHOUSE}
    assert set(harbour["site_id"].astype(int)) & {1201, 1202, 1203}
    assert not set(harbour["id"]) & set(bakehouse["id"])
    assert sorted(again["id"]) == sorted(bakehouse["id"])


def test_companies__each_keeps_its_default_site(two):
    run(two, "%kounta company harbour lane hospitality")
    run(two, "%kounta venue TLB")
    run(two, f"%kounta company {BAKEHOUSE}")
    session = magics_of(two).session
    assert session.site_id is None
    run(two, f"%kounta company {HARBOUR}")
    assert session.site_id == TLB and session.company_name == "Harbour Lane Hospitality"


def test_companies__logout_leaves_the_other_connected(two, capsys):
    capsys.readouterr()
    run(two, "%kounta logout")
    out = capsys.readouterr().out
    assert "Logged out of Brunswick Street Bakehouse" in out and "Now using Harbour Lane Hospitality" in out
    session = magics_of(two).session
    assert [c.company_id for c in session.clients] == [HARBOUR]
    assert len(run(two, "%kounta sites")) == 3
    run(two, "%kounta sandbox --company 61873")
    run(two, "%kounta logout all")
    assert session.clients == [] and session.client is None
    assert "Not connected" in one_line_error(two, "%kounta sites", capsys)


def test_companies__reconnecting_a_company_replaces_its_client(two):
    session = magics_of(two).session
    old = session.client
    run(two, f"%kounta sandbox --company {BAKEHOUSE}")
    assert len(session.clients) == 2 and session.client is not old
    assert old.transport.closed


def test_companies__unknown_is_one_line_with_the_list(two, capsys):
    message = one_line_error(two, "%kounta company Nowhere Pty", capsys)
    assert "Nowhere Pty" in message and "Harbour Lane Hospitality (51642)" in message


# -- writes ---------------------------------------------------------------------------------------


def test_write__post_put_and_read_back(connected):
    created = run(connected, '%%kounta post customers\n{"first_name": "Ada", "email": "ada@example.com"}\n')
    assert created["id"] and created["first_name"] == "Ada"
    updated = run(connected, f'%%kounta put customers/{created["id"]}\n{{"last_name": "Lovelace"}}\n')
    assert updated["last_name"] == "Lovelace"
    again = run(connected, f"%kounta get customers/{created['id']}")
    assert again["last_name"] == "Lovelace"


def test_write__paths_as_the_api_docs_write_them(connected):
    run(connected, '%%kounta post /v1/companies/me/categories -o cat\n{"name": "Specials"}\n')
    category = connected.user_ns["cat"]
    assert category["name"] == "Specials"
    changed = run(connected, f'%%kounta patch companies/{51642}/categories/{category["id"]}\n{{"name": "Today"}}\n')
    assert changed["name"] == "Today"


def test_write__webhook_create_and_delete(connected, capsys):
    hook = run(connected, '%%kounta post webhooks\n{"topic": "orders/created", "address": "https://example.com/h"}\n')
    capsys.readouterr()
    run(connected, f"%kounta delete webhooks/{hook['id']}")
    assert f"Deleted webhooks/{hook['id']}." in capsys.readouterr().out
    assert "404" in one_line_error(connected, f"%kounta get webhooks/{hook['id']}", capsys)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("%%kounta post customers\n{\"first_name\": \n", "not valid JSON"),
        ("%%kounta post customers\n[1]\n", "one JSON object"),
        ("%%kounta post nowhere\n{}\n", "cannot POST nowhere"),
        ("%%kounta delete webhooks/1\n{\"x\": 1}\n", "delete takes no body"),
        ("%%kounta put companies/999/customers/5\n{}\n", "another company's path"),
        ("%kounta post customers", "needs the JSON body as the cell"),
        ("%%kounta post customers extra\n{}\n", "Use `%%kounta post PATH`"),
        ("%%kounta post customers --since 1d\n{}\n", "post does not take --since"),
        ("%%kounta post customers\n{\"last_name\": \"x\"}\n", "Kounta answered 400"),
    ],
)
def test_write__mistakes_are_one_line(connected, capsys, cell, expected):
    assert expected in one_line_error(connected, cell, capsys)


def test_write__an_unknown_outcome_is_one_line(connected, monkeypatch, capsys):
    client = magics_of(connected).session.client

    def lost(body):
        raise WriteOutcomeUnknown(
            "The answer to POST customers was lost: the customer may have been created. "
            "Check with %kounta customers before trying again.",
            method="POST", path="customers", check="customers")

    monkeypatch.setattr(client, "create_customer", lost)
    message = one_line_error(connected, '%%kounta post customers\n{"first_name": "Bo", "phone": "1"}\n', capsys)
    assert message.startswith("The answer to POST customers was lost")
