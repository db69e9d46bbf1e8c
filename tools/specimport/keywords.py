"""JSON Schema keyword tables and value helpers shared by the schema converter."""

from __future__ import annotations

import re
from typing import Any

from .source import Json

Schema = dict[str, Any]

JSON_TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
KEYWORD_ORDER = (
    "$ref", "title", "type", "format", "contentMediaType", "enum", "const", "default",
    "pattern", "minLength", "maxLength", "minimum", "exclusiveMinimum", "maximum",
    "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "required",
    "properties", "patternProperties", "additionalProperties", "items", "oneOf", "anyOf", "allOf",
    "contentSchema", "deprecated", "examples", "$defs",
)  # fmt: skip
"""The order keywords are written in, so that output is stable and reads top-down."""
COPIED_KEYWORDS = (
    "pattern", "minLength", "maxLength", "minimum", "maximum", "multipleOf",
    "minItems", "maxItems", "uniqueItems", "default", "const",
)  # fmt: skip
"""Keywords that mean the same in Swagger 2.0 and JSON Schema 2020-12."""
CONVERTED_KEYWORDS = frozenset({
    "description", "xml", "example", "nullable", "x-json", "x-key", "x-urlencode",
    "x-is-sensitive", "x-prop-one-of", "type", "format", "enum", "required", "properties",
    "items", "additionalProperties", "allOf", "oneOf", "anyOf", "$ref", "deprecated",
    "title", "exclusiveMinimum", "exclusiveMaximum", "readOnly",
})  # fmt: skip
"""Keywords the converter reads (and rewrites or drops); anything else is reported."""

_NUMBERED = re.compile(r"\$[a-z](?![a-z])")
_NUMBERED_ESCAPED = re.compile(r"\\\$[a-z](?![a-z])")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_RANK = {key: index for index, key in enumerate(KEYWORD_ORDER)}


def is_numbered(name: str) -> bool:
    """True for v2's numbered field names such as `coupon_id_$n` or `coupon_type_$n_$m`."""
    return bool(_NUMBERED.search(name))


def numbered_pattern(name: str) -> str:
    """`coupon_id_$n` (v2's numbered fields coupon_id_0, coupon_id_1 ...) -> `^coupon_id_\\d+$`."""
    return "^" + _NUMBERED_ESCAPED.sub(r"\\d+", re.escape(name)) + "$"


def coerce_value(value: Json, declared: Json) -> Json:
    """Give an example or enum value the declared type when the source wrote another.

    v2 values are XML text, so integers often arrive quoted (`'888'` -> 888); an unquoted
    `1230000109` for a string field arrives as a number (-> `'1230000109'`). The fact is
    the same either way; values that do not convert are left as they are.
    """
    types = declared if isinstance(declared, list) else [declared]
    if isinstance(value, str):
        if "integer" in types and _INTEGER.match(value):
            return int(value)
        if "number" in types and _NUMBER.match(value):
            return int(value) if _INTEGER.match(value) else float(value)
        if "boolean" in types and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif isinstance(value, bool):
        if "string" in types and "boolean" not in types:
            return "true" if value else "false"
    elif isinstance(value, (int, float)) and "string" in types and not {"integer", "number"} & set(types):
        return str(value)
    return value


def copy_exclusive_bounds(node: dict[str, Any], out: Schema) -> None:
    """Swagger 2 writes `exclusiveMinimum: true` beside `minimum`; 2020-12 wants the number."""
    for flag, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(flag) is True and bound in out:
            out[flag] = out.pop(bound)
        elif isinstance(node.get(flag), (int, float)) and not isinstance(node.get(flag), bool):
            out[flag] = node[flag]


def is_plain_object(schema: Schema) -> bool:
    """True for an object schema that `allOf` merging can fold in (no refs, no alternatives)."""
    if any(key in schema for key in ("$ref", "allOf", "oneOf", "anyOf")):
        return False
    return schema.get("type") in (None, "object", ["object", "null"])


def is_enum_only(schema: Schema) -> bool:
    """A scalar schema that is just an enumeration (with type, title, examples)."""
    scalar = not any(key in schema for key in ("$ref", "allOf", "oneOf", "anyOf", "properties", "items"))
    return scalar and isinstance(schema.get("enum"), list)


def merge_enums(parts: list[Schema], rest: Schema) -> Schema:
    """The source writes `allOf: [SharedEnum, {enum: [more values]}]` to extend an enumeration.

    Taken literally, two disjoint enums admit nothing (and a nullable parent still could not
    be null); the intent is the union, so merge them into one enum.
    """
    merged: Schema = dict(rest)
    for part in parts:
        for key, value in part.items():
            if key != "enum":
                merged.setdefault(key, value)
    values = unique([value for part in parts for value in part["enum"]])
    types = merged.get("type")
    if isinstance(types, list) and "null" in types and None not in values:
        values.append(None)
    merged["enum"] = values
    return ordered(merged)


def shorten(text: str, limit: int = 80) -> str:
    """The text cut to `limit` characters, for report lines."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unique(values: list[Any]) -> list[Any]:
    """Values without repeats, first occurrence kept; `1` and `True` stay distinct."""
    seen: list[Any] = []
    for value in values:
        if not any(type(known) is type(value) and known == value for known in seen):
            seen.append(value)
    return seen


def ordered(schema: Schema) -> Schema:
    """The schema with its keywords in `KEYWORD_ORDER`."""
    return dict(sorted(schema.items(), key=lambda item: _RANK.get(item[0], len(_RANK))))
