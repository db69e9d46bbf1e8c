"""Debug text of one attempt on the wire: the request and the answer, secrets masked.

Pure functions of what was sent and received (no I/O, no logging): ``attempts.py``
calls :func:`format_attempt` only when the ``wechatpay_chain`` logger is enabled for
DEBUG, so nothing here costs anything otherwise.

Masked, always:

- the ``signature="..."`` of ``Authorization``, the ``Wechatpay-Signature`` header,
  ``Proxy-Authorization``, ``Cookie``/``Set-Cookie``;
- v2 ``sign`` (in XML, in JSON, in a query);
- the fields a spec marks encrypted: ``encrypt``/``decrypt``/``decrypt_aead`` JSON
  pointers, ``encrypt_query`` parameters, v2 ``encrypt`` XML fields;
- the password of a URL with credentials (``http://user:***@proxy``);
- any secret value given (the APIv3 key, the v2 secret) wherever it appears.

Bodies are cut at :data:`BODY_LIMIT` characters (set it to show more or less).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from ..trust.crypto import Secret
from ..v3.fields import transform_pointer

__all__ = [
    "BODY_LIMIT",
    "MASK",
    "Masks",
    "WireRequest",
    "format_attempt",
    "mask_body",
    "mask_headers",
    "mask_text",
    "mask_url",
]

MASK = "***"
BODY_LIMIT = 4096  # characters of a body shown in a debug line; the rest is counted, not shown

_MASKED_HEADERS = frozenset({"wechatpay-signature", "proxy-authorization", "cookie", "set-cookie"})
_SIGNATURE_PARAM = re.compile(r'(signature\s*=\s*)("[^"]*"|[^,\s]*)', re.IGNORECASE)
_URL_CREDENTIALS = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s@]*@", re.IGNORECASE)


@dataclass(frozen=True)
class Masks:
    """What to hide in one operation's request and answer (from its spec)."""

    json_pointers: tuple[str, ...] = ()  # /name, /data/*/mobile
    query_names: tuple[str, ...] = ()  # encrypted or signed query parameters
    xml_fields: tuple[str, ...] = ()  # v2 fields: sign, enc_bank_no ...
    secrets: tuple[Secret, ...] = ()  # values hidden wherever they appear (wrapped: frames' reprs)

    @classmethod
    def for_spec(cls, spec: Mapping[str, Any] | None, *, v2: bool = False, secrets: Iterable[Any] = ()) -> Masks:
        spec = spec or {}
        pointers = [str(p) for key in ("encrypt", "decrypt", "decrypt_aead") for p in spec.get(key) or ()]
        query = [str(p).strip("/") for p in spec.get("encrypt_query") or ()]
        xml: list[str] = []
        if v2:
            xml = ["sign", *(p.strip("/") for p in pointers)]
            pointers.append("/sign")
            query.append("sign")
        plain = (s.reveal() if isinstance(s, Secret) else s for s in secrets)
        texts = (s.decode("utf-8", "replace") if isinstance(s, bytes) else str(s) for s in plain if s is not None)
        return cls(tuple(pointers), tuple(query), tuple(xml), tuple(Secret(t) for t in texts if len(t) >= 4))


@dataclass
class WireRequest:
    """The request of the current attempt, as it went on the wire (set by the sender)."""

    method: str
    url: str
    # Not in the repr: the signed Authorization must not show in a traceback's locals.
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)
    masks: Masks = field(default_factory=Masks)


def mask_text(text: str, masks: Masks = Masks()) -> str:
    """Secrets and URL passwords out of free text (an error message, a header value)."""
    for secret in masks.secrets:
        text = text.replace(secret.reveal(), MASK)
    return _URL_CREDENTIALS.sub(lambda m: m.group(1) + MASK + "@", text)


