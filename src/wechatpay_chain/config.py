"""Client settings from the environment or a config file (used by the CLI too).

Every keyword of ``Client(...)`` is a key: the accepted names are read from the
signature of ``Client.__init__``, so a new keyword is configurable the day it is added.

- **Environment**: ``WECHATPAY_<KEYWORD IN UPPER CASE>`` (``WECHATPAY_MCHID``,
  ``WECHATPAY_APIV3_KEY``, ``WECHATPAY_TIMEOUT``, ``WECHATPAY_BACKUP_URLS`` ...). An empty
  variable counts as unset. Strings are converted by the keyword's annotation:
  ``true/false/1/0/yes/no/on/off`` for booleans, numbers for numbers, ``a,b`` for lists,
  ``ID=path[,ID=path...]`` for ``certs``, ``total=30,connect=5,read=20`` (or one number)
  for ``timeout``, ``attempts=3,backoff=0.2`` (or a number of attempts, or ``none``) for
  ``retry``.
- **File**: TOML (or JSON, by the ``.json`` suffix) with the keywords as keys, at the top
  or in a ``[wechatpay]`` table; ``certs``, ``timeout`` and ``retry`` may be tables.
  Relative paths of file-valued keys (keys, certificates, ``cafile``, ``specs``) are
  relative to the file.

A key that is not a keyword is an error naming it (and the keyword it is probably a
typo of); so is a keyword that takes a Python object (``clock``, ``on_attempt``).
"""

from __future__ import annotations

import difflib
import inspect
import json
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = [
    "client_keywords",
    "client_kwargs_from_env",
    "client_kwargs_from_file",
    "client_kwargs_from_pairs",
    "convert_text",
]

ENV_PREFIX = "WECHATPAY_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class Keyword:
    """One ``Client`` keyword as configuration sees it: its name and annotation text."""

    name: str
    annotation: str

    @property
    def kind(self) -> str:
        """How text becomes a value: object, certs, timeout, retry, list, bool, int, float, str."""
        text = self.annotation
        if "Callable" in text or text.split(" |")[0] in ("Catalog", "Transport", "Signer"):
            return "object"  # a Python callable or a shared object: only as a keyword argument
        if text.startswith("Mapping"):
            return "certs"
        for kind in ("Timeout", "Retry"):
            if kind in text:
                return kind.lower()
        if text.startswith("Sequence"):
            return "list"
        for kind in ("bool", "int", "float"):
            if kind in text.replace("|", " ").split():
                return kind
        return "str"

    @property
    def nullable(self) -> bool:
        """``None`` means something for this keyword (``max_answer_bytes=None``: no cap)."""
        return "None" in self.annotation.replace("|", " ").split()

    @property
    def is_path(self) -> bool:
        """A file-valued keyword: a relative path in a config file is relative to the file."""
        return "Path" in self.annotation or "KeySource" in self.annotation


