"""Notifications: the AES-GCM vectors, parse_notification's checks one by one, ack, the builder."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from _certs_helpers import APIV3_KEY, NOW, clock, rsa_key
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wechatpay_chain.errors import DecryptionError, SignatureError, WeChatPayError
from wechatpay_chain.trust.crypto import aes_gcm_decrypt, aes_gcm_encrypt
from wechatpay_chain.v3.notifications import (
    Acknowledgement,
    Notification,
    ack,
    build_notification,
    is_signature_probe,
    parse_notification,
)
from wechatpay_chain.v3.protocol import dump_json, sign_answer_headers

VECTORS = json.loads((Path(__file__).parent / "vectors" / "aes_gcm.json").read_text("utf-8"))
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
TRANSACTION = {
    "mchid": "1900000001",
    "out_trade_no": "ORDER-20240101-0001",
    "trade_state": "SUCCESS",
    "amount": {"total": 100, "currency": "CNY"},
    "attach": "测试",
}


def platform_key() -> Any:
    return rsa_key("platform")


def trusted() -> dict[str, Any]:
    return {SERIAL: platform_key().public_key()}


def notification(**overrides: Any) -> tuple[dict[str, str], bytes]:
    options: dict[str, Any] = {
        "apiv3_key": APIV3_KEY,
        "platform_key": platform_key(),
        "serial": SERIAL,
        "now": clock(),
    }
    options.update(overrides)
    return build_notification("TRANSACTION.SUCCESS", TRANSACTION, **options)


def parse(headers: Any, body: bytes | str, **overrides: Any) -> Notification:
    options: dict[str, Any] = {"keys": trusted(), "apiv3_key": APIV3_KEY, "now": clock()}
    options.update(overrides)
    return parse_notification(headers, body, **options)


def resign(event: dict[str, Any], headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    """Re-sign a modified event, so that only the later checks can catch the change."""
    body = dump_json(event)
    signed = sign_answer_headers(platform_key(), SERIAL, body, timestamp=headers["Wechatpay-Timestamp"], nonce="n" * 32)
    return signed, body


# --- AES-256-GCM: fixed vectors and an independent implementation --------------------------


def _gf_multiply(x: int, y: int) -> int:
    """Multiplication in GF(2^128) as GCM defines it (bit-reflected, R = 0xE1 || 0^120)."""
    result, v = 0, y
    for bit in range(127, -1, -1):
        if (x >> bit) & 1:
            result ^= v
        v = (v >> 1) ^ (0xE1 << 120) if v & 1 else v >> 1
    return result


def _ghash(h: int, aad: bytes, ciphertext: bytes) -> int:
    def blocks(data: bytes) -> list[bytes]:
        padded = data + b"\0" * (-len(data) % 16)
        return [padded[i : i + 16] for i in range(0, len(padded), 16)]

    lengths = (len(aad) * 8).to_bytes(8, "big") + (len(ciphertext) * 8).to_bytes(8, "big")
    y = 0
    for block in [*blocks(aad), *blocks(ciphertext), lengths]:
        y = _gf_multiply(y ^ int.from_bytes(block, "big"), h)
    return y


def independent_gcm_seal(key: bytes, iv: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-GCM from the AES block cipher and a GHASH written here: no AEAD library code."""
    assert len(iv) == 12

    def aes_block(block: bytes) -> bytes:
        encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
        return encryptor.update(block) + encryptor.finalize()

    h = int.from_bytes(aes_block(b"\0" * 16), "big")
    counter = int.from_bytes(iv + b"\0\0\0\1", "big")
    ciphertext = bytearray()
    for offset in range(0, len(plaintext), 16):
        counter = (counter & ~0xFFFFFFFF) | ((counter + 1) & 0xFFFFFFFF)
        stream = aes_block(counter.to_bytes(16, "big"))
        chunk = plaintext[offset : offset + 16]
        ciphertext += bytes(a ^ b for a, b in zip(chunk, stream, strict=False))
    j0 = aes_block(iv + b"\0\0\0\1")
    tag = _ghash(h, aad, bytes(ciphertext)) ^ int.from_bytes(j0, "big")
    return bytes(ciphertext) + tag.to_bytes(16, "big")


def test_independent_gcm_matches_the_gcm_specification_vector() -> None:
    vector = VECTORS["gcm_spec"]
    sealed = independent_gcm_seal(
        bytes.fromhex(vector["key_hex"]),
        bytes.fromhex(vector["iv_hex"]),
        bytes.fromhex(vector["plaintext_hex"]),
        bytes.fromhex(vector["aad_hex"]),
    )
    assert sealed.hex() == vector["ciphertext_hex"] + vector["tag_hex"]


