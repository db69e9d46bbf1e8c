"""``Client``: configuration, key material, the chain root, and the call flow."""

from __future__ import annotations

import asyncio
import functools
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric import rsa

from . import __version__
from .catalog.specs import Catalog, Operation
from .chain import Node
from .defaults import client_defaults
from .errors import ConfigError, FieldProblem, TransportError, ValidationError
from .naming import Segment
from .response import Response
from .retry import NO_RETRY, Attempt, Retry, is_idempotent
from .signing_pool import SigningPool, default_signing_threads
from .transport.aio import MAX_ANSWER_BYTES, RawAnswer, Timeout, Transport
from .transport.tls import is_loopback_url, tls_context
from .trust.crypto import key_bytes, load_private_key, load_public_key, oaep_decrypt, oaep_encrypt, reveal, seal
from .trust.keyring import KeyRing
from .v2.settings import V2Settings
from .v3.calls import PreparedCall, prepare_call, sign_call
from .v3.fields import decrypt_aead_fields, decrypt_oaep_fields

if TYPE_CHECKING:
    # The typed chain, generated from the specs (stubs only): Client's base for type checkers.
    from ._typing import ChainRoot as _Root
    from .fleet import SharedTransport
    from .notifications import Notifications
    from .transport.wire_log import WireRequest
    from .trust.crypto import KeySource, Secret
    from .trust.refresh import Certificates
    from .v3.downloads import Download
    from .v3.paysign import PaySign
else:
    _Root = Node  # the chain's root node; type checkers see its typed form (above)

__all__ = ["DEFAULT_BASE_URL", "Client"]

DEFAULT_BASE_URL = "https://api.mch.weixin.qq.com/"
DEFAULT_TIMEOUT = Timeout()
BACKUP_BASE_URL = "https://api2.wechatpay.cn/"
DEFAULT_RETRY = Retry()


def _coerce_retry(value: Retry | int | None) -> Retry:
    if isinstance(value, Retry):
        return value
    if value is None or value is False:
        return NO_RETRY
    if isinstance(value, int) and value >= 1:
        return Retry(attempts=value)
    raise ConfigError("retry", "expected a Retry, a number of attempts (>= 1) or None")


def _user_agent() -> str:
    return (
        f"wechatpay-chain/{__version__} aiohttp/{aiohttp.__version__} "
        f"Python/{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro} ({sys.platform})"
    )


def _is_aes_256_key(sealed: Secret) -> bool:
    value = sealed.reveal()
    return isinstance(value, (str, bytes)) and len(key_bytes(value)) == 32


def _check_base_url(url: object, argument: str, allow_insecure_http: bool) -> None:
    """https://, or http:// to this machine (a mock); http:// elsewhere only when asked for."""
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise ConfigError(argument, "must start with https:// (or http:// for a local mock)")
    if url.startswith("http://") and not allow_insecure_http and not is_loopback_url(url):
        raise ConfigError(
            argument,
            "http:// is allowed to this machine only (a local mock): requests and answers would "
            "cross the network unencrypted; pass allow_insecure_http=True if you really mean it",
        )


def _load_certs(certs: Mapping[str, KeySource] | None) -> KeyRing:
    loaded: dict[str, KeySource] = {}
    for serial, source in (certs or {}).items():
        if not isinstance(serial, str) or not serial:
            raise ConfigError("certs", "keys must be certificate serials or PUB_KEY_ID_... ids")
        loaded[serial] = load_public_key(source, f"certs[{serial!r}]")
    return KeyRing(loaded)


