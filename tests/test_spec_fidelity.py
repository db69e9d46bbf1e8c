"""The specs keep what the catalogue says, over every operation (issue "spec fidelity").

- every field the SOURCE schema reaches (through `$ref`, `allOf` and array `items`, at any
  depth) is in the generated schema: `allOf` parts are merged deeply, nothing is lost;
- no object requires a field it does not declare, and no body requires a path template;
- lengths are possible: no `minLength` above `maxLength`, no kept example longer than its
  `maxLength` or shorter than its `minLength`.

The source is read here with a small resolver of its own, not with the importer's code,
so that a fault of the converter cannot hide itself. Tests skip without the catalogue.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from _spec_helpers import load_specs, schemas_of, subschemas

from wechatpay_chain.naming import VERBS

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "wechatpay-openapi"
SPECS = ROOT / "specs"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCHEMA_KEYS = ("path", "query", "headers", "form", "json", "xml", "response", "response_headers")
_TEMPLATE = re.compile(r"{([^}]+)}")

needs_source = pytest.mark.skipif(
    not (SOURCE / "swagger.yaml").is_file(), reason=f"the wechatpay-openapi catalogue is not at {SOURCE}"
)


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    """Every committed spec, by key."""
    return load_specs()


# ------------------------------------------------- an independent source reader

_documents: dict[str, Any] = {}


def document(relative: str) -> Any:
    if relative not in _documents:
        _documents[relative] = yaml.load((SOURCE / relative).read_text(encoding="utf-8"), Loader=Loader)
    return _documents[relative]


def follow(ref: str, base: str) -> tuple[Any, str]:
    """The node a `$ref` names (`file.yaml#Name`, `file.yaml#/A/B` or `#/Name`) and its document."""
    file_part, _, fragment = ref.partition("#")
    doc = posixpath.normpath(posixpath.join(posixpath.dirname(base), file_part)) if file_part else base
    node = document(doc)
    for token in filter(None, fragment.split("/")):
        node = node[token.replace("~1", "/").replace("~0", "~")]
    return node, doc


def resolved(node: Any, doc: str, depth: int = 0) -> Iterator[tuple[dict[str, Any], str]]:
    """The plain nodes a source schema stands for: `$ref`s followed, `allOf` parts flattened."""
    if not isinstance(node, dict) or depth > 40:
        return
    plain = {key: value for key, value in node.items() if key not in ("$ref", "allOf")}
    if "$ref" in node:
        yield from resolved(*follow(str(node["$ref"]), doc), depth + 1)
    for part in node.get("allOf") or []:
        yield from resolved(part, doc, depth + 1)
    yield plain, doc


def source_operations() -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(url, method, operation, document) of every operation, URLs as the specs write them."""
    index = document("swagger.yaml")
    files = {url: posixpath.normpath(item["$ref"]) for url, item in index["paths"].items()}
    listed = set(files.values())
    for folder in ("v2", "v3", "hk", "global"):
        for file in sorted((SOURCE / folder).rglob("*.yaml")):
            relative = file.relative_to(SOURCE).as_posix()
            if relative not in listed:
                url = "/" + relative.removesuffix(".yaml")
                files[url.removeprefix("/v2").replace("{empty}", "")] = relative
    for url, relative in sorted(files.items()):
        for method in VERBS:
            op = (document(relative) or {}).get(method)
            if isinstance(op, dict):
                yield url, method, op, relative


def source_schemas(op: dict[str, Any], doc: str) -> Iterator[tuple[str, Any, str]]:
    """(spec key, source schema, its document): the body, the upload's meta, the answer."""
    for parameter in op.get("parameters") or []:
        where = doc
        if isinstance(parameter, dict) and "$ref" in parameter:
            parameter, where = follow(str(parameter["$ref"]), doc)
        if not isinstance(parameter, dict) or not isinstance(parameter.get("schema"), dict):
            continue
        if parameter.get("in") == "body":
            yield ("xml" if doc.startswith("v2/") else "json"), parameter["schema"], where
        elif parameter.get("in") in ("formData", "form"):
            yield "upload.meta", parameter["schema"], where
    responses = {str(code): answer for code, answer in (op.get("responses") or {}).items()}
    success = sorted(code for code in responses if code.isdigit() and code[:1] in "23")
    if success and success[0] != "204":
        schema = (responses[success[0]] or {}).get("schema")
        if isinstance(schema, dict) and schema:
            yield "response", schema, doc


def generated_fields(schemas: list[dict[str, Any]]) -> tuple[dict[str, list[Any]], dict[str, list[Any]], list[Any]]:
    """Properties, pattern properties and array items of generated schemas (`allOf` parts included)."""
    properties: dict[str, list[Any]] = {}
    patterns: dict[str, list[Any]] = {}
    items: list[Any] = []
    for schema in schemas:
        for part in [schema, *(schema.get("allOf") or [])]:
            for name, sub in (part.get("properties") or {}).items():
                properties.setdefault(name, []).append(sub)
            for pattern, sub in (part.get("patternProperties") or {}).items():
                patterns.setdefault(pattern, []).append(sub)
            if isinstance(part.get("items"), dict):
                items.append(part["items"])
    return properties, patterns, items


