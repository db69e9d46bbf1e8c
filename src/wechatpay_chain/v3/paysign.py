"""Pay-sign: the signed parameter sets a front end needs to open the WeChat Pay cashier.

After a JSAPI / mini-program or APP order returns its ``prepay_id``, the server signs a
small parameter set with the merchant private key (SHA256-with-RSA, base64; or the
client's remote signer, merchant_key.py) and hands it to the front end:

* JSAPI (``WeixinJSBridge.invoke('getBrandWCPayRequest', ...)``) and mini-program
  (``wx.requestPayment``, which ignores ``appId``): :func:`jsapi_params`, signing
  ``appId\\ntimeStamp\\nnonceStr\\npackage\\n``; ``signType`` is ``RSA`` and not signed.
* APP (the OpenSDK ``PayReq``): :func:`app_params`, signing
  ``appid\\ntimestamp\\nnoncestr\\nprepayid\\n``; ``package`` is the fixed ``Sign=WXPay``
  and not signed.

Each line ends with ``\\n``, the last one included; the timestamp is integer seconds as a
string (10 digits, never milliseconds), the nonce at most 32 characters.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..errors import ConfigError
from ..merchant_key import Signer, sign_with, signer_from
from ..trust.crypto import Secret
from .protocol import new_nonce

if TYPE_CHECKING:
    from ..engine import Engine
    from ..trust.crypto import KeySource

__all__ = ["APP_PACKAGE", "PaySign", "app_params", "jsapi_params", "pay_signing_string"]

APP_PACKAGE = "Sign=WXPay"
_PREPAY_PREFIX = "prepay_id="
_MAX_NONCE_LENGTH = 32


def pay_signing_string(*fields: str) -> bytes:
    """The lines to sign: each field followed by ``\\n``, UTF-8."""
    return "".join(f"{value}\n" for value in fields).encode("utf-8")


def jsapi_params(
    appid: str,
    prepay_id: str,
    private_key: KeySource | Signer,
    *,
    timestamp: int | str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """``appId, timeStamp, nonceStr, package, signType, paySign`` for JSAPI / mini-program.

    ``prepay_id`` is the order's ``prepay_id`` (a value already written as
    ``prepay_id=...`` is taken as the package itself). ``private_key`` is the merchant key
    (a key object, PEM text or a path) or a signer (merchant_key.Signer).
    """
    package = prepay_id if prepay_id.startswith(_PREPAY_PREFIX) else _PREPAY_PREFIX + prepay_id
    time_stamp = _timestamp(timestamp)
    nonce_str = _nonce(nonce)
    signer = signer_from(private_key, "private_key")
    return {
        "appId": appid,
        "timeStamp": time_stamp,
        "nonceStr": nonce_str,
        "package": package,
        "signType": "RSA",
        "paySign": sign_with(signer, pay_signing_string(appid, time_stamp, nonce_str, package)),
    }


def app_params(
    appid: str,
    partnerid: str,
    prepayid: str,
    private_key: KeySource | Signer,
    *,
    timestamp: int | str | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """``appid, partnerid, prepayid, package, noncestr, timestamp, sign`` for APP pay.

    ``partnerid`` is the merchant id (``mchid``; a service provider's sub-merchant where
    the order was placed for one).
    """
    time_stamp = _timestamp(timestamp)
    nonce_str = _nonce(nonce)
    signer = signer_from(private_key, "private_key")
    return {
        "appid": appid,
        "partnerid": partnerid,
        "prepayid": prepayid,
        "package": APP_PACKAGE,
        "noncestr": nonce_str,
        "timestamp": time_stamp,
        "sign": sign_with(signer, pay_signing_string(appid, time_stamp, nonce_str, prepayid)),
    }


def _timestamp(value: int | str | None) -> str:
    text = str(int(time.time())) if value is None else str(value)
    # ASCII digits only (str.isdigit() passes other scripts' digits; a bool is an int), and
    # at most 10 of them: 13 digits is the classic milliseconds mistake the platform refuses
    if isinstance(value, bool) or not text.isascii() or not text.isdigit() or len(text) > 10:
        raise ConfigError("timestamp", "must be integer seconds since the epoch (10 digits)")
    return text


def _nonce(value: str | None) -> str:
    if value is None:
        return new_nonce()
    if not value or len(value) > _MAX_NONCE_LENGTH or "\n" in value:
        raise ConfigError("nonce", f"must be 1 to {_MAX_NONCE_LENGTH} characters on one line")
    return value


class PaySign:
    """``client.paysign``: the functions above with the client's keys filled in."""

    def __init__(self, engine: Engine) -> None:
        self._settings = engine.settings

    def jsapi(
        self, appid: str, prepay_id: str, *, timestamp: int | str | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        """JSAPI / mini-program parameters signed with the merchant key or signer (APIv3)."""
        return jsapi_params(appid, prepay_id, self._key(), timestamp=timestamp, nonce=nonce)

    def app(
        self, appid: str, prepayid: str, *, timestamp: int | str | None = None, nonce: str | None = None
    ) -> dict[str, str]:
        """APP parameters signed with the merchant key or signer (APIv3); ``partnerid`` is the merchant id."""
        return app_params(appid, self._settings.mchid, prepayid, self._key(), timestamp=timestamp, nonce=nonce)

    def jsapi_v2(self, appid: str, prepay_id: str, sign_type: str = "MD5") -> dict[str, str]:
        """JSAPI parameters signed with the APIv2 secret (for v2 unified orders)."""
        from ..v2 import jsapi_paysign_v2

        return jsapi_paysign_v2(appid, prepay_id, self._secret(), sign_type)

    def app_v2(self, appid: str, prepayid: str, sign_type: str = "MD5") -> dict[str, str]:
        """APP parameters signed with the APIv2 secret."""
        from ..v2 import app_paysign_v2

        return app_paysign_v2(appid, self._settings.mchid, prepayid, self._secret(), sign_type)

    def _key(self) -> Signer:
        signer = self._settings.signer  # the local key's signer or the remote one
        if signer is None:
            raise ConfigError("private_key", "pay-sign needs the merchant private key (or signer)")
        return signer

    def _secret(self) -> Secret:
        secret = self._settings.v2.secret
        if secret is None:
            raise ConfigError("secret", "v2 pay-sign needs the APIv2 secret")
        return secret
