"""How many signing threads pay off with the client alone on the machine (no responder).

    .venv/bin/python tools/bench/pool_sizes.py [--rounds 2] [--calls 3000]

64 coroutines each await ``SigningPool.run`` (an RSA-2048 signature, alone or with ~25 us of
Python around it as ``sign_call`` has), then do ~200 us of Python on the loop (what aiohttp,
validation and verification take per call), for signing_threads 0, 1 and 2. Prints the
process CPU per call (all threads) and the calls per second. run.py measures the real calls,
but with the responder on the same cores; this is the other half of the picture, used to pick
the default (``signing.default_signing_threads``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from wechatpay_chain.signing_pool import SigningPool

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
msg = b"POST\n/v3/profitsharing/return-orders\n1700000000\nNONCE\n{}\n"
P, H = padding.PKCS1v15(), hashes.SHA256()


def rsa_only() -> bytes:
    return key.sign(msg, P, H)


def with_python() -> bytes:  # RSA plus ~25 us of Python around it, as sign_call has
    s = 0
    for i in range(600):
        s += i
    return key.sign(msg, P, H)


def busy_loop_work() -> None:  # the loop's own share per call (aiohttp etc.), ~200 us of Python
    s = 0
    for i in range(5000):
        s += i


async def bench(pool: SigningPool, job: Callable[[], object], n: int, c: int = 64) -> tuple[float, float]:
    async def worker(k: int) -> None:
        for _ in range(k):
            await pool.run(job)
            busy_loop_work()
            await asyncio.sleep(0)

    t0, w0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(n // c) for _ in range(c)))
    return (time.process_time() - t0) / n * 1e6, n / (time.perf_counter() - w0)


async def main(rounds: int, calls: int) -> None:
    for _ in range(rounds):
        for threads in (0, 1, 2):
            pool = SigningPool(threads)
            pool.enter()  # as if calls were in flight: the pool signs off the loop
            pool.enter()
            jobs: tuple[tuple[str, Callable[[], object]], ...] = (("rsa only", rsa_only), ("rsa+python", with_python))
            for name, job in jobs:
                cpu, rate = await bench(pool, job, calls)
                print(f"signing_threads={threads} {name:11} {cpu:6.0f} us/call {rate:6.0f} calls/s", flush=True)
            pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--calls", type=int, default=3000)
    options = parser.parse_args()
    asyncio.run(main(options.rounds, options.calls))
