"""Many merchants in one process: one catalogue and one transport for all their clients.

A service provider or platform serves hundreds of merchant numbers from one process::

    fleet = Merchants(base_url=..., timeout=..., proxy=...)
    shop = fleet.client("1900000109", serial=..., private_key=..., certs={...}, apiv3_key=...,
                        defaults={"appid": "wx...", "notify_url": "https://..."})
    shop.v3.pay.transactions.jsapi.post(json={...})
    ...
    fleet.close()  # closes the shared pools; closing one merchant's client leaves them open

``fleet.client(...)`` returns a normal :class:`~wechatpay_chain.Client` that shares the
fleet's :class:`~wechatpay_chain.catalog.specs.Catalog` (each spec read and compiled once per
process, thread-safe) and :class:`~wechatpay_chain.transport.aio.Transport` (one keep-alive
pool per host for every merchant; one aiohttp session per event loop). Everything that
belongs to a merchant stays in its client: keys, trust ring, clock offset, retry policy,
body defaults and the v2 settings. A v2 client certificate is an ``ssl.SSLContext`` per
client, and both transports key their connections by TLS context, so a connection that
presented one merchant's certificate is never handed to another merchant.

``Client(catalog=..., transport=...)`` is the same thing without the fleet object.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .catalog.specs import Catalog
from .client import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, Client, check_transport_settings, new_transport
from .errors import ConfigError, TransportError
from .transport.aio import MAX_ANSWER_BYTES, RawAnswer, StreamedAnswer, Timeout, Transport
from .trust.crypto import seal

if TYPE_CHECKING:
    import aiohttp

    from .trust.crypto import KeySource, Secret

__all__ = ["Merchants", "SharedTransport", "share_transport"]

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


class Merchants:
    """A fleet of merchant clients sharing one catalogue and one transport.

    The keywords are the transport's and the catalogue's (the ones a fleet shares);
    ``**client_options`` are defaults for every ``client(...)`` (``retry``, ``validate``,
    ``auto_refresh_certs``...), each overridable per merchant.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        proxy: str | None = None,
        trust_env: bool = False,
        cafile: str | Path | None = None,
        specs: Sequence[str | Path] | None = None,
        max_answer_bytes: int | None = MAX_ANSWER_BYTES,
        limit: int = 100,
        catalog: Catalog | None = None,
        **client_options: Any,
    ) -> None:
        if "transport" in client_options:
            raise ConfigError("transport", "a fleet makes its own: pass its settings to Merchants(...)")
        if catalog is not None and specs is not None:
            raise ConfigError("specs", "give specs= or catalog=, not both")
        sealed_proxy = seal(proxy)  # its password, if any, stays out of this frame's locals
        proxy = None
        check_transport_settings(sealed_proxy, max_answer_bytes)
        if not isinstance(limit, int) or limit < 1:
            raise ConfigError("limit", "must be a whole number of connections > 0")
        self.base_url = base_url or DEFAULT_BASE_URL
        self.cafile = str(cafile) if cafile is not None else None
        self.catalog = catalog if catalog is not None else Catalog(specs)
        self.transport = new_transport(timeout, self.cafile, sealed_proxy, trust_env, max_answer_bytes, limit)
        self.client_options = client_options

    def client(
        self,
        mchid: str,
        serial: str | None = None,
        private_key: KeySource | None = None,
        certs: Mapping[str, KeySource] | None = None,
        apiv3_key: str | bytes | None = None,
        **options: Any,
    ) -> Client:
        """A client for one merchant, on the fleet's catalogue and transport.

        ``options`` are any other ``Client`` keywords (``defaults=``, ``secret=``,
        ``client_cert=``...), over the fleet's ``client_options``.
        """
        if self.transport.closed:
            raise TransportError("the fleet is closed", sent=False)
        for shared in ("catalog", "transport"):
            if shared in options:
                raise ConfigError(shared, "a fleet client uses the fleet's: make a Merchants(...) for another")
        settings: dict[str, Any] = {**self.client_options, **options}
        return Client(
            mchid,
            serial,
            private_key,
            certs,
            apiv3_key,
            base_url=settings.pop("base_url", self.base_url),
            cafile=settings.pop("cafile", self.cafile),
            catalog=self.catalog,
            transport=self.transport,
            **settings,
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close the shared pools: every client of the fleet is closed with them."""
        self.transport.close()

    async def aclose(self) -> None:
        await self.transport.aclose()
        self.transport.close()

    def __enter__(self) -> Merchants:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Merchants:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<wechatpay_chain.Merchants {self.base_url} {self.transport!r}>"
