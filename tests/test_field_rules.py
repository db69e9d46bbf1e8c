"""One-of groups and value conditions: the policy, the specs it writes, and every reader.

The same rules hold in the client's validation, the mock's, ``describe()`` and the
importer's report; a call the platform accepts by any one of its ids goes through.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from _spec_helpers import subschemas

from wechatpay_chain import ApiError, Client, ValidationError
from wechatpay_chain.catalog.fastcheck import compile_check
from wechatpay_chain.catalog.schema_rules import Condition, conditions_of, groups_of, rule_names
from wechatpay_chain.catalog.specs import Catalog
from wechatpay_chain.mock import MockPlatform

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "wechatpay-openapi"
sys.path.insert(0, str(ROOT / "tools"))

import import_specs  # noqa: E402  (tools/ is not a package; the path is set just above)

CATALOG = Catalog()
ORDER_IDS = {"transaction_id": "4200001234202611240123456789", "out_trade_no": "1217752501201407033233368018"}
REFUND_IDS = {
    "refund_id": "50000000382019052709732678859",
    "out_refund_no": "R20261124000123",
    **ORDER_IDS,
}
V2_BASE = {"appid": "wxd678efh567hg6787", "mch_id": "1230000109"}


def _spec(key: str, method: str = "POST") -> Any:
    operation = CATALOG.operation(key, method)
    assert operation is not None, key
    return operation


def _transfer(amount: int, **detail: Any) -> dict[str, Any]:
    return {
        "appid": "wxf636efh567hg4356",
        "out_batch_no": "plfk2020042013",
        "batch_name": "2026年11月报销",
        "batch_remark": "2026年11月报销",
        "total_amount": amount,
        "total_num": 1,
        "transfer_detail_list": [
            {
                "out_detail_no": "x23zy545Bd5436",
                "transfer_amount": amount,
                "transfer_remark": "报销",
                "openid": "o-MYE42l80oelYMDE34nYD456Xoy",
                **detail,
            }
        ],
    }


# ------------------------------------------------------------ the specs' shapes


def test_an_order_query_names_its_ids_as_a_group_not_as_required_fields() -> None:
    xml = _spec("v2/pay/orderquery").schema("xml")
    assert groups_of(xml) == [(("transaction_id",), ("out_trade_no",))]
    assert not {"transaction_id", "out_trade_no"} & set(xml["required"])
    assert rule_names(xml) == {"transaction_id", "out_trade_no"}


def test_the_refund_query_takes_any_of_four_ids() -> None:
    for key in ("v2/pay/refundquery", "v2/pay/refundqueryv2", "v2/deposit/refundquery"):
        groups = groups_of(_spec(key).schema("xml"))
        assert groups == [tuple((name,) for name in REFUND_IDS)], key


def test_the_transfer_detail_names_are_conditions_on_the_amount() -> None:
    json = _spec("v3/transfer/batches").schema("json")
    assert "transfer_scene_id" not in json["required"]
    detail = json["properties"]["transfer_detail_list"]["items"]
    assert "user_name" not in detail["required"]
    assert conditions_of(detail) == [
        Condition("user_name", "transfer_amount", {"type": "integer", "exclusiveMaximum": 30}, forbidden=True),
        Condition("user_name", "transfer_amount", {"type": "integer", "minimum": 200000}),
    ]


def test_the_catalogue_words_make_groups_where_the_type_held_the_example() -> None:
    # v2/transit/queryorder: out_trade_no `type: '20150806125346'`, and in `example` the words
    # 当没提供transaction_id时需要传这个; v2/vehicle/pay/querystate: openid和车牌号必须选传其中之一.
    assert groups_of(_spec("v2/transit/queryorder").schema("xml")) == [(("transaction_id",), ("out_trade_no",))]
    assert groups_of(_spec("v2/vehicle/pay/querystate").schema("xml")) == [(("openid",), ("plate_number",))]
    twin = _spec("v2/vehicle/partnerpay/querystate").schema("xml")
    assert groups_of(twin) == [(("openid",), ("sub_openid",), ("plate_number",))]
    assert not {"openid", "plate_number"} & set(twin["required"])


def test_an_h5_order_requires_the_payer_ip_and_the_h5_scene() -> None:
    for key in ("v3/pay/transactions/h5", "v3/pay/partner/transactions/h5"):
        scene = _spec(key).schema("json")["properties"]["scene_info"]
        assert {"payer_client_ip", "h5_info"} <= set(scene["required"]), key
        assert scene["properties"]["h5_info"]["required"] == ["type"]


def test_a_service_provider_jsapi_order_names_the_payer_by_either_openid() -> None:
    payer = _spec("v3/pay/partner/transactions/jsapi").schema("json")["properties"]["payer"]
    assert groups_of(payer) == [(("sp_openid",), ("sub_openid",))]
    assert "required" not in payer or "sp_openid" not in payer["required"]


def test_the_catalogue_words_make_a_condition_where_they_name_a_value() -> None:
    # v3/catering/orders/sync-status: 支付订单号（status为PAY_SUCCESS时必填）
    sync = _spec("v3/catering/orders/sync-status")
    found = {(c.field, c.when, c.test.get("const")) for c in conditions_of(sync.schema("json"))}
    assert found == {(name, "status", "PAY_SUCCESS") for name in ("pay_time", "transaction_id", "out_trade_no")}
    paid = {"status": "PAY_SUCCESS", "transaction_id": ORDER_IDS["transaction_id"]}
    problems = {p.pointer: p.message for p in sync.validate({"json": paid}) if p.rule == "if"}
    assert problems == {
        "/json/pay_time": "required when status is PAY_SUCCESS",
        "/json/out_trade_no": "required when status is PAY_SUCCESS",
    }


def test_no_spec_requires_a_member_of_its_own_group() -> None:
    for entry in CATALOG:
        operation = _spec(entry.key, entry.method)
        for part in ("json", "xml", "query"):
            for schema in _objects(operation.schema(part)):
                governed = rule_names(schema)
                assert not governed & set(schema.get("required") or ()), (entry.key, part)
                declared = set(schema.get("properties") or {})
                assert governed <= declared, (entry.key, part, governed - declared)


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every object schema inside ``schema`` (rule nodes under allOf declare no field: left out)."""
    return [node for _, node in subschemas(schema, "") if "properties" in node]


