"""Platform-key stores: one contract suite over the memory, directory and Redis stores.

The Redis store runs against a real redis-server (conftest ``redis_url``); races between
processes run real processes against the same folder or server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _certs_helpers import NOW, at, certificate_pem, mint_certificate, private_pem, public_pem, rsa_key

from wechatpay_chain.errors import ConfigError
from wechatpay_chain.trust.certificates import PlatformCertificate
from wechatpay_chain.trust.directory_store import DirectoryKeyStore
from wechatpay_chain.trust.store import KeyStore, MemoryKeyStore, PlatformKeys, ReadOnlyKeyStore, read_only

MCHID, OTHER = "1900000109", "1900000110"
PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
SERIAL, NEXT_SERIAL, OTHER_SERIAL = 0x5157F09EFDC096DE15EBE81A47057A72, 0x7B77373C3A93AA83DD2B6B5ADB1FD2C4, 0x0ABC


def certificate(name: str, serial: int, **dates: Any) -> PlatformCertificate:
    return PlatformCertificate.from_pem(certificate_pem(mint_certificate(rsa_key(name), serial, **dates)))


def record(*certificates: PlatformCertificate, public: bool = True) -> PlatformKeys:
    public_keys = {PUB_KEY_ID: public_pem(rsa_key("platform-public"))} if public else {}
    return PlatformKeys.of(certificates, public_keys)


@pytest.fixture(params=["memory", "directory", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> KeyStore:
    if request.param == "memory":
        return MemoryKeyStore()
    if request.param == "directory":
        return DirectoryKeyStore(tmp_path / "keys")
    from wechatpay_chain.trust.redis_store import RedisKeyStore

    return RedisKeyStore(request.getfixturevalue("redis_url"), prefix=f"test:{uuid.uuid4().hex}:")


# --- the contract, for every store ----------------------------------------------------------------


def test_save_then_load_round_trips_with_a_version(store: KeyStore) -> None:
    assert store.load(MCHID) is None and not store.read_only
    keys = record(certificate("platform", SERIAL))
    assert store.save(MCHID, keys, 0)
    loaded = store.load(MCHID)
    assert loaded is not None and loaded.version == 1
    assert loaded.certificates == keys.certificates and loaded.public_keys == keys.public_keys
    assert set(loaded.key_ring()) == {format(SERIAL, "X"), PUB_KEY_ID}
    assert [item.serial for item in loaded.platform_certificates()] == [format(SERIAL, "X")]
    assert store.load(OTHER) is None


def test_compare_and_set_refuses_a_stale_version(store: KeyStore) -> None:
    assert store.save(MCHID, record(certificate("platform", SERIAL)), 0)
    assert not store.save(MCHID, record(), 0)  # "create" when it exists
    assert store.save(MCHID, record(certificate("next", NEXT_SERIAL)), 1)
    assert not store.save(MCHID, record(), 1)  # another writer saved version 2 first
    loaded = store.load(MCHID)
    assert loaded is not None and loaded.version == 2 and list(loaded.certificates) == [format(NEXT_SERIAL, "X")]


def test_a_save_replaces_the_record_and_its_index(store: KeyStore) -> None:
    old, new = certificate("platform", SERIAL), certificate("next", NEXT_SERIAL)
    assert store.save(MCHID, record(old), 0)
    assert store.merchants_for(old.serial) == {MCHID}
    assert store.save(MCHID, record(new, public=False), 1)
    loaded = store.load(MCHID)
    assert loaded is not None and loaded.key_ids == (new.serial,)
    assert store.merchants_for(old.serial) == frozenset() and store.merchants_for(PUB_KEY_ID) == frozenset()
    assert store.merchants_for(new.serial) == {MCHID}


def test_a_certificate_held_by_several_merchants_is_indexed_for_each(store: KeyStore) -> None:
    # The platform's certificates can be every merchant's: the index keeps them all, and a
    # merchant that moves on leaves the others in place.
    shared = certificate("platform", SERIAL)
    assert store.save(MCHID, PlatformKeys.of([shared]), 0)
    assert store.save(OTHER, PlatformKeys.of([shared]), 0)
    assert store.merchants_for(shared.serial) == {MCHID, OTHER}
    assert store.save(MCHID, PlatformKeys.of([certificate("next", NEXT_SERIAL)]), 1)
    assert store.merchants_for(shared.serial) == {OTHER}


def test_index_routes_key_ids_to_merchants(store: KeyStore) -> None:
    assert store.save(MCHID, record(certificate("platform", SERIAL)), 0)
    assert store.save(OTHER, PlatformKeys.of([certificate("other", OTHER_SERIAL)]), 0)
    assert store.merchants_for(format(SERIAL, "X")) == {MCHID}
    assert store.merchants_for(format(SERIAL, "x")) == {MCHID}  # as KeyRing compares: no case
    assert store.merchants_for("000ABC") == {OTHER}  # and no leading zeros
    assert store.merchants_for(PUB_KEY_ID.lower()) == {MCHID}
    assert store.merchants_for("FFFF") == frozenset()


def test_one_lease_holder_at_a_time_and_only_it_releases(store: KeyStore) -> None:
    assert store.acquire_lease(MCHID, "node-a", 30)
    assert not store.acquire_lease(MCHID, "node-b", 30)
    assert store.acquire_lease(MCHID, "node-a", 30)  # its owner renews it
    assert store.acquire_lease(OTHER, "node-b", 30)  # one lease per merchant
    assert not store.release_lease(MCHID, "node-b")
    assert store.release_lease(MCHID, "node-a")
    assert not store.release_lease(MCHID, "node-a")  # released already
    assert store.acquire_lease(MCHID, "node-b", 30)


def test_a_lease_expires_by_itself(store: KeyStore) -> None:
    assert store.acquire_lease(MCHID, "node-a", 0.2)
    assert not store.acquire_lease(MCHID, "node-b", 30)
    time.sleep(0.35)  # node-a died holding it
    assert not store.release_lease(MCHID, "node-a")
    assert store.acquire_lease(MCHID, "node-b", 30)
    assert not store.release_lease(MCHID, "node-a")  # an expired owner cannot release the new holder's lease
    assert store.release_lease(MCHID, "node-b")


def test_read_only_loads_and_routes_but_refuses_writes(store: KeyStore) -> None:
    assert store.save(MCHID, record(certificate("platform", SERIAL)), 0)
    worker = read_only(store)
    assert worker.read_only and isinstance(worker, ReadOnlyKeyStore) and read_only(worker) is worker
    loaded = worker.load(MCHID)
    assert loaded is not None and loaded.version == 1
    assert worker.merchants_for(format(SERIAL, "X")) == {MCHID}
    for refused in (
        lambda: worker.save(MCHID, record(), 1),
        lambda: worker.acquire_lease(MCHID, "worker", 30),
        lambda: worker.release_lease(MCHID, "worker"),
    ):
        with pytest.raises(ConfigError, match="read-only"):
            refused()
    assert store.load(MCHID) == loaded  # nothing was written


@pytest.mark.parametrize(
    ("mchid", "owner", "ttl", "argument"),
    [("../etc", "a", 1, "mchid"), ("1900000109 ", "a", 1, "mchid"), (MCHID, "", 1, "owner"), (MCHID, "a", 0, "ttl")],
)
def test_bad_lease_arguments_are_refused(store: KeyStore, mchid: str, owner: str, ttl: float, argument: str) -> None:
    with pytest.raises(ConfigError) as caught:
        store.acquire_lease(mchid, owner, ttl)
    assert caught.value.argument == argument
    with pytest.raises(ConfigError):
        store.load("1900000109/../x")


def test_threads_racing_for_the_lease_one_wins(store: KeyStore) -> None:
    start = threading.Barrier(8)
    won: list[str] = []

    def race(owner: str) -> None:
        start.wait()
        if store.acquire_lease(MCHID, owner, 30):
            won.append(owner)

    threads = [threading.Thread(target=race, args=(f"thread-{index}",)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1


# --- what a record accepts ----------------------------------------------------------------------------


def test_a_private_key_is_refused_without_showing_it() -> None:
    text = private_pem(rsa_key("platform"))
    for make in (lambda: PlatformKeys({format(SERIAL, "X"): text}), lambda: PlatformKeys({}, {PUB_KEY_ID: text})):
        with pytest.raises(ConfigError, match="a private key; a key store holds only") as caught:
            make()
        assert "MII" not in str(caught.value)


@pytest.mark.parametrize(
    ("certificates", "public_keys", "message"),
    [
        ({"5157f09e": "x"}, {}, "upper-case hex serial"),
        ({format(NEXT_SERIAL, "X"): "cert:platform"}, {}, "does not match the certificate's serial"),
        ({"ABC": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n"}, {}, "not a PEM X.509"),
        ({}, {"PUB_KEY_ID_../../x": "key"}, "is named PUB_KEY_ID_"),
        ({}, {"5157F09E": "key"}, "is named PUB_KEY_ID_"),
        ({}, {PUB_KEY_ID: "cert:platform"}, "not a PEM public key"),
        ({}, {PUB_KEY_ID: "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"}, "not a readable PEM"),
    ],
)
def test_records_hold_only_named_public_material(
    certificates: dict[str, str], public_keys: dict[str, str], message: str
) -> None:
    pem = certificate("platform", SERIAL).pem
    resolve = {key: pem if value == "cert:platform" else value for key, value in certificates.items()}
    resolved_keys = {key: pem if value == "cert:platform" else value for key, value in public_keys.items()}
    with pytest.raises(ConfigError, match=message):
        PlatformKeys(resolve, resolved_keys)


def test_with_certificates_adds_new_ones_and_drops_expired_ones() -> None:
    old = certificate("old", 0x11, not_before=at(NOW - 900 * 86_400), not_after=at(NOW - 86_400))
    current = certificate("platform", SERIAL)
    new = certificate("next", NEXT_SERIAL, not_after=current.not_after + timedelta(days=365))
    stored = PlatformKeys.of([old, current], {PUB_KEY_ID: rsa_key("platform-public").public_key()})
    merged = stored.with_certificates([new], now=NOW)
    assert merged.key_ids == (current.serial, new.serial, PUB_KEY_ID) and merged.version == 0
    assert len(merged) == 3 and merged.key_ring().preferred_encryption_key(NOW)[0] == PUB_KEY_ID
    later = merged.with_certificates([], now=(current.not_after + timedelta(days=1)).timestamp())
    assert later.key_ids == (new.serial, PUB_KEY_ID)


# --- processes sharing a folder or a server ---------------------------------------------------------

_RACER = r"""
import json, sys
from wechatpay_chain.trust.store import PlatformKeys
kind, where, prefix, action, owner, rounds, pem_files = json.loads(sys.argv[1])
if kind == "directory":
    from wechatpay_chain.trust.directory_store import DirectoryKeyStore
    store = DirectoryKeyStore(where)
