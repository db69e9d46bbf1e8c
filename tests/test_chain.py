"""The chain's naming rules (the contract in ARCHITECTURE.md), against a small catalogue."""

from __future__ import annotations

from pathlib import Path

import pytest

from wechatpay_chain import Client
from wechatpay_chain.catalog.specs import Catalog
from wechatpay_chain.chain import python_name
from wechatpay_chain.naming import Segment, attribute_segment, kebab, path_segments
from wechatpay_chain.v3.calls import fill_path

INDEX = """key\tmethod\turl\tsummary
v3/profitsharing/return-orders\tPOST\t/v3/profitsharing/return-orders\t请求分账回退
v3/pay/transactions/out-trade-no/{out_trade_no}\tGET\t/v3/pay/transactions/out-trade-no/{out_trade_no}\t商户订单号查询
v3/pay/transactions/out-trade-no/{out_trade_no}/close\tPOST\t/v3/pay/transactions/out-trade-no/{out_trade_no}/close\t关闭订单
v2/mmpaysptrans/pay_bank\tPOST\t/mmpaysptrans/pay_bank\t付款到银行卡
v2/secapi/mch/addInstitutionsub\tPOST\t/secapi/mch/addInstitutionsub\t添加子商户
v3/marketing/partnerships/build\tPOST\t/v3/marketing/partnerships/build\t建立合作关系
v3/global/certificates\tGET\t/v3/global/certificates\t获取平台证书列表
"""


@pytest.fixture
def client(tmp_path: Path) -> Client:
    (tmp_path / "index.tsv").write_text(INDEX, encoding="utf-8")
    c = Client(mchid="1900000109")
    c.catalog = Catalog([tmp_path], builtin=False)
    return c


def test_three_styles_reach_the_same_node(client: Client) -> None:
    a = client.v3.profitsharing.return_orders
    b = client.chain("v3/profitsharing/return-orders")
    c = client["v3/profitsharing/return-orders"]
    assert a == b == c
    assert a.spec_key == "v3/profitsharing/return-orders"


def test_attribute_access_is_cached_per_node(client: Client) -> None:
    assert client.v3.profitsharing is client.v3.profitsharing
    assert client.v3.profitsharing.return_orders is client.v3.profitsharing.return_orders


@pytest.mark.parametrize("name", ["return_orders", "returnOrders", "ReturnOrders"])
def test_spellings_meet_on_the_catalogue_segment(client: Client, name: str) -> None:
    assert getattr(client.v3.profitsharing, name).path == "v3/profitsharing/return-orders"


def test_mechanical_rule_outside_the_catalogue(client: Client) -> None:
    assert client.v3.someThing.more_things.path == "v3/some-thing/more-things"
    assert kebab("HTTPServerName") == "http-server-name"
    assert kebab("addInstitutionsub") == "add-institutionsub"


def test_catalogue_spelling_wins_for_v2_segments(client: Client) -> None:
    assert client.v2.mmpaysptrans.pay_bank.path == "v2/mmpaysptrans/pay_bank"
    assert client.v2.secapi.mch.addInstitutionsub.path == "v2/secapi/mch/addInstitutionsub"
    assert client.v2.secapi.mch.add_institutionsub.path == "v2/secapi/mch/addInstitutionsub"


def test_chain_and_item_keep_the_text_as_written(client: Client) -> None:
    assert client.chain("v2/secapi/mch/addInstitutionsub").path == "v2/secapi/mch/addInstitutionsub"
    assert client["v3/Some_Thing"].path == "v3/Some_Thing"


@pytest.mark.parametrize(
    "name, segment",
    [
        ("global_", "global"),
        ("return_", "return"),
        ("delete_", "delete"),
        ("import_", "import"),
        ("post_", "post"),
        ("chain_", "chain"),
    ],
)
def test_trailing_underscore_escapes_keywords_and_verbs(name: str, segment: str) -> None:
    assert attribute_segment(name) == Segment(segment, None)


def test_keyword_escape_in_a_chain(client: Client) -> None:
    assert client.v3.global_.certificates.path == "v3/global/certificates"
    assert python_name("global") == "global_" and python_name("delete") == "delete_"
    assert python_name("{out_trade_no}") == "_out_trade_no_"


