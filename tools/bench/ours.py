"""Worker for our client (and the crypto floor), run by ``run.py`` in the project's venv.

    python tools/bench/ours.py SCENARIO [options]     # prints one JSON line (benchlib.emit)

Scenarios: ``floor``, ``clients`` (sync, then ``post_async`` at each concurrency),
``spec-first`` and ``call-first`` (in a fresh process), ``validation``, ``memory``,
``stream``. Each scenario is also a function that the smoke test calls in-process.
Package imports happen inside the functions, so that ``spec-first`` and
``call-first`` see a process that has not imported the package yet.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import threading
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (
    KEY,
    PATH,
    PAYLOAD,
    RESPONSE_BODY,
    BenchKeys,
    Measurement,
    drive,
    emit,
    measurement,
    median,
    process_cpu,
    rss_bytes,
    split,
)

if TYPE_CHECKING:
    from wechatpay_chain import Client

perf = time.perf_counter


def make_client(keys: BenchKeys, signing_threads: int | None = None, **options: Any) -> Client:
    """Our client as a user configures it: validation on (default), the real spec for return-orders,
    signing threads from the cores (default); ``signing_threads`` for the comparison rows."""
    from wechatpay_chain import Client

    return Client(
        **options,
        signing_threads=signing_threads,
        mchid=keys.mchid,
        serial=keys.merchant_serial,
        private_key=str(keys.folder / "merchant_key.pem"),
        certs={keys.platform_key_id: str(keys.folder / "platform_public.pem")},
        base_url=keys.base_url,
    )


# -- the floor ------------------------------------------------------------------------------
def run_floor(n: int) -> list[Measurement]:
    """RSA-2048 PKCS#1 v1.5 SHA-256 sign + verify in a tight loop: the least a v3 call costs."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    from wechatpay_chain.v3.protocol import answer_signing_string, dump_json, request_signing_string

    pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key()
    stamp, nonce = str(int(time.time())), "N" * 32
    request = request_signing_string("POST", PATH, stamp, nonce, dump_json(PAYLOAD))
    answer = answer_signing_string(stamp, nonce, dump_json(RESPONSE_BODY))
    answer_signature = key.sign(answer, pkcs1, sha256)
    for _ in range(20):  # warm up
        key.sign(request, pkcs1, sha256)
        public.verify(answer_signature, answer, pkcs1, sha256)

    latencies: list[float] = []
    cpu0, wall0 = process_cpu(), perf()
    for _ in range(n):
        start = perf()
        key.sign(request, pkcs1, sha256)
        public.verify(answer_signature, answer, pkcs1, sha256)
        latencies.append(perf() - start)
    floor = measurement("floor", latencies, perf() - wall0, process_cpu() - cpu0, 0, "")

    cpu0 = process_cpu()
    for _ in range(n):
        key.sign(request, pkcs1, sha256)
    sign_cpu = (process_cpu() - cpu0) / n
    cpu0 = process_cpu()
    for _ in range(n):
        public.verify(answer_signature, answer, pkcs1, sha256)
    verify_cpu = (process_cpu() - cpu0) / n

    # Two threads signing at once: cryptography releases the GIL, so this is the
    # throughput ceiling of signing on this machine.
    def sign_many(count: int) -> None:
        for _ in range(count):
            key.sign(request, pkcs1, sha256)

    threads = [threading.Thread(target=sign_many, args=(count,)) for count in split(n, 2)]
    wall0 = perf()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    two_threads = n / (perf() - wall0)
    floor.extra = {"sign_cpu_us": sign_cpu * 1e6, "verify_cpu_us": verify_cpu * 1e6, "sign_2threads_per_s": two_threads}
    return [floor]


# -- our client: sync and async -------------------------------------------------------------
def run_sync(keys: BenchKeys, n: int, warmup: int = 30) -> Measurement:
    """One call at a time from the main thread, written as a user writes it."""
    latencies: list[float] = []
    errors, first_error = 0, ""
    with make_client(keys) as client:
        for _ in range(warmup):
            client.v3.profitsharing.return_orders.post(json=PAYLOAD)
        cpu0, wall0 = process_cpu(), perf()
        for _ in range(n):
            start = perf()
            try:
                response = client.v3.profitsharing.return_orders.post(json=PAYLOAD)
                if response.status_code != 200 or response.verified is None:
                    raise RuntimeError(f"unexpected answer {response.status_code}")
            except Exception as exc:
                errors += 1
                first_error = first_error or repr(exc)[:300]
                continue
            latencies.append(perf() - start)
        wall, cpu = perf() - wall0, process_cpu() - cpu0
    return measurement("ours sync", latencies, wall, cpu, errors, first_error)


