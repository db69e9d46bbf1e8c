"""`required` names the schema cannot satisfy: judged once an object is whole (after `allOf`).

- A name that the object does not declare (not in `properties`, matched by no
  `patternProperties`) is dropped and reported as `required-name-not-declared`. The source
  has such slips: copies of another request's list (`v2/pay/profitsharingreturnquery`
  requires the return request's fields), and near-misses of a declared name
  (`ubo_info_list` items require `id_doc_copy`, the field is `ubo_id_doc_copy`). A
  near-miss is mapped to the declared field it misspells when the object names all its
  fields with one prefix and the undeclared name is a declared one without it (`ubo_` +
  `id_doc_copy`); other names are dropped. Both are reported.
- A body that requires a URL template's name (`v3/marketing/favor/users/{openid}/coupons`
  requires `openid`) asks for the path value twice; the name is dropped from the body's
  `required` and reported as `path-value-required-in-body`.

Branches of `oneOf`/`anyOf`/`allOf` may require names their enclosing object declares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .keywords import Schema
from .repairs import Repairs

NOT_DECLARED = "required-name-not-declared"
PATH_VALUE = "path-value-required-in-body"
_BRANCHES = ("oneOf", "anyOf", "allOf")


def prune_required(schema: Schema, where: str, repairs: Repairs, path_names: Iterable[str] = ()) -> None:
    """Drop (or map) the `required` names of every object in `schema` that nothing declares."""
    templates = set(path_names)
    if templates and isinstance(schema.get("required"), list):
        doubled = [name for name in schema["required"] if name in templates]
        for name in doubled:
            repairs.add(PATH_VALUE, f"{where}: {name!r} is the URL template {{{name}}}; not required in the body")
        _set_required(schema, [name for name in schema["required"] if name not in doubled])
    _walk(schema, where, repairs, frozenset(), frozenset())


def declared_names(schema: Schema) -> tuple[frozenset[str], frozenset[str]]:
    """The property names and the property patterns an object schema (and its `allOf`) declares."""
    names = set(schema.get("properties") or {})
    patterns = set(schema.get("patternProperties") or {})
    for part in schema.get("allOf") or []:
        if isinstance(part, dict):
            more, more_patterns = declared_names(part)
            names |= more
            patterns |= more_patterns
    return frozenset(names), frozenset(patterns)


def _walk(schema: Schema, where: str, repairs: Repairs, outer: frozenset[str], outer_patterns: frozenset[str]) -> None:
    own, own_patterns = declared_names(schema)
    names, patterns = own | outer, own_patterns | outer_patterns
    required = schema.get("required")
    if isinstance(required, list) and required:
        kept: list[str] = []
        for name in required:
            if name in names or any(re.search(pattern, name) for pattern in patterns):
                kept.append(name)
                continue
            target = _near_miss(name, own)
            if target is not None:
                repairs.add(NOT_DECLARED, f"{where}: {name!r} is not declared; taken for {target!r}")
                kept.append(target)
            else:
                repairs.add(NOT_DECLARED, f"{where}: {name!r} is not declared; dropped")
        _set_required(schema, list(dict.fromkeys(kept)))
    for keyword in ("properties", "patternProperties", "$defs"):
        for name, sub in (schema.get(keyword) or {}).items():
            if isinstance(sub, dict):
                _walk(sub, f"{where}/{name}", repairs, frozenset(), frozenset())
    for keyword in ("items", "additionalProperties", "contentSchema"):
        if isinstance(schema.get(keyword), dict):
            token = "*" if keyword == "items" else keyword
            _walk(schema[keyword], f"{where}/{token}", repairs, frozenset(), frozenset())
    for keyword in _BRANCHES:
        for branch in schema.get(keyword) or []:
            if isinstance(branch, dict):
                _walk(branch, where, repairs, names, patterns)


def _near_miss(name: str, declared: frozenset[str]) -> str | None:
    """The declared name that is `name` behind the prefix every declared name of the object
    carries (`ubo_id_doc_copy` for `id_doc_copy` where all fields start `ubo_`), else None."""
    for known in declared:
        prefix = known[: -len(name)]
        if known.endswith("_" + name) and all(other.startswith(prefix) for other in declared):
            return known
    return None


def _set_required(schema: Schema, names: list[str]) -> None:
    if names:
        schema["required"] = names
    else:
        schema.pop("required", None)
