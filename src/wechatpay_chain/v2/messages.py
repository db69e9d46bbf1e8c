"""v2 requests and answers, sans-I/O: both the merchant's side and the platform's.

Merchant: :func:`prepare_v2_request` checks, completes, signs and encodes a
payload; :func:`parse_v2_response` decodes an answer, checks the sign and
turns FAIL into ``ApiError``. Platform (the mock): :func:`parse_v2_request`
checks a request's sign, :func:`sign_v2_answer` / :func:`v2_return_fail` /
:func:`v2_result_fail` build answers. Notification acknowledgements:
:func:`v2_ack`.

A v2 answer fails at two levels: ``return_code`` FAIL (the call itself was
refused: bad sign, bad XML, missing field; usually unsigned) and ``result_code``
FAIL (the business operation failed, with ``err_code``/``err_code_des``; signed, and
its sign is checked before it becomes an ``ApiError``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..errors import ApiError, FieldProblem, SignatureError, ValidationError
from ..trust.crypto import KeyText, seal
from ..v3.protocol import new_nonce
from .codec import XmlError, decode_xml, encode_xml, field_text
from .signing import HMAC_SHA256, MD5, detect_sign_type, resolve_sign_type, sign_v2, verify_v2_sign

__all__ = [
    "MERCHANT_ID_FIELDS",
    "parse_v2_request",
    "parse_v2_response",
    "prepare_v2_request",
    "sign_v2_answer",
    "v2_ack",
    "v2_result_fail",
    "v2_return_fail",
    "verify_v2_fields",
]

# The names v2 payloads give the calling merchant's id (combined orders use the last).
MERCHANT_ID_FIELDS = ("mch_id", "mchid", "combine_mch_id")
SUCCESS = "SUCCESS"
FAIL = "FAIL"


def prepare_v2_request(
    params: Mapping[str, Any],
    *,
    mchid: str,
    secret: KeyText,
    sign_type: str = MD5,
    nonceless: bool = False,
    nonce: str | None = None,
    cdata: Collection[str] = (),
    json_fields: Collection[str] = (),
    defaults: Mapping[str, Any] | None = None,
    operation: str = "v2",
) -> tuple[bytes, dict[str, Any]]:
    """The signed XML body of one v2 call, and the fields it carries.

    - ``mch_id``/``mchid``/``combine_mch_id``, where present, must equal ``mchid``
      (checked, never filled in: which name an operation uses is its spec's business);
    - ``defaults`` fill fields the payload lacks (the spec-aware caller passes e.g.
      ``{"appid": ...}`` only where the operation has that field);
    - ``nonce_str`` is added (``nonce`` or 32 CSPRNG characters) unless present or
      ``nonceless``;
    - the payload's own ``sign_type`` chooses the algorithm, else ``sign_type``;
      HMAC-SHA256 is written into ``sign_type`` because the platform assumes MD5
      (a payload's own ``sign_type`` is kept, in its canonical spelling);
    - ``sign`` is computed (any given one is replaced) and the XML encoded.

    Raises ``ValidationError`` (all problems at once, nothing is built) for a
    merchant id mismatch or an unknown ``sign_type``; ``XmlError`` for a field
    that cannot be written.
    """
    problems: list[FieldProblem] = []
    for name in MERCHANT_ID_FIELDS:
        if params.get(name) is not None and field_text(name, params[name]) != mchid:
            problems.append(
                FieldProblem(
                    f"/xml/{name}",
                    "merchant",
                    f"{params[name]!r} is not the configured merchant id {mchid!r}",
                )
            )
    try:
        algorithm = resolve_sign_type(params, sign_type, operation=operation, part="xml")
    except ValidationError as invalid:
        problems.extend(invalid.errors)
        algorithm = MD5
    if problems:
        raise ValidationError(operation, problems)

    fields: dict[str, Any] = {name: value for name, value in params.items() if name != "sign"}
    for name, value in (defaults or {}).items():
        if fields.get(name) is None:
            fields[name] = value
    if not nonceless and not fields.get("nonce_str"):
        fields["nonce_str"] = nonce or new_nonce()
    if algorithm == HMAC_SHA256 or fields.get("sign_type"):
        fields["sign_type"] = algorithm  # the canonical spelling of what the sign uses
    fields["sign"] = sign_v2(fields, secret, algorithm)
    return encode_xml(fields, cdata, json_fields), fields


def verify_v2_fields(fields: Mapping[str, str], secret: KeyText, *, what: str = "answer") -> None:
    """Raise ``SignatureError`` (check ``sign``) unless ``fields`` carry a valid sign."""
    secret = seal(secret)  # this frame raises: hold the secret wrapped
    if not fields.get("sign"):
        raise SignatureError("sign", "missing")
    algorithm = detect_sign_type(fields)
    if algorithm is None:
        raise SignatureError("sign", "unknown algorithm: no known sign_type and not a 32/64-character sign")
    if not verify_v2_sign(fields, secret):
        raise SignatureError("sign", f"the {algorithm} sign does not match the {what}")


def parse_v2_response(
    body: bytes, *, secret: KeyText, verify_sign: bool = True, status_code: int = 200
) -> dict[str, str]:
    """The fields of a successful, verified v2 answer.

    Raises, in this order: ``XmlError`` (not a v2 answer: refused XML, or no
    ``return_code``); ``ApiError`` with ``code=return_code``,
    ``message=return_msg`` when ``return_code`` is not SUCCESS (the platform's
    refusal of the call, unsigned); ``SignatureError`` when ``verify_sign`` and the
    sign is missing or wrong; ``ApiError`` with ``code=err_code``,
    ``message=err_code_des`` when ``result_code`` is present and not SUCCESS (a
    business failure, whose sign has been checked). ``ApiError.detail`` is the whole
    decoded answer. Pass ``verify_sign=False`` only for the operations the
    catalogue documents as unsigned.
    """
    secret = seal(secret)  # this frame raises: hold the secret wrapped
    fields = decode_xml(body)
    return_code = fields.get("return_code")
    if return_code is None:
        raise XmlError("the answer has no <return_code>: not a v2 answer")
    if return_code != SUCCESS:
        raise ApiError(status_code, return_code, fields.get("return_msg") or None, detail=fields)
    if verify_sign:
        # Before result_code: a business failure is signed like a success (as the official
        # v2 SDK checks it), so a forged FAIL (AUTHCODEEXPIRE for a paid order) is refused.
        verify_v2_fields(fields, secret)
    result_code = fields.get("result_code")
    if result_code is not None and result_code != SUCCESS:
        raise ApiError(
            status_code,
            fields.get("err_code") or result_code,
            fields.get("err_code_des") or None,
            detail=fields,
        )
    return fields


def parse_v2_request(body: bytes, *, secret: KeyText) -> dict[str, str]:
    """The platform's side: the fields of a request whose sign checks out.

    Raises ``XmlError`` for a refused body and ``SignatureError`` for a missing
    or wrong sign (the mock answers both with ``return_code`` FAIL).
    """
    fields = decode_xml(body)
    verify_v2_fields(fields, secret, what="request")
    return fields


def _cdata_for_text(params: Mapping[str, Any]) -> list[str]:
    # The platform wraps every text value in CDATA and leaves numbers bare.
    return [name for name, value in params.items() if isinstance(value, str)]


def sign_v2_answer(params: Mapping[str, Any], secret: KeyText, sign_type: str = MD5) -> bytes:
    """The platform's side: ``params`` signed and encoded as an answer or notification.

    Fields are written as given (add ``return_code`` and the rest yourself); no
    ``sign_type`` is added, since the platform's answers rely on the sign length.
    """
    fields = {name: value for name, value in params.items() if name != "sign"}
    fields["sign"] = sign_v2(fields, secret, sign_type)
    return encode_xml(fields, cdata=_cdata_for_text(fields))


def v2_return_fail(return_msg: str) -> bytes:
    """The platform's unsigned refusal: ``return_code`` FAIL with ``return_msg``."""
    answer = {"return_code": FAIL, "return_msg": return_msg}
    return encode_xml(answer, cdata=("return_code", "return_msg"))


def v2_result_fail(
    err_code: str,
    err_code_des: str,
    *,
    secret: KeyText,
    fields: Mapping[str, Any] | None = None,
    sign_type: str = MD5,
) -> bytes:
    """The platform's signed business failure: ``result_code`` FAIL with ``err_code``.

    ``fields`` adds the operation's other answer fields (``appid``, ``mch_id``, ...).
    """
    answer: dict[str, Any] = {"return_code": SUCCESS, "return_msg": "OK"}
    answer.update(fields or {})
    answer.update(result_code=FAIL, err_code=err_code, err_code_des=err_code_des)
    answer.setdefault("nonce_str", new_nonce())
    return sign_v2_answer(answer, secret, sign_type)


def v2_ack(success: bool = True, message: str = "OK") -> bytes:
    """The merchant's reply to a v2 notification (``return_code`` SUCCESS or FAIL)."""
    return encode_xml(
        {"return_code": SUCCESS if success else FAIL, "return_msg": message},
        cdata=("return_code", "return_msg"),
    )
