"""A platform-key store in a folder: one sub-folder of PEM files per merchant.

Layout (what ``wechatpay certs download --out <root>/<mchid>/`` writes)::

    <root>/<mchid>/<SERIAL>.pem            a platform certificate, named by its upper-case hex serial
    <root>/<mchid>/PUB_KEY_ID_<...>.pem    a platform public key
    <root>/<mchid>/.version                the count of saves (compare-and-set); absent: 0
    <root>/<mchid>/.lease                  the refresh lease: owner and expiry (epoch seconds)
    <root>/<mchid>/.lock                   the file the store's writers lock (flock)

Every ``*.pem`` of a merchant's folder must be public material named by its key id: a
private key, a certificate under another serial or a file named otherwise is refused
(``ConfigError``), never skipped, so a key put there by mistake is noticed. Dot files
(temporary files, the store's own) are not read as keys.

Files are written to a temporary file in the same folder and moved into place with
``os.replace``, so a reader never sees a half-written file; a save writes the keys first,
removes the dropped ones, then the version, all under an exclusive lock that readers share.
:meth:`DirectoryKeyStore.load` re-reads a folder only when a file in it changed (name,
inode, size or modification time), so calling it often costs a few ``stat`` calls.

Processes share the store through POSIX file locks (``fcntl.flock``): one host, or a
network file system whose locks work. A lease expires by the wall clock of the host that
reads it; hosts sharing a folder need synchronised clocks.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConfigError
from .files import write_atomically
from .keyring import HEX_SERIAL, PUBLIC_KEY_ID_PREFIX
from .store import PlatformKeys, check_lease, check_merchant, index_name

__all__ = ["DirectoryKeyStore"]

_VERSION = ".version"
_LEASE = ".lease"
_LOCK = ".lock"
_Signature = tuple[tuple[str, int, int, int], ...]  # (name, inode, size, mtime_ns) per file read


class DirectoryKeyStore:
    """Platform keys in ``path/<mchid>/*.pem`` (see the module docstring); ``path`` is created on first save."""

    read_only = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[_Signature, PlatformKeys | None]] = {}

    def __repr__(self) -> str:
        return f"DirectoryKeyStore({str(self.path)!r})"

    def load(self, mchid: str) -> PlatformKeys | None:
        """The merchant's record; re-read only when a file of the folder changed."""
        folder = self._folder(mchid)
        signature = _signature(folder)
        with self._lock:
            cached = self._cache.get(mchid)
        if cached is not None and cached[0] == signature:
            return cached[1]
        with _locked(folder, exclusive=False):
            signature = _signature(folder)  # as it is under the lock, with what is read
            record = _read(folder) if signature else None
        with self._lock:
            self._cache[mchid] = (signature, record)
        return record

    def save(self, mchid: str, keys: PlatformKeys, expected_version: int) -> bool:
        folder = self._folder(mchid)
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder, exclusive=True):
            if _read_version(folder) != expected_version:
                return False
            wanted = {**keys.certificates, **keys.public_keys}
            for key_id, pem in wanted.items():
                target = folder / f"{key_id}.pem"
                if not _holds(target, pem):  # unchanged files keep their inode: readers' caches stay valid
                    write_atomically(target, pem)
            for path in _pem_files(folder):  # dropped keys go; a file named otherwise stays, for load to refuse
                if path.stem not in wanted and _is_key_id(path.stem):
                    path.unlink()
            write_atomically(folder / _VERSION, f"{expected_version + 1}\n")
        with self._lock:
            self._cache.pop(mchid, None)
        return True

    def acquire_lease(self, mchid: str, owner: str, ttl: float) -> bool:
        check_lease(mchid, owner, ttl)
        folder = self._folder(mchid)
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder, exclusive=True):
            now = time.time()
            holder = _read_lease(folder)
            if holder is not None and holder[0] != owner and holder[1] > now:
                return False
            write_atomically(folder / _LEASE, json.dumps({"owner": owner, "expires": now + ttl}))
            return True

    def release_lease(self, mchid: str, owner: str) -> bool:
        folder = self._folder(mchid)
        if not folder.is_dir():
            return False
        with _locked(folder, exclusive=True):
            holder = _read_lease(folder)
            if holder is None or holder[0] != owner or holder[1] <= time.time():
                return False
            (folder / _LEASE).unlink()
            return True

    def merchants_for(self, key_id: str) -> frozenset[str]:
        """The merchants whose folders hold ``<key_id>.pem`` (case and leading zeros of serials ignored)."""
        name = index_name(key_id)
        return frozenset(
            folder.name
            for folder in self._merchant_folders()
            if any(index_name(path.stem) == name for path in _pem_files(folder))
        )

    def _folder(self, mchid: str) -> Path:
        check_merchant(mchid)  # digits only: no path outside the root
        return self.path / mchid

    def _merchant_folders(self) -> list[Path]:
        try:
            entries = list(os.scandir(self.path))
        except FileNotFoundError:
            return []
        return [Path(entry.path) for entry in entries if entry.name.isdigit() and entry.is_dir()]


def _pem_files(folder: Path) -> list[Path]:
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [Path(entry.path) for entry in entries if entry.name.endswith(".pem") and not entry.name.startswith(".")]


def _is_key_id(name: str) -> bool:
    return name.startswith(PUBLIC_KEY_ID_PREFIX) or HEX_SERIAL.fullmatch(name) is not None


def _signature(folder: Path) -> _Signature:
    """What identifies the folder's content: () when it holds no record."""
    found = []
    for path in [*_pem_files(folder), folder / _VERSION]:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        found.append((path.name, stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(found))


def _read(folder: Path) -> PlatformKeys:
    certificates: dict[str, str] = {}
    public_keys: dict[str, str] = {}
    for path in _pem_files(folder):
        try:
            text = path.read_text("ascii")
        except UnicodeDecodeError:
            raise ConfigError("key_store", f"{path}: not PEM text") from None
        if "PRIVATE KEY" in text:
            raise ConfigError(
                "key_store", f"{path}: a private key; a key store holds only platform certificates and public keys"
            )
        if not _is_key_id(path.stem):
            raise ConfigError(
                "key_store", f"{path}: not named <SERIAL>.pem (upper-case hex) or {PUBLIC_KEY_ID_PREFIX}....pem"
            )
        (public_keys if path.stem.startswith(PUBLIC_KEY_ID_PREFIX) else certificates)[path.stem] = text
    try:
        keys = PlatformKeys(certificates, public_keys, version=_read_version(folder))
    except ConfigError as exc:
        raise ConfigError("key_store", f"in {folder}: {exc.reason}") from None
    return keys


def _read_version(folder: Path) -> int:
    try:
        text = (folder / _VERSION).read_text("ascii").strip()
    except FileNotFoundError:
        return 0
    if not text.isdigit():
        raise ConfigError("key_store", f"{folder / _VERSION}: not a version number")
    return int(text)


def _read_lease(folder: Path) -> tuple[str, float] | None:
    try:
        lease = json.loads((folder / _LEASE).read_text("utf-8"))
    except FileNotFoundError:
        return None
    except ValueError:
        return None  # unreadable: as if expired (only the store writes it, atomically)
    owner, expires = lease.get("owner"), lease.get("expires")
    if not isinstance(owner, str) or not isinstance(expires, (int, float)):
        return None
    return owner, float(expires)


def _holds(path: Path, text: str) -> bool:
    try:
        return path.read_text("ascii") == text
    except (FileNotFoundError, UnicodeDecodeError):
        return False


@contextlib.contextmanager
def _locked(folder: Path, *, exclusive: bool) -> Iterator[None]:
    """The folder's lock: exclusive for writers, shared for readers.

    A reader never creates the lock file (a read-only mount must stay readable); without
    one, no writer of this store has run there, and each file is whole anyway.
    """
    path = folder / _LOCK
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if exclusive else os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        if exclusive:
            raise
        yield
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock
