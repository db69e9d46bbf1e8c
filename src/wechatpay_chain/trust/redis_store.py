"""A platform-key store in Redis, shared by a fleet (``pip install 'wechatpay-chain[redis]'``).

Keys, under ``prefix`` (default ``wechatpay:``)::

    <prefix>keys:<mchid>      hash: version (count of saves), record (JSON: certificates, public_keys)
    <prefix>key-ids:<mchid>   set: the merchant's key ids, as indexed
    <prefix>key-index         hash: key id -> the merchants holding it, space-separated (routing)
    <prefix>lease:<mchid>     string: the lease owner, expiring by itself (PX)

A save is one Lua script (compare the version, write the record, move the index entries),
so readers see the old record or the new one and the index never points at keys a
merchant no longer has. The lease is ``SET NX PX`` with the owner's token; only that token
renews or deletes it (compare-and-delete, also a script). On Redis Cluster give a prefix
with a hash tag, ``prefix="{wechatpay}:"``, so that a script's keys share a slot.

A record read back is checked like any other :class:`~.store.PlatformKeys`: a private
key written into Redis by mistake is refused with ``ConfigError``.
"""

from __future__ import annotations

import json
import math
import threading
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from .crypto import Secret
from .store import PlatformKeys, check_lease, check_merchant, index_name

try:
    import redis
except ImportError as exc:  # an optional extra: say how to get it
    raise ImportError("the Redis stores need redis-py: pip install 'wechatpay-chain[redis]'", name=exc.name) from exc

if TYPE_CHECKING:
    from redis.commands.core import Script

__all__ = ["RedisKeyStore", "connect"]

DEFAULT_PREFIX = "wechatpay:"

_SAVE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
local function without(owners, mchid)
  local kept = {}
  for owner in string.gmatch(owners or '', '%S+') do
    if owner ~= mchid then table.insert(kept, owner) end
  end
  return kept
end
for _, old in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local kept = without(redis.call('HGET', KEYS[3], old), ARGV[3])
  if #kept == 0 then redis.call('HDEL', KEYS[3], old) else redis.call('HSET', KEYS[3], old, table.concat(kept, ' ')) end
end
redis.call('DEL', KEYS[2])
for i = 4, #ARGV do
  redis.call('SADD', KEYS[2], ARGV[i])
  local owners = without(redis.call('HGET', KEYS[3], ARGV[i]), ARGV[3])
  table.insert(owners, ARGV[3])
  redis.call('HSET', KEYS[3], ARGV[i], table.concat(owners, ' '))
end
redis.call('HSET', KEYS[1], 'version', current + 1, 'record', ARGV[2])
return 1
"""

_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def connect(client_or_url: redis.Redis | str | Secret) -> redis.Redis:
    """A redis-py client: the one given, or one for a ``redis://`` / ``rediss://`` / ``unix://`` URL
    (given wrapped, its password is unwrapped only as it is handed to redis-py)."""
    if isinstance(client_or_url, Secret):
        return redis.Redis.from_url(str(client_or_url.reveal()))
    if isinstance(client_or_url, str):
        return redis.Redis.from_url(client_or_url)
    return client_or_url


class RedisKeyStore:
    """Platform keys in Redis (see the module docstring): ``RedisKeyStore("redis://host:6379/0")``.

    ``client`` is a redis-py client (sync; with or without ``decode_responses``) or a URL.
    """

    read_only = False

    def __init__(self, client: redis.Redis | str | Secret, *, prefix: str = DEFAULT_PREFIX) -> None:
        self.redis = connect(client)
        self.prefix = prefix
        self._save: Script = self.redis.register_script(_SAVE)
        self._acquire: Script = self.redis.register_script(_ACQUIRE)
        self._release: Script = self.redis.register_script(_RELEASE)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[str, str], PlatformKeys]] = {}  # parsed once per stored text

    def __repr__(self) -> str:
        # getattr: a store whose __init__ raised is shown too (error trackers repr every local)
        return f"RedisKeyStore({getattr(self, 'redis', '(not connected)')!r}, prefix={getattr(self, 'prefix', None)!r})"

    def load(self, mchid: str) -> PlatformKeys | None:
        check_merchant(mchid)
        version, record = (_text(value) for value in self.redis.hmget(self._key("keys", mchid), ["version", "record"]))
        if version is None or record is None:
            return None
        with self._lock:
            cached = self._cache.get(mchid)
        if cached is not None and cached[0] == (version, record):
            return cached[1]
        keys = _parse(mchid, version, record)
        with self._lock:
            self._cache[mchid] = ((version, record), keys)
        return keys

    def save(self, mchid: str, keys: PlatformKeys, expected_version: int) -> bool:
        check_merchant(mchid)
        record = json.dumps({"certificates": dict(keys.certificates), "public_keys": dict(keys.public_keys)})
        names = sorted({index_name(key_id) for key_id in keys.key_ids})
        saved = self._save(
            keys=[self._key("keys", mchid), self._key("key-ids", mchid), self.prefix + "key-index"],
            args=[expected_version, record, mchid, *names],
        )
        return bool(saved)

    def acquire_lease(self, mchid: str, owner: str, ttl: float) -> bool:
        check_lease(mchid, owner, ttl)
        milliseconds = max(1, math.ceil(ttl * 1000))
        return bool(self._acquire(keys=[self._key("lease", mchid)], args=[owner, milliseconds]))

    def release_lease(self, mchid: str, owner: str) -> bool:
        check_merchant(mchid)
        return bool(self._release(keys=[self._key("lease", mchid)], args=[owner]))

    def merchants_for(self, key_id: str) -> frozenset[str]:
        return frozenset((_text(self.redis.hget(self.prefix + "key-index", index_name(key_id))) or "").split())

    def _key(self, kind: str, mchid: str) -> str:
        return f"{self.prefix}{kind}:{mchid}"


def _text(value: Any) -> str | None:
    """A reply as text, whether the client decodes responses or not."""
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _parse(mchid: str, version: str, record: str) -> PlatformKeys:
    try:
        data = json.loads(record)
    except ValueError:
        data = None
    if not (isinstance(data, dict) and version.isdigit()):
        raise ConfigError("key_store", f"Redis record of {mchid}: not a record this store wrote")
    try:
        return PlatformKeys(data.get("certificates", {}), data.get("public_keys", {}), version=int(version))
    except ConfigError as exc:
        raise ConfigError("key_store", f"Redis record of {mchid}: {exc.reason}") from None
