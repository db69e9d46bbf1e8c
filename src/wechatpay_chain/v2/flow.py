"""One APIv2 call: prepare (pure) and finish (pure); the engine's attempt loop sends it.

``client.v2.pay.micropay.post(xml={...})`` reaches the engine (engine.py), which runs::

    call = prepare_v2_call(settings, "POST", segments, kwargs)  # raises before anything is sent
    response = await run_attempts(call, ...)   # the only I/O: call.headers(), then call.finish()

A prepared :class:`V2Call` is a plan for the attempt loop (attempts.py): every attempt
sends the same signed bytes (a v2 sign carries no timestamp), to the operation's host or
to the client's host and its backup, under the same retry rules as v3.

Everything an operation needs besides its URL comes from its spec through
:func:`~.rules.rules_for`: the signed part (``xml`` body for POST, ``query``
string for GET), ``nonceless``, the default ``sign_type``, CDATA/JSON fields,
``cert_required`` (the merchant certificate on the TLS connection),
``unsigned``/``download`` answers, ``base_url`` and ``redirect`` pages. Those
pages are opened by the user's browser, not by us: :func:`v2_redirect_url`
builds their signed URL, and calling one through the chain is refused.

A v2-only client (``Client(mchid=..., secret=...)``) needs no v3 key; a client
without ``secret`` is refused with ``ConfigError("secret", ...)`` before sending. A bank
transfer whose key is not known yet raises :class:`~.bank.BankKeyNeeded` (a signal to the
engine, which fetches the key the spec's ``encrypt_key`` names and prepares again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from ..catalog.specs import Operation
from ..errors import ApiError, ConfigError, FieldProblem, ValidationError
from ..naming import Segment, path_segments
from ..response import Response
from ..retry import is_idempotent
from ..transport.wire_log import Masks, WireRequest
from ..trust.crypto import KeyText, Secret, seal
from ..v3.calls import build_target, fill_path, merge_headers
from ..v3.media import build_form, read_upload
from ..v3.protocol import new_nonce
from .answer import V2Response
from .bank import BankKeyNeeded, encrypt_bank_fields, plaintext_bank_fields
from .codec import decode_xml, field_text, is_xml_body
from .messages import parse_v2_response, prepare_v2_request, verify_v2_fields
from .rules import V2Rules, properties, rules_for, spec_values, validate_fields, wire_view
from .signing import detect_sign_type

if TYPE_CHECKING:
    from ..chain import Node
    from ..errors import WeChatPayError
    from ..settings import Settings
    from ..transport.aio import RawAnswer

__all__ = ["MISSING_BANK_KEY", "V2Call", "finish_v2_call", "prepare_v2_call", "v2_redirect_url", "v2_ssl_context"]

log = logging.getLogger("wechatpay_chain")

XML_CONTENT_TYPE = "text/xml; charset=utf-8"
KEY_RULE = "encrypt_key"  # the problem a missing bank key is reported as
MISSING_BANK_KEY = "needs the v2/risk/getpublickey key (fetched when nothing else is wrong) or Client(bank_public_key=)"
_FORM_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
# Options every verb accepts; the rest of the keywords are path values.
_OPTIONS = ("xml", "query", "headers", "validate", "timeout", "idempotent")


@dataclass(frozen=True)
class V2Call:
    """A prepared v2 request: what goes on the wire and how to read the answer (a plan for
    the attempt loop: the same signed bytes on every attempt)."""

    method: str
    key: str  # spec key, e.g. v2/pay/micropay
    target: str  # /path?query, exactly what is sent after the host
    body: bytes
    headers: Mapping[str, str]
    fields: Mapping[str, Any]  # the signed fields (with nonce_str, sign_type, sign)
    rules: V2Rules
    hosts: tuple[str, ...] = ()  # the operation's host, or the client's and its backups
    operation: Operation | None = field(default=None, repr=False)
    ssl_context: Any = field(default=None, repr=False)  # an ssl.SSLContext for cert_required
    idempotent: bool = False  # may be sent again after it may have arrived (GET, Idempotency-Key, or said so)
    secret: Secret | None = field(default=None, repr=False)  # checks the answer's sign
    validate_response: bool = False
    wire: WireRequest | None = field(default=None, repr=False)  # the DEBUG log's record

    @property
    def url(self) -> str:
        """The URL of the first attempt."""
        return self.hosts[0] + self.target

    async def headers_for_attempt(self) -> Mapping[str, str]:
        return self.headers

    async def finish(self, url: str, answer: RawAnswer) -> Response:
        return finish_v2_call(
            self,
            answer.status,
            answer.headers,
            answer.content,
            secret=self.secret,
            validate_response=self.validate_response,
            url=url,
        )

    def retry_anyway(self, error: WeChatPayError, attempt: int) -> bool:
        return False  # v2 signs carry no timestamp: nothing a new attempt could correct

    def logged(self, secrets: tuple[Any, ...]) -> V2Call:
        """This call with a record for the DEBUG log (masked there: ``secrets``, the spec's sensitive fields)."""
        spec = self.operation.spec if self.operation is not None else None
        masks = Masks.for_spec(spec, v2=True, secrets=secrets)
        return replace(self, wire=WireRequest(self.method, self.url, self.headers, self.body, masks))


# -- TLS: the merchant certificate ------------------------------------------------------------
# settings -> (v2 settings, cafile, context): built once and reused, since both transports
# pool keep-alive connections per TLS context. Typed Any: this package imports no network module.
_SSL_CACHE: weakref.WeakKeyDictionary[Settings, tuple[Any, str | None, Any]] = weakref.WeakKeyDictionary()


def v2_ssl_context(settings: Settings) -> Any:
    """The ``ssl.SSLContext`` presenting the merchant certificate (``cert_required`` operations).

    Raises ``ConfigError("client_cert")`` when the client has none. The client's
    ``cafile`` (``Client(cafile=...)``) is trusted besides the system store, for a
    TLS-intercepting proxy or a test server.
    """
    v2 = settings.v2
    if not v2.has_client_certificate:
        raise ConfigError("client_cert", "this v2 operation needs the merchant certificate (client_cert, client_key)")
    cafile = settings.cafile
    cached = _SSL_CACHE.get(settings)
    if cached is not None and cached[0] is v2 and cached[1] == cafile:
        return cached[2]
    context = v2.ssl_context(cafile=cafile)
    _SSL_CACHE[settings] = (v2, cafile, context)
    return context


# -- prepare -------------------------------------------------------------------------------
def _secret(settings: Settings, key: str) -> KeyText:
    secret = settings.v2.secret
    if not secret:
        raise ConfigError("secret", f"{key}: APIv2 calls need the v2 API key (Client(secret=...))")
    return secret


def _signed_fields(
    settings: Settings,
    operation: Operation | None,
    rules: V2Rules,
    params: Mapping[str, Any],
    name: str,
    validate: bool,
    extra_errors: list[FieldProblem],
) -> tuple[bytes, dict[str, Any]]:
    """Check, complete and sign ``params``; raise one ValidationError with every problem."""
    problems = list(extra_errors)
    params = spec_values(operation, rules.part, params, rules)
    # The client's defaults (appid, notify_url...) where the spec has the field, then its
    # merchant id in the spec's merchant-id fields; the caller's values win (prepare_v2_request).
    schema = operation.schema(rules.part) if operation is not None else None
    defaults = {name: value for name, value in settings.defaults.items() if name in properties(operation, rules.part)}
    defaults.update({field_name: settings.mchid for field_name in rules.merchant_fields})
    if schema is not None and "sign_type" in (schema.get("required") or ()):
        defaults["sign_type"] = rules.sign_type  # a required sign_type is written even for MD5
    body, fields = b"", {k: v for k, v in params.items()}
    if rules.signed:
        try:
            body, fields = prepare_v2_request(
                params,
                mchid=settings.mchid,
                secret=_secret(settings, name),
                sign_type=rules.sign_type,
                nonceless=rules.nonceless,
                cdata=rules.cdata,
                json_fields=rules.json_fields,
                defaults=defaults,
                operation=name,
            )
        except ValidationError as refused:  # merchant id or sign_type: report with the rest
            problems.extend(refused.errors)
            # What the request would have carried, so the spec reports only the caller's problems.
            fields = {**defaults, **params, "sign": ""}
            if not rules.nonceless:
                fields.setdefault("nonce_str", new_nonce())
    else:
        for field_name, value in defaults.items():
            fields.setdefault(field_name, value)
    if validate and operation is not None:
        problems.extend(validate_fields(operation, rules.part, fields, json_fields=rules.json_fields))
    if problems:
        unique = {(error.pointer, error.rule): error for error in problems}
        raise ValidationError(name, sorted(unique.values(), key=lambda e: e.pointer))
    return body, fields


def _upload_fields(
    operation: Operation | None, form: Any, files: Any, errors: list[FieldProblem]
) -> tuple[dict[str, Any], tuple[str, str, bytes, str] | None]:
    """The text fields of a v2 upload (``media_hash`` computed here) and its file part.

    Problems with the file join ``errors``: nothing is sent while one remains.
    """
    if form is not None and not isinstance(form, Mapping):
        raise TypeError("form= must be a mapping of field names to values")
    if files is not None and not isinstance(files, Mapping):
        raise TypeError("files= must be a mapping: {field: (filename, bytes or file[, content type])}")
    spec = operation.spec.get("upload") if operation is not None else None
    field, filename, content, content_type, _, problems = read_upload(files or {}, spec, None)
    errors.extend(problems)
    fields = {}
    for name, value in (form or {}).items():
        if isinstance(name, str) and _FORM_NAME.fullmatch(name):
            fields[name] = value
        else:  # reported, and kept out of what is signed and encoded
            errors.append(FieldProblem(f"/form/{name}", "propertyNames", "a form field name must be a plain token"))
    if problems:
        fields.setdefault("media_hash", "0" * 32)  # a stand-in, so the form is judged on its own
        return fields, None
    # The platform checks the MD5 of the file against media_hash; a different one given is refused.
    media_hash = hashlib.md5(content).hexdigest()
    if fields.get("media_hash") not in (None, media_hash):
        errors.append(FieldProblem("/form/media_hash", "media_hash", "does not match the MD5 of the file"))
    fields["media_hash"] = media_hash
    return fields, (field, filename, content, content_type)


def _query_string(fields: Mapping[str, Any]) -> str:
    """Signed fields as a query: sorted by name, empty ones left out (unsigned), ``sign`` last."""
    pairs = []
    for name in sorted(fields, key=lambda n: n.encode("utf-8")):
        text = field_text(name, fields[name])
        if text and name != "sign":
            pairs.append((name, text))
    if fields.get("sign"):
        pairs.append(("sign", str(fields["sign"])))
    return urlencode(pairs, quote_via=quote, safe="")


def prepare_v2_call(settings: Settings, method: str, segments: Sequence[Segment], kwargs: Mapping[str, Any]) -> V2Call:
    """Everything before the wire; raises ``ValidationError``/``ConfigError``/``TypeError``.

    kwargs: ``xml=`` (POST: the signed body), ``query=`` (GET: the signed query;
    POST: an unsigned query, e.g. ``submchmanage?action=add``), ``headers=``,
    ``validate=``, ``timeout=``, ``idempotent=`` and path values.
    """
    options = {name: kwargs.get(name) for name in _OPTIONS}
    method = method.upper()
    key = "/".join(s.spec_text for s in segments)
    name = f"{method} {key}"
    operation = settings.operation_for(method, key)
    rules = rules_for(operation, method)
    if rules.part == "form":
        refused = [other for other in ("json", "data", "xml") if kwargs.get(other) is not None]
        if refused:
            raise TypeError(f"{name}: this APIv2 upload takes files= (and form=), not {refused[0]}=")
    else:
        refused = [other for other in ("json", "files", "data", "form") if kwargs.get(other) is not None]
        if refused:
            raise TypeError(f"{name}: APIv2 takes xml= (POST) or query= (GET), not {refused[0]}=")
    templates = {s.template for s in segments if s.template is not None}
    unknown = set(kwargs) - set(_OPTIONS) - {"json", "files", "data", "form"} - templates
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {sorted(unknown)} for {key}")
    if rules.redirect:
        message = "a browser-redirect page: build its URL with v2_redirect_url() and send the browser there"
        raise ValidationError(name, [FieldProblem("", "redirect", message)])
    validate = settings.validate if options["validate"] is None else bool(options["validate"])
    path_values = {k: v for k, v in kwargs.items() if k in templates}
    url_path, _, errors = fill_path(segments, path_values, operation)
    xml, query = options["xml"], options["query"]
    if rules.part == "query" and xml is not None:
        raise TypeError(f"{name}: a v2 GET is signed over query=, not xml=")
    signed = query if rules.part == "query" else xml
    if signed is not None and not isinstance(signed, Mapping):
        raise TypeError(f"{name}: {rules.part}= must be a mapping of field names to values")
    unsigned_query = query if rules.part == "xml" else None
    if validate and operation is not None and unsigned_query is not None and operation.schema("query") is not None:
        errors.extend(operation.validate({"query": wire_view(operation, "query", unsigned_query)}))
    plaintext = plaintext_bank_fields(operation, signed) if rules.part == "xml" and signed else []
    if plaintext:
        if settings.bank_public_key is None:
            # The engine fetches the key and prepares again when this is the only problem.
            errors.extend(FieldProblem(f"/xml/{field_name}", KEY_RULE, MISSING_BANK_KEY) for field_name in plaintext)
            signed = {**(signed or {}), **dict.fromkeys(plaintext, "")}  # never the plaintext
        else:
            signed, problems = encrypt_bank_fields(signed or {}, plaintext, settings.bank_public_key)
            errors.extend(problems)
    upload: tuple[str, str, bytes, str] | None = None
    if rules.part == "form":
        signed, upload = _upload_fields(operation, kwargs.get("form"), kwargs.get("files"), errors)
    try:
        body, fields = _signed_fields(settings, operation, rules, signed or {}, name, validate, errors)
    except ValidationError as invalid:
        if operation is not None and all(problem.rule == KEY_RULE for problem in invalid.errors):
            raise BankKeyNeeded(str(operation.spec["encrypt_key"])) from None  # nothing else is wrong
        raise
    headers: dict[str, str] = {}
    if upload is not None:
        texts = {n: text for n, value in fields.items() if (text := field_text(n, value)) is not None}
        body, headers["Content-Type"] = build_form(texts, *upload)
        target = build_target(url_path, unsigned_query)
    elif rules.part == "query":
        target = url_path + (f"?{qs}" if (qs := _query_string(fields)) else "")
        body = b""
    else:
        target = build_target(url_path, unsigned_query)
        headers["Content-Type"] = XML_CONTENT_TYPE
    merge_headers(headers, options["headers"], name)
    context = v2_ssl_context(settings) if rules.cert_required else None
    return V2Call(
        method,
        key,
        target,
        body,
        headers,
        fields,
        rules,
        hosts=tuple(settings.hosts_for(operation, v2=True)),
        operation=operation,
        ssl_context=context,
        idempotent=is_idempotent(method, headers, options.get("idempotent")),
        secret=settings.v2.secret,
        validate_response=settings.validate_responses,
    )


# -- finish -------------------------------------------------------------------------------
def _http_error(call: V2Call, status: int, content: bytes, response: V2Response) -> ApiError:
    fields: dict[str, str] = {}
    if is_xml_body(content):
        try:
            fields = decode_xml(content)
        except ValueError:
            fields = {}
    code = fields.get("return_code") or None
    message = fields.get("return_msg") or (None if fields else content[:200].decode("utf-8", errors="replace"))
    return ApiError(status, code, message or None, detail=fields or None, response=response)


def finish_v2_call(
    call: V2Call,
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    secret: KeyText | None,
    validate_response: bool = False,
    url: str | None = None,
) -> V2Response:
    """The verified answer, or an error (pure: tests feed it bytes).

    - HTTP 4xx/5xx: ``ApiError`` (with ``return_code``/``return_msg`` when the body is v2 XML);
    - a bill of a ``download`` operation (not XML): returned as ``content``;
    - XML: ``return_code`` FAIL -> ``ApiError``; then the sign is verified
      (``SignatureError``) unless the spec marks the answer ``unsigned``; then
      ``result_code`` FAIL -> ``ApiError`` (so a forged business failure is refused).

    Every ``ApiError`` carries the response (``.response``) and the decoded
    fields (``.detail``).
    """
    secret = seal(secret)  # this frame raises: hold the secret wrapped
    response = V2Response(
        status, headers, content, method=call.method, url=url or call.url, json_fields=call.rules.response_json
    )
    if not 200 <= status < 300:
        raise _http_error(call, status, content, response)
    if call.rules.download and not is_xml_body(content):
        return response
    if call.rules.json_answer and not is_xml_body(content):
        return _finish_json(call, response, content, secret)
    verify = not call.rules.unsigned_answer
    try:
        fields = parse_v2_response(content, secret=secret or "", verify_sign=verify, status_code=status)
    except ApiError as failed:
        failed.response = response
        raise
    response.data = fields
    response.verified = detect_sign_type(fields) if verify else None
    operation = call.operation
    if validate_response and operation is not None and operation.schema("response") is not None:
        for problem in validate_fields(operation, "response", fields, json_fields=call.rules.response_json):
            log.warning("answer of %s %s does not match its spec: %s", call.method, call.key, problem)
    return response


def _finish_json(call: V2Call, response: V2Response, content: bytes, secret: KeyText | None) -> V2Response:
    """A v2 answer in JSON (``appauth/getaccesstoken``): ``retcode`` 0 or ``ApiError``.

    Such answers carry no ``sign`` in the catalogue; one is verified when present,
    and demanded when the spec's answer lists it.
    """
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise ApiError(response.status_code, None, "the answer is not a JSON object", response=response)
    retcode = document.get("retcode")
    if retcode is not None and str(retcode) != "0":
        raise ApiError(response.status_code, str(retcode), document.get("retmsg"), detail=document, response=response)
    expected = call.operation is not None and "sign" in properties(call.operation, "response")
    if (document.get("sign") or expected) and not call.rules.unsigned_answer:
        verify_v2_fields(document, secret or "")
        response.verified = detect_sign_type(document)
    response.data = document
    return response


# -- browser-redirect pages ---------------------------------------------------------------------
def v2_redirect_url(
    settings: Settings, path: str | Node | Sequence[Segment], params: Mapping[str, Any], *, validate: bool | None = None
) -> str:
    """The signed URL of a v2 page the user's browser opens (``papay/entrustweb``...).

    ``path`` is ``"v2/papay/entrustweb"`` (the ``v2/`` may be left out), a chain
    node (``client.v2.papay.entrustweb``) or its segments. ``params`` are checked
    against the spec's ``query`` (unless ``validate=False``), completed and signed
    like a call; pages whose spec has no ``sign`` (``appauth/authindex``) get a
    plain query. The spec's ``base_url`` applies as for calls. Nothing is sent.
    """
    segments = _segments_of(path)
    key = "/".join(s.spec_text for s in segments)
    operation = settings.catalog.operation(key, "GET")
    rules = rules_for(operation, "GET")
    url_path, _, errors = fill_path(segments, {}, operation)
    check = settings.validate if validate is None else validate
    _, fields = _signed_fields(settings, operation, rules, params, f"GET {key}", check, errors)
    query = _query_string(fields)
    return (settings.own_host(operation) or settings.base_url) + url_path + (f"?{query}" if query else "")


def _segments_of(path: str | Node | Sequence[Segment]) -> tuple[Segment, ...]:
    if isinstance(path, str):
        text = path.strip("/")
        return tuple(path_segments(text if text.startswith("v2/") else "v2/" + text))
    from ..chain import Node

    if isinstance(path, Node):
        return path._segments
    return tuple(path)
