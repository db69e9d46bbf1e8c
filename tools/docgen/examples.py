"""A runnable example call for each operation, built from the spec's examples.

The payload starts as :func:`wechatpay_chain.mock.examples.example_for` of each part
(the mock answers from the same function); its ``"string"`` placeholders are replaced
with plausible values (:mod:`.values`) and it is made to keep the object's one-of groups
and conditions (:mod:`.rules`). Examples the source gives do not always
satisfy every rule of their schema together, so the payload is then validated with
the operation's own validator and each optional field that breaks a rule is dropped
(the innermost optional field on the problem's path); what cannot be repaired that
way stays in ``problems`` and the page says so.

The page shows the payload once, then the call in six forms: attribute chain,
``chain()`` and ``[...]``, each sync and async (top-level ``await``, as in
``python -m asyncio`` or a notebook).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wechatpay_chain.catalog.schema_rules import rule_names
from wechatpay_chain.catalog.specs import Operation
from wechatpay_chain.mock.examples import example_for

from .literal import py_literal
from .rules import satisfy_rules
from .values import FieldValues

__all__ = ["DOC_MCHID", "Example", "build_example"]

DOC_MCHID = "1900000109"
"""The merchant id of the examples (the official docs' and the mock platform's default)."""
MERCHANT_ID_FIELDS = ("mch_id", "mchid", "combine_mch_id", "sp_mchid")
# v2 fields the client computes (signing) or checks against its own merchant id.
V2_COMPUTED = ("sign", "nonce_str")
CLIENT_HEADERS = frozenset({"wechatpay-serial"})  # the client adds it where the call needs it
MAX_REPAIRS = 20
# A few bytes of each kind the upload specs accept: enough for the client's checks.
_FILE_BYTES = {"pdf": b"%PDF-1.4 example\n", "png": b"\x89PNG\r\n\x1a\n example", "mp4": b"\x00\x00\x00\x18ftypmp42"}
_FILE_DEFAULT = b"\xff\xd8\xff\xe0 example image bytes"


@dataclass
class Example:
    """One operation's example: keyword arguments, variable definitions, the six calls."""

    operation: Operation
    attribute_path: str | None  # "v3.profitsharing.return_orders"; None when attributes cannot reach it
    path_values: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)  # variable name -> value
    keywords: dict[str, str] = field(default_factory=dict)  # keyword -> variable name
    problems: list[str] = field(default_factory=list)

    def definitions(self) -> str:
        """The variables the calls use, as Python code (empty when the call needs none)."""
        lines = []
        for name, value in self.variables.items():
            lines.append(f"{name} = {py_literal(value)}")
        return "\n".join(lines)

    def arguments(self) -> str:
        values = [f"{name}={py_literal(value)}" for name, value in self.path_values.items()]
        return ", ".join(values + [f"{keyword}={variable}" for keyword, variable in self.keywords.items()])

    @property
    def redirect(self) -> bool:
        """A v2 browser page: its signed URL is built, the page is never called by the client."""
        return self.operation.flag("redirect")

    def redirect_calls(self) -> list[tuple[str, str]]:
        """(style, code line) building the signed URL of a redirect page, from a node or a path."""
        query = self.keywords.get("query", "{}")
        forms = [("path string", py_literal(self.operation.key))]
        if self.attribute_path is not None:
            forms.insert(0, ("attribute chain", f"client.{self.attribute_path}"))
        return [(style, f"url = client.v2_redirect_url({node}, {query})") for style, node in forms]

    def calls(self, asynchronous: bool) -> list[tuple[str, str]]:
        """(style, code line) for the three styles, sync or async."""
        verb = self.operation.method.lower() + ("_async" if asynchronous else "")
        wait = "await " if asynchronous else ""
        key = self.operation.key
        forms = []
        if self.attribute_path is not None:
            forms.append(("attribute chain", f"client.{self.attribute_path}"))
        forms.append(("path string", f"client.chain({py_literal(key)})"))
        forms.append(("item access", f"client[{py_literal(key)}]"))
        return [(style, f"response = {wait}{node}.{verb}({self.arguments()})") for style, node in forms]


def build_example(operation: Operation, attribute_path: str | None, values: FieldValues | None = None) -> Example:
    """The example of ``operation``; ``values`` knows the catalogue's examples by field name."""
    values = values or FieldValues()
    example = Example(operation, attribute_path)
    path_schema = operation.schema("path")
    if path_schema is not None:
        example.path_values = values.fill(dict(example_for(path_schema) or {}), path_schema)
    parts = _parts(operation, values)
    example.problems = _repair(operation, example.path_values, parts, values)
    for keyword, (variable, value) in parts.items():
        example.variables[variable] = value
        example.keywords[keyword] = variable
    return example