class Client(_Root):
    """A WeChat Pay client. The client itself is the root of the chain.

    ``Client(mchid=..., serial=..., private_key=..., certs={...})`` for APIv3:
    ``serial`` is the merchant API certificate serial, ``private_key`` the
    merchant key (PEM text, path, ``file://`` URL or key object), ``certs`` maps
    each trusted platform certificate serial or ``PUB_KEY_ID_...`` to its
    certificate or public key. Every answer is verified against ``certs``.
    """

    __slots__ = (
        "__weakref__",
        "_bindings",
        "_encryption",
        "_trusted_keys",
        "apiv3_key",
        "auto_refresh_certs",
        "backup_urls",
        "bank_public_key",
        "base_url",
        "cafile",
        "catalog",
        "clock",
        "clock_offset",
        "correct_clock",
        "defaults",
        "mchid",
        "on_attempt",
        "private_key",
        "retry",
        "serial",
        "signer",
        "strict",
        "transport",
        "v2_settings",
        "validate",
        "validate_responses",
        "wall_clock",
    )

    def __init__(
        self,
        mchid: str,
        serial: str | None = None,
        private_key: KeySource | None = None,
        certs: Mapping[str, KeySource] | None = None,
        apiv3_key: str | bytes | None = None,
        *,
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
    ) -> None:
        # Key material is held wrapped from the first line on (crypto.Secret): this frame
        # raises ConfigError, and error trackers record the repr of every local.
        sealed_key, sealed_apiv3, sealed_secret, sealed_client_key = (
            seal(private_key),
            seal(apiv3_key),
            seal(secret),
            seal(client_key),
        )
        private_key = apiv3_key = secret = client_key = None
        sealed_proxy = seal(proxy)  # its password, if any, is a secret too
        proxy = None
        super().__init__(self, ())
        self.wall_clock = clock
        self.clock_offset = 0.0
        self.correct_clock = correct_clock
        self.clock = self._corrected_clock
        if not isinstance(mchid, str) or not mchid:
            raise ConfigError("mchid", "must be the merchant id as a non-empty string")
        self.mchid = mchid
        # Fields written into every payload whose spec has them (defaults.py): appid, notify_url...
        self.defaults = client_defaults(mchid, defaults)
        if (serial is None) != (sealed_key is None):
            raise ConfigError("serial" if serial is None else "private_key", "serial and private_key go together")
        if serial is not None and (not isinstance(serial, str) or not serial):
            raise ConfigError("serial", "must be the merchant certificate serial number")
        self.serial = serial
        self.private_key = load_private_key(sealed_key) if sealed_key is not None else None
        self._bindings: dict[str, Any] = {}
        self.trusted_keys = _load_certs(certs)
        if sealed_apiv3 is not None and not _is_aes_256_key(sealed_apiv3):
            raise ConfigError("apiv3_key", "must be 32 bytes long")
        # The APIv3 key, wrapped: client.apiv3_key.reveal() gives it back.
        self.apiv3_key: Secret | None = sealed_apiv3
        _check_base_url(base_url, "base_url", allow_insecure_http)
        self.base_url = base_url.rstrip("/")
        if backup_urls is None:
            # The platform's documented backup domain, used when the primary cannot be reached.
            backup_urls = [BACKUP_BASE_URL] if self.base_url == DEFAULT_BASE_URL.rstrip("/") else []
        for url in backup_urls:
            _check_base_url(url, "backup_urls", allow_insecure_http)
        self.backup_urls = [url.rstrip("/") for url in backup_urls]
        self.retry = _coerce_retry(retry)
        if signing_threads is None:
            signing_threads = default_signing_threads()
        if not isinstance(signing_threads, int) or isinstance(signing_threads, bool) or signing_threads < 0:
            raise ConfigError("signing_threads", "must be a whole number >= 0 (0: sign on the event loop)")
        # RSA signing releases the GIL: when async calls overlap they sign on these threads (made on
        # first need) while the event loop goes on; a lone call signs inline (signing_pool.py).
        self.signer = SigningPool(signing_threads)
        self.on_attempt = on_attempt
        self.validate = validate
        self.validate_responses = validate_responses
        self.strict = strict
        if catalog is not None and specs is not None:
            raise ConfigError("specs", "give specs= or catalog=, not both")
        # A catalogue shared by many clients (fleet.py) is read and compiled once per process.
        self.catalog: Catalog = catalog if catalog is not None else Catalog(specs)
        # cafile: trust another CA (a TLS-terminating proxy, a test server) besides the system's.
        self.cafile = str(cafile) if cafile is not None else None
        check_transport_settings(sealed_proxy, max_answer_bytes)
        self.transport: Transport | SharedTransport
        if transport is not None:  # shared with other clients (fleet.py): its settings are its own
            from .fleet import share_transport

            self.transport = share_transport(
                transport, timeout is not DEFAULT_TIMEOUT, sealed_proxy, trust_env, max_answer_bytes
            )
        else:
            self.transport = new_transport(timeout, self.cafile, sealed_proxy, trust_env, max_answer_bytes)
        self.auto_refresh_certs = auto_refresh_certs
        # APIv2 settings are independent of v3: a v2-only merchant passes only these.
        self.v2_settings = V2Settings.load(secret=sealed_secret, client_cert=client_cert, client_key=sealed_client_key)
        # The key of v2 bank transfers' encrypted fields; fetched once on first need when not given.
        self.bank_public_key = (
            load_public_key(bank_public_key, "bank_public_key") if bank_public_key is not None else None
        )

    def _corrected_clock(self) -> float:
        """The wall clock plus the offset learnt from the platform (``correct_clock=True``)."""
        return self.wall_clock() + self.clock_offset

    @classmethod
    def from_env(cls, prefix: str = "WECHATPAY_", **overrides: Any) -> Client:
        """A client from ``<prefix><KEYWORD>`` variables, one per keyword (``WECHATPAY_MCHID``,
        ``WECHATPAY_TIMEOUT`` ...; see config.py); ``overrides`` win. Unknown variables are errors."""
        from .config import client_kwargs_from_env

        return cls(**{**client_kwargs_from_env(prefix, need_mchid="mchid" not in overrides), **overrides})

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> Client:
        """A client from a TOML or JSON config file (the CLI's ``--config``): every keyword is a key,
        an unknown key is an error; ``overrides`` win."""
        from .config import client_kwargs_from_file

        return cls(**{**client_kwargs_from_file(path, need_mchid="mchid" not in overrides), **overrides})

    @property
    def trusted_keys(self) -> KeyRing:
        """The platform keys answers may be signed with (public key ids and certificate serials)."""
        return self._trusted_keys

    @trusted_keys.setter
    def trusted_keys(self, ring: KeyRing) -> None:
        # One assignment swaps the ring and the encryption key together (see certs.KeyRing).
        self._trusted_keys = ring
        encryption: tuple[str, rsa.RSAPublicKey] | None
        try:
            encryption = ring.preferred_encryption_key(self.clock())
        except ConfigError:
            encryption = None
        self._encryption = encryption

    # -- helpers bound to this client ----------------------------------------------------
    def _binding(self, name: str, factory: Callable[[Client], Any]) -> Any:
        binding = self._bindings.get(name)
        if binding is None:
            binding = self._bindings[name] = factory(self)
        return binding

    @property
    def notifications(self) -> Notifications:
        """Parse webhook notifications (v3 and v2) and build acknowledgements."""
        from .notifications import Notifications

        return self._binding("notifications", Notifications)  # type: ignore[no-any-return]

    @property
    def paysign(self) -> PaySign:
        """Signed parameter sets for JSAPI / mini-program and APP front ends."""
        from .v3.paysign import PaySign

        return self._binding("paysign", PaySign)  # type: ignore[no-any-return]

    @property
    def certificates(self) -> Certificates:
        """Download, verify and refresh platform certificates (``GET v3/certificates``)."""
        from .trust.refresh import Certificates

        return self._binding("certificates", Certificates)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        # getattr with defaults: a client whose __init__ raised (in a traceback) has unset slots.
        mode = "v3" if getattr(self, "private_key", None) is not None else "no v3 key"
        trusted = sorted(getattr(self, "_trusted_keys", None) or ())
        base_url = getattr(self, "base_url", "(not configured)")
        signer = getattr(self, "signer", None)
        threads = f" signing_threads={signer.threads}" if signer is not None else ""
        return (
            f"<wechatpay_chain.Client mchid={getattr(self, 'mchid', None)!r} {mode} trusted={trusted} "
            f"{base_url}{threads}>"
        )

    # -- the chain root ---------------------------------------------------------------
    def chain(self, path: str) -> Node:
        return self._extend(path)

    # -- manual crypto ------------------------------------------------------------------
    def encrypt(self, text: str) -> str:
        """RSA-OAEP encrypt ``text`` for the platform (the serial is :attr:`encryption_serial`)."""
        if self._encryption is None:
            raise ConfigError("certs", "no platform public key or certificate configured")
        return oaep_encrypt(self._encryption[1], text)

    @property
    def encryption_serial(self) -> str | None:
        return None if self._encryption is None else self._encryption[0]

    def decrypt(self, ciphertext: str) -> str:
        """Decrypt a field the platform encrypted with the merchant public key."""
        if self.private_key is None:
            raise ConfigError("private_key", "no merchant private key configured")
        return oaep_decrypt(self.private_key, ciphertext)

    # -- calls --------------------------------------------------------------------------
    def _prepare(self, method: str, segments: tuple[Segment, ...], kwargs: dict[str, Any]) -> PreparedCall:
        query = kwargs.pop("query", None)
        json_body = kwargs.pop("json", None)
        headers = kwargs.pop("headers", None)
        validate = kwargs.pop("validate", None)
        decrypt = bool(kwargs.pop("decrypt", False))
        idempotent = kwargs.pop("idempotent", None)
        kwargs.pop("timeout", None)
        files = kwargs.pop("files", None)
        if kwargs.pop("xml", None) is not None:
            raise TypeError("xml= is for APIv2 paths (v2/...); APIv3 takes json=")
        key = "/".join(s.spec_text for s in segments)
        operation = self._operation_for(method, key)
        templates = {s.template for s in segments if s.template is not None}
        unknown = set(kwargs) - templates
        if unknown:
            raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)} for {key}")
        if self.private_key is None or self.serial is None:
            raise ConfigError("private_key", "APIv3 calls need serial and private_key")
        prepared = prepare_call(
            method,
            segments,
            operation=operation,
            query=query,
            json_body=json_body,
            headers=headers,
            path_values=kwargs,
            validate=self.validate if validate is None else bool(validate),
            encryption=self._encryption,
            files=files,
            defaults=self.defaults,
        )
        prepared.decrypt = decrypt
        prepared.idempotent = is_idempotent(method, prepared.headers, idempotent)
        return prepared

    def _base_for(self, prepared: PreparedCall) -> str:
        return self._hosts_for(prepared)[0]

    def _hosts_for(self, prepared: PreparedCall) -> list[str]:
        """The hosts to try in order: the operation's own host, or ours and the backups."""
        own = self._own_host(prepared.operation)
        return [own] if own else [self.base_url, *self.backup_urls]

    def _own_host(self, operation: Operation | None) -> str | None:
        """The host an operation's spec names (hk, fraud, payapp...), for v3 and v2 alike.

        A client pointed somewhere else than the platform (a mock, a proxy) keeps its host.
        """
        override = operation.spec.get("base_url") if operation is not None else None
        if override and self.base_url == DEFAULT_BASE_URL.rstrip("/"):
            return str(override).rstrip("/")
        return None

    def _operation_for(self, method: str, key: str) -> Operation | None:
        """The catalogue's operation; with ``strict=True`` a path outside it is refused."""
        operation = self.catalog.operation(key, method)
        if operation is None and self.strict:
            suggestions = self.catalog.suggest(key)
            hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
            raise ValidationError(f"{method} {key}", [FieldProblem("", "catalogue", f"not in the catalogue{hint}")])
        return operation

    async def _call(self, method: str, segments: tuple[Segment, ...], kwargs: dict[str, Any]) -> Response:
        """The whole call: prepare (validation; nothing sent on error), sign, send, verify."""
        timeout = Timeout.coerce(kwargs["timeout"]) if kwargs.get("timeout") is not None else None
        if segments and segments[0].text == "v2":
            from .v2.flow import MISSING_BANK_KEY, prepare_v2_call, send_v2_call

            try:
                call = prepare_v2_call(self, method, segments, kwargs)
            except ValidationError as refused:
                # A bank transfer whose only problem is the key not fetched yet: fetch it, then
                # prepare again (the sign covers the ciphertext). Anything else is refused first.
                if self.bank_public_key is not None or any(e.message != MISSING_BANK_KEY for e in refused.errors):
                    raise
                from .v2.bank import fetch_bank_key

                await fetch_bank_key(self, timeout)
                call = prepare_v2_call(self, method, segments, kwargs)
            return await send_v2_call(self, call, timeout)
        prepared = self._prepare(method, segments, kwargs)
        return await self._send(prepared, timeout)

    async def _exchange(
        self, prepared: PreparedCall, timeout: Timeout | None, host: str | None = None, wire: WireRequest | None = None
    ) -> tuple[str, RawAnswer]:
        """Sign (fresh nonce and timestamp) and send one attempt; no verification here.

        ``wire`` (the debug log's record, only when DEBUG is on) is told the URL and the
        headers as they are sent; its repr shows neither.
        """
        if self.transport.closed:
            raise TransportError("the client is closed")
        url = (host or self._base_for(prepared)) + prepared.target
        if wire is not None:  # the DEBUG log keeps the headers as sent (masked when written)
            wire.url, wire.headers = url, await self._signed_headers(prepared)
            return url, await self.transport.send(prepared.method, url, wire.headers, prepared.body, timeout=timeout)
        # The signed headers go straight into send(): no local of this frame holds the
        # Authorization while the attempt may raise (error trackers record locals).
        return url, await self.transport.send(
            prepared.method, url, await self._signed_headers(prepared), prepared.body, timeout=timeout
        )

    async def _signed_headers(self, prepared: PreparedCall) -> dict[str, str]:
        """The headers of one attempt: fresh nonce and timestamp; on the signing threads when calls overlap."""
        assert self.private_key is not None and self.serial is not None
        sign = functools.partial(
            sign_call,
            prepared,
            private_key=self.private_key,
            mchid=self.mchid,
            serial=self.serial,
            timestamp=str(int(self.clock())),
        )
        return await self.signer.run(sign)

    async def _send(self, prepared: PreparedCall, timeout: Timeout | None) -> Response:
        from .attempts import send_v3

        if self.auto_refresh_certs:
            await self.certificates.refresh_if_needed()
        response = await send_v3(self, prepared, timeout)
        if prepared.decrypt and prepared.operation is not None and response.content:
            self._decrypt_answer(prepared.operation.spec, response)
        return response

    def _decrypt_answer(self, spec: Mapping[str, Any], response: Response) -> None:
        """``decrypt=True``: open the answer fields the spec marks as encrypted."""
        document = response.json()
        if spec.get("decrypt"):
            if self.private_key is None:
                raise ConfigError("private_key", "needed to decrypt answer fields")
            decrypt_oaep_fields(document, spec["decrypt"], self.private_key)
        if spec.get("decrypt_aead"):
            if self.apiv3_key is None:
                raise ConfigError("apiv3_key", "needed to decrypt answer objects")
            decrypt_aead_fields(document, spec["decrypt_aead"], self.apiv3_key)

    def request(self, method: str, segments: tuple[Segment, ...] | str, **kwargs: Any) -> Response:
        """Call synchronously, on blocking sockets (``Transport.run_blocking``). Verbs call this."""
        return self.transport.run_blocking(self._call(method.upper(), self._segments_of(segments), kwargs))

    async def request_async(self, method: str, segments: tuple[Segment, ...] | str, **kwargs: Any) -> Response:
        """Call from the running event loop. ``*_async`` verbs call this."""
        return await self._call(method.upper(), self._segments_of(segments), kwargs)

    def _segments_of(self, segments: tuple[Segment, ...] | str) -> tuple[Segment, ...]:
        if isinstance(segments, str):
            return self._extend(segments)._segments if segments else ()
        return segments

    def v2_redirect_url(self, path: str | Node, params: Mapping[str, Any], *, validate: bool | None = None) -> str:
        """The signed URL of a v2 page the user's browser opens (spec ``redirect``); nothing is sent."""
        from .v2.flow import v2_redirect_url

        return v2_redirect_url(self, path, params, validate=validate)

    # -- downloads (see v3/downloads.py) -------------------------------------------------------
    async def download_async(self, url: str, to: str | os.PathLike[str], **checks: Any) -> Download:
        """Stream ``url`` (a download_url or path?query) to the file ``to``, checked before it appears."""
        from .v3.downloads import download_to_async

        return await download_to_async(self, url, to, **checks)

    def download(self, url: str, to: str | os.PathLike[str], **checks: Any) -> Download:
        return self.transport.run_blocking(self.download_async(url, to, **checks))

    async def download_bill_async(
        self, answer: Response | Mapping[str, Any], to: str | os.PathLike[str], **options: Any
    ) -> Download:
        """Download the bill a tradebill/fundflowbill answer points to, checking its hash_value."""
        from .v3.downloads import download_bill_async

        return await download_bill_async(self, answer, to, **options)

    def download_bill(
        self, answer: Response | Mapping[str, Any], to: str | os.PathLike[str], **options: Any
    ) -> Download:
        return self.transport.run_blocking(self.download_bill_async(answer, to, **options))

    def aiter_download(self, url: str, **checks: Any) -> AsyncIterator[bytes]:
        """The chunks of a download as they arrive (checks raise at the end)."""
        from .v3.downloads import iter_download_async

        return iter_download_async(self, url, **checks)

    def iter_download(self, url: str, **checks: Any) -> Iterator[bytes]:
        return self.transport.iterate_blocking(self.aiter_download(url, **checks))

    # -- lifecycle ------------------------------------------------------------------------
    def close(self) -> None:
        self.transport.close()
        self.signer.close()

    async def aclose(self) -> None:
        await self.transport.aclose()
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


def check_transport_settings(proxy: Secret | None, max_answer_bytes: int | None) -> None:
    """The transport keywords a client and a fleet both take, checked alike (ConfigError)."""
    if proxy is not None and not str(reveal(proxy)).startswith(("http://", "https://")):
        raise ConfigError("proxy", "must be an http:// or https:// URL (http://user:pass@host:port)")
    if max_answer_bytes is not None and (not isinstance(max_answer_bytes, int) or max_answer_bytes < 1):
        raise ConfigError("max_answer_bytes", "must be a whole number of bytes > 0, or None for no cap")


def new_transport(
    timeout: float | Timeout | None,
    cafile: str | None,
    proxy: Secret | None,
    trust_env: bool,
    max_answer_bytes: int | None,
    limit: int = 100,
) -> Transport:
    """A transport of its own, for one client or for a fleet (the proxy unwrapped only here)."""
    return Transport(
        timeout=Timeout.coerce(timeout),
        user_agent=_user_agent(),
        ssl_context=tls_context(cafile) if cafile else None,
        limit=limit,
        proxy=reveal(proxy),
        trust_env=bool(trust_env),
        max_answer_bytes=max_answer_bytes,
    )
