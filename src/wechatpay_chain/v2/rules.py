"""What a v2 operation's spec says about its payload, read in one place.

The merchant's flow (:mod:`.flow`) and the mock platform (``mock/v2.py``) both
read a v2 spec through :func:`rules_for` and validate through
:func:`validate_fields`, so the client refuses exactly what the mock would
refuse, and neither has an ``if path == ...``.

v2 puts every value on the wire as text, so a payload is validated in its
*wire view* (:func:`wire_view`): each value as the text it is sent as, then a
text that spells a number (or ``true``/``false``) turned back into one where the
schema asks for it (``total_fee="1"`` and ``total_fee=1`` are the same request).
JSON-in-a-string fields (``detail``, ``scene_info``, ``receivers``...) must hold
JSON text. A field the sender computes (``sign``) is never reported: its
schema's ``maxLength: 32`` predates HMAC-SHA256 signs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from ..catalog.specs import Operation
from ..errors import FieldProblem
from .codec import field_text
from .messages import MERCHANT_ID_FIELDS
from .signing import MD5, SIGN_TYPES

__all__ = ["V2Rules", "properties", "rules_for", "spec_values", "validate_fields", "wire_view"]

JSON_MEDIA_TYPE = "application/json"
_INTEGER = re.compile(r"-?\d+\Z")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?\Z")
COMPUTED_FIELDS = ("sign",)


@dataclass(frozen=True)
class V2Rules:
    """The v2 facts of one operation (defaults for a path the catalogue lacks)."""

    part: str  # where the signed fields travel: "xml" (POST body), "query" (GET) or "form" (upload)
    signed: bool  # the request carries a sign (every v2 call but the OAuth-like redirect)
    nonceless: bool
    sign_type: str  # the algorithm used when the payload names none
    cdata: tuple[str, ...] = ()
    json_fields: tuple[str, ...] = ()
    urlencode_fields: tuple[str, ...] = ()
    response_json: tuple[str, ...] = ()
    merchant_fields: tuple[str, ...] = ()  # the spec's merchant-id fields, filled from client.mchid
    cert_required: bool = False
    unsigned_answer: bool = False
    download: bool = False
    json_answer: bool = False  # the spec's answer is JSON (retcode/retmsg), not XML
    redirect: bool = False


def _top_level(pointers: Any) -> tuple[str, ...]:
    """Field names from the spec's pointers (``/detail``); deeper pointers are not v2 fields."""
    names = []
    for pointer in pointers or ():
        name = str(pointer).strip("/")
        if name and "/" not in name:
            names.append(name)
    return tuple(names)


def properties(operation: Operation | None, part: str) -> Mapping[str, Any]:
    """The field schemas of ``part`` (``xml``/``query``), empty when the spec has none."""
    schema = operation.schema(part) if operation is not None else None
    found = schema.get("properties") if schema is not None else None
    return found if isinstance(found, Mapping) else {}


def _default_sign_type(operation: Operation, fields: Mapping[str, Any]) -> str:
    # The platform assumes the field's documented default when sign_type is absent
    # (h5entrustweb: HMAC-SHA256); otherwise MD5 unless the operation knows only others.
    declared = (fields.get("sign_type") or {}).get("default") if isinstance(fields.get("sign_type"), Mapping) else None
    if isinstance(declared, str) and declared.upper() in SIGN_TYPES:
        return declared.upper()
    allowed = [str(kind).upper() for kind in operation.spec.get("sign_type") or () if str(kind).upper() in SIGN_TYPES]
    return MD5 if not allowed or MD5 in allowed else allowed[0]


