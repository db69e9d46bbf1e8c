"""The mock platform's APIv2 side: signed XML in, signed XML (or a bill) out.

``MockPlatform`` hands every path outside ``/v3/``, ``/hk/`` and ``/global/`` to
:func:`handle_v2`, which behaves like the v2 platform:

- the path is looked up in the catalogue (``v2`` + path); a handler registered
  with ``mock.on("POST", "v2/...")`` also serves paths the catalogue lacks;
- the request's sign is checked with ``platform.secret`` (``parse_v2_request``;
  GET operations: the query); a bad or missing sign, bad XML, another merchant's
  id or a payload that breaks the spec is answered ``return_code`` FAIL, unsigned,
  as the platform does;
- the answer is a handler's (a dict -> XML, signed unless the spec marks the
  operation ``unsigned`` or ``MockAnswer(signed=False)``; ``MockAnswer(raw=...)``
  -> sent as is) or one built from the spec's response examples with
  ``return_code``/``result_code`` SUCCESS and the request's own values echoed;
  ``download`` operations answer a CSV bill (gzip when ``tar_type=GZIP``), the
  JSON one (``appauth/getaccesstoken``) JSON with ``retcode`` 0;
- faults: ``mock.fail("v2_bad_sign")`` signs the next v2 answer with a wrong key;
  ``server_error`` (and the other HTTP-status faults of ``faults.STATUS_FAULTS``)
  answer that status with a FAIL body. Other v3 faults stay queued for v3 answers.

Calls are recorded in ``platform.calls`` (``call.json`` holds the decoded v2
fields) and counted in ``platform.counts[(METHOD, key)]``.
"""

from __future__ import annotations

import gzip
import hashlib
import inspect
import threading
import weakref
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ..catalog.specs import Catalog, Operation
from ..errors import DecryptionError, SignatureError
from ..trust.crypto import oaep_decrypt
from ..v2.bank import KEY_OPERATION as BANK_KEY_OPERATION
from ..v2.bank import bank_fields
from ..v2.codec import XmlError, decode_xml, encode_xml
from ..v2.messages import MERCHANT_ID_FIELDS, sign_v2_answer, v2_return_fail, verify_v2_fields
from ..v2.rules import properties, rules_for, validate_fields, wire_view
from ..v2.signing import MD5, detect_sign_type
from ..v3.protocol import new_nonce
from . import faults
from .calls import Handler, MockAnswer, MockCall
from .examples import example_for
from .multipart import parse_multipart
from .tradebill import trade_bill

if TYPE_CHECKING:
    from .sandbox import Sandbox

__all__ = ["V2_FAULTS", "V2Platform", "bill_csv", "handle_v2"]

V2_FAULTS = ("v2_bad_sign", "server_error")  # besides faults.STATUS_FAULTS, when it exists
XML_TYPE = "text/xml; charset=utf-8"
_ERROR_FIELDS = ("err_code", "err_code_des", "error_code", "err_msg")
_NOT_ECHOED = ("sign", "nonce_str", "return_code", "return_msg", "result_code")


class V2Platform(Protocol):
    """What answering an APIv2 request needs of the platform."""

    mchid: str
    secret: str  # the merchant's APIv2 key
    catalog: Catalog
    validate: bool
    handlers: dict[tuple[str, str], Handler]
    calls: list[MockCall]
    counts: Counter[tuple[str, str]]
    sandboxed: bool
    sandbox: Sandbox
    _faults: list[list[Any]]

    @property
    def bank_key(self) -> rsa.RSAPrivateKey: ...

    def _take_fault(self) -> str | None: ...


# platform -> {(METHOD, wire path): spec key}; built once from the catalogue index.
_ROUTES: weakref.WeakKeyDictionary[V2Platform, dict[tuple[str, str], str]] = weakref.WeakKeyDictionary()
_ROUTES_LOCK = threading.Lock()


def _routes(platform: V2Platform) -> dict[tuple[str, str], str]:
    with _ROUTES_LOCK:
        routes = _ROUTES.get(platform)
        if routes is None:
            routes = {(e.method, e.url): e.key for e in platform.catalog if e.key.startswith("v2/")}
            _ROUTES[platform] = routes
    return routes


