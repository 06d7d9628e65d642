"""Fixtures for the magics and widget tests: a real IPython shell with ``%load_ext kounta_nb`` and
a sandbox whose clock is today's (so ``--since 2d`` finds orders).

- ``live_sandbox``: one module-wide sandbox (one month of history up to now, frozen clock).
- ``shell``: the IPython shell with the extension loaded and the sandbox attached to its session
  (``%kounta sandbox`` connects to it); unloaded and its ``Kounta`` config removed afterwards.
- ``connected``: ``shell`` after ``%kounta sandbox`` (Harbour Lane Hospitality, all sites).
- ``run(shell, code)``: run a cell, re-raising any error (like jupysql's ``TestingShell``).
- ``one_line_error(shell, code, capsys)``: run a cell that must fail with exactly one
  ``UsageError`` line and no traceback; returns that line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from kounta_nb.sandbox.server import SandboxHandle, start_sandbox

LIVE_OPTIONS: dict[str, Any] = {"seed": 7, "months": 1}


@pytest.fixture(scope="module")
def live_sandbox() -> Iterator[SandboxHandle]:
    """A sandbox with a month of history ending now."""
    with start_sandbox(**LIVE_OPTIONS) as handle:
        yield handle


def magics_of(ip: InteractiveShell) -> Any:
    """The loaded ``KountaMagics`` instance (its options are ``.options``, configured as ``Kounta``)."""
    return ip.magics_manager.registry["KountaMagics"]


@pytest.fixture
def shell(live_sandbox: SandboxHandle) -> Iterator[InteractiveShell]:
    """A real IPython shell with kounta_nb loaded; the session reuses ``live_sandbox``."""
    ip = InteractiveShell.instance()
    run(ip, "%load_ext kounta_nb")
    magics_of(ip).session.sandbox_handle = live_sandbox
    try:
        yield ip
    finally:
        magics = ip.magics_manager.registry.get("KountaMagics")
        if magics is not None and magics.session.sandbox_handle is live_sandbox:
            magics.session.sandbox_handle = None  # the module fixture stops it, not %unload_ext
        ip.run_line_magic("unload_ext", "kounta_nb")
        if "Kounta" in ip.config:
            del ip.config["Kounta"]


@pytest.fixture
def connected(shell: InteractiveShell) -> InteractiveShell:
    """``shell`` connected to the sandbox's first company."""
    run(shell, "%kounta sandbox")
    return shell


def run(ip: InteractiveShell, code: str) -> Any:
    """Run ``code`` as a cell; raise its error if it failed, else return its result."""
    result = ip.run_cell(code, store_history=False)
    if result.error_before_exec is not None:
        raise result.error_before_exec
    if result.error_in_exec is not None:
        raise result.error_in_exec
    return result.result


def one_line_error(ip: InteractiveShell, code: str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``code``; assert it failed with one ``UsageError`` line and no traceback."""
    capsys.readouterr()
    result = ip.run_cell(code, store_history=False)
    captured = capsys.readouterr()
    assert result.error_in_exec is not None or result.error_before_exec is not None, captured.out
    assert "Traceback" not in captured.err + captured.out
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("UsageError: "), lines[0]
    return lines[0].removeprefix("UsageError: ")
