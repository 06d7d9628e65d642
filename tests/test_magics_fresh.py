"""Fresh or an error, through the magics (issue 10 §1).

A notebook shows a day of orders, lines and payments; another login then changes some of those
COMPLETE orders (new notes on some, a payment on others). Running the same cells again must show
the changes, never the cached bodies — and a re-run where nothing changed costs only 304s and
cache hits the list proved current.
"""

from __future__ import annotations

import pytest
from support_magics import run

from kounta_nb import Kounta


@pytest.fixture
def other_login(live_sandbox, tmp_path):
    """A second client of the same company, with its own HTTP cache (another kernel)."""
    k = Kounta.sandbox(handle=live_sandbox, auth="basic", cache=tmp_path / "other.sqlite",
                       rate_limit=60_000, backoff_base=0.001)
    yield k
    k.close()


def test_fresh__magics_show_changes_made_elsewhere(connected, other_login):
    # whole local days: the same window on every run (the sandbox's clock is frozen)
    window = "--site TLB --since yesterday"
    orders = run(connected, f"%kounta orders {window}")
    payments = run(connected, f"%kounta payments {window}")
    lines = run(connected, f"%kounta lines {window}")
    assert len(orders) > 12 and len(payments) >= len(orders)

    # nothing changed: the same cells again download nothing new
    again = run(connected, f"%kounta payments {window}")
    stats = again.attrs["meta"]["stats"]
    assert stats["downloaded"] == 0, stats
    assert stats["from_cache"] == len(orders)

    ids = [str(i) for i in orders["id"].head(12)]
    method = other_login.payment_methods()[0]["id"]
    for oid in ids[:6]:
        other_login.update_order(oid, {"notes": "changed in another kernel"})
    for oid in ids[6:]:
        other_login.add_payment(oid, {"method_id": method, "amount": 0.5})

    orders2 = run(connected, f"%kounta orders {window}")
    noted = orders2[orders2["id"].astype(str).isin(ids[:6])]
    assert (noted["notes"] == "changed in another kernel").all() and len(noted) == 6
    payments2 = run(connected, f"%kounta payments {window}")
    assert len(payments2) == len(payments) + 6
    added = payments2[payments2["order_id"].astype(str).isin(ids[6:]) & (payments2["amount"] == 0.5)]
    assert len(added) == 6
    stats = payments2.attrs["meta"]["stats"]
    # the list pages again, then exactly the 12 changed orders; the rest proved current by the list
    assert stats["from_cache"] == len(orders) - 12, stats
    lines2 = run(connected, f"%kounta lines {window}")
    assert len(lines2) == len(lines)
    # the payments cell just fetched the changed details, so this list proves every one current
    stats = lines2.attrs["meta"]["stats"]
    assert (stats["from_cache"], stats["downloaded"]) == (len(orders), 0), stats
