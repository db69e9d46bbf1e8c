"""The benchmark harness still runs (tools/bench/run.py --smoke): tiny counts, no timing compared."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent.parent / "tools" / "bench" / "run.py"


def test_bench_harness_runs_end_to_end(tmp_path: Path) -> None:
    raw = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--no-peer", "--json", str(raw)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    printed = done.stdout
    for row in (
        "floor: RSA sign+verify",
        "ours sync",
        "ours async c=1",
        "ours async c=8",
        "our CPU/call / floor",
        "import wechatpay_chain adds over aiohttp",
        "first spec load",
        "validation per call",
        "memory per 1,000 in-flight",
        "our client, streaming",
        "wechatpayv3: skipped",
    ):
        assert row in printed, f"{row!r} missing from:\n{printed}"

    data = json.loads(raw.read_text())
    for name in ("floor", "ours sync", "ours async c=1", "ours async c=8"):
        (result,) = data["rounds"][name]
        assert result["calls"] == 20 and result["errors"] == 0, result
        assert len(result["latencies"]) == 20 and result["cpu"] >= 0
    assert data["responder"]["bad"] == 0 and data["responder"]["ok"] > 0
    assert data["once"]["memory"]["extra"]["entered"] == 20
    assert data["once"]["plain aiohttp stream"]["extra"]["bytes"] == 1_000_000
