"""The v2 XML codec: flat ``<xml><name>text</name>...</xml>`` documents, both ways.

Encoding writes each field as one element, in the order given. Text that XML
would otherwise need to escape (``<``, ``>``, ``&``), non-ASCII text, JSON
values and the fields named in ``cdata`` go into CDATA sections, as the platform
writes them; a ``]]>`` inside is split across two sections. A carriage return is
the one character CDATA cannot carry (parsers turn it into a line feed even
there), so text holding one is escaped with ``&#13;`` instead. Characters XML 1.0
cannot represent at all (most C0 controls, lone surrogates, U+FFFE/U+FFFF) are
refused.

Decoding goes through defusedxml with every dangerous feature forbidden: a DTD,
an entity declaration or an external reference makes the whole body refused, so
entity-expansion bombs and ``file://`` fetches never run. The body size is capped
before parsing. Children of the root become ``{name: text}``. The platform's
answers are flat, with one exception in the catalogue (``gethbinfo``'s
``<hblist><hbinfo>...</hbinfo>...</hblist>``): a child that has children of its
own keeps its inner markup as its text, losslessly, to be read with
:func:`decode_xml_items`. A repeated top-level name is refused, because a sign
covers one value per name and parsers disagree on which duplicate wins.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import defusedxml  # type: ignore[import-untyped]  # no stubs shipped (types-defusedxml)
import defusedxml.ElementTree as SafeElementTree  # type: ignore[import-untyped]

from ..errors import XmlError
from ..v3.protocol import dump_json

__all__ = [
    "MAX_NESTING",
    "MAX_XML_BYTES",
    "XmlError",
    "decode_xml",
    "decode_xml_items",
    "encode_xml",
    "field_text",
    "is_xml_body",
]

# v2 answers are a few KiB; the cap bounds the parser's work on a hostile body.
MAX_XML_BYTES = 10 * 1024 * 1024
MAX_NESTING = 32  # levels below a top-level field; real answers use 2

# ASCII XML names only: every v2 field is one, and refusing the rest (``:``,
# spaces, non-ASCII) keeps a typo from turning into a namespace or a parse error.
_XML_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")
_NOT_XML_CHARACTER = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NEEDS_CDATA = re.compile("[<>&\x80-\U0010ffff]")
_UTF8_BOM = b"\xef\xbb\xbf"


def field_text(name: str, value: Any) -> str | None:
    """The text a field carries on the wire (``None``: the field is left out).

    ``str`` as is; ``int``/``float``/``Decimal`` in decimal notation; dicts, lists
    and tuples (the catalogue's ``x-json`` fields) as compact UTF-8 JSON, the same
    bytes as the v3 bodies. A ``bool`` is refused: v2 spells yes/no differently
    from field to field (``Y``/``N``, ``true``/``false``), so the caller must.
    Signing and encoding both use this, so the sign covers exactly what is sent.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise XmlError(f"<{name}>: a bool is ambiguous in v2, write the text the field expects")
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (Mapping, list, tuple)):
        plain = dict(value) if isinstance(value, Mapping) else list(value)
        try:
            return dump_json(plain).decode("utf-8")
        except (TypeError, ValueError) as exc:
            raise XmlError(f"<{name}>: the value cannot be written as JSON ({exc})") from None
    raise XmlError(f"<{name}>: cannot write a {type(value).__name__} in v2 XML")


def _check_name(name: object) -> str:
    if not isinstance(name, str) or not _XML_NAME.match(name):
        shown = repr(name) if len(repr(name)) <= 40 else repr(name)[:37] + "..."
        raise XmlError(
            f"{shown} is not a valid XML element name (ASCII letter or _ first, then letters, digits, _ . -)"
        )
    return name


def _element_text(text: str, as_cdata: bool) -> str:
    if "\r" in text:
        # CDATA cannot carry a CR through a conforming parser; a character reference can.
        return escape(text, {"\r": "&#13;"})
    if as_cdata or _NEEDS_CDATA.search(text):
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return text