def test_templates_in_all_styles(client: Client) -> None:
    key = "v3/pay/transactions/out-trade-no/{out_trade_no}"
    assert client.v3.pay.transactions.out_trade_no._out_trade_no_.spec_key == key
    assert client.chain(key).spec_key == key
    assert client.chain("v3/pay/transactions/out-trade-no/_out_trade_no_").spec_key == key
    assert client[key].spec_key == key


def test_literal_value_on_a_template_keeps_its_case(client: Client) -> None:
    node = client.v3.pay.transactions.out_trade_no["ABC-123_xY"]
    assert node.spec_key == "v3/pay/transactions/out-trade-no/{out_trade_no}"
    assert node.path == "v3/pay/transactions/out-trade-no/ABC-123_xY"
    assert node.close.spec_key == "v3/pay/transactions/out-trade-no/{out_trade_no}/close"
    full = client.chain("v3/pay/transactions/out-trade-no/UPPER01/close")
    assert full.spec_key == "v3/pay/transactions/out-trade-no/{out_trade_no}/close"
    assert full.path == "v3/pay/transactions/out-trade-no/UPPER01/close"


def test_path_values_are_percent_encoded_exactly_once() -> None:
    segments = path_segments("v3/pay/transactions/out-trade-no/{out_trade_no}")
    wire, values, missing = fill_path(segments, {"out_trade_no": "a/b c%2F"}, None)
    assert wire == "/v3/pay/transactions/out-trade-no/a%2Fb%20c%252F"
    assert values == {"out_trade_no": "a/b c%2F"} and not missing


def test_missing_path_value_is_reported() -> None:
    _, _, missing = fill_path(path_segments("v3/x/{id}/y/{other}"), {"id": "1"}, None)
    assert [error.pointer for error in missing] == ["/path/other"]


def test_v2_prefix_is_not_part_of_the_url() -> None:
    wire, _, _ = fill_path(path_segments("v2/pay/micropay"), {}, None)
    assert wire == "/pay/micropay"


def test_dir_lists_catalogue_children(client: Client) -> None:
    names = dir(client.v3)
    assert {"profitsharing", "pay", "marketing", "global_", "post", "get_async"} <= set(names)
    assert "_out_trade_no_" in dir(client.v3.pay.transactions.out_trade_no)
    assert "return_orders" in dir(client.v3.profitsharing)


def test_item_rejects_non_strings(client: Client) -> None:
    with pytest.raises(TypeError):
        client.v3[1]  # type: ignore[index]


def test_dunder_lookups_do_not_become_segments(client: Client) -> None:
    with pytest.raises(AttributeError):
        client.v3.__wrapped__  # noqa: B018


@pytest.mark.parametrize(
    "name, suggestion",
    [
        ("paysing", "paysign"),  # an attribute of the client, misspelt
        ("v4", "v3"),  # a root, misspelt
        ("profitsharing", "v3.profitsharing"),  # a segment one level down
    ],
)
def test_the_root_takes_only_the_catalogue_roots(client: Client, name: str, suggestion: str) -> None:
    with pytest.raises(AttributeError, match=f"did you mean '{suggestion}'") as caught:
        getattr(client, name)
    assert caught.value.name == name and caught.value.obj is client
    assert "v2, v3" in str(caught.value)  # the roots this catalogue has


def test_a_typo_at_the_root_is_not_a_segment(client: Client) -> None:
    assert not hasattr(client, "anything")
    assert client.v3 == client.V3 and client.v2.path == "v2"
    # Everything public on the client keeps working, and the path styles take any path.
    assert callable(client.chain) and client.notifications is client.notifications
    assert client.chain("v4/custom").path == "v4/custom"
    assert client["anything/else"].path == "anything/else"
    assert client.v3.anything_else.path == "v3/anything-else"  # below a root: the mechanical rule


def test_global_is_a_root_of_the_real_catalogue() -> None:
    client = Client(mchid="1900000109")
    assert {python_name(root) for root in client.catalog.children("")} == {"v2", "v3", "hk", "global_"}
    assert client.global_.path == "global" and client.hk.path == "hk"
