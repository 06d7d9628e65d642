"""Helpers for the transport's contract tests over real sockets (sandbox + real client)."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kounta_nb.client import Kounta
from kounta_nb.sandbox.server import SandboxHandle

#: The last full trading day before the test sandboxes' frozen "now".
DAY = date(2026, 5, 28)
#: Every fault knob of the sandbox, off.
NO_FAULTS: dict[str, float] = {"fault_5xx": 0.0, "fault_429": 0.0, "fault_drop": 0.0,
                               "fault_truncate": 0.0, "fault_slow": 0.0}


def client(handle: SandboxHandle, cache: Path | bool, **opts: Any) -> Kounta:
    """A Basic-auth client of ``handle`` with quick retries and no rate limit worth waiting for."""
    opts.setdefault("rate_limit", 100_000)
    opts.setdefault("backoff_base", 0.001)
    opts.setdefault("max_retries", 2)
    return Kounta.basic(handle.client_id, handle.client_secret, api_base=handle.api_base,
                        cache=cache, token_store=False, **opts)


def a_site(k: Kounta) -> int:
    return int(k.sites()[0]["id"])


def quiet(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    """Nothing reached stderr and nothing of requests-cache was logged at WARNING or above."""
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, err
    assert err == "", err
    noisy = [r for r in caplog.records if r.name.startswith("requests_cache") and r.levelno >= logging.WARNING]
    assert noisy == [], [r.getMessage() for r in noisy]
