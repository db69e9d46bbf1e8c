"""Facts read out of the catalogue's prose: field labels, doc links, deprecation, upload limits.

Only short facts leave this module; the prose itself is never copied into a spec.
"""

from __future__ import annotations

import re

LABEL_LIMIT = 40
"""Longest field label kept, in characters; a label is a name, not a paragraph."""

_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_CLAUSE_END = re.compile(r"[，,。；;：:（(\n\r]|\s[-–—]\s")
_DOC_LABEL = re.compile(r"文档")
_OFFICIAL_HOST = "pay.weixin.qq.com"
# Words the catalogue would use to retire an API; none of the 2026-08 operations uses them in
# prose (retirement is flagged with `deprecated: true` there), but newer copies may.
_RETIRED = re.compile(r"已废弃|已下线|已停用|已弃用|停止维护|不再维护|接口已关闭")
_FILE_TYPES = ("jpeg", "jpg", "png", "bmp", "gif", "pdf", "ofd", "csv", "txt", "mp4", "avi", "mov", "wmv")
_SUPPORTED_TYPES = re.compile(r"支持([A-Za-z0-9、，,\s和及或/]+?)(?:等)?格式")
_TYPE_SIZE = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]+)文件大小")
_SIZE = re.compile(r"(?:不能超过|不超过|不得超过|小于|最大)\s*(\d+(?:\.\d+)?)\s*(MB|M|KB|K)(?![A-Za-z])", re.IGNORECASE)
_UNIT_BYTES = {"m": 1024 * 1024, "mb": 1024 * 1024, "k": 1024, "kb": 1024}


def short_label(description: object) -> str | None:
    """The first clause of a description, trimmed to a field label.

    `单品优惠活动该字段必传，JSON格式字符串` -> `单品优惠活动该字段必传`;
    `code展示模式(NOT_SHOW：不展示code ...)` -> `code展示模式`.
    """
    if not isinstance(description, str):
        return None
    text = _MARKDOWN_LINK.sub(r"\1", description).replace("**", "").replace("`", "")
    clause = _CLAUSE_END.split(text.strip(), maxsplit=1)[0].strip()
    if not clause:
        return None
    if len(clause) > LABEL_LIMIT:
        return clause[:LABEL_LIMIT].rstrip() + "…"
    return clause


def doc_link(description: object) -> str | None:
    """The official documentation link in an operation's description markdown.

    Prefers a link labelled as documentation (`[官方文档](...)`, `[官方JSAPI文档](...)`),
    else the first link to the official site.
    """
    if not isinstance(description, str):
        return None
    links = _MARKDOWN_LINK.findall(description)
    for label, url in links:
        if _DOC_LABEL.search(label) and url.startswith("http"):
            return str(url)
    for _label, url in links:
        if _OFFICIAL_HOST in url:
            return str(url)
    return None


def says_retired(*texts: object) -> bool:
    """True when a summary or description says the API is retired (已废弃, 已下线 ...)."""
    return any(isinstance(text, str) and _RETIRED.search(text) for text in texts)


def upload_extensions(*texts: object) -> list[str]:
    """File extensions an upload accepts, when the prose lists them.

    Reads `只支持JPG、BMP、PNG格式` and `PDF文件大小不能超过7.5M` (which names a type too).
    """
    found: list[str] = []
    for text in texts:
        if not isinstance(text, str):
            continue
        spans = _SUPPORTED_TYPES.findall(text) + _TYPE_SIZE.findall(text)
        for span in spans:
            for word in re.split(r"[、，,\s和及或/]+", span.lower()):
                if word in _FILE_TYPES and word not in found:
                    found.append(word)
    return found


def upload_max_size(*texts: object) -> int | None:
    """The largest file size, in bytes, the prose allows (`文件大小不能超过2M`), if it says."""
    sizes = [
        int(float(number) * _UNIT_BYTES[unit.lower()])
        for text in texts
        if isinstance(text, str)
        for number, unit in _SIZE.findall(text)
    ]
    return max(sizes) if sizes else None
