"""APIv2 (XML) protocol core, sans-I/O: sign, encode, decode, verify.

Pure functions of their arguments (secret, nonce, clock passed in or drawn from
the OS CSPRNG); nothing here imports a network library. The client, the mock
platform and the notification parser all call these.

    codec          XmlError, encode_xml, decode_xml, decode_xml_items, is_xml_body
    signing        sign_v2, verify_v2_sign, signed_query, jsapi_paysign_v2, app_paysign_v2
    messages       prepare_v2_request, parse_v2_response       (merchant side)
                   parse_v2_request, sign_v2_answer,
                   v2_return_fail, v2_result_fail              (platform side, for the mock)
                   v2_ack                                      (notification reply)
    notifications  parse_v2_notification, decrypt_req_info, encrypt_req_info

Around the core, for the client and the mock platform:

    rules          what a spec says about a v2 payload (signed part, sign type,
                   CDATA/JSON fields, certificate...), validation in the wire view
    flow           the chain's v2 call: prepare_v2_call, send_v2_call,
                   finish_v2_call, v2_redirect_url (imported lazily by Client)
    answer         V2Response: a Response with ``data`` (the verified fields)

Bound to a client elsewhere: ``client.notifications.parse_v2(body)`` and
``client.paysign.jsapi_v2(...)`` / ``app_v2(...)`` call the pure functions here.

Errors: ``XmlError`` (from ``errors``, re-exported here; a ``WeChatPayError`` and a ``ValueError``) for
bodies that cannot be written or are refused when read; ``ApiError`` for FAIL
answers; ``SignatureError`` for a missing or wrong sign; ``DecryptionError`` for
a ``req_info`` that does not open; ``ValidationError`` for a payload that names
another merchant or an unknown ``sign_type``. No message carries the secret.
"""

from .answer import V2Response
from .codec import MAX_XML_BYTES, XmlError, decode_xml, decode_xml_items, encode_xml, is_xml_body
from .messages import (
    MERCHANT_ID_FIELDS,
    parse_v2_request,
    parse_v2_response,
    prepare_v2_request,
    sign_v2_answer,
    v2_ack,
    v2_result_fail,
    v2_return_fail,
    verify_v2_fields,
)
from .notifications import decrypt_req_info, encrypt_req_info, parse_v2_notification
from .signing import (
    HMAC_SHA256,
    MD5,
    SIGN_TYPES,
    app_paysign_v2,
    detect_sign_type,
    jsapi_paysign_v2,
    sign_v2,
    signed_query,
    v2_signing_string,
    verify_v2_sign,
)

__all__ = [
    "HMAC_SHA256",
    "MAX_XML_BYTES",
    "MD5",
    "MERCHANT_ID_FIELDS",
    "SIGN_TYPES",
    "V2Response",
    "XmlError",
    "app_paysign_v2",
    "decode_xml",
    "decode_xml_items",
    "decrypt_req_info",
    "detect_sign_type",
    "encode_xml",
    "encrypt_req_info",
    "is_xml_body",
    "jsapi_paysign_v2",
    "parse_v2_notification",
    "parse_v2_request",
    "parse_v2_response",
    "prepare_v2_request",
    "sign_v2",
    "sign_v2_answer",
    "signed_query",
    "v2_ack",
    "v2_result_fail",
    "v2_return_fail",
    "v2_signing_string",
    "verify_v2_fields",
    "verify_v2_sign",
]
