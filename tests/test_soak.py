"""The soak: 10,000 async calls at concurrency 100 with 1% injected faults (``pytest -m slow``).

Every call must end in an answer or a typed error (nothing lost, nothing hanging), and
open file descriptors and RSS must stay flat. The figures are printed (run with -s).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter

import pytest

from wechatpay_chain import WeChatPayError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.retry import Retry

CALLS = int(os.environ.get("SOAK_CALLS", "10000"))
CONCURRENCY = 100


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.slow
def test_soak(mock: MockPlatform) -> None:
    mock.fail_randomly(0.01, ("server_error", "unavailable", "rate_limited", "reset", "bad_signature"), seed=7)
    outcomes: Counter[str] = Counter()
    samples: list[tuple[int, float, int]] = []

    async def main() -> None:
        async with mock.client(retry=Retry(attempts=2, backoff=0.01, max_backoff=0.05)) as client:
            gate = asyncio.Semaphore(CONCURRENCY)
            node = client.v3.pay.transactions.id._transaction_id_
            post = client.v3.profitsharing.return_orders

            async def one(index: int) -> None:
                async with gate:
                    try:
                        if index % 4 == 0:
                            await post.post_async(
                                json={
                                    "out_order_no": "P1",
                                    "out_return_no": f"R{index}",
                                    "return_mchid": "86693852",
                                    "amount": 1,
                                    "description": "x",
                                }
                            )
                        else:
                            await node.get_async(transaction_id=str(index), query={"mchid": "1900000109"})
                        outcomes["answer"] += 1
                    except WeChatPayError as error:
                        outcomes[type(error).__name__] += 1
                    if index % 1000 == 999:
                        mock.calls.clear()  # the mock's own record of requests is not the client's memory
                        samples.append((index + 1, _rss_mb(), _fds()))

            await asyncio.gather(*(one(i) for i in range(CALLS)))

    started = time.monotonic()
    try:
        asyncio.run(main())
    finally:
        mock.clear_faults()
    elapsed = time.monotonic() - started
    assert sum(outcomes.values()) == CALLS  # every call ended in an answer or a typed error
    assert outcomes["answer"] >= CALLS * 0.97
    first, last = samples[0], samples[-1]
    print(f"\nsoak: {CALLS} calls in {elapsed:.1f} s ({CALLS / elapsed:.0f}/s), outcomes {dict(outcomes)}")
    print("soak: (calls, RSS MB, fds) " + " ".join(f"({c},{r:.0f},{f})" for c, r, f in samples))
    assert last[2] <= first[2] + 5
    assert last[1] <= first[1] + 10
