"""``Client``: the façade. Argument checks, the chain root, helpers built on first use, lifecycle.

Every call goes to the client's engine (engine.py), which owns the merchant's settings,
trust ring, clock, transport and signing pool; the helpers (``client.notifications``,
``client.paysign``, ``client.certificates``, downloads) are built on that engine, never
on the client.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from cryptography.hazmat.primitives.asymmetric import rsa

from .arguments import apiv3_keys_from, check_base_url, coerce_retry, load_certs, merchant_key_of
from .catalog.specs import Catalog
from .chain import Node
from .clock import PlatformClock
from .config import client_keywords, client_kwargs_from_env, client_kwargs_from_file
from .defaults import client_defaults
from .engine import Engine
from .errors import ConfigError
from .kept import Kept
from .merchant_key import Signer, merchant_key_from
from .naming import Segment
from .response import Response
from .retry import Attempt, Retry
from .settings import DEFAULT_BASE_URL, Settings, backup_hosts
from .signing_pool import SigningPool, default_signing_threads
from .transport.aio import MAX_ANSWER_BYTES, Timeout, Transport
from .transport.factory import DEFAULT_TIMEOUT, check_transport_settings, new_transport
from .transport.shared import SharedTransport, share_transport
from .trust.crypto import APIv3Keys, load_public_key, oaep_decrypt, oaep_encrypt, seal
from .trust.keyring import KeyRing
from .trust.stores import open_key_store
from .v2.settings import V2Settings

if TYPE_CHECKING:
    # The typed chain, generated from the specs (stubs only): Client's base for type checkers.
    from ._typing import ChainRoot as _Root
    from .notifications import Notifications
    from .trust.crypto import KeySource, Secret
    from .trust.refresh import Certificates
    from .trust.store import KeyStore
    from .v3.downloads import Download
    from .v3.paysign import PaySign
else:
    _Root = Node  # the chain's root node; type checkers see its typed form (above)

__all__ = ["DEFAULT_BASE_URL", "Client"]

T = TypeVar("T")
DEFAULT_RETRY = Retry()


def _certificates_of(engine: Engine) -> Certificates:
    """The engine's key keeper, built on first need (trust/refresh.py loads the X.509 code)."""
    from .trust.refresh import Certificates

    return Certificates(engine)


