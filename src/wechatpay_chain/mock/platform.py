"""The embedded mock platform: an aiohttp.web app on 127.0.0.1 that behaves like WeChat Pay.

It checks every request's Authorization signature with the merchant's public key
(401 ``SIGN_ERROR`` with the reason when it fails), validates the payload against
the same specs as the client (400 ``PARAM_ERROR``), answers from handlers a test
registers or with a body built from the spec's examples, signs every answer with
its own platform key, and can inject faults.

    with MockPlatform() as mock:
        client = mock.client()
        client.v3.profitsharing.return_orders.post(json={...})
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding

from ..catalog.specs import Catalog, Operation
from ..catalog.wire_values import read_text_values
from ..errors import SignatureError
from ..trust.crypto import certificate_serial, rsa_verify
from ..v3.protocol import (
    AUTH_SCHEMA,
    MAX_CLOCK_SKEW,
    STATEMENT_DIGEST_HEADER,
    dump_json,
    new_nonce,
    parse_authorization,
    request_signing_string,
    sign_answer_headers,
)
from .bills import Bill, bill_file_handler, bill_request_handler, register
from .certificates import certificates_answer, mint_platform_certificate, rotate_platform_certificate
from .control import CONTROL_PREFIX, control_handler
from .driving import SandboxDriving
from .examples import echo_request_ids, example_for
from .faults import NETWORK_FAULTS, STATUS_FAULTS, FaultControls, apply_fault, send_network_fault
from .keys import MerchantKeys, generate_key, pem_private, pem_public
from .multipart import check_upload, parse_multipart
from .routing import Router
from .sandbox import Sandbox
from .serving import Serving
from .tradebill import tradebill_handler
from .webhooks import SIGNATURE_TYPE_HEADER

if TYPE_CHECKING:
    from ..client import Client

__all__ = ["MockAnswer", "MockCall", "MockPlatform", "generate_key"]

Handler = Callable[["MockCall"], Any]


@dataclass
class MockCall:
    """What a handler receives: the request as the platform saw it."""

    method: str
    key: str | None  # the spec key matched (None for an unknown path)
    path: str
    path_values: dict[str, str]
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    json: Any = None
    mchid: str | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # uploads: name -> (filename, bytes)
    decrypted: dict[str, str] = field(default_factory=dict)  # v2 bank transfers: the RSA fields opened


@dataclass
class MockAnswer:
    """A handler's explicit answer: status, JSON body (or raw bytes), extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    signed: bool = True
    serial: str | None = None  # sign with this key id instead of the platform's current one
    stream: Callable[[], Iterable[bytes]] | None = None  # a large body, sent in chunks (unsigned)


def _error(status: int, code: str, message: str, detail: Any = None) -> MockAnswer:
    body: dict[str, Any] = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return MockAnswer(status, body)


