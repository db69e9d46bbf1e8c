"""The benchmark, side by side in one run: crypto floor, our client, wechatpayv3, the Node SDK.

    .venv/bin/python tools/bench/run.py            # full run (about 2 minutes on 2 cores)
    .venv/bin/python tools/bench/run.py --quick    # fewer calls, one round (about 30 s)

Starts ``responder.py`` in its own process on 127.0.0.1 (fresh keys in a private
temp folder, removed at the end), then runs each scenario in a worker process
and prints one table. CPU per call is the worker process's own CPU time
(``time.process_time``, all its threads) over the timed section: the responder
is never counted. The machine is small and noisy, so the scenarios run in
rounds, ours and the peer's in alternating order, and the table shows medians
and ratios from this one run: compare ratios, not absolute numbers between runs.

The peer SDKs are installed on first use, into the benchmark's own folders: wechatpayv3
into ``tools/bench/.venv-peer`` (from ``requirements-peer.txt``) and the Node SDK
``wechatpay-axios-plugin`` into ``tools/bench/.node-peer`` (npm, ``NODE_PEER_PACKAGE``);
neither is ever a dependency of the package or the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import BenchKeys, Measurement, median, percentile, start_responder, stop_process

BENCH = Path(__file__).resolve().parent

PEER_VENV = BENCH / ".venv-peer"
PEER_REQUIREMENTS = BENCH / "requirements-peer.txt"
NODE_PEER = BENCH / ".node-peer"
NODE_PEER_PACKAGE = "wechatpay-axios-plugin@0.9.6"  # the Node SDK, pinned
NODE_PEER_SCRIPT = BENCH / "node_peer.js"
WORKER_TIMEOUT = 900.0


@dataclass
class Settings:
    calls: int
    rounds: int
    concurrency: list[int]
    import_reps: int
    first_reps: int
    validation_calls: int
    inflight: int
    blob_mb: float
    stream_reps: int


PRESETS = {
    "full": Settings(2000, 3, [1, 8, 64], 9, 5, 5000, 1000, 50.0, 3),
    "quick": Settings(400, 1, [1, 8, 64], 5, 3, 2000, 1000, 50.0, 2),
    "smoke": Settings(20, 1, [1, 8], 1, 1, 50, 20, 1.0, 1),
}


@dataclass
class Report:
    """Everything one run measured, by scenario name."""

    rounds: dict[str, list[Measurement]] = field(default_factory=dict)
    once: dict[str, Measurement] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)
    peer_note: str = ""
    node_note: str = ""
    responder: dict[str, Any] = field(default_factory=dict)
    responder_cpu: dict[str, list[float]] = field(default_factory=dict)  # job -> responder CPU us per request

    def add(self, results: Sequence[Measurement]) -> None:
        for result in results:
            self.rounds.setdefault(result.name, []).append(result)


# -- running workers ------------------------------------------------------------------------
# Every worker runs with bytecode cached under the run's private temp folder: the
# environment may set PYTHONDONTWRITEBYTECODE (it does here), and then an editable
# checkout compiles every module of the package from source at each import, which no
# installed wheel does. PYTHONPYCACHEPREFIX keeps the .pyc files out of the repository.
ENV: dict[str, str] = dict(os.environ)


def use_bytecode_cache(folder: Path) -> None:
    """Point every later subprocess at a private .pyc cache, and fill it once."""
    ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    ENV["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    warm = (
        "import compileall, pathlib, wechatpay_chain, aiohttp, jsonschema, yaml, cryptography.x509; "
        "compileall.compile_dir(pathlib.Path(wechatpay_chain.__file__).parent, quiet=1)"
    )
    subprocess.run([sys.executable, "-c", warm], check=True, env=ENV, cwd=BENCH.parent.parent)


def run_worker(command: list[str], timeout: float = WORKER_TIMEOUT) -> list[Measurement]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=BENCH.parent.parent, env=ENV)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"worker failed ({done.returncode}): {' '.join(command[1:])}\n{done.stderr[-3000:]}")
    return [Measurement.from_json(item) for item in json.loads(lines[-1])]


def ours(scenario: str, *args: str) -> list[str]:
    return [sys.executable, str(BENCH / "ours.py"), scenario, *args]


def ensure_peer(options: argparse.Namespace) -> tuple[str | None, str]:
    """The peer venv's python, installing wechatpayv3 there on first use; or None and why not."""
    if options.no_peer:
        return None, "wechatpayv3: skipped (--no-peer)"
    python = options.peer_python or str(PEER_VENV / "bin" / "python")
    check = [python, "-c", "import wechatpayv3, wechatpayv3.async_.core, httpx"]
    if Path(python).exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    if options.peer_python:
        return None, f"wechatpayv3: skipped ({python} cannot import wechatpayv3[async])"
    print(f"setting up {PEER_VENV.relative_to(BENCH.parent.parent)} (wechatpayv3, once) ...", file=sys.stderr)
    steps = [
        [sys.executable, "-m", "venv", str(PEER_VENV)],
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(PEER_REQUIREMENTS)],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
            return None, f"wechatpayv3: skipped, could not install it ({reason[:200]})"
    if subprocess.run(check, capture_output=True).returncode != 0:
        return None, "wechatpayv3: skipped, installed but not importable"
    return python, ""


