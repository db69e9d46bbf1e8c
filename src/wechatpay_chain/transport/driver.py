"""Sync calls run the same coroutine as async ones, with no event loop.

``Transport.run_blocking`` drives a call's coroutine with one ``send(None)`` while
``in_blocking_call()`` is true: everything on the call's path checks it and completes at
once (urllib3's blocking I/O, ``time.sleep`` between attempts, signing inline), so the
coroutine never suspends. This module holds that mode and the adapters it needs.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from multidict import CIMultiDictProxy

from ..errors import TransportError

if TYPE_CHECKING:
    from .blocking import SyncAnswer

T = TypeVar("T")

__all__ = ["BlockingResponse", "drive", "in_blocking_call", "next_chunk", "offload", "pause", "sync_body"]

# True while a sync call runs its coroutine without a loop (Transport.run_blocking).
_BLOCKING: contextvars.ContextVar[bool] = contextvars.ContextVar("wechatpay_chain_blocking", default=False)


def in_blocking_call() -> bool:
    """Whether the code running now belongs to a sync call (no event loop to await on)."""
    return _BLOCKING.get()


async def pause(seconds: float) -> None:
    """Wait between attempts: sleep the calling thread in a sync call, yield to the loop otherwise."""
    if _BLOCKING.get():
        time.sleep(seconds)
    else:
        await asyncio.sleep(seconds)


async def offload(function: Callable[..., T], *args: Any) -> T:
    """Blocking work on a call's path (a key store's or dedup store's round trip): inline in a
    sync call (there is no loop to keep free), on a thread under a running loop."""
    if in_blocking_call():
        return function(*args)
    return await asyncio.to_thread(function, *args)


def drive(coroutine: Any) -> Any:
    """One ``send(None)`` to the end, in blocking mode (see ``Transport.run_blocking``)."""
    token = _BLOCKING.set(True)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    finally:
        _BLOCKING.reset(token)
    coroutine.close()
    raise RuntimeError("a sync call tried to wait on an event loop (a wechatpay_chain bug: please report it)")


async def next_chunk(chunks: AsyncIterator[bytes]) -> bytes:
    return await chunks.__anext__()


class BlockingResponse:
    """A blocking answer as downloads read an aiohttp one; its awaits never suspend."""

    __slots__ = ("_answer", "_cap")

    def __init__(self, answer: SyncAnswer, cap: int | None) -> None:
        self._answer = answer
        self._cap = cap

    @property
    def status(self) -> int:
        return self._answer.status

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._answer.headers

    @property
    def content_length(self) -> int | None:
        return self._answer.content_length

    @property
    def content(self) -> BlockingResponse:
        return self

    async def read(self) -> bytes:
        return self._answer.read_to_end(self._cap)

    async def iter_any(self) -> AsyncIterator[bytes]:
        while piece := self._answer.read_some():
            yield piece


_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "CONNECT", "TRACE"})
"""Methods aiohttp sends without a Content-Length when they carry nothing (its GET_METHODS)."""


def sync_body(method: str, body: bytes | aiohttp.FormData | None) -> bytes | None:
    """The body for urllib3, so that both transports frame an empty request alike: no body
    (and no Content-Length) for GET and its kin, ``Content-Length: 0`` for the others."""
    data = _bytes(body)
    return data if data or method.upper() not in _BODYLESS_METHODS else None


def _bytes(body: bytes | aiohttp.FormData | None) -> bytes | None:
    if isinstance(body, bytes) or body is None:
        return body
    raise TransportError("a multipart form cannot be sent by a sync call; pass its bytes", sent=False)
