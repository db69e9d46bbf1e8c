"""The mock platform's request path: signature check, routing, spec validation, handlers,
the sandbox or the catalogue's example, then the signed answer (and any fault queued).

APIv2 paths (outside ``/v3/``, ``/hk/`` and ``/global/``) go to ``mock/v2.py``; the
sandbox's control routes to ``mock/control.py``.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import secrets
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from ..catalog.wire_values import read_text_values
from ..errors import SignatureError
from ..trust.crypto import rsa_verify
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
from .calls import Handler, MockAnswer, MockCall, error_answer
from .control import CONTROL_PREFIX, control_handler
from .examples import echo_request_ids, example_for
from .faults import NETWORK_FAULTS, STATUS_FAULTS, apply_fault, send_network_fault
from .multipart import check_upload, parse_multipart
from .routing import Router
from .webhooks import SIGNATURE_TYPE_HEADER

if TYPE_CHECKING:
    from ..catalog.specs import Catalog, Operation
    from .sandbox import Sandbox

__all__ = ["Answering"]


class Answering:
    """Mixed into ``MockPlatform``: how it answers a request."""

    mchid: str
    secret: str
    catalog: Catalog
    validate: bool
    clock: Callable[[], float]
    platform_key: rsa.RSAPrivateKey
    merchants: dict[str, dict[str, rsa.RSAPublicKey]]  # mchid -> {certificate serial -> public key}
    handlers: dict[tuple[str, str], Handler]
    builtin_handlers: dict[tuple[str, str], Handler]
    calls: list[MockCall]
    counts: Counter[tuple[str, str]]
    sandboxed: bool
    sandbox: Sandbox
    fault_delay: float
    _faults: list[list[Any]]
    _take_fault: Callable[[], str | None]  # FaultControls
    _router: Router | None

    @property
    def signing_serial(self) -> str:
        raise NotImplementedError

    @property
    def bank_key(self) -> rsa.RSAPrivateKey:
        raise NotImplementedError

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
                return error_answer(400, "PARAM_ERROR", "multipart upload without a meta part")
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
            return error_answer(401, "SIGN_ERROR", f"签名错误: {exc.check}: {exc.reason}")
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
                    return error_answer(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed here")
                return error_answer(404, "NOT_FOUND", f"no such API: {method} {path}")
            key = custom_key
        payload: Any = None
        if signed:
            try:
                payload = json.loads(signed)
            except ValueError:
                return error_answer(400, "PARAM_ERROR", "body is not valid JSON")
        call = MockCall(method, key, path, values, dict(request.query), request.headers, body, payload, mchid, files)
        self.calls.append(call)
        self.counts[(method, key)] += 1
        if self.sandbox.rate_limited(method, key):
            return error_answer(429, "FREQUENCY_LIMITED", "频率超限，请降低请求频率")
        operation = self.catalog.operation(key, method) if matched is not None else None
        if files:
            problem = check_upload(payload, files)
            if problem:
                return error_answer(400, "PARAM_ERROR", problem)
        if operation is not None and self.validate:
            part = "meta" if files else "json"
            query = read_text_values(operation.schema("query"), dict(request.query))
            path_values = read_text_values(operation.schema("path"), values)
            problems = operation.validate({"path": path_values, "query": query, part: payload})
            if problems:
                detail = {"field": problems[0].pointer, "issues": [str(problem) for problem in problems]}
                return error_answer(400, "PARAM_ERROR", f"参数错误: {problems[0]}", detail)
        handler = custom or self.handlers.get((method, key)) or self.builtin_handlers.get((method, key))
        if handler is not None:
            try:
                result = handler(call)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:  # a test's handler failed: answer like the platform's 500
                return error_answer(500, "SYSTEM_ERROR", f"mock handler raised {type(exc).__name__}: {exc}")
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
