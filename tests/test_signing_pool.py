"""Where async calls sign: inline when alone, on the signing threads when calls overlap (signing_pool.py)."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from payloads import RETURN_ORDER

import wechatpay_chain.engine as engine_module
from wechatpay_chain import ApiError, Client, ConfigError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.signing_pool import SigningPool, _reset_after_fork, default_signing_threads


@pytest.fixture
def signed_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of the thread each v3 signature ran on, in order."""
    threads: list[str] = []
    original = engine_module.sign_call

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine_module, "sign_call", recording)
    yield threads


def _post_many(client: Client, count: int) -> list[Any]:
    async def main() -> list[Any]:
        node = client.v3.profitsharing.return_orders
        try:
            return await asyncio.gather(*(node.post_async(json=RETURN_ORDER) for _ in range(count)))
        finally:
            await client.transport.aclose()  # this loop's session; the test closes the client

    return asyncio.run(main())


def test_the_default_comes_from_the_cores() -> None:
    assert default_signing_threads(1) == 0  # one core: a thread would only add hops
    assert default_signing_threads(2) == 2  # one signs while the other waits for the GIL
    assert default_signing_threads(3) == 3
    assert default_signing_threads(4) == 4
    assert default_signing_threads(64) == 4
    assert default_signing_threads() == default_signing_threads(len(os.sched_getaffinity(0)))


def test_repr_shows_the_threads(mock: MockPlatform) -> None:
    with mock.client() as client:
        assert client.signing_pool.threads == default_signing_threads()
        assert f"signing_threads={default_signing_threads()}" in repr(client)
    with mock.client(signing_threads=0) as client:
        assert repr(client).endswith("signing_threads=0>")


@pytest.mark.parametrize("value", [-1, 1.5, True, "2"])
def test_bad_thread_counts_are_refused(mock: MockPlatform, value: Any) -> None:
    with pytest.raises(ConfigError, match="signing_threads"):
        mock.client(signing_threads=value)


def test_a_lone_call_signs_inline_and_starts_no_threads(mock: MockPlatform, signed_on: list[str]) -> None:
    with mock.client(signing_threads=2) as client:

        async def main() -> None:
            for _ in range(3):  # one after another: never two in flight
                answer = await client.v3.profitsharing.return_orders.post_async(json=RETURN_ORDER)
                assert answer.verified
            await client.transport.aclose()

        asyncio.run(main())
        assert signed_on == ["MainThread"] * 3
        assert not client.signing_pool.started and client.signing_pool.in_flight == 0


def test_overlapping_calls_sign_on_the_pool(mock: MockPlatform, signed_on: list[str]) -> None:
    with mock.client(signing_threads=2) as client:
        answers = _post_many(client, 16)
        assert all(answer.verified for answer in answers)
        assert client.signing_pool.started and client.signing_pool.in_flight == 0
    assert len(signed_on) == 16
    # The first call signs alone (inline); once calls overlap they sign on the pool.
    pooled = [name for name in signed_on if name.startswith("wechatpay-chain-sign")]
    assert len(pooled) >= 14 and len({*pooled}) <= 2
    assert mock.counts[("POST", "v3/profitsharing/return-orders")] == 16


def test_zero_threads_signs_inline_always(mock: MockPlatform, signed_on: list[str]) -> None:
    with mock.client(signing_threads=0) as client:
        assert all(answer.verified for answer in _post_many(client, 8))
        assert not client.signing_pool.started
    assert signed_on == ["MainThread"] * 8


def test_sync_calls_sign_on_their_own_thread(mock: MockPlatform, signed_on: list[str]) -> None:
    with mock.client(signing_threads=2) as client:
        client.signing_pool.enter()  # even with async calls in flight elsewhere
        try:
            assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).verified
        finally:
            client.signing_pool.leave()
        assert not client.signing_pool.started
    assert signed_on == ["MainThread"]