def _xml(status: int, body: bytes, headers: Mapping[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=body, headers={"Content-Type": XML_TYPE, **(headers or {})})


def _fail(message: str, status: int = 200) -> web.Response:
    return _xml(status, v2_return_fail(message))


def _status_faults() -> dict[str, Any]:
    """fault -> (status, code, message) of the gateway-like faults the v3 side defines."""
    return dict(getattr(faults, "STATUS_FAULTS", None) or {"server_error": (500, "SYSTEM_ERROR", "系统繁忙")})


def _take_v2_fault(platform: V2Platform) -> str | None:
    """The next fault when it is one a v2 answer can carry; v3 faults wait for v3 answers."""
    queued = platform._faults
    if queued and (queued[0][0] in V2_FAULTS or queued[0][0] in _status_faults()):
        return platform._take_fault()
    return None


def bill_csv(fields: Mapping[str, str]) -> bytes:
    """A small bill in the platform's format: header, rows of `-prefixed values, totals."""
    day = fields.get("bill_date", "20140603")
    when = f"{day[:4]}-{day[4:6]}-{day[6:8]} 16:33:45"
    lines = [
        "交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
        "付款银行,货币种类,总金额,代金券或立减优惠金额,商品名称,商户数据包,手续费,费率",
        f"`{when},`{fields.get('appid', '')},`{fields.get('mch_id', '')},`0,`,`4200000001201407033233368018,"
        "`1217752501201407033233368018,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`MICROPAY,`SUCCESS,`OTHERS,`CNY,"
        "`0.01,`0.00,`mock goods,`,`0.00000,`0.60%",
        "总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额",
        "`1,`0.01,`0.00,`0.00,`0.00000",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _default_fields(operation: Operation | None, request: Mapping[str, Any]) -> dict[str, Any]:
    """A SUCCESS answer from the response schema's examples, echoing the request's values."""
    schema = operation.schema("response") if operation is not None else None
    example = example_for(schema) if schema is not None else None
    answer: dict[str, Any] = {"return_code": "SUCCESS", "return_msg": "OK"}
    for name, value in (example if isinstance(example, dict) else {}).items():
        if value is None or name in _ERROR_FIELDS or name in _NOT_ECHOED:
            continue
        value = request.get(name, value)
        answer[name] = ("true" if value else "false") if isinstance(value, bool) else value
    if operation is None or "result_code" in properties(operation, "response"):
        answer["result_code"] = "SUCCESS"
    return answer


def _encode_answer(fields: Mapping[str, Any], *, signed: bool, secret: str, sign_type: str, bad_sign: bool) -> bytes:
    if not signed:
        return encode_xml(fields, cdata=[name for name, value in fields.items() if isinstance(value, str)])
    answer = dict(fields)
    answer.setdefault("nonce_str", new_nonce())
    if "sign_type" in answer:
        answer["sign_type"] = sign_type  # what the sign below uses, whatever the example said
    return sign_v2_answer(answer, secret + "-wrong" if bad_sign else secret, sign_type)


def _request_fields(
    request: web.Request, body: bytes, part: str
) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """The request's fields, and its files (uploads only)."""
    if part == "query":
        return {name: value for name, value in request.query.items()}, {}
    if part == "form":
        parts = parse_multipart(request.headers.get("Content-Type", ""), body)
        files = {name: part for name, part in parts.items() if part[0]}
        fields = {name: content.decode("utf-8") for name, (filename, content) in parts.items() if not filename}
        return fields, files
    return decode_xml(body), {}


async def handle_v2(platform: V2Platform, request: web.Request) -> web.Response:
    """Answer one v2 request the way the platform would (see the module docstring)."""
    body = await request.read()
    method = request.method.upper()
    path = request.raw_path.split("?", 1)[0]
    routes = _routes(platform)
    key = routes.get((method, path))
    custom = platform.handlers.get((method, "v2" + path))
    if key is None and custom is None:
        if any(url == path for _, url in routes):
            return _fail(f"{method} is not allowed here", 405)
        return _fail(f"no such API: {method} {path}", 404)
    call_key = key or "v2" + path
    operation = platform.catalog.operation(key, method) if key is not None else None
    rules = rules_for(operation, method)
    try:
        fields, files = _request_fields(request, body, rules.part)
    except XmlError as refused:
        return _fail(f"XML格式错误: {refused}")
    except UnicodeDecodeError:
        return _fail("表单字段不是 UTF-8")
    if rules.signed:
        try:
            verify_v2_fields(fields, platform.secret, what="request")
        except SignatureError as refused:
            return _fail(f"签名错误: {refused.reason}")
    merchant = next((fields[name] for name in MERCHANT_ID_FIELDS if name in fields), None)
    call = MockCall(
        method=method,
        key=call_key,
        path=path,
        path_values={},
        query=dict(request.query.items()),
        headers=request.headers,
        body=body,
        json=fields,
        mchid=merchant,
        files=files,
    )
    platform.calls.append(call)
    platform.counts[(method, call_key)] += 1
    strangers = [name for name in MERCHANT_ID_FIELDS if name in fields and fields[name] != platform.mchid]
    if strangers:
        return _fail(f"{strangers[0]} is not a merchant of this platform")
    for name in bank_fields(operation) if rules.part == "xml" else ():
        if name in fields:  # what the platform does with a bank transfer: open the RSA fields
            try:
                call.decrypted[name] = oaep_decrypt(platform.bank_key, fields[name])
            except DecryptionError:
                return _fail(f"参数错误: {name} could not be decrypted with the getpublickey key")
    if rules.part == "form":
        # The platform's check on an upload: one file, and media_hash is the MD5 of its bytes.
        if len(files) != 1:
            return _fail(f"参数错误: expected one file, got {len(files)}")
        if fields.get("media_hash") != hashlib.md5(next(iter(files.values()))[1]).hexdigest():
            return _fail("参数错误: media_hash does not match the file")
    if operation is not None and platform.validate:
        problems = validate_fields(operation, rules.part, fields, json_fields=rules.json_fields)
        if rules.part == "xml" and request.query and operation.schema("query") is not None:
            problems += operation.validate({"query": wire_view(operation, "query", dict(request.query.items()))})
        if problems:
            return _fail("参数错误: " + "; ".join(str(problem) for problem in problems))
    return await _answer(platform, operation, call, custom, fields, signed=not rules.unsigned_answer)


async def _answer(
    platform: V2Platform,
    operation: Operation | None,
    call: MockCall,
    custom: Any,
    fields: dict[str, str],
    *,
    signed: bool,
) -> web.Response:
    fault = _take_v2_fault(platform)
    status_fault = _status_faults().get(fault or "")
    if status_fault is not None:
        return _fail(str(status_fault[2]), int(status_fault[0]))
    sign_type = detect_sign_type(fields) or MD5
    handler = custom or platform.handlers.get((call.method, call.key or ""))
    status, headers, answer = 200, {}, None
    if handler is not None:
        result = handler(call)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, MockAnswer):
            status, headers, signed = result.status, dict(result.headers), signed and result.signed
            if result.raw is not None:
                return web.Response(status=status, body=result.raw, headers={"Content-Type": XML_TYPE, **headers})
            result = result.body
        if result is not None:
            answer = {"return_code": "SUCCESS", **dict(result)}
    elif call.key == BANK_KEY_OPERATION:
        pem = platform.bank_key.public_key().public_bytes(Encoding.PEM, PublicFormat.PKCS1).decode("ascii")
        answer = {"return_code": "SUCCESS", "result_code": "SUCCESS", "mch_id": platform.mchid, "pub_key": pem}
    elif platform.sandboxed and platform.sandbox.handles(call.method, call.key):
        answer = platform.sandbox.answer_v2(call, fields)
    elif operation is not None and operation.flag("download"):
        bill = bill_csv(fields)
        if platform.sandboxed and call.key == "v2/pay/downloadbill":
            owner = fields.get("sub_mch_id") or fields.get("mch_id") or platform.mchid
            bill = trade_bill(
                platform.sandbox.state, owner, fields.get("bill_date", ""), fields.get("bill_type", "ALL")
            )
        if fields.get("tar_type") == "GZIP":
            return web.Response(body=gzip.compress(bill), headers={"Content-Type": "application/x-gzip"})
        return web.Response(body=bill, headers={"Content-Type": "text/plain; charset=utf-8"})
    if answer is None and operation is not None and rules_for(operation, call.method).json_answer:
        # getaccesstoken answers JSON: retcode 0, the schema's examples, no sign.
        schema = operation.schema("response")
        document = example_for(schema) if schema is not None else {}
        return web.json_response({**(document if isinstance(document, dict) else {}), "retcode": 0, "retmsg": "OK"})
    if answer is None:
        answer = _default_fields(operation, fields)
    bad_sign = fault == "v2_bad_sign"
    body = _encode_answer(
        answer, signed=signed or bad_sign, secret=platform.secret, sign_type=sign_type, bad_sign=bad_sign
    )
    return _xml(status, body, headers)
