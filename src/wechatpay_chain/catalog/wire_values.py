"""Path and query values travel as text; their specs type them. Read them back as typed.

Kept apart from :mod:`validation` so that the call path does not import jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["query_view", "read_text_values"]

_INTEGER = re.compile(r"-?\d+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def read_text_values(schema: Mapping[str, Any] | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Path and query values travel as text; read each as the type its schema declares
    (``"42"`` for an integer, ``"a,b"`` for an array) so it can be validated as such."""
    properties = (schema or {}).get("properties") or {}
    read: dict[str, Any] = {}
    for name, value in values.items():
        kind = (properties.get(name) or {}).get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if isinstance(value, str):
            if "integer" in kinds and _INTEGER.fullmatch(value):
                value = int(value)
            elif "number" in kinds and _NUMBER.fullmatch(value):
                value = float(value)
            elif "boolean" in kinds and value.lower() in ("true", "false"):
                value = value.lower() == "true"  # text on the wire: 'TRUE' and 'true' alike
            elif "array" in kinds and "string" not in kinds:
                value = value.split(",") if value else []
        read[name] = value
    return read


def query_view(schema: Mapping[str, Any] | None, values: Mapping[str, Any]) -> dict[str, Any]:
    """Query values as validated: a single value where the spec types an array is a list
    of one (``fapiao_ability_type_list="A"`` goes on the wire exactly as ``["A"]`` does)."""
    properties = (schema or {}).get("properties") or {}
    view = dict(values)
    for name, value in values.items():
        kind = (properties.get(name) or {}).get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if "array" in kinds and value is not None and not isinstance(value, (list, tuple)):
            view[name] = [value]
    return view
