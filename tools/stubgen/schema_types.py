"""JSON Schema -> Python type expressions, with a ``TypedDict`` for every object.

One :class:`TypeWriter` serves one generated module. Names: the payload itself is
named after the operation (``V3ProfitsharingReturnOrdersPostJson``), a nested object
after that name and its own field (``V3PayTransactionsJsapiPostJsonAmount``, array
items end in ``Item``); only where that name is taken do the fields above it join in.
An object that occurs again with the same schema in the module reuses its first
``TypedDict``. Names are unique over the catalogue.

The mapping:

| schema | type |
|---|---|
| ``string`` / ``integer`` / ``number`` / ``boolean`` | ``str`` / ``int`` / ``float`` / ``bool`` |
| ``enum`` (str, int, bool, null) | ``Literal[...]`` |
| ``[T, "null"]`` | ``T | None`` |
| ``array`` | ``list[item]`` |
| ``object`` with ``properties`` | a ``TypedDict``: required keys plain, others ``NotRequired`` |
| ``object`` without ``properties`` | ``dict[str, Any]`` |
| ``allOf`` | merged into one object |
| ``oneOf`` / ``anyOf`` | a union of the branches |
| one-of group, ``if``/``then`` | no type: the fields stay ``NotRequired``, the rule goes in their docstring |

The two rules a spec adds beyond ``required`` (see ``wechatpay_chain.catalog.schema_rules``)
are not alternatives of shape: an ``anyOf`` whose branches are bare ``required`` sets
("one of transaction_id, out_trade_no is required") and an ``if``/``then`` that makes a
field required or forbidden by another's value. A ``TypedDict`` cannot say either, so
the object stays one ``TypedDict``, every field a rule governs is ``NotRequired``
(correct code type-checks), and the rule is written where an editor shows it: in
the field's docstring and in the ``TypedDict``'s.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from wechatpay_chain.catalog.schema_rules import field_rule_texts, is_rule, rule_names, rule_texts

from .text import docstring, is_plain_name, pascal, py_string

__all__ = ["FieldDef", "TypeWriter", "TypedDictDef"]

_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "null": "None"}
# Names a class-syntax TypedDict must not declare as keys: inside the class body
# they would shadow the types its annotations use.
_SHADOWING = frozenset({*_SCALARS.values(), "list", "dict", "Any", "Literal", "NotRequired", "TypedDict"})


@dataclass
class FieldDef:
    name: str
    annotation: str
    required: bool
    label: str


@dataclass
class TypedDictDef:
    name: str
    doc: str
    fields: list[FieldDef]

    def render(self) -> str:
        if all(is_plain_name(f.name) and f.name not in _SHADOWING for f in self.fields):
            return self._render_class()
        return self._render_functional()

    def _annotation(self, item: FieldDef) -> str:
        return item.annotation if item.required else f"NotRequired[{item.annotation}]"

    def _render_class(self) -> str:
        lines = [f"class {self.name}(TypedDict):", docstring(self.doc, "    ")]
        for item in self.fields:
            lines.append(f"    {item.name}: {self._annotation(item)}")
            if item.label:
                lines.append(docstring(item.label, "    "))
        return "\n".join(lines)

    def _render_functional(self) -> str:
        # Keys that are not identifiers (``from``, ``payer _currency``): the functional
        # form, where the label can only be a comment.
        lines = [f"{self.name} = TypedDict(", f"    {py_string(self.name)},", "    {"]
        for item in self.fields:
            comment = f"  # {item.label}" if item.label else ""
            lines.append(f"        {py_string(item.name)}: {self._annotation(item)},{comment}")
        lines.append("    },")
        lines.append(")")
        lines.append(docstring(self.doc, ""))
        return "\n".join(lines)


@dataclass
class TypeWriter:
    """Collects the ``TypedDict``s of one module; ``names`` is shared by all modules."""

    names: set[str]
    definitions: list[TypedDictDef] = field(default_factory=list)
    typing_names: set[str] = field(default_factory=set)
    _seen: dict[str, str] = field(default_factory=dict)  # schema fingerprint -> TypedDict name

    def unique(self, hint: tuple[str, ...]) -> str:
        """``root + last part``, else with more of the parts above it, else numbered."""
        root, parts = hint[0], hint[1:]
        # "Item" and "OptionN" qualify the field before them: keep that field in the name
        markers = 0
        while markers < len(parts) and (parts[-1 - markers] == "Item" or parts[-1 - markers].startswith("Option")):
            markers += 1
        for count in range(min(len(parts), markers + 1), len(parts) + 1):
            name = root + "".join(parts[len(parts) - count :])
            if name not in self.names:
                self.names.add(name)
                return name
        wanted = root + "".join(parts)
        name, number = wanted + "2", 3
        while name in self.names:
            name, number = f"{wanted}{number}", number + 1
        self.names.add(name)
        return name

    def expression(
        self,
        schema: Mapping[str, Any],
        hint: tuple[str, ...],
        doc: str,
        *,
        filled: Collection[str] = (),
        json_text: Collection[str] = (),
        pointer: str = "",
        text: bool = False,
    ) -> str:
        """The type of ``schema``; objects become ``TypedDict``s named after ``hint`` (root, fields...).

        ``filled`` are top-level keys the client fills in (never required of the caller);
        ``json_text`` are pointers of string fields that also take the decoded JSON;
        ``text`` types every scalar as ``str`` (v2 answers: XML text, numbers included).
        """
        schema = _merge_all_of(schema)
        for keyword in ("oneOf", "anyOf"):
            branches = schema.get(keyword)
            if keyword == "anyOf" and is_rule({"anyOf": branches}):
                continue  # a one-of group: a rule on this object's fields, not a union (see _typed_dict)
            if isinstance(branches, list) and branches:
                base = {k: v for k, v in schema.items() if k != keyword}
                rules = [node for node in base.get("allOf") or () if is_rule(node)]
                options = [
                    self.expression(
                        _merge_all_of({**base, "allOf": [*rules, branch]}),
                        (*hint, f"Option{i}"),
                        doc,
                        pointer=pointer,
                        text=text,
                    )
                    for i, branch in enumerate(branches, 1)
                    if isinstance(branch, Mapping)
                ]
                return _union(options)
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(_literal_value(value) for value in enum):
            self.typing_names.add("Literal")
            return _literal([v if v is None or not text else str(v) for v in enum])
        kinds = schema.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if text and pointer in json_text:
            self.typing_names.add("Any")
            return "Any"  # decoded JSON in an answer
        kinds = [("string" if text and kind in _SCALARS and kind != "null" else kind) for kind in kinds]
        types = [self._single(schema, kind, hint, doc, filled, json_text, pointer, text) for kind in kinds]
        if pointer in json_text:
            self.typing_names.add("Any")
            types += ["dict[str, Any]", "list[Any]"]
        return _union(types)

    def _single(
        self,
        schema: Mapping[str, Any],
        kind: Any,
        hint: tuple[str, ...],
        doc: str,
        filled: Collection[str],
        json_text: Collection[str],
        pointer: str,
        text: bool,
    ) -> str:
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "array":
            items = schema.get("items")
            if not isinstance(items, Mapping):
                self.typing_names.add("Any")
                return "list[Any]"
            inner = self.expression(items, (*hint, "Item"), doc, json_text=json_text, pointer=pointer + "/*", text=text)
            return f"list[{inner}]"
        properties = schema.get("properties")
        if (kind == "object" or kind is None) and isinstance(properties, Mapping) and properties:
            return self._typed_dict(schema, hint, doc, filled, json_text, pointer, text)
        self.typing_names.add("Any")
        return "dict[str, Any]" if kind == "object" else "Any"

    def _typed_dict(
        self,
        schema: Mapping[str, Any],
        hint: tuple[str, ...],
        doc: str,
        filled: Collection[str],
        json_text: Collection[str],
        pointer: str,
        text: bool,
    ) -> str:
        texts = sorted(p for p in json_text if p.startswith(pointer))
        fingerprint = json.dumps([schema, sorted(filled), texts, doc, text], sort_keys=True, default=str)
        if fingerprint in self._seen:
            return self._seen[fingerprint]
        name = self.unique(hint)
        self._seen[fingerprint] = name
        # A name a group or a condition governs is never required alone, whatever ``required`` says.
        required = set(schema.get("required") or ()) - set(filled) - rule_names(schema)
        notes = field_rule_texts(schema)
        fields: list[FieldDef] = []
        for key, child in schema["properties"].items():
            if not isinstance(child, Mapping):
                continue
            label = _label(child)
            note = "; ".join([label, *notes.get(str(key), ())]) if label else "; ".join(notes.get(str(key), ()))
            annotation = self.expression(
                child,
                (*hint, pascal(str(key))),
                label or str(key),
                json_text=json_text,
                pointer=f"{pointer}/{key}",
                text=text,
            )
            fields.append(FieldDef(str(key), annotation, key in required, note))
        rules = rule_texts(schema)
        if rules:
            doc += "\n\nRules: " + "; ".join(rules) + "."
        if schema.get("patternProperties"):
            doc += "\n\nAlso numbered keys: " + ", ".join(str(p) for p in schema["patternProperties"])
        self.typing_names.add("TypedDict")
        if any(not item.required for item in fields):
            self.typing_names.add("NotRequired")
        self.definitions.append(TypedDictDef(name, doc, fields))
        return name


def _label(schema: Mapping[str, Any]) -> str:
    label = str(schema.get("title") or "")
    if schema.get("format"):
        label = f"{label} ({schema['format']})".strip()
    if schema.get("deprecated"):
        label = f"{label} [deprecated]".strip()
    return label


def _merge_all_of(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """``allOf`` of objects as one object (properties in order, ``required`` joined).

    Rule nodes (one-of groups, conditions) declare no field: they stay under ``allOf``,
    where ``wechatpay_chain.catalog.schema_rules`` reads them.
    """
    branches = schema.get("allOf")
    if not isinstance(branches, list):
        return schema
    rules = [branch for branch in branches if is_rule(branch)]
    if len(rules) == len(branches):
        return schema  # nothing to merge (also: merging is idempotent)
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(merged.get("properties") or {})
    required = list(merged.get("required") or [])
    for branch in branches:
        if is_rule(branch):
            continue
        branch = _merge_all_of(branch) if isinstance(branch, Mapping) else {}
        rules.extend(_own_rules(branch))  # a merged part's rules govern the whole object
        properties.update(branch.get("properties") or {})
        required.extend(name for name in branch.get("required") or [] if name not in required)
        if "type" in branch:
            merged.setdefault("type", branch["type"])
    if properties:
        merged["properties"] = properties
    if required:
        merged["required"] = required
    if rules:
        merged["allOf"] = rules
    return merged


def _own_rules(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The rule nodes an object carries: its one-of ``anyOf``, its ``if``/``then``, its ``allOf`` rules."""
    found: list[Mapping[str, Any]] = []
    if is_rule({"anyOf": schema.get("anyOf")}):
        found.append({"anyOf": schema["anyOf"]})
    condition = {k: schema[k] for k in ("if", "then") if k in schema}
    if is_rule(condition):
        found.append(condition)
    found.extend(node for node in schema.get("allOf") or () if is_rule(node))
    return found


def _literal_value(value: Any) -> bool:
    return value is None or isinstance(value, str | int | bool)


def _literal(values: list[Any]) -> str:
    texts = []
    for value in values:
        if isinstance(value, str):
            texts.append(py_string(value))
        else:
            texts.append(repr(value))
    unique = list(dict.fromkeys(texts))
    return f"Literal[{', '.join(unique)}]"


def _union(types: list[str]) -> str:
    unique = list(dict.fromkeys(types))
    if "None" in unique:  # None last reads best: ``str | None``
        unique = [t for t in unique if t != "None"] + ["None"]
    return " | ".join(unique) if unique else "Any"
