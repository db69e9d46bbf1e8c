"""What each platform-key store does beyond the shared contract: files on disk, records in Redis."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from _certs_helpers import certificate_pem, mint_certificate, private_pem, public_pem, rsa_key

from wechatpay_chain.cli import main
from wechatpay_chain.errors import ConfigError
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.trust.certificates import PlatformCertificate, write_pem_files
from wechatpay_chain.trust.directory_store import DirectoryKeyStore
from wechatpay_chain.trust.store import PlatformKeys, read_only

MCHID = "1900000109"
SERIAL = 0x5157F09EFDC096DE15EBE81A47057A72
PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"


def certificate(name: str, serial: int = SERIAL) -> PlatformCertificate:
    return PlatformCertificate.from_pem(certificate_pem(mint_certificate(rsa_key(name), serial)))


# --- the directory store ------------------------------------------------------------------------------


def test_reads_what_certs_download_writes(mock: MockPlatform, tmp_path: Path) -> None:
    (tmp_path / "merchant_key.pem").write_text(mock.merchant_private_key_pem)
    (tmp_path / "platform.pem").write_text(mock.platform_public_key_pem)
    config = tmp_path / "wechatpay.toml"
    config.write_text(
        f'mchid = "{mock.mchid}"\nserial = "{mock.merchant_serial}"\nprivate_key = "merchant_key.pem"\n'
        f'apiv3_key = "{mock.apiv3_key}"\nbase_url = "{mock.base_url}"\n'
        f'[certs]\n"{mock.public_key_id}" = "platform.pem"\n'
    )
    root = tmp_path / "keys"
    assert main(["--config", str(config), "certs", "download", "--out", str(root / mock.mchid)]) == 0
    store = DirectoryKeyStore(root)
    loaded = store.load(mock.mchid)
    assert loaded is not None and loaded.version == 0 and list(loaded.certificates) == [mock.certificate_serial]
    assert store.merchants_for(mock.certificate_serial) == {mock.mchid}
    assert store.save(mock.mchid, loaded, 0)  # version 0: never saved through a store
    assert (root / mock.mchid / ".version").read_text() == "1\n"


def test_picks_up_a_file_another_process_wrote(tmp_path: Path) -> None:
    store = DirectoryKeyStore(tmp_path)
    write_pem_files([certificate("platform")], tmp_path / MCHID)
    first = store.load(MCHID)
    assert first is not None and store.load(MCHID) is first  # unchanged: not read again
    pem = tmp_path / "next.pem"
    pem.write_text(certificate("next", 0x7B77).pem)
    script = (
        "import sys; from wechatpay_chain.trust.certificates import PlatformCertificate, write_pem_files;"
        "write_pem_files([PlatformCertificate.from_pem(open(sys.argv[1]).read())], sys.argv[2])"
    )
    subprocess.run([sys.executable, "-c", script, str(pem), str(tmp_path / MCHID)], check=True, timeout=60)
    second = store.load(MCHID)
    assert second is not None and set(second.certificates) == {format(SERIAL, "X"), "7B77"}
    (tmp_path / MCHID / f"{format(SERIAL, 'X')}.pem").unlink()
    third = store.load(MCHID)
    assert third is not None and list(third.certificates) == ["7B77"]


def test_a_reader_never_sees_a_half_written_file(tmp_path: Path) -> None:
    """An outside writer replacing a large file over and over, without the store's lock."""
    big = tmp_path / "big.pem"  # a certificate followed by 200 KiB of comment lines: slow to write
    big.write_text(certificate("platform").pem + ("# padding\n" * 20_000))
    script = (
        "import sys, shutil, os\n"
        "for index in range(60):\n"
        "    shutil.copyfile(sys.argv[1], sys.argv[2] + '.tmp'); os.replace(sys.argv[2] + '.tmp', sys.argv[2])\n"
    )
    target = tmp_path / "keys" / MCHID / f"{format(SERIAL, 'X')}.pem"
    target.parent.mkdir(parents=True)
    target.write_text(big.read_text())
    writer = subprocess.Popen([sys.executable, "-c", script, str(big), str(target)])
    store, loads = DirectoryKeyStore(tmp_path / "keys"), 0
    while writer.poll() is None:
        loaded = store.load(MCHID)  # a torn file would raise ConfigError
        assert loaded is not None and loaded.key_ids == (format(SERIAL, "X"),)
        loads += 1
    assert writer.wait() == 0 and loads