else:
    from wechatpay_chain.trust.redis_store import RedisKeyStore
    store = RedisKeyStore(where, prefix=prefix)
records = [PlatformKeys.of([], {"PUB_KEY_ID_%d" % index: open(path).read()}) for index, path in enumerate(pem_files)]
print("ready", flush=True)
sys.stdin.readline()  # "go": every racer has imported everything and opened its store
if action == "lease":
    print(json.dumps(store.acquire_lease("1900000109", owner, 30)))
else:  # `rounds` saves, each retried until its compare-and-set wins
    conflicts = 0
    for round in range(rounds):
        while True:
            current = store.load("1900000109")
            if store.save("1900000109", records[round % len(records)], current.version if current else 0):
                break
            conflicts += 1
    print(json.dumps(conflicts))
"""


@pytest.fixture(params=["directory", "redis"])
def shared(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str, str]:
    """(kind, where, prefix) of a store that several processes can open."""
    if request.param == "directory":
        return "directory", str(tmp_path / "keys"), ""
    return "redis", request.getfixturevalue("redis_url"), f"test:{uuid.uuid4().hex}:"


def open_shared(shared: tuple[str, str, str]) -> KeyStore:
    kind, where, prefix = shared
    if kind == "directory":
        return DirectoryKeyStore(where)
    from wechatpay_chain.trust.redis_store import RedisKeyStore

    return RedisKeyStore(where, prefix=prefix)


def start_racers(
    shared: tuple[str, str, str], action: str, count: int, rounds: int, pem_files: list[str]
) -> list[subprocess.Popen[str]]:
    """Start ``count`` processes, wait until each is ready, then let them go at once."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, json.dumps([*shared, action, f"proc-{i}", rounds, pem_files])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == "ready\n", process.communicate()[1]
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.close()
    return processes


