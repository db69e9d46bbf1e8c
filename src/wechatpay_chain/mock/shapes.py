"""Sandbox answers: the operation's response schema, filled from a stored object.

The schema says which fields an answer has; the object says their values. A field the
object holds is answered with the object's value; a required field it lacks gets the
schema's example (so the answer still passes the spec); an optional field it lacks is left
out, as the platform leaves out what does not apply (no ``success_time`` before payment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .examples import example_for

__all__ = ["shaped"]


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = schema.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        target = (root.get("$defs") or {}).get(reference[len("#/$defs/") :])
        return _resolve(target, root) if isinstance(target, Mapping) else {}
    for branch_kind in ("allOf", "oneOf", "anyOf"):
        branches = schema.get(branch_kind)
        if branches:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != branch_kind}
            properties = dict(merged.get("properties") or {})
            required = list(merged.get("required") or [])
            chosen = branches if branch_kind == "allOf" else branches[:1]
            for branch in chosen:
                branch = _resolve(branch, root)
                properties.update(branch.get("properties") or {})
                required.extend(branch.get("required") or [])
            merged["properties"], merged["required"] = properties, required
            return merged
    return schema


def shaped(schema: Mapping[str, Any] | None, record: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """The answer ``schema`` describes, with ``record``'s values (see the module docstring)."""
    if schema is None:
        return dict(record)
    root = root if root is not None else schema
    schema = _resolve(schema, root)
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return dict(record)
    required = set(schema.get("required") or ())
    answer: dict[str, Any] = {}
    for name, child in properties.items():
        value = record.get(name)
        if value is None:
            if name in required:
                answer[name] = example_for(child, 1, root)
            continue
        child = _resolve(child, root) if isinstance(child, Mapping) else {}
        if isinstance(value, Mapping) and isinstance(child.get("properties"), Mapping):
            answer[name] = shaped(child, value, root)
        elif isinstance(value, list) and isinstance(child.get("items"), Mapping):
            items = _resolve(child["items"], root)
            answer[name] = [shaped(items, item, root) if isinstance(item, Mapping) else item for item in value]
        else:
            answer[name] = value
    return answer
