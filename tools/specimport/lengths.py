"""Impossible string lengths in the source, repaired by class (each reported).

- `minLength-written-for-maxLength`: a lone `minLength` above `LONE_MINIMUM_LIMIT` with no
  `maxLength` (`v3/marketing/busifavor/coupons/associate` `out_trade_no: {minLength: 128}`,
  documented as string[1,128]) is the upper bound written in the wrong keyword; it becomes
  `maxLength`. No field of the catalogue has a real minimum anywhere near that long.
- `maxLength-below-its-example`: the field's own example is longer than `maxLength`
  (`v3/catering/orders/sync-status` `login_token`, 32 characters under 25; v2 `mweb_url`,
  118 under 64). When the example passes every other keyword of the field and is at most
  `PLAUSIBLE_OVERRUN` times the limit, the example shows what the platform really sends,
  and the limit is raised to its length. Longer overruns are pasted prose or value lists
  (v2 `syncmchriskresult` `risk_type`); the example goes instead (example-breaking-its-schema).
- `minLength-above-maxLength`, `minLength-above-its-example`: a minimum no value (or not
  the field's own example) can meet is lowered to the maximum (or the example's length).
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

from .keywords import Schema, shorten
from .repairs import Repairs

LONE_MINIMUM_LIMIT = 64
PLAUSIBLE_OVERRUN = 2


def repair_lengths(schema: Schema, where: str, repairs: Repairs) -> None:
    """Make `minLength`/`maxLength` of one string schema possible, trusting plausible examples."""
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and high is None and low > LONE_MINIMUM_LIMIT:
        schema["maxLength"] = schema.pop("minLength")
        repairs.add("minLength-written-for-maxLength", f"{where}: minLength {low} -> maxLength {low}")
    texts = [example for example in schema.get("examples") or () if isinstance(example, str)]
    high = schema.get("maxLength")
    longest = max((len(text) for text in texts if _passes_the_rest(schema, text)), default=0)
    if isinstance(high, int) and high < longest <= PLAUSIBLE_OVERRUN * high:
        schema["maxLength"] = longest
        repairs.add("maxLength-below-its-example", f"{where}: maxLength {high} -> {longest} ({shorten(repr(texts))})")
    low, high = schema.get("minLength"), schema.get("maxLength")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        schema["minLength"] = high
        repairs.add("minLength-above-maxLength", f"{where}: minLength {low} -> {high} (maxLength {high})")
    shortest = min((len(text) for text in texts if _passes_the_rest(schema, text)), default=None)
    low = schema.get("minLength")
    if isinstance(low, int) and shortest is not None and low > shortest:
        schema["minLength"] = shortest
        repairs.add("minLength-above-its-example", f"{where}: minLength {low} -> {shortest}")


def _passes_the_rest(schema: Schema, example: str) -> bool:
    """True when `example` breaks no keyword of `schema` but its lengths."""
    rest = {k: v for k, v in schema.items() if k not in ("examples", "minLength", "maxLength")}
    try:
        return bool(Draft202012Validator(rest).is_valid(example))
    except Exception:  # a schema that cannot be checked alone ($ref into $defs) proves nothing
        return False
