"""The project's own gates: ruff (lint and format) and mypy (strict, over src/ and tools/) are clean.

Skipped where they are not installed (the summary lists every skip)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean() -> None:
    result = _run("ruff", "check", "src", "tests", "tools")
    assert result.returncode == 0, result.stdout[-4000:]


def test_ruff_format_is_clean() -> None:
    """The generated stubs are excluded in pyproject.toml: tests/test_stubs.py compares them byte for byte."""
    result = _run("ruff", "format", "--check", "src", "tests", "tools")
    assert result.returncode == 0, result.stdout[-4000:]


def test_mypy_strict_is_clean() -> None:
    result = _run("mypy")  # configuration in pyproject.toml: strict, src/wechatpay_chain and tools
    assert result.returncode == 0, result.stdout[-4000:]


# Each constant has one definition; the others import it. A second copy of one of these
# literals in the package or the tools is a copy that can drift.
ONE_SOURCE = {
    '"AEAD_AES_256_GCM"': "crypto.AES_GCM_ALGORITHM",
    '"Wechatpay-Statement-Sha1"': "protocol.STATEMENT_DIGEST_HEADER",
    'r"[0-9A-F]+"': "keyring.HEX_SERIAL",
    '("get", "post", "put", "patch", "delete")': "naming.VERBS",
    'r"^\\d{4}-\\d{2}-\\d{2}$"': 'fastcheck.FORMATS["date"]',
    "MAX_CLOCK_SKEW = 300": "protocol.MAX_CLOCK_SKEW",
}


def test_each_constant_has_one_source() -> None:
    files = [*(ROOT / "src").rglob("*.py"), *(ROOT / "tools").rglob("*.py")]
    texts = {path: path.read_text("utf-8") for path in files}
    for literal, owner in ONE_SOURCE.items():
        found = [str(path.relative_to(ROOT)) for path, text in texts.items() if literal in text]
        assert len(found) == 1, f"{literal} should be written once ({owner}), found in {found}"
        assert sum(text.count(literal) for text in texts.values()) == 1, literal


def test_a_skip_is_listed_with_its_reason(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """conftest.py's summary hook (tests/_skip_report.py): a skipped check is named, not just an ``s``."""
    pytester.makepyfile(
        test_skips="""
        import pytest

        def test_needs_a_tool():
            pytest.skip("tinyproxy is not installed")

        def test_runs():
            pass
        """
    )
    tests = str(Path(__file__).parent)  # where _skip_report is
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [tests, os.environ.get("PYTHONPATH")])))
    result = pytester.runpytest_subprocess("-q", "-p", "_skip_report", "-p", "no:cacheprovider", "-p", "no:cov")
    result.stdout.fnmatch_lines(
        [
            "*1 SKIPPED: these checks did not run*",
            "SKIPPED test_skips.py::test_needs_a_tool: tinyproxy is not installed",
        ]
    )
    result.assert_outcomes(passed=1, skipped=1)