def encode_xml(
    params: Mapping[str, Any],
    cdata: Collection[str] = (),
    json_fields: Collection[str] = (),
    *,
    root: str = "xml",
) -> bytes:
    """``<xml><name>text</name>...</xml>`` as UTF-8, fields in the given order.

    ``None`` values are left out; ``""`` is written as an empty element. Fields
    named in ``cdata`` or ``json_fields`` (the spec's ``x-cdata``/``x-json``) and
    every dict/list value are always written as CDATA. Raises :class:`XmlError`
    for a name that is not an XML name or text XML cannot represent.
    """
    _check_name(root)
    parts = [f"<{root}>"]
    for name, value in params.items():
        _check_name(name)
        text = field_text(name, value)
        if text is None:
            continue
        invalid = _NOT_XML_CHARACTER.search(text)
        if invalid is not None:
            code_point = ord(invalid.group())
            raise XmlError(f"<{name}>: character U+{code_point:04X} cannot be written in XML 1.0")
        as_cdata = name in cdata or name in json_fields or isinstance(value, (Mapping, list, tuple))
        parts.append(f"<{name}>{_element_text(text, as_cdata)}</{name}>")
    parts.append(f"</{root}>")
    return "".join(parts).encode("utf-8")


def _parse(data: bytes) -> ElementTree.Element:
    try:
        element: ElementTree.Element = SafeElementTree.fromstring(
            data, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except defusedxml.DTDForbidden:
        raise XmlError("refused: the body declares a DTD (<!DOCTYPE>)") from None
    except defusedxml.EntitiesForbidden:
        raise XmlError("refused: the body declares entities (entity-expansion bomb?)") from None
    except defusedxml.ExternalReferenceForbidden:
        raise XmlError("refused: the body refers to an external resource") from None
    except ElementTree.ParseError as exc:
        raise XmlError(f"not well-formed XML: {exc}") from None
    except (ValueError, LookupError) as exc:  # e.g. an unsupported encoding declaration
        raise XmlError(f"cannot parse the body: {type(exc).__name__}") from None
    return element


def _check_nesting(element: ElementTree.Element) -> None:
    # Iterative on purpose: serialising the inner markup recurses, so bound it first.
    pending = [(element, 0)]
    while pending:
        node, depth = pending.pop()
        if depth > MAX_NESTING:
            raise XmlError(f"<{element.tag}>: nested more than {MAX_NESTING} levels deep")
        pending.extend((child, depth + 1) for child in node)


def _element_value(element: ElementTree.Element) -> str:
    if len(element) == 0:
        return element.text or ""
    _check_nesting(element)
    head = escape(element.text or "")
    return head + "".join(ElementTree.tostring(child, encoding="unicode") for child in element)


def _children_as_fields(element: ElementTree.Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    for child in element:
        name = str(child.tag)
        if name in fields:
            raise XmlError(f"<{name}> appears more than once")
        fields[name] = _element_value(child)
    return fields


def decode_xml(body: bytes | str, *, root: str | None = "xml", max_bytes: int = MAX_XML_BYTES) -> dict[str, str]:
    """The fields of a v2 document, ``{name: text}``; raises :class:`XmlError`.

    ``root`` is the expected root element name (``None``: any). Empty elements
    give ``""``; a field with child elements gives its inner markup (see the
    module docstring); attributes, comments and processing instructions are
    ignored.
    """
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if len(data) > max_bytes:
        raise XmlError(f"the body is {len(data)} bytes, over the {max_bytes}-byte limit")
    element = _parse(data)
    if root is not None and element.tag != root:
        raise XmlError(f"the root element is <{element.tag}>, expected <{root}>")
    return _children_as_fields(element)


def decode_xml_items(markup: str, item: str) -> list[dict[str, str]]:
    """Read the repeated ``<item>`` records kept as a nested field's inner markup.

    ``decode_xml(answer)["hblist"]`` holds ``<hbinfo>...</hbinfo><hbinfo>...``;
    ``decode_xml_items(that, "hbinfo")`` gives one flat dict per record. Any
    other element at that level is refused with :class:`XmlError`.
    """
    data = f"<items>{markup}</items>".encode()
    if len(data) > MAX_XML_BYTES:
        raise XmlError(f"the markup is {len(data)} bytes, over the {MAX_XML_BYTES}-byte limit")
    element = _parse(data)
    records = []
    for child in element:
        if child.tag != item:
            raise XmlError(f"<{child.tag}> found where only <{item}> records are expected")
        records.append(_children_as_fields(child))
    return records


def is_xml_body(body: bytes) -> bool:
    """True when a body is a v2 XML document rather than a bill (CSV text or gzip).

    ``downloadbill``/``downloadfundflow`` answer a bill on success and ``<xml>``
    with ``return_code`` FAIL on error; only the first bytes are looked at.
    """
    head = body[:256].removeprefix(_UTF8_BOM).lstrip()
    return head.startswith((b"<xml", b"<?xml"))
