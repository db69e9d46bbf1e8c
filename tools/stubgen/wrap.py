"""Fold generated lines that pass the line limit, the way a formatter would.

Generated names follow the URL path, so some annotations are long. A line is
broken at its first bracket pair: the inside goes on lines of its own, split at
top-level commas (or ``|`` of a union), each piece folded again if still too long.
Inside brackets Python needs no continuation marks, so every result is valid code.
"""

from __future__ import annotations

from .text import width

__all__ = ["fold_text"]

LIMIT = 120
_PAIRS = {"[": "]", "(": ")"}


def fold_text(text: str, limit: int = LIMIT) -> str:
    """Fold every over-long code line of ``text``; docstrings and comments stay as they are."""
    out: list[str] = []
    in_docstring = False
    for line in text.split("\n"):
        quotes = line.count('"""')
        if in_docstring or line.lstrip().startswith(('"""', "#")) or width(line) <= limit:
            out.append(line)
        else:
            out.extend(fold_line(line, limit))
        if quotes % 2 == 1:
            in_docstring = not in_docstring
    return "\n".join(out)


def fold_line(line: str, limit: int = LIMIT) -> list[str]:
    code, comment = _split_comment(line)
    span = _first_pair(code)
    if span is None:
        return _parenthesize(code, comment, limit)
    start, end = span
    indent = " " * (len(code) - len(code.lstrip()))
    inner = code[start + 1 : end]
    pieces, separator = _split_top(inner, ","), ","
    if len(pieces) == 1:
        pieces, separator = _split_top(inner, "|"), "|"
    head = code[: start + 1] + (f"  {comment}" if comment else "")
    lines = [head]
    for number, piece in enumerate(pieces):
        piece = piece.strip()
        # a union continues with "| " on the next line; a list keeps its trailing comma
        lead = "| " if separator == "|" and number else ""
        text = f"{indent}    {lead}{piece}" + ("," if separator == "," else "")
        lines.extend(fold_line(text, limit) if width(text) > limit else [text])
    lines.append(indent + code[end:])
    return lines


def _parenthesize(code: str, comment: str, limit: int) -> list[str]:
    """``name: VeryLongName`` -> ``name: (`` / ``VeryLongName`` / ``)``; ``Alias = VeryLongName`` alike.

    Other lines stay as they are.
    """
    for mark in (": ", " = "):
        name, found, value = code.partition(mark)
        if found and name.strip().isidentifier() and " " not in value.strip():
            indent = " " * (len(name) - len(name.lstrip()))
            opening = f"{name}{mark}(" + (f"  {comment}" if comment else "")
            return [opening, f"{indent}    {value.strip()}", f"{indent})"]
    return [code + (f"  {comment}" if comment else "")]


def _split_comment(line: str) -> tuple[str, str]:
    """Code and its ``# comment`` (the generator never puts ``#`` inside strings)."""
    if "  # " in line:
        code, comment = line.split("  # ", 1)
        return code, "# " + comment
    return line, ""


def _first_pair(code: str) -> tuple[int, int] | None:
    """The first bracket that opens and closes on this line and has something inside."""
    stack: list[tuple[str, int]] = []
    quote = ""
    for index, char in enumerate(code):
        if quote:
            quote = "" if char == quote and code[index - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char in _PAIRS:
            stack.append((char, index))
        elif char in _PAIRS.values() and stack:
            _, start = stack.pop()
            if not stack and index > start + 1:
                return start, index
    return None


def _split_top(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` outside brackets and strings."""
    pieces: list[str] = []
    depth, quote = 0, ""
    current: list[str] = []
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote and text[index - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif char == separator and depth == 0:
            pieces.append("".join(current))
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        pieces.append("".join(current))
    return pieces
