"""The engine: one merchant's calls, from a verb's keywords to a verified answer.

``Client`` is the façade (argument checks, the chain root, helpers, lifecycle); every
call goes through here::

    engine.call(method, segments, kwargs)
      v3: prepare_v3 (validate, encrypt, serialise; nothing sent on error)
          -> V3Plan: each attempt signed afresh, each answer verified, the clock learnt
      v2: prepare_v2 (validate, sign; fetch the bank key first when the spec asks for it)
          -> V2Call: each attempt the same signed bytes, each answer's sign checked
      -> run_attempts (attempts.py): retries, failover, deadline, observation

The helpers (downloads, certificates, pay-sign, notifications) work through the same
engine: its settings (the merchant's key pair among them), trust ring, clock, transport
and signing pool.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives.asymmetric import rsa

from .attempts import log, run_attempts
from .clock import PlatformClock
from .errors import ApiError, ConfigError, SignatureError, TransportError, WeChatPayError
from .naming import Segment, path_segments
from .response import Response
from .retry import Retry, is_idempotent
from .signing_pool import SigningPool
from .transport.aio import RawAnswer, Timeout
from .transport.driver import in_blocking_call
from .transport.wire_log import Masks, WireRequest
from .trust.keyring import KeyRing
from .v2.bank import BankKeyNeeded, bank_key_from_answer
from .v2.call import V2Call
from .v2.flow import prepare_v2_call
from .v3.calls import (
    PreparedCall,
    answer_is_signed,
    call_signing_string,
    finish_call,
    prepare_call,
    sign_call,
    signed_call_headers,
)
from .v3.fields import decrypt_aead_fields, decrypt_oaep_fields
from .v3.protocol import find_header, new_nonce

if TYPE_CHECKING:
    from .retry import Attempt
    from .settings import Settings
    from .transport.aio import Transport
    from .transport.shared import SharedTransport
    from .trust.store import KeyStore

__all__ = ["Engine", "KeyKeeper", "V3Plan"]

_KEEPER_LOCK = threading.Lock()  # rarely taken: only while an engine's keeper is first built


class KeyKeeper(Protocol):
    """What keeps an engine's trust ring fresh (``trust.refresh.Certificates``)."""

    async def refresh_if_needed(self) -> None:
        """Before a v3 call: refresh or adopt when due; never fails the call."""
        ...

    async def learn_key(self, key_id: str, within: float | None = None) -> bool:
        """An answer or notification names a key the ring lacks: True when the ring has it now
        (``within``: the seconds left of the call that asks)."""
        ...


# Keywords every verb takes besides the path values (v3: json=, files=; v2 reads its own).
_CERTIFICATES = "v3/certificates"  # what a read-only key store's process never calls (trust/store.py)
_V3_OPTIONS = ("query", "json", "headers", "validate", "decrypt", "idempotent", "timeout", "files")


