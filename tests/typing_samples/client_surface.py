"""The client's own surface as type checkers see it: exactly the three marked mistakes.

``Client``'s methods and attributes are typed from ``client.py`` itself (its base is the
generated ``ChainRoot`` only for type checkers), and the root answers only the roots of
the catalogue, as at run time. Marks as in bad.py: ``# expect: <mypy code> <pyright rule>``.
"""

from __future__ import annotations

from wechatpay_chain import Client
from wechatpay_chain.chain import Node


def own_methods(client: Client) -> str:
    sealed = client.encrypt("张三")  # client.py: str -> str
    node: Node = client.chain("v3/pay/transactions/jsapi")  # loosely typed, any path
    return sealed + client.mchid + node.path + client.v3.pay.transactions.jsapi.path


def misspelt_root(client: Client) -> object:
    return client.v4.pay  # expect: attr-defined reportAttributeAccessIssue


def wrong_argument(client: Client) -> str:
    return client.encrypt(42)  # expect: arg-type reportArgumentType


def wrong_attribute_type(client: Client) -> int:
    return client.mchid  # expect: return-value reportReturnType
