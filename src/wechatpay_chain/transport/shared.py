"""A transport shared by many clients (a fleet), and each client's handle on it."""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConfigError, TransportError
from .aio import MAX_ANSWER_BYTES, RawAnswer, StreamedAnswer, Timeout, Transport

if TYPE_CHECKING:
    import aiohttp

    from ..trust.crypto import Secret

__all__ = ["SharedTransport", "share_transport"]

T = TypeVar("T")


class SharedTransport:
    """One client's handle on a transport it shares with others.

    Sends through the shared transport; ``close()`` closes the handle only (later calls of
    that client raise "the client is closed") and leaves the pools to their owner.
    """

    __slots__ = ("_closed", "shared")

    def __init__(self, shared: Transport) -> None:
        self.shared = shared
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed or self.shared.closed

    @property
    def timeout(self) -> Timeout:
        return self.shared.timeout

    @property
    def max_answer_bytes(self) -> int | None:
        return self.shared.max_answer_bytes

    def _check(self) -> None:
        if self._closed:
            raise TransportError("the client is closed", sent=False)

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | aiohttp.FormData | None,
        *,
        timeout: Timeout | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> RawAnswer:
        self._check()
        return await self.shared.send(method, url, headers, body, timeout=timeout, ssl_context=ssl_context)

    def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        body: bytes | aiohttp.FormData | None = None,
        timeout: Timeout | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> contextlib.AbstractAsyncContextManager[StreamedAnswer]:
        self._check()
        return self.shared.open(method, url, headers, body=body, timeout=timeout, ssl_context=ssl_context)

    async def read_whole(self, answer: StreamedAnswer, method: str, url: str) -> bytes:
        return await self.shared.read_whole(answer, method, url)

    def run_blocking(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coroutine.close()
            raise TransportError("the client is closed")
        return self.shared.run_blocking(coroutine)

    def iterate_blocking(self, chunks: AsyncIterator[bytes]) -> Iterator[bytes]:
        return self.shared.iterate_blocking(chunks)

    def open_sessions(self) -> int:
        return 0  # the owner's to release

    def close(self) -> None:
        self._closed = True

    async def aclose(self) -> None:
        self._closed = True

    def __repr__(self) -> str:
        return f"<SharedTransport {'closed ' if self._closed else ''}of {self.shared!r}>"


def share_transport(
    transport: Transport | SharedTransport,
    timeout_given: bool,
    proxy: Secret | None,
    trust_env: bool,
    max_answer_bytes: int | None,
) -> SharedTransport:
    """A client's handle on ``transport`` (``Client(transport=...)``); its settings are its own,
    so a client that also asks for a timeout, proxy or answer cap of its own is refused."""
    if isinstance(transport, SharedTransport):
        transport = transport.shared  # another client's handle: share what it shares
    if not isinstance(transport, Transport):
        raise ConfigError("transport", "must be a shared Transport (Merchants(...).transport)")
    own = {
        "timeout": timeout_given,
        "proxy": proxy is not None,
        "trust_env": bool(trust_env),
        "max_answer_bytes": max_answer_bytes != MAX_ANSWER_BYTES,
    }
    for name, given in own.items():
        if given:
            raise ConfigError(name, "belongs to the shared transport: set it where it is made (Merchants(...))")
    return SharedTransport(transport)