def compare_threads() -> str:
    """signing_threads values for the extra rows at the top concurrency: 0, 1, 2 but the default."""
    from wechatpay_chain.signing_pool import default_signing_threads

    return ",".join(str(t) for t in sorted({0, 1, 2} - {default_signing_threads()}))


def ensure_node_peer(options: argparse.Namespace) -> tuple[list[str] | None, str]:
    """The command that runs the Node SDK's worker (installing the SDK with npm into
    tools/bench/.node-peer on first use); or None and why not."""
    if options.no_peer:
        return None, "Node SDK: skipped (--no-peer)"
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None, f"Node SDK: skipped ({'node' if node is None else 'npm'} is not on PATH)"
    installed = NODE_PEER / "node_modules" / "wechatpay-axios-plugin" / "package.json"
    wanted = NODE_PEER_PACKAGE.rsplit("@", 1)[1]
    if not installed.exists() or json.loads(installed.read_text()).get("version") != wanted:
        print(
            f"setting up {NODE_PEER.relative_to(BENCH.parent.parent)} ({NODE_PEER_PACKAGE}, once) ...", file=sys.stderr
        )
        NODE_PEER.mkdir(exist_ok=True)
        manifest = NODE_PEER / "package.json"
        if not manifest.exists():  # a private manifest, so that npm installs here and nowhere else
            manifest.write_text(json.dumps({"name": "wechatpay-chain-bench-node-peer", "private": True}) + "\n")
        step = [npm, "install", "--no-audit", "--no-fund", "--save-exact", NODE_PEER_PACKAGE]
        try:
            done = subprocess.run(step, capture_output=True, text=True, cwd=NODE_PEER, timeout=600)
        except subprocess.TimeoutExpired:
            return None, "Node SDK: skipped, npm install timed out after 600 s"
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
            return None, f"Node SDK: skipped, npm install failed ({reason[:200]})"
    return [node, str(NODE_PEER_SCRIPT)], ""


def _import_walls(reps: int, env: dict[str, str]) -> dict[str, float]:
    statements = {"python": "pass", "aiohttp": "import aiohttp", "wechatpay_chain": "import wechatpay_chain"}
    walls: dict[str, list[float]] = {name: [] for name in statements}
    for _ in range(reps):
        for name, statement in statements.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", statement], check=True, env=env)
            walls[name].append(time.perf_counter() - start)
    result = {name: median(values) * 1e3 for name, values in walls.items()}
    result["added_ms"] = result["wechatpay_chain"] - result["aiohttp"]
    return result


