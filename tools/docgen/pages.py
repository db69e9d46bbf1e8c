"""What one operation's page says, independent of Markdown or HTML.

Field tables come from :func:`wechatpay_chain.catalog.describe.field_rows` (the same rows as
``help(node.post)`` and the CLI): depth, name, type, required, label, enum values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wechatpay_chain.catalog.describe import field_rows
from wechatpay_chain.catalog.specs import Operation

from .examples import Example, build_example
from .rules import field_marks, rule_lines
from .values import FieldValues

__all__ = ["PART_TITLES", "Page", "Row", "Table", "build_page", "slug_for", "slug_of"]

PART_TITLES = {
    "path": "Path values (keywords)",
    "query": "query=",
    "headers": "headers=",
    "json": "json=",
    "xml": "xml=",
    "form": "form fields",
    "meta": "json= (upload meta)",
}
UNTAGGED = "(untagged)"


@dataclass(frozen=True)
class Row:
    depth: int
    name: str
    type: str
    required: bool
    label: str
    enum: tuple[Any, ...]
    rule: str = ""  # "one of" (a group's member) or "conditional" (a condition makes it required)

    @property
    def requirement(self) -> str:
        """What the required column says: ``yes``, ``one of``, ``conditional`` or nothing."""
        return "yes" if self.required else self.rule


@dataclass
class Table:
    """A field table: its title, its rows, the rule lines under it."""

    title: str
    rows: list[Row]
    rules: list[str] = field(default_factory=list)


@dataclass
class Page:
    operation: Operation
    slug: str
    example: Example
    tags: list[str]
    request: list[Table] = field(default_factory=list)
    response: Table | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, meaning)

    @property
    def title(self) -> str:
        return self.operation.summary or f"{self.operation.method} {self.operation.key}"

    @property
    def roles(self) -> list[str]:
        return [str(role) for role in self.operation.spec.get("roles") or []]

    @property
    def doc(self) -> str | None:
        link = self.operation.spec.get("doc")
        return str(link) if link else None

    @property
    def search_text(self) -> str:
        """What the index search matches: method, key, URL, slug, title, tags."""
        op = self.operation
        return " ".join([op.method, op.key, op.url, self.slug, self.title, *self.tags]).lower()


def slug_for(operation: Operation) -> str:
    return slug_of(operation.method, operation.key)


def slug_of(method: str, key: str) -> str:
    """``post-v3-profitsharing-return-orders``: safe in file names and URLs, templates kept as ``_x_``."""
    key = re.sub(r"\{([^}]*)\}", r"_\1_", key)
    return method.lower() + "-" + re.sub(r"[^A-Za-z0-9_.-]+", "-", key).strip("-")


def build_page(operation: Operation, slug: str, attribute_path: str | None, values: FieldValues | None = None) -> Page:
    tags = [str(tag) for tag in operation.spec.get("tags") or []] or [UNTAGGED]
    page = Page(operation, slug, build_example(operation, attribute_path, values), tags)
    for part in ("path", "query", "headers", "json", "xml", "form", "meta"):
        schema = operation.schema(part)
        if schema is not None:
            table = _table(PART_TITLES[part], schema)
            if part == "headers":
                table.rows = [_client_header(row) for row in table.rows]
            page.request.append(table)
    response = operation.schema("response")
    if response is not None:
        page.response = _table("response", response)
    page.notes = _notes(operation, attribute_path)
    page.errors = _errors(operation.spec.get("errors"))
    return page


def _table(title: str, schema: Mapping[str, Any]) -> Table:
    return Table(title, _marked(list(field_rows(schema)), schema, 0), rule_lines(schema))


def _marked(raw: list[Any], schema: Mapping[str, Any], depth: int) -> list[Row]:
    """``field_rows``' rows, each governed field marked from its own object's rules.

    The rows of one level come in order, each followed by its nested rows (deeper).
    """
    marks = field_marks(schema)
    properties = _properties(schema)
    rows: list[Row] = []
    index = 0
    while index < len(raw):
        _, name, kind, required, label, enum = raw[index]
        end = index + 1
        while end < len(raw) and raw[end][0] > depth:
            end += 1
        rows.append(Row(depth, name, kind, required, label, tuple(enum), "" if required else marks.get(name, "")))
        child = properties.get(name) or {}
        nested = child.get("items") if child.get("type") == "array" else child
        rows.extend(_marked(raw[index + 1 : end], nested if isinstance(nested, Mapping) else {}, depth + 1))
        index = end
    return rows


def _properties(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of an object, those of its ``allOf``/``oneOf``/``anyOf`` branches too."""
    found = dict(schema.get("properties") or {})
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(keyword) or ():
            if isinstance(branch, Mapping):
                found = {**_properties(branch), **found}
    return found


def _client_header(row: Row) -> Row:
    """``Wechatpay-Serial`` is the client's business: it names the key it encrypted with."""
    if row.name.lower() != "wechatpay-serial":
        return row
    return Row(row.depth, row.name, row.type, row.required, f"{row.label} (added by the client)", row.enum, row.rule)


def _notes(operation: Operation, attribute_path: str | None) -> list[str]:
    """What a caller must know besides the fields (from the spec's flags)."""
    spec = operation.spec
    notes = []
    if spec.get("deprecated"):
        notes.append("Deprecated by the platform.")
    if spec.get("upload"):
        upload = spec["upload"]
        limits = ", ".join(str(e) for e in upload.get("extensions") or []) or "any type"
        size = f", at most {int(upload['max_size']):,} bytes" if upload.get("max_size") else ""
        notes.append(f'Upload: `files={{"{upload.get("file", "file")}": (name, bytes)}}` ({limits}{size}).')
    if spec.get("download"):
        notes.append("The answer is a file: read `response.content`.")
    if spec.get("unsigned"):
        notes.append("The platform does not sign this answer; the client does not demand a signature.")
    if spec.get("encrypt"):
        notes.append("Encrypted by the client before sending: " + ", ".join(f"`{p}`" for p in spec["encrypt"]) + ".")
    if spec.get("cert_required"):
        notes.append("Needs the merchant API certificate on the connection (`client_cert=`, `client_key=`).")
    if spec.get("base_url"):
        notes.append(f"Host: {spec['base_url']}")
    if attribute_path is None:
        notes.append("Not reachable in attribute style (another segment takes its Python name): use `chain()`.")
    return notes


def _errors(value: Any) -> list[tuple[str, str]]:
    """Error codes where the spec lists them (``{code: meaning}`` or ``[{code, message}]``)."""
    if isinstance(value, Mapping):
        return [(str(code), str(meaning)) for code, meaning in value.items()]
    if isinstance(value, list):
        return [
            (str(item.get("code", "")), str(item.get("message") or item.get("description") or ""))
            for item in value
            if isinstance(item, Mapping)
        ]
    return []
