"""One v3 call as pure steps: prepare (path, validate, encrypt, serialise), sign, finish.

The client runs these in order around the transport::

    prepared = prepare_call(...)          # once: nothing is sent if this raises
    headers  = sign_call(prepared, ...)   # per attempt: fresh nonce and timestamp
    answer   = await transport.send(...)  # the only I/O
    response = finish_call(prepared, ...) # verify (fail closed) or raise ApiError
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric import rsa

from ..catalog.specs import Operation
from ..catalog.wire_values import query_view, read_text_values
from ..defaults import fill_defaults
from ..errors import ApiError, FieldProblem, SignatureError, ValidationError
from ..naming import Segment, check_literal
from ..response import Response
from ..trust.keyring import PUBLIC_KEY_ID_PREFIX
from .fields import encode_json_strings, encrypt_fields, encrypt_query
from .media import build_multipart, read_upload
from .protocol import (
    digest_matches,
    dump_json,
    find_header,
    format_authorization,
    new_nonce,
    request_signing_string,
    verify_digest_signed,
    verify_signed_message,
)
from .signed_headers import SignedHeaders

if TYPE_CHECKING:
    from ..merchant_key import MerchantKey

__all__ = [
    "PreparedCall",
    "answer_is_signed",
    "build_target",
    "call_signing_string",
    "finish_call",
    "merge_headers",
    "prepare_call",
    "set_header",
    "sign_call",
    "signed_call_headers",
]

log = logging.getLogger("wechatpay_chain")

# Characters left as they are in a path value: RFC 3986 unreserved only, so that a
# value is percent-encoded exactly once and the signature covers the same bytes.
_UNRESERVED = "-._~"


@dataclass
class PreparedCall:
    method: str
    key: str  # spec key, e.g. v3/pay/transactions/out-trade-no/{out_trade_no}
    target: str  # the request target that is signed and sent: /path?query
    body: bytes
    headers: dict[str, str]
    operation: Operation | None
    signed_body: bytes | None = None  # what the signature covers when not the body (uploads: meta)
    decrypt: bool = False  # decrypt=True: open the answer fields the spec marks encrypted
    idempotent: bool = False  # may be sent again after it may have reached the platform


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_query_value(item) for item in value)  # arrays travel comma-separated
    return str(value)


def set_header(headers: dict[str, str], name: str, value: str) -> None:
    """Set ``name`` to ``value``, replacing it in whatever case it was written: one line per name."""
    lowered = name.lower()
    for existing in [key for key in headers if key.lower() == lowered]:
        del headers[existing]
    headers[name] = value


def merge_headers(headers: dict[str, str], extra: Mapping[str, str] | None, operation: str) -> dict[str, str]:
    """The caller's headers over ours, one line per name in any case (v3 and v2).

    ``Authorization`` (in any case) is the client's to write: a caller's would go out
    next to the signed one, so it is refused (``ValidationError``) and nothing is sent.
    """
    for name, value in (extra or {}).items():
        if str(name).lower() == "authorization":
            message = "the client signs every request: do not pass an Authorization header"
            raise ValidationError(operation, [FieldProblem("/headers/Authorization", "reserved", message)])
        set_header(headers, name, value)
    return headers


def build_target(url_path: str, query: Mapping[str, Any] | None) -> str:
    """``/path?k=v&...``: query values percent-encoded once, in the caller's order."""
    if not query:
        return url_path
    pairs = "&".join(
        f"{quote(str(name), safe=_UNRESERVED)}={quote(_query_value(value), safe=_UNRESERVED)}"
        for name, value in query.items()
        if value is not None
    )
    return f"{url_path}?{pairs}" if pairs else url_path


def fill_path(
    segments: Sequence[Segment], values: Mapping[str, Any], operation: Operation | None
) -> tuple[str, dict[str, str], list[FieldProblem]]:
    """The URL path with every template filled, the path values, and what is missing."""
    path_values: dict[str, str] = {}
    missing: list[FieldProblem] = []
    for segment in segments:
        if segment.template is None:
            check_literal(segment.text or "")  # chain() checks too; attributes and raw segments here
            continue
        if segment.text is not None:
            path_values[segment.template] = segment.text
        elif segment.template in values and values[segment.template] is not None:
            path_values[segment.template] = str(values[segment.template])
        else:
            missing.append(
                FieldProblem(f"/path/{segment.template}", "required", f"path value '{segment.template}' is missing")
            )
    for name, value in path_values.items():
        if value in ("", ".", ".."):
            # Empty, "." and ".." would change the path the request goes to.
            missing.append(FieldProblem(f"/path/{name}", "pattern", f"{value!r} cannot be a path value"))
    if operation is not None:
        template = operation.url
    else:
        template = "/" + "/".join(s.spec_text for s in segments)
        if template.startswith("/v2/"):
            template = template[3:]
    wire = template
    for name, value in path_values.items():
        wire = wire.replace("{" + name + "}", quote(value, safe=_UNRESERVED))
    return wire, path_values, missing


