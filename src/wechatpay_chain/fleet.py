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

``Merchants(key_store=...)`` (a store, a ``redis://`` URL or a folder; ``read-only:`` in
front for webhook workers) opens the store once and gives it to every client: their
platform keys are refreshed under the store's lease and adopted from it
(trust/refresh.py). ``fleet.notifications`` is one webhook endpoint for every merchant: it
routes a notification by its ``Wechatpay-Serial`` (the store's key-id index, then the
clients' own rings) to that merchant's client, which verifies and decrypts it with its
keys and APIv3 key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .catalog.specs import Catalog
from .client import Client
from .errors import ConfigError, SignatureError, TransportError, WeChatPayError
from .settings import DEFAULT_BASE_URL
from .transport.aio import MAX_ANSWER_BYTES, Timeout
from .transport.driver import drive, offload
from .transport.factory import DEFAULT_TIMEOUT, check_transport_settings, new_transport
from .trust.crypto import seal
from .trust.stores import open_key_store
from .v3.notifications import Acknowledgement, Notification, ack
from .v3.protocol import find_header

if TYPE_CHECKING:
    from .seen_events import FirstTime
    from .trust.crypto import KeySource
    from .trust.store import KeyStore

__all__ = ["FleetNotifications", "Merchants"]

log = logging.getLogger("wechatpay_chain")


class Merchants:
    """A fleet of merchant clients sharing one catalogue and one transport.

    The keywords are the transport's and the catalogue's (the ones a fleet shares);
    ``**client_options`` are defaults for every ``client(...)`` (``retry``, ``validate``,
    ``auto_refresh_certs``, ``key_store``...), each overridable per merchant. The fleet keeps
    the last client made for each merchant (``clients``): notifications are routed to it.
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
        if client_options.get("key_store") is not None:  # one store (one Redis pool) for every client
            setting = client_options.pop("key_store")
            sealed = seal(setting) if isinstance(setting, str) else setting  # a redis:// URL may carry a password
            del setting
            client_options["key_store"] = open_key_store(sealed)
        self.client_options = client_options
        self.clients: dict[str, Client] = {}

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
        client = self.clients[mchid] = Client(
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
        return client

    @property
    def key_store(self) -> KeyStore | None:
        """The store every client of the fleet shares (``Merchants(key_store=...)``), if any."""
        store: KeyStore | None = self.client_options.get("key_store")
        return store

    @property
    def notifications(self) -> FleetNotifications:
        """One webhook endpoint for every merchant of the fleet."""
        return FleetNotifications(self)

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
        # getattr: a fleet whose __init__ raised is shown too (error trackers repr every local)
        base_url, transport = getattr(self, "base_url", "(not configured)"), getattr(self, "transport", None)
        return f"<wechatpay_chain.Merchants {base_url} {transport!r}>"


class FleetNotifications:
    """``fleet.notifications``: route a notification to its merchant, verify, decrypt, dedup.

    ::

        event = fleet.notifications.parse(request.headers, raw_body, first_time=seen)
        if event is not None:          # None: a duplicate, acknowledged and not handed over
            handle(event.mchid, event)
            seen.done(event.id)        # EventInProgress raised: answer a failure

    The merchant is the one the store's key-id index names for the ``Wechatpay-Serial``
    (or, for keys configured with ``certs=``, whose client trusts it); that merchant's
    client verifies and decrypts (learning a key its ring lacks from the store, as its
    calls do). A serial no merchant of the fleet has is ``SignatureError`` (check
    ``serial``): answer it with a failure; the platform delivers it again later, by when a
    refreshing node may have saved the key.
    """

    def __init__(self, fleet: Merchants) -> None:
        self._fleet = fleet

    def client_for(self, headers: Mapping[str, str], body: bytes | str | None = None) -> Client:
        """The client of the merchant the notification is for.

        The candidates are the merchants the store's key-id index names for the
        ``Wechatpay-Serial`` and the clients whose own ring trusts it (a platform certificate
        can be every merchant's). With ``body``, each candidate verifies and decrypts it; the
        merchant is the one whose APIv3 key opens the resource and, where the resource names
        merchants (``mchid``, ``sp_mchid``, ``sub_mchid``), one it names: a resource naming
        another merchant is refused, never handed to the wrong one.
        """
        return drive(self._route(headers, body))  # type: ignore[no-any-return]

    async def _route(self, headers: Mapping[str, str], body: bytes | str | None) -> Client:
        """:meth:`client_for`, one coroutine for sync and async (the store's lookup is offloaded
        under a loop, inline in a sync call)."""
        serial = _serial_of(headers)
        owners = await offload(self._stored_owners, serial) if self._fleet.key_store is not None else frozenset()
        candidates = self._candidates(serial, owners)
        if body is None:
            if len(candidates) == 1:
                return candidates[0]
            names = sorted(client.mchid for client in candidates)
            raise SignatureError(
                "serial",
                f"Wechatpay-Serial {serial!r} is a key of several merchants ({names}): "
                "give the body to tell whose APIv3 key opens it",
            )
        return _merchant_of(serial, [(client, await _opened(client, headers, body)) for client in candidates])

    def _stored_owners(self, serial: str) -> frozenset[str]:
        """The merchants the store's key-id index names for ``serial``; a store that fails (Redis
        down) is logged and skipped: the clients' own rings may still verify the notification."""
        store = self._fleet.key_store
        if store is None:
            return frozenset()
        try:
            return store.merchants_for(serial)
        except Exception as error:
            log.warning(
                "the key store could not route Wechatpay-Serial %s (%s: %s); looking in the clients' rings",
                serial,
                type(error).__name__,
                error,
            )
            return frozenset()

    def _candidates(self, serial: str, owners: frozenset[str]) -> list[Client]:
        clients = self._fleet.clients
        found = [clients[mchid] for mchid in sorted(owners) if mchid in clients]
        found += [client for client in clients.values() if serial in client.trusted_keys and client not in found]
        if found:
            return found
        if owners:
            raise SignatureError(
                "serial", f"Wechatpay-Serial {serial!r} is a key of merchants {sorted(owners)}, none with a client here"
            )
        raise SignatureError("serial", f"Wechatpay-Serial {serial!r} is the key of no merchant of this fleet")

    def parse(
        self, headers: Mapping[str, str], body: bytes | str, *, first_time: FirstTime | None = None
    ) -> Notification | None:
        """Route, verify and decrypt; ``event.mchid`` names the merchant. With ``first_time``
        (a dedup store or callable), a handled duplicate gives ``None`` and one being handled
        raises ``EventInProgress``; without, never ``None``."""
        return drive(self._parse(headers, body, first_time))  # type: ignore[no-any-return]

    async def parse_async(
        self, headers: Mapping[str, str], body: bytes | str, *, first_time: FirstTime | None = None
    ) -> Notification | None:
        """:meth:`parse` for a running event loop: the store's routing lookup (a Redis round
        trip) runs on a thread."""
        return await self._parse(headers, body, first_time)

    async def _parse(
        self, headers: Mapping[str, str], body: bytes | str, first_time: FirstTime | None
    ) -> Notification | None:
        notifications = (await self._route(headers, body)).notifications
        if first_time is None:
            return await notifications.parse_async(headers, body)
        return await notifications.parse_async(headers, body, first_time=first_time)

    @staticmethod
    def ack(success: bool = True, message: str | None = None, *, status: int | None = None) -> Acknowledgement:
        """(status, headers, body) to answer a v3 notification: 204 on success, 4xx/5xx FAIL otherwise."""
        return ack(success, message, status=status)


def _serial_of(headers: Mapping[str, str]) -> str:
    serial = find_header(headers, "Wechatpay-Serial")
    if not serial:
        raise SignatureError("headers", "missing Wechatpay-Serial")
    return serial


# The fields by which a resource names its merchants (direct, service provider, sub-merchant).
MERCHANT_FIELDS = ("mchid", "sp_mchid", "sub_mchid", "combine_mchid")


async def _opened(client: Client, headers: Mapping[str, str], body: bytes | str) -> Notification | WeChatPayError:
    """The notification as ``client`` verifies and decrypts it (not claimed), or why it cannot:
    a wrong APIv3 key, none at all, a key it cannot learn."""
    try:
        return await client.notifications.parse_async(headers, body)
    except WeChatPayError as error:
        return error


def _named_merchants(event: Notification) -> set[str]:
    resource = event.resource if isinstance(event.resource, Mapping) else {}
    return {str(resource[name]) for name in MERCHANT_FIELDS if resource.get(name)}


def _merchant_of(serial: str, tried: list[tuple[Client, Notification | WeChatPayError]]) -> Client:
    """Of the candidates, the one that opens the notification and that the resource names."""
    opened = [(client, event) for client, event in tried if isinstance(event, Notification)]
    if not opened:
        first = next(error for _, error in tried if isinstance(error, WeChatPayError))
        raise first
    named = [client for client, event in opened if client.mchid in _named_merchants(event)]
    unnamed = [client for client, event in opened if not _named_merchants(event)]
    if len(named) == 1:
        return named[0]
    if not named and len(unnamed) == 1 and len(opened) == 1:
        return unnamed[0]  # the resource names no merchant: the one key that opens it decides
    names = sorted(client.mchid for client, _ in opened)
    if not named and not unnamed:
        said = sorted(set().union(*(_named_merchants(event) for _, event in opened)))
        raise SignatureError("serial", f"Wechatpay-Serial {serial!r}: the resource names merchants {said}, not {names}")
    raise SignatureError("serial", f"Wechatpay-Serial {serial!r}: several merchants open it ({names})")
