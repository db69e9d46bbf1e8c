"""The blocking transport: sync calls on plain sockets, kept alive in a small pool.

A sync call needs no event loop: it sends its bytes and waits for the answer on the
calling thread, as ``requests`` does. Running it on an event loop instead (ours or
aiohttp's) cost about 200 us of CPU per call more, most of a signed call's budget
above its RSA floor (issue #7). The async API keeps aiohttp; downloads, which stream,
keep it for sync callers too.

Errors say whether the request may have reached the platform (``sent``), as the
aiohttp transport's do: only a connection that was never made proves it did not.
"""

from __future__ import annotations

import builtins
import concurrent.futures
import contextlib
import ipaddress
import os
import select
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from multidict import CIMultiDictProxy

from . import http1
from .errors import TimeoutError, TransportError

__all__ = ["BlockingAnswer", "BlockingPool"]

KEEP_IDLE = 15.0  # seconds an idle connection is kept (aiohttp's keepalive_timeout)
MAX_IDLE_PER_HOST = 32
READ_SIZE = 256 * 1024


class _Origin(NamedTuple):
    scheme: str
    host: str
    port: int
    context: ssl.SSLContext | None  # None for http://

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


class _Connection:
    __slots__ = ("idle_since", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.idle_since = 0.0

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def dropped(self) -> bool:
        """An idle connection the server closed (or wrote to out of turn) is unusable."""
        sock = self.sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():
            return True
        try:
            if _poll is not None:
                poller = _poll()
                poller.register(sock, select.POLLIN)
                return bool(poller.poll(0))
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable)
        except (OSError, ValueError):
            return True


_poll = getattr(select, "poll", None)  # select.select refuses file descriptors above 1023


class BlockingPool:
    """Keep-alive connections per origin, shared by the threads of one client."""

    def __init__(self, *, user_agent: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.user_agent = user_agent
        self.ssl_context = ssl_context
        self._idle: dict[_Origin, list[_Connection]] = {}
        self._lock = threading.Lock()
        self._origins: dict[tuple[str, ssl.SSLContext | None], _Origin] = {}
        self.closed = False
        _POOLS.add(self)

    def send(
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
    ) -> tuple[int, http1.AnswerReader]:
        """One request and its whole answer; ``deadline`` is a ``time.monotonic()`` bound."""
        answer = self.open(
            method, url, headers, body, connect=connect, read=read, deadline=deadline, ssl_context=ssl_context
        )
        answer.read_to_end()
        return answer.reader.status, answer.reader

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
        stream: bool = False,
    ) -> BlockingAnswer:
        """Send one request and read its head; the body is read through the answer."""
        origin, target = self._split(url, ssl_context)
        try:
            data = http1.request_bytes(method, target, origin.host_header, headers, body, user_agent=self.user_agent)
        except ValueError as exc:
            raise TransportError(f"{_where(method, url)}: {exc}", sent=False) from None
        connection = self._checkout(origin)
        if connection is None:
            connection = self._connect(origin, connect, deadline, _where(method, url))
        answer = BlockingAnswer(self, origin, connection, http1.AnswerReader(method, stream=stream), read, deadline)
        answer.start(data, method, url)
        return answer

    def close(self) -> None:
        with self._lock:
            self.closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    def idle_connections(self) -> int:
        with self._lock:
            return sum(len(connections) for connections in self._idle.values())

    # -- parts ---------------------------------------------------------------------------
    def _split(self, url: str, ssl_context: ssl.SSLContext | None) -> tuple[_Origin, str]:
        # Calls go to one or two bases: remember each (scheme, authority) once.
        scheme_end = url.find("://")
        path_start = url.find("/", scheme_end + 3) if scheme_end > 0 else -1
        base = url[:path_start] if path_start > 0 else url
        target = url[path_start:] if path_start > 0 else "/"
        key = (base, ssl_context)
        known = self._origins.get(key)
        if known is not None:
            return known, target
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"cannot send to {base!r}: not an http(s) URL", sent=False)
        context = None
        if parts.scheme == "https":
            context = ssl_context or self.ssl_context or _default_context()
        origin = _Origin(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80), context)
        if len(self._origins) < 64:  # a handful of bases in practice; never grow without bound
            self._origins[key] = origin
        return origin, target

    def _checkout(self, origin: _Origin) -> _Connection | None:
        while True:
            with self._lock:
                if self.closed:
                    raise TransportError("the client is closed")
                connections = self._idle.get(origin)
                if not connections:
                    return None
                connection = connections.pop()  # the most recently used: the least likely to be stale
            if time.monotonic() - connection.idle_since < KEEP_IDLE and not connection.dropped():
                return connection
            connection.close()

    def _checkin(self, origin: _Origin, connection: _Connection) -> None:
        now = connection.idle_since = time.monotonic()
        to_close: list[_Connection] = []
        with self._lock:
            connections = self._idle.setdefault(origin, []) if not self.closed else []
            # The oldest sit at the bottom and are never reached by checkout after a burst:
            # close them here once they have been idle too long (the server may have already).
            while connections and now - connections[0].idle_since >= KEEP_IDLE:
                to_close.append(connections.pop(0))
            if not self.closed and len(connections) < MAX_IDLE_PER_HOST:
                connections.append(connection)
            else:
                to_close.append(connection)
        for stale in to_close:
            stale.close()

    def _connect(self, origin: _Origin, connect: float | None, deadline: float | None, where: str) -> _Connection:
        """A new connection within ``connect`` seconds and the call's deadline, DNS included."""
        until = time.monotonic() + connect if connect is not None else None
        if deadline is not None:
            until = deadline if until is None else min(until, deadline)
        sock: socket.socket | None = None
        try:
            sock = _open_socket(origin.host, origin.port, until)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.context is not None:
                sock.settimeout(_until(until))
                sock = origin.context.wrap_socket(sock, server_hostname=origin.host)
        except builtins.TimeoutError:  # socket.timeout is this exception
            _close(sock)
            raise TimeoutError(f"{where}: timed out connecting", sent=False) from None
        except (OSError, ValueError) as exc:  # ssl.SSLError (a refused certificate) is an OSError
            _close(sock)
            raise TransportError(f"{where}: cannot connect ({exc})", sent=False) from None
        except BaseException:  # Ctrl-C while connecting: do not leave the socket to the collector
            _close(sock)
            raise
        return _Connection(sock)