def _parts(operation: Operation, values: FieldValues) -> dict[str, tuple[str, Any]]:
    """keyword -> (variable name, value), in the order the page shows them."""
    parts: dict[str, tuple[str, Any]] = {}
    query = operation.schema("query")
    if query is not None:
        parts["query"] = ("query", _body(operation, query, values))
    upload = operation.spec.get("upload")
    if isinstance(upload, Mapping):
        parts["files"] = ("files", _files(upload))
        meta = _upload_meta(upload, values)
        if meta:
            parts["json"] = ("meta", meta)
    else:
        for part in ("json", "xml"):
            schema = operation.schema(part)
            if schema is not None:
                parts[part] = ("payload", _body(operation, schema, values))
    headers = _headers(operation, values)
    if headers:
        parts["headers"] = ("headers", headers)
    return parts


def _body(operation: Operation, schema: Mapping[str, Any], values: FieldValues) -> Any:
    body = values.fill(example_for(schema), schema)
    if not isinstance(body, dict):
        return body
    satisfy_rules(body, schema, values)
    for name in MERCHANT_ID_FIELDS:  # the client (v2) checks it against its own merchant id
        if isinstance(body.get(name), str | int) and not isinstance(body[name], bool):
            body[name] = DOC_MCHID if isinstance(body[name], str) else int(DOC_MCHID)
    if operation.protocol == "v2":
        for name in V2_COMPUTED:
            body.pop(name, None)
    return body


def _files(upload: Mapping[str, Any]) -> dict[str, tuple[str, bytes]]:
    extensions = [str(e).lower() for e in upload.get("extensions") or ["jpg"]]
    extension = extensions[0]
    content = _FILE_BYTES.get(extension, _FILE_DEFAULT)
    return {str(upload.get("file") or "file"): (f"example.{extension}", content)}


def _upload_meta(upload: Mapping[str, Any], values: FieldValues) -> dict[str, Any]:
    """The meta fields the caller gives (the client computes ``filename`` and ``sha256``)."""
    schema = upload.get("meta")
    meta = values.fill(example_for(schema), schema) if isinstance(schema, Mapping) else None
    if not isinstance(meta, dict):
        return {}
    return {k: v for k, v in meta.items() if k not in ("filename", "sha256")}


def _headers(operation: Operation, values: FieldValues) -> dict[str, Any]:
    schema = operation.schema("headers") or {}
    required = set(schema.get("required") or ())
    given = values.fill(example_for(schema) or {}, schema)
    return {
        name: value
        for name, value in given.items()
        if name in required and name.lower() not in CLIENT_HEADERS and isinstance(value, str)
    }


def _repair(
    operation: Operation, path_values: dict[str, Any], parts: dict[str, tuple[str, Any]], values: FieldValues
) -> list[str]:
    """Make the payload validate: drop optional fields that break a rule, regenerate required ones.

    What is still wrong afterwards is returned (the page shows it, the tests report it).
    """
    documents = {keyword: value for keyword, (_, value) in parts.items() if keyword in ("query", "json", "xml")}
    if operation.spec.get("upload"):
        documents.pop("json", None)  # meta is checked by the client, with the file's digest
    problems = _problems(operation, path_values, documents)
    for _ in range(MAX_REPAIRS):
        if not problems or not any(_fix(operation, documents, p.pointer, p.rule, values) for p in problems):
            break
        problems = _problems(operation, path_values, documents)
    return [str(problem) for problem in problems]


def _problems(operation: Operation, path_values: dict[str, Any], documents: dict[str, Any]) -> list[Any]:
    checked = dict(documents)
    for part in ("xml", "query"):
        if operation.protocol == "v2" and isinstance(checked.get(part), dict):
            # what the client adds before its own check: the sign and the nonce
            checked[part] = {**checked[part], **{name: "0" * 32 for name in V2_COMPUTED}}
    return operation.validate({"path": path_values, **checked})


def _fix(operation: Operation, documents: dict[str, Any], pointer: str, rule: str, values: FieldValues) -> bool:
    """Repair the field at ``pointer`` (``/json/amount/total``); False when nothing could be done.

    A required field whose value breaks its ``format`` or length gets the type's default
    example instead; otherwise the innermost optional field on the path is dropped.
    """
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    if len(tokens) < 2 or tokens[0] not in documents:
        return False
    schema: Any = operation.schema(tokens[0]) or {}
    trail: list[tuple[Any, str, bool, Any]] = []  # (container, key, optional, schema)
    value: Any = documents[tokens[0]]
    for token in tokens[1:]:
        if isinstance(value, dict) and token in value:
            child = (schema.get("properties") or {}).get(token) or {}
            governed = set(schema.get("required") or ()) | rule_names(schema)  # a group's or a condition's too
            trail.append((value, token, token not in governed, child))
            value, schema = value[token], child
        elif isinstance(value, list) and token.isdigit() and int(token) < len(value):
            value, schema = value[int(token)], schema.get("items") or {}
        else:
            break
    if trail and rule in ("format", "maxLength", "minLength") and not trail[-1][2]:
        container, key, _, child = trail[-1]
        bare = {k: v for k, v in child.items() if k not in ("examples", "example")}
        fresh = values.fill(example_for(bare), bare, key)
        if fresh != container[key]:
            container[key] = fresh
            return True
    for container, key, optional, _ in reversed(trail):
        if optional:
            del container[key]
            return True
    return False
