"""``client.certificates``: download, verify and refresh the platform certificates, through a key store.

``GET v3/certificates`` is the one answer a client may not be able to verify with
what it already trusts (the first download, a rotation): it is verified with the
certificates it delivers, after decrypting them with the APIv3 key, which only the
platform and the merchant know. The pure steps are in :mod:`.certificates`; the call
goes through the client's engine (one signed attempt, the answer checked here).

Every refresh goes through the client's key store (``Client(key_store=...)``; without one,
a :class:`~.store.MemoryKeyStore` of the client's own), so that the processes of a fleet
download once per rotation and adopt what one of them saved::

    load the merchant's record; it has what is needed (fresh, or the wanted serial)? adopt it
    read-only store (or downloads not allowed)? adopt whatever is stored, never download
    take the lease (another node holds it: wait for its save and adopt that; before a
      call, adopt what is stored now: the ring verifies, the call's time is not spent waiting)
      load again: saved meanwhile? adopt it
      download, merge into the record, compare-and-set save (lost: adopt the winner's)
    release the lease

Adopting is one assignment of the engine's trust ring (ring and encryption key swap
together); stored keys are added to the ring, expired certificates leave it.

Triggers: before a v3 call (the ring is empty and a store was given: adopt it; with
``auto_refresh_certs=True``: the newest certificate of the ring, configured or adopted,
nears expiry, checked at most hourly),
an answer or notification signed with a key the ring lacks (:meth:`Certificates.learn_key`:
adopt it from the store, or download at most once a minute), ``refresh()`` and
``wechatpay certs sync``. A trigger's failure never fails the call it runs in: it is logged
on the ``wechatpay_chain`` logger and counted (``failures``, ``last_error``); the call
goes on with the ring it has, and fails only if that ring cannot verify its answer.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import ConfigError
from ..naming import path_segments
from ..response import Response
from ..transport.aio import Timeout
from ..transport.driver import offload, pause
from ..v3.calls import error_from_answer
from .certificates import (
    REFRESH_MARGIN,
    PlatformCertificate,
    needs_refresh,
    parse_certificates_answer,
    write_pem_files,
)
from .keyring import HEX_SERIAL
from .store import KeyStore, MemoryKeyStore, PlatformKeys

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["LEASE_TTL", "MIN_REFRESH_INTERVAL", "UNKNOWN_KEY_INTERVAL", "Certificates"]

MIN_REFRESH_INTERVAL = 3600.0  # seconds between expiry checks that may download (rotation takes days)
UNKNOWN_KEY_INTERVAL = 60.0  # seconds between downloads for unknown serials (a forged serial costs one a minute)
LEASE_TTL = 30.0  # seconds a refreshing node holds the lease: one download, with margin; expires if it dies
POLL_INTERVAL = 0.1  # seconds between looks at the store while another node holds the lease

log = logging.getLogger("wechatpay_chain")
T = TypeVar("T")


class Certificates:
    """``client.certificates``: the platform certificates of one client's engine.

    Observable: ``downloads`` (``v3/certificates`` answers this client fetched), ``failures``
    and ``last_error`` (refreshes that failed in a trigger, which never fails a call),
    ``current`` (the certificates last adopted or downloaded). ``last_error`` is any exception
    a trigger met: this library's errors, or a store backend's (``redis.ConnectionError``,
    ``OSError``).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.current: list[PlatformCertificate] = []
        self.downloads = 0
        self.failures = 0
        self.last_error: Exception | None = None
        self._own_store: KeyStore | None = None
        self._last_attempt: float | None = None  # expiry trigger, on the client's clock
        self._last_download: float | None = None  # any download, on the monotonic clock
        self._node = f"{socket.gethostname()}:{os.getpid()}"
        self.monotonic: Callable[[], float] = time.monotonic  # tests move it

    @property
    def store(self) -> KeyStore:
        """The client's key store (``Client(key_store=...)``, or one of its own in memory)."""
        given = self._engine.key_store
        if given is not None:
            return given
        if self._own_store is None:
            self._own_store = MemoryKeyStore()
        return self._own_store

    # -- explicit use ----------------------------------------------------------------------
    async def download_async(self, within: float | None = None) -> list[PlatformCertificate]:
        """Fetch, decrypt and verify the platform certificates (nothing is trusted or saved yet).

        Refused (``ConfigError``, argument ``key_store``) with a read-only store: such a
        process never calls ``v3/certificates``. ``within``: seconds the download may take
        (what is left of a call that needs it), else the client's timeout.
        """
        engine = self._engine
        self._refuse_read_only()
        apiv3_key = engine.settings.apiv3_keys  # all of them during a reset, tried in order
        if apiv3_key is None:
            raise ConfigError("apiv3_key", "needed to decrypt the platform certificates")
        self._last_download = self.monotonic()
        prepared = engine.prepare_v3("GET", tuple(path_segments("v3/certificates")), {})
        limit = None if within is None else Timeout(total=max(within, 0.001))
        url, answer = await engine.exchange_once(prepared, limit)
        if not 200 <= answer.status < 300:
            response = Response(answer.status, answer.headers, answer.content, method="GET", url=url)
            raise error_from_answer(answer.status, answer.headers, answer.content, response)
        certificates = parse_certificates_answer(
            answer.headers, answer.content, apiv3_key, trusted=engine.trusted_keys, now=engine.clock.now
        )
        self.downloads += 1
        return certificates

    def _refuse_read_only(self) -> None:
        if self.store.read_only:
            raise ConfigError("key_store", "read-only: this process never calls v3/certificates")

    def download(self) -> list[PlatformCertificate]:
        return self._engine.transport.run_blocking(self.download_async())

    async def refresh_async(self) -> list[PlatformCertificate]:
        """Download under the store's lease, save, and trust the result; return the certificates.

        When another node holds the lease, its save is adopted instead of downloading again.
        Errors propagate (this is the explicit call, not a trigger); a read-only store refuses
        (``ConfigError``).
        """
        self._refuse_read_only()
        await self._update(force=True, may_download=True)
        return self.current

    def refresh(self) -> list[PlatformCertificate]:
        return self._engine.transport.run_blocking(self.refresh_async())

    async def sync_async(self, *, if_needed: bool = False) -> PlatformKeys | None:
        """``wechatpay certs sync``: refresh into the store (only when it nears expiry, with
        ``if_needed``); return the record now trusted (``None``: the store has none)."""
        self._refuse_read_only()
        return await self._update(force=not if_needed, may_download=True)

    def sync(self, *, if_needed: bool = False) -> PlatformKeys | None:
        return self._engine.transport.run_blocking(self.sync_async(if_needed=if_needed))

    def save(self, out_dir: str | Path, certificates: list[PlatformCertificate] | None = None) -> list[Path]:
        """Write ``<serial>.pem`` files (atomically) for the given or the last refreshed certificates."""
        return write_pem_files(certificates if certificates is not None else self.current, out_dir)

    # -- triggers (never fail a call) ---------------------------------------------------------
    async def refresh_if_needed(self) -> None:
        """Before a v3 call: adopt the store's record while nothing is trusted; with
        ``auto_refresh_certs``, refresh before the newest certificate nears expiry (at most hourly)."""
        engine = self._engine
        ring = engine.trusted_keys
        if not ring and engine.key_store is not None:
            await self._quietly(self._update(may_download=engine.auto_refresh, max_wait=0.0), "nothing trusted yet")
            return
        if not engine.auto_refresh or engine.settings.apiv3_key is None:
            return
        if ring.public_key_ids and not ring.certificate_serials:
            return  # public-key mode: nothing expires
        now = engine.clock.now()
        if self._last_attempt is not None and now - self._last_attempt < MIN_REFRESH_INTERVAL:
            return
        # The certificates trusted now (configured certs= or adopted), with their dates: a
        # process whose configured certificates are fresh never downloads on its first call.
        if not ring.certificates_expire_within(REFRESH_MARGIN, now):
            return
        self._last_attempt = now
        await self._quietly(self._update(may_download=True, max_wait=0.0), "the newest certificate nears expiry")

    async def learn_key(self, key_id: str, within: float | None = None) -> bool:
        """An answer or notification names ``key_id``, which the ring lacks: adopt it from the
        store, or (``auto_refresh_certs=True``, certificate serials) refresh under the lease, at
        most once a minute. ``True`` when the ring now has it: verify the same bytes again.
        ``within``: the seconds left of the call that asks; another node's lease is waited
        for no longer than that."""
        engine = self._engine
        last = self._last_download
        may_download = (
            engine.auto_refresh
            and engine.settings.apiv3_key is not None
            and HEX_SERIAL.fullmatch(key_id.upper()) is not None  # v3/certificates delivers no PUB_KEY_ID_
            and (last is None or self.monotonic() - last >= UNKNOWN_KEY_INTERVAL)
        )
        if engine.key_store is None and not may_download:
            return False  # nothing to learn from: the client's own store holds only its ring
        # Waits for another node's save (up to LEASE_TTL, or what is left of the call): the answer
        # in hand verifies only with the new key, which that node is fetching.
        update = self._update(wanted=key_id, may_download=may_download, max_wait=within, deadline_in=within)
        await self._quietly(update, f"unknown key {key_id}")
        return key_id in engine.trusted_keys

    async def _quietly(self, update: Any, why: str) -> None:
        # Any failure, not only ours: a store's backend raises its own errors (redis-py's
        # ConnectionError, OSError from a folder), and a trigger must not fail the call.
        try:
            await update
        except Exception as error:
            self.failures += 1
            self.last_error = error
            log.warning(
                "refreshing the platform keys of %s failed (%s): %s: %s; the keys trusted so far stay",
                self._engine.settings.mchid,
                why,
                type(error).__name__,
                error,
            )

    # -- the one refresh, under the lease --------------------------------------------------------
    async def _update(
        self,
        *,
        wanted: str | None = None,
        force: bool = False,
        may_download: bool,
        max_wait: float | None = None,
        deadline_in: float | None = None,
    ) -> PlatformKeys | None:
        """The refresh. When another node holds the lease, wait for its save up to ``max_wait``
        seconds (``None``: LEASE_TTL; ``0``: a trigger before a call adopts what is stored now),
        so that a call's own timeout is not spent on another node's download. ``deadline_in``:
        the seconds left of the call that needs the key, which bound this node's own download."""
        store = self.store
        mchid = self._engine.settings.mchid
        stored = await offload(store.load, mchid)
        if stored is not None and not force and self._has_what_is_needed(stored, wanted):
            return self._adopt(stored)
        if store.read_only or not may_download:
            return self._adopt(stored)
        seen = stored.version if stored is not None else 0
        owner = f"{self._node}:{uuid.uuid4().hex}"
        patience = LEASE_TTL if max_wait is None else min(LEASE_TTL, max(0.0, max_wait))
        deadline = self.monotonic() + patience
        while not await offload(store.acquire_lease, mchid, owner, LEASE_TTL):
            # Another node is refreshing: adopt its save rather than download a second time.
            if patience <= 0:
                return self._adopt(stored)
            await pause(POLL_INTERVAL)
            latest = await offload(store.load, mchid)
            if latest is not None and latest.version != seen:
                return self._adopt(latest)
            if self.monotonic() > deadline:  # out of patience (the call's time, or LEASE_TTL: a hung node)
                log.warning("platform keys of %s: the refresh lease stayed taken; keeping the stored keys", mchid)
                return self._adopt(latest)
        try:
            stored = await offload(store.load, mchid)  # under the lease: saved while we waited?
            if stored is not None and (
                stored.version != seen or (not force and self._has_what_is_needed(stored, wanted))
            ):
                return self._adopt(stored)
            certificates = await self.download_async(deadline_in)  # a call's own limit, when one asks
            base = stored if stored is not None else PlatformKeys()
            record = base.with_certificates(certificates, now=self._engine.clock.now())
            expected = stored.version if stored is not None else 0
            if await offload(store.save, mchid, record, expected):
                record = replace(record, version=expected + 1)  # what the store now holds
            else:
                winner = await offload(store.load, mchid)  # another writer saved first: its record
                record = winner if winner is not None else record
            log.info("platform keys of %s refreshed: %s", mchid, ", ".join(record.key_ids))
            return self._adopt(record)
        finally:
            await offload(store.release_lease, mchid, owner)

    def _has_what_is_needed(self, record: PlatformKeys, wanted: str | None) -> bool:
        if wanted is not None:
            return wanted in record.key_ring()
        certificates = record.platform_certificates()
        return not certificates or not needs_refresh(certificates, now=self._engine.clock.now)

    def _adopt(self, record: PlatformKeys | None) -> PlatformKeys | None:
        """Trust ``record``'s keys besides the ring's own (configured ``certs=`` stay); expired ones leave."""
        if record is None:
            return None
        engine = self._engine
        keys = record.key_ring()
        ring = engine.trusted_keys.with_certificates(record.platform_certificates())
        for key_id in record.public_keys:
            ring = ring.with_public_key(key_id, keys[key_id])
        engine.trusted_keys = ring.without_expired(engine.clock.now())  # one swap: ring and encryption key
        certificates = record.platform_certificates()
        if certificates:
            self.current = certificates
        return record
