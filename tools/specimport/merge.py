"""Deep merging of `allOf` object parts into one object schema.

The source composes objects from parts (`allOf: [TransactionBase, {scene_info: {h5_info}}]`)
where a later part often names a field an earlier one declared, to add to it. The parts are
combined field by field at every depth: properties keep their source order, later parts add
fields and `required` names to nested objects (also inside array `items`), and a later value
of any other keyword (a scalar's `title`, `maxLength` ...) refines the earlier one.
"""

from __future__ import annotations

from collections.abc import Callable

from .keywords import Schema, ordered, unique

Refined = Callable[[Schema, str], None]
"""Called with each schema node that two parts both described, and its location."""

_NESTED_MAPS = ("properties", "patternProperties")


def merge_objects(parts: list[Schema], where: str, refined: Refined) -> Schema:
    """One object schema from the plain object schemas `parts` (in `allOf` order)."""
    merged: Schema = {}
    for part in parts:
        merged = merge_schema(merged, part, where, refined) if merged else dict(part)
    if merged.get("properties") or merged.get("required"):
        merged.setdefault("type", "object")
    for key in ("properties", "required", "patternProperties"):
        if key in merged and not merged[key]:
            del merged[key]
    return ordered(merged)


def merge_schema(earlier: Schema, later: Schema, where: str, refined: Refined) -> Schema:
    """`later` laid over `earlier`: nested objects and array items are combined, not replaced."""
    out: Schema = dict(earlier)
    for key, value in later.items():
        if key in _NESTED_MAPS and isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = _merge_fields(out[key], value, where, refined)
        elif key == "required" and isinstance(out.get(key), list) and isinstance(value, list):
            out[key] = unique([*out[key], *value])
        elif key == "items" and isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = merge_schema(out[key], value, f"{where}/*", refined)
            refined(out[key], f"{where}/*")
        else:
            out[key] = value
    return ordered(out)


def _merge_fields(earlier: Schema, later: Schema, where: str, refined: Refined) -> Schema:
    fields = dict(earlier)
    for name, sub in later.items():
        if name in fields and isinstance(fields[name], dict) and isinstance(sub, dict):
            fields[name] = merge_schema(fields[name], sub, f"{where}/{name}", refined)
            refined(fields[name], f"{where}/{name}")
        else:
            fields[name] = sub
    return fields