def test_aes_gcm_fixed_notification_vector() -> None:
    vector = VECTORS["notification"]
    key, nonce, aad = vector["apiv3_key"], vector["nonce"], vector["associated_data"]
    plaintext = vector["plaintext"].encode("utf-8")
    assert aes_gcm_encrypt(key, nonce, plaintext, aad) == vector["ciphertext"]
    assert aes_gcm_decrypt(key, nonce, vector["ciphertext"], aad) == plaintext
    independent = independent_gcm_seal(key.encode(), nonce.encode(), plaintext, aad.encode())
    assert base64.b64encode(independent).decode() == vector["ciphertext"]


def test_aes_gcm_vector_refuses_wrong_associated_data_and_key() -> None:
    vector = VECTORS["notification"]
    with pytest.raises(DecryptionError):
        aes_gcm_decrypt(vector["apiv3_key"], vector["nonce"], vector["ciphertext"], "refund")
    with pytest.raises(DecryptionError):
        aes_gcm_decrypt("x" * 32, vector["nonce"], vector["ciphertext"], "transaction")


def test_the_vector_resource_parses_as_a_notification() -> None:
    vector = VECTORS["notification"]
    event = {
        "id": "EV-2018022511223320873",
        "create_time": "2015-05-20T13:29:35+08:00",
        "resource_type": "encrypt-resource",
        "event_type": "TRANSACTION.SUCCESS",
        "summary": "支付成功",
        "resource": {
            "original_type": "transaction",
            "algorithm": "AEAD_AES_256_GCM",
            "ciphertext": vector["ciphertext"],
            "associated_data": vector["associated_data"],
            "nonce": vector["nonce"],
        },
    }
    headers, body = resign(event, {"Wechatpay-Timestamp": str(int(NOW))})
    parsed = parse(headers, body)
    assert parsed.resource == json.loads(vector["plaintext"])
    assert parsed.id == "EV-2018022511223320873"


# --- parse_notification: the valid path -------------------------------------------------------


def test_valid_notification_returns_the_decrypted_resource() -> None:
    headers, body = notification()
    event = parse(headers, body)
    assert event.resource == TRANSACTION
    assert event["resource"] == TRANSACTION
    assert event.event_type == "TRANSACTION.SUCCESS"
    assert event.resource_type == "encrypt-resource"
    assert event.summary == "支付成功"
    assert event.original_type == "transaction"
    assert event.serial == SERIAL
    assert event.id and event["id"] == event.id
    assert event.raw["resource"]["algorithm"] == "AEAD_AES_256_GCM"  # the original, encrypted
    assert "ciphertext" in event.raw["resource"]
    assert event.to_dict()["resource"] == TRANSACTION
    assert json.loads(json.dumps(dict(event), ensure_ascii=False))["resource"] == TRANSACTION
    assert set(event) == {"id", "create_time", "resource_type", "event_type", "summary", "resource"}


def test_str_and_bytes_bodies_are_equivalent() -> None:
    headers, body = notification()  # the summary 支付成功 makes the body non-ASCII
    assert parse(headers, body) == parse(headers, body.decode("utf-8"))


def test_a_non_ascii_str_body_is_utf8_encoded() -> None:
    headers, body = notification(summary="支付成功了")
    assert parse(headers, body.decode("utf-8")).summary == "支付成功了"


@pytest.mark.parametrize("case", [str.lower, str.upper, str.title])
def test_header_names_in_any_case(case: Any) -> None:
    headers, body = notification()
    assert parse({case(name): value for name, value in headers.items()}, body).resource == TRANSACTION


def test_window_edges_are_accepted() -> None:
    headers, body = notification()
    assert parse(headers, body, now=clock(NOW + 300)).resource == TRANSACTION
    assert parse(headers, body, now=clock(NOW - 300)).resource == TRANSACTION


# --- parse_notification: each failure ----------------------------------------------------------


@pytest.mark.parametrize(
    "missing", ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"]
)
def test_missing_header(missing: str) -> None:
    headers, body = notification()
    del headers[missing]
    with pytest.raises(SignatureError) as raised:
        parse(headers, body)
    assert raised.value.check == "headers"
    assert missing in raised.value.reason


@pytest.mark.parametrize("offset", [301, -301, 86_400])
def test_stale_or_future_timestamp(offset: int) -> None:
    headers, body = notification(now=clock(NOW - offset))
    with pytest.raises(SignatureError) as raised:
        parse(headers, body)
    assert raised.value.check == "timestamp"


@pytest.mark.parametrize("timestamp", ["soon", "1" + "0" * 400, ""])
def test_malformed_timestamp(timestamp: str) -> None:
    headers, body = notification()
    headers["Wechatpay-Timestamp"] = timestamp
    with pytest.raises(SignatureError) as raised:
        parse(headers, body)
    assert raised.value.check in {"timestamp", "headers"}