class Engine:
    """Runs one merchant's calls; shared by the client's helpers (never by two merchants)."""

    __slots__ = (
        "__weakref__",
        "_encryption",
        "_keeper",
        "_trusted_keys",
        "auto_refresh",
        "clock",
        "keeper_factory",
        "key_store",
        "on_attempt",
        "retry",
        "settings",
        "signing_pool",
        "transport",
    )

    def __init__(
        self,
        settings: Settings,
        *,
        transport: Transport | SharedTransport,
        signing_pool: SigningPool,
        clock: PlatformClock,
        trusted_keys: KeyRing,
        retry: Retry,
        on_attempt: Callable[[Attempt], None] | None = None,
        auto_refresh: bool = False,
        key_store: KeyStore | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.signing_pool = signing_pool
        self.clock = clock
        self.retry = retry
        self.on_attempt = on_attempt
        self.auto_refresh = auto_refresh
        # Where the platform keys are shared (trust/store.py); None: the client keeps its own.
        self.key_store = key_store
        # What keeps the ring fresh (trust/refresh.Certificates, made on first need by the
        # factory the client gives, so that a client that never refreshes loads no X.509 code).
        self.keeper_factory: Callable[[Engine], KeyKeeper] | None = None
        self._keeper: KeyKeeper | None = None
        self.trusted_keys = trusted_keys

    # -- trust --------------------------------------------------------------------------
    @property
    def keeper(self) -> KeyKeeper | None:
        """The helper that refreshes the ring (``client.certificates``), built on first use."""
        if self._keeper is None and self.keeper_factory is not None:
            with _KEEPER_LOCK:  # two threads' first calls build one keeper (its counters are the client's)
                if self._keeper is None:
                    self._keeper = self.keeper_factory(self)
        return self._keeper

    @property
    def trusted_keys(self) -> KeyRing:
        """The platform keys answers may be signed with (public key ids and certificate serials)."""
        return self._trusted_keys

    @trusted_keys.setter
    def trusted_keys(self, ring: KeyRing) -> None:
        # One assignment swaps the ring and the encryption key together (see trust/keyring.py).
        self._trusted_keys = ring
        encryption: tuple[str, rsa.RSAPublicKey] | None
        try:
            encryption = ring.preferred_encryption_key(self.clock.now())
        except ConfigError:
            encryption = None
        self._encryption = encryption

    @property
    def encryption(self) -> tuple[str, rsa.RSAPublicKey] | None:
        """(serial, key) that sensitive request fields are encrypted with, if any."""
        return self._encryption

    # -- calls --------------------------------------------------------------------------
    async def call(self, method: str, segments: tuple[Segment, ...], kwargs: dict[str, Any]) -> Response:
        """The whole call: prepare (nothing is sent on error), then the attempts."""
        timeout = Timeout.coerce(kwargs["timeout"]) if kwargs.get("timeout") is not None else None
        if segments and segments[0].text == "v2":
            call = await self.prepare_v2(method, segments, kwargs, timeout)
            return await self.run(call, timeout)
        prepared = self.prepare_v3(method, segments, kwargs)
        if self.auto_refresh or self.key_store is not None:  # never fails the call (trust/refresh.py)
            keeper = self.keeper
            if keeper is not None:
                await keeper.refresh_if_needed()
        if not self.trusted_keys and answer_is_signed(prepared.operation):
            # Fail closed before the wire: a POST would take effect and its answer could never
            # be verified (no certs=, or a store that holds nothing for this merchant yet).
            refusal = ConfigError(
                "certs", "no platform key or certificate is trusted, so no answer can be verified; nothing was sent"
            )
            # Why the ring is empty, when a refresh just failed (a store that cannot be reached).
            raise refusal from getattr(self._keeper, "last_error", None)
        response = await self.send_v3(prepared, timeout)
        if prepared.decrypt and prepared.operation is not None and response.content:
            self.decrypt_answer(prepared.operation.spec, response)
        return response

    async def run(self, plan: V3Plan | V2Call, timeout: Timeout | None) -> Response:
        """The attempt loop over a prepared call, under this client's policy and observer."""
        return await run_attempts(
            plan, transport=self.transport, policy=self.retry, timeout=timeout, on_attempt=self.on_attempt
        )

    def prepare_v3(self, method: str, segments: Sequence[Segment], kwargs: Mapping[str, Any]) -> PreparedCall:
        """Validate, fill defaults, encrypt and serialise a v3 call; raises before anything is sent."""
        if kwargs.get("xml") is not None:
            raise TypeError("xml= is for APIv2 paths (v2/...); APIv3 takes json=")
        key = "/".join(s.spec_text for s in segments)
        if key == _CERTIFICATES and self.key_store is not None and self.key_store.read_only:
            # Enforced here, not only in client.certificates: the chain reaches it too.
            raise ConfigError("key_store", "read-only: this process never calls v3/certificates; nothing was sent")
        settings = self.settings
        operation = settings.operation_for(method, key)
        templates = {s.template for s in segments if s.template is not None}
        unknown = set(kwargs) - templates - set(_V3_OPTIONS) - {"xml"}
        if unknown:
            raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)} for {key}")
        if settings.merchant_key is None:
            raise ConfigError("private_key", "APIv3 calls need serial and private_key (or signer)")
        validate = kwargs.get("validate")
        prepared = prepare_call(
            method,
            segments,
            operation=operation,
            query=kwargs.get("query"),
            json_body=kwargs.get("json"),
            headers=kwargs.get("headers"),
            path_values={name: value for name, value in kwargs.items() if name in templates},
            validate=settings.validate if validate is None else bool(validate),
            encryption=self._encryption,
            files=kwargs.get("files"),
            defaults=settings.defaults,
        )
        prepared.decrypt = bool(kwargs.get("decrypt", False))
        prepared.idempotent = is_idempotent(method, prepared.headers, kwargs.get("idempotent"))
        return prepared

    async def prepare_v2(
        self, method: str, segments: Sequence[Segment], kwargs: Mapping[str, Any], timeout: Timeout | None
    ) -> V2Call:
        """A v2 call; a bank transfer whose only lack is the key fetches it (once) and prepares again."""
        try:
            call = prepare_v2_call(self.settings, method, segments, kwargs)
        except BankKeyNeeded as needed:
            answer = await self.call("POST", tuple(path_segments(needed.operation)), {"xml": {}, "timeout": timeout})
            self.settings.bank_public_key = bank_key_from_answer(answer)
            call = prepare_v2_call(self.settings, method, segments, kwargs)
        if call.wire is None and _debug_log_on():
            call = call.logged((self.settings.v2.secret, *(self.settings.apiv3_keys or ())))
        return call

    async def send_v3(self, prepared: PreparedCall, timeout: Timeout | None) -> Response:
        """A v3 call's attempts: each signed afresh (new nonce and timestamp), every answer verified."""
        send = self.run(V3Plan(self, prepared, timeout), timeout)
        if in_blocking_call():
            return await send
        # Counted while in flight: overlapping async calls sign on the client's signing threads.
        pool = self.signing_pool
        pool.enter()
        try:
            return await send
        finally:
            pool.leave()

    async def signed_headers(self, prepared: PreparedCall) -> dict[str, str]:
        """The headers of one attempt: fresh nonce and timestamp, signed by the merchant's signer.

        The (serial, signer) pair is read once: a rotation meanwhile signs the next attempt.
        Sync calls sign inline; async calls await a signer's ``sign_async``, or sign on the
        signing threads when calls overlap (a local key) or always (a remote ``sign``).
        """
        settings = self.settings
        merchant = settings.merchant_key
        if merchant is None:
            raise ConfigError("private_key", "APIv3 calls need serial and private_key (or signer)")
        timestamp = str(int(self.clock.now()))
        if merchant.signs_async and not in_blocking_call():
            nonce = new_nonce()
            signature = await merchant.sign_async(call_signing_string(prepared, timestamp, nonce))
            return signed_call_headers(
                prepared,
                mchid=settings.mchid,
                serial=merchant.serial,
                timestamp=timestamp,
                nonce=nonce,
                signature=signature,
            )
        sign = functools.partial(sign_call, prepared, merchant=merchant, mchid=settings.mchid, timestamp=timestamp)
        return await self.signing_pool.run(sign, may_block=not merchant.local)

    async def exchange_once(self, prepared: PreparedCall, timeout: Timeout | None = None) -> tuple[str, RawAnswer]:
        """One signed attempt on the first host, its answer not verified (``GET v3/certificates``
        is verified with the certificates it delivers: trust/refresh.py)."""
        if self.transport.closed:
            raise TransportError("the client is closed")
        url = self.settings.hosts_for(prepared.operation)[0] + prepared.target
        answer = await self.transport.send(
            prepared.method, url, await self.signed_headers(prepared), prepared.body, timeout=timeout
        )
        return url, answer

    def decrypt_answer(self, spec: Mapping[str, Any], response: Response) -> None:
        """``decrypt=True``: open the answer fields the spec marks as encrypted."""
        document = response.json()
        if spec.get("decrypt"):
            decrypt_oaep_fields(document, spec["decrypt"], self.merchant_private_key("decrypt answer fields"))
        if spec.get("decrypt_aead"):
            if self.settings.apiv3_keys is None:
                raise ConfigError("apiv3_key", "needed to decrypt answer objects")
            decrypt_aead_fields(document, spec["decrypt_aead"], self.settings.apiv3_keys)

    def merchant_private_key(self, purpose: str) -> rsa.RSAPrivateKey:
        """The merchant private key for RSA-OAEP decryption, which a remote signer cannot do."""
        merchant = self.settings.merchant_key
        if merchant is None:
            raise ConfigError("private_key", f"needed to {purpose}")
        if merchant.private_key is None:
            raise ConfigError(
                "signer",
                f"cannot {purpose}: that needs the merchant private key (RSA-OAEP), and a remote "
                "signer only signs; decrypt with the key where it is kept, or pass private_key=",
            )
        return merchant.private_key


