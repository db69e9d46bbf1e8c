"""Build a plausible instance of a JSON Schema from its examples (the mock's default answers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["echo_request_ids", "example_for"]

_FORMAT_EXAMPLES = {
    "date-time": "2015-05-20T13:29:35+08:00",
    "date": "2015-05-20",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "email": "user@example.com",
}


def _first_example(schema: Mapping[str, Any]) -> tuple[bool, Any]:
    for key in ("examples", "example"):
        if key in schema:
            value = schema[key]
            if key == "examples":
                if isinstance(value, list) and value:
                    return True, value[0]
                continue
            return True, value
    return False, None


def _merge_all_of(schema: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(merged.get("properties") or {})
    required = list(merged.get("required") or [])
    for branch in schema.get("allOf") or ():
        branch = _merge_all_of(branch) if "allOf" in branch else branch
        properties.update(branch.get("properties") or {})
        required.extend(branch.get("required") or [])
        merged.setdefault("type", branch.get("type"))
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    return merged


def example_for(schema: Mapping[str, Any] | None, depth: int = 0, root: Mapping[str, Any] | None = None) -> Any:
    """An instance of ``schema``: examples where the spec has them, type defaults elsewhere."""
    if not isinstance(schema, Mapping) or depth > 12:
        return None
    root = root if root is not None else schema
    if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#/$defs/"):
        target = (root.get("$defs") or {}).get(schema["$ref"][len("#/$defs/") :])
        return example_for(target, depth + 1, root)
    if "allOf" in schema:
        schema = _merge_all_of(schema)
    for alternatives in ("oneOf", "anyOf"):
        if schema.get(alternatives):
            base = {k: v for k, v in schema.items() if k != alternatives}
            branch = _merge_all_of({**base, "allOf": [schema[alternatives][0]]})
            return example_for(branch, depth + 1, root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    has_example, example = _first_example(schema)
    enum = schema.get("enum")
    if enum:
        return example if has_example and example in enum else enum[0]
    if kind == "object" or (kind is None and "properties" in schema):
        instance = {
            name: example_for(child, depth + 1, root) for name, child in (schema.get("properties") or {}).items()
        }
        # Some specs require a field they never describe: any value will do for them.
        for name in schema.get("required") or ():
            instance.setdefault(name, "string")
        return instance
    if kind == "array":
        if has_example and isinstance(example, list):
            return example
        return [example_for(schema.get("items") or {}, depth + 1, root)]
    if has_example and _fits(kind, example):
        return example
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "string":
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            matching = _matching(pattern)
            if matching is not None:
                return matching
        text = _FORMAT_EXAMPLES.get(str(schema.get("format")), "string")
        min_length = int(schema.get("minLength", 0))
        max_length = int(schema.get("maxLength", max(len(text), min_length)))
        text = text.ljust(min_length, "x")[: max(max_length, min_length)]
        return text
    return None


def _fits(kind: Any, value: Any) -> bool:
    checks: dict[str, tuple[type, ...]] = {
        "string": (str,),
        "integer": (int,),
        "number": (int, float),
        "boolean": (bool,),
    }
    if kind not in checks:
        return value is not None
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, checks[kind])


def _matching(pattern: str) -> str | None:
    """A short string that ``pattern`` matches (the first branch, minimal repeats), or None.

    Written from the pattern's text for the subset the specs use (literals, escapes such as
    ``\\d``, classes, groups, alternatives, quantifiers, anchors), not from ``re``'s private
    parser; the result is checked with ``re.search``, so a pattern outside the subset gives
    None (and the schema's format or a plain string is used instead).
    """
    try:
        text, _ = _sample(pattern, 0)
    except (ValueError, IndexError, RecursionError):
        return None
    try:
        return text if re.search(pattern, text) else None
    except re.error:
        return None


_CLASS_ESCAPES = {"d": "0", "w": "a", "s": " "}
_ZERO_WIDTH_ESCAPES = frozenset("bBAZ")


def _sample(pattern: str, at: int) -> tuple[str, int]:
    """The sample of the alternatives from ``at`` to the closing ``)`` (or the end): the first one."""
    first: str | None = None
    out: list[str] = []
    while at < len(pattern) and pattern[at] != ")":
        if pattern[at] == "|":
            first = "".join(out) if first is None else first
            out, at = [], at + 1
            continue
        atom, at = _atom(pattern, at)
        low, at = _repeats(pattern, at)
        out.append(atom * low)
    return ("".join(out) if first is None else first), at


def _atom(pattern: str, at: int) -> tuple[str, int]:
    char = pattern[at]
    if char in "^$":
        return "", at + 1
    if char == ".":
        return "a", at + 1
    if char == "\\":
        escaped = pattern[at + 1]
        if escaped in _ZERO_WIDTH_ESCAPES:
            return "", at + 2
        if escaped.isalnum() and escaped not in _CLASS_ESCAPES:
            raise ValueError(f"unsupported escape \\{escaped}")
        return _CLASS_ESCAPES.get(escaped, escaped), at + 2
    if char == "[":
        return _class(pattern, at + 1)
    if char == "(":
        at += 1
        if pattern.startswith("?:", at):
            at += 2
        elif pattern.startswith("?P<", at):
            at = pattern.index(">", at) + 1
        elif pattern.startswith("?", at):
            raise ValueError("unsupported group")  # look-arounds, flags, back-references
        text, at = _sample(pattern, at)
        if pattern[at] != ")":
            raise ValueError("unclosed group")
        return text, at + 1
    if char in "*+?{":
        raise ValueError("a quantifier with nothing to repeat")
    return char, at + 1


def _class(pattern: str, at: int) -> tuple[str, int]:
    """The first member of ``[...]`` (``at`` just inside it); ``~`` for a negated class."""
    negated = pattern[at] == "^"
    at += negated
    first: str | None = None
    while pattern[at] != "]" or first is None:  # a "]" first in a class is a member
        if pattern[at] == "\\":
            escaped = pattern[at + 1]
            if escaped.isalnum() and escaped not in _CLASS_ESCAPES:
                raise ValueError(f"unsupported escape \\{escaped}")
            member, at = _CLASS_ESCAPES.get(escaped, escaped), at + 2
        else:
            member, at = pattern[at], at + 1
        first = member if first is None else first
    return ("~" if negated else first), at + 1


_BOUNDS = re.compile(r"\{(?:(\d+)(?:,\d*)?|,\d+)\}")  # {n}, {n,}, {n,m}, {,m}


def _repeats(pattern: str, at: int) -> tuple[int, int]:
    """The fewest repeats the quantifier at ``at`` allows (1 without one), and where it ends."""
    low = 1
    if at < len(pattern) and pattern[at] in "*+?":
        low, at = (1 if pattern[at] == "+" else 0), at + 1
    elif at < len(pattern) and pattern[at] == "{":
        bounds = _BOUNDS.match(pattern, at)
        if bounds is None:
            return 1, at  # a literal "{", as re reads it
        low, at = int(bounds.group(1) or 0), bounds.end()
    else:
        return low, at
    if at < len(pattern) and pattern[at] in "?+":  # lazy or possessive: the same fewest
        at += 1
    return low, at


def echo_request_ids(answer: Any, given: Mapping[str, Any]) -> Any:
    """The example answer with the request's own values where the answer has the same field.

    A query by ``out_trade_no`` (in the path), a refund by ``transaction_id`` (in the body):
    the answer names the order the request named, whichever id it was given by. Only
    top-level text fields are echoed, and only over text (a type the schema allows). ``given``:
    the request's path values, query and JSON body, merged. (v2 answers echo in ``mock/v2.py``.)
    """
    if not isinstance(answer, dict):
        return answer
    for name, value in given.items():
        if isinstance(answer.get(name), str) and isinstance(value, str):
            answer[name] = value
    return answer