def results_of(processes: list[subprocess.Popen[str]]) -> list[Any]:
    results = []
    for process in processes:
        assert process.stdout is not None
        out = process.stdout.read()
        assert process.wait(timeout=120) == 0, process.stderr.read() if process.stderr else ""
        results.append(json.loads(out))
    return results


@pytest.fixture
def pem_files(tmp_path: Path) -> list[str]:
    paths = []
    for name in ("platform-public", "other"):
        path = tmp_path / f"{name}.pub"
        path.write_text(public_pem(rsa_key(name)))
        paths.append(str(path))
    return paths


def test_processes_racing_for_the_lease_one_wins(shared: tuple[str, str, str]) -> None:
    results = results_of(start_racers(shared, "lease", 3, 0, []))
    assert sorted(results) == [False, False, True]


def test_processes_saving_concurrently_lose_no_update(shared: tuple[str, str, str], pem_files: list[str]) -> None:
    results = results_of(start_racers(shared, "save", 2, 8, pem_files))
    loaded = open_shared(shared).load(MCHID)
    assert loaded is not None and loaded.version == 16  # every save counted once: none overwrote another
    print(f"compare-and-set conflicts retried: {sum(results)}")


def test_a_reader_sees_whole_records_while_another_process_writes(
    shared: tuple[str, str, str], pem_files: list[str]
) -> None:
    [writer] = start_racers(shared, "save", 1, 40, pem_files)
    store, seen = open_shared(shared), set()
    while writer.poll() is None:
        loaded = store.load(MCHID)
        if loaded is not None:
            seen.add(loaded.key_ids)
    assert results_of([writer]) == [0]  # the only writer: no conflict
    assert seen <= {("PUB_KEY_ID_0",), ("PUB_KEY_ID_1",)} and seen  # never a mix, never a half-written file
