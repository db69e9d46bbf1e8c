"""Readable text for an operation: summary, then its fields (for help() and the CLI)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from .schema_rules import conditions_of, group_text, groups_of, objects_in


class Described(Protocol):
    """What a description reads of an operation (``specs.Operation``, which calls this module)."""

    key: str
    method: str

    @property
    def summary(self) -> str: ...

    @property
    def spec(self) -> Mapping[str, Any]: ...

    def schema(self, part: str) -> Mapping[str, Any] | None: ...


__all__ = ["describe_operation", "field_rows", "rule_lines"]

_PARTS = ("path", "query", "headers", "json", "xml", "form")


def _type_of(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = "|".join(str(k) for k in kind if k != "null")
    if kind == "array":
        items = schema.get("items")
        return f"array[{_type_of(items) if isinstance(items, Mapping) else 'any'}]"
    if kind is None and ("oneOf" in schema or "anyOf" in schema):
        return "oneOf"
    text = str(kind or "any")
    if schema.get("format"):
        text += f" ({schema['format']})"
    return text


def field_rows(schema: Mapping[str, Any], depth: int = 0) -> Iterator[tuple[int, str, str, bool, str, list[Any]]]:
    """(depth, name, type, required, label, enum) for every property, nested ones indented."""
    required = set(schema.get("required") or ())
    for name, child in (schema.get("properties") or {}).items():
        if not isinstance(child, Mapping):
            continue
        label = str(child.get("title", ""))
        yield depth, str(name), _type_of(child), name in required, label, list(child.get("enum") or [])
        nested = child.get("items") if child.get("type") == "array" else child
        if isinstance(nested, Mapping) and nested.get("properties"):
            yield from field_rows(nested, depth + 1)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(keyword) or ():
            if isinstance(branch, Mapping):
                yield from field_rows(branch, depth)


def rule_lines(schema: Mapping[str, Any]) -> Iterator[str]:
    """The one-of groups and conditions of ``schema`` and of every object inside it.

    ``one of transaction_id, out_trade_no is required``;
    ``transfer_detail_list[].user_name: required when transfer_amount >= 200000``.
    """
    for path, node in objects_in(schema):
        for group in groups_of(node):
            yield f"{path}: {group_text(group)} is required" if path else f"{group_text(group)} is required"
        for condition in conditions_of(node):
            yield f"{path + '.' if path else ''}{condition.field}: {condition.text()}"


def describe_operation(operation: Described) -> str:
    lines = [f"{operation.method} {operation.key}  {operation.summary}"]
    spec = operation.spec
    if spec.get("deprecated"):
        lines.append("deprecated")
    if spec.get("doc"):
        lines.append(f"doc: {spec['doc']}")
    for part in _PARTS:
        schema = operation.schema(part)
        if not schema or (not schema.get("properties") and not any(k in schema for k in ("allOf", "oneOf"))):
            continue
        lines.append(f"{part}=")
        for depth, name, kind, required, label, enum in field_rows(schema):
            mark = "*" if required else " "
            # "values:", not "one of": that names a group of fields (the "!" lines below)
            words = [str(value) for value in enum if value is not None]
            enum_text = f"  values: {' | '.join(words)}" if words else ""
            lines.append(f"  {'  ' * depth}{mark} {name}: {kind}  {label}{enum_text}".rstrip())
        lines += [f"  ! {line}" for line in rule_lines(schema)]
    if spec.get("encrypt"):
        lines.append("encrypted automatically: " + ", ".join(spec["encrypt"]))
    lines.append(
        "(* required; ! a rule over several fields: a one-of group, or a field required or refused by a value)"
    )
    return "\n".join(lines)
