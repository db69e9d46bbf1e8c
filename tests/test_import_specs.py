"""The spec importer (tools/import_specs.py) and the specs it committed under specs/.

- the importer reproduces specs/ byte for byte and drops no operation;
- every (method, path) of the catalogue is in specs/, counted independently of the importer;
- index.tsv matches the files; every schema is valid Draft 2020-12; examples fit their schema;
- spot checks of the runtime keys, and a small synthetic catalogue for the rarer paths
  (broken `$ref`s, recursion, clashes, stale files) that the real one does not exercise.

Tests that need the catalogue skip when ../shared/wechatpay-openapi is not there.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from _spec_helpers import load_specs, schemas_of, subschemas
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "wechatpay-openapi"
SPECS = ROOT / "specs"
sys.path.insert(0, str(ROOT / "tools"))

import import_specs  # noqa: E402  (tools/ is not a package; the path is set just above)

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCHEMA_KEYS = ("path", "query", "headers", "form", "json", "xml", "response", "response_headers")
EXPECTED_COUNTS = {"POST": 698, "GET": 409, "PATCH": 30, "DELETE": 13, "PUT": 5}

needs_source = pytest.mark.skipif(
    not (SOURCE / "swagger.yaml").is_file(),
    reason=f"the wechatpay-openapi catalogue is not at {SOURCE} (../shared/wechatpay-openapi)",
)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[import_specs.ImportReport, Path]:
    if not (SOURCE / "swagger.yaml").is_file():
        pytest.skip(f"the wechatpay-openapi catalogue is not at {SOURCE}")
    out = tmp_path_factory.mktemp("specs")
    return import_specs.import_catalogue(SOURCE, out), out


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    """Every committed spec, by key."""
    return load_specs()


def spec_files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def operation(specs: dict[str, dict[str, Any]], key: str, method: str) -> dict[str, Any]:
    op: dict[str, Any] = specs[key]["operations"][method]
    return op


# ------------------------------------------------ reproducibility and coverage


@needs_source
def test_the_importer_reproduces_the_committed_specs_byte_for_byte(
    imported: tuple[import_specs.ImportReport, Path],
) -> None:
    _report, out = imported
    fresh = spec_files(out)
    committed = {name: data for name, data in spec_files(SPECS).items() if name != "README.md"}
    missing = sorted(set(fresh) - set(committed))
    extra = sorted(set(committed) - set(fresh))
    changed = sorted(name for name in set(fresh) & set(committed) if fresh[name] != committed[name])
    assert not (missing or extra or changed), (
        "specs/ is out of date; run python tools/import_specs.py\n"
        f"not committed: {missing[:20]}\nstale: {extra[:20]}\nchanged: {changed[:20]}"
    )


EXPECTED_REPAIRS = {
    # Every class of repair the importer makes to the catalogue, with its count. A change
    # here means the source or a rule changed: look at the report's lines for the class.
    "condition-from-the-catalogue-words": 3,
    "condition-on-a-value": 6,
    "enum-of-another-field": 1,
    "enum-words-under-a-numeric-type": 1,
    "example-breaking-its-schema": 45,
    "example-written-as-type": 6,
    "maxLength-below-an-enum-word": 7,
    "maxLength-below-its-example": 5,
    "minLength-written-for-maxLength": 4,
    "one-of-group": 37,
    "optional-but-required": 4,
    "one-of-group-from-the-catalogue-words": 4,
    "path-value-required-in-body": 5,
    "property-outside-properties": 16,
    "required-but-optional": 7,
    "required-name-not-declared": 153,
}


@needs_source
def test_the_report_counts_every_class_of_repair(imported: tuple[import_specs.ImportReport, Path]) -> None:
    report, _out = imported
    assert dict(report.repairs.counts) == EXPECTED_REPAIRS, "\n".join(report.repairs.lines())
    printed = report.lines()
    for kind, count in EXPECTED_REPAIRS.items():
        assert f"repair {kind}: {count}" in printed


@needs_source
def test_the_import_drops_no_operation(imported: tuple[import_specs.ImportReport, Path]) -> None:
    report, _out = imported
    assert report.dropped == [], "\n".join(report.dropped)
    assert dict(report.operations) == EXPECTED_COUNTS
    assert report.paths == len(list(SPECS.rglob("*.yaml")))


def source_operations() -> set[tuple[str, str]]:
    """(METHOD, url) of every operation in the catalogue, read without the importer's code.

    A path file is a YAML mapping whose top-level keys (column 0) are the methods, so a
    line scan finds them; swagger.yaml is parsed to map URLs to files.
    """
    index = yaml.load((SOURCE / "swagger.yaml").read_text(encoding="utf-8"), Loader=Loader)
    files = {url: (SOURCE / item["$ref"]).resolve() for url, item in index["paths"].items()}
    listed = set(files.values())
    for folder in ("v2", "v3", "hk", "global"):  # path files swagger.yaml forgot to list
        for file in (SOURCE / folder).rglob("*.yaml"):
            if file.resolve() not in listed:
                url = "/" + file.relative_to(SOURCE).with_suffix("").as_posix()
                files[url.removeprefix("/v2").replace("{empty}", "")] = file.resolve()
    top_level_method = re.compile(r"^(get|post|put|patch|delete):", re.MULTILINE)
    return {
        (method.upper(), url)
        for url, file in files.items()
        for method in top_level_method.findall(file.read_text(encoding="utf-8"))
    }


@needs_source
def test_every_catalogue_operation_is_in_specs(specs: dict[str, dict[str, Any]]) -> None:
    expected = source_operations()
    assert Counter(method for method, _url in expected) == Counter(EXPECTED_COUNTS)
    present = {(method.upper(), spec["url"]) for spec in specs.values() for method in spec["operations"]}
    missing = sorted(expected - present)
    assert not missing, f"{len(missing)} operations missing from specs/: {missing}"
    assert present == expected


def test_index_tsv_matches_the_spec_files(specs: dict[str, dict[str, Any]]) -> None:
    lines = (SPECS / "index.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "key\tmethod\turl\tsummary"
    rows = [tuple(line.split("\t")) for line in lines[1:]]
    assert rows == sorted(rows)
    expected = {
        (key, method.upper(), spec["url"], " ".join(op.get("summary", "").split()))
        for key, spec in specs.items()
        for method, op in spec["operations"].items()
    }
    assert set(rows) == expected
    assert len(rows) == len(expected) == sum(EXPECTED_COUNTS.values())


def test_every_spec_file_sits_at_its_key(specs: dict[str, dict[str, Any]]) -> None:
    for key, spec in specs.items():
        assert (SPECS / f"{key}.yaml").is_file()
        assert spec["protocol"] in ("v2", "v3")
        assert spec["url"].strip("/") == (key.removeprefix("v2/") if spec["protocol"] == "v2" else key)
        text = (SPECS / f"{key}.yaml").read_text(encoding="utf-8")
        assert text.startswith("# generated by tools/import_specs.py from wechatpay-openapi ")


# ------------------------------------------------------------------- schemas


def shallow(schema: dict[str, Any]) -> dict[str, Any]:
    """A node with its subschemas replaced by `{}` and its annotations by blanks of their type.

    The meta-schema judges each node by itself (subschemas are checked as nodes of their
    own), so checking every distinct shallow node gives the verdict of check_schema on the
    whole schemas in a sixth of the time. Titles and examples are only type-checked here.
    """
    out: dict[str, Any] = {}
    for keyword, value in schema.items():
        if keyword in ("properties", "patternProperties", "$defs") and isinstance(value, dict):
            out[keyword] = {"name": {}} if value else {}
        elif keyword in ("items", "additionalProperties", "contentSchema") and isinstance(value, dict):
            out[keyword] = {}
        elif keyword in ("oneOf", "anyOf", "allOf") and isinstance(value, list):
            out[keyword] = [{} for _ in value]
        elif keyword == "title":
            out[keyword] = "" if isinstance(value, str) else value
        elif keyword == "examples":
            out[keyword] = [] if isinstance(value, list) else value
        else:
            out[keyword] = value
    return out


def test_every_schema_node_is_valid_draft_2020_12(specs: dict[str, dict[str, Any]]) -> None:
    meta = Draft202012Validator(Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    where_of: dict[str, str] = {}
    for spec in specs.values():
        for where, schema in schemas_of(spec):
            for at, node in subschemas(schema, where):
                where_of.setdefault(json.dumps(shallow(node), sort_keys=True, ensure_ascii=False), at)
    problems = [
        f"{where}: {error.message}" for text, where in where_of.items() for error in meta.iter_errors(json.loads(text))
    ]
    assert not problems, "\n".join(problems[:30])


@pytest.mark.slow
def test_every_whole_schema_passes_check_schema(
    specs: dict[str, dict[str, Any]], request: pytest.FixtureRequest
) -> None:
    """The literal check, schema by schema (about 7 s): run it with `pytest -m slow`."""
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("long-running; the node-by-node check above covers it; run with pytest -m slow")
    problems = []
    for spec in specs.values():
        for where, schema in schemas_of(spec):
            try:
                Draft202012Validator.check_schema(schema)
            except Exception as error:  # report them all, not the first
                problems.append(f"{where}: {error}")
    assert not problems, "\n".join(problems[:30])


def test_every_example_validates_against_its_own_schema(specs: dict[str, dict[str, Any]]) -> None:
    checked: set[str] = set()
    problems = []
    for spec in specs.values():
        for where, schema in schemas_of(spec):
            for at, node in subschemas(schema, where):
                if "examples" not in node:
                    continue
                fingerprint = json.dumps(node, sort_keys=True, ensure_ascii=False)
                if fingerprint in checked:
                    continue
                checked.add(fingerprint)
                rules = {key: value for key, value in node.items() if key != "examples"}
                validator = Draft202012Validator(rules)
                for example in node["examples"]:
                    problems += [f"{at}: {example!r}: {error.message}" for error in validator.iter_errors(example)]
    assert not problems, "\n".join(problems[:30])


def test_titles_are_short_labels_not_prose(specs: dict[str, dict[str, Any]]) -> None:
    long_titles = [
        f"{at}: {node['title']}"
        for spec in specs.values()
        for where, schema in schemas_of(spec)
        for at, node in subschemas(schema, where)
        if len(node.get("title", "")) > 41
    ]
    assert not long_titles, long_titles[:10]


# -------------------------------------------------------------- spot checks


def test_return_orders_post_requires_its_four_fields(specs: dict[str, dict[str, Any]]) -> None:
    op = operation(specs, "v3/profitsharing/return-orders", "post")
    assert op["json"]["required"] == ["out_return_no", "return_mchid", "amount", "description"]
    assert op["summary"] == "请求分账回退"
    assert isinstance(op["updated"], str)


def test_a_v2_spec_needs_the_client_certificate(specs: dict[str, dict[str, Any]]) -> None:
    spec = specs["v2/secapi/pay/refund"]
    assert (spec["protocol"], spec["url"]) == ("v2", "/secapi/pay/refund")
    op = spec["operations"]["post"]
    assert op["cert_required"] is True
    assert "xml" in op and "json" not in op
    assert "nonceless" not in op


def test_an_applyment_encrypts_id_card_fields_and_sends_the_serial(specs: dict[str, dict[str, Any]]) -> None:
    op = operation(specs, "v3/applyment4sub/applyment", "post")
    assert "/subject_info/identity_info/id_card_info/id_card_name" in op["encrypt"]
    assert "/subject_info/ubo_info_list/*/ubo_id_doc_number" in op["encrypt"]
    assert op["serial_header"] is True
    assert "Wechatpay-Serial" in op["headers"]["properties"]
    id_card = op["json"]["properties"]["subject_info"]["properties"]["identity_info"]["properties"]["id_card_info"]
    assert "format" not in id_card["properties"]["id_card_name"]  # base64 became a pointer


def test_a_query_field_to_encrypt(specs: dict[str, dict[str, Any]]) -> None:
    op = operation(specs, "v3/ecommerce/subject-sub-merchants", "get")  # a file swagger.yaml does not list
    assert op["encrypt_query"] == ["/cert_number"]
    assert op["serial_header"] is True


def test_a_media_upload(specs: dict[str, dict[str, Any]]) -> None:
    op = operation(specs, "v3/merchant/media/upload", "post")
    assert op["upload"]["file"] == "file"
    assert list(op["upload"]["meta"]["properties"]) == ["filename", "sha256"]
    assert {"jpg", "png", "bmp"} <= set(op["upload"]["extensions"])
    assert op["upload"]["max_size"] > 5 * 1024 * 1024
    assert "json" not in op


def test_bill_download_is_an_unsigned_file(specs: dict[str, dict[str, Any]]) -> None:
    op = operation(specs, "v3/billdownload/file", "get")
    assert op["download"] is True
    assert op["unsigned"] is True
    assert op["produces"] == ["text/plain", "application/x-gzip"]
    assert "token" in op["query"]["properties"]


def test_unsigned_answers_follow_the_sdks(specs: dict[str, dict[str, Any]]) -> None:
    unsigned = {key for key, spec in specs.items() for op in spec["operations"].values() if op.get("unsigned")}
    assert {
        "v3/merchant-service/images/{media_id}",
        "v3/transferdownload/signfile",
        "hk/v3/statements",
        "v2/mmpaysptrans/pay_bank",
        "v2/mmpaysptrans/query_bank",
        "v2/pay/downloadbill",
    } <= unsigned
    assert "v3/merchant-service/images/upload" not in unsigned
    assert "v3/pay/transactions/jsapi" not in unsigned
    assert operation(specs, "hk/v3/statements", "get")["signature_digest_header"] == "Wechatpay-Statement-Sha1"


def test_a_template_path_has_a_path_schema(specs: dict[str, dict[str, Any]]) -> None:
    op = operation(specs, "v3/pay/transactions/out-trade-no/{out_trade_no}", "get")
    assert op["path"]["required"] == ["out_trade_no"]
    assert op["path"]["properties"]["out_trade_no"]["type"] == "string"
    assert "path" not in operation(specs, "v3/profitsharing/return-orders", "post")


def test_a_trailing_slash_url_keeps_its_slash(specs: dict[str, dict[str, Any]]) -> None:
    spec = specs["v3/ecommerce/applyments"]
    assert spec["url"] == "/v3/ecommerce/applyments/"
    assert (SPECS / "v3/ecommerce/applyments.yaml").is_file()


def test_hk_and_global_keys_use_the_hk_host(specs: dict[str, dict[str, Any]]) -> None:
    assert operation(specs, "hk/v3/transactions/app", "post")["base_url"] == "https://apihk.mch.weixin.qq.com/"
    assert specs["hk/v3/transactions/app"]["url"] == "/hk/v3/transactions/app"
    assert operation(specs, "global/v3/customs/orders", "post")["base_url"] == "https://apihk.mch.weixin.qq.com/"
    assert operation(specs, "v2/risk/getpublickey", "post")["base_url"] == "https://fraud.mch.weixin.qq.com/"
    assert "base_url" not in operation(specs, "v3/pay/transactions/jsapi", "post")


def test_v2_xml_nesting_and_flags(specs: dict[str, dict[str, Any]]) -> None:
    op = operation(specs, "v2/secapi/pay/profitsharing", "post")
    assert op["xml_nesting"] == {"json": ["/receivers"], "cdata": ["/receivers"], "key": {"/receivers": "receiver"}}
    receivers = op["xml"]["properties"]["receivers"]
    assert receivers["contentMediaType"] == "application/json"
    assert receivers["contentSchema"]["type"] == "array"
    micropay = operation(specs, "v2/pay/micropay", "post")
    assert micropay["sign_type"] == ["MD5", "HMAC-SHA256"]
    assert micropay["xml"]["properties"]["total_fee"]["examples"] == [888]  # '888' in the source
    assert operation(specs, "v2/papay/entrustweb", "get")["redirect"] is True
    assert operation(specs, "v2/secapi/mch/uploadmedia", "post")["nonceless"] is True
    assert "^refund_id_\\d+$" in operation(specs, "v2/pay/refundquery", "post")["response"]["patternProperties"]


def test_platform_certificates_are_decrypted_with_the_apiv3_key(specs: dict[str, dict[str, Any]]) -> None:
    assert operation(specs, "v3/certificates", "get")["decrypt_aead"] == ["/data/*/encrypt_certificate"]


def test_deprecated_operations_are_marked(specs: dict[str, dict[str, Any]]) -> None:
    assert operation(specs, "v3/merchant-service/complaints", "get")["deprecated"] is True
    assert "deprecated" not in operation(specs, "v3/merchant-service/complaints-v2", "get")


# -------------------------------------------- a synthetic catalogue for rare paths


SYNTHETIC = {
    "swagger.yaml": """
        swagger: '2.0'
        info: {title: t, version: 9.9.9}
        paths:
          /v3/things:
            $ref: ./v3/things.yaml
          /v3/things/:
            $ref: ./v3/things/{empty}.yaml
          /pay/thing:
            $ref: ./v2/pay/thing.yaml
    """,
    "definitions/Defs.yaml": """
        Node:
          type: object
          description: 树节点，可嵌套
          properties:
            name: {type: string, description: 名称, example: root}
            children:
              type: array
              items:
                $ref: '#/Node'
        Person:
          type: object
          properties:
            name: {type: string, format: base64, description: 姓名}
            born: {type: string, format: rfc3339, example: '2019-01-01T00:00:00+08:00'}
            answer: {type: string, enum: [YES, NO]}
    """,
    "v3/things.yaml": """
        post:
          summary: 新建
          description: '说明 [官方文档](https://pay.weixin.qq.com/doc/x)'
          parameters:
            - name: _
              in: body
              schema:
                type: object
                properties:
                  tree:
                    $ref: '../definitions/Defs.yaml#Node'
                  people:
                    type: array
                    items:
                      $ref: '../definitions/Defs.yaml#/Person'
                  amount:
                    type: integer
                    required: true
                    nullable: true
                    example: '12'
          responses:
            '204': {}
    """,
    "v3/things/{empty}.yaml": """
        get:
          summary: 列表（已下线）
          parameters: []
          responses:
            '200': {schema: {type: object, properties: {total: {type: integer}}}}
    """,
    "v2/pay/thing.yaml": """
        post:
          summary: v2
          x-api-cert-required: true
          parameters:
            - name: _
              in: body
              schema:
                type: object
                properties:
                  sign_type: {type: string, enum: [MD5]}
                  detail:
                    type: string
                    xml: {x-cdata: true}
                    x-json: {type: array, x-key: item, items: {type: string}}
          responses:
            '200': {schema: {type: object}}
    """,
}


@pytest.fixture
def synthetic(tmp_path: Path) -> Path:
    source = tmp_path / "catalogue"
    for name, text in SYNTHETIC.items():
        file = source / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return source


def test_synthetic_catalogue_covers_the_rare_paths(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "specs"
    (out / "v3").mkdir(parents=True)
    (out / "v3" / "gone.yaml").write_text("stale", encoding="utf-8")
    (out / "README.md").write_text("kept", encoding="utf-8")
    report = import_specs.import_catalogue(synthetic, out)
    assert report.dropped == []
    assert not (out / "v3" / "gone.yaml").exists()
    assert (out / "README.md").read_text(encoding="utf-8") == "kept"

    first = spec_files(out)
    import_specs.import_catalogue(synthetic, out)
    assert spec_files(out) == first  # deterministic

    things = yaml.safe_load((out / "v3/things.yaml").read_text(encoding="utf-8"))["operations"]["post"]
    body = things["json"]
    Draft202012Validator.check_schema(body)
    assert body["properties"]["tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert body["$defs"]["Node"]["title"] == "树节点"
    assert body["required"] == ["amount"]
    assert body["properties"]["amount"] == {"type": ["integer", "null"], "examples": [12]}
    person = body["properties"]["people"]["items"]["properties"]
    assert person["born"]["format"] == "date-time"
    assert person["answer"]["enum"] == ["YES", "NO"]  # not YAML 1.1 booleans
    assert things["encrypt"] == ["/people/*/name"]
    assert things["serial_header"] is True
    assert things["response_status"] == 204
    assert things["doc"] == "https://pay.weixin.qq.com/doc/x"
    Draft202012Validator(body).validate({"tree": {"name": "a", "children": [{"name": "b"}]}, "amount": None})

    clash = yaml.safe_load((out / "v3/things/{empty}.yaml").read_text(encoding="utf-8"))
    assert (clash["key"], clash["url"]) == ("v3/things/{empty}", "/v3/things/")
    assert clash["operations"]["get"]["deprecated"] is True
    assert any("clashes" in line for line in report.warnings)

    v2 = yaml.safe_load((out / "v2/pay/thing.yaml").read_text(encoding="utf-8"))
    assert (v2["protocol"], v2["url"]) == ("v2", "/pay/thing")
    op = v2["operations"]["post"]
    assert op["xml_nesting"] == {"json": ["/detail"], "cdata": ["/detail"], "key": {"/detail": "item"}}
    assert (op["cert_required"], op["nonceless"], op["sign_type"]) == (True, True, ["MD5"])
    index = (out / "index.tsv").read_text(encoding="utf-8").splitlines()
    assert index[1:] == [
        "v2/pay/thing\tPOST\t/pay/thing\tv2",
        "v3/things\tPOST\t/v3/things\t新建",
        "v3/things/{empty}\tGET\t/v3/things/\t列表（已下线）",
    ]
