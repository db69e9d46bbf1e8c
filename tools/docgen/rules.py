"""One-of groups and conditions on the pages: the table rows they mark, the lines under a
table, and an example payload that keeps them.

The rules are read with :mod:`wechatpay_chain.catalog.schema_rules` (the same reading as the
validator's messages, ``describe()``, the stubs and the mock); this module only decides
how a page shows them:

- a member of a group is marked ``one of`` in the required column, a field a condition
  makes required ``conditional``; neither is ``yes``;
- under the table, one line per rule: ``One of transaction_id, out_trade_no is required``,
  ``user_name: required when transfer_amount >= 200000`` (prefixed with the object's path,
  ``In transfer_detail_list[]:``, when the rule governs a nested object);
- the example keeps the first branch of each group (the other branches' fields are left
  out, so the reader sees that one is enough) and meets every condition whose test holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator

from wechatpay_chain.catalog.schema_rules import conditions_of, groups_of, objects_in, rule_texts
from wechatpay_chain.mock.examples import example_for

if TYPE_CHECKING:
    from .values import FieldValues

__all__ = ["CONDITION_MARK", "GROUP_MARK", "field_marks", "rule_lines", "satisfy_rules"]

GROUP_MARK = "one of"
CONDITION_MARK = "conditional"
_ABSENT = object()


def field_marks(schema: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> its mark in the required column, for the fields a rule of ``schema`` governs."""
    marks = {name: GROUP_MARK for group in groups_of(schema) for branch in group for name in branch}
    for condition in conditions_of(schema):
        if not condition.forbidden:
            marks.setdefault(condition.field, CONDITION_MARK)
    return marks


def rule_lines(schema: Mapping[str, Any]) -> list[str]:
    """The lines under a table: every rule of the object and of the objects nested in it."""
    lines = []
    for path, node in objects_in(schema):
        prefix = f"In `{path}`: " if path else ""
        lines += [
            prefix + text[0].upper() + text[1:] if text.startswith("one of") else prefix + text
            for text in rule_texts(node)
        ]
    return lines


def satisfy_rules(value: Any, schema: Mapping[str, Any], values: FieldValues) -> None:
    """Make ``value`` (changed in place) keep the groups and conditions of ``schema`` at every depth."""
    if isinstance(value, list):
        items = schema.get("items")
        for item in value:
            if isinstance(items, Mapping):
                satisfy_rules(item, items, values)
        return
    if not isinstance(value, dict):
        return
    properties = schema.get("properties") or {}
    for group in groups_of(schema):
        first = group[0]
        for name in {name for branch in group[1:] for name in branch} - set(first):
            value.pop(name, None)
        for name in first:
            _ensure(value, name, properties.get(name), values)
    for condition in conditions_of(schema):
        tested = value.get(condition.when, _ABSENT)
        if tested is _ABSENT or not Draft202012Validator(dict(condition.test)).is_valid(tested):
            continue
        if condition.forbidden:
            value.pop(condition.field, None)
        else:
            _ensure(value, condition.field, properties.get(condition.field), values)
    for name, child in properties.items():
        if name in value and isinstance(child, Mapping):
            satisfy_rules(value[name], child, values)


def _ensure(value: dict[str, Any], name: str, schema: Any, values: FieldValues) -> None:
    if name not in value:
        schema = schema if isinstance(schema, Mapping) else {}
        value[name] = values.fill(example_for(schema) if schema else "string", schema, name)
