"""wechatpay-chain: a spec-driven chain client for the WeChat Pay APIs.

from wechatpay_chain import Client
client = Client(mchid=..., serial=..., private_key=..., certs={...})
client.v3.profitsharing.return_orders.post(json={...})
"""

from __future__ import annotations

from ._version import __version__
from .client import Client
from .errors import (
    ApiError,
    ConfigError,
    DecryptionError,
    FieldError,
    FieldProblem,
    SignatureError,
    TimeoutError,
    TransportError,
    ValidationError,
    WeChatPayError,
    XmlError,
)
from .response import Response
from .transport.aio import Timeout

__all__ = [
    "ApiError",
    "Client",
    "ConfigError",
    "DecryptionError",
    "FieldError",
    "FieldProblem",
    "Response",
    "SignatureError",
    "Timeout",
    "TimeoutError",
    "TransportError",
    "ValidationError",
    "WeChatPayError",
    "XmlError",
    "__version__",
]
