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
    """A short string that ``pattern`` matches (the first branch, minimal repeats), or None."""
    try:
        parsed = re._parser.parse(pattern)  # type: ignore[attr-defined]
        text = _render(list(parsed))
    except (re.error, ValueError, TypeError, IndexError, RecursionError):
        return None
    return text if re.search(pattern, text) else None


def _render(items: list[Any]) -> str:
    constants: Any = re._constants  # type: ignore[attr-defined]
    out: list[str] = []
    for op, value in items:
        if op is constants.LITERAL:
            out.append(chr(value))
        elif op is constants.IN:
            out.append(_from_class(value, constants))
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT, getattr(constants, "POSSESSIVE_REPEAT", None)):
            low, _high, body = value
            out.append(_render(list(body)) * low)
        elif op is constants.BRANCH:
            out.append(_render(list(value[1][0])))
        elif op is constants.SUBPATTERN:
            out.append(_render(list(value[-1])))
        elif op is constants.ANY:
            out.append("a")
        elif op is constants.AT:
            continue
        elif op is constants.CATEGORY:
            out.append(_from_category(value, constants))
        else:
            raise ValueError(f"unsupported regex construct {op}")
    return "".join(out)


def _from_class(members: list[Any], constants: Any) -> str:
    op, value = members[0]
    if op is constants.NEGATE:
        return "~"
    if op is constants.LITERAL:
        return chr(value)
    if op is constants.RANGE:
        return chr(value[0])
    if op is constants.CATEGORY:
        return _from_category(value, constants)
    raise ValueError(f"unsupported class member {op}")


def _from_category(category: Any, constants: Any) -> str:
    if category is constants.CATEGORY_DIGIT:
        return "0"
    if category is constants.CATEGORY_SPACE:
        return " "
    if category is constants.CATEGORY_WORD:
        return "a"
    return "~"


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
