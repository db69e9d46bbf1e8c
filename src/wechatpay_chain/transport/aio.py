"""The transport: urllib3 for sync code, aiohttp for async code.

Sync calls and downloads (``client....post()``, ``client.download()``) run their
coroutine to the end on the calling thread with no event loop at all
(``run_blocking``; the sync mode is driver.py): every await on their path completes at
once, and ``send``/``open`` go through urllib3's pools (``blocking.SyncPools``). Async
calls and downloads use an aiohttp session
created inside the caller's running loop (sessions are bound to their loop). One
coroutine per call serves both: only the I/O at the bottom differs.

Both honour the same timeouts, proxy (``proxy=``, ``trust_env=``) and answer size cap
(``max_answer_bytes``), and put the same headers on the wire.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import contextlib
import ssl
import threading
import time
import urllib.request
import warnings
import weakref
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ..errors import TimeoutError, TransportError
from ..v3.signed_headers import SignedHeaders
from .driver import BlockingResponse, drive, in_blocking_call, next_chunk, sync_body
from .request_check import check_request, too_long, url_for_messages

if TYPE_CHECKING:
    from .blocking import SyncPools
from .proxy_url import redact_proxy

__all__ = ["RawAnswer", "StreamedAnswer", "Timeout", "Transport"]

T = TypeVar("T")

MAX_ANSWER_BYTES = 16 * 1024 * 1024  # the default cap on the body of a call's answer (not downloads)


@dataclass(frozen=True)
class Timeout:
    """Seconds: ``total`` bounds the whole call; ``connect`` and ``read`` its phases."""

    total: float | None = 30.0
    connect: float | None = 10.0
    read: float | None = 30.0

    @classmethod
    def coerce(cls, value: float | Timeout | None) -> Timeout:
        if isinstance(value, Timeout):
            return value
        if value is None:
            return cls(None, None, None)
        return cls(total=float(value), connect=min(10.0, float(value)), read=float(value))

    def as_aiohttp(self) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=self.total, sock_connect=self.connect, sock_read=self.read)


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: CIMultiDictProxy[str]
    content: bytes


class Transport:
    """Sends bytes, returns bytes. Knows nothing about signing."""

    def __init__(
        self,
        *,
        timeout: Timeout,
        user_agent: str,
        ssl_context: ssl.SSLContext | None = None,
        limit: int = 100,
        proxy: str | None = None,
        trust_env: bool = False,
        max_answer_bytes: int | None = MAX_ANSWER_BYTES,
    ) -> None:
        self.timeout = timeout
        self.user_agent = user_agent
        self.ssl_context = ssl_context
        self.limit = limit
        self.max_answer_bytes = max_answer_bytes
        self.trust_env = trust_env
        self._proxy = proxy
        self._aiohttp_proxy: dict[str, Any] = {}
        if proxy is not None:
            # The credentials travel as a header (also on CONNECT), never in the URL aiohttp keeps.
            bare = URL(proxy)
            self._aiohttp_proxy = {"proxy": bare.with_user(None)}
            if bare.user is not None:
                token = base64.b64encode(f"{bare.user}:{bare.password or ''}".encode()).decode("ascii")
                self._aiohttp_proxy["proxy_headers"] = {"Proxy-Authorization": f"Basic {token}"}
        # loop -> session (a session belongs to the loop it was made in)
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.ClientSession] = (
            weakref.WeakKeyDictionary()
        )
        # urllib3 is imported, and its pools made, by the first sync call (async-only code and
        # start-up never pay for it).
        self._blocking: SyncPools | None = None
        self._blocking_lock = threading.Lock()
        self.closed = False

    @property
    def blocking(self) -> SyncPools:
        """The urllib3 pools of sync calls and downloads, made on the first sync call."""
        pools = self._blocking
        if pools is None:
            with self._blocking_lock:
                if self._blocking is None:
                    from .blocking import SyncPools

                    self._blocking = SyncPools(
                        user_agent=self.user_agent,
                        ssl_context=self.ssl_context,
                        proxy=self._proxy,
                        trust_env=self.trust_env,
                    )
                pools = self._blocking
        return pools

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            if self.closed:
                raise TransportError("the client is closed")
            # Sessions of loops that ended without closing them (asyncio.run after asyncio.run)
            # can no longer be closed; let them go so their sockets are freed with them.
            for ended in [other for other in self._sessions if other.is_closed()]:
                del self._sessions[ended]
            # Through a proxy, one connection per request: proxies such as tinyproxy close
            # after each answer without saying so, and aiohttp would reuse the connection
            # before it sees the close (it does not retry: see _send_once).
            proxied = self._proxy is not None or (self.trust_env and bool(urllib.request.getproxies()))
            connector = aiohttp.TCPConnector(limit=self.limit, ssl=self.ssl_context or True, force_close=proxied)
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeout.as_aiohttp(),
                headers={"User-Agent": self.user_agent},
                auto_decompress=False,  # gzip bills stay as sent; digests cover raw bytes
                # Nor is gzip asked for: the platform signs the body it sends, and an answer
                # compressed on the way would not verify. The blocking transport sends the same.
                skip_auto_headers=("Content-Type", "Accept-Encoding", "Accept"),
                trust_env=self.trust_env and self._proxy is None,  # HTTPS_PROXY, HTTP_PROXY, NO_PROXY
            )
            self._sessions[loop] = session
        return session

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
        """One request, the whole answer read."""
        check_request(method, url, headers)
        cap = self.max_answer_bytes
        if in_blocking_call():
            answer = self.blocking.open(
                method,
                url,
                headers,
                sync_body(method, body),
                ssl_context=ssl_context,
                **self._blocking_limits(timeout),
            )
            return RawAnswer(answer.status, answer.headers, answer.read_to_end(cap))
        # The request directly, not through open(): a generator-based context manager per
        # call costs more than it is worth on the hot path.
        request = self._request(method, url, headers, body, timeout, ssl_context)
        try:
            async with request as answer:
                return RawAnswer(answer.status, answer.headers, await _read_capped(answer, cap, method, url))
        except (aiohttp.ClientError, builtins.TimeoutError) as exc:
            raise _transport_error(exc, method, url, self._proxy) from None

    @contextlib.asynccontextmanager
    async def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        body: bytes | aiohttp.FormData | None = None,
        timeout: Timeout | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> AsyncIterator[StreamedAnswer]:
        """One request, the answer to read as the caller likes (downloads read it in chunks)."""
        check_request(method, url, headers)
        if in_blocking_call():
            limits = self._blocking_limits(timeout)
            answer = self.blocking.open(
                method, url, headers, sync_body(method, body), ssl_context=ssl_context, **limits
            )
            try:
                yield BlockingResponse(answer, self.max_answer_bytes)
            finally:
                answer.close()  # back to the pool if read to its end, closed otherwise
            return
        request = self._request(method, url, headers, body, timeout, ssl_context)
        try:
            async with request as answer:
                yield answer
        except (aiohttp.ClientError, builtins.TimeoutError) as exc:
            raise _transport_error(exc, method, url, self._proxy) from None

    def _blocking_limits(self, timeout: Timeout | None) -> dict[str, float | None]:
        """connect, read and the deadline of ``timeout`` (or the client's) for the blocking pool."""
        limit = timeout or self.timeout
        deadline = None if limit.total is None else time.monotonic() + limit.total
        return {"connect": limit.connect, "read": limit.read, "deadline": deadline}

    def _request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | aiohttp.FormData | None,
        timeout: Timeout | None,
        ssl_context: ssl.SSLContext | None,
    ) -> Any:
        """aiohttp's request context for one call (not yet sent)."""
        session = self._session()
        kwargs: dict[str, Any] = dict(self._aiohttp_proxy)
        proxy_headers = kwargs.get("proxy_headers")
        if proxy_headers and url.startswith("http://"):  # forwarded, not tunnelled: aiohttp sends
            headers = SignedHeaders({**headers, **proxy_headers})  # proxy_headers only on CONNECT
        if timeout is not None:
            kwargs["timeout"] = timeout.as_aiohttp()
        if ssl_context is not None:
            kwargs["ssl"] = ssl_context
        if method not in _NEVER_REPLAYED:
            kwargs["middlewares"] = (_send_once(),)
        return session.request(
            method, URL(url, encoded=True), headers=headers, data=body or None, allow_redirects=False, **kwargs
        )

    async def aclose(self) -> None:
        """Close the session of the running loop (async callers)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()

    async def read_whole(self, answer: StreamedAnswer, method: str, url: str) -> bytes:
        """The whole body of an opened answer (an error page of a download), under the cap."""
        if isinstance(answer, BlockingResponse):
            return await answer.read()  # capped by the sync side already
        return await _read_capped(answer, self.max_answer_bytes, method, url)  # type: ignore[arg-type]

    def run_blocking(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a call's coroutine to its end on this thread, with blocking I/O and no loop.

        Everything a call awaits checks ``in_blocking_call()`` and completes without
        suspending, so one ``send(None)`` runs it all. This works from any thread, and
        from inside a running loop too (which it blocks for the call, as any sync I/O does).
        """
        if self.closed:
            coroutine.close()
            raise TransportError("the client is closed")
        return drive(coroutine)  # type: ignore[no-any-return]

    def iterate_blocking(self, chunks: AsyncIterator[bytes]) -> Iterator[bytes]:
        """A sync iterator over an async one whose steps never wait on a loop (downloads)."""
        try:
            while True:
                try:
                    yield self.run_blocking(next_chunk(chunks))
                except StopAsyncIteration:
                    return
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                drive(aclose())  # closes its connection, even after close()

    def close(self) -> None:
        """Close the sync connections, and the sessions of async callers' loops."""
        self.closed = True
        if self._blocking is not None:
            self._blocking.close()
        for loop, session in list(self._sessions.items()):
            del self._sessions[loop]
            if session.closed:
                continue
            if loop.is_running():  # an async caller's loop, elsewhere (or this thread's): close there
                asyncio.run_coroutine_threadsafe(session.close(), loop)
            elif not loop.is_closed():
                _run_elsewhere_if_needed(loop, session.close())

    def open_sessions(self) -> int:
        """Open aiohttp sessions and idle sync connections: what close() would release."""
        return sum(1 for session in self._sessions.values() if not session.closed) + (
            self._blocking.idle_connections() if self._blocking is not None else 0
        )

    def __repr__(self) -> str:
        return f"<Transport proxy={redact_proxy(self._proxy)!r} trust_env={self.trust_env}>"

    def __del__(self) -> None:
        if not self.closed and self.open_sessions():
            warnings.warn(
                "wechatpay_chain.Client was not closed: use `with Client(...)`, "
                "`async with Client(...)` or call close()/aclose()",
                ResourceWarning,
                stacklevel=2,
            )