class V3Plan:
    """A prepared v3 call as the attempt loop runs it (attempts.Plan)."""

    __slots__ = ("_clock_corrected", "_deadline", "_engine", "hosts", "prepared", "wire")

    def __init__(self, engine: Engine, prepared: PreparedCall, timeout: Timeout | None = None) -> None:
        self._engine = engine
        self.prepared = prepared
        total = (timeout or engine.transport.timeout).total
        self._deadline = None if total is None else time.monotonic() + total  # the call's, retries included
        self.hosts = engine.settings.hosts_for(prepared.operation)
        self._clock_corrected = False
        self.wire: WireRequest | None = None
        if _debug_log_on():  # what each attempt sent, for the debug log
            settings = engine.settings
            spec = prepared.operation.spec if prepared.operation is not None else None
            masks = Masks.for_spec(spec, secrets=(*(settings.apiv3_keys or ()), settings.v2.secret))
            self.wire = WireRequest(prepared.method, prepared.target, prepared.headers, prepared.body, masks)

    @property
    def method(self) -> str:
        return self.prepared.method

    @property
    def target(self) -> str:
        return self.prepared.target

    @property
    def body(self) -> bytes:
        return self.prepared.body

    @property
    def idempotent(self) -> bool:
        return self.prepared.idempotent

    @property
    def ssl_context(self) -> None:
        return None  # v3 needs no client certificate

    async def headers_for_attempt(self) -> Mapping[str, str]:
        return await self._engine.signed_headers(self.prepared)

    async def finish(self, url: str, answer: RawAnswer) -> Response:
        """Verify the answer; signed with a key the ring lacks, learn the key (adopt it from the
        store, or refresh) and verify the same bytes again. Never sent again for this: the
        request may have taken effect (a POST), and the answer is there to be verified."""
        try:
            return self._finish(url, answer)
        except SignatureError as error:
            keeper = self._engine.keeper if error.check == "serial" else None
            serial = find_header(answer.headers, "Wechatpay-Serial")
            if keeper is None or not serial:
                raise
            if not await keeper.learn_key(serial, self._time_left()):
                error.add_note(f"{serial} was looked up in the key store (and refreshed, if allowed): not found")
                raise
        return self._finish(url, answer)

    def _time_left(self) -> float | None:
        """Seconds left of the call's total timeout (``None``: no total)."""
        return None if self._deadline is None else max(0.0, self._deadline - time.monotonic())

    def _finish(self, url: str, answer: RawAnswer) -> Response:
        engine = self._engine
        clock = engine.clock
        try:
            response = finish_call(
                self.prepared,
                answer.status,
                answer.headers,
                answer.content,
                url=url,
                keys=engine.trusted_keys,
                now=clock.now,
                validate_response=engine.settings.validate_responses,
            )
        except ApiError as error:
            if error.status_code == 401:  # perhaps our timestamp was refused: learn from a signed 401
                before = clock.offset
                clock.learn(answer.headers, answer.content, engine.trusted_keys, verified=False)
                self._clock_corrected = clock.offset != before
            raise
        if response.verified:  # the signed Wechatpay-Timestamp of a verified answer; never Date
            clock.learn(answer.headers, answer.content, engine.trusted_keys, verified=True)
        return response

    def retry_anyway(self, error: WeChatPayError, attempt: int) -> bool:
        # The platform refused our timestamp and its signed 401 corrected the clock: signing
        # again with the corrected clock is safe (the refused request did nothing).
        return attempt == 1 and self._clock_corrected


def _debug_log_on() -> bool:
    return log.isEnabledFor(logging.DEBUG)