def mask_url(url: str, masks: Masks = Masks()) -> str:
    """The URL with its password and its masked query parameters hidden."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{hostport}" if ":" in userinfo else f"{MASK}@{hostport}"
    query = parts.query
    if query and masks.query_names:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = "&".join(
            f"{quote(name, safe='')}={MASK if name in masks.query_names else quote(value, safe='')}"
            for name, value in pairs
        )
    return mask_text(urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), masks)


def mask_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]], masks: Masks = Masks()) -> list[str]:
    """``Name: value`` lines with signatures and credentials hidden."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    lines = []
    for name, value in items:
        lower = name.lower()
        if lower in _MASKED_HEADERS:
            value = MASK
        elif lower == "authorization":
            scheme, _, params = value.partition(" ")
            value = f"{scheme} {_SIGNATURE_PARAM.sub(lambda m: m.group(1) + chr(34) + MASK + chr(34), params)}"
            if not _SIGNATURE_PARAM.search(params):
                value = f"{scheme} {MASK}"  # Basic, Bearer ...: the whole credential
        lines.append(f"{name}: {mask_text(str(value), masks)}")
    return lines


def _mask_json(document: Any, masks: Masks) -> Any:
    for pointer in masks.json_pointers:
        transform_pointer(document, pointer, lambda _: MASK)
    return document


def _mask_xml(text: str, masks: Masks) -> str:
    for name in masks.xml_fields:
        pattern = re.compile(rf"(<{re.escape(name)}>).*?(</{re.escape(name)}>)", re.DOTALL)
        text = pattern.sub(lambda m: m.group(1) + MASK + m.group(2), text)
    return text


def mask_body(body: bytes | None, masks: Masks = Masks(), limit: int | None = None) -> str:
    """The body as text with masked fields hidden, cut at ``limit`` characters."""
    if not body:
        return ""
    limit = BODY_LIMIT if limit is None else limit
    stripped = body.lstrip()
    if stripped[:2] == b"--":
        return f"[multipart body, {len(body)} bytes]"  # an upload: the file is not text
    if stripped[:1] in (b"{", b"["):
        try:
            text = json.dumps(_mask_json(json.loads(body), masks), ensure_ascii=False, separators=(",", ":"))
        except ValueError:
            text = body.decode("utf-8", "replace")
    elif stripped[:1] == b"<":
        text = _mask_xml(body.decode("utf-8", "replace"), masks)
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return f"[{len(body)} bytes, not text]"
        if masks.query_names and "=" in text and "\n" not in text:  # a form-encoded body
            text = mask_url("?" + text, masks)[1:]
    text = mask_text(text, masks)
    if len(text) > limit:
        return f"{text[:limit]}... [{len(body)} bytes in all]"
    return text


def format_attempt(
    request: WireRequest,
    *,
    attempt: int,
    elapsed: float,
    status: int | None,
    headers: Mapping[str, str] | Sequence[tuple[str, str]] | None,
    body: bytes | None,
    error: BaseException | None = None,
    will_retry: bool = False,
    limit: int | None = None,
) -> str:
    """A multi-line record of one attempt: a summary line, then ``>`` request and ``<`` answer lines."""
    masks = request.masks
    request_id = None
    if headers is not None:
        items = headers.items() if isinstance(headers, Mapping) else headers
        request_id = next((v for k, v in items if k.lower() == "request-id"), None)
    summary = (
        f"{request.method} {mask_url(request.url, masks)} -> {status if status is not None else '-'}"
        f" attempt={attempt} {elapsed * 1000:.1f}ms request_id={request_id}"
    )
    if error is not None:
        first_line = (str(error).splitlines() or [""])[0]
        summary += f" error={type(error).__name__}: {mask_text(first_line, masks)}"
    if will_retry:
        summary += " (retrying)"
    lines = [summary]
    lines += [f"> {line}" for line in mask_headers(request.headers, masks)]
    if request.body:
        lines.append(f"> {mask_body(request.body, masks, limit)}")
    if status is not None and headers is not None:
        lines.append(f"< HTTP {status}")
        lines += [f"< {line}" for line in mask_headers(headers, masks)]
        if body:
            lines.append(f"< {mask_body(body, masks, limit)}")
    return "\n".join(lines)
