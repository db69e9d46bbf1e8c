"""Convert a Swagger 2.0 schema into JSON Schema 2020-12, noting runtime marks on the way.

Swagger-isms and what they become:

- `$ref` (also the broken `file.yaml#Name`) -> inlined; a reference met again while it is
  being inlined (recursion) goes to `$defs` and becomes `{"$ref": "#/$defs/Name"}`
- `allOf` of plain objects -> one object merged deeply (properties in source order, `required` joined
  at every depth, see merge.py)
- `required: true` on a property -> the parent's `required` list
- `nullable: true` -> `"null"` added to `type` (and to `enum`)
- `example` -> `examples: [value]`, coerced to the declared type (`'888'` for an integer -> 888);
  an example that contradicts its own schema is dropped and reported
- `format: rfc3339` -> `date-time`; `url` -> `uri`; `base64` -> dropped, noted as sensitive
- `format: jsonObjectLike/jsonArrayLike`, `x-json` -> `contentMediaType: application/json`
  with `contentSchema`; `x-urlencode` -> `application/x-www-form-urlencoded` likewise
- `xml.x-cdata`, `x-json.x-key`, `x-is-sensitive` -> noted as marks, not kept in the schema
- v2's numbered fields (`coupon_id_$n`) -> `patternProperties` (`^coupon_id_\\d+$`)
- `description` -> `title`, its first clause only
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from jsonschema import Draft202012Validator
from referencing.exceptions import Unresolvable

from .keywords import (
    CONVERTED_KEYWORDS,
    COPIED_KEYWORDS,
    JSON_TYPES,
    Schema,
    coerce_value,
    copy_exclusive_bounds,
    is_enum_only,
    is_numbered,
    is_plain_object,
    merge_enums,
    numbered_pattern,
    ordered,
    shorten,
    unique,
)
from .lengths import repair_lengths
from .marks import Marks, pointer
from .merge import merge_objects
from .policy import Overrides
from .repairs import Repairs
from .required import prune_required
from .source import Catalogue, Json, Ref
from .text import short_label

JSON_MEDIA_TYPE = "application/json"
URLENCODED_MEDIA_TYPE = "application/x-www-form-urlencoded"
_JSON_FORMATS = {"jsonObjectLike", "jsonArrayLike", "json"}
_SENSITIVE_FORMAT = "base64"
_FORMAT_RENAMES = {"rfc3339": "date-time", "url": "uri"}
_AEAD_MARK = "ciphertext"
"""`x-is-sensitive: ciphertext` marks an object encrypted with the APIv3 key (AEAD_AES_256_GCM)."""


_NUMERIC = re.compile(r"^-?\d+(\.\d+)?$")


class SchemaConverter:
    """Converts schemas of one catalogue; remembers keywords it did not understand."""

    def __init__(self, catalogue: Catalogue, overrides: Overrides, repairs: Repairs | None = None) -> None:
        self.catalogue = catalogue
        self.type_aliases = overrides.type_aliases
        self.keyword_aliases = overrides.keyword_aliases
        self.unknown_keywords: Counter[str] = Counter()
        self.repairs = repairs if repairs is not None else Repairs()
        self.pattern_fixes = overrides.pattern_fixes
        self.enum_fixes = overrides.enum_fixes
        self._stack: list[Ref] = []
        self._defs: dict[str, Ref] = {}

    def convert(
        self,
        node: Json,
        document: str,
        marks: Marks | None = None,
        path_names: tuple[str, ...] = (),
        place: str = "",
    ) -> Schema:
        """Convert one top-level schema; recursive pieces land in its `$defs`.

        `required` is judged on the finished schema, once `allOf` parts are merged: names
        nothing declares are dropped, and so are `path_names` (URL templates) on a body;
        `place` (json, response ...) only labels the report.
        """
        self._defs = {}
        schema = self._convert(node, document, (), marks)
        defs: dict[str, Schema] = {}
        while len(defs) < len(self._defs):
            for name, ref in list(self._defs.items()):
                if name not in defs:
                    self._stack = [ref]
                    defs[name] = self._convert(self.catalogue.lookup(ref), ref.document, (), None)
                    self._stack = []
        if defs:
            schema["$defs"] = dict(sorted(defs.items()))
        prune_required(schema, f"{document} {place}#".replace(" #", "#"), self.repairs, path_names)
        return schema

    def _convert(self, node: Json, document: str, tokens: tuple[str, ...], marks: Marks | None) -> Schema:
        if not isinstance(node, dict):
            return {}
        node = self.dealias(node)
        if "$ref" in node:
            return self._convert_ref(node, document, tokens, marks)
        if "allOf" in node:
            return self._convert_all_of(node, document, tokens, marks)
        return self._convert_plain(node, document, tokens, marks)

    def _convert_ref(self, node: dict[str, Any], document: str, tokens: tuple[str, ...], marks: Marks | None) -> Schema:
        ref = self.catalogue.parse_ref(str(node["$ref"]), document)
        if ref in self._stack:
            return {"$ref": f"#/$defs/{self._def_name(ref)}"}
        self._stack.append(ref)
        try:
            schema = self._convert(self.catalogue.lookup(ref), ref.document, tokens, marks)
        finally:
            self._stack.pop()
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        if siblings:  # a label or example written beside the $ref wins over the target's
            schema = ordered({**schema, **self._convert_plain(siblings, document, tokens, marks)})
            self._fix_enum(schema, f"{document}#{pointer(tokens)}")
            repair_lengths(schema, f"{document}#{pointer(tokens)}", self.repairs)
            self._drop_contradicting_examples(schema, f"{document}#{pointer(tokens)}")
        return schema

    def dealias(self, node: dict[str, Any]) -> dict[str, Any]:
        """The node with misspelt keywords (`require`, `depracted`) under their real names."""
        if not any(key in self.keyword_aliases for key in node):
            return node
        return {self.keyword_aliases.get(key, key): value for key, value in node.items()}

    def _def_name(self, ref: Ref) -> str:
        for name, known in self._defs.items():
            if known == ref:
                return name
        name, suffix = ref.name, 2
        while name in self._defs:
            name, suffix = f"{ref.name}{suffix}", suffix + 1
        self._defs[name] = ref
        return name

    def _convert_all_of(
        self, node: dict[str, Any], document: str, tokens: tuple[str, ...], marks: Marks | None
    ) -> Schema:
        parts = [self._convert(part, document, tokens, marks) for part in node["allOf"] or []]
        rest = self._convert_plain({k: v for k, v in node.items() if k != "allOf"}, document, tokens, marks)
        if all(is_plain_object(part) for part in parts):
            return self._merge_objects([*parts, rest], f"{document}#{pointer(tokens)}")
        if parts and all(is_enum_only(part) for part in parts):
            return merge_enums(parts, rest)
        return ordered({**rest, "allOf": parts})

    def _convert_plain(
        self, node: dict[str, Any], document: str, tokens: tuple[str, ...], marks: Marks | None
    ) -> Schema:
        node = self._adopt_stray_properties(node, document, tokens)
        self.unknown_keywords.update(
            key for key in node if key not in CONVERTED_KEYWORDS and key not in COPIED_KEYWORDS
        )
        out: Schema = {}
        label = short_label(node.get("description"))
        if label:
            out["title"] = label
        out.update(self._type_and_format(node, tokens, marks))
        nullable = node.get("nullable") is True
        if nullable and "type" in out:
            out["type"] = [out["type"], "null"]
        if isinstance(node.get("enum"), list):
            self._repair_enum_type(node["enum"], out, f"{document}#{pointer(tokens)}")
            values = [coerce_value(value, out.get("type")) for value in node["enum"]]
            out["enum"] = unique([*values, *([None] if nullable else [])])
        out.update({key: node[key] for key in COPIED_KEYWORDS if key in node})
        self._repair_enum_length(out, f"{document}#{pointer(tokens)}")
        for key in ("default", "const"):
            if key in out:
                out[key] = coerce_value(out[key], out.get("type"))
        if isinstance(out.get("pattern"), str):
            out["pattern"] = self._repair_pattern(out["pattern"])
        copy_exclusive_bounds(node, out)
        self._convert_children(node, document, tokens, marks, out)
        self._note_vendor_marks(node, document, tokens, marks, out)
        if node.get("deprecated") is True:
            out["deprecated"] = True
        if node.get("example") is not None and "examples" not in out:
            out["examples"] = [coerce_value(node["example"], out.get("type"))]
        self._fix_enum(out, f"{document}#{pointer(tokens)}")
        repair_lengths(out, f"{document}#{pointer(tokens)}", self.repairs)
        if "examples" in out:
            self._drop_contradicting_examples(out, f"{document}#{pointer(tokens)}")
        return ordered(out)

    def _fix_enum(self, schema: Schema, where: str) -> None:
        """An enum the overrides replace (taken from the wrong definition in the source)."""
        if where in self.enum_fixes and "enum" in schema:
            schema["enum"] = list(self.enum_fixes[where])
            self.repairs.add("enum-of-another-field", f"{where}: enum -> {shorten(repr(schema['enum']))}")

    def _repair_enum_type(self, enum: list[Any], out: Schema, where: str) -> None:
        """A numeric type whose enum lists only words (`type: number, enum: [DIS_FLAG, ...]`)
        admits no value at all; the enum is the more specific statement, so it sets the type."""
        declared = out.get("type")
        types = declared if isinstance(declared, list) else [declared]
        numeric = {"number", "integer"} & set(types)
        words = [value for value in enum if isinstance(value, str) and value.strip() and not _NUMERIC.match(value)]
        if numeric and words and len(words) == len([value for value in enum if value is not None]):
            out["type"] = (
                "string"
                if not isinstance(out.get("type"), list)
                else ["string" if kind in numeric else kind for kind in out["type"]]
            )
            out.pop("format", None)
            self.repairs.add(
                "enum-words-under-a-numeric-type",
                f"{where}: {'/'.join(sorted(numeric))} with enum {shorten(repr(words))} -> string",
            )

    def _repair_enum_length(self, out: Schema, where: str) -> None:
        """An enum word longer than `maxLength` (`sign_type: HMAC-SHA256` under maxLength 10)
        can never be sent; the enum lists what the platform takes, so the limit follows it."""
        limit = out.get("maxLength")
        words = [value for value in out.get("enum") or () if isinstance(value, str)]
        longest = max((len(word) for word in words), default=0)
        if isinstance(limit, int) and longest > limit:
            out["maxLength"] = longest
            self.repairs.add(
                "maxLength-below-an-enum-word", f"{where}: maxLength {limit} -> {longest} (enum {shorten(repr(words))})"
            )

    def _merge_objects(self, parts: list[Schema], where: str) -> Schema:
        """Merge object schemas (from `allOf`) into one, deeply; later parts refine earlier ones."""
        return merge_objects(parts, where, self._recheck_examples)

    def _recheck_examples(self, schema: Schema, where: str) -> None:
        """An example from one part may break a rule from another: check it against the merge."""
        if "examples" in schema:
            self._drop_contradicting_examples(schema, where)

    def _repair_pattern(self, pattern: str) -> str:
        """`/\\d{8}/` (a JavaScript regex literal) -> `\\d{8}`, then fixes from the overrides."""
        if len(pattern) > 2 and pattern.startswith("/") and pattern.endswith("/"):
            pattern = pattern[1:-1]
        return self.pattern_fixes.get(pattern, pattern)

    def _drop_contradicting_examples(self, schema: Schema, where: str) -> None:
        """Keep only examples that pass their own schema: the mock answers with them.

        The source has examples outside their enum (`SUCCESS` for enum `SUCEESS`) or over
        their maxLength; such a pair is a defect of the source, and the schema is the
        contract, so the example goes (and is reported).
        """
        if "examples" not in schema:
            return
        rules = {key: value for key, value in schema.items() if key != "examples"}
        try:
            validator = Draft202012Validator(rules)
            kept = [example for example in schema["examples"] if validator.is_valid(example)]
        except Unresolvable:  # a recursive `$ref` cannot be checked alone
            return
        for example in schema["examples"]:
            if example not in kept:
                reason = next(iter(validator.iter_errors(example))).message
                self.repairs.add(
                    "example-breaking-its-schema", f"{where}: {shorten(repr(example))} ({shorten(reason)})"
                )
        if kept:
            schema["examples"] = kept
        else:
            del schema["examples"]

    def _adopt_stray_properties(self, node: dict[str, Any], document: str, tokens: tuple[str, ...]) -> dict[str, Any]:
        """Move property schemas indented one level too shallow back into `properties`.

        The source has a few objects whose fields sit beside an empty or short `properties`
        instead of inside it (`amount.total` in v3/qrcode/transactions.yaml). A sibling that is not a
        keyword and looks like a schema (a mapping with `type` or `$ref`) is such a field.
        """
        if "properties" not in node or not isinstance(node["properties"] or {}, dict):
            return node
        strays = {
            key: value
            for key, value in node.items()
            if key not in CONVERTED_KEYWORDS
            and key not in COPIED_KEYWORDS
            and not key.startswith("x-")
            and isinstance(value, dict)
            and ("type" in value or "$ref" in value)
        }
        if not strays:
            return node
        for key in strays:
            self.repairs.add(
                "property-outside-properties", f"{document}#{pointer((*tokens, key))} moved into properties"
            )
        kept = {key: value for key, value in node.items() if key not in strays}
        return {**kept, "properties": {**(node["properties"] or {}), **strays}}

    def _type_and_format(self, node: dict[str, Any], tokens: tuple[str, ...], marks: Marks | None) -> Schema:
        out: Schema = {}
        declared = node.get("type")
        if isinstance(declared, str) and declared in self.type_aliases:
            out.update(self.type_aliases[declared])
        elif isinstance(declared, str) and declared not in JSON_TYPES:
            # Six v2 fields hold their example in `type` and prose in `example`
            # (v2/transit/queryorder.yaml out_trade_no: `type: '20150806125346'`).
            out.update({"type": "string", "examples": [declared]})
            self.repairs.add("example-written-as-type", f"`type: {declared}` read as type string with that example")
        elif isinstance(declared, str):
            out["type"] = declared
        fmt = node.get("format")
        if isinstance(fmt, str) and "format" not in out:
            if fmt == _SENSITIVE_FORMAT:
                if marks is not None:
                    marks.add(marks.sensitive, tokens)
            elif fmt in _JSON_FORMATS:
                out["contentMediaType"] = JSON_MEDIA_TYPE
                if marks is not None:
                    marks.add(marks.json_strings, tokens)
            else:
                out["format"] = _FORMAT_RENAMES.get(fmt, fmt)
        return out

    def _convert_children(
        self, node: dict[str, Any], document: str, tokens: tuple[str, ...], marks: Marks | None, out: Schema
    ) -> None:
        required = (
            [name for name in node.get("required") or [] if isinstance(name, str)]
            if isinstance(node.get("required"), list)
            else []
        )
        if isinstance(node.get("properties"), dict):
            properties: Schema = {}
            numbered: Schema = {}
            for name, sub in node["properties"].items():
                converted = self._convert(sub, document, (*tokens, name), marks)
                if is_numbered(name):
                    numbered[numbered_pattern(name)] = converted
                else:
                    properties[name] = converted
                if isinstance(sub, dict) and sub.get("required") is True:  # Swagger-ism: flag on the child
                    required.append(name)
            if properties:
                out["properties"] = properties
            if numbered:
                out["patternProperties"] = numbered
        # `refund_id_$n` cannot be required by name; the numbered fields are described above.
        required = [name for name in required if not is_numbered(name)]
        if required:
            out["required"] = unique(required)
        if isinstance(node.get("additionalProperties"), dict):
            out["additionalProperties"] = self._convert(node["additionalProperties"], document, (*tokens, "*"), marks)
        elif isinstance(node.get("additionalProperties"), bool):
            out["additionalProperties"] = node["additionalProperties"]
        if "items" in node:
            out["items"] = self._convert(node["items"], document, (*tokens, "*"), marks)
        for keyword in ("oneOf", "anyOf"):
            if isinstance(node.get(keyword), list):
                out[keyword] = [self._convert(branch, document, tokens, marks) for branch in node[keyword]]

    def _note_vendor_marks(
        self, node: dict[str, Any], document: str, tokens: tuple[str, ...], marks: Marks | None, out: Schema
    ) -> None:
        xml = node.get("xml")
        if marks is not None and isinstance(xml, dict) and xml.get("x-cdata") is True:
            marks.add(marks.cdata, tokens)
        sensitive = node.get("x-is-sensitive")
        if marks is not None and sensitive == _AEAD_MARK:
            marks.add(marks.aead, tokens)
        elif marks is not None and isinstance(sensitive, list):
            for name in sensitive:
                marks.add(marks.sensitive, (*tokens, str(name)))
        for vendor_key, media_type in (("x-json", JSON_MEDIA_TYPE), ("x-urlencode", URLENCODED_MEDIA_TYPE)):
            inner = node.get(vendor_key)
            if not isinstance(inner, dict):
                continue
            out["contentMediaType"] = media_type
            # The content is a string on the wire: marks inside it would point nowhere.
            out["contentSchema"] = self._convert(inner, document, (), None)
            if marks is None:
                continue
            marks.add(marks.json_strings if vendor_key == "x-json" else marks.urlencoded, tokens)
            if isinstance(inner.get("x-key"), str):
                marks.keys[pointer(tokens)] = inner["x-key"]