async def run_async(
    keys: BenchKeys, n: int, concurrencies: list[int], warmup: int = 30, compare_threads: tuple[int, ...] = (0,)
) -> list[Measurement]:
    results = []
    async with make_client(keys) as client:  # the default client: signing threads from the cores

        async def call() -> None:
            response = await client.v3.profitsharing.return_orders.post_async(json=PAYLOAD)
            if response.status_code != 200 or response.verified is None:
                raise RuntimeError(f"unexpected answer {response.status_code}")

        for concurrency in concurrencies:
            results.append(await drive(call, n, concurrency, f"ours async c={concurrency}", warmup))
        default_threads = client.signing_pool.threads
    for threads in compare_threads if concurrencies else ():
        # The same top concurrency with another signing_threads (0: every signature on the event loop).
        top = max(concurrencies)
        async with make_client(keys, signing_threads=threads) as other:

            async def other_call(other: Client = other) -> None:
                response = await other.v3.profitsharing.return_orders.post_async(json=PAYLOAD)
                if response.status_code != 200 or response.verified is None:
                    raise RuntimeError(f"unexpected answer {response.status_code}")

            results.append(await drive(other_call, n, top, f"ours async c={top} threads={threads}", warmup))
    for result in results:
        result.extra["signing_threads_default"] = default_threads
    return results


def run_clients(
    keys: BenchKeys, n: int, concurrencies: list[int], sync: bool = True, compare_threads: tuple[int, ...] = (0,)
) -> list[Measurement]:
    """Sync first (unless ``sync`` is false), then post_async at each concurrency (none for an empty list),
    then the top concurrency again with each of ``compare_threads`` as ``signing_threads``."""
    results = [run_sync(keys, n)] if sync else []
    gc.collect()
    if concurrencies:
        results.extend(asyncio.run(run_async(keys, n, concurrencies, compare_threads=compare_threads)))
    return results


# -- first call on a never-used path (fresh process) ------------------------------------------
def _first_parts(operation: Any) -> dict[str, Any]:
    """Something to validate for any operation (errors are fine: the cost is what we want)."""
    for part in ("json", "query", "path", "headers"):
        if operation.schema(part) is not None:
            return {part: {}}
    return {}