class MockPlatform(SandboxDriving, FaultControls, Serving, MerchantKeys):
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

    # -- the request path ---------------------------------------------------------------
    def _check_signature(self, request: web.Request, body: bytes) -> str:
        """The mchid of a correctly signed request; raises SignatureError otherwise."""
        header = request.headers.get("Authorization")
        if not header:
            raise SignatureError("authorization", "Authorization header is missing")
        fields = parse_authorization(header)
        keys = self.merchants.get(fields["mchid"])
        if keys is None:
            raise SignatureError("mchid", f"merchant {fields['mchid']} is unknown")
        key = keys.get(fields["serial_no"])
        if key is None:
            raise SignatureError("serial", "merchant certificate serial_no is unknown")
        try:
            skew = abs(self.clock() - int(fields["timestamp"]))
        except ValueError:
            raise SignatureError("timestamp", "timestamp is not an integer") from None
        if skew > MAX_CLOCK_SKEW:
            raise SignatureError("timestamp", f"timestamp is {int(skew)} s off")
        target = request.raw_path
        message = request_signing_string(request.method, target, fields["timestamp"], fields["nonce_str"], body)
        if not rsa_verify(key, message, fields["signature"]):
            raise SignatureError("signature", "signature does not match METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n")
        return fields["mchid"]

    async def _answer(self, request: web.Request) -> MockAnswer:
        body = await request.read()
        files: dict[str, tuple[str, bytes]] = {}
        signed = body
        if request.content_type == "multipart/form-data":
            # Uploads are signed over the meta JSON part, not over the multipart body.
            parts = parse_multipart(request.headers.get("Content-Type", ""), body)
            meta = parts.pop("meta", None)
            if meta is None:
                return _error(400, "PARAM_ERROR", "multipart upload without a meta part")
            signed = meta[1]
            files = {name: (filename, content) for name, (filename, content) in parts.items()}
        router = self._router
        if router is None:
            router = self._router = Router(self.catalog)
        # Match on the raw path: a percent-encoded "/" inside a value stays inside it.
        path = request.raw_path.split("?", 1)[0]
        try:
            mchid = self._check_signature(request, signed)
        except SignatureError as exc:
            return _error(401, "SIGN_ERROR", f"签名错误: {exc.check}: {exc.reason}")
        method = request.method.upper()
        matched = self._pick(method, router.matches(method, path))
        custom = None
        key: str | None = None
        values: dict[str, str] = {}
        if matched is not None:
            key, values = matched
        else:
            custom_key = request.raw_path.split("?", 1)[0].strip("/")
            custom = self.handlers.get((method, custom_key))
            if custom is None:
                if router.knows_path(path):
                    return _error(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here")
                return _error(404, "NOT_FOUND", f"no such API: {method} {path}")
            key = custom_key
        payload: Any = None
        if signed:
            try:
                payload = json.loads(signed)
            except ValueError:
                return _error(400, "PARAM_ERROR", "body is not valid JSON")
        call = MockCall(method, key, path, values, dict(request.query), request.headers, body, payload, mchid, files)
        self.calls.append(call)
        self.counts[(method, key)] += 1
        if self.sandbox.rate_limited(method, key):
            return _error(429, "FREQUENCY_LIMITED", "频率超限，请降低请求频率")
        operation = self.catalog.operation(key, method) if matched is not None else None
        if files:
            problem = check_upload(payload, files)
            if problem:
                return _error(400, "PARAM_ERROR", problem)
        if operation is not None and self.validate:
            part = "meta" if files else "json"
            query = read_text_values(operation.schema("query"), dict(request.query))
            path_values = read_text_values(operation.schema("path"), values)
            problems = operation.validate({"path": path_values, "query": query, part: payload})
            if problems:
                detail = {"field": problems[0].pointer, "issues": [str(problem) for problem in problems]}
                return _error(400, "PARAM_ERROR", f"参数错误: {problems[0]}", detail)
        handler = custom or self.handlers.get((method, key)) or self.builtin_handlers.get((method, key))
        if handler is not None:
            try:
                result = handler(call)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:  # a test's handler failed: answer like the platform's 500
                return _error(500, "SYSTEM_ERROR", f"mock handler raised {type(exc).__name__}: {exc}")
            return result if isinstance(result, MockAnswer) else MockAnswer(200 if result is not None else 204, result)
        if self.sandboxed and self.sandbox.handles(method, key):
            return self.sandbox.answer_v3(call, operation)
        return self._default_answer(operation, call)

    def _pick(self, method: str, candidates: list[tuple[str, dict[str, str]]]) -> tuple[str, dict[str, str]] | None:
        """Of specs sharing a URL shape (``applyment/{applyment_id}/cancel`` and
        ``applyment/{business_code}/cancel``), the one with a handler, else the first whose
        path values fit its spec, else the first."""
        if len(candidates) <= 1:
            return candidates[0] if candidates else None
        for key, values in candidates:
            if (method, key) in self.handlers:
                return key, values
        for key, values in candidates:
            operation = self.catalog.operation(key, method)
            if operation is not None and not operation.validate(
                {"path": read_text_values(operation.schema("path"), values)}
            ):
                return key, values
        return candidates[0]

    def _default_answer(self, operation: Operation | None, call: MockCall) -> MockAnswer:
        if operation is None:
            return MockAnswer(204, None)
        digest_header = operation.spec.get("signature_digest_header")
        if digest_header:
            # A statement: a small CSV, its SHA1 announced in the header the platform signs over.
            csv = b"date,transaction_id,amount\n2026-11-24,4200000000000000000000000001,100\n"
            return MockAnswer(
                200,
                raw=csv,
                headers={
                    str(digest_header): hashlib.sha1(csv).hexdigest(),
                    "Content-Type": "text/plain; charset=utf-8",
                },
            )
        status = int(operation.spec.get("response_status") or 200)
        schema = operation.schema("response")
        if schema is None or status == 204:
            # The platform answers 204 No Content where there is nothing to return.
            return MockAnswer(204 if status == 200 else status, None)
        given: dict[str, Any] = {**call.query, **call.path_values, **(call.json if isinstance(call.json, dict) else {})}
        return MockAnswer(status, echo_request_ids(example_for(schema), given))

    def add_bill(self, chunks: Callable[[], Iterable[bytes]], *, gzip: bool = False) -> dict[str, Any]:
        """Serve a bill (``chunks()`` yields the uncompressed CSV); returns the bill answer."""
        return register(self, Bill(chunks, gzip=gzip))

    async def _stream(self, request: web.Request, answer: MockAnswer, headers: dict[str, str]) -> web.StreamResponse:
        assert answer.stream is not None
        streaming = web.StreamResponse(status=answer.status, headers=headers)
        await streaming.prepare(request)
        for chunk in answer.stream():
            await streaming.write(chunk)
        await streaming.write_eof()
        return streaming

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not request.path.startswith(("/v3/", "/hk/", "/global/")):
            # APIv2: XML bodies, MD5/HMAC signs (see mock/v2.py)
            from .v2 import handle_v2

            return await handle_v2(self, request)
        answer = await self._answer(request)
        if answer.stream is not None:
            return await self._stream(request, answer, {"Request-ID": secrets.token_hex(16), **answer.headers})
        if answer.raw is not None:
            body = answer.raw
        elif answer.body is None:
            body = b""
        else:
            body = dump_json(answer.body)
        headers = {"Request-ID": secrets.token_hex(16), **answer.headers}
        if body and answer.raw is None:
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        fault = self._take_fault()
        if fault in STATUS_FAULTS:
            status, code, message = STATUS_FAULTS[fault]
            error = dump_json({"code": code, "message": message}) if code else message.encode()
            kind = "application/json" if code else "text/plain"
            return web.Response(status=status, body=error, headers={**headers, "Content-Type": kind})
        if answer.signed:
            serial = answer.serial or self.signing_serial
            statement = headers.get(STATEMENT_DIGEST_HEADER)
            # Statements are signed over {"sha1": digest}; the digest covers the body.
            covered = dump_json({"sha1": statement}) if statement else body
            signed = sign_answer_headers(
                self.platform_key, serial, covered, timestamp=str(int(self.clock())), nonce=new_nonce()
            )
            headers.update(signed)
            headers[SIGNATURE_TYPE_HEADER] = AUTH_SCHEMA
        if fault in NETWORK_FAULTS:
            return await send_network_fault(fault, request, answer.status, headers, body, self.fault_delay)
        if fault is not None:
            headers, body = apply_fault(fault, headers, body, self)
        return web.Response(status=answer.status, body=body, headers=headers)

    def app(self) -> web.Application:
        application = web.Application(client_max_size=64 * 1024 * 1024)
        application.router.add_route("*", CONTROL_PREFIX + "{action}", control_handler(self))
        application.router.add_route("*", "/{tail:.*}", self._handle)
        return application