def import_times(reps: int, as_is_reps: int) -> dict[str, Any]:
    """Fresh interpreters: ``pass`` / ``import aiohttp`` / ``import wechatpay_chain``, interleaved, medians.

    With bytecode cached (as an installed wheel has it), and, for information, in the
    environment as it is (``as_is``: with PYTHONDONTWRITEBYTECODE an editable checkout
    compiles the package from source at every import).
    """
    result: dict[str, Any] = _import_walls(reps, ENV)
    result["top_added"] = _import_breakdown(max(1, reps // 3))
    if as_is_reps and os.environ.get("PYTHONDONTWRITEBYTECODE"):
        result["as_is"] = _import_walls(as_is_reps, dict(os.environ))
    return result


def _importtime(statement: str) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement], capture_output=True, text=True, env=ENV
    )
    selves: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line or "self [us]" in line:
            continue
        self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
        selves[name] = int(self_us)
    return selves


def _import_breakdown(reps: int, top: int = 6) -> list[tuple[str, float]]:
    """What ``import wechatpay_chain`` loads beyond ``import aiohttp``: self time by top-level package (medians)."""
    samples: dict[str, list[float]] = {}
    for _ in range(reps):
        base = _importtime("import aiohttp")
        groups: dict[str, int] = {}
        for name, self_us in _importtime("import wechatpay_chain").items():
            if name not in base:
                group = name.split(".")[0]
                groups[group] = groups.get(group, 0) + self_us
        for group, self_us in groups.items():
            samples.setdefault(group, []).append(self_us / 1e3)
    ranked = sorted(((name, median(values)) for name, values in samples.items()), key=lambda item: -item[1])
    return ranked[:top]


def median_extra(results: list[Measurement], key: str) -> float:
    values = [float(result.extra[key]) for result in results if key in result.extra]
    return median(values)


