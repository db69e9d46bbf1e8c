"""Where our client's CPU goes between the crypto floor and a whole call.

    .venv/bin/pip install -r tools/bench/requirements-profile.txt   # py-spy, pyinstrument (dev only)
    .venv/bin/python tools/bench/profile_client.py [--calls 3000] [--concurrency 64] [--tool py-spy|pyinstrument]

Prints, against the same responder as run.py:
1. per-stage CPU per call (chain walk, prepare + validation, sign_call, finish_call,
   the sync driver) measured in isolation, then the same split measured inside real
   calls (RSA sign, RSA verify and the transport timed with ``time.thread_time`` in
   place), the rest being our own code;
2. a sampling profile of the sync path (it runs on the calling thread) and of post_async at the given
   concurrency, run in a worker process under py-spy (non-idle samples only), grouped
   by what the time is for, then the hottest lines (file:line, self time) and the
   heaviest wechatpay_chain functions (inclusive). ``--tool pyinstrument`` profiles
   in-process instead (async path, and the sync caller's thread only);
3. the allocations held by 1,000 in-flight post_async calls (tracemalloc, by line).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import PAYLOAD, BenchKeys, process_cpu, start_responder, stop_process
from ours import make_client, run_async, run_sync

BENCH = Path(__file__).resolve().parent


# -- 1. stages --------------------------------------------------------------------------------
def cpu_us(function: Callable[[], object], n: int) -> float:
    for _ in range(min(50, n)):
        function()
    start = process_cpu()
    for _ in range(n):
        function()
    return (process_cpu() - start) / n * 1e6


def stages(keys: BenchKeys, n: int) -> list[tuple[str, float]]:
    """CPU per call of each step our client takes, measured alone (private APIs: benchmark only)."""
    from wechatpay_chain.trust import crypto
    from wechatpay_chain.v3 import calls, protocol

    rows: list[tuple[str, float]] = []

    def add(name: str, function: Callable[[], object], count: int = n) -> None:
        try:
            rows.append((name, cpu_us(function, count)))
        except Exception as exc:  # the package is changing under us: report, do not stop
            rows.append((f"{name} [failed: {type(exc).__name__}: {exc}]", float("nan")))

    with make_client(keys) as client:
        answer = client.v3.profitsharing.return_orders.post(json=PAYLOAD)  # a real signed answer to verify
        node = client.v3.profitsharing.return_orders
        segments = cast(Any, node)._segments  # the typed chain classes do not declare it
        prepared = client._engine.prepare_v3("POST", segments, {"json": PAYLOAD})
        operation = prepared.operation
        assert operation is not None and client.private_key is not None and client.serial is not None
        key, mchid, merchant = client.private_key, client.mchid, client._engine.settings.merchant_key
        assert merchant is not None
        url = client.base_url + prepared.target
        message = protocol.request_signing_string("POST", prepared.target, "1700000000", "N" * 32, prepared.body)
        signed = answer.headers

        add("chain walk: client.v3.profitsharing.return_orders", lambda: client.v3.profitsharing.return_orders)
        add(
            "prepare (prepare_v3: validate, dump_json, headers)",
            lambda: client._engine.prepare_v3("POST", segments, {"json": PAYLOAD}),
        )
        add("  of which Operation.validate", lambda: operation.validate({"path": {}, "json": PAYLOAD}))
        add("  of which dump_json", lambda: protocol.dump_json(PAYLOAD))
        add(
            "sign_call (nonce, RSA sign, Authorization)",
            lambda: calls.sign_call(prepared, merchant=merchant, mchid=mchid, timestamp="1700000000"),
            n // 4,
        )
        add("  of which RSA sign + base64 (floor)", lambda: crypto.rsa_sign(key, message), n // 4)
        add("  of which new_nonce", protocol.new_nonce)
        add(
            "finish_call (verify, Response)",
            lambda: calls.finish_call(
                prepared, 200, signed, answer.content, url=url, keys=client.trusted_keys, now=time.time
            ),
        )
        add(
            "  of which RSA verify (floor)",
            lambda: protocol.verify_signed_message(signed, answer.content, client.trusted_keys, now=time.time),
        )

        async def nothing() -> None:
            return None

        add("sync driver (run_blocking of an empty coroutine)", lambda: client.transport.run_blocking(nothing()))
    return rows


def inside_calls(keys: BenchKeys, n: int) -> list[tuple[str, float]]:
    """CPU per call of sign, verify and the transport timed in place during real sync calls.

    Each is wrapped with ``time.thread_time`` (the calling thread's CPU: sync calls run
    entirely on it). This is how the crypto is costed inside a call, where caches are
    cold and the responder works on the other core, against the tight-loop floor.
    """
    from wechatpay_chain.transport import blocking as sync_transport
    from wechatpay_chain.v3 import protocol

    spent = {"sign": 0.0, "verify": 0.0, "send": 0.0}
    pools, answers = sync_transport.SyncPools, sync_transport.SyncAnswer
    # protocol calls the crypto through its own names: those are the ones to wrap.
    crypto_names = ("rsa_sign", "rsa_verify")
    crypto_originals = {name: getattr(protocol, name) for name in crypto_names}
    originals = (pools.open, answers.read_to_end)

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.thread_time() - start

        return wrapper

    for name, label in zip(crypto_names, ("sign", "verify"), strict=True):
        setattr(protocol, name, timed(label, crypto_originals[name]))
    pools.open = timed("send", originals[0])  # type: ignore[method-assign]
    answers.read_to_end = timed("send", originals[1])  # type: ignore[method-assign]
    try:
        with make_client(keys) as client:
            post = client.v3.profitsharing.return_orders.post
            for _ in range(50):
                post(json=PAYLOAD)
            for name in spent:
                spent[name] = 0.0
            start = process_cpu()
            for _ in range(n):
                post(json=PAYLOAD)
            whole = (process_cpu() - start) / n * 1e6
    finally:
        for name, original in crypto_originals.items():
            setattr(protocol, name, original)
        pools.open, answers.read_to_end = originals  # type: ignore[method-assign]
    per_call = {name: value / n * 1e6 for name, value in spent.items()}
    return [
        ("whole sync call", whole),
        ("  RSA sign, in the call", per_call["sign"]),
        ("  RSA verify, in the call", per_call["verify"]),
        ("  transport: urllib3 and http.client, socket I/O (SyncPools)", per_call["send"]),
        ("  our own code (the rest)", whole - sum(per_call.values())),
    ]


# -- 2. sampling profile ------------------------------------------------------------------------
RULES: list[tuple[str, str]] = [  # (substring of a py-spy frame, group); first match from the leaf upwards
    ("rsa_sign (", "RSA sign (floor)"),
    ("rsa_verify (", "RSA verify (floor)"),
    ("new_nonce", "nonce: secrets.choice x32"),
    ("(jsonschema/", "validation: jsonschema"),
    ("(referencing/", "validation: jsonschema"),
    ("(rpds/", "validation: jsonschema"),
    ("(wechatpay_chain/validation.py", "validation: jsonschema"),
    ("(json/", "json encode/decode"),
    ("(aiohttp/", "aiohttp (client request/response)"),
    ("(yarl/", "aiohttp (client request/response)"),
    ("(multidict/", "aiohttp (client request/response)"),
    ("(concurrent/futures/", "threads: futures/threading (signing_threads, DNS lookups)"),
    ("(threading.py", "threads: futures/threading (signing_threads, DNS lookups)"),
    ("(asyncio/", "asyncio event loop"),
    ("(selectors.py", "asyncio event loop"),
]


def group_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for needle, group in RULES:
            if needle in frame:
                return group
        if "(wechatpay_chain/" in frame:
            module = frame.rsplit("(wechatpay_chain/", 1)[1].split(":", 1)[0]
            return f"wechatpay_chain/{module} (own code)"
    leaf = frames[-1] if frames else "?"
    return "other: " + leaf.rsplit(" (", 1)[-1].split(":", 1)[0]


def read_raw(path: Path) -> list[tuple[list[str], int]]:
    """py-spy --format raw: ``frame;frame;...;leaf COUNT`` per line, root first."""
    samples = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = [frame for frame in stack.split(";") if not frame.startswith(("thread (", "process "))]
        if any("_find_and_load" in frame or "make_client (" in frame for frame in frames):
            continue  # imports and client construction (key loading) at start-up, not calls
        samples.append((frames, int(count)))
    return samples


def short(frame: str) -> str:
    """``function (/long/path/pkg/file.py:123)`` -> ``function (pkg/file.py:123)``."""
    name, _, where = frame.partition(" (")
    where = where.rstrip(")")
    for marker in ("site-packages/", "/src/", "/lib/python3."):
        if marker in where:
            where = where.split(marker, 1)[1]
            if marker == "/lib/python3.":
                where = "stdlib/" + where.split("/", 1)[1]
            break
    return f"{name} ({where})"


def report_samples(title: str, samples: list[tuple[list[str], int]], top: int = 12) -> list[str]:
    total = sum(count for _, count in samples) or 1
    groups: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in samples:
        groups[group_of(frames)] += count
        if frames:
            leaves[short(frames[-1])] += count
        seen = set()
        for frame in frames:
            if "wechatpay_chain/" in frame:
                function = short(frame).rsplit(":", 1)[0] + ")"
                if function not in seen:
                    seen.add(function)
                    inclusive[function] += count
    lines = [f"{title}: {total} non-idle samples", "  by what the time is for:"]
    shown = [(name, count) for name, count in groups.most_common() if count / total >= 0.005]
    rest = total - sum(count for _, count in shown)
    lines += [f"    {100 * count / total:5.1f}%  {name}" for name, count in shown]
    lines.append(f"    {100 * rest / total:5.1f}%  (groups under 0.5% each)")
    lines.append("  hottest lines (self):")
    lines += [f"    {100 * count / total:5.1f}%  {name}" for name, count in leaves.most_common(top)]
    lines.append("  wechatpay_chain functions (inclusive):")
    lines += [f"    {100 * count / total:5.1f}%  {name}" for name, count in inclusive.most_common(top)]
    return lines


def py_spy_profiles(pyspy: str, keys: BenchKeys, calls: int, concurrency: int, folder: Path) -> list[str]:
    lines: list[str] = []
    worker = [sys.executable, str(BENCH / "ours.py"), "clients", "--keys-dir", str(keys.folder), "--calls", str(calls)]
    for title, extra in (
        ("sync (the calling thread)", ["--concurrency", ""]),
        (f"post_async c={concurrency}", ["--no-sync", "--concurrency", str(concurrency)]),
    ):
        raw = folder / "profile.raw"
        command = [
            pyspy,
            "record",
            "--format",
            "raw",
            "--rate",
            "1000",
            "--threads",
            "--nonblocking",
            "--output",
            str(raw),
            "--",
            *worker,
            *extra,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if done.returncode != 0 or not raw.exists():
            lines.append(f"{title}: py-spy failed: {done.stderr.strip()[-500:]}")
            continue
        lines += report_samples(title, read_raw(raw))
        lines.append("")
    return lines


def pyinstrument_profiles(keys: BenchKeys, calls: int, concurrency: int) -> list[str]:
    from pyinstrument import Profiler

    lines: list[str] = []
    profiler = Profiler(interval=0.0005, async_mode="enabled")
    profiler.start()
    asyncio.run(run_async(keys, calls, [concurrency]))
    profiler.stop()
    lines.append(f"post_async c={concurrency} (pyinstrument):")
    lines.append(profiler.output_text(unicode=False, color=False, show_all=False))
    profiler = Profiler(interval=0.0005)
    profiler.start()
    run_sync(keys, calls)
    profiler.stop()
    lines.append("sync (pyinstrument):")
    lines.append(profiler.output_text(unicode=False, color=False, show_all=False))
    return lines


# -- 3. memory held by in-flight calls ------------------------------------------------------------
async def held_memory(keys: BenchKeys, inflight: int, top: int = 12) -> list[str]:
    import aiohttp

    async with make_client(keys) as client:
        for _ in range(10):
            await client.v3.profitsharing.return_orders.post_async(json=PAYLOAD)
        entered = 0
        send = client.transport.send

        async def counting_send(*args: Any, **kwargs: Any) -> Any:
            nonlocal entered
            entered += 1
            return await send(*args, **kwargs)

        client.transport.send = counting_send  # type: ignore[method-assign]
        gc.collect()
        tracemalloc.start(8)
        before = tracemalloc.take_snapshot()
        tasks: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(
                client.v3.profitsharing.return_orders.post_async(json=PAYLOAD, headers={"X-Bench-Hold": "profile"})
            )
            for _ in range(inflight)
        ]
        while entered < inflight:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        async with (
            aiohttp.ClientSession() as plain,
            plain.get(f"{keys.base_url}/bench/release", params={"token": "profile"}) as answer,
        ):
            await answer.read()
        await asyncio.gather(*tasks, return_exceptions=True)
    ignore = (tracemalloc.Filter(False, tracemalloc.__file__),)
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    files = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "filename")
    total = sum(stat.size_diff for stat in stats)
    lines = [
        f"memory held by {inflight} in-flight post_async calls: {total / 1024 / 1024:.1f} MiB "
        f"({total / inflight / 1024:.1f} KiB per call), largest lines:"
    ]
    for stat in stats[:top]:
        frame = stat.traceback[0]
        where = short(f"x ({frame.filename}:{frame.lineno})")[3:-1]
        lines.append(
            f"    {stat.size_diff / inflight:8.0f} B/call  {stat.count_diff / inflight:5.1f} blocks/call  {where}"
        )
    lines.append("  by file:")
    for stat in files[:top]:
        where = short(f"x ({stat.traceback[0].filename}:0)")[3:-3]
        lines.append(
            f"    {stat.size_diff / inflight:8.0f} B/call  {stat.count_diff / inflight:5.1f} blocks/call  {where}"
        )
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=3000, help="calls per profiled scenario")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--inflight", type=int, default=1000)
    parser.add_argument("--tool", choices=["py-spy", "pyinstrument"], help="default: py-spy when installed")
    options = parser.parse_args(argv)
    pyspy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    tool = options.tool or ("py-spy" if pyspy else "pyinstrument")
    folder = Path(tempfile.mkdtemp(prefix="wechatpay-profile-"))
    os.chmod(folder, 0o700)
    responder = None
    out: list[str] = []
    try:
        responder, keys = start_responder(sys.executable, folder / "keys", blob_mb=1)
        rows = stages(keys, 4000)
        inside = inside_calls(keys, 2000)
        async1 = asyncio.run(run_async(keys, 1000, [1]))[0]
        out.append("1. CPU per call by stage (each measured alone; us)")
        for name, value in rows:
            out.append(f"    {value:8.1f}  {name}")
        named = dict(rows)
        parts = sum(named.get(name, 0.0) for name in named if not name.startswith(" ") and "driver" not in name)
        out.append(
            f"    {async1.cpu_per_call_us:8.1f}  whole post_async call at c=1; rest (aiohttp, loop) "
            f"{async1.cpu_per_call_us - parts:.1f}"
        )
        out.append("   inside real sync calls (timed in place; us):")
        for name, value in inside:
            out.append(f"    {value:8.1f}  {name}")
        out.append("")
        out.append(f"2. sampling profile ({tool}, {options.calls} calls each)")
        out.append(
            "   where the time goes, not how much CPU: a thread blocked in a syscall that py-spy does not treat as "
            "idle (a loopback socket write that wakes the responder, a futex notify) still counts; section 1 has "
            "the CPU amounts"
        )
        if tool == "py-spy" and pyspy:
            out += py_spy_profiles(pyspy, keys, options.calls, options.concurrency, folder)
        else:
            out += pyinstrument_profiles(keys, options.calls, options.concurrency)
        out.append("3. " + "\n".join(asyncio.run(held_memory(keys, options.inflight))))
    finally:
        if responder is not None:
            stop_process(responder)
        shutil.rmtree(folder, ignore_errors=True)
    print("\n".join(out))


if __name__ == "__main__":
    main()
