"""A fast yes/no check for the JSON Schema subset the specs use.

jsonschema reports every problem with its pointer, which is what a caller needs when a
payload is wrong, and costs tens of microseconds per call (and ~30 ms to import) when
it is right. Most payloads are right, so each schema is also compiled into a tree of
small closures that only answers "valid?". When it says yes, the call goes on; when it
says no, jsonschema runs to produce the errors.

The closures must never say yes where jsonschema says no: every keyword is checked
with jsonschema's own semantics (``integer`` takes 1.0 but not True, ``enum`` tells
1 from True, ``pattern`` is ``re.search``, lengths count code points), and a schema
using any keyword outside the subset compiles to ``None``, meaning "ask jsonschema".
A test compares both on the whole catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["FORMATS", "compile_check"]

Check = Callable[[Any], bool]

# Keywords that never affect validity (annotations), in Draft 2020-12 and in our specs.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "examples",
        "deprecated",
        "default",
        "$comment",
        "readOnly",
        "writeOnly",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "$schema",
        "$id",
    }
)
# The formats the specs assert, here and in validation.py's FormatChecker; any other format
# is an annotation. date-time is RFC 3339 as the platform writes it (2015-05-20T13:29:35+08:00).
FORMATS: Mapping[str, re.Pattern[str]] = {
    "date-time": re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"),
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
}


class _Unsupported(Exception):
    pass


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Check] = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
}


def _equal(one: Any, two: Any) -> bool:
    """jsonschema's equality: booleans are not numbers, containers compare deeply."""
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(_equal(one[key], two[key]) for key in one)
    if isinstance(one, (list, dict)) or isinstance(two, (list, dict)):
        return False
    return bool(one == two)


def compile_check(schema: Any) -> Check | None:
    """A closure answering "is this instance valid?", or None when the schema is out of reach."""
    try:
        return _compile(schema)
    except (_Unsupported, re.error):
        return None


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda value: True
    if not isinstance(schema, Mapping):
        raise _Unsupported(repr(schema))
    checks: list[Check] = []
    handled = set(_ANNOTATIONS) | _READ_BY_IF
    for keyword, build in _BUILDERS:
        if keyword in schema:
            handled.add(keyword)
            check = build(schema[keyword], schema)
            if check is not None:
                checks.append(check)
    if any(key in schema for key in _OBJECT_KEYWORDS):
        handled.update(_OBJECT_KEYWORDS)
        checks.append(_properties(schema.get("properties") or {}, schema))
    handled.add("format")
    _format_check(schema, checks)
    unknown = set(schema) - handled
    if unknown:
        raise _Unsupported(", ".join(sorted(unknown)))
    if not checks:
        return lambda value: True
    if len(checks) == 1:
        return checks[0]
    return lambda value: all(check(value) for check in checks)


def _format_check(schema: Mapping[str, Any], checks: list[Check]) -> None:
    pattern = FORMATS.get(str(schema.get("format")))
    if pattern is not None:
        checks.append(lambda value: not isinstance(value, str) or pattern.match(value) is not None)


def _type(kind: Any, _: Mapping[str, Any]) -> Check:
    kinds = kind if isinstance(kind, list) else [kind]
    try:
        tests = [_TYPES[name] for name in kinds]
    except (KeyError, TypeError):
        raise _Unsupported(f"type {kind!r}") from None
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


def _enum(values: Any, _: Mapping[str, Any]) -> Check:
    if not isinstance(values, list):
        raise _Unsupported("enum")
    return lambda value: any(_equal(value, allowed) for allowed in values)


def _const(expected: Any, _: Mapping[str, Any]) -> Check:
    return lambda value: _equal(value, expected)


def _required(names: Any, _: Mapping[str, Any]) -> Check:
    wanted = list(names)
    return lambda value: not isinstance(value, dict) or all(name in value for name in wanted)


def _properties(properties: Mapping[str, Any], schema: Mapping[str, Any]) -> Check:
    compiled = {name: _compile(sub) for name, sub in properties.items()}
    patterns = [(re.compile(p), _compile(sub)) for p, sub in (schema.get("patternProperties") or {}).items()]
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else (lambda value: False) if extra is False else _compile(extra)

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for name, item in value.items():
            known = compiled.get(name)
            matched = False
            if known is not None:
                matched = True
                if not known(item):
                    return False
            for pattern, sub in patterns:
                if pattern.search(name):
                    matched = True
                    if not sub(item):
                        return False
            if not matched and extra_check is not None and not extra_check(item):
                return False
        return True

    return check