# -- the run ----------------------------------------------------------------------------------
def collect(options: argparse.Namespace, settings: Settings) -> Report:
    report = Report()
    peer_python, report.peer_note = ensure_peer(options)
    node_peer, report.node_note = ensure_node_peer(options)
    folder = Path(tempfile.mkdtemp(prefix="wechatpay-bench-"))
    os.chmod(folder, 0o700)
    use_bytecode_cache(folder)
    responder = None
    try:
        responder, keys = start_responder(sys.executable, folder / "keys", blob_mb=settings.blob_mb)
        keys_arg = ["--keys-dir", str(keys.folder)]
        concurrency = ",".join(str(c) for c in settings.concurrency)
        client_args = [*keys_arg, "--calls", str(settings.calls), "--concurrency", concurrency]
        for round_number in range(settings.rounds):
            progress(f"round {round_number + 1}/{settings.rounds}")
            jobs: list[list[str]] = [ours("clients", *client_args, "--compare-threads", compare_threads())]
            if peer_python is not None:
                jobs.append([peer_python, str(BENCH / "peer.py"), *client_args])
            if node_peer is not None:
                jobs.append([*node_peer, *client_args])
            # Each round starts with another client: no one always runs first (or last).
            shift = round_number % len(jobs)
            jobs = jobs[shift:] + jobs[:shift]
            report.add(run_worker(ours("floor", "--calls", str(settings.calls))))
            for job in jobs:
                before = _stats(keys)
                report.add(run_worker(job))
                after = _stats(keys)
                requests = after["ok"] - before["ok"]
                name = (
                    "wechatpayv3"
                    if job[1].endswith("peer.py")
                    else "Node SDK"
                    if job[1].endswith("node_peer.js")
                    else "ours"
                )
                if requests:
                    report.responder_cpu.setdefault(name, []).append((after["cpu"] - before["cpu"]) / requests * 1e6)
        progress("import time, first call, validation, memory, streaming")
        report.imports = import_times(settings.import_reps, settings.import_reps // 2)
        # One discarded run of each fills the bytecode cache for what the first call imports lazily.
        run_worker(ours("spec-first"))
        report.once["spec first"] = _merge([run_worker(ours("spec-first"))[0] for _ in range(settings.first_reps)])
        run_worker(ours("call-first", *keys_arg))
        report.once["call first"] = _merge(
            [run_worker(ours("call-first", *keys_arg))[0] for _ in range(settings.first_reps)]
        )
        report.once["validation"] = run_worker(ours("validation", "--calls", str(settings.validation_calls)))[0]
        report.once["memory"] = run_worker(ours("memory", *keys_arg, "--inflight", str(settings.inflight)))[0]
        for result in run_worker(ours("stream", *keys_arg, "--reps", str(settings.stream_reps))):
            report.once[result.name] = result
        report.responder = _stats(keys)
    finally:
        if responder is not None:
            stop_process(responder)
        shutil.rmtree(folder, ignore_errors=True)
    return report


def _merge(results: list[Measurement]) -> Measurement:
    """Fresh-process measurements: the median of each number."""
    merged = Measurement(results[0].name, calls=len(results))
    for key, value in results[0].extra.items():
        merged.extra[key] = (
            median_extra(results, key) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        )
    return merged


def _stats(keys: BenchKeys) -> dict[str, Any]:
    with urllib.request.urlopen(f"{keys.base_url}/bench/stats", timeout=10) as answer:
        data: dict[str, Any] = json.loads(answer.read())
    return data


def progress(text: str) -> None:
    print(f"... {text}", file=sys.stderr, flush=True)


# -- printing ---------------------------------------------------------------------------------
def fmt(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def ratio(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}x"


def verdict(value: float, target: float, at_most: bool) -> str:
    if math.isnan(value):
        return "n/a"
    return "ok" if (value <= target if at_most else value >= target) else "MISS"


@dataclass
class Row:
    name: str
    rate: float
    low: float
    high: float
    p50_ms: float
    p99_ms: float
    cpu_us: float
    errors: int
    first_error: str


def aggregate(results: list[Measurement]) -> Row:
    rates = [result.rate for result in results]
    latencies = [value for result in results for value in result.latencies]
    return Row(
        results[0].name,
        median(rates),
        min(rates),
        max(rates),
        percentile(latencies, 50) * 1e3,
        percentile(latencies, 99) * 1e3,
        median([result.cpu_per_call_us for result in results]),
        sum(result.errors for result in results),
        next((result.first_error for result in results if result.first_error), ""),
    )


def render(report: Report, settings: Settings, label: str) -> str:
    rows = {name: aggregate(results) for name, results in report.rounds.items()}
    floor = rows.get("floor")
    floor_cpu = floor.cpu_us if floor else math.nan
    peer_version = next((r[0].extra.get("version") for n, r in report.rounds.items() if n.startswith("wechatpay")), "")
    node_extra = next((r[0].extra for n, r in report.rounds.items() if n.startswith("node-sdk")), {})
    default_threads = next(
        (r[0].extra["signing_threads_default"] for n, r in report.rounds.items() if n.startswith("ours async")), None
    )
    lines: list[str] = []
    out = lines.append

    from importlib.metadata import version

    out(
        f"wechatpay-chain benchmark ({label}): {settings.rounds} round(s) x {settings.calls} calls per scenario, "
        "side by side in one run"
    )
    out(
        f"  {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}, "
        f"wechatpay-chain {version('wechatpay-chain')}, aiohttp {version('aiohttp')}, "
        f"cryptography {version('cryptography')}"
        + (f", wechatpayv3 {peer_version}" if peer_version else "")
        + (f", wechatpay-axios-plugin {node_extra['version']} (node {node_extra['node']})" if node_extra else "")
    )
    if default_threads is not None:
        out(f"  our default Client here: signing_threads={default_threads} (from the cores; 'threads=N' rows: others)")
    out(
        "  POST /v3/profitsharing/return-orders against responder.py (own process, 127.0.0.1); CPU = the client "
        "process only (all its threads)"
    )
    out("")
    header = (
        f"{'scenario':<26}{'calls/s':>9}{'(min-max)':>14}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/call':>13}{'x floor':>9}"
    )
    out(header)
    out("-" * len(header))
    for name, row in rows.items():
        spread = f"{fmt(row.low)}-{fmt(row.high)}" if settings.rounds > 1 else ""
        times_floor = row.cpu_us / floor_cpu if name != "floor" else 1.0
        label_name = "floor: RSA sign+verify" if name == "floor" else name
        out(
            f"{label_name:<26}{fmt(row.rate):>9}{spread:>14}{fmt(row.p50_ms, 2):>9}{fmt(row.p99_ms, 2):>9}"
            f"{fmt(row.cpu_us):>13}{ratio(times_floor):>9}"
            + (f"  ERRORS {row.errors}: {row.first_error}" if row.errors else "")
        )
    for note in (report.peer_note, report.node_note):
        if note:
            out(note)
    if floor is not None:
        extras = report.rounds["floor"]
        out(
            f"  floor = sign {fmt(median_extra(extras, 'sign_cpu_us'))} us + verify "
            f"{fmt(median_extra(extras, 'verify_cpu_us'))} us of CPU; 2 threads sign "
            f"{fmt(median_extra(extras, 'sign_2threads_per_s'))}/s (cryptography releases the GIL)"
        )
    if report.responder_cpu:
        spent = ", ".join(f"{median(values):.0f} us ({name})" for name, values in report.responder_cpu.items())
        out(f"  responder CPU per request: {spent}; client and responder share the {os.cpu_count()} cores")
    out(
        "  wechatpayv3 sync uses requests.post without a session (a new connection per call); its async mode is "
        "httpx.AsyncClient (keep-alive pool of 20)"
    )
    if node_extra:
        out(
            "  Node SDK: wechatpay-axios-plugin's chain (axios, Node's default keep-alive agent), "
            "verifying every answer with the responder's platform key; one process, one thread"
        )
    out("")

    def rate(name: str) -> float:
        return rows[name].rate if name in rows else math.nan

    def cpu_ratio(name: str) -> float:
        return rows[name].cpu_us / floor_cpu if name in rows else math.nan

    top = max(settings.concurrency)
    peer_async = {name: row.rate for name, row in rows.items() if name.startswith("wechatpayv3 async")}
    best_peer = max(peer_async, key=lambda name: peer_async[name]) if peer_async else ""
    stream_plain = report.once.get("plain aiohttp stream")
    checks: list[tuple[str, float, str, str]] = [
        ("our CPU/call / floor, sync", cpu_ratio("ours sync"), "<= 1.5x", verdict(cpu_ratio("ours sync"), 1.5, True)),
    ]
    for c in settings.concurrency:
        name = f"ours async c={c}"
        checks.append(
            (f"our CPU/call / floor, async c={c}", cpu_ratio(name), "<= 1.5x", verdict(cpu_ratio(name), 1.5, True))
        )
    sync_ratio = rate("ours sync") / rate("wechatpayv3 sync")
    checks.append(("our sync / wechatpayv3 sync (calls/s)", sync_ratio, ">= 1.5x", verdict(sync_ratio, 1.5, False)))
    same_c = rate(f"ours async c={top}") / rate(f"wechatpayv3 async c={top}")
    checks.append((f"our async c={top} / wechatpayv3 async c={top}", same_c, "", ""))
    best = rate(f"ours async c={top}") / rate(best_peer) if best_peer else math.nan
    checks.append(
        (
            f"our async c={top} / wechatpayv3 best async ({best_peer.rsplit(' ', 1)[-1] or '-'})",
            best,
            ">= 3x",
            verdict(best, 3.0, False),
        )
    )
    node_async = {name: row.rate for name, row in rows.items() if name.startswith("node-sdk async")}
    best_node = max(node_async, key=lambda name: node_async[name]) if node_async else ""
    node_best = rate(f"ours async c={top}") / rate(best_node) if best_node else math.nan
    checks.append(
        (
            f"our async c={top} / Node SDK best async ({best_node.rsplit(' ', 1)[-1] or '-'})",
            node_best,
            ">= 1.5x",
            verdict(node_best, 1.5, False),
        )
    )
    for name in rows:
        if name.startswith(f"ours async c={top} threads="):
            threads = name.rsplit("=", 1)[1]
            checks.append(
                (
                    f"  the same with signing_threads={threads} / Node SDK best",
                    rate(name) / rate(best_node) if best_node else math.nan,
                    "",
                    "",
                )
            )
            checks.append(
                (
                    f"  the same with signing_threads={threads} / wechatpayv3 best",
                    rate(name) / rate(best_peer) if best_peer else math.nan,
                    "",
                    "",
                )
            )
    stream_ours = report.once.get("ours stream")
    if stream_ours is not None and stream_plain is not None:
        streaming = stream_ours.extra["mb_per_s"] / stream_plain.extra["mb_per_s"]
        checks.append(("our streaming / plain aiohttp (MB/s)", streaming, ">= 0.8x", verdict(streaming, 0.8, False)))
    else:
        checks.append(("our streaming / plain aiohttp (MB/s)", math.nan, ">= 0.8x", "not implemented yet"))
    out(f"{'ratio':<52}{'value':>9}  {'target':<9}")
    out("-" * 76)
    for name, value, target, mark in checks:
        out(f"{name:<52}{ratio(value):>9}  {target:<9}{mark}")
    out("")

    imports = report.imports
    spec = report.once["spec first"].extra
    call = report.once["call first"].extra
    validation = report.once["validation"]
    memory = report.once["memory"].extra
    out(f"{'startup and per-call costs':<66}{'value':>10}  {'target':<9}")
    out("-" * 92)
    added = imports["added_ms"]
    out(
        f"{'fresh interpreter: python -c pass / import aiohttp / import pkg':<66}"
        f"{fmt(imports['python'])}/{fmt(imports['aiohttp'])}/{fmt(imports['wechatpay_chain'])} ms"
        f"  (median of {settings.import_reps}, bytecode cached)"
    )
    out(
        f"{'  import wechatpay_chain adds over aiohttp':<66}{fmt(added, 1):>7} ms  {'<= 50 ms':<9}"
        f"{verdict(added, 50, True)}"
    )
    as_is = imports.get("as_is")
    if as_is:
        out(
            f"    (this shell sets PYTHONDONTWRITEBYTECODE: without cached bytecode the checkout adds "
            f"{as_is['added_ms']:.1f} ms, import {as_is['wechatpay_chain']:.0f} ms)"
        )
    out(
        "    largest additions (self time under -X importtime): "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in imports["top_added"])
    )
    first_total = spec["first_total_ms"]
    out(
        f"{'first spec load + validator compile, fresh process (return-orders)':<66}{fmt(first_total, 1):>7} ms  "
        f"{'<= 5 ms':<9}{verdict(first_total, 5, True)}"
    )
    out(
        f"    load {spec['load_ms']:.2f} ms + compile and first validation {spec['compile_first_ms']:.2f} ms "
        f"(includes importing jsonschema, once per process)"
    )
    out(
        f"{'another never-used path, jsonschema loaded (median of ' + str(int(spec['others_count'])) + ')':<66}"
        f"{fmt(spec['others_median_ms'], 1):>7} ms  {'<= 5 ms':<9}{verdict(spec['others_max_ms'], 5, True)}"
        f"  (max {spec['others_max_ms']:.1f} ms)"
    )
    out(
        f"{'first real call in a fresh process, over a steady call':<66}{fmt(call['first_call_extra_ms'], 1):>7} ms"
        f"  (first {call['first_call_ms']:.1f} ms incl. chain/index {call['chain_first_ms']:.1f} ms; "
        f"steady {call['steady_call_ms']:.2f} ms)"
    )
    validation_us = percentile(validation.latencies, 50) * 1e6
    out(
        f"{'validation per call, Operation.validate on return-orders (p50)':<66}{fmt(validation_us, 1):>7} us  "
        f"{'< 50 us':<9}{verdict(validation_us, 50, True)}  "
        f"(CPU mean {validation.cpu_per_call_us:.1f} us)"
    )
    inflight = memory["inflight"]
    out(
        f"{'memory per 1,000 in-flight post_async calls: RSS / traced heap':<66}"
        f"{memory['rss_per_1000_kib'] / 1024:>5.1f}/{memory['traced_per_1000_kib'] / 1024:.1f} MiB"
    )
    limit = memory["connector_limit"]
    on_wire = f"{min(int(inflight), int(limit))} on the wire (connector limit {limit})" if limit else "on the wire"
    out(f"    {inflight} calls prepared and signed, held by the responder: {on_wire}, the rest queued in aiohttp")
    if stream_plain is not None:
        size_mb = stream_plain.extra["bytes"] / 1e6
        out(
            f"{f'streaming download, {size_mb:.0f} MB unsigned body, plain aiohttp (iter_any)':<66}"
            f"{fmt(stream_plain.extra['mb_per_s']):>7} MB/s"
        )
        if stream_ours is None:
            out(f"{'  our client, streaming':<66}{'not implemented yet':>10}")
        else:
            out(f"{'  our client, streaming (aiter_download)':<66}{fmt(stream_ours.extra['mb_per_s']):>7} MB/s")
        buffered = report.once.get("ours buffered get")
        if buffered is not None:
            out(
                f"{'  our client, buffered .get() of v3/billdownload/file (info only)':<66}"
                f"{fmt(buffered.extra['mb_per_s']):>7} MB/s"
            )
    out("")
    out(
        f"responder: {report.responder.get('ok', '?')} requests verified, {report.responder.get('bad', '?')} rejected"
        + (f" (first: {report.responder['first_bad']})" if report.responder.get("first_bad") else "")
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer calls, one round")
    mode.add_argument("--smoke", action="store_true", help="tiny counts, only to check that the harness runs")
    parser.add_argument("--calls", type=int, help="calls per scenario and round")
    parser.add_argument("--rounds", type=int, help="rounds (ours and the peer's alternate their order)")
    parser.add_argument("--no-peer", action="store_true", help="skip the peers (wechatpayv3 and the Node SDK)")
    parser.add_argument("--peer-python", help="a python that has wechatpayv3[async] (default: tools/bench/.venv-peer)")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    options = parser.parse_args(argv)
    try:
        import wechatpay_chain  # noqa: F401
    except ImportError:
        parser.error("run this with the project's venv: .venv/bin/python tools/bench/run.py")
    preset = "smoke" if options.smoke else "quick" if options.quick else "full"
    settings = PRESETS[preset]
    if options.calls:
        settings.calls = options.calls
    if options.rounds:
        settings.rounds = options.rounds
    report = collect(options, settings)
    print(render(report, settings, preset))
    if options.json:
        options.json.write_text(
            json.dumps(
                {
                    "settings": settings.__dict__,
                    "rounds": {name: [r.to_json() for r in results] for name, results in report.rounds.items()},
                    "once": {name: result.to_json() for name, result in report.once.items()},
                    "imports": report.imports,
                    "peer_note": report.peer_note,
                    "node_note": report.node_note,
                    "responder": report.responder,
                },
                ensure_ascii=False,
                indent=1,
            )
        )
    errors = sum(result.errors for results in report.rounds.values() for result in results)
    return 1 if errors or report.responder.get("bad") else 0


if __name__ == "__main__":
    sys.exit(main())
