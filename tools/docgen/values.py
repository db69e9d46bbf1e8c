"""Plausible values for example fields the spec gives no example for (instead of ``"string"``).

:func:`wechatpay_chain.mock.examples.example_for` falls back to the text ``"string"`` (cut
to ``maxLength``, padded with ``x`` to ``minLength``) for a string field that has no
example, no pattern and no known format, and for a required field the spec never
describes. A reference page should show a value a reader could mistake for a real one,
so :class:`FieldValues` replaces each such placeholder, deterministically, with:

1. the example most often given for a field of the same name elsewhere in the catalogue
   (ties broken by the value's text), when it fits this field's schema;
2. else a value made from the field's name, title and format (a time, a URL, a phone
   number, an order number ...), fitted to its length limits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator

from wechatpay_chain.catalog.specs import Operation

__all__ = ["FieldValues", "is_placeholder"]

_PLACEHOLDER = re.compile(r"^(?:s|st|str|stri|strin|string)x*$")
_PARTS = ("path", "query", "headers", "json", "xml", "form", "meta", "response")
_FORMATS = {"date-time": "2015-05-20T13:29:35+08:00", "date": "2015-05-20", "uri": "https://www.example.com/"}
# (pattern over the name, or over the title, value), first match wins
_BY_NAME: tuple[tuple[str, str, str], ...] = (
    (r"time$", r"时间", _FORMATS["date-time"]),
    (r"(^|_)date$", r"日期", _FORMATS["date"]),
    (r"url|uri|link", r"链接|地址URL|网址", "https://www.example.com/"),
    (r"phone|mobile|tel", r"手机|电话", "13800138000"),
    (r"email|mail", r"邮箱", "user@example.com"),
    (r"(^|_)(no|id|num|code|number)$|id$", r"号$|编号|单号|ID$|id$", "1217752501201407033233368018"),
    (r"(amount|fee|price)$", r"金额$", "100"),
    (r"copy|pic|media", r"照片|图片|MediaID", "6uqyGjGrCf2GtyXP8bxrbuH9-aAoTjH-rKeSl3Lf4_So6kdkQu4w8BYVP3bziLdbnw"),
    (r"ip$", r"IP", "192.168.0.1"),
)


def is_placeholder(value: Any, schema: Mapping[str, Any] | None) -> bool:
    """True for the ``"string"`` fallback (cut or padded), unless the spec itself gives that value."""
    if not isinstance(value, str) or not _PLACEHOLDER.match(value):
        return False
    given = (schema or {}).get("examples") or []
    return value not in given and value not in ((schema or {}).get("enum") or [])


class FieldValues:
    """Example values by field name over a whole catalogue, and the replacement of placeholders."""

    def __init__(self, operations: Iterable[Operation] = ()) -> None:
        self._seen: dict[str, Counter[str]] = {}
        for operation in operations:
            for part in _PARTS:
                schema = operation.schema(part)
                if schema is not None:
                    for name, child in _named_fields(schema):
                        examples = child.get("examples") or []
                        if examples and isinstance(examples[0], str) and not is_placeholder(examples[0], {}):
                            self._seen.setdefault(name, Counter())[examples[0]] += 1

    def value_for(self, name: str, schema: Mapping[str, Any] | None) -> str:
        """A value for the string field ``name``: a catalogue example that fits, else one made up."""
        schema = {k: v for k, v in (schema or {}).items() if k not in ("examples", "example")}
        checker = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        seen = self._seen.get(name, Counter())
        for value, _count in sorted(seen.items(), key=lambda item: (-item[1], item[0])):
            if checker.is_valid(value):
                return value
        made = _fit(_made_up(name, schema), schema)
        return made if checker.is_valid(made) else _fit(name.replace("_", "-") or "example", schema)

    def fill(self, value: Any, schema: Mapping[str, Any] | None, name: str = "") -> Any:
        """``value`` with every placeholder inside it replaced (containers are changed in place)."""
        schema = schema if isinstance(schema, Mapping) else {}
        if isinstance(value, dict):
            for key in list(value):
                value[key] = self.fill(value[key], _child(schema, key), key)
            return value
        if isinstance(value, list):
            items = schema.get("items") if isinstance(schema.get("items"), Mapping) else {}
            for index, item in enumerate(value):
                value[index] = self.fill(item, items, name)
            return value
        if name and is_placeholder(value, schema):
            return self.value_for(name, schema)
        return value


def _named_fields(schema: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(name, schema) of every property at any depth, through arrays and ``allOf``/``anyOf``/``oneOf``."""
    for name, child in (schema.get("properties") or {}).items():
        if isinstance(child, Mapping):
            yield str(name), child
            yield from _named_fields(child)
            if isinstance(child.get("items"), Mapping):
                yield from _named_fields(child["items"])
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword) or ():
            if isinstance(branch, Mapping):
                yield from _named_fields(branch)


def _child(schema: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = (schema.get("properties") or {}).get(key)
    if isinstance(found, Mapping):
        return found
    for pattern, child in (schema.get("patternProperties") or {}).items():
        if re.search(pattern, key) and isinstance(child, Mapping):
            return child
    for keyword in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(keyword) or ():
            if isinstance(branch, Mapping) and isinstance(found := _child(branch, key), Mapping) and found:
                return found
    return {}


def _made_up(name: str, schema: Mapping[str, Any]) -> str:
    if str(schema.get("format")) in _FORMATS:
        return _FORMATS[str(schema["format"])]
    title = str(schema.get("title") or "")
    for name_rule, title_rule, value in _BY_NAME:
        if re.search(name_rule, name, re.IGNORECASE) or (title and re.search(title_rule, title)):
            return value
    if title and "-" not in name:  # a header (Wechatpay-Nonce) travels as Latin-1 text: no 示例
        return f"示例{title}"
    return f"example-{name.replace('_', '-').lower()}"


def _fit(text: str, schema: Mapping[str, Any]) -> str:
    """``text`` cut to ``maxLength`` and padded with ``0`` to ``minLength``."""
    low = int(schema.get("minLength", 0))
    high = int(schema.get("maxLength", max(len(text), low)))
    return text.ljust(low, "0")[: max(high, low)]
