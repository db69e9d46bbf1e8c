"""Per-client defaults for the fields merchants write into every payload.

``Client(..., defaults={"appid": "wx...", "notify_url": "https://..."})``: a call whose
operation's spec has one of those fields at the top level of its payload (the v3 JSON body
or query, the v2 XML, query or form fields), and whose caller gave none, gets the default.
The spec decides: nothing is written for a field the operation does not have, and the
caller's value always wins. Validation sees the filled payload.

The client's own merchant number is the default of ``mchid`` and ``sp_mchid`` (the
service provider signs its partner calls as itself); v2 fills its merchant-id fields
(``mch_id``...) the same way (v2/rules.py ``merchant_fields``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .errors import ConfigError

__all__ = ["OWN_ID_FIELDS", "client_defaults", "fill_defaults"]

OWN_ID_FIELDS = ("mchid", "sp_mchid")
"""v3 fields that name the calling merchant: filled from ``Client.mchid`` unless ``defaults`` say otherwise."""
_OTHER_MERCHANT_MARKS = ("目标", "收款", "创建方", "下管", "解管")
"""Words in a merchant-number field's label that make it another merchant's (门店收款商户号,
目标商户号, ...): such a field is never filled by default, so a call that forgot it is
refused by validation rather than sent on behalf of the caller's own number."""


def client_defaults(mchid: str, given: Mapping[str, Any] | None) -> Mapping[str, str]:
    """The defaults of one client: its merchant number, then ``given`` (which wins)."""
    if given is not None and not isinstance(given, Mapping):
        raise ConfigError("defaults", "must be a mapping of field names to values")
    for name, value in (given or {}).items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError("defaults", "keys must be top-level field names (appid, notify_url, sub_mchid...)")
        if not isinstance(value, str) or not value:
            raise ConfigError("defaults", f"the value of {name!r} must be a non-empty string")
    return MappingProxyType({**dict.fromkeys(OWN_ID_FIELDS, mchid), **(given or {})})


def fill_defaults(schema: Mapping[str, Any] | None, given: Any, defaults: Mapping[str, str]) -> Any:
    """``given`` (a mapping or ``None``) with the defaults the schema has a property for.

    Anything else (a list body, a string) is returned as it is, for validation to judge.
    A field the caller set to ``None`` counts as not given.
    """
    found = schema.get("properties") if schema is not None else None
    if not isinstance(found, Mapping) or not defaults or (given is not None and not isinstance(given, Mapping)):
        return given
    missing = {
        name: value
        for name, value in defaults.items()
        if name in found and (given is None or given.get(name) is None) and not _names_another_merchant(found[name])
    }
    if not missing:
        return given
    return {**missing, **{name: value for name, value in (given or {}).items() if name not in missing}}


def _names_another_merchant(field: Any) -> bool:
    title = field.get("title") if isinstance(field, Mapping) else None
    return isinstance(title, str) and "商户号" in title and any(mark in title for mark in _OTHER_MERCHANT_MARKS)
