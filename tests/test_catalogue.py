"""The spec-driven side of the client: validation, lazy loading, the spec-aware chain, the mock's use of specs."""

from __future__ import annotations

import logging
import pydoc
import subprocess
import sys

import pytest
from jsonschema import Draft202012Validator
from payloads import RETURN_ORDER

from wechatpay_chain import ApiError, Client, ValidationError
from wechatpay_chain.catalog.specs import Catalog
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.mock.examples import example_for


def test_validation_lists_every_problem_with_its_pointer(client: Client, mock: MockPlatform) -> None:
    with pytest.raises(ValidationError) as caught:
        client.v3.profitsharing.return_orders.post(json={"out_return_no": 5, "amount": "10", "sub_mchid": None})
    found = {(error.pointer, error.rule) for error in caught.value.errors}
    assert found == {
        ("/json/out_return_no", "type"),
        ("/json/amount", "type"),
        ("/json/sub_mchid", "type"),
        ("/json/return_mchid", "required"),
        ("/json/description", "required"),
        ("/json", "anyOf"),  # one of order_id, out_order_no
    }
    message = str(caught.value)
    assert "6 problems, nothing was sent" in message and "/json/amount" in message
    assert not mock.calls


def test_enum_pattern_and_nested_errors(client: Client) -> None:
    with pytest.raises(ValidationError) as caught:
        client.v3.bill.tradebill.get(query={"bill_date": "2026-11-24", "tar_type": "ZIP"})
    assert [(e.pointer, e.rule) for e in caught.value.errors] == [("/query/tar_type", "enum")]
    with pytest.raises(ValidationError) as caught:
        client.v3.pay.transactions.native.post(
            json={
                "appid": "wx",
                "mchid": "1",
                "description": "d",
                "out_trade_no": "o",
                "notify_url": "https://x/",
                "amount": {"currency": "CNY"},
            }
        )
    assert ("/json/amount/total", "required") in {(e.pointer, e.rule) for e in caught.value.errors}


def test_validation_can_be_turned_off(mock: MockPlatform) -> None:
    with mock.client(validate=False) as client, pytest.raises(ApiError) as caught:
        client.v3.profitsharing.return_orders.post(json={"amount": "10"})
    # Sent, and the mock (validating with the same spec) answers like the platform.
    assert caught.value.status_code == 400 and caught.value.code == "PARAM_ERROR"
    assert "/json/amount" in str(caught.value.detail)
    with mock.client() as client, pytest.raises(ApiError):
        client.v3.profitsharing.return_orders.post(json={"amount": "10"}, validate=False)


def test_strict_mode_suggests_the_catalogue_path(mock: MockPlatform) -> None:
    with mock.client(strict=True) as client:
        with pytest.raises(ValidationError, match="did you mean v3/profitsharing/return-orders"):
            client.chain("v3/profitsharing/return-order").post(json=RETURN_ORDER)
        assert client.v3.profitsharing.return_orders.post(json=RETURN_ORDER).status_code == 200
    assert not any(call.key == "v3/profitsharing/return-order" for call in mock.calls)


def test_paths_outside_the_catalogue_still_work(client: Client, mock: MockPlatform) -> None:
    mock.on("POST", "v3/brand-new/api", lambda call: {"ok": True})
    assert client.v3.brand_new.api.post(json={"x": 1}).json() == {"ok": True}


def test_response_validation_warns_and_returns(mock: MockPlatform, caplog: pytest.LogCaptureFixture) -> None:
    mock.on("POST", "v3/profitsharing/return-orders", lambda call: {"result": "NOT_AN_ENUM"})
    with mock.client(validate_responses=True) as client, caplog.at_level(logging.WARNING, "wechatpay_chain"):
        answer = client.v3.profitsharing.return_orders.post(json=RETURN_ORDER)
    assert answer.json() == {"result": "NOT_AN_ENUM"}
    assert any("/response/result" in record.getMessage() for record in caplog.records)


def test_mock_answers_404_for_unknown_paths_and_validates_requests(client: Client, mock: MockPlatform) -> None:
    with pytest.raises(ApiError) as caught:
        client.chain("v3/not/a/path").get()
    assert caught.value.code == "NOT_FOUND"


def test_dir_lists_catalogue_children_and_help_shows_fields(client: Client) -> None:
    assert {"profitsharing", "pay", "bill", "certificates"} <= set(dir(client.v3))
    assert "return_orders" in dir(client.v3.profitsharing)
    assert "_out_trade_no_" in dir(client.v3.pay.transactions.out_trade_no)
    text = pydoc.render_doc(client.v3.profitsharing.return_orders.post, renderer=pydoc.plaintext)
    assert "请求分账回退" in text and "* out_return_no" in text and "amount: integer" in text
    assert "Not in the catalogue" in (client.v3.nothing.here.post.__doc__ or "")


