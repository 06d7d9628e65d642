"""Two kernels, one store (issue 10 §6): two real processes pulling into one pull store share the
work — no order detail is fetched by both — and both end with every order.

Each child is a separate Python process with its own client, login and HTTP cache (as two
kernels have), started at the same moment against the same sandbox; it counts the detail
requests its own transport sent and prints them when its pull ends.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from test_pull_sandbox import SINCE, UNTIL, _truth

from kounta_nb import Kounta
from kounta_nb.pull import PullStore, pull_orders

_CHILD = """
import json, re, sys
from types import SimpleNamespace
from kounta_nb import Kounta
from kounta_nb.pull import pull_orders
handle = SimpleNamespace(**json.loads(sys.argv[1]))
client = Kounta.sandbox(handle=handle, rate_limit=float(sys.argv[7]), cache=sys.argv[2])
detail = re.compile(r"/orders/(\\d+)$")
fetched = []
original = client.transport.request
def request(method, url, **kw):
    response = original(method, url, **kw)
    match = detail.search(url)
    if match:
        fetched.append(int(match.group(1)))
    return response
client.transport.request = request
sys.stdin.readline()  # both children start together
job = pull_orders(client, sys.argv[3], sys.argv[4], site=int(sys.argv[5]), store=sys.argv[6],
                  progress=False, workers=4)
job.wait(120)
progress = job.progress
print(json.dumps({"fetched": fetched, "state": job.state, "orders": len(job.orders),
                  "reused": progress.details_reused, "frames": len(job.frames()["orders"])}), flush=True)
"""

_FIELDS = ("api_base", "authorize_url", "token_url", "redirect_uri", "client_id", "client_secret",
           "username", "password")


def _spawn(handle: str, tmp_path: Path, name: str, site: int, store: Path, rate: float) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, handle, str(tmp_path / f"{name}-http.sqlite"), SINCE, UNTIL, str(site),
         str(store), str(rate)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_processes__share_the_work_and_fetch_no_detail_twice(sandbox: Any, tmp_path: Path) -> None:
    client = Kounta.sandbox(handle=sandbox, rate_limit=60_000, cache=False)
    site = int(client.sites()[0]["id"])
    truth = _truth(client, site)
    store = tmp_path / "pull.sqlite"
    PullStore(store).close()  # the file exists before either child opens it
    handle = json.dumps({name: getattr(sandbox, name) for name in _FIELDS})
    children = [_spawn(handle, tmp_path, name, site, store, 1500.0) for name in ("a", "b")]
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    counts = Counter(oid for r in results for oid in r["fetched"])
    twice = [oid for oid, n in counts.items() if n > 1]
    assert set(counts) == truth
    assert twice == [], f"{len(twice)} of {len(truth)} details fetched by both processes"
    assert all(r["fetched"] for r in results), "both processes took a share of the work"
    for r in results:
        assert r["state"] == "finished" and r["orders"] == len(truth) == r["frames"]
    assert sum(len(r["fetched"]) for r in results) == len(truth)
    # a third run on the shared store fetches nothing
    job = pull_orders(client, SINCE, UNTIL, site=site, store=store, progress=False).wait(60)
    assert job.progress.details_fetched == 0 and job.progress.details_reused == len(truth)
