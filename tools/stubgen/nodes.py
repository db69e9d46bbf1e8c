"""The chain as typed classes: one class per node, one method pair per operation.

A node class lists its children as attributes (``return_orders: V3ProfitsharingReturnOrders``)
and its operations as verbs with keyword-only parameters, exactly the keywords the
runtime takes (``Client._prepare`` for v3, ``v2.flow.prepare_v2_call`` for v2):

- the path values;
- the payload parts the spec has (required when the payload has required keys or a
  one-of group): ``query=`` and ``json=`` (v3), ``files=`` for an upload (v3: extra meta
  fields as ``json=``; v2: its signed text fields as ``form=``), ``query=`` and ``xml=`` (v2);
- the options: ``headers=``, ``validate=``, ``timeout=``, ``idempotent=`` (may a call
  that may have reached the platform be retried), and for v3 ``decrypt=`` (open the
  answer fields the spec marks encrypted). v2 refuses ``decrypt=``, v3 refuses ``xml=``.

Parts the spec does not have are not offered: an operation outside the catalogue, or a
part it does not list, goes through ``chain()``/``[...]``, which are loosely typed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from wechatpay_chain.catalog.schema_rules import groups_of, rule_names
from wechatpay_chain.catalog.specs import Operation

from .schema_types import TypeWriter
from .text import docstring, pascal
from .tree import ChainNode

__all__ = ["CLIENT_FILLED_V2", "NodeWriter", "operation_doc"]

# v2 request fields the client computes itself (the specs list them as required): the
# sign, the nonce, the sign type and the merchant id (v2.rules: MERCHANT_ID_FIELDS).
CLIENT_FILLED_V2 = frozenset({"sign", "nonce_str", "sign_type", "mch_id", "mchid", "combine_mch_id"})
# form fields of a v2 upload the client computes from the file.
V2_UPLOAD_COMPUTED = frozenset({"media_hash"})
# meta fields of an upload that the client computes from the file.
UPLOAD_COMPUTED = frozenset({"filename", "sha256"})
LINE_LIMIT = 120


@dataclass
class Param:
    name: str
    annotation: str
    required: bool
    default: str = "None"

    def render(self) -> str:
        return f"{self.name}: {self.annotation}" + ("" if self.required else f" = {self.default}")


@dataclass
class NodeWriter:
    """Writes the classes of one module; ``types`` collects the payload ``TypedDict``s."""

    types: TypeWriter
    classes: list[str] = field(default_factory=list)

    def write_subtree(self, node: ChainNode) -> None:
        for each in node.walk():
            self.classes.append(self._class(each))

    def _class(self, node: ChainNode) -> str:
        lines = [f"class {node.class_name}(TypedNode):", docstring(f"``{node.key}``", "    ")]
        for attribute, child in node.children.items():
            lines.append(f"    {attribute}: {child.class_name}")
        for operation in node.operations:
            lines.extend(self._verbs(node, operation))
        return "\n".join(lines)

    # -- verbs ----------------------------------------------------------------------
    def _verbs(self, node: ChainNode, operation: Operation) -> list[str]:
        stem = node.class_name + operation.method.title()
        params = self._path_params(node, operation) + self._payload_params(stem, operation)
        params += [
            Param("headers", "Headers", False),
            Param("validate", "bool | None", False),
            Param("timeout", "TimeoutArg", False),
            Param("idempotent", "bool | None", False),
        ]
        if operation.protocol != "v2":
            params.append(Param("decrypt", "bool", False, "False"))
        returns = self._returns(stem, operation)
        doc = operation_doc(operation)
        decorator = ['    @deprecated("deprecated by the platform")'] if operation.flag("deprecated") else []
        verb = operation.method.lower()
        lines: list[str] = []
        for name, prefix in ((verb, "def"), (f"{verb}_async", "async def")):
            lines.extend(decorator)
            lines.extend(_signature(prefix, name, params, returns))
            lines.append(docstring(doc, "        "))
        return lines

    def _path_params(self, node: ChainNode, operation: Operation) -> list[Param]:
        schema = operation.schema("path") or {}
        properties: Mapping[str, Any] = schema.get("properties") or {}
        names = [part[1:-1] for part in node.key.split("/") if part.startswith("{")]
        params = []
        for name in names:
            child = properties.get(name)
            annotation = "str"
            if isinstance(child, Mapping):
                annotation = self.types.expression(child, (name,), name)
            params.append(Param(name, annotation, True))
        return params

    def _payload_params(self, stem: str, operation: Operation) -> list[Param]:
        params: list[Param] = []
        query = operation.schema("query")
        if query is not None:
            params.append(self._part("query", query, stem + "Query", operation))
        upload = operation.spec.get("upload")
        if isinstance(upload, Mapping):
            params.append(Param("files", "Files", True))
            form = operation.schema("form")
            if operation.protocol == "v2":
                if form is not None:  # the signed text fields beside the file
                    params.append(self._part("form", form, stem + "Form", operation))
                return params
            meta = _upload_extra_meta(upload)
            if meta is not None:
                params.append(self._part("json", meta, stem + "Meta", operation))
            return params
        for part in ("json", "xml"):
            schema = operation.schema(part)
            if schema is not None:
                params.append(self._part(part, schema, stem + pascal(part), operation))
        return params

    def _part(self, part: str, schema: Mapping[str, Any], hint: str, operation: Operation) -> Param:
        v2 = operation.protocol == "v2"
        signed = part in ("xml", "form") or (part == "query" and operation.method.upper() == "GET")
        filled = CLIENT_FILLED_V2 if v2 and signed else frozenset()
        if v2 and part == "form":
            filled |= V2_UPLOAD_COMPUTED
        nesting = operation.spec.get("xml_nesting") or {}
        json_text = set(nesting.get("json") or ()) if part == "xml" else set()
        doc = f"``{part}=`` of {operation.method} {operation.key}: {operation.summary}"
        annotation = self.types.expression(schema, (hint,), doc, filled=filled, json_text=json_text)
        required = _payload_required(schema, filled)
        return Param(part, annotation if required else f"{annotation} | None", required)

    def _returns(self, stem: str, operation: Operation) -> str:
        """``TypedResponse[answer]`` (v3) or ``TypedV2Response[answer]`` (v2: XML text fields)."""
        v2 = operation.protocol == "v2"
        schema = operation.schema("response")
        plain = "V2Response" if v2 else "Response"
        if schema is None or operation.flag("download") or int(operation.spec.get("response_status") or 200) == 204:
            return plain  # nothing to decode, or bytes
        doc = f"The answer of {operation.method} {operation.key}: {operation.summary}"
        nesting = operation.spec.get("response_xml_nesting") or {}
        json_text = set(nesting.get("json") or ()) if v2 else set()
        annotation = self.types.expression(schema, (stem + "Response",), doc, json_text=json_text, text=v2)
        return f"{'TypedV2Response' if v2 else 'TypedResponse'}[{annotation}]"


def _signature(prefix: str, name: str, params: list[Param], returns: str) -> list[str]:
    """One line when it fits, else one parameter per line (as a formatter would)."""
    ordered = [p for p in params if p.required] + [p for p in params if not p.required]
    inline = f"    {prefix} {name}(self, *, {', '.join(p.render() for p in ordered)}) -> {returns}:"
    if len(inline) <= LINE_LIMIT:
        return [inline]
    lines = [f"    {prefix} {name}(", "        self,", "        *,"]
    lines.extend(f"        {p.render()}," for p in ordered)
    lines.append(f"    ) -> {returns}:")
    return lines


def _required(schema: Mapping[str, Any]) -> list[str]:
    names = list(schema.get("required") or [])
    for branch in schema.get("allOf") or ():
        if isinstance(branch, Mapping):
            names.extend(_required(branch))
    return names


def _payload_required(schema: Mapping[str, Any], filled: Collection[str]) -> bool:
    """The caller must give the part: a required key, or a one-of group, that the client does not fill."""
    if set(_required(schema)) - rule_names(schema) - set(filled):
        return True
    return any(all(set(branch) - set(filled) for branch in group) for group in groups_of(schema))


def _upload_extra_meta(upload: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The upload's ``meta`` without what the client computes (``filename``, ``sha256``)."""
    meta = upload.get("meta")
    if not isinstance(meta, Mapping):
        return None
    properties = {k: v for k, v in (meta.get("properties") or {}).items() if k not in UPLOAD_COMPUTED}
    if not properties:
        return None
    required = [name for name in meta.get("required") or () if name in properties]
    return {**meta, "properties": properties, "required": required}


def operation_doc(operation: Operation) -> str:
    """The verb's docstring: summary, method and URL, roles, the official page."""
    lines = [operation.summary or f"{operation.method} {operation.key}", "", f"{operation.method} {operation.url}"]
    roles = operation.spec.get("roles") or []
    if roles:
        lines.append("roles: " + ", ".join(str(role) for role in roles))
    if operation.spec.get("doc"):
        lines.append(str(operation.spec["doc"]))
    if operation.flag("deprecated"):
        lines.append("deprecated by the platform")
    return "\n".join(lines)