def _run_elsewhere_if_needed(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, Any]) -> None:
    """Run ``coroutine`` on the idle ``loop``; from a thread already running a loop
    (close() called from async code), do it on a short-lived thread instead."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop.run_until_complete(coroutine)
        return
    worker = threading.Thread(target=loop.run_until_complete, args=(coroutine,), name="wechatpay-chain-close")
    worker.start()
    worker.join(timeout=10)


class _Body(Protocol):
    def iter_any(self) -> AsyncIterator[bytes]: ...


class StreamedAnswer(Protocol):
    """What downloads read of an answer: aiohttp's ``ClientResponse``, or a blocking one."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> CIMultiDictProxy[str]: ...

    @property
    def content_length(self) -> int | None: ...

    @property
    def content(self) -> _Body: ...

    async def read(self) -> bytes: ...


# aiohttp never sends these twice by itself (they are not among its idempotent methods), so
# they skip _send_once: a closure and a middleware chain per call on the event loop.
# tests/test_reliability.py checks that each verb reaches a dropping server once.
_NEVER_REPLAYED = frozenset({"POST", "PATCH"})


def _send_once() -> aiohttp.ClientMiddlewareType:
    """A middleware for one request that lets it reach the wire once.

    aiohttp sends a GET, PUT or DELETE again, with the same headers, when the connection
    drops after it was written (its IDEMPOTENT_METHODS): a replayed payment-API request
    nobody asked for. It calls a request's middlewares on each send, so the second send
    ends here with the first one's error. Whether to try again is the retry policy's call
    (retry.py); a test pins this.
    """
    dropped: list[BaseException] = []

    async def send_once(request: aiohttp.ClientRequest, handler: aiohttp.ClientHandlerType) -> aiohttp.ClientResponse:
        if dropped:
            raise dropped[0]
        try:
            return await handler(request)
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError) as exc:
            dropped.append(exc)
            raise

    return send_once


