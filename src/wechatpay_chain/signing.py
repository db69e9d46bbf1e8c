"""Where async calls sign: on the event loop for a lone call, on a few threads when calls overlap.

An RSA-2048 signature is the largest piece of a call's CPU, and ``cryptography`` releases the
GIL while it signs. A lone call signs inline (a hop to a thread and back would only add
latency); once more than one async v3 call is in flight on the client, each signature runs on
a small thread pool, so the event loop goes on with the other calls' I/O and verification
while other cores sign. Sync calls always sign inline on their own thread.

The pool is created on first need, shut down with the client, and forgotten in a forked
child (its threads do not exist there; the child makes its own on first need).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
import weakref
from collections.abc import Callable
from typing import TypeVar

from .transport import in_blocking_call

__all__ = ["MAX_DEFAULT_SIGNING_THREADS", "SigningPool", "available_cores", "default_signing_threads"]

T = TypeVar("T")

# The default never takes more than this many threads, however many cores there are:
# signing is one part of a call, and the event loop's own thread is one core's worth of work.
MAX_DEFAULT_SIGNING_THREADS = 4


def available_cores() -> int:
    """The cores this process may run on (its affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def default_signing_threads(cores: int | None = None) -> int:
    """``signing_threads`` when not given: ``min(4, cores)``, and 0 (inline) on one core.

    Measured on 2 cores (tools/bench, async c=64): 2 threads beat 1, since the thread that
    signs is blocked in RSA and the event loop's thread runs everything else.
    """
    cores = available_cores() if cores is None else cores
    return 0 if cores < 2 else min(MAX_DEFAULT_SIGNING_THREADS, cores)


class SigningPool:
    """Runs the signatures of async calls: inline when alone, on ``threads`` threads when not.

    ``enter()``/``leave()`` bracket each async call (``sending.send_v3``): the count of calls in
    flight decides where the next signature runs. ``threads=0`` signs inline always.
    """

    __slots__ = ("__weakref__", "_closed", "_executor", "_in_flight", "_lock", "threads")

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._in_flight = 0
        self._lock = threading.Lock()  # async calls of one client may run on loops in several threads
        self._closed = False
        _POOLS.add(self)

    @property
    def in_flight(self) -> int:
        """Async v3 calls of this client between their start and their answer."""
        return self._in_flight

    @property
    def started(self) -> bool:
        """Whether the threads exist (they are made on the first overlapping call)."""
        return self._executor is not None

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    async def run(self, sign: Callable[[], T]) -> T:
        """``sign()`` inline for a lone call (or a sync one), on the pool when calls overlap."""
        if self.threads == 0 or self._in_flight < 2 or in_blocking_call():
            return sign()
        executor = self._executor or self._start()
        if executor is None:  # closed: the call fails on the closed transport anyway
            return sign()
        return await asyncio.get_running_loop().run_in_executor(executor, sign)

    def _start(self) -> concurrent.futures.ThreadPoolExecutor | None:
        with self._lock:
            if self._closed:
                return None
            if self._executor is None:
                self._executor = concurrent.futures.ThreadPoolExecutor(
                    self.threads, thread_name_prefix="wechatpay-chain-sign"
                )
            return self._executor

    def close(self) -> None:
        """Stop the threads (those signing now finish their signature); later calls sign inline."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False)

    def _after_fork(self) -> None:
        # In a forked child the parent's threads are gone and its lock may be held: start over.
        self._lock = threading.Lock()
        self._executor = None
        self._in_flight = 0


_POOLS: weakref.WeakSet[SigningPool] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for pool in list(_POOLS):
        pool._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