def test_catalogue_search_and_read(client: Client) -> None:
    catalog = client.catalog
    assert len(catalog) == 1155
    found = [entry.key for entry in catalog.search("分账回退")]
    assert "v3/profitsharing/return-orders" in found
    operation = catalog.operation("v3/profitsharing/return-orders", "POST")
    assert operation is not None and operation.summary == "请求分账回退"
    assert "out_return_no" in operation.describe()
    assert all(entry.key.startswith("v3/profitsharing") for entry in catalog.under("v3/profitsharing"))


def test_lookup_reads_one_file(monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = Catalog()
    reads: list[str] = []
    original = catalog._read
    monkeypatch.setattr(catalog, "_read", lambda key: reads.append(key) or original(key))
    assert catalog.operation("v3/profitsharing/return-orders", "POST") is not None
    assert catalog.operation("v3/profitsharing/return-orders", "POST") is not None
    assert reads == ["v3/profitsharing/return-orders"]


def test_importing_the_package_reads_no_spec_and_no_validator() -> None:
    code = (
        "import sys, builtins, io\n"
        "opened = []\n"
        "real = io.open\n"
        "import pathlib\n"
        "orig = pathlib.Path.open\n"
        "pathlib.Path.open = lambda self, *a, **k: (opened.append(str(self)), orig(self, *a, **k))[1]\n"
        "import wechatpay_chain\n"
        "assert not [p for p in opened if p.endswith(('.yaml', '.tsv'))], opened\n"
        "assert 'jsonschema' not in sys.modules\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr


def _all_operations() -> list[tuple[str, str]]:
    return [(entry.key, entry.method) for entry in Catalog() if entry.key.startswith(("v3/", "hk/", "global/"))]


def test_every_default_answer_passes_its_response_schema() -> None:
    catalog = Catalog()
    failures: list[str] = []
    checked = 0
    for key, method in _all_operations():
        operation = catalog.operation(key, method)
        assert operation is not None
        schema = operation.schema("response")
        if schema is None:
            continue
        errors = list(Draft202012Validator(schema).iter_errors(example_for(schema)))
        checked += 1
        if errors:
            failures.append(f"{method} {key}: {errors[0].message[:80]}")
    assert checked > 500
    assert not failures, f"{len(failures)} default answers break their schema:\n" + "\n".join(failures[:20])


def test_mock_default_answer_for_a_template_path(client: Client) -> None:
    answer = client.v3.refund.domestic.refunds._out_refund_no_.get(out_refund_no="R1")
    assert answer.status_code == 200 and answer.json()["out_refund_no"]


def test_handler_may_answer_no_content(client: Client, mock: MockPlatform) -> None:
    mock.on("POST", "v3/pay/transactions/out-trade-no/{out_trade_no}/close", lambda call: None)
    answer = client.v3.pay.transactions.out_trade_no._out_trade_no_.close.post(
        out_trade_no="T1", json={"mchid": "1900000109"}
    )
    assert answer.status_code == 204 and answer.json() is None


def test_typed_path_values_and_array_query_values(client: Client, mock: MockPlatform) -> None:
    # The spec types store_id as an integer: 123 and "123" both pass, "abc" does not.
    assert client.v3.merchant_store.stores._store_id_.get(store_id=123).status_code == 200
    assert client.v3.merchant_store.stores["123"].get().status_code == 200
    with pytest.raises(ValidationError) as caught:
        client.v3.merchant_store.stores["abc"].get()
    assert [(e.pointer, e.rule) for e in caught.value.errors] == [("/path/store_id", "type")]
    # A list in query= travels comma-separated; the mock reads it back as an array.
    client.v3.new_tax_control_fapiao.fapiaomerchant.getspinviteurl.get(
        query={
            "operation_type": "AUTH_BINDING",
            "fapiao_mode": "TENCENT_DIGITAL_TAX",
            "invite_code": "c",
            "fapiao_ability_type_list": ["BASE_ABILITY", "REAL_ESTATE_ABILITY"],
        }
    )
    assert mock.calls[-1].query["fapiao_ability_type_list"] == "BASE_ABILITY,REAL_ESTATE_ABILITY"


@pytest.mark.parametrize(
    "pattern",
    [
        r"\d{8}|\d{14}|OnAccept",  # the specs' patterns
        r"[0-9]{6}",
        r"[a-zA-Z0-9\|\*_-]{1,128}",
        r"^1[3-9]\d{9}$",
        r"(?:ab|cd)+x?",
        r"(?P<name>\w)\.\s*",
        r"[^a]{2,}",
        r"a{,3}b",
    ],
)
def test_a_pattern_gets_an_example_it_matches(pattern: str) -> None:
    import re

    example = example_for({"type": "string", "pattern": pattern})
    assert re.search(pattern, example), (pattern, example)


@pytest.mark.parametrize("pattern", [r"(?=a)b", r"(\w)\1", r"\D+", "(((a"])
def test_a_pattern_outside_the_subset_falls_back_to_a_string(pattern: str) -> None:
    assert example_for({"type": "string", "pattern": pattern}) == "string"