# ------------------------------------------------------------ validation


@pytest.mark.parametrize("given", ["transaction_id", "out_trade_no"])
def test_an_order_query_by_either_id_is_valid(given: str) -> None:
    xml = {**V2_BASE, "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "sign": "x", given: ORDER_IDS[given]}
    assert _spec("v2/pay/orderquery").validate({"xml": xml}) == []


def test_a_query_by_no_id_is_one_problem_that_names_the_group() -> None:
    xml = {**V2_BASE, "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "sign": "x"}
    problems = _spec("v2/pay/orderquery").validate({"xml": xml})
    assert [str(problem) for problem in problems] == ["/xml: one of transaction_id, out_trade_no is required (anyOf)"]


@pytest.mark.parametrize("given", list(REFUND_IDS))
def test_a_refund_query_by_any_one_of_its_four_ids_is_valid(given: str) -> None:
    xml = {**V2_BASE, "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS", "sign": "x", given: REFUND_IDS[given]}
    assert _spec("v2/pay/refundquery").validate({"xml": xml}) == []


def test_transfer_names_follow_the_amount() -> None:
    batches = _spec("v3/transfer/batches")
    assert batches.validate({"json": _transfer(20)}) == []  # 0.20 yuan: no name, no scene
    assert batches.validate({"json": _transfer(250_000, user_name="ciphertext")}) == []
    assert batches.validate({"json": _transfer(5_000)}) == []  # in between: the name is optional
    assert batches.validate({"json": _transfer(5_000, user_name="ciphertext")}) == []
    small = [str(p) for p in batches.validate({"json": _transfer(20, user_name="ciphertext")})]
    assert small == ["/json/transfer_detail_list/0/user_name: not allowed when transfer_amount < 30 (if)"]
    # an amount of the wrong type is one type error, not two contradictory conditions
    wrong = [
        (p.pointer, p.rule) for p in batches.validate({"json": _transfer(20, user_name="c") | {"total_amount": 20}})
    ]
    assert wrong == [("/json/transfer_detail_list/0/user_name", "if")]
    text_amount = _transfer(20)
    text_amount["transfer_detail_list"][0]["transfer_amount"] = "500"
    found = [(p.pointer, p.rule) for p in batches.validate({"json": text_amount})]
    assert found == [("/json/transfer_detail_list/0/transfer_amount", "type")]
    large = [str(p) for p in batches.validate({"json": _transfer(250_000)})]
    assert large == ["/json/transfer_detail_list/0/user_name: required when transfer_amount >= 200000 (if)"]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "anyOf": [{"required": ["a"]}, {"required": ["b"]}]},
        {
            "type": "object",
            "allOf": [
                {
                    "if": {"required": ["n"], "properties": {"n": {"exclusiveMaximum": 30}}},
                    "then": {"not": {"required": ["x"]}},
                },
                {"if": {"required": ["n"], "properties": {"n": {"minimum": 100}}}, "then": {"required": ["x"]}},
            ],
        },
    ],
)
def test_the_fast_check_agrees_with_jsonschema_on_rules(schema: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    check = compile_check(schema)
    assert check is not None, "groups and conditions are in the fast path"
    validator = Draft202012Validator(schema)
    for instance in (
        {},
        {"a": 1},
        {"b": 1},
        {"n": 10},
        {"n": 10, "x": 1},
        {"n": 50},
        {"n": 150},
        {"n": 150, "x": 1},
        3,
    ):
        assert check(instance) == validator.is_valid(instance), instance


def test_v2_text_values_read_as_the_platform_reads_them() -> None:
    from wechatpay_chain.catalog.wire_values import query_view, read_text_values
    from wechatpay_chain.v2.rules import wire_view

    schema = {"type": "object", "properties": {"flag": {"type": "boolean"}, "list": {"type": "array"}}}
    assert read_text_values(schema, {"flag": "TRUE"}) == {"flag": True}
    assert read_text_values(schema, {"flag": "False"}) == {"flag": False}
    assert query_view(schema, {"list": "ONE"}) == {"list": ["ONE"]}
    assert query_view(schema, {"list": ["A", "B"]}) == {"list": ["A", "B"]}
    hotel = _spec("v2/wxv/finishhotelbill")  # checked_in is a boolean on the wire as text
    assert hotel.schema("xml")["properties"]["checked_in"]["type"] == "boolean"
    for text in ("TRUE", "true", "True", "FALSE"):
        assert wire_view(hotel, "xml", {"checked_in": text}) == {"checked_in": text.lower() == "true"}


def test_a_single_value_for_a_query_array_is_accepted_by_the_client(client: Client, mock: MockPlatform) -> None:
    client.v3.new_tax_control_fapiao.fapiaomerchant.getspinviteurl.get(
        query={
            "operation_type": "AUTH_BINDING",
            "fapiao_mode": "TENCENT_DIGITAL_TAX",
            "invite_code": "YLSoQfnQ",
            "fapiao_ability_type_list": "BASE_ABILITY",
        }
    )
    assert mock.calls[-1].query["fapiao_ability_type_list"] == "BASE_ABILITY"


# ------------------------------------------------------------ the client and the mock, end to end


@pytest.mark.parametrize("given", ["transaction_id", "out_trade_no"])
def test_the_mock_answers_an_order_query_by_the_id_given(mock: MockPlatform, given: str) -> None:
    with Client(mchid=mock.mchid, secret=mock.secret, base_url=mock.base_url) as client:
        answer = client.v2.pay.orderquery.post(xml={"appid": "wxd678efh567hg6787", given: ORDER_IDS[given]})
    assert answer.json()[given] == ORDER_IDS[given]
    assert mock.calls[-1].key == "v2/pay/orderquery"


def test_a_query_by_no_id_is_refused_before_anything_is_sent(mock: MockPlatform) -> None:
    with (
        Client(mchid=mock.mchid, secret=mock.secret, base_url=mock.base_url) as client,
        pytest.raises(ValidationError) as caught,
    ):
        client.v2.pay.orderquery.post(xml={"appid": "wxd678efh567hg6787"})
    assert "/xml: one of transaction_id, out_trade_no is required" in str(caught.value)
    assert not mock.calls


def test_the_mock_refuses_what_the_client_refuses(mock: MockPlatform) -> None:
    with (
        Client(mchid=mock.mchid, secret=mock.secret, base_url=mock.base_url) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.v2.pay.orderquery.post(xml={"appid": "wxd678efh567hg6787"}, validate=False)
    assert caught.value.code == "FAIL"
    assert "/xml: one of transaction_id, out_trade_no is required" in str(caught.value.message)


def test_a_v3_refund_by_out_trade_no_alone_reaches_the_mock_and_is_echoed(client: Client, mock: MockPlatform) -> None:
    answer = client.v3.refund.domestic.refunds.post(
        json={
            "out_trade_no": ORDER_IDS["out_trade_no"],
            "out_refund_no": "R20261124000123",
            "amount": {"refund": 100, "total": 100, "currency": "CNY"},
        }
    )
    assert answer.json()["out_trade_no"] == ORDER_IDS["out_trade_no"]
    assert answer.json()["out_refund_no"] == "R20261124000123"
    assert mock.calls[-1].json["out_trade_no"] == ORDER_IDS["out_trade_no"]


def test_a_small_transfer_without_a_name_reaches_the_mock(client: Client, mock: MockPlatform) -> None:
    client.v3.transfer.batches.post(json=_transfer(20))
    assert mock.calls[-1].key == "v3/transfer/batches"


def test_describe_shows_groups_and_conditions() -> None:
    assert "! one of transaction_id, out_trade_no is required" in _spec("v2/pay/orderquery").describe()
    text = _spec("v3/transfer/batches").describe()
    assert "! transfer_detail_list[].user_name: required when transfer_amount >= 200000" in text
    assert "! transfer_detail_list[].user_name: not allowed when transfer_amount < 30" in text


# ------------------------------------------------------------ the policy and the importer


needs_source = pytest.mark.skipif(not (SOURCE / "swagger.yaml").is_file(), reason="the catalogue is not beside")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> import_specs.ImportReport:
    if not (SOURCE / "swagger.yaml").is_file():
        pytest.skip("the catalogue is not beside the repository")
    return import_specs.import_catalogue(SOURCE, tmp_path_factory.mktemp("specs"))


@needs_source
def test_every_object_with_two_ids_of_a_family_is_decided(report: import_specs.ImportReport) -> None:
    assert report.undecided == []


@needs_source
def test_the_policy_has_no_stale_entry_and_every_entry_names_its_source(report: import_specs.ImportReport) -> None:
    assert not [line for line in report.warnings if line.startswith("tools/spec_rules.yaml")]
    policy = yaml.safe_load((ROOT / "tools" / "spec_rules.yaml").read_text(encoding="utf-8"))
    for kind in ("one_of", "not_required", "required", "conditions", "keep"):
        for entry in policy[kind]:
            assert str(entry.get("source") or "").strip(), entry
            assert entry.get("operations"), entry


@needs_source
def test_the_report_lists_every_group_written(report: import_specs.ImportReport) -> None:
    printed = "\n".join(report.lines())
    assert "v2/pay/orderquery POST /xml: one of transaction_id, out_trade_no" in printed
    assert "v2/transit/queryorder POST /xml: one of transaction_id, out_trade_no" in printed


def test_a_synthetic_policy_is_written_as_json_schema(tmp_path: Path) -> None:
    from specimport.field_rules import FieldRules
    from specimport.repairs import Repairs

    policy = tmp_path / "rules.yaml"
    policy.write_text(
        "families: [[a_id, out_a_no]]\n"
        "one_of: [{fields: [a_id, out_a_no], operations: [v3/x], source: test}]\n"
        "conditions: [{field: name, required_when: {amount: {minimum: 10}}, at: /items/*,"
        " operations: [v3/x], source: test}]\n",
        encoding="utf-8",
    )
    rules = FieldRules.load(policy)
    entry: dict[str, Any] = {
        "json": {
            "type": "object",
            "required": ["a_id", "out_a_no", "items"],
            "properties": {
                "a_id": {"type": "string"},
                "out_a_no": {"type": "string"},
                "items": {
                    "type": "array",
                    "items": {"type": "object", "required": ["name"], "properties": {"name": {}, "amount": {}}},
                },
            },
        }
    }
    repairs = Repairs()
    rules.apply("v3/x", "post", {}, entry, repairs)
    assert entry["json"]["required"] == ["items"]
    assert entry["json"]["anyOf"] == [{"required": ["a_id"]}, {"required": ["out_a_no"]}]
    item = entry["json"]["properties"]["items"]["items"]
    assert "required" not in item
    assert item["allOf"] == [
        {"if": {"required": ["amount"], "properties": {"amount": {"minimum": 10}}}, "then": {"required": ["name"]}}
    ]
    assert repairs.counts == {"one-of-group": 1, "condition-on-a-value": 1}
    assert rules.undecided == [] and rules.stale() == []