def _open_socket(host: str, port: int, until: float | None) -> socket.socket:
    """Try each address of ``host`` in turn, all within ``until`` (DNS too), like
    ``socket.create_connection`` but with one deadline instead of one timeout per address."""
    addresses = _resolve(host, port, until)
    error: OSError | None = None
    for family, kind, proto, _, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(_until(until))
            sock.connect(address)
            return sock
        except builtins.TimeoutError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            error = exc
        except BaseException:
            sock.close()
            raise
    raise error or OSError(f"no address for {host}")


AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]
_resolver: concurrent.futures.ThreadPoolExecutor | None = None
_resolver_lock = threading.Lock()


def _resolve(host: str, port: int, until: float | None) -> Sequence[AddressInfo]:
    """``getaddrinfo`` bounded by ``until``: it cannot be interrupted, so a slow lookup runs on
    a helper thread and the call stops waiting for it (an IP address needs no lookup)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    global _resolver
    with _resolver_lock:
        if _resolver is None:
            _resolver = concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="wechatpay-chain-dns")
        resolver = _resolver
    lookup = resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        return lookup.result(_until(until))
    except concurrent.futures.TimeoutError:
        raise builtins.TimeoutError(f"resolving {host} took too long") from None


def _close(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


def _until(until: float | None) -> float | None:
    """Seconds left before ``until`` (a ``time.monotonic()`` value); none left is a timeout."""
    if until is None:
        return None
    left = until - time.monotonic()
    if left <= 0:
        raise builtins.TimeoutError("the time to connect has passed")
    return left


class BlockingAnswer:
    """An answer being read from its connection, which goes back to the pool once the
    answer has been read to its end (or is closed with the answer otherwise)."""

    __slots__ = ("_connection", "_deadline", "_origin", "_pool", "_read", "_where", "reader")

    def __init__(
        self,
        pool: BlockingPool,
        origin: _Origin,
        connection: _Connection,
        reader: http1.AnswerReader,
        read: float | None,
        deadline: float | None,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._connection: _Connection | None = connection
        self.reader = reader
        self._read = read
        self._deadline = deadline
        self._where = ("", "")

    @property
    def status(self) -> int:
        return self.reader.status

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self.reader.headers

    @property
    def content_length(self) -> int | None:
        value = self.reader.headers.get("Content-Length")
        return int(value) if value is not None and value.isdigit() else None

    def start(self, data: bytes, method: str, url: str) -> None:
        """Send the request, then read until the head has come."""
        self._where = (method, url)
        connection = self._connection
        assert connection is not None
        try:
            connection.sock.settimeout(_remaining(self._read, self._deadline))
            connection.sock.sendall(data)
        except BaseException as exc:
            raise self._failed(exc) from None
        while not self.reader.head_done:
            self._receive()

    def read_to_end(self) -> bytes:
        """The rest of the body (without stream mode, the whole body is ``reader.body``)."""
        pieces = [self.reader.take()]  # what came with the head (often all of a small answer)
        while not self.reader.done:
            self._receive()
            pieces.append(self.reader.take())
        self.close()
        return b"".join(pieces)

    def read_some(self) -> bytes:
        """Stream mode: the next body bytes as they arrive; ``b""`` at the end."""
        reader = self.reader
        while True:
            piece = reader.take()
            if piece:
                return piece
            if reader.done:
                self.close()
                return b""
            self._receive()

    def close(self) -> None:
        """Back to the pool when the answer was read to its end on a kept-alive connection."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self.reader.done and self.reader.keep_alive:
            self._pool._checkin(self._origin, connection)
        else:
            connection.close()

    def _receive(self) -> None:
        connection = self._connection
        if connection is None:
            raise TransportError(f"{_where(*self._where)}: the answer was closed", sent=True)
        try:
            connection.sock.settimeout(_remaining(self._read, self._deadline))
            chunk = connection.sock.recv(READ_SIZE)
            if chunk:
                self.reader.feed(chunk)
            else:
                self.reader.feed_eof()
        except BaseException as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: BaseException) -> BaseException:
        """Close the connection (its state is unknown) and say what happened: the request
        was sent, or may have been, so every error here has ``sent=True``."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()
        where = _where(*self._where)
        if isinstance(exc, builtins.TimeoutError):  # socket.timeout is this exception
            return TimeoutError(f"{where}: timed out", sent=True)
        if isinstance(exc, http1.ProtocolError):
            return TransportError(f"{where}: ProtocolError: {exc}", sent=True)
        if isinstance(exc, OSError | ValueError):
            return TransportError(f"{where}: {type(exc).__name__}: {exc}", sent=True)
        return exc  # interrupted mid-exchange (Ctrl-C): raised as it is, the connection closed


def _where(method: str, url: str) -> str:
    """The call in error messages, without its query (which may carry personal data)."""
    return f"{method} {url.split('?', 1)[0]}"


def _remaining(limit: float | None, deadline: float | None) -> float | None:
    """The socket timeout for the next step: its own limit, within what is left of the call."""
    if deadline is None:
        return limit
    left = deadline - time.monotonic()
    if left <= 0:
        raise builtins.TimeoutError("the call's total timeout has passed")
    return left if limit is None else min(limit, left)


_default: ssl.SSLContext | None = None


def _default_context() -> ssl.SSLContext:
    # One default context per process: creating one loads the system CA store (milliseconds).
    global _default
    if _default is None:
        _default = ssl.create_default_context()
    return _default


# After fork the child must not share the parent's connections: forget them (closing the
# child's copy of a socket would not disturb the parent, but its TLS state would be shared).
_POOLS: weakref.WeakSet[BlockingPool] = weakref.WeakSet()


def _forget_connections_in_child() -> None:
    global _resolver
    for pool in list(_POOLS):
        pool._idle = {}
        pool._lock = threading.Lock()  # another thread may have held it at the fork
    _resolver = None  # its threads did not survive the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections_in_child)