def test_unknown_serial() -> None:
    headers, body = notification(serial="0123456789ABCDEF")
    with pytest.raises(SignatureError) as raised:
        parse(headers, body)
    assert raised.value.check == "serial"


def test_signature_by_another_key() -> None:
    headers, body = notification(platform_key=rsa_key("impostor"))
    with pytest.raises(SignatureError) as raised:
        parse(headers, body)
    assert raised.value.check == "signature"


def test_tampered_body() -> None:
    headers, body = notification()
    tampered = body.replace(b'"TRANSACTION.SUCCESS"', b'"TRANSACTION.SUCCESS" ')
    with pytest.raises(SignatureError) as raised:
        parse(headers, tampered)
    assert raised.value.check == "signature"


def test_tampered_ciphertext_never_yields_data() -> None:
    headers, body = notification()
    event = json.loads(body)
    sealed = bytearray(base64.b64decode(event["resource"]["ciphertext"]))
    sealed[5] ^= 0x01
    event["resource"]["ciphertext"] = base64.b64encode(bytes(sealed)).decode()
    headers, body = resign(event, headers)  # the signature is good: only AES-GCM can notice
    with pytest.raises(DecryptionError):
        parse(headers, body)


def test_wrong_apiv3_key() -> None:
    headers, body = notification()
    with pytest.raises(DecryptionError):
        parse(headers, body, apiv3_key="another-32-character-apiv3-key!!")


@pytest.mark.parametrize("algorithm", ["AEAD_SM4_GCM", "AES_256_CBC", None])
def test_wrong_algorithm(algorithm: str | None) -> None:
    headers, body = notification()
    event = json.loads(body)
    event["resource"]["algorithm"] = algorithm
    headers, body = resign(event, headers)
    with pytest.raises(DecryptionError):
        parse(headers, body)


@pytest.mark.parametrize(
    "resource", [None, "text", [], {"algorithm": "AEAD_AES_256_GCM", "nonce": 7, "ciphertext": ""}]
)
def test_malformed_resource(resource: Any) -> None:
    headers, body = notification()
    event = json.loads(body)
    event["resource"] = resource
    headers, body = resign(event, headers)
    with pytest.raises(DecryptionError):
        parse(headers, body)


def test_decrypted_resource_must_be_an_object() -> None:
    headers, body = notification()
    event = json.loads(body)
    event["resource"]["ciphertext"] = aes_gcm_encrypt(APIV3_KEY, event["resource"]["nonce"], b"[1, 2]", "transaction")
    headers, body = resign(event, headers)
    with pytest.raises(DecryptionError):
        parse(headers, body)


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe", b""])
def test_signed_body_that_is_no_event(body: bytes) -> None:
    headers = sign_answer_headers(platform_key(), SERIAL, body, timestamp=str(int(NOW)), nonce="n")
    with pytest.raises(SignatureError) as raised:
        parse(headers, body)
    assert raised.value.check == "body"


def test_str_body_that_cannot_be_utf8() -> None:
    headers, _ = notification()
    with pytest.raises(SignatureError) as raised:
        parse(headers, "\ud800")
    assert raised.value.check == "body"


def test_signature_probe_is_refused() -> None:
    headers, body = notification(signature_probe=True)
    assert headers["Wechatpay-Signature"].startswith("WECHATPAY/SIGNTEST/")
    assert is_signature_probe(headers)
    assert is_signature_probe({k.lower(): v for k, v in headers.items()})
    with pytest.raises(SignatureError) as raised:
        parse(headers, body)
    assert raised.value.check == "signature"
    assert "probe" in raised.value.reason


def test_probe_prefix_on_an_otherwise_valid_signature_is_still_refused() -> None:
    headers, body = notification()
    headers["Wechatpay-Signature"] = "WECHATPAY/SIGNTEST/" + headers["Wechatpay-Signature"]
    with pytest.raises(SignatureError, match="probe"):
        parse(headers, body)
    assert not is_signature_probe(notification()[0])


def test_errors_carry_no_key_material() -> None:
    headers, body = notification()
    with pytest.raises(DecryptionError) as raised:
        parse(headers, body, apiv3_key="another-32-character-apiv3-key!!")
    assert "another-32" not in str(raised.value) and APIV3_KEY not in str(raised.value)


# --- ack ---------------------------------------------------------------------------------------


def test_ack_success_is_204_without_body() -> None:
    status, headers, body = ack()
    assert (status, headers, body) == (204, {}, b"")
    assert ack().success
    assert ack(status=200) == Acknowledgement(200, {}, b"")