class Client(_Root):
    """A WeChat Pay client. The client itself is the root of the chain.

    ``Client(mchid=..., serial=..., private_key=..., certs={...})`` for APIv3:
    ``serial`` is the merchant API certificate serial, ``private_key`` the
    merchant key (PEM text, path, ``file://`` URL or key object), ``certs`` maps
    each trusted platform certificate serial or ``PUB_KEY_ID_...`` to its
    certificate or public key. Every answer is verified against ``certs``.
    ``signer=`` instead of ``private_key=``: a key kept in a KMS or HSM (merchant_key.Signer).
    ``key_store`` (a store, a ``redis://`` URL or a folder: trust/stores.py) shares the
    platform keys with a fleet's other processes (trust/refresh.py).
    """

    __slots__ = ("__weakref__", "_bindings", "_engine")

    # Where each setting lives (settings.py, engine.py, clock.py); read and set like attributes.
    mchid: Kept[str] = Kept("settings")
    apiv3_key: Kept[Secret | None] = Kept("settings")  # the first of apiv3_keys, wrapped: .reveal()
    apiv3_keys: Kept[APIv3Keys | None] = Kept("settings")  # tried in order when opening
    defaults: Kept[Mapping[str, str]] = Kept("settings")
    base_url: Kept[str] = Kept("settings")
    cafile: Kept[str | None] = Kept("settings")
    validate: Kept[bool] = Kept("settings")
    validate_responses: Kept[bool] = Kept("settings")
    strict: Kept[bool] = Kept("settings")
    catalog: Kept[Catalog] = Kept("settings")
    bank_public_key: Kept[rsa.RSAPublicKey | None] = Kept("settings")
    v2_settings: Kept[V2Settings] = Kept("settings", "v2")
    transport: Kept[Transport | SharedTransport] = Kept("engine")
    signing_pool: Kept[SigningPool] = Kept("engine")
    retry: Kept[Retry] = Kept("engine")
    on_attempt: Kept[Callable[[Attempt], None] | None] = Kept("engine")
    trusted_keys: Kept[KeyRing] = Kept("engine")  # setting it swaps the encryption key too
    auto_refresh_certs: Kept[bool] = Kept("engine", "auto_refresh")
    key_store: Kept[KeyStore | None] = Kept("engine")  # None: the client keeps its keys itself
    clock_offset: Kept[float] = Kept("clock", "offset")
    correct_clock: Kept[bool] = Kept("clock", "correct")
    wall_clock: Kept[Callable[[], float]] = Kept("clock", "wall")

    def __init__(
        self,
        mchid: str,
        serial: str | None = None,
        private_key: KeySource | None = None,
        certs: Mapping[str, KeySource] | None = None,
        apiv3_key: str | bytes | None = None,
        *,
        signer: Signer | None = None,
        apiv3_keys: Sequence[str | bytes] | None = None,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float | Timeout | None = DEFAULT_TIMEOUT,
        validate: bool = True,
        validate_responses: bool = False,
        strict: bool = False,
        specs: Sequence[str | Path] | None = None,
        clock: Callable[[], float] = time.time,
        secret: str | None = None,
        client_cert: str | bytes | Path | None = None,
        client_key: str | bytes | Path | None = None,
        auto_refresh_certs: bool = False,
        retry: Retry | int | None = DEFAULT_RETRY,
        backup_urls: Sequence[str] | None = None,
        on_attempt: Callable[[Attempt], None] | None = None,
        correct_clock: bool = False,
        cafile: str | Path | None = None,
        signing_threads: int | None = None,
        bank_public_key: KeySource | None = None,
        proxy: str | None = None,
        trust_env: bool = False,
        max_answer_bytes: int | None = MAX_ANSWER_BYTES,
        allow_insecure_http: bool = False,
        defaults: Mapping[str, str] | None = None,
        catalog: Catalog | None = None,
        transport: Transport | None = None,
        key_store: KeyStore | str | None = None,
    ) -> None:
        # Key material is held wrapped from the first line on (crypto.Secret): this frame
        # raises ConfigError, and error trackers record the repr of every local.
        sealed_key, sealed_signer, sealed_apiv3, sealed_apiv3_keys, sealed_secret, sealed_client_key = (
            seal(private_key),
            seal(signer),  # a key passed here by mistake is key material too
            seal(apiv3_key),
            seal(apiv3_keys),
            seal(secret),
            seal(client_key),
        )
        private_key = signer = apiv3_key = apiv3_keys = secret = client_key = None
        sealed_proxy = seal(proxy)  # its password, if any, is a secret too
        proxy = None
        # A redis:// URL may carry a password: held wrapped like the proxy (a store object is not).
        sealed_store = seal(key_store) if isinstance(key_store, str) else key_store
        key_store = None
        super().__init__(self, ())
        self._bindings: dict[str, Any] = {}
        if not isinstance(mchid, str) or not mchid:
            raise ConfigError("mchid", "must be the merchant id as a non-empty string")
        merchant_key = merchant_key_of(serial, sealed_key, sealed_signer)
        sealed_apiv3_keys = apiv3_keys_from(sealed_apiv3, sealed_apiv3_keys)
        check_base_url(base_url, "base_url", allow_insecure_http)
        for url in backup_urls or ():
            check_base_url(url, "backup_urls", allow_insecure_http)
        if signing_threads is None:
            signing_threads = default_signing_threads()
        if not isinstance(signing_threads, int) or isinstance(signing_threads, bool) or signing_threads < 0:
            raise ConfigError("signing_threads", "must be a whole number >= 0 (0: sign on the event loop)")
        if catalog is not None and specs is not None:
            raise ConfigError("specs", "give specs= or catalog=, not both")
        check_transport_settings(sealed_proxy, max_answer_bytes)
        settings = Settings(
            mchid=mchid,
            # A catalogue shared by many clients (fleet.py) is read and compiled once per process.
            catalog=catalog if catalog is not None else Catalog(specs),
            merchant_key=merchant_key,
            apiv3_keys=sealed_apiv3_keys,
            # APIv2 settings are independent of v3: a v2-only merchant passes only these.
            v2=V2Settings.load(secret=sealed_secret, client_cert=client_cert, client_key=sealed_client_key),
            bank_public_key=load_public_key(bank_public_key, "bank_public_key")
            if bank_public_key is not None
            else None,
            # Fields written into every payload whose spec has them (defaults.py): appid, notify_url...
            defaults=client_defaults(mchid, defaults),
            base_url=base_url.rstrip("/"),
            backup_urls=None if backup_urls is None else [url.rstrip("/") for url in backup_urls],
            # cafile: trust another CA (a TLS-terminating proxy, a test server) besides the system's.
            cafile=str(cafile) if cafile is not None else None,
            validate=validate,
            validate_responses=validate_responses,
            strict=strict,
        )
        own_transport: Transport | SharedTransport
        if transport is not None:  # shared with other clients (fleet.py): its settings are its own
            own_transport = share_transport(
                transport, timeout is not DEFAULT_TIMEOUT, sealed_proxy, trust_env, max_answer_bytes
            )
        else:
            own_transport = new_transport(timeout, settings.cafile, sealed_proxy, trust_env, max_answer_bytes)
        self._engine = Engine(
            settings,
            transport=own_transport,
            # RSA signing releases the GIL: when async calls overlap they sign on these threads
            # (made on first need) while the event loop goes on; a lone call signs inline.
            signing_pool=SigningPool(signing_threads),
            clock=PlatformClock(clock, correct_clock),
            trusted_keys=load_certs(certs),
            retry=coerce_retry(retry),
            on_attempt=on_attempt,
            auto_refresh=auto_refresh_certs,
            # Platform keys shared with other processes (trust/stores.py): a store, a URL, a folder.
            key_store=open_key_store(sealed_store) if sealed_store is not None else None,
        )
        self._engine.keeper_factory = _certificates_of

    @classmethod
    def from_env(cls, prefix: str = "WECHATPAY_", **overrides: Any) -> Client:
        """A client from ``<prefix><KEYWORD>`` variables, one per keyword (``WECHATPAY_MCHID``,
        ``WECHATPAY_TIMEOUT`` ...; see config.py); ``overrides`` win. Unknown variables are errors."""
        known = client_keywords(cls.__init__)
        return cls(**{**client_kwargs_from_env(known, prefix, need_mchid="mchid" not in overrides), **overrides})

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> Client:
        """A client from a TOML or JSON config file (the CLI's ``--config``): every keyword is a key,
        an unknown key is an error; ``overrides`` win."""
        known = client_keywords(cls.__init__)
        return cls(**{**client_kwargs_from_file(known, path, need_mchid="mchid" not in overrides), **overrides})

    @property
    def serial(self) -> str | None:
        """The merchant certificate serial requests are signed under (see :meth:`rotate_merchant_key`)."""
        return self._engine.settings.serial

    @property
    def signer(self) -> Signer | None:
        """What signs requests: the ``signer=`` given, or a ``LocalSigner`` of ``private_key``."""
        return self._engine.settings.signer

    @property
    def private_key(self) -> rsa.RSAPrivateKey | None:
        """The merchant private key when held here (``None`` with a remote ``signer=``)."""
        return self._engine.settings.private_key

    def rotate_merchant_key(self, serial: str, key: KeySource | Signer) -> None:
        """Sign from now on with ``key`` (a private key as ``private_key=`` takes, or a signer)
        under the new certificate ``serial``.

        Serial and key change in one assignment: a call signing meanwhile uses the old pair or
        the new one, never one's serial with the other's key; calls already signed go out as
        they are. The platform accepts both certificates while the new one is being switched
        to. A bad key raises ``ConfigError`` and leaves the old pair in place.
        """
        sealed = seal(key)
        del key  # held wrapped only (error trackers record locals)
        self._engine.settings.merchant_key = merchant_key_from(serial, sealed, "key")

    @property
    def clock(self) -> Callable[[], float]:
        """The clock requests are timestamped with: the wall clock plus what the platform taught it."""
        return self._engine.clock.now

    @property
    def backup_urls(self) -> list[str]:
        """The hosts tried when the primary cannot be reached (v3; v2 has its own default)."""
        settings = self._engine.settings
        return settings.backup_urls if settings.backup_urls is not None else backup_hosts(settings.base_url, False)

    # -- helpers bound to this client's engine -------------------------------------------------
    def _binding(self, name: str, factory: Callable[[Engine], T]) -> T:
        binding = self._bindings.get(name)
        if binding is None:
            binding = self._bindings[name] = factory(self._engine)
        return binding

    @property
    def notifications(self) -> Notifications:
        """Parse webhook notifications (v3 and v2) and build acknowledgements."""
        from .notifications import Notifications

        return self._binding("notifications", Notifications)

    @property
    def paysign(self) -> PaySign:
        """Signed parameter sets for JSAPI / mini-program and APP front ends."""
        from .v3.paysign import PaySign

        return self._binding("paysign", PaySign)

    @property
    def certificates(self) -> Certificates:
        """Download, verify and refresh platform certificates (``GET v3/certificates``)."""
        return cast("Certificates", self._engine.keeper)

    def __repr__(self) -> str:
        # A client whose __init__ raised (in a traceback) has no engine yet.
        engine = getattr(self, "_engine", None)
        if engine is None:
            return "<wechatpay_chain.Client (not configured)>"
        settings = engine.settings
        merchant = settings.merchant_key
        mode = "no v3 key" if merchant is None else "v3" if merchant.local else "v3 remote signer"
        return (
            f"<wechatpay_chain.Client mchid={settings.mchid!r} {mode} trusted={sorted(engine.trusted_keys)} "
            f"{settings.base_url} signing_threads={engine.signing_pool.threads}>"
        )

    # -- the chain root ---------------------------------------------------------------
    def chain(self, path: str) -> Node:
        return self._extend(path)

    # -- manual crypto ------------------------------------------------------------------
    def encrypt(self, text: str) -> str:
        """RSA-OAEP encrypt ``text`` for the platform (the serial is :attr:`encryption_serial`)."""
        encryption = self._engine.encryption
        if encryption is None:
            raise ConfigError("certs", "no platform public key or certificate configured")
        return oaep_encrypt(encryption[1], text)

    @property
    def encryption_serial(self) -> str | None:
        encryption = self._engine.encryption
        return None if encryption is None else encryption[0]

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a field the platform encrypted with the merchant public key (needs the private
        key itself: with a remote ``signer=`` it raises ``ConfigError``)."""
        return oaep_decrypt(self._engine.merchant_private_key("decrypt"), ciphertext)

    # -- calls --------------------------------------------------------------------------
    def request(self, method: str, segments: tuple[Segment, ...] | str, **kwargs: Any) -> Response:
        """Call synchronously, on blocking sockets (``Transport.run_blocking``). Verbs call this."""
        return self._engine.transport.run_blocking(
            self._engine.call(method.upper(), self._segments_of(segments), kwargs)
        )

    async def request_async(self, method: str, segments: tuple[Segment, ...] | str, **kwargs: Any) -> Response:
        """Call from the running event loop. ``*_async`` verbs call this."""
        return await self._engine.call(method.upper(), self._segments_of(segments), kwargs)

    def _segments_of(self, segments: tuple[Segment, ...] | str) -> tuple[Segment, ...]:
        if isinstance(segments, str):
            return self._extend(segments)._segments if segments else ()
        return segments

    def v2_redirect_url(self, path: str | Node, params: Mapping[str, Any], *, validate: bool | None = None) -> str:
        """The signed URL of a v2 page the user's browser opens (spec ``redirect``); nothing is sent."""
        from .v2.flow import v2_redirect_url

        return v2_redirect_url(self._engine.settings, path, params, validate=validate)

    # -- downloads (see v3/downloads.py) -------------------------------------------------------
    async def download_async(self, url: str, to: str | os.PathLike[str], **checks: Any) -> Download:
        """Stream ``url`` (a download_url or path?query) to the file ``to``, checked before it appears."""
        from .v3.downloads import download_to_async

        return await download_to_async(self._engine, url, to, **checks)

    def download(self, url: str, to: str | os.PathLike[str], **checks: Any) -> Download:
        return self._engine.transport.run_blocking(self.download_async(url, to, **checks))

    async def download_bill_async(
        self, answer: Response | Mapping[str, Any], to: str | os.PathLike[str], **options: Any
    ) -> Download:
        """Download the bill a tradebill/fundflowbill answer points to, checking its hash_value."""
        from .v3.downloads import download_bill_async

        return await download_bill_async(self._engine, answer, to, **options)

    def download_bill(
        self, answer: Response | Mapping[str, Any], to: str | os.PathLike[str], **options: Any
    ) -> Download:
        return self._engine.transport.run_blocking(self.download_bill_async(answer, to, **options))

    def aiter_download(self, url: str, **checks: Any) -> AsyncIterator[bytes]:
        """The chunks of a download as they arrive (checks raise at the end)."""
        from .v3.downloads import iter_download_async

        return iter_download_async(self._engine, url, **checks)

    def iter_download(self, url: str, **checks: Any) -> Iterator[bytes]:
        return self._engine.transport.iterate_blocking(self.aiter_download(url, **checks))

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        self._engine.transport.close()
        self._engine.signing_pool.close()

    async def aclose(self) -> None:
        await self._engine.transport.aclose()
        await asyncio.get_running_loop().run_in_executor(None, self.close)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
