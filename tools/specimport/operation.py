"""Build one operation entry of a spec file from a Swagger operation object."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from wechatpay_chain.naming import VERBS
from wechatpay_chain.v3.protocol import STATEMENT_DIGEST_HEADER  # statements are signed over {"sha1": <it>}

from .field_rules import FieldRules
from .keywords import Schema
from .marks import Marks
from .policy import (
    V2_BANK_KEY_OPERATION,
    V2_BANK_KEY_USERS,
    Overrides,
    host_for,
    is_sdk_unsigned,
)
from .schema import SchemaConverter
from .source import Catalogue, Json, SourcePath
from .text import doc_link, says_retired, short_label, upload_extensions, upload_max_size

Operation = dict[str, Any]

OPERATION_KEYS = (
    "summary", "tags", "roles", "updated", "versions", "doc", "deprecated", "base_url",
    "path", "query", "headers", "form", "json", "xml", "upload",
    "response", "response_status", "response_headers", "produces", "download", "unsigned",
    "signature_digest_header", "redirect",
    "encrypt", "encrypt_key", "encrypt_query", "serial_header", "decrypt", "decrypt_aead", "request_aead",
    "json_strings", "json_keys", "response_json_strings", "response_json_keys",
    "xml_nesting", "response_xml_nesting",
    "cert_required", "nonceless", "sign_type",
)  # fmt: skip
"""Every per-operation key, in the order written; specs/README.md documents each."""

_NATIVE_MEDIA_TYPES = {"v3": {"application/json"}, "v2": {"application/xml", "text/xml"}}
_STRUCTURED_MEDIA_TYPES = {"application/json", "application/xml", "text/xml"}
_SERIAL_HEADER = "wechatpay-serial"
_TEMPLATE = re.compile(r"{([^}]+)}")
_NEAR_MISS = 0.85
"""How alike a stray path parameter's name must be to a template to be taken for it."""
_PARAMETER_ONLY_KEYS = {"name", "in", "required", "schema", "collectionFormat", "allowEmptyValue"}


@dataclass
class Parameter:
    """A resolved Swagger parameter and the document its nested `$ref`s are relative to."""

    node: dict[str, Any]
    document: str

    @property
    def name(self) -> str:
        return str(self.node.get("name"))

    @property
    def location(self) -> str:
        return str(self.node.get("in"))