def rules_for(operation: Operation | None, method: str) -> V2Rules:
    """The rules of ``operation``; for a path outside the catalogue: signed, MD5, nonce."""
    part = "query" if method.upper() == "GET" else "xml"
    if operation is None:
        return V2Rules(part=part, signed=True, nonceless=False, sign_type=MD5)
    if part == "xml" and operation.schema("form") is not None:
        part = "form"  # a multipart upload (secapi/mch/uploadmedia): signed over its form fields
    fields = properties(operation, part)
    nesting = operation.spec.get("xml_nesting") or {}
    answer_nesting = operation.spec.get("response_xml_nesting") or {}
    json_fields = set(_top_level(nesting.get("json")))
    json_fields.update(
        name
        for name, field in fields.items()
        if isinstance(field, Mapping) and field.get("contentMediaType") == JSON_MEDIA_TYPE
    )
    return V2Rules(
        part=part,
        signed=not fields or "sign" in fields,
        nonceless=operation.flag("nonceless"),
        sign_type=_default_sign_type(operation, fields),
        cdata=_top_level(nesting.get("cdata")),
        json_fields=tuple(sorted(json_fields)),
        urlencode_fields=_top_level(nesting.get("urlencode")),
        response_json=_top_level(answer_nesting.get("json")),
        merchant_fields=tuple(name for name in MERCHANT_ID_FIELDS if name in fields),
        cert_required=operation.flag("cert_required"),
        unsigned_answer=operation.flag("unsigned"),
        download=operation.flag("download"),
        json_answer=JSON_MEDIA_TYPE in (operation.spec.get("produces") or ()),
        redirect=operation.flag("redirect"),
    )


def spec_values(operation: Operation | None, part: str, params: Mapping[str, Any], rules: V2Rules) -> dict[str, Any]:
    """A copy of ``params`` with the values the spec tells how to write made text.

    A mapping given for an ``a=1&b=2`` field (``urlencode``) is URL-encoded; a
    ``bool`` for a field the spec types ``boolean`` is ``true``/``false``. Other
    bools stay refused by the codec: v2 spells yes/no differently per field.
    """
    copy = dict(params)
    for name, value in params.items():
        if name in rules.urlencode_fields and isinstance(value, Mapping):
            copy[name] = urlencode([(str(key), field_text(str(key), item)) for key, item in value.items()])
        elif isinstance(value, bool) and "boolean" in _types(_field_schema(operation, part, name)):
            copy[name] = "true" if value else "false"
    return copy


def _types(schema: Any) -> set[str]:
    kind = schema.get("type") if isinstance(schema, Mapping) else None
    if isinstance(kind, str):
        return {kind}
    return {str(k) for k in kind} if isinstance(kind, list) else set()


def _field_schema(operation: Operation | None, part: str, name: str) -> Any:
    """A field's schema: by name, else by pattern (numbered fields: ``coupon_fee_$n``)."""
    found = properties(operation, part).get(name)
    if found is not None or operation is None:
        return found
    schema = operation.schema(part)
    patterns = schema.get("patternProperties") if schema is not None else None
    for pattern, candidate in (patterns or {}).items() if isinstance(patterns, Mapping) else ():
        if re.search(str(pattern), name):
            return candidate
    return None


def wire_view(operation: Operation | None, part: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` as the receiver sees them: text, with numbers where the schema wants one."""
    view: dict[str, Any] = {}
    for name, value in fields.items():
        text = field_text(name, value)
        if text is None:
            continue
        kinds = _types(_field_schema(operation, part, name))
        number: Any = text
        if "string" not in kinds:
            if "boolean" in kinds and text.lower() in ("true", "false"):
                number = text.lower() == "true"  # the platform reads 'TRUE' as 'true'
            elif "array" in kinds and not isinstance(value, (list, tuple)):
                number = [text]  # one value for a field the spec types as a list
            elif "integer" in kinds and _INTEGER.match(text):
                number = int(text)
            elif "number" in kinds and _NUMBER.match(text):
                number = float(text)
        view[name] = number
    return view


def validate_fields(
    operation: Operation, part: str, fields: Mapping[str, Any], *, json_fields: tuple[str, ...] = ()
) -> list[FieldProblem]:
    """Every problem of ``fields`` against the spec's ``part``, pointers ``/{part}/name``.

    A JSON field must hold JSON text; its ``contentSchema`` is not enforced. It is an
    annotation in Draft 2020-12, the v3 side does not enforce it either, and the
    catalogue's JSON examples and content schemas disagree often enough (a field
    required in one, absent in the other) that enforcing it would refuse calls the
    platform accepts.
    """
    view = wire_view(operation, part, fields)
    computed = {f"/{part}/{name}" for name in COMPUTED_FIELDS}
    errors = [error for error in operation.validate({part: view}) if error.pointer not in computed]
    for name in json_fields:
        text = view.get(name)
        if not isinstance(text, str) or not text:
            continue
        try:
            json.loads(text)
        except ValueError:
            errors.append(FieldProblem(f"/{part}/{name}", "contentMediaType", "is not JSON text"))
    return errors
