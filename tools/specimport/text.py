"""Facts read out of the catalogue's prose: field labels, doc links, deprecation, upload limits.

Only short facts leave this module; the prose itself is never copied into a spec.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

LABEL_LIMIT = 40
"""Longest field label kept, in characters; a label is a name, not a paragraph."""

_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]*)\)")
_CLAUSE_END = re.compile(r"[，,。；;：:（(\n\r]|\s[-–—]\s")
_HTML_LINK = re.compile(r"<a\s[^>]*?href=[\"']([^\"']+)[\"'][^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_BARE_URL = re.compile(r"(?:h*t+p+s?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s<>()\[\]\"'`，。；、]*")
_SCHEME_TYPO = re.compile(r"^(?:(h*t+p+(s?)):)?//", re.IGNORECASE)
_DOC_LABEL = re.compile(r"文档")
_OFFICIAL_HOSTS = frozenset({"pay.weixin.qq.com", "pay.wechatpay.cn"})
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


def doc_link(description: object, external_docs: object = None) -> str | None:
    """The official documentation link of an operation, from its description or `externalDocs`.

    In order: `externalDocs.url`; a description link labelled as documentation
    (`[官方文档](...)`, `[官方JSAPI文档](...)`, also as `<a href="...">官方文档</a>`); else the
    first link to an official host (`pay.weixin.qq.com`, `pay.wechatpay.cn`), markdown, HTML,
    `<autolink>` or bare. A scheme the source mistypes (`hhttps://`) is read as `https://`.
    """
    if isinstance(external_docs, dict):
        url = _clean_url(external_docs.get("url"))
        if url:
            return url
    if not isinstance(description, str):
        return None
    links = [(label, url) for label, raw in _links(description) if (url := _clean_url(raw))]
    for label, url in links:
        if _DOC_LABEL.search(label):
            return url
    for _label, url in links:
        if urlsplit(url).hostname in _OFFICIAL_HOSTS:
            return url
    return None


def _links(text: str) -> list[tuple[str, str]]:
    """(label, url) of every link in `text`, in order: markdown, HTML anchors, autolinks, bare URLs."""
    found: list[tuple[int, str, str]] = []
    spans: list[tuple[int, int]] = []
    for pattern, label_group, url_group in ((_MARKDOWN_LINK, 1, 2), (_HTML_LINK, 2, 1)):
        for match in pattern.finditer(text):
            found.append((match.start(), match.group(label_group), match.group(url_group)))
            spans.append(match.span())
    for match in _BARE_URL.finditer(text):
        if not any(start <= match.start() < end for start, end in spans):
            found.append((match.start(), "", match.group(0)))
    return [(label, url) for _, label, url in sorted(found)]


def _scheme(match: re.Match[str]) -> str:
    return "http://" if match.group(1) and not match.group(2) else "https://"


def _clean_url(value: object) -> str | None:
    """An absolute http(s) URL, its mistyped scheme (`hhttps://`, `//host`) repaired; else None."""
    if not isinstance(value, str):
        return None
    url = _SCHEME_TYPO.sub(_scheme, value.strip(), count=1)
    url = url.rstrip(".,;:!?，。；：")
    return url if re.match(r"https?://[^/\s]+", url) else None


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