def test_failed_calls_leave_the_count(mock: MockPlatform) -> None:
    mock.fail("server_error", times=100)
    with mock.client(signing_threads=2, retry=None) as client:

        async def main() -> list[Any]:
            node = client.v3.profitsharing.return_orders
            calls = (node.post_async(json=RETURN_ORDER) for _ in range(6))
            results = await asyncio.gather(*calls, return_exceptions=True)
            await client.transport.aclose()
            return results

        results = asyncio.run(main())
        assert all(isinstance(result, ApiError) for result in results)
        assert client.signing_pool.in_flight == 0
    mock.clear_faults()


def test_the_pool_stops_with_the_client(mock: MockPlatform) -> None:
    async def main() -> Client:
        async with mock.client(signing_threads=2) as client:
            node = client.v3.profitsharing.return_orders
            await asyncio.gather(*(node.post_async(json=RETURN_ORDER) for _ in range(8)))
            workers = client.signing_pool.workers
            assert len(workers) == 2 and all(worker.is_alive() for worker in workers)
        for worker in workers:  # aclose() stopped them
            worker.join(5)
            assert not worker.is_alive()
        return client

    client = asyncio.run(main())
    assert not client.signing_pool.started
    # A closed pool starts no threads again (the call would fail on the closed transport anyway).
    pool = client.signing_pool
    pool.enter()
    pool.enter()
    try:
        assert asyncio.run(pool.run(threading.current_thread)) is threading.current_thread()
    finally:
        pool.leave()
        pool.leave()
    assert not pool.started


def test_close_stops_the_pool(mock: MockPlatform) -> None:
    client = mock.client(signing_threads=1)
    _post_many(client, 4)
    workers = client.signing_pool.workers
    assert len(workers) == 1
    client.close()
    assert not client.signing_pool.started
    workers[0].join(5)
    assert not workers[0].is_alive()


def test_errors_and_cancellation_on_the_pool() -> None:
    pool = SigningPool(1)

    def broken() -> None:
        raise ValueError("no key")

    async def main() -> None:
        pool.enter()
        pool.enter()
        try:
            with pytest.raises(ValueError, match="no key"):
                await pool.run(broken)
            waiting = asyncio.ensure_future(pool.run(lambda: threading.Event().wait(0.05)))
            await asyncio.sleep(0)
            waiting.cancel()
            assert (await asyncio.gather(waiting, return_exceptions=True))[0].__class__ is asyncio.CancelledError
            assert await pool.run(lambda: 42) == 42  # the pool goes on after both
        finally:
            pool.leave()
            pool.leave()

    try:
        asyncio.run(main())
    finally:
        pool.close()


def test_a_forked_child_forgets_the_parents_threads() -> None:
    pool = SigningPool(2)
    pool.enter()
    pool.enter()
    try:
        assert asyncio.run(pool.run(threading.current_thread)).name.startswith("wechatpay-chain-sign")
        assert pool.started
        _reset_after_fork()  # what os.register_at_fork runs in a child
        assert not pool.started and pool.in_flight == 0
        pool.enter()
        pool.enter()
        assert asyncio.run(pool.run(threading.current_thread)).name.startswith("wechatpay-chain-sign")
    finally:
        pool.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")
def test_fork_resets_the_pool_in_the_child() -> None:
    pool = SigningPool(1)
    pool.enter()
    pool.enter()
    try:
        asyncio.run(pool.run(lambda: None))
        assert pool.started
        child = os.fork()
        if child == 0:  # the child: no parent's threads, nothing in flight; signs on a pool of its own
            ok = not pool.started and pool.in_flight == 0
            pool.enter()
            pool.enter()
            ok = ok and asyncio.run(pool.run(threading.current_thread)).name.startswith("wechatpay-chain-sign")
            os._exit(0 if ok else 1)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert pool.started and pool.in_flight == 2  # the parent's pool is untouched
    finally:
        pool.close()