def missing_fields(sources: list[tuple[Any, str]], generated: list[dict[str, Any]], where: str) -> Iterator[str]:
    """Every field path the source schemas reach that the generated schemas lack."""
    plain = [pair for node, doc in sources for pair in resolved(node, doc)]
    properties, patterns, items = generated_fields(generated)
    fields: dict[str, list[tuple[Any, str]]] = {}
    for node, doc in plain:
        for name, sub in (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else ():
            fields.setdefault(str(name), []).append((sub, doc))
    for name, subs in fields.items():
        if "$" in name:  # a numbered v2 field (`coupon_id_$n`): one of the patterns matches its instances
            instance = re.sub(r"\$[a-z]", "0", name)
            found = [s for p, group in patterns.items() if re.fullmatch(p.strip("^$"), instance) for s in group]
        else:
            found = properties.get(name, [])
        if not found:
            yield f"{where}/{name}"
        else:
            yield from missing_fields(subs, found, f"{where}/{name}")
    source_items = [(node["items"], doc) for node, doc in plain if isinstance(node.get("items"), dict)]
    if source_items and not items:
        yield f"{where}/*"
    elif source_items:
        yield from missing_fields(source_items, items, f"{where}/*")


@needs_source
def test_every_field_the_source_reaches_is_in_the_spec(specs: dict[str, dict[str, Any]]) -> None:
    by_url = {(spec["url"], spec["protocol"]): spec for spec in specs.values()}
    lost: list[str] = []
    checked = 0
    for url, method, op, doc in source_operations():
        spec = by_url[(url, "v2" if doc.startswith("v2/") else "v3")]
        entry = spec["operations"][method]
        for place, schema, where in source_schemas(op, doc):
            generated = entry.get("upload", {}).get("meta") if place == "upload.meta" else entry.get(place)
            assert generated is not None, f"{spec['key']} {method}: no {place}"
            lost += missing_fields([(schema, where)], [generated], f"{spec['key']} {method} {place}")
            checked += 1
    assert checked > 1000
    assert not lost, f"{len(lost)} source fields missing from specs:\n" + "\n".join(lost[:40])


def test_h5_scene_info_keeps_the_fields_of_every_part(specs: dict[str, dict[str, Any]]) -> None:
    body = specs["v3/pay/transactions/h5"]["operations"]["post"]["json"]
    assert "scene_info" in body["required"]
    scene = body["properties"]["scene_info"]
    # SceneInfo (from TransactionBase) and the h5 part's own scene_info, merged field by field
    assert list(scene["properties"]) == ["payer_client_ip", "device_id", "store_info", "h5_info"]
    assert scene["properties"]["payer_client_ip"]["type"] == "string"
    assert scene["properties"]["store_info"]["required"] == ["name", "area_code", "address"]
    # The source requires no field inside this scene_info (SceneInfo has no `required`, the
    # h5 part adds none); the official page requires two, written by tools/spec_rules.yaml.
    assert scene["required"] == ["payer_client_ip", "h5_info"]
    combined = specs["v3/combine-transactions/h5"]["operations"]["post"]["json"]["properties"]["scene_info"]
    assert "payer_client_ip" in combined["required"]


def test_an_answer_amount_keeps_the_fields_of_every_part(specs: dict[str, dict[str, Any]]) -> None:
    answer = specs["v3/pay/transactions/out-trade-no/{out_trade_no}"]["operations"]["get"]["response"]
    amount = answer["properties"]["amount"]["properties"]
    assert {"total", "payer_total", "currency", "payer_currency"} <= set(amount)


def undeclared_required(schema: Any, where: str, outer: set[str], patterns: set[str]) -> Iterator[str]:
    """`required` names that neither the object nor (for a branch) its enclosing object declares."""
    if not isinstance(schema, dict):
        return
    names = set(schema.get("properties") or {}) | outer
    found = set(schema.get("patternProperties") or {}) | patterns
    for part in schema.get("allOf") or []:
        names |= set(part.get("properties") or {})
        found |= set(part.get("patternProperties") or {})
    for name in schema.get("required") or []:
        if name not in names and not any(re.search(pattern, name) for pattern in found):
            yield f"{where}: {name}"
    for keyword in ("properties", "patternProperties", "$defs"):
        for name, sub in (schema.get(keyword) or {}).items():
            yield from undeclared_required(sub, f"{where}/{name}", set(), set())
    for keyword in ("items", "additionalProperties", "contentSchema"):
        yield from undeclared_required(schema.get(keyword), f"{where}/{keyword}", set(), set())
    for keyword in ("oneOf", "anyOf", "allOf"):
        for branch in schema.get(keyword) or []:
            yield from undeclared_required(branch, where, names, found)
    for keyword in ("if", "then", "else", "not"):
        yield from undeclared_required(schema.get(keyword), where, names, found)


def test_no_object_requires_a_field_it_does_not_declare(specs: dict[str, dict[str, Any]]) -> None:
    problems = [
        problem
        for spec in specs.values()
        for where, schema in schemas_of(spec)
        for problem in undeclared_required(schema, where, set(), set())
    ]
    assert not problems, f"{len(problems)} undeclared required names:\n" + "\n".join(problems[:40])


def test_no_body_requires_a_url_template(specs: dict[str, dict[str, Any]]) -> None:
    problems = [
        f"{spec['key']} {method} {place}: {name}"
        for spec in specs.values()
        for method, op in spec["operations"].items()
        for place in ("json", "xml")
        for name in op.get(place, {}).get("required", [])
        if name in _TEMPLATE.findall(spec["url"])
    ]
    assert not problems, problems


def test_undeclared_required_names_are_dropped_or_mapped(specs: dict[str, dict[str, Any]]) -> None:
    returns = specs["v2/pay/profitsharingreturnquery"]["operations"]["post"]["xml"]["required"]
    assert not {"return_account_type", "return_account", "return_amount", "description"} & set(returns)
    ubo = specs["v3/apply4subject/applyment"]["operations"]["post"]["json"]["properties"]["ubo_info_list"]["items"]
    assert "ubo_id_doc_copy" in ubo["required"] and "id_doc_copy" not in ubo["required"]
    coupons = specs["v3/marketing/favor/users/{openid}/coupons"]["operations"]["post"]["json"]["required"]
    assert "openid" not in coupons and "stock_id" in coupons


def string_nodes(specs: dict[str, dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for spec in specs.values():
        for where, schema in schemas_of(spec):
            yield from subschemas(schema, where)


def test_every_length_is_possible(specs: dict[str, dict[str, Any]]) -> None:
    problems = []
    for at, node in string_nodes(specs):
        low, high = node.get("minLength"), node.get("maxLength")
        if isinstance(low, int) and isinstance(high, int) and low > high:
            problems.append(f"{at}: minLength {low} > maxLength {high}")
        if isinstance(low, int) and high is None and low > 64:
            problems.append(f"{at}: a lone minLength {low}")
        for example in node.get("examples") or ():
            if isinstance(example, str) and isinstance(high, int) and len(example) > high:
                problems.append(f"{at}: example {example!r} longer than maxLength {high}")
            if isinstance(example, str) and isinstance(low, int) and len(example) < low:
                problems.append(f"{at}: example {example!r} shorter than minLength {low}")
    assert not problems, "\n".join(problems[:40])


def test_a_plausible_example_raises_its_max_length(specs: dict[str, dict[str, Any]]) -> None:
    token = specs["v3/catering/orders/sync-status"]["operations"]["post"]["json"]["properties"]["login_token"]
    assert token["maxLength"] == 32 and token["examples"] == ["071oYFSN19sCH31AyNSN15QDSN1oYFSA"]
    for key in ("v3/marketing/busifavor/coupons/associate", "v3/marketing/busifavor/coupons/disassociate"):
        fields = specs[key]["operations"]["post"]["json"]["properties"]
        for name in ("out_trade_no", "out_request_no"):
            assert fields[name].get("maxLength") == 128 and "minLength" not in fields[name]


def test_relation_type_has_the_relation_types(specs: dict[str, dict[str, Any]]) -> None:
    fields = specs["v3/ecommerce/profitsharing/receivers/add"]["operations"]["post"]["json"]["properties"]
    assert fields["type"]["enum"] == ["MERCHANT_ID", "PERSONAL_OPENID"]
    assert (
        fields["relation_type"]["enum"]
        == specs["v3/profitsharing/receivers/add"]["operations"]["post"]["json"]["properties"]["relation_type"]["enum"]
    )
    assert "SUPPLIER" in fields["relation_type"]["enum"] and fields["relation_type"]["examples"] == ["SUPPLIER"]


def test_length_rules_on_their_own() -> None:
    """The rules with no case in today's catalogue, and the twofold bound, on made-up fields."""
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    from specimport.lengths import repair_lengths
    from specimport.repairs import Repairs

    repairs = Repairs()
    swapped: dict[str, Any] = {"type": "string", "minLength": 32, "maxLength": 6}
    repair_lengths(swapped, "a", repairs)
    assert swapped["minLength"] == 6
    short: dict[str, Any] = {"type": "string", "minLength": 8, "examples": ["abc"]}
    repair_lengths(short, "b", repairs)
    assert short["minLength"] == 3
    pasted: dict[str, Any] = {"type": "string", "maxLength": 4, "examples": ["ABCDEFGHI"]}
    repair_lengths(pasted, "c", repairs)
    assert pasted["maxLength"] == 4  # more than twice the limit: the example is not trusted
    assert dict(repairs.counts) == {"minLength-above-maxLength": 1, "minLength-above-its-example": 1}
