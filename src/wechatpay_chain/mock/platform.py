"""The embedded mock platform: an aiohttp.web app on 127.0.0.1 that behaves like WeChat Pay.

It checks every request's Authorization signature with the merchant's public key
(401 ``SIGN_ERROR`` with the reason when it fails), validates the payload against
the same specs as the client (400 ``PARAM_ERROR``), answers from handlers a test
registers or with a body built from the spec's examples, signs every answer with
its own platform key, and can inject faults.

    with MockPlatform() as mock:
        client = mock.client()
        client.v3.profitsharing.return_orders.post(json={...})

This module composes it: construction, keys and certificates, ``client()`` and ``on()``.
The request path is ``answering.py``, what passes through it ``calls.py``; the mixins
(``driving``, ``faults``, ``serving``, ``keys``) and the sandbox's parts each declare, as a
Protocol or as class attributes, the little of the platform they read.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from ..catalog.specs import Catalog
from ..trust.crypto import certificate_serial
from ..v3.protocol import new_nonce
from .answering import Answering
from .bills import Bill, bill_file_handler, bill_request_handler, register
from .calls import Handler, MockAnswer, MockCall
from .certificates import certificates_answer, mint_platform_certificate, rotate_platform_certificate
from .driving import SandboxDriving
from .examples import example_for
from .faults import FaultControls
from .keys import MerchantKeys, generate_key, pem_private, pem_public
from .routing import Router
from .sandbox import Sandbox
from .serving import Serving
from .tradebill import tradebill_handler

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["MockAnswer", "MockCall", "MockPlatform", "generate_key"]


class MockPlatform(Answering, SandboxDriving, FaultControls, Serving, MerchantKeys):
    """A WeChat Pay look-alike for tests and demos. Binds 127.0.0.1 (``port=0``: an ephemeral port).

    ``sandbox=True`` (the default) keeps what merchants create (orders, refunds...) and
    answers from it (see ``mock/sandbox.py``); ``sandbox=False`` answers every call with
    the catalogue's examples. ``state_file``: the sandbox is read from it at start and
    written back at stop.
    """

    def __init__(
        self,
        *,
        mchid: str = "1900000109",
        catalog: Catalog | None = None,
        validate: bool = True,
        apiv3_key: str | None = None,
        clock: Callable[[], float] = time.time,
        sandbox: bool = True,
        port: int = 0,
        state_file: str | None = None,
    ) -> None:
        self.mchid = mchid
        self.merchant_key = generate_key()
        self.merchant_serial = secrets.token_hex(20).upper()
        self.platform_key = generate_key()
        self.public_key_id = "PUB_KEY_ID_" + "".join(secrets.choice("0123456789") for _ in range(28))
        self.apiv3_key = apiv3_key or new_nonce(32)
        self.secret = new_nonce(32)  # the merchant's APIv2 key, shared with mock.client()
        self.catalog = catalog or Catalog()
        self.validate = validate
        self.clock = clock
        # mchid -> {merchant certificate serial -> merchant public key}
        self.merchants: dict[str, dict[str, rsa.RSAPublicKey]] = {
            mchid: {self.merchant_serial: self.merchant_key.public_key()}
        }
        self.handlers: dict[tuple[str, str], Handler] = {}
        self.calls: list[MockCall] = []
        self.counts: Counter[tuple[str, str]] = Counter()
        self._faults: list[list[Any]] = []  # [name, remaining times]
        self.fault_delay = 2.0
        self._random_faults: tuple[float, tuple[str, ...], random.Random] = (0.0, (), random.Random(0))
        self._certificate: x509.Certificate | None = None
        self.retired_certificates: list[x509.Certificate] = []  # still delivered by v3/certificates
        self._merchant_certificate: str | None = None
        self._bank_key: rsa.RSAPrivateKey | None = None
        # Which key id signs answers: the public key (default) or the platform certificate.
        self.sign_with = "public_key"
        self.builtin_handlers: dict[tuple[str, str], Handler] = {
            ("GET", "v3/certificates"): lambda call: MockAnswer(
                200, certificates_answer(self), serial=self.certificate_serial
            ),
            ("GET", "v3/billdownload/file"): bill_file_handler(self),
        }
        for bill_key in (
            "v3/bill/tradebill",
            "v3/bill/fundflowbill",
            "v3/bill/sub-merchant-fundflowbill",
            "v3/ecommerce/bill/fundflowbill",
        ):
            self.builtin_handlers[("GET", bill_key)] = bill_request_handler(self)
        self.bills: dict[str, Bill] = {}
        self.sandboxed = sandbox
        self.sandbox = Sandbox(self)
        self.state_file = state_file
        self.requested_port = port
        self._ticker: asyncio.Task[None] | None = None
        if sandbox:
            self.builtin_handlers[("GET", "v3/bill/tradebill")] = tradebill_handler(self)
        self._router: Router | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None

    # -- configuration -------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("the mock platform is not started")
        return f"http://127.0.0.1:{self.port}/"

    @property
    def merchant_private_key_pem(self) -> str:
        return pem_private(self.merchant_key)

    @property
    def platform_public_key_pem(self) -> str:
        return pem_public(self.platform_key.public_key())

    @property
    def bank_key(self) -> rsa.RSAPrivateKey:
        """The key of v2 bank transfers' encrypted fields (``v2/risk/getpublickey``), made on first use."""
        if self._bank_key is None:
            self._bank_key = generate_key()
        return self._bank_key

    @property
    def platform_certificate(self) -> x509.Certificate:
        """The platform certificate (certificate mode), minted on first use."""
        if self._certificate is None:
            self._certificate = mint_platform_certificate(self.platform_key, self.clock())
        return self._certificate

    def rotate_platform_certificate(self) -> str:
        """Rotate the platform certificate (mock/certificates.py); returns the new serial."""
        return rotate_platform_certificate(self)

    @property
    def certificate_serial(self) -> str:
        return certificate_serial(self.platform_certificate)

    @property
    def signing_serial(self) -> str:
        return self.certificate_serial if self.sign_with == "certificate" else self.public_key_id

    def notify(
        self, url: str, event_type: str = "TRANSACTION.SUCCESS", resource: Any = None, **options: Any
    ) -> tuple[int, bytes]:
        """Deliver a signed, encrypted notification to your webhook; return its (status, body)."""
        coroutine = self.notify_async(url, event_type, resource, **options)
        if self._loop is not None:
            return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()
        return asyncio.run(coroutine)

    async def notify_async(
        self, url: str, event_type: str = "TRANSACTION.SUCCESS", resource: Any = None, **options: Any
    ) -> tuple[int, bytes]:
        from .delivery import deliver

        if resource is None:
            operation = self.catalog.operation("v3/pay/transactions/id/{transaction_id}", "GET")
            resource = example_for(operation.schema("response")) if operation is not None else {}
        return await deliver(self, url, event_type, resource, **options)

    def client(self, **overrides: Any) -> Client:
        """A client that trusts this platform and signs as its merchant."""
        from ..client import Client

        settings: dict[str, Any] = {
            "mchid": self.mchid,
            "serial": self.merchant_serial,
            "private_key": self.merchant_key,
            "certs": {self.public_key_id: self.platform_key.public_key()}
            if self.sign_with == "public_key"
            else {self.certificate_serial: self.platform_certificate},
            "apiv3_key": self.apiv3_key,
            "base_url": self.base_url,
            "secret": self.secret,
        }
        if self.sandboxed:
            # A complete merchant: its API certificate too, for v2 refunds (unused over http).
            settings["client_cert"], settings["client_key"] = self.merchant_certificate_pem
        settings.update(overrides)
        return Client(**settings)

    @property
    def merchant_certificate_pem(self) -> tuple[str, str]:
        """The merchant's API certificate (self-signed, minted on first use) and key, PEM."""
        if self._merchant_certificate is None:
            certificate = mint_platform_certificate(
                self.merchant_key, self.clock(), common_name=f"{self.mchid} (mock merchant)"
            )
            self._merchant_certificate = certificate.public_bytes(Encoding.PEM).decode("ascii")
        return self._merchant_certificate, self.merchant_private_key_pem

    def on(self, method: str, key: str, handler: Handler | None = None) -> Any:
        """Register a handler for ``METHOD key`` (usable as a decorator)."""

        def register(function: Handler) -> Handler:
            self.handlers[(method.upper(), key.strip("/"))] = function
            return function

        return register(handler) if handler is not None else register

    def add_bill(self, chunks: Callable[[], Iterable[bytes]], *, gzip: bool = False) -> dict[str, Any]:
        """Serve a bill (``chunks()`` yields the uncompressed CSV); returns the bill answer."""
        return register(self, Bill(chunks, gzip=gzip))
