"""Platform certificates and keys: v3/certificates decryption, verification, files, KeyRing, OAEP."""

from __future__ import annotations

import base64
import json
import logging
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _certs_helpers import (
    APIV3_KEY,
    NOW,
    at,
    certificate_pem,
    clock,
    encrypted_entry,
    mint_certificate,
    public_pem,
    rsa_key,
    signed_answer,
)
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from wechatpay_chain.errors import ConfigError, DecryptionError, SignatureError
from wechatpay_chain.trust.certificates import (
    KeyRing,
    PlatformCertificate,
    decrypt_certificates,
    needs_refresh,
    parse_certificates_answer,
    verify_with_delivered,
    write_pem_files,
)
from wechatpay_chain.trust.crypto import oaep_decrypt, oaep_encrypt
from wechatpay_chain.v3.notifications import build_notification, parse_notification

OLD_SERIAL = 0x5157F09EFDC096DE15EBE81A47057A7232F1B8E1
NEW_SERIAL = 0x7B77373C3A93AA83DD2B6B5ADB1FD2C4C2F0A1B2
PUB_KEY_ID = "PUB_KEY_ID_0114232134912410000000000000"
DAY = 86_400


def hex_serial(serial: int) -> str:
    return format(serial, "X")


def certificate(name: str, serial: int, **dates: Any) -> PlatformCertificate:
    return PlatformCertificate.from_pem(certificate_pem(mint_certificate(rsa_key(name), serial, **dates)))


def answer_for(*certificates: PlatformCertificate) -> dict[str, Any]:
    return {"data": [encrypted_entry(item.pem, item.serial) for item in certificates]}


# --- decrypt_certificates ----------------------------------------------------------------------


def test_decrypt_round_trip() -> None:
    minted = mint_certificate(rsa_key("platform"), OLD_SERIAL)
    pem = certificate_pem(minted)
    [result] = decrypt_certificates({"data": [encrypted_entry(pem, hex_serial(OLD_SERIAL))]}, APIV3_KEY, now=clock())
    assert result.serial == "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
    assert result.pem == pem
    assert result.public_key.public_numbers() == rsa_key("platform").public_key().public_numbers()
    assert result.not_before == minted.not_valid_before_utc
    assert result.not_after == minted.not_valid_after_utc
    assert result.certificate == minted
    assert "BEGIN" not in repr(result)  # the repr names the serial and dates only


def test_serial_no_spelling_is_compared_as_a_number() -> None:
    serial = 0x0ABC_0000_0000_0000_0000_0000_0000_0000_0000_0001  # hex starts with a zero
    pem = certificate_pem(mint_certificate(rsa_key("platform"), serial))
    spelled = "0" + hex_serial(serial).lower()
    [result] = decrypt_certificates({"data": [encrypted_entry(pem, spelled)]}, APIV3_KEY, now=clock())
    assert result.serial == spelled.upper()  # kept as the platform spells it, upper case
    assert KeyRing(certificates=[result])[hex_serial(serial)] is result.public_key


@pytest.mark.parametrize("serial_no", ["0123456789ABCDEF", "0x5157F09EFDC096DE", "not hex"])
def test_serial_mismatch_refuses_the_answer(serial_no: str) -> None:
    pem = certificate_pem(mint_certificate(rsa_key("platform"), OLD_SERIAL))
    with pytest.raises(SignatureError) as raised:
        decrypt_certificates({"data": [encrypted_entry(pem, serial_no)]}, APIV3_KEY, now=clock())
    assert raised.value.check == "certificate"


def test_expired_certificate_is_skipped_with_a_reason(caplog: pytest.LogCaptureFixture) -> None:
    expired = certificate("old", OLD_SERIAL, not_before=at(NOW - 2000 * DAY), not_after=at(NOW - DAY))
    current = certificate("platform", NEW_SERIAL)
    with caplog.at_level(logging.WARNING, logger="wechatpay_chain.trust.certificates"):
        result = decrypt_certificates(answer_for(expired, current), APIV3_KEY, now=clock())
    assert [item.serial for item in result] == [current.serial]
    assert expired.serial in caplog.text and "expired" in caplog.text


def test_not_yet_valid_certificate_is_skipped() -> None:
    future = certificate("future", NEW_SERIAL, not_before=at(NOW + DAY))
    current = certificate("platform", OLD_SERIAL)
    result = decrypt_certificates(answer_for(current, future), APIV3_KEY, now=clock())
    assert [item.serial for item in result] == [current.serial]


