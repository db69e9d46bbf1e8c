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
import contextlib
import os
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from .transport.driver import in_blocking_call

__all__ = ["MAX_DEFAULT_SIGNING_THREADS", "SigningPool", "available_cores", "default_signing_threads"]

T = TypeVar("T")

# The default never takes more than this many threads, however many cores there are:
# signing is one part of a call, and the event loop's own thread needs a core too.
MAX_DEFAULT_SIGNING_THREADS = 4


def available_cores() -> int:
    """The cores this process may run on (its affinity where the platform tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def default_signing_threads(cores: int | None = None) -> int:
    """``signing_threads`` when not given: one thread per core, at most 4; none (inline signing)
    on one core.

    A signing thread hands each signature back under the GIL, and while it waits for the GIL
    it signs nothing; a second thread signs meanwhile, so even 2 cores get 2 threads.
    Measured on 2 vCPUs (KVM), c=64, with the benchmark's responder on the same vCPUs
    (``tools/bench/run.py`` and ``tools/bench/pool_overhead.py``, interleaved, four runs):
    2 threads did 2,110 / 1,421 / 2,060 / 1,749 calls/s where 1 thread did 1,844 / 854 /
    1,518 / 1,872, at less CPU per call each time (601 / 513 / 615 / 474 us against 633 / 535 /
    652 / 506 us), and the event loop almost never waited for the GIL (0.01 waits per call
    against 0.3-0.8 with one thread). Signing on the loop (0 threads) costs the least CPU
    (445-609 us) but stops at one core.
    """
    cores = available_cores() if cores is None else cores
    return 0 if cores < 2 else min(MAX_DEFAULT_SIGNING_THREADS, cores)


class _Finished:
    """Signatures finished for one event loop, handed over with one wake-up per batch."""

    __slots__ = ("items", "lock", "loop", "scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = weakref.ref(loop)  # weak: the pool keeps one of these per loop, keyed weakly by it
        self.items: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        self.lock = threading.Lock()
        self.scheduled = False

    def add(self, future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
        """From a signing thread: queue the outcome; wake the loop unless a wake-up is pending."""
        with self.lock:
            self.items.append((future, result, error))
            if self.scheduled:
                return
            self.scheduled = True
        loop = self.loop()
        if loop is None:
            return  # the loop is gone: nobody waits for these any more
        with contextlib.suppress(RuntimeError):  # a closed loop: likewise
            loop.call_soon_threadsafe(self.deliver)

    def deliver(self) -> None:
        """On the loop: hand every queued outcome to its future."""
        with self.lock:
            items, self.items, self.scheduled = self.items, [], False
        for future, result, error in items:
            if future.cancelled():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)


class SigningPool:
    """Runs the signatures of async calls: inline when alone, on ``threads`` threads when not.

    ``enter()``/``leave()`` bracket each async call (``Engine.send_v3``): the count of calls in
    flight decides where the next signature runs. ``threads=0`` signs inline always.

    Not ``run_in_executor``: a signature is handed to the threads through one queue, and
    finished ones go back to their loop in batches, with one wake-up of the loop per batch
    rather than a ``concurrent.futures.Future``, its chaining and a wake-up per call.
    """

    __slots__ = ("__weakref__", "_closed", "_finished", "_in_flight", "_jobs", "_lock", "_workers", "threads")

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._in_flight = 0
        self._lock = threading.Lock()  # async calls of one client may run on loops in several threads
        self._closed = False
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any], _Finished] | None] = (
            queue.SimpleQueue()
        )
        self._workers: list[threading.Thread] = []
        self._finished: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Finished] = weakref.WeakKeyDictionary()
        _POOLS.add(self)

    @property
    def in_flight(self) -> int:
        """Async v3 calls of this client between their start and their answer."""
        return self._in_flight

    @property
    def started(self) -> bool:
        """Whether the threads exist (they are made on the first overlapping call)."""
        return bool(self._workers)

    @property
    def workers(self) -> list[threading.Thread]:
        """The signing threads (empty until the first overlapping call, and after close)."""
        return list(self._workers)

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    async def run(self, sign: Callable[[], T], *, may_block: bool = False) -> T:
        """``sign()`` inline for a lone call (or a sync one), on the pool when calls overlap.

        ``may_block``: ``sign`` may wait on the network (a remote signer's ``sign``): never on
        the event loop, so on the pool even for a lone call (the loop's default executor
        when the pool has no threads).
        """
        if may_block:
            if in_blocking_call():
                return sign()  # a sync call: its own thread waits
        elif self.threads == 0 or self._in_flight < 2 or self._closed or in_blocking_call():
            return sign()
        if self.threads == 0 or self._closed or (not self._workers and not self._start()):
            if may_block:
                return await asyncio.get_running_loop().run_in_executor(None, sign)
            return sign()  # closed meanwhile: the call fails on the closed transport anyway
        loop = asyncio.get_running_loop()
        finished = self._finished.get(loop)
        if finished is None:
            finished = self._finished[loop] = _Finished(loop)
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((sign, future, finished))
        return await future

    def _start(self) -> bool:
        with self._lock:
            if self._closed:
                return False
            if not self._workers:
                for number in range(self.threads):
                    worker = threading.Thread(
                        target=_work, args=(self._jobs,), name=f"wechatpay-chain-sign-{number}", daemon=True
                    )
                    worker.start()
                    self._workers.append(worker)
            return True

    def close(self) -> None:
        """Stop the threads (those signing now finish their signature); later calls sign inline."""
        with self._lock:
            self._closed = True
            workers, self._workers = self._workers, []
        for _ in workers:
            self._jobs.put(None)

    def _after_fork(self) -> None:
        # In a forked child the parent's threads are gone and its locks may be held: start over.
        self._lock = threading.Lock()
        self._jobs = queue.SimpleQueue()
        self._workers = []
        self._finished = weakref.WeakKeyDictionary()
        self._in_flight = 0


def _work(jobs: queue.SimpleQueue[tuple[Callable[[], Any], asyncio.Future[Any], _Finished] | None]) -> None:
    """A signing thread: sign what comes, hand the outcome to its loop; ``None`` stops it."""
    while True:
        job = jobs.get()
        if job is None:
            return
        sign, future, finished = job
        job = None  # hold nothing of a finished call while waiting for the next
        try:
            finished.add(future, sign(), None)
        except BaseException as error:  # handed to the awaiting call, as run_in_executor would
            finished.add(future, None, error)
        sign = future = finished = None  # type: ignore[assignment]


_POOLS: weakref.WeakSet[SigningPool] = weakref.WeakSet()


def _reset_after_fork() -> None:
    for pool in list(_POOLS):
        pool._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
