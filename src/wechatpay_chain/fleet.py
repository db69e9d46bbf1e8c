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

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .catalog.specs import Catalog
from .client import Client
from .errors import ConfigError, TransportError
from .settings import DEFAULT_BASE_URL
from .transport.aio import MAX_ANSWER_BYTES, Timeout
from .transport.factory import DEFAULT_TIMEOUT, check_transport_settings, new_transport
from .trust.crypto import seal

if TYPE_CHECKING:
    from .trust.crypto import KeySource

__all__ = ["Merchants"]


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