@dataclass
class OperationBuilder:
    """Turns Swagger operations into spec entries; collects warnings for the report."""

    catalogue: Catalogue
    converter: SchemaConverter
    overrides: Overrides
    field_rules: FieldRules | None = None
    warnings: list[str] = field(default_factory=list)

    def build(self, path: SourcePath, method: str, op: dict[str, Any]) -> Operation:
        """The spec entry of one operation (keys in `OPERATION_KEYS` order, empty ones left out)."""
        entry: Operation = self._describe(path, op)
        parameters = self._parameters(op, path.document)
        request_marks = Marks()
        query_marks = Marks()
        entry.update(self._path_schema(path, method, parameters))
        entry["query"] = self._object_of(parameters, "query", path.document, query_marks)
        entry["headers"] = self._object_of(parameters, "header", path.document, None, default_type="string")
        entry.update(self._body(path, parameters, request_marks))
        entry.update(self._upload_and_form(op, parameters, path.document, request_marks))
        self._apply_operation_sensitivity(op, entry, request_marks, query_marks)
        entry.update(self._response(path, method, op))
        entry.update(self._request_marks(path, request_marks, query_marks, parameters))
        entry.update(self._v2_flags(path, op, entry))
        if self.field_rules is not None:
            self.field_rules.apply(path.key, method, op, entry, self.converter.repairs)
        return {key: entry[key] for key in OPERATION_KEYS if entry.get(key) not in (None, [], {}, False)}

    def _describe(self, path: SourcePath, op: dict[str, Any]) -> Operation:
        roles = op.get("x-role")
        versions = op.get("x-version") or op.get("x-verison")  # the source misspells it once
        return {
            "summary": str(op.get("summary") or "").strip() or None,
            "tags": [str(tag) for tag in op.get("tags") or op.get("tag") or []],
            "roles": [str(role) for role in (roles if isinstance(roles, list) else [roles] if roles else [])],
            "updated": str(op["x-last-updated-at"]) if op.get("x-last-updated-at") else None,
            "versions": [str(version) for version in versions] if isinstance(versions, list) else None,
            "doc": doc_link(op.get("description"), op.get("externalDocs")),
            "deprecated": op.get("deprecated") is True or says_retired(op.get("summary"), op.get("description")),
            "base_url": op.get("x-base-uri") or op.get("x-baseuri") or host_for(path.key),
        }

    def _parameters(self, op: dict[str, Any], document: str) -> list[Parameter]:
        resolved: list[Parameter] = []
        for node in op.get("parameters") or []:
            if isinstance(node, dict) and "$ref" in node:
                ref = self.catalogue.parse_ref(str(node["$ref"]), document)
                resolved.append(Parameter(self.converter.dealias(dict(self.catalogue.lookup(ref))), ref.document))
            elif isinstance(node, dict):
                resolved.append(Parameter(self.converter.dealias(node), document))
        return resolved

    def _path_schema(self, path: SourcePath, method: str, parameters: list[Parameter]) -> Operation:
        """Path values: one property per `{template}`, in URL order, all required."""
        names = _TEMPLATE.findall(path.url)
        declared = self._path_parameters(path, method, names, parameters)
        if not names:
            return {}
        properties: Schema = {}
        for name in names:
            if name in declared:
                properties[name] = self._parameter_schema(declared[name], "string")
            else:
                self.warnings.append(f"{path.key} {method}: URL template {{{name}}} has no parameter; typed string")
                properties[name] = {"type": "string"}
        return {"path": {"type": "object", "required": names, "properties": properties}}

    def _path_parameters(
        self, path: SourcePath, method: str, names: list[str], parameters: list[Parameter]
    ) -> dict[str, Parameter]:
        """The parameter of each URL template, repairing two kinds of source slips.

        A template declared `in: query` (v3/payscore/users/{openid}/.../terminate) is moved
        to the path; a path parameter whose name is a near-miss of the one template left
        unmatched (`use_id` for `{user_id}`) is taken for it. Other leftovers are reported.
        """
        declared = {p.name: p for p in parameters if p.location == "path"}
        for parameter in list(parameters):
            if parameter.location == "query" and parameter.name in names and parameter.name not in declared:
                parameters.remove(parameter)
                declared[parameter.name] = parameter
                self.warnings.append(f"{path.key} {method}: {parameter.name!r} is declared in: query; moved to path")
        missing = [name for name in names if name not in declared]
        extra = [name for name in declared if name not in names]
        if len(missing) == 1 and len(extra) == 1 and _similar(missing[0], extra[0]):
            self.warnings.append(f"{path.key} {method}: path parameter {extra[0]!r} taken for {{{missing[0]}}}")
            declared[missing[0]] = declared.pop(extra[0])
            extra = []
        for name in extra:
            self.warnings.append(f"{path.key} {method}: path parameter {name!r} is not in the URL; ignored")
        return declared

    def _object_of(
        self,
        parameters: list[Parameter],
        location: str,
        document: str,
        marks: Marks | None,
        default_type: str | None = None,
    ) -> Schema | None:
        """One object schema for all parameters in one place (query, header, formData)."""
        chosen = [p for p in parameters if p.location == location]
        if not chosen:
            return None
        node = {
            "type": "object",
            "properties": {p.name: _schema_node(p.node, default_type) for p in chosen},
            "required": [p.name for p in chosen if p.node.get("required") is True],
        }
        return self.converter.convert(node, document, marks)

    def _parameter_schema(self, parameter: Parameter, default_type: str) -> Schema:
        return self.converter.convert(_schema_node(parameter.node, default_type), parameter.document)

    def _body(self, path: SourcePath, parameters: list[Parameter], marks: Marks) -> Operation:
        bodies = [p for p in parameters if p.location == "body"]
        if not bodies:
            return {}
        templates = tuple(_TEMPLATE.findall(path.url))
        place = "xml" if path.protocol == "v2" else "json"
        schema = self.converter.convert(bodies[0].node.get("schema"), bodies[0].document, marks, templates, place)
        return {place: schema}

    def _upload_and_form(
        self, op: dict[str, Any], parameters: list[Parameter], document: str, marks: Marks
    ) -> Operation:
        """multipart: the file part, the JSON `meta` part (its own schema) and plain form fields."""
        form = [p for p in parameters if p.location in ("formData", "form")]
        files = [p for p in form if p.node.get("type") == "file"]
        metas = [p for p in form if p not in files and isinstance(p.node.get("schema"), dict)]
        fields = [p for p in form if p not in files and p not in metas]
        out: Operation = {}
        if fields:
            out["form"] = self._object_of(fields, fields[0].location, document, None)
        if not files:
            return out
        upload: Operation = {"file": files[0].name}
        if metas:
            meta = self.converter.convert(metas[0].node["schema"], metas[0].document, marks, place="upload.meta")
            label = short_label(metas[0].node.get("description"))
            upload["meta"] = {"title": label, **meta} if label and "title" not in meta else meta
        texts = (op.get("description"), files[0].node.get("description"))
        extensions = upload_extensions(*texts)
        if extensions:
            upload["extensions"] = extensions
        max_size = upload_max_size(*texts)
        if max_size:
            upload["max_size"] = max_size
        out["upload"] = upload
        return out

    def _apply_operation_sensitivity(
        self, op: dict[str, Any], entry: Operation, body_marks: Marks, query_marks: Marks
    ) -> None:
        """`x-is-sensitive: [names]` on the operation itself names query (or body) fields."""
        names = op.get("x-is-sensitive")
        if not isinstance(names, list):
            return
        query_names = set((entry.get("query") or {}).get("properties", {}))
        for name in map(str, names):
            target = query_marks if name in query_names else body_marks
            target.add(target.sensitive, (name,))

    def _response(self, path: SourcePath, method: str, op: dict[str, Any]) -> Operation:
        responses = {str(code): answer for code, answer in (op.get("responses") or {}).items()}
        success = sorted(code for code in responses if code[:1] in "23" and code.isdigit())
        if not success:
            self.warnings.append(f"{path.key} {method}: no 2xx/3xx answer in the source")
            return {}
        status, answer = success[0], responses[success[0]] or {}
        out: Operation = {"response_status": int(status) if status != "200" else None}
        marks = Marks()
        schema = answer.get("schema")
        if isinstance(schema, dict) and schema and status != "204":
            out["response"] = self.converter.convert(schema, path.document, marks, place="response")
        headers = answer.get("headers")
        if isinstance(headers, dict) and headers:
            node = {"type": "object", "properties": {name: dict(h) for name, h in headers.items()}}
            out["response_headers"] = self.converter.convert(node, path.document)
            if STATEMENT_DIGEST_HEADER in headers:
                out["signature_digest_header"] = STATEMENT_DIGEST_HEADER
        out["decrypt"] = marks.sensitive
        out["decrypt_aead"] = marks.aead
        out.update(self._string_marks(path, marks, "response_"))
        out.update(self._answer_kind(path, method, op, status, "response" in out))
        return out

    def _answer_kind(self, path: SourcePath, method: str, op: dict[str, Any], status: str, has_body: bool) -> Operation:
        """produces/download/unsigned/redirect: what comes back and whether it is signed."""
        produces = [str(t) for t in op.get("produces") or []]
        produces = self.overrides.produces.get(path.key, {}).get(method, produces)
        native = _NATIVE_MEDIA_TYPES[path.protocol]
        download = any(t not in _STRUCTURED_MEDIA_TYPES for t in produces)
        redirect = path.protocol == "v2" and (status.startswith("3") or (method == "get" and not has_body))
        return {
            "produces": produces if any(t not in native for t in produces) else None,
            "download": download,
            "unsigned": download or redirect or is_sdk_unsigned(path.key),
            "redirect": redirect,
        }

    def _string_marks(self, path: SourcePath, marks: Marks, prefix: str) -> Operation:
        """JSON-in-a-string fields: `json_strings` for v3, the richer `xml_nesting` for v2."""
        if path.protocol == "v3":
            if marks.cdata or marks.urlencoded:
                self.warnings.append(f"{path.key}: v2 XML marks in a v3 schema were dropped")
            return {
                f"{prefix}json_strings": marks.json_strings,
                f"{prefix}json_keys": dict(sorted(marks.keys.items())),
            }
        nesting: Operation = {
            "json": marks.json_strings,
            "cdata": marks.cdata,
            "key": dict(sorted(marks.keys.items())) or None,
            "urlencode": marks.urlencoded,
        }
        return {f"{prefix}xml_nesting": {k: v for k, v in nesting.items() if v}}

    def _request_marks(
        self, path: SourcePath, marks: Marks, query_marks: Marks, parameters: list[Parameter]
    ) -> Operation:
        """encrypt/serial_header/json_strings/xml_nesting: the request's runtime marks."""
        lists_serial = any(p.location == "header" and p.name.lower() == _SERIAL_HEADER for p in parameters)
        encrypts = bool(marks.sensitive or query_marks.sensitive)
        out: Operation = {
            "encrypt": marks.sensitive,
            # Which key v2 encrypts with is not in the source: known for the bank transfers only.
            "encrypt_key": V2_BANK_KEY_OPERATION if marks.sensitive and path.key in V2_BANK_KEY_USERS else None,
            "encrypt_query": query_marks.sensitive,
            # v2 encrypts with keys of its own (e.g. risk/getpublickey); the header is v3's.
            "serial_header": lists_serial or (encrypts and path.protocol == "v3"),
            "request_aead": marks.aead,
        }
        out.update(self._string_marks(path, marks, ""))
        return out

    def _v2_flags(self, path: SourcePath, op: dict[str, Any], entry: Operation) -> Operation:
        """cert_required/nonceless/sign_type, read from the v2 request as built."""
        if path.protocol != "v2":
            return {}
        fields: dict[str, Any] = {}
        for place in ("xml", "query", "form"):
            fields.update((entry.get(place) or {}).get("properties") or {})
        sign_types = [t for t in (fields.get("sign_type") or {}).get("enum") or [] if isinstance(t, str)]
        return {
            "cert_required": op.get("x-api-cert-required") is True,
            "nonceless": "nonce_str" not in fields,
            "sign_type": sign_types or None,
        }


def _similar(first: str, second: str) -> bool:
    return SequenceMatcher(None, first, second).ratio() >= _NEAR_MISS


def _schema_node(parameter: dict[str, Any], default_type: str | None) -> dict[str, Any]:
    """The schema part of a non-body Swagger parameter (its `type`, `format`, `enum` ...)."""
    node = {key: value for key, value in parameter.items() if key not in _PARAMETER_ONLY_KEYS}
    if default_type and "type" not in node:
        node["type"] = default_type
    return node


def operations_of(document: Json) -> list[tuple[str, dict[str, Any]]]:
    """The (method, operation) pairs of a path file in a fixed method order."""
    if not isinstance(document, dict):
        return []
    return [(method, document[method]) for method in VERBS if isinstance(document.get(method), dict)]
