"""Turning jsonschema's errors into :class:`FieldProblem` lists (every problem, with its pointer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from ..errors import FieldProblem
from .fastcheck import FORMATS
from .schema_rules import Condition, conditions_of, group_text, groups_of

__all__ = ["FORMAT_CHECKER", "collect_errors", "pointer"]

FORMAT_CHECKER = FormatChecker(formats=())

_DATE_TIME = FORMATS["date-time"]
_DATE = FORMATS["date"]


@FORMAT_CHECKER.checks("date-time")
def _is_date_time(value: object) -> bool:
    # RFC 3339 as the platform writes it (2015-05-20T13:29:35+08:00); non-strings pass
    # here because "type" reports them.
    return not isinstance(value, str) or _DATE_TIME.match(value) is not None


@FORMAT_CHECKER.checks("date")
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or _DATE.match(value) is not None


def pointer(parts: Iterable[Any]) -> str:
    """A JSON pointer (RFC 6901) from a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _leaves(error: SchemaError) -> Iterable[SchemaError]:
    """For oneOf/anyOf, the nested causes say more than "is not valid under any"."""
    if error.validator == "anyOf" and groups_of({"anyOf": error.validator_value}):
        yield error  # a one-of group: one problem that names the group (see _rule_problems)
    elif error.validator in ("oneOf", "anyOf") and error.context:
        # Report the alternative that came closest: the branch with the fewest errors.
        by_branch: dict[Any, list[SchemaError]] = {}
        for sub in error.context:
            by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
        yield from min(by_branch.values(), key=len)
    else:
        yield error


def collect_errors(validator: Any, instance: Any, prefix: str) -> list[FieldProblem]:
    """Every error of ``instance``, sorted by pointer, one entry per missing field."""
    found: list[FieldProblem] = []
    for error in validator.iter_errors(instance):
        for leaf in _leaves(error):
            where = prefix + pointer(leaf.absolute_path)
            rule_problems = _rule_problems(validator.schema, leaf, where)
            if rule_problems is not None:
                found.extend(rule_problems)
                continue
            if leaf.validator == "required" and isinstance(leaf.instance, dict):
                names: Any = leaf.validator_value
                for name in names:
                    if name not in leaf.instance:
                        found.append(FieldProblem(f"{where}/{name}", "required", f"'{name}' is required"))
                continue
            found.append(FieldProblem(where, str(leaf.validator), _message(leaf)))
    unique = sorted(set(found), key=lambda e: (e.pointer, e.rule, e.message))
    return unique


def _rule_problems(root: Any, error: SchemaError, where: str) -> list[FieldProblem] | None:
    """A group or a condition broken, in its own words; None for any other error.

    ``/xml: one of transaction_id, out_trade_no is required`` for a group;
    ``/json/.../user_name: required when transfer_amount >= 200000`` for a condition.
    """
    if error.validator == "anyOf":
        groups = groups_of({"anyOf": error.validator_value})
        if groups:
            return [FieldProblem(where, "anyOf", f"{group_text(groups[0])} is required")]
        return None
    condition_path = list(error.absolute_schema_path)
    if "then" not in condition_path:
        return None
    at = len(condition_path) - 1 - condition_path[::-1].index("then")
    holder = _schema_at(root, condition_path[:at])
    conditions: list[Condition] = conditions_of({"allOf": [holder]}) if isinstance(holder, dict) else []
    if not conditions or not isinstance(error.instance, dict):
        return None
    problems = []
    for condition in conditions:
        present = condition.field in error.instance
        if present == condition.forbidden:
            problems.append(FieldProblem(f"{where}/{condition.field}", "if", condition.text()))
    return problems or None


def _schema_at(root: Any, path: list[Any]) -> Any:
    node = root
    for token in path:
        try:
            node = node[token]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _message(error: SchemaError) -> str:
    instance = error.instance
    shown = repr(instance) if len(repr(instance)) <= 60 else repr(instance)[:57] + "..."
    rule = error.validator
    value = error.validator_value
    if rule == "type":
        return f"{shown} is not of type {value!r}"
    if rule == "enum":
        return f"{shown} is not one of {value!r}"
    if rule in ("maxLength", "minLength", "maxItems", "minItems", "maximum", "minimum"):
        return f"{shown} breaks {rule}={value}"
    if rule == "pattern":
        return f"{shown} does not match {value!r}"
    return str(error.message)
