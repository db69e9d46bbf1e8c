"""Client settings from the environment or a config file (used by the CLI too).

Environment (prefix ``WECHATPAY_``): ``MCHID``, ``SERIAL``, ``PRIVATE_KEY`` (a path,
``file://`` URL or PEM text), ``CERTS`` (``ID=path[,ID=path...]``), ``APIV3_KEY``,
``BASE_URL``. A file is TOML (or JSON) with the same names in lower case, ``certs``
being a table ``{ID = "path"}``.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigError

__all__ = ["client_kwargs_from_env", "client_kwargs_from_file"]

_SCALARS = ("mchid", "serial", "private_key", "apiv3_key", "base_url")


def _parse_certs(text: str, argument: str) -> dict[str, str]:
    certs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        serial, sep, location = item.partition("=")
        if not sep or not serial or not location:
            raise ConfigError(argument, "expected ID=path[,ID=path...]")
        certs[serial.strip()] = location.strip()
    return certs


def client_kwargs_from_env(prefix: str = "WECHATPAY_", environ: Any = None) -> dict[str, Any]:
    environ = os.environ if environ is None else environ
    kwargs: dict[str, Any] = {}
    for name in _SCALARS:
        value = environ.get(prefix + name.upper())
        if value:
            kwargs[name] = value
    certs = environ.get(prefix + "CERTS")
    if certs:
        kwargs["certs"] = _parse_certs(certs, prefix + "CERTS")
    if "mchid" not in kwargs:
        raise ConfigError(prefix + "MCHID", "is not set")
    return kwargs


def _beside(config: Path, value: Any) -> Any:
    """A relative key path in a config file is relative to the file, not to the shell."""
    if isinstance(value, str) and not value.startswith(("-----", "file://")) and not Path(value).is_absolute():
        return str(config.parent / value)
    return value


def client_kwargs_from_file(path: str | Path) -> dict[str, Any]:
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
    section = data.get("wechatpay", data)
    kwargs = {name: section[name] for name in _SCALARS if section.get(name)}
    certs = section.get("certs")
    if certs:
        if not isinstance(certs, dict):
            raise ConfigError("config", "certs must be a table of ID = path")
        # Relative paths in a config file are relative to the file, not to the shell.
        kwargs["certs"] = {serial: _beside(location, value) for serial, value in certs.items()}
    if "private_key" in kwargs:
        kwargs["private_key"] = _beside(location, kwargs["private_key"])
    if "mchid" not in kwargs:
        raise ConfigError("config", f"{location} has no mchid")
    return kwargs
