"""What signing on threads costs the client, thread by thread, against the real responder.

    .venv/bin/python tools/bench/pool_overhead.py [--threads 0,1,2] [--rounds 3] [--calls 3000]
                                                  [--pin same|other]

``post_async`` at c=64 (as run.py drives it) with each ``signing_threads`` in turn, the order
rotating each round. For each: calls/s, the process CPU per call, the event loop's own CPU
per call (``time.thread_time``) and the signing threads' (from ``/proc``), and context switches
per call: voluntary ones of the loop are waits for the GIL (at c=64 it never waits for I/O),
those of the signing threads waits for a job or for the GIL. ``--pin same`` runs the signing
threads on the loop's vCPU, ``--pin other`` on the other one (the responder is never pinned):
with the loop and a signing thread on two vCPUs the GIL goes back and forth between them for
every signature, and that, not the hand-off code, is what a pooled signature costs.
Linux only (``/proc``, ``sched_setaffinity``). Medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import PAYLOAD, BenchKeys, drive, median, start_responder, stop_process
from ours import make_client


@dataclass
class ThreadTimes:
    cpu: float  # seconds, user + system
    voluntary: int
    involuntary: int


def thread_times() -> dict[int, ThreadTimes]:
    """CPU and context switches of each thread of this process (``/proc/self/task``)."""
    tick = os.sysconf("SC_CLK_TCK")
    found = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat, open(f"/proc/self/task/{tid}/status") as status:
                fields = stat.read().rsplit(")", 1)[1].split()
                lines = dict(line.split(":\t", 1) for line in status.read().splitlines() if ":\t" in line)
        except FileNotFoundError:  # a thread that just ended
            continue
        found[int(tid)] = ThreadTimes(
            (int(fields[11]) + int(fields[12])) / tick,
            int(lines["voluntary_ctxt_switches"]),
            int(lines["nonvoluntary_ctxt_switches"]),
        )
    return found


async def measure(keys: BenchKeys, threads: int, calls: int, concurrency: int, pin: str | None) -> dict[str, float]:
    async with make_client(keys, signing_threads=threads) as client:

        async def call() -> None:
            response = await client.v3.profitsharing.return_orders.post_async(json=PAYLOAD)
            if response.status_code != 200 or response.verified is None:
                raise RuntimeError(f"unexpected answer {response.status_code}")

        await drive(call, 200, concurrency, "warm-up", concurrency)  # starts the signing threads
        loop_tid = threading.get_native_id()
        if pin is not None:
            cpus = sorted(os.sched_getaffinity(0))
            loop_cpu, other_cpu = cpus[0], cpus[-1]
            os.sched_setaffinity(loop_tid, {loop_cpu})
            for worker in client.signing_pool.workers:
                assert worker.native_id is not None
                os.sched_setaffinity(worker.native_id, {loop_cpu if pin == "same" else other_cpu})
        before, loop_before = thread_times(), time.thread_time()
        result = await drive(call, calls, concurrency, f"threads={threads}", 0)
        loop_cpu_s, after = time.thread_time() - loop_before, thread_times()
        if pin is not None:
            os.sched_setaffinity(loop_tid, set(cpus))
    if result.errors:
        raise RuntimeError(f"{result.errors} calls failed: {result.first_error}")
    zero = ThreadTimes(0.0, 0, 0)
    others = [tid for tid in after if tid != loop_tid]
    per_call = 1e6 / calls
    return {
        "rate": result.rate,
        "cpu": result.cpu_per_call_us,
        "loop": loop_cpu_s * per_call,
        "signers": sum(after[tid].cpu - before.get(tid, zero).cpu for tid in others) * per_call,
        "loop_waits": (after[loop_tid].voluntary - before[loop_tid].voluntary) / calls,
        "signer_waits": sum(after[tid].voluntary - before.get(tid, zero).voluntary for tid in others) / calls,
        "preempted": sum(after[tid].involuntary - before.get(tid, zero).involuntary for tid in after) / calls,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="0,1,2", help="signing_threads values to compare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--pin", choices=["same", "other"], help="signing threads on the loop's vCPU, or the other")
    options = parser.parse_args(argv)
    choices = [int(value) for value in options.threads.split(",")]
    folder = Path(tempfile.mkdtemp(prefix="wechatpay-pool-"))
    os.chmod(folder, 0o700)
    responder = None
    rows: dict[int, list[dict[str, float]]] = {threads: [] for threads in choices}
    try:
        responder, keys = start_responder(sys.executable, folder / "keys", blob_mb=1)
        for number in range(options.rounds):
            order = choices[number % len(choices) :] + choices[: number % len(choices)]
            for threads in order:
                rows[threads].append(
                    asyncio.run(measure(keys, threads, options.calls, options.concurrency, options.pin))
                )
                print(f"... round {number + 1}/{options.rounds}, signing_threads={threads}", file=sys.stderr)
    finally:
        if responder is not None:
            stop_process(responder)
        shutil.rmtree(folder, ignore_errors=True)
    header = (
        f"{'signing_threads':<16}{'calls/s':>9}{'CPU us/call':>13}{'loop':>7}{'signers':>9}"
        f"{'loop GIL waits':>16}{'signer waits':>14}{'preempted':>11}"
    )
    print(
        f"post_async c={options.concurrency}, {options.calls} calls x {options.rounds} rounds, medians; "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}"
        + (f", signers pinned: {options.pin}" if options.pin else "")
    )
    print(header)
    print("-" * len(header))
    for threads, results in rows.items():

        def mid(name: str, results: list[dict[str, Any]] = results) -> float:
            return median([result[name] for result in results])

        print(
            f"{threads:<16}{mid('rate'):>9,.0f}{mid('cpu'):>13,.0f}{mid('loop'):>7,.0f}{mid('signers'):>9,.0f}"
            f"{mid('loop_waits'):>16.2f}{mid('signer_waits'):>14.2f}{mid('preempted'):>11.2f}"
        )
    print("  per call: CPU of the process, of the loop thread and of the signing threads (us); context switches")


if __name__ == "__main__":
    main()
