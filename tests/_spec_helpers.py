"""Reading the committed specs in tests: every file by key, and every schema node in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
SCHEMA_KEYS = ("path", "query", "headers", "form", "json", "xml", "response", "response_headers")


def load_specs() -> dict[str, dict[str, Any]]:
    """Every committed spec, by key."""
    loaded = {}
    for file in sorted(SPECS.rglob("*.yaml")):
        spec = yaml.load(file.read_text(encoding="utf-8"), Loader=Loader)
        loaded[spec["key"]] = spec
    return loaded


def schemas_of(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema of every operation of a spec, with `key method part` as its name."""
    for method, op in spec["operations"].items():
        for name in SCHEMA_KEYS:
            if name in op:
                yield f"{spec['key']} {method} {name}", op[name]
        if "meta" in op.get("upload", {}):
            yield f"{spec['key']} {method} upload.meta", op["upload"]["meta"]


def subschemas(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node with a readable location."""
    if not isinstance(schema, dict):
        return
    yield where, schema
    for keyword in ("properties", "patternProperties", "$defs"):
        for name, sub in (schema.get(keyword) or {}).items():
            yield from subschemas(sub, f"{where}/{name}")
    for keyword in ("items", "additionalProperties", "contentSchema"):
        yield from subschemas(schema.get(keyword), f"{where}/{keyword}")
    for keyword in ("oneOf", "anyOf", "allOf"):
        for index, sub in enumerate(schema.get(keyword) or []):
            yield from subschemas(sub, f"{where}/{keyword}/{index}")