def test_no_valid_certificate_is_an_error() -> None:
    expired = certificate("old", OLD_SERIAL, not_before=at(NOW - 900 * DAY), not_after=at(NOW - 1))
    with pytest.raises(SignatureError) as raised:
        decrypt_certificates(answer_for(expired), APIV3_KEY, now=clock())
    assert raised.value.check == "certificate" and "expired" in raised.value.reason
    with pytest.raises(SignatureError):
        decrypt_certificates({"data": []}, APIV3_KEY, now=clock())


@pytest.mark.parametrize("answer", [{}, {"data": {}}, {"data": ["x"]}, {"data": [{"serial_no": 1}]}])
def test_malformed_answers(answer: dict[str, Any]) -> None:
    with pytest.raises(SignatureError):
        decrypt_certificates(answer, APIV3_KEY, now=clock())


def test_wrong_algorithm_wrong_key_and_tampering_are_decryption_errors() -> None:
    current = certificate("platform", OLD_SERIAL)
    with pytest.raises(DecryptionError):
        decrypt_certificates(
            {"data": [encrypted_entry(current.pem, current.serial, algorithm="AEAD_SM4_GCM")]},
            APIV3_KEY,
        )
    with pytest.raises(DecryptionError):
        decrypt_certificates(answer_for(current), "another-32-character-apiv3-key!!")
    entry = encrypted_entry(current.pem, current.serial)
    sealed = bytearray(base64.b64decode(entry["encrypt_certificate"]["ciphertext"]))
    sealed[0] ^= 1
    entry["encrypt_certificate"]["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    with pytest.raises(DecryptionError):
        decrypt_certificates({"data": [entry]}, APIV3_KEY)


def test_non_rsa_or_garbage_certificates_are_refused() -> None:
    ec_pem = certificate_pem(mint_certificate(ec.generate_private_key(ec.SECP256R1()), OLD_SERIAL))
    with pytest.raises(SignatureError, match="RSA"):
        PlatformCertificate.from_pem(ec_pem)
    with pytest.raises(SignatureError):
        PlatformCertificate.from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")


# --- verification of the answer ------------------------------------------------------------------


def test_answer_verifies_with_a_certificate_it_delivered() -> None:
    current = certificate("platform", OLD_SERIAL)
    headers, body = signed_answer(answer_for(current), rsa_key("platform"), current.serial)
    assert verify_with_delivered(headers, body, [current], now=clock()) == current.serial
    assert parse_certificates_answer(headers, body, APIV3_KEY, now=clock()) == [current]


def test_answer_signed_by_an_undelivered_key_is_refused() -> None:
    current = certificate("platform", OLD_SERIAL)
    headers, body = signed_answer(answer_for(current), rsa_key("impostor"), "ABCDEF")
    with pytest.raises(SignatureError) as raised:
        parse_certificates_answer(headers, body, APIV3_KEY, now=clock())
    assert raised.value.check == "serial"


def test_answer_signed_by_a_trusted_public_key() -> None:
    current = certificate("platform", OLD_SERIAL)
    headers, body = signed_answer(answer_for(current), rsa_key("pubkey"), PUB_KEY_ID)
    trusted = {PUB_KEY_ID: rsa_key("pubkey").public_key()}
    assert verify_with_delivered(headers, body, [current], trusted=trusted, now=clock()) == PUB_KEY_ID


def test_a_delivered_certificate_contradicting_a_trusted_key_is_refused() -> None:
    current = certificate("platform", OLD_SERIAL)
    headers, body = signed_answer(answer_for(current), rsa_key("platform"), current.serial)
    trusted = {current.serial.lower(): rsa_key("impostor").public_key()}
    with pytest.raises(SignatureError) as raised:
        verify_with_delivered(headers, body, [current], trusted=trusted, now=clock())
    assert raised.value.check == "certificate"


def test_rotation_answer_with_two_certificates() -> None:
    old = certificate("old", OLD_SERIAL, not_after=at(NOW + 3 * DAY))
    new = certificate("platform", NEW_SERIAL)
    headers, body = signed_answer(answer_for(old, new), rsa_key("old"), old.serial)
    result = parse_certificates_answer(headers, body, APIV3_KEY, now=clock())
    assert [item.serial for item in result] == [old.serial, new.serial]


@pytest.mark.parametrize("body", [b"{", b"[]", b"\xff"])
def test_certificates_answer_that_is_not_json(body: bytes) -> None:
    with pytest.raises(SignatureError) as raised:
        parse_certificates_answer({}, body, APIV3_KEY, now=clock())
    assert raised.value.check == "body"


def test_stale_certificates_answer_is_refused() -> None:
    current = certificate("platform", OLD_SERIAL)
    headers, body = signed_answer(answer_for(current), rsa_key("platform"), current.serial, timestamp=NOW - 301)
    with pytest.raises(SignatureError) as raised:
        parse_certificates_answer(headers, body, APIV3_KEY, now=clock())
    assert raised.value.check == "timestamp"


# --- files ---------------------------------------------------------------------------------------


def test_write_pem_files_names_by_serial(tmp_path: Path) -> None:
    old, new = certificate("old", OLD_SERIAL), certificate("platform", NEW_SERIAL)
    out = tmp_path / "certs" / "nested"
    paths = write_pem_files([old, new], out)
    assert paths == [out / f"{old.serial}.pem", out / f"{new.serial}.pem"]
    assert [path.read_text("ascii") for path in paths] == [old.pem, new.pem]
    assert sorted(os.listdir(out)) == sorted(path.name for path in paths)  # no temporary left
    assert stat.S_IMODE(paths[0].stat().st_mode) == 0o644
    assert PlatformCertificate.from_pem(paths[0].read_bytes()) == old


def test_write_pem_files_replaces_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    current = certificate("platform", OLD_SERIAL)
    target = tmp_path / f"{current.serial}.pem"
    target.write_text("old content", "ascii")
    moves: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(source: Any, destination: Any) -> None:
        assert Path(source).parent == tmp_path and Path(source).name.endswith(".tmp")
        assert Path(source).read_text("ascii") == current.pem  # complete before the move
        moves.append((str(source), str(destination)))
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", recording_replace)
    write_pem_files([current], tmp_path)
    assert moves and moves[0][1] == str(target)
    assert target.read_text("ascii") == current.pem


def test_write_pem_files_failure_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    current = certificate("platform", OLD_SERIAL)
    target = tmp_path / f"{current.serial}.pem"
    target.write_text("old content", "ascii")

    def failing_replace(source: Any, destination: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_pem_files([current], tmp_path)
    assert target.read_text("ascii") == "old content"
    assert os.listdir(tmp_path) == [target.name]


def test_write_pem_files_refuses_serials_that_are_no_file_names(tmp_path: Path) -> None:
    current = certificate("platform", OLD_SERIAL)
    forged = PlatformCertificate(
        serial="../escape",
        pem=current.pem,
        not_before=current.not_before,
        not_after=current.not_after,
        certificate=current.certificate,
        public_key=current.public_key,
    )
    with pytest.raises(ConfigError):
        write_pem_files([forged], tmp_path / "out")
    assert not (tmp_path / "escape.pem").exists()


# --- refresh -------------------------------------------------------------------------------------


def test_needs_refresh() -> None:
    long_lived = certificate("platform", NEW_SERIAL, not_after=at(NOW + 365 * DAY))
    expiring = certificate("old", OLD_SERIAL, not_after=at(NOW + 5 * DAY))
    expired = certificate("expired", 0x99, not_before=at(NOW - 90 * DAY), not_after=at(NOW - DAY))
    assert needs_refresh([], now=clock())
    assert needs_refresh([expired], now=clock())
    assert needs_refresh([expiring], now=clock())
    assert not needs_refresh([long_lived], now=clock())
    assert not needs_refresh([expiring, long_lived], now=clock())  # rotation already delivered
    assert not needs_refresh([expiring], now=clock(), margin=timedelta(days=1))
    assert needs_refresh([long_lived], now=clock(NOW + 360 * DAY))


# --- KeyRing -------------------------------------------------------------------------------------


def test_key_ring_holds_both_modes() -> None:
    cert = certificate("platform", OLD_SERIAL)
    ring = KeyRing({PUB_KEY_ID: public_pem(rsa_key("pubkey"))}, certificates=[cert])
    assert set(ring) == {PUB_KEY_ID, cert.serial}
    assert ring.public_key_ids == (PUB_KEY_ID,)
    assert ring.certificate_serials == (cert.serial,)
    assert ring[PUB_KEY_ID].public_numbers() == rsa_key("pubkey").public_key().public_numbers()
    assert ring[cert.serial.lower()] is cert.public_key  # lookups ignore case
    assert ring[PUB_KEY_ID.lower()] is ring[PUB_KEY_ID]
    assert "unknown" not in ring and len(ring) == 2
    assert repr(ring) == f"KeyRing({[PUB_KEY_ID, cert.serial]!r})"


def test_both_modes_verify_notifications_during_a_migration() -> None:
    cert = certificate("platform", OLD_SERIAL)
    ring = KeyRing(certificates=[cert]).with_public_key(PUB_KEY_ID, rsa_key("pubkey").public_key())
    for key_name, serial in (("platform", cert.serial), ("pubkey", PUB_KEY_ID)):
        headers, body = build_notification(
            "TRANSACTION.SUCCESS",
            {"out_trade_no": "1"},
            apiv3_key=APIV3_KEY,
            platform_key=rsa_key(key_name),
            serial=serial,
            now=clock(),
        )
        event = parse_notification(headers, body, keys=ring, apiv3_key=APIV3_KEY, now=clock())
        assert event.serial == serial


def test_preferred_encryption_key_prefers_the_public_key() -> None:
    cert = certificate("platform", OLD_SERIAL)
    ring = KeyRing(certificates=[cert])
    assert ring.preferred_encryption_key(NOW) == (cert.serial, cert.public_key)
    migrating = ring.with_public_key(PUB_KEY_ID, rsa_key("pubkey").public_key())
    assert migrating.preferred_encryption_key(NOW)[0] == PUB_KEY_ID
    later = migrating.with_certificates([certificate("other", NEW_SERIAL)])
    assert later.preferred_encryption_key(NOW)[0] == PUB_KEY_ID


def test_preferred_certificate_is_the_longest_living_valid_one() -> None:
    old = certificate("old", OLD_SERIAL, not_after=at(NOW + 3 * DAY))
    new = certificate("platform", NEW_SERIAL)
    expired = certificate("expired", 0x99, not_before=at(NOW - 90 * DAY), not_after=at(NOW - DAY))
    ring = KeyRing(certificates=[new, old, expired])
    assert ring.preferred_encryption_key(NOW)[0] == new.serial
    with pytest.raises(ConfigError):
        KeyRing(certificates=[expired]).preferred_encryption_key(NOW)
    with pytest.raises(ConfigError):
        KeyRing().preferred_encryption_key()
    bare = rsa_key("platform").public_key()  # a certificate-mode key given without its dates
    assert KeyRing({"0ABC": bare}).preferred_encryption_key() == ("0ABC", bare)
    assert KeyRing({"0ABC": bare}, certificates=[new]).preferred_encryption_key(NOW)[0] == new.serial


def test_key_ring_updates_return_new_rings() -> None:
    cert = certificate("platform", OLD_SERIAL)
    empty = KeyRing()
    with_cert = empty.with_certificates([cert])
    with_both = with_cert.with_public_key(PUB_KEY_ID, public_pem(rsa_key("pubkey")))
    assert (len(empty), len(with_cert), len(with_both)) == (0, 1, 2)
    with pytest.raises(ConfigError):
        empty.with_public_key("5157F09E", rsa_key("pubkey").public_key())
    with pytest.raises(ConfigError):
        KeyRing({PUB_KEY_ID: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"})


def test_without_expired_drops_only_expired_certificates() -> None:
    expired = certificate("expired", 0x99, not_before=at(NOW - 90 * DAY), not_after=at(NOW - DAY))
    current = certificate("platform", OLD_SERIAL)
    ring = KeyRing({PUB_KEY_ID: rsa_key("pubkey").public_key()}, certificates=[expired, current])
    assert set(ring.without_expired(NOW)) == {PUB_KEY_ID, current.serial}
    assert len(ring) == 3  # unchanged


# --- RSA-OAEP with SHA-1 (sensitive fields) --------------------------------------------------------

_OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)
_OAEP_SHA256 = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def test_oaep_encryption_with_the_preferred_key_uses_sha1() -> None:
    ring = KeyRing({PUB_KEY_ID: rsa_key("pubkey").public_key()})
    key_id, key = ring.preferred_encryption_key()
    ciphertext = oaep_encrypt(key, "张三")
    assert key_id == PUB_KEY_ID
    # decrypted by the platform's side with explicitly SHA-1 OAEP parameters
    plain = rsa_key("pubkey").decrypt(base64.b64decode(ciphertext), _OAEP_SHA1)
    assert plain.decode("utf-8") == "张三"
    assert oaep_encrypt(key, "张三") != ciphertext  # OAEP is randomised


def test_oaep_decryption_accepts_sha1_only() -> None:
    merchant = rsa_key("merchant")
    sha1 = base64.b64encode(merchant.public_key().encrypt(b"13800138000", _OAEP_SHA1))
    assert oaep_decrypt(merchant, sha1.decode()) == "13800138000"
    sha256 = base64.b64encode(merchant.public_key().encrypt(b"13800138000", _OAEP_SHA256))
    with pytest.raises(DecryptionError):
        oaep_decrypt(merchant, sha256.decode())


def test_certificates_answer_json_is_what_the_platform_sends() -> None:
    current = certificate("platform", OLD_SERIAL)
    entry = json.loads(json.dumps(answer_for(current)))["data"][0]
    assert set(entry) == {"serial_no", "effective_time", "expire_time", "encrypt_certificate"}
    assert entry["encrypt_certificate"]["associated_data"] == "certificate"
