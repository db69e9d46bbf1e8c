"""Shared by the driver and both workers: standard library only.

The peer worker runs in a separate virtual environment that has ``wechatpayv3``
and not ``wechatpay_chain``, so nothing here may import the package (or aiohttp).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "KEY",
    "PATH",
    "PAYLOAD",
    "PEER_PAYLOAD",
    "RESPONSE_BODY",
    "BenchKeys",
    "Measurement",
    "drive",
    "emit",
    "measurement",
    "median",
    "percentile",
    "process_cpu",
    "rss_bytes",
    "split",
    "start_responder",
    "stop_process",
]

KEY = "v3/profitsharing/return-orders"  # the operation every client scenario calls
PATH = "/" + KEY

# The request of every scenario (ours and the peer's send the same fields). Typed Any: the
# package's typed chain wants its own TypedDict for json=, and this module cannot import it.
PAYLOAD: Any = {
    "out_order_no": "P20150806125346",
    "out_return_no": "R20190516001",
    "return_mchid": "86693852",
    "amount": 10,
    "description": "用户退款",
}
# wechatpayv3.profitsharing_return keyword arguments for the same body.
PEER_PAYLOAD: dict[str, Any] = {
    "out_order_no": PAYLOAD["out_order_no"],
    "out_return_no": PAYLOAD["out_return_no"],
    "return_mchid": PAYLOAD["return_mchid"],
    "amount": PAYLOAD["amount"],
    "description": PAYLOAD["description"],
}
# The answer the responder gives (the spec's example for return-orders).
RESPONSE_BODY: dict[str, Any] = {
    "order_id": "3008450740201411110007820472",
    "out_order_no": "P20150806125346",
    "out_return_no": "R20190516001",
    "return_id": "3008450740201411110007820472",
    "return_mchid": "86693852",
    "amount": 10,
    "description": "用户退款",
    "result": "SUCCESS",
    "create_time": "2015-05-20T13:29:35.120+08:00",
    "finish_time": "2015-05-20T13:29:35.120+08:00",
}


@dataclass(frozen=True)
class BenchKeys:
    """What the responder hands the workers: written to a private temp folder at its start."""

    folder: Path
    port: int
    mchid: str
    merchant_serial: str
    platform_key_id: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def merchant_private_pem(self) -> str:
        return (self.folder / "merchant_key.pem").read_text()

    @property
    def platform_public_pem(self) -> str:
        return (self.folder / "platform_public.pem").read_text()

    @classmethod
    def load(cls, folder: str | Path) -> BenchKeys:
        folder = Path(folder)
        data = json.loads((folder / "responder.json").read_text())
        return cls(folder, int(data["port"]), data["mchid"], data["merchant_serial"], data["platform_key_id"])


@dataclass
class Measurement:
    """One scenario of one round, as a worker reports it."""

    name: str
    calls: int = 0
    errors: int = 0
    wall: float = 0.0  # seconds, timed section only
    cpu: float = 0.0  # process CPU seconds of the worker (all its threads), timed section only
    latencies: list[float] = field(default_factory=list)  # seconds, one per call
    first_error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.calls / self.wall if self.wall else 0.0

    @property
    def cpu_per_call_us(self) -> float:
        return self.cpu / self.calls * 1e6 if self.calls else math.nan

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measurement:
        return cls(**data)


def measurement(
    name: str, latencies: list[float], wall: float, cpu: float, errors: int, first_error: str
) -> Measurement:
    return Measurement(name, len(latencies), errors, wall, cpu, latencies, first_error)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def split(total: int, parts: int) -> list[int]:
    """``total`` calls over ``parts`` workers, as evenly as possible."""
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc)."""
    with open("/proc/self/statm") as stream:
        return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def process_cpu() -> float:
    """CPU seconds (user + system) of this process, every thread included."""
    return time.process_time()


def emit(results: Sequence[Measurement]) -> None:
    """A worker's answer: one JSON line on stdout, last line of its output."""
    sys.stdout.write(json.dumps([result.to_json() for result in results], ensure_ascii=False) + "\n")
    sys.stdout.flush()


def start_responder(
    python: str, keys_dir: Path, *, blob_mb: float = 50.0, timeout: float = 60.0, any_mchid: bool = False
) -> tuple[subprocess.Popen[str], BenchKeys]:
    """Start ``responder.py`` with ``python`` (the project's venv); wait for its READY line."""
    script = Path(__file__).resolve().parent / "responder.py"
    process = subprocess.Popen(
        [python, str(script), "--keys-dir", str(keys_dir), "--blob-mb", str(blob_mb)]
        + (["--any-mchid"] if any_mchid else []),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    line = process.stdout.readline()
    if not line.startswith("READY") or time.monotonic() > deadline:
        stop_process(process)
        error = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"the responder did not start: {line.strip()} {error.strip()[-2000:]}")
    return process, BenchKeys.load(keys_dir)


def stop_process(process: subprocess.Popen[str]) -> None:
    """Terminate a process this module started (by its own handle), then reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


async def drive(call: Callable[[], Awaitable[Any]], n: int, concurrency: int, name: str, warmup: int) -> Measurement:
    """``n`` calls by ``concurrency`` workers, each awaiting one call at a time (ours and the peer alike).

    A warm-up of ``max(warmup, concurrency)`` calls opens the connections first; then the timed
    section records one latency per successful call and the process CPU time.
    """
    latencies: list[float] = []
    errors = 0
    first_error = ""

    async def worker(count: int, record: bool) -> None:
        nonlocal errors, first_error
        for _ in range(count):
            start = time.perf_counter()
            try:
                await call()
            except Exception as exc:
                errors += 1
                first_error = first_error or repr(exc)[:300]
                continue
            if record:
                latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(worker(count, False) for count in split(max(warmup, concurrency), concurrency)))
    errors, first_error = 0, ""
    cpu0, wall0 = process_cpu(), time.perf_counter()
    await asyncio.gather(*(worker(count, True) for count in split(n, concurrency)))
    return measurement(name, latencies, time.perf_counter() - wall0, process_cpu() - cpu0, errors, first_error)
