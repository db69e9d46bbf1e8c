"""The two rules a spec adds to an object beyond ``required``: one-of groups and conditions.

Both are plain JSON Schema, so jsonschema enforces them as written; this module reads
them back for the people who read the rules (the validator's messages, ``describe()``,
the reference pages, the typed stubs and the mock), so every reader says the same thing.

A **one-of group** ("二选一", "四选一"): the platform takes any one (or more) of a few
fields, and none of them is required alone. It is an ``anyOf`` whose every branch is a
bare ``required`` set::

    anyOf:
      - required: [transaction_id]
      - required: [out_trade_no]

A **condition** makes a field required, or forbidden, when another field's value meets
a bound. It is an ``if``/``then`` whose ``if`` tests one field and whose ``then`` is a
``required`` set (required) or a ``not`` of one (forbidden)::

    if: {required: [transfer_amount], properties: {transfer_amount: {minimum: 200000}}}
    then: {required: [user_name]}

An object with a single group carries its ``anyOf`` directly; an object with more than
one rule lists them under ``allOf``. Both forms are read here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Condition",
    "conditions_of",
    "field_rule_texts",
    "group_text",
    "groups_of",
    "is_rule",
    "objects_in",
    "rule_names",
    "rule_texts",
    "test_text",
]

_BOUNDS = {
    "minimum": ">=",
    "exclusiveMinimum": ">",
    "maximum": "<=",
    "exclusiveMaximum": "<",
}


@dataclass(frozen=True)
class Condition:
    """``field`` is required (or, when ``forbidden``, not allowed) when ``when`` holds."""

    field: str
    when: str  # the field whose value is tested
    test: Mapping[str, Any]  # its schema in ``if``: {minimum: 200000}, {const: JSAPI}, {enum: [...]}
    forbidden: bool = False

    def text(self) -> str:
        """``required when transfer_amount >= 200000`` / ``not allowed when ...``."""
        verb = "not allowed" if self.forbidden else "required"
        return f"{verb} when {test_text(self.when, self.test)}"


def test_text(name: str, test: Mapping[str, Any]) -> str:
    """A readable form of a one-field test: ``amount < 30``, ``trade_type is JSAPI``."""
    parts = [f"{name} {symbol} {test[keyword]}" for keyword, symbol in _BOUNDS.items() if keyword in test]
    if "const" in test:
        parts.append(f"{name} is {test['const']}")
    if "enum" in test:
        parts.append(f"{name} is one of {', '.join(map(str, test['enum']))}")
    return " and ".join(parts) or f"{name} is given"


def _required_set(branch: Any) -> tuple[str, ...] | None:
    """The names of a bare ``{required: [...]}`` branch, else None."""
    if not isinstance(branch, Mapping) or set(branch) != {"required"}:
        return None
    names = branch["required"]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        return None
    return tuple(names)


def _group(node: Any) -> tuple[tuple[str, ...], ...] | None:
    """The branches of a group node (``{anyOf: [{required: ...}, ...]}``), else None."""
    branches = node.get("anyOf") if isinstance(node, Mapping) else None
    if not isinstance(branches, list) or len(branches) < 2:
        return None
    sets = [_required_set(branch) for branch in branches]
    if any(found is None for found in sets):
        return None
    return tuple(found for found in sets if found is not None)


def _condition(node: Any) -> list[Condition]:
    """The conditions of an ``if``/``then`` node, else an empty list."""
    if not isinstance(node, Mapping) or not isinstance(node.get("if"), Mapping) or "then" not in node:
        return []
    test = node["if"]
    tested = test.get("properties")
    if not isinstance(tested, Mapping) or len(tested) != 1:
        return []
    when, bound = next(iter(tested.items()))
    if not isinstance(bound, Mapping):
        return []
    then = node["then"]
    forbidden = isinstance(then, Mapping) and set(then) == {"not"}
    names = _required_set(then["not"] if forbidden else then)
    if names is None:
        return []
    return [Condition(name, str(when), dict(bound), forbidden) for name in names]


def _rule_nodes(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield schema
    for node in schema.get("allOf") or ():
        if isinstance(node, Mapping):
            yield node


def groups_of(schema: Mapping[str, Any] | None) -> list[tuple[tuple[str, ...], ...]]:
    """Every one-of group of ``schema`` (an object schema), each as its branches' names."""
    if not isinstance(schema, Mapping):
        return []
    return [group for node in _rule_nodes(schema) if (group := _group(node)) is not None]


def conditions_of(schema: Mapping[str, Any] | None) -> list[Condition]:
    """Every condition of ``schema`` (an object schema)."""
    if not isinstance(schema, Mapping):
        return []
    return [condition for node in _rule_nodes(schema) for condition in _condition(node)]


def is_rule(node: Any) -> bool:
    """True for a node that is a group or a condition (it declares no field of its own)."""
    return _group(node) is not None or bool(_condition(node))


def rule_names(schema: Mapping[str, Any] | None) -> set[str]:
    """The fields that a group or a condition governs (so none of them is required alone)."""
    names = {name for group in groups_of(schema) for branch in group for name in branch}
    names.update(condition.field for condition in conditions_of(schema) if not condition.forbidden)
    return names


def group_text(group: Sequence[Sequence[str]]) -> str:
    """``one of transaction_id, out_trade_no`` (a branch of several names is ``a + b``)."""
    return "one of " + ", ".join(" + ".join(branch) for branch in group)


def rule_texts(schema: Mapping[str, Any] | None) -> list[str]:
    """Every rule of one object in words: ``one of a, b is required``,
    ``user_name: required when transfer_amount >= 200000``."""
    texts = [f"{group_text(group)} is required" for group in groups_of(schema)]
    texts += [f"{condition.field}: {condition.text()}" for condition in conditions_of(schema)]
    return texts


def field_rule_texts(schema: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """Field name -> the rules of one object that govern it (for a field's own notes)."""
    notes: dict[str, list[str]] = {}
    for group in groups_of(schema):
        text = f"{group_text(group)} is required"
        for name in dict.fromkeys(name for branch in group for name in branch):
            notes.setdefault(name, []).append(text)
    for condition in conditions_of(schema):
        notes.setdefault(condition.field, []).append(condition.text())
    return notes


def objects_in(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, object schema) of ``schema`` and of every object inside it, ``a.b`` for nested
    objects and ``list[]`` for array items: where a reader looks for rules."""
    yield path, schema
    for name, child in (schema.get("properties") or {}).items():
        if not isinstance(child, Mapping):
            continue
        inner = f"{path}.{name}" if path else str(name)
        if isinstance(child.get("items"), Mapping):
            yield from objects_in(child["items"], f"{inner}[]")
        elif child.get("properties") or is_rule(child) or child.get("allOf"):
            yield from objects_in(child, inner)