def prepare_call(
    method: str,
    segments: Sequence[Segment],
    *,
    operation: Operation | None,
    query: Mapping[str, Any] | None,
    json_body: Any,
    headers: Mapping[str, str] | None,
    path_values: Mapping[str, Any],
    validate: bool,
    encryption: tuple[str, rsa.RSAPublicKey] | None,
    files: Mapping[str, Any] | None = None,
    defaults: Mapping[str, str] | None = None,
) -> PreparedCall:
    """Everything that happens before signing. Raises ``ValidationError``; sends nothing.

    ``defaults`` fill the top-level body and query fields the spec has and the caller left
    out (defaults.py), before validation.
    """
    key = "/".join(s.spec_text for s in segments)
    url_path, values, errors = fill_path(segments, path_values, operation)
    final_headers = merge_headers({"Accept": "application/json"}, headers, f"{method} {key}")
    spec: Mapping[str, Any] = operation.spec if operation is not None else {}
    if defaults and operation is not None:
        query = fill_defaults(operation.schema("query"), query, defaults)
        if files is None and not spec.get("upload"):
            json_body = fill_defaults(operation.schema("json"), json_body, defaults)
    if json_body is not None and spec.get("json_strings"):
        json_body = encode_json_strings(json_body, spec["json_strings"])
    plain_json, plain_query = json_body, query  # validated as the caller wrote them, before encryption
    # Ciphertext the caller made themselves comes with their own Wechatpay-Serial.
    caller_serial = find_header(headers or {}, "Wechatpay-Serial")
    if caller_serial is None and encryption is not None and encryption[0].startswith(PUBLIC_KEY_ID_PREFIX):
        # In public-key mode the platform signs its answer with the public key only when
        # the request names it, so name it on every request.
        final_headers["Wechatpay-Serial"] = encryption[0]
    body_pointers = list(spec.get("encrypt") or ()) if json_body is not None else []
    query_pointers = list(spec.get("encrypt_query") or ()) if query else []
    if (body_pointers or query_pointers) and caller_serial is None:
        if encryption is None:
            errors.append(
                FieldProblem("/headers/Wechatpay-Serial", "encrypt", "sensitive fields need a platform public key")
            )
        else:
            serial, public_key = encryption
            if body_pointers:
                json_body = encrypt_fields(json_body, body_pointers, public_key)
            if query_pointers and query:
                query = encrypt_query(query, query_pointers, public_key)
            set_header(final_headers, "Wechatpay-Serial", serial)
    upload = operation.spec.get("upload") if operation is not None else None
    multipart: tuple[bytes, bytes, str] | None = None
    if files is not None or upload:
        field, filename, content, content_type, meta, problems = read_upload(files or {}, upload, json_body)
        errors.extend(problems)
        if validate and operation is not None and not problems:
            errors.extend(operation.validate({"meta": meta}))
        if not problems:
            multipart = build_multipart(meta, field, filename, content, content_type)
        json_body = None  # for uploads, json= holds the extra meta fields
    if validate and operation is not None:
        # Path values go on the wire as text: validate what the caller meant (42, not "42").
        given = {name: path_values.get(name, text) for name, text in values.items()}
        parts: dict[str, Any] = {"path": read_text_values(operation.schema("path"), given)}
        if plain_query is not None or operation.schema("query") is not None:
            parts["query"] = query_view(operation.schema("query"), plain_query or {})
        if not upload and files is None and (plain_json is not None or operation.schema("json") is not None):
            parts["json"] = plain_json
        if operation.schema("headers") is not None:
            parts["headers"] = {name: value for name, value in final_headers.items()}
        errors.extend(operation.validate(parts))
    if errors:
        # A missing path value is found both by fill_path and by the path schema: report it once.
        unique = {(error.pointer, error.rule): error for error in reversed(errors)}
        raise ValidationError(f"{method} {key}", sorted(unique.values(), key=lambda e: e.pointer))
    target = build_target(url_path, query)
    if multipart is not None:
        body, meta_json, content_type = multipart
        set_header(final_headers, "Content-Type", content_type)
        return PreparedCall(method, key, target, body, final_headers, operation, signed_body=meta_json)
    body = b"" if json_body is None else dump_json(json_body)
    if body and find_header(final_headers, "Content-Type") is None:
        final_headers["Content-Type"] = "application/json"
    return PreparedCall(method, key, target, body, final_headers, operation)


