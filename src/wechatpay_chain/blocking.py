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
import contextlib
import os
import select
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from . import http1
from .errors import TimeoutError, TransportError

__all__ = ["BlockingPool"]

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
        origin, target = self._split(url, ssl_context)
        all_headers = {"User-Agent": self.user_agent, **headers} if "User-Agent" not in headers else headers
        try:
            data = http1.request_bytes(method, target, origin.host_header, all_headers, body)
        except ValueError as exc:
            raise TransportError(f"{_where(method, url)}: {exc}", sent=False) from None
        connection = self._checkout(origin)
        if connection is None:
            connection = self._connect(origin, connect, deadline, _where(method, url))
        reader = http1.AnswerReader(method)
        sock = connection.sock
        try:
            sock.settimeout(_remaining(read, deadline))
            sock.sendall(data)
            while True:
                sock.settimeout(_remaining(read, deadline))
                chunk = sock.recv(READ_SIZE)
                if not chunk:
                    reader.feed_eof()
                    break
                if reader.feed(chunk):
                    break
        except builtins.TimeoutError:  # socket.timeout is this exception
            connection.close()
            raise TimeoutError(f"{_where(method, url)}: timed out", sent=True) from None
        except http1.ProtocolError as exc:
            connection.close()
            raise TransportError(f"{_where(method, url)}: ProtocolError: {exc}", sent=True) from None
        except (OSError, ValueError) as exc:
            connection.close()
            raise TransportError(f"{_where(method, url)}: {type(exc).__name__}: {exc}", sent=True) from None
        except BaseException:
            connection.close()  # interrupted mid-exchange (Ctrl-C): the connection's state is unknown
            raise
        if reader.keep_alive:
            self._checkin(origin, connection)
        else:
            connection.close()
        return reader.status, reader

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
        now = time.monotonic()
        while True:
            with self._lock:
                if self.closed:
                    raise TransportError("the client is closed")
                connections = self._idle.get(origin)
                if not connections:
                    return None
                connection = connections.pop()  # the most recently used: the least likely to be stale
            if now - connection.idle_since < KEEP_IDLE and not connection.dropped():
                return connection
            connection.close()

    def _checkin(self, origin: _Origin, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        with self._lock:
            if not self.closed:
                connections = self._idle.setdefault(origin, [])
                if len(connections) < MAX_IDLE_PER_HOST:
                    connections.append(connection)
                    return
        connection.close()

    def _connect(self, origin: _Origin, connect: float | None, deadline: float | None, where: str) -> _Connection:
        try:
            sock = socket.create_connection((origin.host, origin.port), timeout=_remaining(connect, deadline))
        except builtins.TimeoutError:  # socket.timeout is this exception
            raise TimeoutError(f"{where}: timed out connecting", sent=False) from None
        except OSError as exc:
            raise TransportError(f"{where}: cannot connect ({exc})", sent=False) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if origin.context is not None:
                sock.settimeout(_remaining(connect, deadline))
                sock = origin.context.wrap_socket(sock, server_hostname=origin.host)
        except builtins.TimeoutError:  # socket.timeout is this exception
            sock.close()
            raise TimeoutError(f"{where}: timed out connecting", sent=False) from None
        except (OSError, ValueError) as exc:  # ssl.SSLError (a refused certificate) is an OSError
            sock.close()
            raise TransportError(f"{where}: cannot connect ({exc})", sent=False) from None
        return _Connection(sock)


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
    for pool in list(_POOLS):
        pool._idle = {}


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_connections_in_child)