def _items(items: Any, _: Mapping[str, Any]) -> Check:
    sub = _compile(items)
    return lambda value: not isinstance(value, list) or all(sub(item) for item in value)


def _bound(test: Callable[[Any, Any], bool], kinds: tuple[type, ...]) -> Callable[[Any, Mapping[str, Any]], Check]:
    def build(limit: Any, _: Mapping[str, Any]) -> Check:
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise _Unsupported("bound")
        return lambda value: not isinstance(value, kinds) or isinstance(value, bool) or test(value, limit)

    return build


def _length(test: Callable[[int, Any], bool], kind: type[Any]) -> Callable[[Any, Mapping[str, Any]], Check]:
    def build(limit: Any, _: Mapping[str, Any]) -> Check:
        def check(value: Any) -> bool:
            return not isinstance(value, kind) or test(len(value), limit)

        return check

    return build


def _any_of(branches: Any, _: Mapping[str, Any]) -> Check:
    # One-of groups (``anyOf`` of ``required`` sets) are the common case here.
    checks = [_compile(branch) for branch in _branches(branches)]
    return lambda value: any(check(value) for check in checks)


def _all_of(branches: Any, _: Mapping[str, Any]) -> Check:
    checks = [_compile(branch) for branch in _branches(branches)]
    return lambda value: all(check(value) for check in checks)


def _not(schema: Any, _: Mapping[str, Any]) -> Check:
    check = _compile(_exact(schema))
    return lambda value: not check(value)


def _if(condition: Any, schema: Mapping[str, Any]) -> Check:
    """``if``/``then``/``else`` (conditions on a value: ``user_name`` required from 200,000 fen)."""
    test = _compile(_exact(condition))
    then = _compile(schema.get("then", True))
    otherwise = _compile(schema.get("else", True))
    return lambda value: then(value) if test(value) else otherwise(value)


_EXACT_KEYWORDS = frozenset(
    {"type", "enum", "const", "required", "properties", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
)


def _exact(schema: Any) -> Any:
    """``schema`` when its closure agrees with jsonschema both ways, else ``_Unsupported``.

    Elsewhere a closure only has to never say yes where jsonschema says no; under ``not``
    and in ``if`` a wrong no turns into a wrong yes, so only keywords checked exactly
    (types, values, bounds, required names, and properties of the same) may appear there.
    """
    if schema is True:
        return schema
    if not isinstance(schema, Mapping) or set(schema) - _EXACT_KEYWORDS - _ANNOTATIONS:
        raise _Unsupported("a subschema under not/if outside the exact subset")
    for sub in (schema.get("properties") or {}).values():
        _exact(sub)
    return schema


def _branches(branches: Any) -> list[Any]:
    if not isinstance(branches, list) or not branches:
        raise _Unsupported("an empty or malformed list of subschemas")
    return branches


def _pattern(pattern: Any, _: Mapping[str, Any]) -> Check:
    compiled = re.compile(pattern)
    return lambda value: not isinstance(value, str) or compiled.search(value) is not None


_NUMBERS = (int, float)
_OBJECT_KEYWORDS = frozenset({"properties", "patternProperties", "additionalProperties"})
_BUILDERS: list[tuple[str, Callable[[Any, Mapping[str, Any]], Check | None]]] = [
    ("type", _type),
    ("enum", _enum),
    ("const", _const),
    ("required", _required),
    ("items", _items),
    ("minimum", _bound(lambda value, limit: value >= limit, _NUMBERS)),
    ("maximum", _bound(lambda value, limit: value <= limit, _NUMBERS)),
    ("exclusiveMinimum", _bound(lambda value, limit: value > limit, _NUMBERS)),
    ("exclusiveMaximum", _bound(lambda value, limit: value < limit, _NUMBERS)),
    ("minLength", _length(lambda size, limit: size >= limit, str)),
    ("maxLength", _length(lambda size, limit: size <= limit, str)),
    ("minItems", _length(lambda size, limit: size >= limit, list)),
    ("maxItems", _length(lambda size, limit: size <= limit, list)),
    ("minProperties", _length(lambda size, limit: size >= limit, dict)),
    ("maxProperties", _length(lambda size, limit: size <= limit, dict)),
    ("pattern", _pattern),
    ("anyOf", _any_of),
    ("allOf", _all_of),
    ("not", _not),
    ("if", _if),
]
# ``then``/``else`` are read by ``if`` (alone they mean nothing, as in jsonschema).
_READ_BY_IF = frozenset({"then", "else"})