def test_a_private_key_in_the_folder_is_refused_with_its_path(tmp_path: Path) -> None:
    folder = tmp_path / MCHID
    write_pem_files([certificate("platform")], folder)
    mistake = folder / "merchant_key.pem"
    mistake.write_text(private_pem(rsa_key("merchant")))
    with pytest.raises(ConfigError, match=r"merchant_key\.pem: a private key; a key store holds only") as caught:
        DirectoryKeyStore(tmp_path).load(MCHID)
    assert "MII" not in str(caught.value)
    mistake.write_text(public_pem(rsa_key("merchant")))  # public, but named by no key id
    with pytest.raises(
        ConfigError, match=r"merchant_key.pem: not named <SERIAL>.pem \(upper-case hex\) or PUB_KEY_ID_"
    ):
        DirectoryKeyStore(tmp_path).load(MCHID)
    mistake.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match=r"merchant_key\.pem: not PEM text"):
        DirectoryKeyStore(tmp_path).load(MCHID)


def test_temporary_and_store_files_are_not_keys(tmp_path: Path) -> None:
    store = DirectoryKeyStore(tmp_path)
    assert store.save(MCHID, PlatformKeys.of([certificate("platform")]), 0)
    assert store.acquire_lease(MCHID, "node", 30)
    (tmp_path / MCHID / f".{format(SERIAL, 'X')}.pem.abc.tmp").write_text("half a cert")
    (tmp_path / MCHID / "README").write_text("not a key")
    loaded = store.load(MCHID)
    assert loaded is not None and loaded.key_ids == (format(SERIAL, "X"),) and loaded.version == 1
    files = {path.name: path.stat().st_mode & 0o777 for path in (tmp_path / MCHID).iterdir()}
    assert files[f"{format(SERIAL, 'X')}.pem"] == 0o644


def test_a_read_only_mount_is_read_without_writing(tmp_path: Path) -> None:
    folder = tmp_path / MCHID
    write_pem_files([certificate("platform")], folder)
    before = sorted(path.name for path in folder.iterdir())
    folder.chmod(0o555)  # as a read-only volume (root ignores modes: the listing below checks too)
    try:
        worker = read_only(DirectoryKeyStore(tmp_path))
        loaded = worker.load(MCHID)
        assert loaded is not None and worker.merchants_for(format(SERIAL, "X")) == {MCHID}
        assert worker.load("1900000999") is None
    finally:
        folder.chmod(0o755)
    assert sorted(path.name for path in folder.iterdir()) == before  # no lock file, no cache file


def test_a_broken_version_or_lease_file(tmp_path: Path) -> None:
    store = DirectoryKeyStore(tmp_path)
    assert store.save(MCHID, PlatformKeys(), 0)
    (tmp_path / MCHID / ".version").write_text("two")
    with pytest.raises(ConfigError, match=r"\.version: not a version number"):
        store.load(MCHID)
    (tmp_path / MCHID / ".lease").write_text("{not json")
    assert store.acquire_lease(MCHID, "node", 30)  # unreadable: as if expired
    (tmp_path / MCHID / ".lease").write_text(json.dumps({"owner": 1}))
    assert store.acquire_lease(MCHID, "other", 30)
    assert not store.release_lease("1900000999", "other") and repr(store).startswith("DirectoryKeyStore(")