def test_ack_failure_carries_code_and_message() -> None:
    answer = ack(False, "签名错误", status=401)
    assert answer.status == 401 and not answer.success
    assert answer.headers == {"Content-Type": "application/json"}
    assert json.loads(answer.body) == {"code": "FAIL", "message": "签名错误"}
    assert ack(False).status == 500
    assert json.loads(ack(False).body) == {"code": "FAIL", "message": "failed"}


@pytest.mark.parametrize(("success", "status"), [(True, 201), (True, 500), (False, 200), (False, 302)])
def test_ack_refuses_statuses_the_platform_misreads(success: bool, status: int) -> None:
    with pytest.raises(WeChatPayError):
        ack(success, status=status)


# --- build_notification --------------------------------------------------------------------------


def test_built_envelope_has_the_platform_shape() -> None:
    headers, body = notification(resource_nonce="fdasflkja484", event_id="EV-1")
    event = json.loads(body)
    assert event["id"] == "EV-1"
    assert event["create_time"] == "2023-11-15T06:13:20+08:00"  # NOW in China Standard Time
    assert event["resource_type"] == "encrypt-resource"
    assert event["event_type"] == "TRANSACTION.SUCCESS"
    resource = event["resource"]
    assert resource["original_type"] == "transaction"
    assert resource["associated_data"] == "transaction"
    assert resource["nonce"] == "fdasflkja484"
    assert set(resource) == {"original_type", "algorithm", "ciphertext", "associated_data", "nonce"}
    assert headers["Wechatpay-Serial"] == SERIAL
    assert headers["Wechatpay-Timestamp"] == str(int(NOW))
    assert len(headers["Wechatpay-Nonce"]) == 32


def test_built_random_nonces_have_platform_lengths() -> None:
    _, first = notification()
    _, second = notification()
    nonces = [json.loads(body)["resource"]["nonce"] for body in (first, second)]
    assert all(len(nonce) == 12 for nonce in nonces) and nonces[0] != nonces[1]


def test_built_refund_notification() -> None:
    headers, body = build_notification(
        "REFUND.SUCCESS",
        {"out_refund_no": "R1", "refund_status": "SUCCESS"},
        apiv3_key=APIV3_KEY,
        platform_key=platform_key(),
        serial=SERIAL,
        now=clock(),
        original_type="refund",
    )
    event = parse(headers, body)
    assert event.summary == "退款成功" and event.original_type == "refund"
    assert event.raw["resource"]["associated_data"] == "refund"
    assert event.resource["out_refund_no"] == "R1"


# --- property: nothing but a Notification or a WeChatPayError ------------------------------------

_HEADER_NAMES = ["Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"]
_header_name = st.one_of(
    st.sampled_from(_HEADER_NAMES),
    st.sampled_from(_HEADER_NAMES).map(str.lower),
    st.text(max_size=20),
)
_header_value = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=int(NOW) - 1000, max_value=int(NOW) + 1000).map(str),
    st.from_regex(r"[0-9]{1,400}", fullmatch=True),
    st.just(SERIAL),
    st.just("WECHATPAY/SIGNTEST/x"),
)
_body = st.one_of(st.binary(max_size=300), st.text(max_size=300))


def _json_text(max_size: int) -> st.SearchStrategy[str]:
    # text that JSON and UTF-8 can carry (no lone surrogates), for bodies we sign ourselves
    return st.text(st.characters(exclude_categories=["Cs"]), max_size=max_size)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _json_text(20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_json_text(12), children, max_size=4),
    max_leaves=12,
)
_resource = st.fixed_dictionaries(
    {},
    optional={
        "algorithm": st.one_of(st.just("AEAD_AES_256_GCM"), _json),
        "nonce": st.one_of(_json_text(16), _json),
        "ciphertext": st.one_of(_json_text(60), _json),
        "associated_data": st.one_of(st.just("transaction"), _json),
    },
)
_event = st.fixed_dictionaries(
    {"resource": st.one_of(_resource, _json)},
    optional={"id": _json, "event_type": _json, "summary": _json, "create_time": _json},
)


def _parse_or_error(headers: Any, body: bytes | str) -> None:
    try:
        result = parse(headers, body)
    except WeChatPayError:
        return
    assert isinstance(result, Notification)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=st.dictionaries(_header_name, _header_value, max_size=6), body=_body)
def test_arbitrary_headers_and_bodies(headers: dict[str, str], body: bytes | str) -> None:
    _parse_or_error(headers, body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.one_of(_body, _json.map(dump_json), _event.map(dump_json)))
def test_arbitrary_correctly_signed_bodies(body: bytes | str) -> None:
    raw = body.encode("utf-8", errors="surrogatepass") if isinstance(body, str) else body
    headers = sign_answer_headers(platform_key(), SERIAL, raw, timestamp=str(int(NOW)), nonce="n")
    _parse_or_error(headers, raw)
