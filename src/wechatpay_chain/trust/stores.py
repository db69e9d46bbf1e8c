"""Which platform-key store a ``key_store=`` setting names (``Client`` and ``Merchants`` keyword).

A store object is used as it is. Text, as a config file or ``WECHATPAY_KEY_STORE`` gives it:

* ``redis://...``, ``rediss://...``, ``unix://...``: a :class:`~.redis_store.RedisKeyStore`;
* anything else: a folder, a :class:`~.directory_store.DirectoryKeyStore`;
* either prefixed with ``read-only:`` (``read-only:redis://cache:6379/0``): the same store seen
  through :func:`~.store.read_only`, for processes that must never call ``v3/certificates``.

The store modules are imported here, when a store is named, so that a client without one
loads no X.509 or Redis code.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .crypto import Secret

if TYPE_CHECKING:
    from .store import KeyStore

__all__ = ["READ_ONLY_PREFIX", "open_key_store"]

READ_ONLY_PREFIX = "read-only:"
_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def open_key_store(setting: KeyStore | Secret | str | os.PathLike[str]) -> KeyStore:
    """The store ``setting`` names (see the module docstring); ``ConfigError`` for anything else."""
    from .store import KeyStore, read_only

    if isinstance(setting, Secret):  # a URL held wrapped (it may carry a password)
        return _open_sealed(setting)
    if isinstance(setting, KeyStore):
        return setting
    if isinstance(setting, os.PathLike):
        setting = os.fspath(setting)
    if not isinstance(setting, str) or not setting.strip():
        raise ConfigError("key_store", "expected a key store, a redis:// URL or a folder")
    text = setting.strip()
    if text.startswith(READ_ONLY_PREFIX):
        return read_only(open_key_store(text[len(READ_ONLY_PREFIX) :]))
    if text.startswith(_REDIS_SCHEMES):
        from .redis_store import RedisKeyStore

        return RedisKeyStore(text)
    from .directory_store import DirectoryKeyStore

    return DirectoryKeyStore(text)


def _open_sealed(sealed: Secret) -> KeyStore:
    """:func:`open_key_store` for text held wrapped: no local of these frames holds a Redis URL
    (error trackers record locals); a folder's path is no secret."""
    from .store import read_only

    if str(sealed.reveal()).strip().startswith(READ_ONLY_PREFIX):
        return read_only(_open_sealed(Secret(str(sealed.reveal()).strip()[len(READ_ONLY_PREFIX) :])))
    if str(sealed.reveal()).strip().startswith(_REDIS_SCHEMES):
        from .redis_store import RedisKeyStore

        return RedisKeyStore(Secret(str(sealed.reveal()).strip()))
    return open_key_store(str(sealed.reveal()))
