"""A prepared APIv2 call, and how its answer is read (pure: tests feed it bytes).

A :class:`V2Call` is a plan for the attempt loop (attempts.py): every attempt sends the
same signed bytes (a v2 sign carries no timestamp), and :func:`finish_v2_call` checks
the answer: HTTP status, ``return_code``, the sign, ``result_code``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..catalog.specs import Operation
from ..errors import ApiError
from ..response import Response
from ..transport.wire_log import Masks, WireRequest
from ..trust.crypto import KeyText, Secret, seal
from .answer import V2Response
from .codec import decode_xml, is_xml_body
from .messages import parse_v2_response, verify_v2_fields
from .rules import V2Rules, properties, validate_fields
from .signing import detect_sign_type

if TYPE_CHECKING:
    from ..errors import WeChatPayError
    from ..transport.aio import RawAnswer

__all__ = ["V2Call", "finish_v2_call"]

log = logging.getLogger("wechatpay_chain")


@dataclass(frozen=True)
class V2Call:
    """A prepared v2 request: what goes on the wire and how to read the answer (a plan for
    the attempt loop: the same signed bytes on every attempt)."""

    method: str
    key: str  # spec key, e.g. v2/pay/micropay
    target: str  # /path?query, exactly what is sent after the host
    body: bytes
    headers: Mapping[str, str]
    fields: Mapping[str, Any]  # the signed fields (with nonce_str, sign_type, sign)
    rules: V2Rules
    hosts: tuple[str, ...] = ()  # the operation's host, or the client's and its backups
    operation: Operation | None = field(default=None, repr=False)
    ssl_context: Any = field(default=None, repr=False)  # an ssl.SSLContext for cert_required
    idempotent: bool = False  # may be sent again after it may have arrived (GET, Idempotency-Key, or said so)
    secret: Secret | None = field(default=None, repr=False)  # checks the answer's sign
    validate_response: bool = False
    wire: WireRequest | None = field(default=None, repr=False)  # the DEBUG log's record

    @property
    def url(self) -> str:
        """The URL of the first attempt."""
        return self.hosts[0] + self.target

    async def headers_for_attempt(self) -> Mapping[str, str]:
        return self.headers

    async def finish(self, url: str, answer: RawAnswer) -> Response:
        return finish_v2_call(
            self,
            answer.status,
            answer.headers,
            answer.content,
            secret=self.secret,
            validate_response=self.validate_response,
            url=url,
        )

    def retry_anyway(self, error: WeChatPayError, attempt: int) -> bool:
        return False  # v2 signs carry no timestamp: nothing a new attempt could correct

    def logged(self, secrets: tuple[Any, ...]) -> V2Call:
        """This call with a record for the DEBUG log (masked there: ``secrets``, the spec's sensitive fields)."""
        spec = self.operation.spec if self.operation is not None else None
        masks = Masks.for_spec(spec, v2=True, secrets=secrets)
        return replace(self, wire=WireRequest(self.method, self.url, self.headers, self.body, masks))


def _http_error(call: V2Call, status: int, content: bytes, response: V2Response) -> ApiError:
    fields: dict[str, str] = {}
    if is_xml_body(content):
        try:
            fields = decode_xml(content)
        except ValueError:
            fields = {}
    code = fields.get("return_code") or None
    message = fields.get("return_msg") or (None if fields else content[:200].decode("utf-8", errors="replace"))
    return ApiError(status, code, message or None, detail=fields or None, response=response)


def finish_v2_call(
    call: V2Call,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    secret: KeyText | None,
    validate_response: bool = False,
    url: str | None = None,
) -> V2Response:
    """The verified answer, or an error (pure: tests feed it bytes).

    - HTTP 4xx/5xx: ``ApiError`` (with ``return_code``/``return_msg`` when the body is v2 XML);
    - a bill of a ``download`` operation (not XML): returned as ``content``;
    - XML: ``return_code`` FAIL -> ``ApiError``; then the sign is verified
      (``SignatureError``) unless the spec marks the answer ``unsigned``; then
      ``result_code`` FAIL -> ``ApiError`` (so a forged business failure is refused).

    Every ``ApiError`` carries the response (``.response``) and the decoded
    fields (``.detail``).
    """
    secret = seal(secret)  # this frame raises: hold the secret wrapped
    response = V2Response(
        status, headers, content, method=call.method, url=url or call.url, json_fields=call.rules.response_json
    )
    if not 200 <= status < 300:
        raise _http_error(call, status, content, response)
    if call.rules.download and not is_xml_body(content):
        return response
    if call.rules.json_answer and not is_xml_body(content):
        return _finish_json(call, response, content, secret)
    verify = not call.rules.unsigned_answer
    try:
        fields = parse_v2_response(content, secret=secret or "", verify_sign=verify, status_code=status)
    except ApiError as failed:
        failed.response = response
        raise
    response.data = fields
    response.verified = detect_sign_type(fields) if verify else None
    operation = call.operation
    if validate_response and operation is not None and operation.schema("response") is not None:
        for problem in validate_fields(operation, "response", fields, json_fields=call.rules.response_json):
            log.warning("answer of %s %s does not match its spec: %s", call.method, call.key, problem)
    return response


def _finish_json(call: V2Call, response: V2Response, content: bytes, secret: KeyText | None) -> V2Response:
    """A v2 answer in JSON (``appauth/getaccesstoken``): ``retcode`` 0 or ``ApiError``.

    Such answers carry no ``sign`` in the catalogue; one is verified when present,
    and demanded when the spec's answer lists it.
    """
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ApiError(response.status_code, None, "the answer is not a JSON object", response=response)
    retcode = document.get("retcode")
    if retcode is not None and str(retcode) != "0":
        raise ApiError(response.status_code, str(retcode), document.get("retmsg"), detail=document, response=response)
    expected = call.operation is not None and "sign" in properties(call.operation, "response")
    if (document.get("sign") or expected) and not call.rules.unsigned_answer:
        verify_v2_fields(document, secret or "")
        response.verified = detect_sign_type(document)
    response.data = document
    return response
