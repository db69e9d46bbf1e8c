"""Payloads the tests share (the seed operation's, as the catalogue's examples give it)."""

RETURN_ORDER = {
    "out_order_no": "P20150806125346",
    "out_return_no": "R20190516001",
    "return_mchid": "86693852",
    "amount": 10,
    "description": "用户退款",
}
