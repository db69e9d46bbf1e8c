"""One-of groups and value conditions, written into the specs from `tools/spec_rules.yaml`.

The catalogue has only `required` flags, so "transaction_id 与 out_trade_no 二选一" reaches
it as two required fields (a query by one id is refused) or as two optional ones. The
policy file says what the official pages say, entry by entry; this module writes it as
JSON Schema (the shapes `wechatpay_chain.catalog.schema_rules` reads back):

- `one_of`: the fields leave `required`; an `anyOf` of one-name `required` sets is added;
- `not_required`: the fields leave `required`; `required`: they join it;
- `conditions`: the field leaves `required`; an `if`/`then` is added.

Two finders keep the policy complete. The catalogue's own prose ("当没提供transaction_id时
需要传这个", "openid和车牌号必须选传其中之一"), which reaches it as an example, makes a group
where it is found. And every request object declaring two ids of one `families` entry must
be decided by the policy; the ones left undecided are reported (`undecided`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .keywords import Schema
from .repairs import Repairs

REQUEST_PARTS = ("json", "xml", "query", "form")
_NUMERIC_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")

# The catalogue's words for "one of these two", found in a field's description or example.
_NOT_GIVEN = re.compile(r"当没提供([A-Za-z_]+)时需要传")
_EITHER_NAMED = re.compile(r"([A-Za-z_]+)和([^。，,；;、\s]+?)必须选传其中之一")
_EITHER_LABELS = re.compile(r"([^。，,；;、\s]+?)和([^。，,；;、\s]+?)二者必须填写其中一个")
# "(status为PAY_SUCCESS时必填)": required when another field has a value.
_WHEN_VALUE = re.compile(r"([A-Za-z_]+)为([A-Z][A-Z0-9_]*)时必填")
# Other "...时必填" prose names its condition in words only; it is listed, not encoded.
_WHEN_WORDS = re.compile(r"时必填|时必传")


@dataclass
class _Entry:
    """One policy entry, and whether it matched any operation (a stale entry is reported)."""

    kind: str  # one_of, not_required, conditions, keep
    data: dict[str, Any]
    used: bool = False

    @property
    def fields(self) -> list[str]:
        return [str(name) for name in self.data.get("fields") or [self.data.get("field")]]

    @property
    def at(self) -> str:
        return str(self.data.get("at") or "")


@dataclass
class FieldRules:
    """The policy, applied operation by operation; what it found is kept for the report."""

    families: list[tuple[str, ...]] = field(default_factory=list)
    entries: dict[str, list[_Entry]] = field(default_factory=dict)  # spec key -> entries
    undecided: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path) -> FieldRules:
        if not path.is_file():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        rules = cls(families=[tuple(map(str, family)) for family in data.get("families") or ()])
        for kind in ("one_of", "not_required", "required", "conditions", "keep"):
            for raw in data.get(kind) or ():
                entry = _Entry(kind, dict(raw))
                for key in raw.get("operations") or ():
                    rules.entries.setdefault(str(key), []).append(entry)
        return rules

    def apply(self, key: str, method: str, source_op: dict[str, Any], entry: dict[str, Any], repairs: Repairs) -> None:
        """Write the groups and conditions of one operation into its request schemas."""
        where = f"{key} {method.upper()}"
        for part in REQUEST_PARTS:
            schema = entry.get(part)
            if not isinstance(schema, dict):
                continue
            decided: set[tuple[str, frozenset[str]]] = set()
            for policy in self.entries.get(key, ()):
                for pointer, target in _objects_at(schema, policy.at):
                    if not all(name in (target.get("properties") or {}) for name in _names_of(policy)):
                        continue
                    policy.used = True
                    decided.add((pointer, frozenset(policy.fields)))
                    _apply_entry(policy, target, f"{where} /{part}{pointer}", repairs)
            words = _source_words(source_op)
            for pointer, target in _objects_at(schema, "", deep=True):
                guesses: list[str] = []
                groups = _prose_groups(target, words if pointer == "" else {}, guesses)
                self.notes += [f"{where} /{part}{pointer}: {guess}" for guess in guesses]
                for group in groups:
                    if (pointer, frozenset(group)) in decided:
                        continue
                    decided.add((pointer, frozenset(group)))
                    _add_group(target, group)
                    repairs.add(
                        "one-of-group-from-the-catalogue-words", f"{where} /{part}{pointer}: one of {', '.join(group)}"
                    )
                self._check_families(target, decided, pointer, f"{where} /{part}{pointer}")
            self._prose_conditions(schema, words, f"{where} /{part}", repairs)

    def _prose_conditions(self, schema: Schema, words: dict[str, list[str]], where: str, repairs: Repairs) -> None:
        """`required when` rules the catalogue states beside a top-level field."""
        properties = schema.get("properties") or {}
        for name in properties:
            for text in words.get(name, ()):
                found = _WHEN_VALUE.search(text)
                tested = properties.get(found.group(1)) if found else None
                if found and isinstance(tested, dict) and found.group(2) in (tested.get("enum") or [found.group(2)]):
                    when, value = found.group(1), found.group(2)
                    _unrequire(schema, [name])
                    _add_rule(
                        schema,
                        {
                            "if": {"required": [when], "properties": {when: {"const": value}}},
                            "then": {"required": [name]},
                        },
                    )
                    repairs.add(
                        "condition-from-the-catalogue-words", f"{where}/{name}: required when {when} is {value}"
                    )
                elif _WHEN_WORDS.search(text):
                    self.notes.append(f"{where}/{name}: a condition in words only, not encoded: {text.strip()[:60]}")

    def _check_families(
        self, target: Schema, decided: set[tuple[str, frozenset[str]]], pointer: str, where: str
    ) -> None:
        declared = set(target.get("properties") or {})
        covered = [names for at, names in decided if at == pointer]
        for family in self.families:
            present = [name for name in family if name in declared]
            if len(present) < 2 or any(set(present) <= names for names in covered):
                continue
            self.undecided.append(
                f"{where}: {', '.join(present)} (add a one_of or keep entry to tools/spec_rules.yaml)"
            )

    def stale(self) -> list[str]:
        """Policy entries that matched no operation (a renamed path or field)."""
        seen: set[int] = set()
        out = []
        for key, entries in sorted(self.entries.items()):
            for policy in entries:
                if id(policy) in seen or policy.used:
                    continue
                seen.add(id(policy))
                out.append(f"{policy.kind} {', '.join(policy.fields)} matched no operation (first listed: {key})")
        return out


def _names_of(policy: _Entry) -> list[str]:
    names = list(policy.fields)
    for when in policy.data.get("required_when") or policy.data.get("forbidden_when") or {}:
        names.append(str(when))
    return names


def _apply_entry(policy: _Entry, target: Schema, where: str, repairs: Repairs) -> None:
    names = policy.fields
    if policy.kind == "keep":
        return
    if policy.kind == "one_of":
        _add_group(target, [(name,) for name in names])
        repairs.add("one-of-group", f"{where}: one of {', '.join(names)}")
    elif policy.kind == "not_required":
        dropped = _unrequire(target, names)
        if dropped:
            repairs.add("required-but-optional", f"{where}: {', '.join(dropped)} not required")
    elif policy.kind == "required":
        added = [name for name in names if name not in (target.get("required") or [])]
        if added:
            target["required"] = [*(target.get("required") or []), *added]
            repairs.add("optional-but-required", f"{where}: {', '.join(added)} required")
    elif policy.kind == "conditions":
        forbidden = "forbidden_when" in policy.data
        test = policy.data["forbidden_when" if forbidden else "required_when"]
        (when, bound), *_ = test.items()
        bound = dict(bound)
        kind = ((target.get("properties") or {}).get(when) or {}).get("type")
        if kind and any(key in bound for key in _NUMERIC_BOUNDS):
            # Bounds ignore values of another type: without it, "500" would meet both tests.
            bound = {"type": kind, **bound}
        _unrequire(target, names)
        then: Schema = {"required": names}
        _add_rule(
            target,
            {
                "if": {"required": [when], "properties": {when: bound}},
                "then": {"not": then} if forbidden else then,
            },
        )
        verb = "forbidden" if forbidden else "required"
        repairs.add("condition-on-a-value", f"{where}: {', '.join(names)} {verb} when {when} {dict(bound)}")


def _unrequire(target: Schema, names: list[str]) -> list[str]:
    required = list(target.get("required") or [])
    dropped = [name for name in names if name in required]
    kept = [name for name in required if name not in names]
    if kept:
        target["required"] = kept
    else:
        target.pop("required", None)
    return dropped


def _add_group(target: Schema, group: Sequence[tuple[str, ...] | str]) -> None:
    branches = [tuple(branch) if isinstance(branch, tuple) else (branch,) for branch in group]
    _unrequire(target, [name for branch in branches for name in branch])
    _add_rule(target, {"anyOf": [{"required": list(branch)} for branch in branches]})


def _add_rule(target: Schema, rule: Schema) -> None:
    """One group alone sits on the object as `anyOf`; more rules go under `allOf`."""
    if "anyOf" not in target and "allOf" not in target and set(rule) == {"anyOf"}:
        rules = [rule]
    else:
        rules = []
        if "anyOf" in target:
            rules.append({"anyOf": target.pop("anyOf")})
        rules += list(target.pop("allOf", []))
        rules.append(rule)
    if len(rules) == 1 and set(rules[0]) == {"anyOf"}:
        items = {**target, "anyOf": rules[0]["anyOf"]}
    else:
        items = {**target, "allOf": rules}
    target.clear()
    # keep the keyword order of the rest of the schema: rules come last
    for key in [k for k in items if k not in ("anyOf", "allOf")] + [k for k in ("anyOf", "allOf") if k in items]:
        target[key] = items[key]


def _objects_at(schema: Schema, at: str, *, deep: bool = False) -> Iterator[tuple[str, Schema]]:
    """The object schemas at pointer `at` (`*` = array items); with `deep`, every object below too."""
    nodes: list[tuple[str, Any]] = [("", schema)]
    for token in [t for t in at.split("/") if t]:
        nodes = [(f"{p}/{token}", _child(n, token)) for p, n in nodes]
    for pointer, node in nodes:
        if isinstance(node, dict):
            yield from _walk(pointer, node) if deep else [(pointer, node)]


def _child(node: Any, token: str) -> Any:
    if not isinstance(node, dict):
        return None
    if token == "*":
        return node.get("items")
    return (node.get("properties") or {}).get(token)


def _walk(pointer: str, node: Schema) -> Iterator[tuple[str, Schema]]:
    if "properties" in node:
        yield pointer, node
    for name, child in (node.get("properties") or {}).items():
        if isinstance(child, dict):
            yield from _walk(f"{pointer}/{name}", child)
    if isinstance(node.get("items"), dict):
        yield from _walk(f"{pointer}/*", node["items"])


def _prose_groups(target: Schema, words: dict[str, list[str]], guesses: list[str]) -> list[list[str]]:
    """Groups the catalogue states in words beside a field (see the module docstring)."""
    properties = target.get("properties") or {}
    groups: list[list[str]] = []
    for name in properties:
        for text in words.get(name, ()):
            found = _NOT_GIVEN.search(text)
            if found and found.group(1) in properties:
                groups.append([found.group(1), name])
            found = _EITHER_NAMED.search(text)
            if found:
                pair = [_by_label(properties, found.group(1), guesses), _by_label(properties, found.group(2), guesses)]
                if None not in pair:
                    groups.append([str(member) for member in pair])
            found = _EITHER_LABELS.search(text)
            if found:
                pair = [_by_label(properties, found.group(1), guesses), _by_label(properties, found.group(2), guesses)]
                if None not in pair:
                    groups.append([str(member) for member in pair])
    unique: list[list[str]] = []
    for group in groups:
        ordered = [name for name in properties if name in group]
        if len(set(ordered)) == 2 and ordered not in unique:
            unique.append(ordered)
    return unique


def _source_words(source_op: dict[str, Any]) -> dict[str, list[str]]:
    """The source's words beside each top-level request field: description and example.

    The prose that states a group often sits in `example` (with the real example in
    `type`), which the converter does not keep, so it is read from the source itself.
    """
    words: dict[str, list[str]] = {}
    for parameter in source_op.get("parameters") or ():
        if not isinstance(parameter, dict):
            continue
        if parameter.get("in") == "body":
            body = parameter.get("schema")
            parts = [body, *(body.get("allOf") or [])] if isinstance(body, dict) else []
            fields = {
                k: v for part in parts if isinstance(part, dict) for k, v in (part.get("properties") or {}).items()
            }
        else:
            fields = {parameter.get("name"): parameter}
        for name, child in fields.items():
            if isinstance(child, dict):
                texts = [child.get("description"), child.get("example")]
                words[str(name)] = [text for text in texts if isinstance(text, str)]
    return words


def _by_label(properties: Schema, label: str, guesses: list[str]) -> str | None:
    """The field named `label`, or whose title is `label` (or, uniquely, starts like it: such a
    guess is reported in `guesses`, so a change of the source cannot move it unseen)."""
    if label in properties:
        return label
    titled = [name for name, child in properties.items() if isinstance(child, dict) and child.get("title") == label]
    if len(titled) == 1:
        return titled[0]
    stem = label[:2]
    close = [
        name
        for name, child in properties.items()
        if isinstance(child, dict) and isinstance(child.get("title"), str) and child["title"].startswith(stem)
    ]
    if len(close) != 1:
        return None
    guesses.append(f"the words name {label!r}: taken for {close[0]} (title {properties[close[0]]['title']!r})")
    return close[0]