def test_an_unchanged_key_file_keeps_its_inode(tmp_path: Path) -> None:
    store = DirectoryKeyStore(tmp_path)
    keys = PlatformKeys.of([certificate("platform")])
    assert store.save(MCHID, keys, 0)
    path = tmp_path / MCHID / f"{format(SERIAL, 'X')}.pem"
    inode = path.stat().st_ino
    assert store.save(MCHID, keys, 1)
    assert path.stat().st_ino == inode


# --- the Redis store ------------------------------------------------------------------------------------


@pytest.fixture
def prefix() -> str:
    return f"test:{uuid.uuid4().hex}:"


def test_redis_record_written_by_hand_is_checked(redis_url: str, prefix: str) -> None:
    import redis

    from wechatpay_chain.trust.redis_store import RedisKeyStore

    client = redis.Redis.from_url(redis_url, decode_responses=True)  # a client that decodes: same answers
    store = RedisKeyStore(client, prefix=prefix)
    assert store.save(MCHID, PlatformKeys.of([certificate("platform")]), 0)
    assert store.merchants_for(format(SERIAL, "X")) == {MCHID} and "prefix=" in repr(store)
    planted = json.dumps({"certificates": {}, "public_keys": {PUB_KEY_ID: private_pem(rsa_key("merchant"))}})
    client.hset(f"{prefix}keys:{MCHID}", "record", planted)
    with pytest.raises(ConfigError, match=f"Redis record of {MCHID}: {PUB_KEY_ID}: a private key") as caught:
        store.load(MCHID)
    assert "MII" not in str(caught.value)
    client.hset(f"{prefix}keys:{MCHID}", "record", "[]")
    with pytest.raises(ConfigError, match="not a record this store wrote"):
        store.load(MCHID)


def test_redis_load_parses_a_record_once(redis_url: str, prefix: str) -> None:
    from wechatpay_chain.trust.redis_store import RedisKeyStore

    store = RedisKeyStore(redis_url, prefix=prefix)
    assert store.save(MCHID, PlatformKeys.of([certificate("platform")]), 0)
    first = store.load(MCHID)
    assert first is not None and store.load(MCHID) is first
    assert RedisKeyStore(redis_url, prefix=prefix).load(MCHID) == first


def test_without_redis_py_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "wechatpay_chain.trust.redis_store", raising=False)
    with pytest.raises(ImportError, match=r"pip install 'wechatpay-chain\[redis\]'"):
        importlib.import_module("wechatpay_chain.trust.redis_store")


def test_without_redis_server_ci_fails_and_a_local_run_skips_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    import _redis_server

    monkeypatch.setattr(_redis_server, "REDIS_SERVER", None)
    monkeypatch.delenv("CI", raising=False)
    for variable in ("REQUIRE_TEST_SERVERS", "CI"):  # .ci/run's, CI services'
        monkeypatch.setenv(variable, "1")
        with pytest.raises(pytest.fail.Exception, match="redis-server is not installed"):
            _redis_server.require_redis_server()
        monkeypatch.delenv(variable)
    with pytest.raises(pytest.skip.Exception, match=r"\.ci/run installs"):
        _redis_server.require_redis_server()


def test_a_save_removes_dropped_keys_but_never_a_file_named_otherwise(tmp_path: Path) -> None:
    store = DirectoryKeyStore(tmp_path)
    assert store.save(MCHID, PlatformKeys.of([certificate("platform")]), 0)
    stray = tmp_path / MCHID / "merchant_key.pem"
    stray.write_text(private_pem(rsa_key("merchant")))
    assert store.save(MCHID, PlatformKeys.of([certificate("next", 0x7B77)]), 1)
    assert sorted(path.name for path in (tmp_path / MCHID).glob("*.pem")) == ["7B77.pem", "merchant_key.pem"]
    with pytest.raises(ConfigError, match="a private key"):  # left for a person to look at, and refused
        store.load(MCHID)
