"""Python source for example values: double quotes, one key per line, short lists inline."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["py_literal"]

INLINE = 80


def py_literal(value: Any, indent: int = 0) -> str:
    """``value`` as Python source that evaluates back to it (``True``/``None``, bytes as ``b"..."``)."""
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = " " * (indent + 4)
        items = [f"{pad}{_string(str(k))}: {py_literal(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list | tuple):
        inner = [py_literal(v, indent + 4) for v in value]
        opening, closing = ("[", "]") if isinstance(value, list) else ("(", ")")
        flat = opening + ", ".join(inner) + ("," if isinstance(value, tuple) and len(inner) == 1 else "") + closing
        if len(flat) <= INLINE and "\n" not in flat:
            return flat
        pad = " " * (indent + 4)
        return opening + "\n" + "\n".join(f"{pad}{item}," for item in inner) + "\n" + " " * indent + closing
    if isinstance(value, bytes):
        return repr(value)
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    return _string(str(value))


def _string(text: str) -> str:
    # JSON's escapes are all valid in Python literals; non-ASCII text stays readable
    return json.dumps(text, ensure_ascii=False)