def run_spec_first(samples: int = 20) -> Measurement:
    """Spec load + validator compile: return-orders first (the process's first), then others."""
    start = perf()
    import wechatpay_chain
    from wechatpay_chain.catalog.specs import Catalog

    package_import = perf() - start
    jsonschema_loaded_before = "jsonschema" in sys.modules
    catalog = Catalog()
    start = perf()
    operation = catalog.operation(KEY, "POST")
    load = perf() - start
    assert operation is not None, "return-orders is missing from the catalogue"
    parts = {"path": {}, "json": PAYLOAD}
    start = perf()
    problems = operation.validate(parts)
    compile_first = perf() - start
    assert not problems, problems
    start = perf()
    operation.validate(parts)
    steady = perf() - start

    # Other never-used paths, with jsonschema imported (a valid payload never imports it: the
    # compiled check answers; the first invalid one in a process pays that import once, ~25 ms,
    # which is not a spec's cost): load + compile + first validation of an invalid payload.
    import wechatpay_chain.catalog.validation  # noqa: F401

    entries = [entry for entry in catalog if entry.key.startswith("v3/") and entry.key != KEY]
    step = max(1, len(entries) // samples)
    others: list[float] = []
    for entry in entries[::step][:samples]:
        start = perf()
        other = catalog.operation(entry.key, entry.method)
        if other is not None:
            other.validate(_first_parts(other))
        others.append(perf() - start)
    result = Measurement("spec first")
    result.extra = {
        "package_import_ms": package_import * 1e3,
        "jsonschema_imported_by_package": jsonschema_loaded_before,
        "load_ms": load * 1e3,
        "compile_first_ms": compile_first * 1e3,  # includes importing jsonschema (once per process)
        "first_total_ms": (load + compile_first) * 1e3,
        "steady_validate_us": steady * 1e6,
        "others_median_ms": median(others) * 1e3,
        "others_max_ms": max(others) * 1e3 if others else float("nan"),
        "others_count": len(others),
    }
    return result


def run_call_first(keys: BenchKeys, steady_calls: int = 30) -> Measurement:
    """A fresh process's first real call (chain, spec, validators, TLS-free connect, first exchange)."""
    start = perf()
    from wechatpay_chain import Client  # noqa: F401

    package_import = perf() - start
    client = make_client(keys)
    try:
        start = perf()
        node = client.v3.profitsharing.return_orders
        chain_first = perf() - start
        start = perf()
        node.post(json=PAYLOAD)
        first = perf() - start
        steady: list[float] = []
        for _ in range(steady_calls):
            start = perf()
            client.v3.profitsharing.return_orders.post(json=PAYLOAD)
            steady.append(perf() - start)
    finally:
        client.close()
    result = Measurement("call first")
    result.extra = {
        "package_import_ms": package_import * 1e3,
        "chain_first_ms": chain_first * 1e3,
        "first_call_ms": first * 1e3,
        "steady_call_ms": median(steady) * 1e3,
        "first_call_extra_ms": (first - median(steady)) * 1e3,
    }
    return result


# -- validation -------------------------------------------------------------------------------
def run_validation(n: int) -> Measurement:
    """Operation.validate on the parts prepare_call hands it for return-orders."""
    from wechatpay_chain.catalog.specs import Catalog

    operation = Catalog().operation(KEY, "POST")
    assert operation is not None
    parts = {"path": {}, "json": PAYLOAD}
    assert not operation.validate(parts)
    for _ in range(200):
        operation.validate(parts)
    latencies: list[float] = []
    cpu0, wall0 = process_cpu(), perf()
    for _ in range(n):
        start = perf()
        operation.validate(parts)
        latencies.append(perf() - start)
    return measurement("validation", latencies, perf() - wall0, process_cpu() - cpu0, 0, "")


# -- memory per in-flight async calls -------------------------------------------------------
async def _memory_once(keys: BenchKeys, inflight: int, traced: bool) -> dict[str, float]:
    import aiohttp

    async with make_client(keys) as client:
        for _ in range(10):  # session, spec, validators, a few connections
            await client.v3.profitsharing.return_orders.post_async(json=PAYLOAD)
        entered = 0
        send = client.transport.send

        async def counting_send(*args: Any, **kwargs: Any) -> Any:
            nonlocal entered
            entered += 1  # prepared, validated and signed: waiting for a connection or an answer
            return await send(*args, **kwargs)

        client.transport.send = counting_send  # type: ignore[method-assign]
        token = f"hold-{traced}-{time.monotonic_ns()}"
        gc.collect()
        if traced:
            tracemalloc.start()
        rss0 = rss_bytes()
        traced0 = tracemalloc.get_traced_memory()[0] if traced else 0
        tasks: list[asyncio.Future[Any]] = [
            asyncio.ensure_future(
                client.v3.profitsharing.return_orders.post_async(json=PAYLOAD, headers={"X-Bench-Hold": token})
            )
            for _ in range(inflight)
        ]
        deadline = time.monotonic() + 120
        while entered < inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)  # let the first connections send their requests
        rss1 = rss_bytes()
        traced1 = tracemalloc.get_traced_memory()[0] if traced else 0
        async with (
            aiohttp.ClientSession() as plain,
            plain.get(f"{keys.base_url}/bench/release", params={"token": token}) as answer,
        ):
            await answer.read()
        answers = await asyncio.gather(*tasks, return_exceptions=True)
        if traced:
            tracemalloc.stop()
        failed = sum(1 for answer in answers if isinstance(answer, BaseException))
        return {
            "entered": entered,
            "failed": failed,
            "rss_delta_bytes": rss1 - rss0,
            "traced_delta_bytes": traced1 - traced0,
            "connector_limit": getattr(client.transport, "limit", 0),
        }


def run_memory(keys: BenchKeys, inflight: int) -> Measurement:
    """Memory held by ``inflight`` concurrent post_async calls, all prepared and signed, none answered."""
    rss = asyncio.run(_memory_once(keys, inflight, traced=False))  # RSS first, before tracemalloc's own use
    traced = asyncio.run(_memory_once(keys, inflight, traced=True))
    result = Measurement("memory", calls=inflight)
    result.errors = int(rss["failed"] + traced["failed"])
    result.extra = {
        "inflight": inflight,
        "entered": min(rss["entered"], traced["entered"]),
        "rss_per_1000_kib": rss["rss_delta_bytes"] / inflight * 1000 / 1024,
        "traced_per_1000_kib": traced["traced_delta_bytes"] / inflight * 1000 / 1024,
        "connector_limit": rss["connector_limit"],
    }
    return result


