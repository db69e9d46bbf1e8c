"""The fast validity check never accepts what jsonschema refuses (checked on the whole catalogue)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from wechatpay_chain.catalog.fastcheck import compile_check
from wechatpay_chain.catalog.specs import PARTS, Catalog
from wechatpay_chain.catalog.validation import FORMAT_CHECKER
from wechatpay_chain.mock.examples import example_for


def _schemas() -> Iterator[tuple[str, dict[str, Any]]]:
    catalog = Catalog()
    for entry in catalog:
        operation = catalog.operation(entry.key, entry.method)
        assert operation is not None
        for part in (*PARTS, "response"):
            schema = operation.schema(part)
            if schema:
                yield f"{entry.method} {entry.key} {part}", dict(schema)


def _mutations(instance: Any) -> Iterator[Any]:
    """The instance, then copies with one thing broken or changed at each place."""
    yield instance
    if isinstance(instance, dict):
        for key in list(instance)[:12]:
            dropped = dict(instance)
            del dropped[key]
            yield dropped
            for replacement in (None, "", 0, 1.5, True, "x" * 300, [], {}, "2015-13-45"):
                changed = dict(instance)
                changed[key] = replacement
                yield changed
            for nested in _mutations(instance[key]):
                changed = dict(instance)
                changed[key] = nested
                yield changed
        yield {**instance, "unexpected_field": "x"}
    elif isinstance(instance, list) and instance:
        yield []
        yield [*instance, None]
        for nested in list(_mutations(instance[0]))[:20]:
            yield [nested]


def _compare(limit: int | None) -> tuple[int, int, int, list[str]]:
    compiled = unsupported = compared = 0
    disagreements: list[str] = []
    for where, schema in _schemas():
        check = compile_check(schema)
        if check is None:
            unsupported += 1
            continue
        compiled += 1
        validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
        for count, instance in enumerate(_mutations(copy.deepcopy(example_for(schema)))):
            if limit is not None and count >= limit:
                break
            compared += 1
            fast, slow = check(instance), validator.is_valid(instance)
            if fast != slow:
                disagreements.append(f"{where}: fast={fast} jsonschema={slow} for {str(instance)[:120]}")
                break
    return compiled, unsupported, compared, disagreements


def test_fast_check_agrees_with_jsonschema_on_the_catalogue() -> None:
    compiled, unsupported, compared, disagreements = _compare(limit=25)
    assert compiled > 1500 and unsupported < compiled / 20, (compiled, unsupported)
    assert compared > 40_000
    assert not disagreements, "\n".join(disagreements[:10])


@pytest.mark.slow
def test_fast_check_agrees_on_every_mutation() -> None:
    _, _, compared, disagreements = _compare(limit=None)
    assert compared > 100_000
    assert not disagreements, "\n".join(disagreements[:10])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=10,
)
SCHEMA = {
    "type": "object",
    "required": ["a"],
    "properties": {
        "a": {"type": "integer", "minimum": 1, "enum": [1, 2, 3]},
        "b": {"type": ["string", "null"], "maxLength": 3, "pattern": "^x"},
        "c": {"type": "array", "items": {"type": "number", "exclusiveMaximum": 10}, "maxItems": 2},
        "d": {"type": "boolean"},
        "e": {"type": "string", "format": "date-time"},
    },
    "patternProperties": {"^n_\\d+$": {"type": "string"}},
}


@settings(max_examples=500)
@given(JSON)
def test_fast_check_agrees_on_arbitrary_json(instance: Any) -> None:
    check = compile_check(SCHEMA)
    assert check is not None
    assert check(instance) == Draft202012Validator(SCHEMA, format_checker=FORMAT_CHECKER).is_valid(instance)


def test_unsupported_keywords_defer_to_jsonschema() -> None:
    assert compile_check({"oneOf": [{"type": "string"}, {"type": "integer"}]}) is None
    assert compile_check({"type": "string", "multipleOf": 2}) is None
    assert compile_check({"type": "nonsense"}) is None
