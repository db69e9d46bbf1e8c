"""The sync transport: urllib3 connection pools, driven from the calling thread.

Sync calls and sync downloads run their coroutine with no event loop (``Transport.run_blocking``);
at the bottom they land here. We use urllib3's lean path, ``HTTP(S)ConnectionPool.urlopen``
with retries, redirects and content decoding off: the retry policy, failover and observation
sit above the transport (retry.py, attempts.py), and answers stay the bytes the platform signed.

- **Pools.** One pool per (origin, TLS context, proxy): a v2 client certificate is an
  ``ssl.SSLContext`` of its own, so connections presenting it are never handed to a call
  that does not present it, and the other way round. urllib3's pools are thread-safe.
- **Proxies.** ``proxy=`` (``http://user:pass@host:port``) sends every call through it;
  ``https://`` targets go through ``CONNECT`` (then TLS with the call's own context, mTLS
  included). ``trust_env=True`` reads ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` once per
  origin. The credentials live only in the ``Proxy-Authorization`` header urllib3 keeps.
- **Errors** say whether the request may have reached the platform (``sent``): only a
  failure inside ``connect()`` (DNS, TCP, the proxy's ``CONNECT``, the TLS handshake)
  proves it did not. Connections tag what they raise there.
- **Limits.** connect and read go to urllib3's ``Timeout``; the call's total deadline is
  ours: it bounds urllib3's wait for the head, then every read of the body. Bodies of
  calls are read against ``max_answer_bytes`` (Content-Length refused at once when larger,
  anything else counted while it arrives).
"""

from __future__ import annotations

import builtins
import contextvars
import http.client
import io
import os
import socket
import ssl
import threading
import time
import urllib.request
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import urllib3
from multidict import CIMultiDict, CIMultiDictProxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util import SKIP_HEADER

from ..errors import TimeoutError, TransportError
from ..v3.signed_headers import SignedHeaders
from .request_check import too_long, url_for_messages
from .sync_errors import CONNECTING, sync_failure

__all__ = ["SyncAnswer", "SyncPools"]

MAX_IDLE_PER_HOST = 32  # idle keep-alive connections kept per pool (more may be open at once)
READ_SIZE = 256 * 1024
_MAX_POOLS = 64


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("wechatpay_chain_deadline", default=None)
"""The monotonic deadline of the request being sent on this thread (set around urlopen)."""
IDLE_LIMIT = 15.0
"""Seconds a kept-alive connection may sit unused before it is not reused (aiohttp's default):
a NAT or load balancer may have dropped it without a word, and a POST sent on it would fail
as 'may have been sent'."""


class _DeadlineReader(io.RawIOBase):
    """A socket's bytes under one deadline: each read waits at most what is left of it.

    http.client sets one timeout per socket read, so an answer that drips a byte at a time
    would restart it forever; this bounds the head and the body as a whole.
    """

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._limit = sock.gettimeout()  # the read timeout urllib3 set

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise builtins.TimeoutError("the call's total time ran out")
        self._sock.settimeout(left if self._limit is None else min(self._limit, left))
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._limit)


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = _DEADLINE.get()
        if deadline is not None:
            self.fp.close()  # the plain reader made above; the socket stays open
            self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _Tagged:
    """What both connection classes add: failures while connecting are tagged (they are
    surely unsent), answers are read under the call's deadline, and a connection idle for
    longer than IDLE_LIMIT is not reused."""

    response_class: type[http.client.HTTPResponse] = _DeadlineResponse
    _used_at = 0.0

    def connect(self) -> None:
        try:
            super().connect()  # type: ignore[misc]
        except BaseException as exc:
            setattr(exc, CONNECTING, True)
            raise

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            self._used_at = time.monotonic()

    @property
    def is_connected(self) -> bool:
        if self._used_at and time.monotonic() - self._used_at > IDLE_LIMIT:
            return False
        return bool(super().is_connected)  # type: ignore[misc]


class _Connection(_Tagged, HTTPConnection):
    pass


