"""What one operation's page says, independent of Markdown or HTML.

Field tables come from :func:`wechatpay_chain.describe.field_rows` (the same rows as
``help(node.post)`` and the CLI): depth, name, type, required, label, enum values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wechatpay_chain.describe import field_rows
from wechatpay_chain.specs import Operation

from .examples import Example, build_example

__all__ = ["PART_TITLES", "Page", "Row", "build_page", "slug_for", "slug_of"]

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


@dataclass
class Page:
    operation: Operation
    slug: str
    example: Example
    tags: list[str]
    request: list[tuple[str, list[Row]]] = field(default_factory=list)  # (part title, rows)
    response: list[Row] = field(default_factory=list)
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


def build_page(operation: Operation, slug: str, attribute_path: str | None) -> Page:
    tags = [str(tag) for tag in operation.spec.get("tags") or []] or [UNTAGGED]
    page = Page(operation, slug, build_example(operation, attribute_path), tags)
    for part in ("path", "query", "headers", "json", "xml", "form"):
        schema = operation.schema(part)
        if schema is not None:
            rows = _rows(schema)
            if part == "headers":
                rows = [_client_header(row) for row in rows]
            page.request.append((PART_TITLES[part], rows))
    upload = operation.spec.get("upload")
    if isinstance(upload, Mapping) and isinstance(upload.get("meta"), Mapping):
        page.request.append((PART_TITLES["meta"], _rows(upload["meta"])))
    response = operation.schema("response")
    if response is not None:
        page.response = _rows(response)
    page.notes = _notes(operation, attribute_path)
    page.errors = _errors(operation.spec.get("errors"))
    return page


def _rows(schema: Mapping[str, Any]) -> list[Row]:
    return [Row(d, n, t, r, label, tuple(e)) for d, n, t, r, label, e in field_rows(schema)]


def _client_header(row: Row) -> Row:
    """``Wechatpay-Serial`` is the client's business: it names the key it encrypted with."""
    if row.name.lower() != "wechatpay-serial":
        return row
    return Row(row.depth, row.name, row.type, row.required, f"{row.label} (added by the client)", row.enum)


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
