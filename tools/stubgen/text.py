"""Small text helpers shared by the stub writers: names, literals, docstrings."""

from __future__ import annotations

import json
import keyword
import re
import unicodedata

__all__ = ["docstring", "is_plain_name", "pascal", "py_string", "width"]

_WORD = re.compile(r"[A-Za-z0-9]+")


def pascal(text: str) -> str:
    """``return-orders`` -> ``ReturnOrders``; ``{out_trade_no}`` -> ``OutTradeNo``; keeps inner capitals."""
    words = _WORD.findall(text)
    name = "".join(word[:1].upper() + word[1:] for word in words)
    return name if name and not name[0].isdigit() else "N" + name


def is_plain_name(name: str) -> bool:
    """A name usable as a class attribute or keyword argument."""
    return name.isidentifier() and not keyword.iskeyword(name)


def py_string(text: str) -> str:
    """A double-quoted Python literal (JSON escapes are valid Python escapes)."""
    return json.dumps(text, ensure_ascii=False)


def docstring(text: str, indent: str, limit: int = 120) -> str:
    """A docstring for ``text`` at ``indent``, wrapped at spaces to stay within ``limit`` columns.

    Quotes and backslashes are made harmless. A single long word (a URL, a path)
    keeps its own line, which line-length checks accept.
    """
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"').strip()
    if text.endswith('"'):
        text += " "
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines.extend(_wrap(paragraph, limit - len(indent) - 3) or [""])
    if len(lines) == 1 and width(lines[0]) + len(indent) + 6 <= limit:
        return f'{indent}"""{lines[0]}"""'
    body = "\n".join(f"{indent}{line}".rstrip() for line in lines[1:])
    return f'{indent}"""{lines[0]}\n{body}\n{indent}"""' if body else f'{indent}"""{lines[0]}\n{indent}"""'


def _wrap(paragraph: str, room: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in paragraph.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and width(candidate) > room:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def width(line: str) -> int:
    """Display width as ruff measures it: wide East Asian characters count two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)
