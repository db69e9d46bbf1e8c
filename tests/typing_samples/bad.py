"""The good sample with four mistakes; mypy --strict and pyright must report exactly these.

Each line that must fail carries ``# expect: <mypy error code> <pyright rule>``;
tests/test_stubs.py compares the checkers' reports with these marks. Pyright runs in
its standard mode here: strict mode adds follow-on "type is unknown" reports after
the misspelt segment, which would hide whether the mistakes are found.
"""

from __future__ import annotations

from wechatpay_chain import Client


def return_order(client: Client) -> str:
    # a required field is missing: "description"
    answer = client.v3.profitsharing.return_orders.post(
        json={  # expect: typeddict-item reportArgumentType
            "order_id": "3008450740201411110007820472",
            "out_return_no": "R20190516001",
            "return_mchid": "86693852",
            "amount": 10,
        }
    )
    return answer.json()["result"]


def query_order(client: Client) -> object:
    # a misspelt segment: "out_trade_numbr"
    transactions = client.v3.pay.transactions
    order = transactions.out_trade_numbr._out_trade_no_.get(  # expect: attr-defined reportAttributeAccessIssue
        out_trade_no="1217752501201407033233368018", query={"mchid": "1900000109"}
    )
    return order.json()


async def add_receiver(client: Client) -> str:
    # a value outside the enum: "MERCHANT" is not one of MERCHANT_ID, PERSONAL_OPENID, PERSONAL_SUB_OPENID
    answer = await client.v3.profitsharing.receivers.add.post_async(
        json={
            "appid": "wx8888888888888888",
            "type": "MERCHANT",  # expect: typeddict-item reportArgumentType
            "account": "86693852",
            "relation_type": "STORE",
        }
    )
    return answer.json()["account"]


def close_order(client: Client) -> str:
    # a keyword this verb does not take: decrypt= is APIv3's (the v2 runtime raises TypeError)
    closeorder = client.v2.pay.closeorder
    answer = closeorder.post(xml={"appid": "a", "out_trade_no": "T"}, decrypt=True)  # expect: call-arg reportCallIssue
    return answer.json()["return_code"]