# -- streaming download -----------------------------------------------------------------------
Transfer = Callable[[], Awaitable[int]]  # one whole download; returns the bytes read


async def _timed(transfer: Transfer, reps: int) -> list[tuple[int, float, float]]:
    """One warm-up transfer (connection, spec, validators), then ``reps`` timed ones."""
    await transfer()
    timings = []
    for _ in range(reps):
        gc.collect()
        cpu0, wall0 = process_cpu(), perf()
        size = await transfer()
        timings.append((size, perf() - wall0, process_cpu() - cpu0))
    return timings


async def _stream_plain(keys: BenchKeys, reps: int) -> list[tuple[int, float, float]]:
    import aiohttp

    async with aiohttp.ClientSession(auto_decompress=False) as session:

        async def transfer() -> int:
            size = 0
            async with session.get(f"{keys.base_url}/bench/blob") as answer:
                async for chunk in answer.content.iter_any():
                    size += len(chunk)
            return size

        return await _timed(transfer, reps)


async def _stream_ours(keys: BenchKeys, reps: int) -> list[tuple[int, float, float]]:
    async with make_client(keys) as client:

        async def transfer() -> int:
            size = 0
            async for chunk in client.aiter_download("/v3/billdownload/file?token=bench"):
                size += len(chunk)
            return size

        return await _timed(transfer, reps)


async def _buffered_ours(keys: BenchKeys, reps: int) -> list[tuple[int, float, float]]:
    async with make_client(keys, max_answer_bytes=None) as client:  # 50 MB: over the default cap

        async def transfer() -> int:
            response = await client.v3.billdownload.file.get_async(query={"token": "bench"})
            return len(response.content)

        return await _timed(transfer, reps)


def run_stream(keys: BenchKeys, reps: int) -> list[Measurement]:
    """MB/s reading the responder's unsigned body: plain aiohttp, our streaming (when the client has
    ``aiter_download``; the row says "not implemented yet" otherwise) and our buffered ``.get()``."""
    from wechatpay_chain import Client

    jobs: list[tuple[str, Callable[[BenchKeys, int], Coroutine[Any, Any, list[tuple[int, float, float]]]]]] = [
        ("plain aiohttp stream", _stream_plain),
    ]
    if hasattr(Client, "aiter_download"):
        jobs.append(("ours stream", _stream_ours))
    jobs.append(("ours buffered get", _buffered_ours))
    results = []
    for name, job in jobs:
        timings = asyncio.run(job(keys, reps))
        size = timings[-1][0]
        wall, cpu = median([t[1] for t in timings]), median([t[2] for t in timings])
        result = Measurement(name, calls=reps, wall=wall, cpu=cpu)
        result.extra = {"bytes": size, "mb_per_s": size / 1e6 / wall, "cpu_s_per_gb": cpu / size * 1e9}
        results.append(result)
    return results


# -- command line ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "scenario", choices=["floor", "clients", "spec-first", "call-first", "validation", "memory", "stream"]
    )
    parser.add_argument("--keys-dir", type=Path, help="the responder's folder (responder.json, keys)")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", default="1,8,64", help="comma-separated, for post_async ('' for none)")
    parser.add_argument("--no-sync", action="store_true", help="clients: skip the sync scenario")
    parser.add_argument(
        "--compare-threads", default="0", help="clients: signing_threads values for extra rows at the top concurrency"
    )
    parser.add_argument("--inflight", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    def keys() -> BenchKeys:
        if args.keys_dir is None:
            parser.error(f"{args.scenario} needs --keys-dir")
        return BenchKeys.load(args.keys_dir)

    if args.scenario == "floor":
        emit(run_floor(args.calls))
    elif args.scenario == "clients":
        concurrencies = [int(c) for c in args.concurrency.split(",") if c]
        compare = tuple(int(t) for t in args.compare_threads.split(",") if t)
        emit(run_clients(keys(), args.calls, concurrencies, sync=not args.no_sync, compare_threads=compare))
    elif args.scenario == "spec-first":
        emit([run_spec_first()])
    elif args.scenario == "call-first":
        emit([run_call_first(keys())])
    elif args.scenario == "validation":
        emit([run_validation(args.calls)])
    elif args.scenario == "memory":
        emit([run_memory(keys(), args.inflight)])
    else:
        emit(run_stream(keys(), args.reps))


if __name__ == "__main__":
    main()
