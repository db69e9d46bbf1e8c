"""The run's summary lists every skipped test with its reason (imported by conftest.py)."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Every skipped test, with its reason, in a section of its own at the end of the run.

    A test skipped for a missing input (a tool, a file, a service) did not check anything;
    the default quiet run would show it only as an ``s`` in a row of dots.
    """
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    terminalreporter.section(f"{len(skipped)} SKIPPED: these checks did not run", sep="!", yellow=True, bold=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        terminalreporter.line(f"SKIPPED {report.nodeid}: {reason.removeprefix('Skipped: ')}", yellow=True)