@cache
def client_keywords(init: Callable[..., Any]) -> dict[str, Keyword]:
    """The keywords a client class takes, from the signature of its ``__init__``
    (``client_keywords(Client.__init__)``: the signature is the one list of keywords)."""
    parameters = list(inspect.signature(init).parameters.values())[1:]  # not self
    return {
        p.name: Keyword(
            p.name, p.annotation if isinstance(p.annotation, str) else getattr(p.annotation, "__name__", "")
        )
        for p in parameters
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def _unknown(name: str, where: str, known: Mapping[str, Keyword], spell: Callable[[str], str]) -> ConfigError:
    close = difflib.get_close_matches(name.lower(), list(known), n=1)
    hint = f" (did you mean {spell(close[0])}?)" if close else ""
    return ConfigError(where, f"unknown key {spell(name)}{hint}; the keys are the keywords of Client(...)")


def _parse_certs(text: str, argument: str) -> dict[str, str]:
    certs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        serial, sep, location = item.partition("=")
        if not sep or not serial or not location:
            raise ConfigError(argument, "expected ID=path[,ID=path...]")
        certs[serial.strip()] = location.strip()
    return certs


def _number(text: str, argument: str, kind: type[int] | type[float] = float) -> Any:
    try:
        return kind(text.strip())
    except ValueError:
        raise ConfigError(argument, f"expected a {'whole ' if kind is int else ''}number") from None


def _pairs(text: str, argument: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(argument, "expected name=value[,name=value...]")
        pairs[name.strip()] = value.strip()
    return pairs


def _timeout(value: Any, argument: str) -> Any:
    from .transport.aio import Timeout

    if isinstance(value, str):
        if "=" not in value:
            return None if value.strip().lower() == "none" else _number(value, argument)
        value = _pairs(value, argument)
    if isinstance(value, Mapping):
        names = {f.name for f in fields(Timeout)}
        for name in value:
            if name not in names:
                raise ConfigError(argument, f"unknown part {name!r}; expected {', '.join(sorted(names))}")
        parts = {
            name: None if _is_none(part) else _number(str(part), f"{argument}.{name}") for name, part in value.items()
        }
        return Timeout(**parts)  # parts not given keep their defaults
    return value


def _retry(value: Any, argument: str) -> Any:
    from .retry import Retry

    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("none", "false", "off", "no"):
            return None
        if "=" not in text:
            return _number(text, argument, int)
        value = _pairs(value, argument)
    if isinstance(value, Mapping):
        kinds = {"attempts": int, "backoff": float, "max_backoff": float}
        parts: dict[str, Any] = {}
        for name, part in value.items():
            if name == "statuses":
                items = part.split(",") if isinstance(part, str) else part
                parts[name] = frozenset(_number(str(s), f"{argument}.statuses", int) for s in items)
            elif name in kinds:
                parts[name] = _number(str(part), f"{argument}.{name}", kinds[name])
            else:
                raise ConfigError(argument, f"unknown part {name!r}; expected attempts, backoff, max_backoff, statuses")
        return Retry(**parts)
    return value


def _is_none(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() == "none")


def convert_text(keyword: Keyword, text: str, argument: str) -> Any:
    """The value of ``keyword`` written as text (an environment variable, ``--set``)."""
    kind = keyword.kind
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ConfigError(argument, "expected true or false (1/0, yes/no, on/off)")
        return lowered in _TRUE
    if kind in ("int", "float"):
        if keyword.nullable and text.strip().lower() == "none":
            return None
        return _number(text, argument, int if kind == "int" else float)
    if kind == "list":
        return [item.strip() for item in text.split(",") if item.strip()]
    if kind == "certs":
        return _parse_certs(text, argument)
    if kind == "timeout":
        return _timeout(text, argument)
    if kind == "retry":
        return _retry(text, argument)
    return text


def _convert_value(keyword: Keyword, value: Any, argument: str) -> Any:
    """A value from a file: TOML/JSON types as they are, text converted, tables for the rich ones."""
    if isinstance(value, str) and keyword.kind not in ("str", "list"):
        return convert_text(keyword, value, argument)
    if keyword.kind == "timeout":
        return _timeout(value, argument)
    if keyword.kind == "retry":
        return _retry(value, argument)
    if keyword.kind == "certs" and not isinstance(value, Mapping):
        raise ConfigError(argument, "certs must be a table of ID = path")
    if keyword.kind == "list" and isinstance(value, str):
        return convert_text(keyword, value, argument)
    return value


def _refuse_objects(keyword: Keyword, argument: str) -> None:
    if keyword.kind == "object":
        raise ConfigError(argument, f"{keyword.name} takes a Python object: pass it as a keyword argument")


def client_kwargs_from_env(
    known: Mapping[str, Keyword], prefix: str = ENV_PREFIX, environ: Any = None, *, need_mchid: bool = True
) -> dict[str, Any]:
    """Keywords among ``known`` from ``<prefix><KEYWORD>`` variables; other ``<prefix>*`` variables are errors."""
    environ = os.environ if environ is None else environ
    kwargs: dict[str, Any] = {}
    for variable, text in environ.items():
        if not variable.startswith(prefix) or not text:
            continue
        name = variable[len(prefix) :].lower()
        keyword = known.get(name)
        if keyword is None:
            raise _unknown(name, "environment", known, lambda n: prefix + n.upper())
        _refuse_objects(keyword, variable)
        kwargs[name] = convert_text(keyword, text, variable)
    if need_mchid and "mchid" not in kwargs:
        raise ConfigError(prefix + "MCHID", "is not set")
    return kwargs


def client_kwargs_from_pairs(
    known: Mapping[str, Keyword], pairs: Iterable[str], argument: str = "--set"
) -> dict[str, Any]:
    """Keywords among ``known`` from ``keyword=value`` texts (the CLI's ``--set``), converted as in the environment."""
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name:
            raise ConfigError(argument, "expected keyword=value")
        keyword = known.get(name)
        if keyword is None:
            raise _unknown(name, argument, known, repr)
        _refuse_objects(keyword, f"{argument} {name}")
        kwargs[name] = convert_text(keyword, text, f"{argument} {name}")
    return kwargs


def _beside(config: Path, value: Any) -> Any:
    """A relative key path in a config file is relative to the file, not to the shell."""
    if isinstance(value, str) and not value.startswith(("-----", "file://")) and not Path(value).is_absolute():
        return str(config.parent / value)
    return value


def client_kwargs_from_file(
    known: Mapping[str, Keyword], path: str | Path, *, need_mchid: bool = True
) -> dict[str, Any]:
    """Keywords among ``known`` from a TOML or JSON file; a key that is no keyword is an error."""
    location = Path(path)
    try:
        text = location.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("config", f"cannot read {location}: {exc.strerror}") from None
    try:
        data = json.loads(text) if location.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if location.suffix == ".json" else "TOML"
        raise ConfigError("config", f"{location} is not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("config", f"{location} must hold a table of keys")
    section = data.get("wechatpay", data)
    kwargs: dict[str, Any] = {}
    for name, value in section.items():
        keyword = known.get(name)
        if keyword is None:
            raise _unknown(name, f"config {location}", known, repr)
        _refuse_objects(keyword, name)
        if value is None and keyword.nullable and keyword.kind in ("int", "float"):
            kwargs[name] = None  # JSON null: the keyword's None (max_answer_bytes: no cap)
            continue
        if value is None or value == "":
            continue
        value = _convert_value(keyword, value, name)
        if keyword.is_path:
            if keyword.kind == "certs":
                value = {serial: _beside(location, item) for serial, item in value.items()}
            elif isinstance(value, list):
                value = [_beside(location, item) for item in value]
            else:
                value = _beside(location, value)
        kwargs[name] = value
    if need_mchid and "mchid" not in kwargs:
        raise ConfigError("config", f"{location} has no mchid")
    return kwargs