class _TLSConnection(_Tagged, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


_POOL_CLASSES = {"http": _Pool, "https": _TLSPool}


class SyncPools:
    """Keep-alive pools per origin, TLS context and proxy, shared by the threads of one client."""

    def __init__(
        self,
        *,
        user_agent: str,
        ssl_context: ssl.SSLContext | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
    ) -> None:
        self.user_agent = user_agent
        self.ssl_context = ssl_context
        self.proxy = proxy
        self.trust_env = trust_env
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        # (base URL, TLS context) -> (pool, whether the request target is the absolute URL)
        self._pools: dict[tuple[str, ssl.SSLContext | None], tuple[HTTPConnectionPool, bool]] = {}
        self._lock = threading.Lock()
        self.closed = False
        _ALL.add(self)

    # -- one exchange ----------------------------------------------------------------------
    def open(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        connect: float | None,
        read: float | None,
        deadline: float | None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> SyncAnswer:
        """Send one request and read its head; the body is read through the answer."""
        if self.closed:
            raise TransportError("the client is closed")
        pool, absolute, target = self._pool_for(url, ssl_context)
        wire = SignedHeaders(headers)
        if not any(name.lower() == "user-agent" for name in wire):
            wire["User-Agent"] = self.user_agent
        # http.client would add "Accept-Encoding: identity"; the aiohttp path sends none.
        wire["Accept-Encoding"] = SKIP_HEADER
        limit: urllib3.Timeout
        if deadline is None:
            limit = urllib3.Timeout(connect=connect, read=read)
        else:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{method} {url_for_messages(url)}: timed out before sending", sent=False)
            limit = urllib3.Timeout(connect=connect, read=read, total=left)
        token = _DEADLINE.set(deadline)
        try:
            answer = pool.urlopen(
                method,
                url if absolute else target,
                body=body,
                headers=wire,
                retries=False,
                redirect=False,
                assert_same_host=False,
                timeout=limit,
                preload_content=False,
                decode_content=False,
                release_conn=False,
            )
        except BaseException as exc:
            raise sync_failure(exc, method, url, self.proxy) from None
        finally:
            _DEADLINE.reset(token)
        return SyncAnswer(answer, method, url, self.proxy)

    def close(self) -> None:
        with self._lock:
            self.closed = True
            managers, self._managers, self._pools = self._managers, {}, {}
        for manager in managers.values():
            manager.clear()

    def idle_connections(self) -> int:
        count = 0
        for pool, _ in list(self._pools.values()):
            queue = pool.pool
            if queue is not None:
                count += sum(1 for conn in list(queue.queue) if conn is not None and conn.sock is not None)
        return count

    # -- parts -----------------------------------------------------------------------------
    def _pool_for(self, url: str, ssl_context: ssl.SSLContext | None) -> tuple[HTTPConnectionPool, bool, str]:
        scheme_end = url.find("://")
        path_start = url.find("/", scheme_end + 3) if scheme_end > 0 else -1
        base = url[:path_start] if path_start > 0 else url
        target = url[path_start:] if path_start > 0 else "/"
        key = (base, ssl_context)
        known = self._pools.get(key)
        if known is not None and known[0].pool is not None:
            return known[0], known[1], target
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"cannot send to {base!r}: not an http(s) URL", sent=False)
        proxy = self._proxy_for(parts.scheme, parts.hostname)
        pool_kwargs: dict[str, Any] = {}
        if parts.scheme == "https":
            pool_kwargs["ssl_context"] = ssl_context or self.ssl_context or _default_context()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        with self._lock:
            if self.closed:
                raise TransportError("the client is closed")
            pool = self._manager(proxy).connection_from_host(parts.hostname, port, parts.scheme, pool_kwargs)
            absolute = proxy is not None and parts.scheme == "http"  # forwarded, not tunnelled
            if len(self._pools) < _MAX_POOLS:
                self._pools[key] = (pool, absolute)
        return pool, absolute, target

    def _proxy_for(self, scheme: str, host: str) -> str | None:
        if self.proxy is not None:
            return self.proxy
        if not self.trust_env:
            return None
        found = urllib.request.getproxies().get(scheme)
        if not found or urllib.request.proxy_bypass(host):
            return None
        return found if "://" in found else f"http://{found}"

    def _manager(self, proxy: str | None) -> urllib3.PoolManager:
        manager = self._managers.get(proxy)
        if manager is None:
            kwargs: dict[str, Any] = {"num_pools": _MAX_POOLS * 2, "maxsize": MAX_IDLE_PER_HOST, "block": False}
            if proxy is None:
                manager = urllib3.PoolManager(**kwargs)
            else:
                parsed = urllib3.util.parse_url(proxy)
                proxy_headers = urllib3.make_headers(proxy_basic_auth=parsed.auth) if parsed.auth else None
                bare = parsed._replace(auth=None).url
                manager = urllib3.ProxyManager(bare, proxy_headers=proxy_headers, **kwargs)
            manager.pool_classes_by_scheme = _POOL_CLASSES
            self._managers[proxy] = manager
        return manager


class SyncAnswer:
    """An answer being read; its connection goes back to the pool once read to its end,
    and is closed if the answer is closed before that. Every read is under the call's
    deadline already: the answer reads its socket through a ``_DeadlineReader``."""

    __slots__ = ("_answer", "_method", "_proxy", "_url", "headers", "status")

    def __init__(self, answer: Any, method: str, url: str, proxy: str | None) -> None:
        self._answer = answer
        self.status: int = answer.status
        self.headers = CIMultiDictProxy(CIMultiDict(answer.headers.iteritems()))
        self._method = method
        self._url = url
        self._proxy = proxy

    @property
    def content_length(self) -> int | None:
        value = self.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    def read_to_end(self, limit: int | None = None) -> bytes:
        """The whole body; more than ``limit`` bytes (announced or arriving) is an error."""
        length = self.content_length
        if limit is not None and length is not None and length > limit:
            self.close()
            raise too_long(self._method, self._url, limit, length)
        if length is not None:  # announced and within the limit: read it in one go
            try:
                body: bytes = self._answer.read()
            except BaseException as exc:
                self.close()
                raise sync_failure(exc, self._method, self._url, self._proxy) from None
            self._release()
            return body
        pieces = []
        size = 0
        while piece := self.read_some():
            size += len(piece)
            if limit is not None and size > limit:
                self.close()
                raise too_long(self._method, self._url, limit)
            pieces.append(piece)
        return b"".join(pieces)

    def read_some(self) -> bytes:
        """The next body bytes as they arrive; ``b""`` at the end (the connection released)."""
        answer = self._answer
        try:
            piece: bytes = answer.read1(READ_SIZE)
        except BaseException as exc:
            self.close()
            raise sync_failure(exc, self._method, self._url, self._proxy) from None
        if not piece:
            self._release()
        return piece

    def _release(self) -> None:
        answer = self._answer
        if answer.connection is not None:
            answer.release_conn()

    def close(self) -> None:
        """Back to the pool if read to its end; closed otherwise (its state is unknown)."""
        answer = self._answer
        if answer.connection is None:
            return
        if answer.isclosed() and not answer.length_remaining:
            answer.release_conn()
            return
        answer.close()  # closes the connection: it never carries another request
        answer.release_conn()  # the pool makes a new one in its place


_default: ssl.SSLContext | None = None


def _default_context() -> ssl.SSLContext:
    # One default context per process: creating one loads the system CA store (milliseconds).
    global _default
    if _default is None:
        _default = ssl.create_default_context()
    return _default


# After fork the child must not share the parent's connections: forget them (closing the
# child's copy of a socket would not disturb the parent, but its TLS state would be shared).
_ALL: weakref.WeakSet[SyncPools] = weakref.WeakSet()


def _forget_connections_in_child() -> None:
    for pools in list(_ALL):
        pools._managers = {}
        pools._pools = {}
        pools._lock = threading.Lock()  # another thread may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections_in_child)