def call_signing_string(prepared: PreparedCall, timestamp: str, nonce: str) -> bytes:
    """What one attempt's signature covers (uploads: the meta JSON, not the multipart body)."""
    body = prepared.body if prepared.signed_body is None else prepared.signed_body
    return request_signing_string(prepared.method, prepared.target, timestamp, nonce, body)


def signed_call_headers(
    prepared: PreparedCall, *, mchid: str, serial: str, timestamp: str, nonce: str, signature: str
) -> SignedHeaders:
    """The headers of one attempt: the prepared ones plus the Authorization around ``signature``."""
    headers = SignedHeaders(prepared.headers)
    headers["Authorization"] = format_authorization(mchid, serial, timestamp, nonce, signature)
    return headers


def sign_call(
    prepared: PreparedCall,
    *,
    merchant: MerchantKey,
    mchid: str,
    timestamp: str,
    nonce: str | None = None,
) -> SignedHeaders:
    """The headers of one attempt, signed now with ``merchant.sign``: fresh nonce, the pair's serial."""
    nonce = nonce or new_nonce()
    signature = merchant.sign(call_signing_string(prepared, timestamp, nonce))
    return signed_call_headers(
        prepared, mchid=mchid, serial=merchant.serial, timestamp=timestamp, nonce=nonce, signature=signature
    )


def answer_is_signed(operation: Operation | None) -> bool:
    """Whether the platform signs this operation's answer: all but those the spec marks
    ``unsigned`` (images, some downloads); an operation outside the catalogue is checked too."""
    return operation is None or not operation.flag("unsigned")


def error_from_answer(status: int, headers: Mapping[str, str], content: bytes, response: Response) -> ApiError:
    """An ``ApiError`` from the platform's ``{"code", "message", "detail"}`` body."""
    code = message = None
    detail: Any = None
    try:
        document = json.loads(content) if content else {}
    except ValueError:
        document = {}
    if isinstance(document, dict):
        code = document.get("code")
        message = document.get("message")
        detail = document.get("detail")
    if message is None and content and not isinstance(document, dict):
        message = content[:200].decode("utf-8", errors="replace")
    return ApiError(status, code, message, detail, response)


def finish_call(
    prepared: PreparedCall,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    url: str,
    keys: Mapping[str, rsa.RSAPublicKey],
    now: Callable[[], float],
    validate_response: bool = False,
) -> Response:
    """Verify a 2xx answer (fail closed) or raise ``ApiError`` for 4xx/5xx."""
    response = Response(status, headers, content, method=prepared.method, url=url)
    if not 200 <= status < 300:
        raise error_from_answer(status, headers, content, response)
    operation = prepared.operation
    digest_header = operation.spec.get("signature_digest_header") if operation is not None else None
    if digest_header:
        # Statements: signed over {"sha1": digest}, and the digest covers the plain CSV.
        response.verified = verify_digest_signed(headers, str(digest_header), keys, now=now)
        try:
            plain = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
        except (OSError, EOFError, zlib.error):
            raise SignatureError("digest", "the statement is not valid gzip") from None
        if not digest_matches(hashlib.sha1(plain).digest(), find_header(headers, str(digest_header)) or ""):
            raise SignatureError("digest", f"SHA1 of the statement does not match {digest_header}")
    elif answer_is_signed(operation):
        response.verified = verify_signed_message(headers, content, keys, now=now)
    if validate_response and operation is not None and content and not operation.flag("download"):
        try:
            problems = operation.validate_response(response.json())
        except ValueError:
            problems = [FieldProblem("/response", "json", "the answer is not JSON")]
        for problem in problems:
            log.warning("answer of %s %s does not match its spec: %s", prepared.method, prepared.key, problem)
    return response