def _transport_error(exc: BaseException, method: str, url: str, proxy: str | None = None) -> TransportError:
    """aiohttp's error as ours, with ``sent`` saying whether the request may have reached the
    platform (only a failed connection proves it did not): the retry rules depend on it."""
    where = f"{method} {url_for_messages(url)}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):  # before TimeoutError: it is one too
        return TimeoutError(f"{where}: timed out connecting", sent=False)
    if isinstance(exc, builtins.TimeoutError):
        return TimeoutError(f"{where}: timed out", sent=True)
    if isinstance(exc, aiohttp.ClientHttpProxyError):  # the proxy refused the CONNECT: nothing left
        return TransportError(f"{where}: the proxy refused the tunnel (HTTP {exc.status})", sent=False)
    if isinstance(exc, aiohttp.ClientConnectorError):  # with a proxy, the connection is to the proxy
        return TransportError(f"{where}: cannot connect{_via(proxy)} ({exc.os_error})", sent=False)
    return TransportError(f"{where}: {type(exc).__name__}: {exc}", sent=True)


def _via(proxy: str | None) -> str:
    """`` through the proxy http://***@host:port`` for a connection failure, so that it does not
    read as the platform's; the proxy's credentials never show."""
    return f" through the proxy {redact_proxy(proxy)}" if proxy else ""


async def _read_capped(answer: aiohttp.ClientResponse, cap: int | None, method: str, url: str) -> bytes:
    """The whole body of a call's answer, refused once it passes ``cap`` bytes (announced or not)."""
    length = answer.content_length
    if cap is None or (length is not None and length <= cap):
        return await answer.read()
    if length is not None:
        answer.close()
        raise too_long(method, url, cap, length)
    pieces = []
    size = 0
    while piece := await answer.content.readany():
        size += len(piece)
        if size > cap:
            answer.close()
            raise too_long(method, url, cap)
        pieces.append(piece)
    return b"".join(pieces)
