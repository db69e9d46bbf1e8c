"""Sensitive fields (RSA-OAEP, spec-driven) and media uploads against the mock platform."""

from __future__ import annotations

import base64
import hashlib
import io

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from wechatpay_chain import Client, ValidationError
from wechatpay_chain.mock import MockAnswer, MockCall, MockPlatform
from wechatpay_chain.trust.crypto import oaep_encrypt

RECEIVER = {
    "appid": "wx8888888888888888",
    "type": "MERCHANT_ID",
    "account": "86693852",
    "name": "海南浦发奢侈品有限公司",
    "relation_type": "STORE",
}
OAEP_SHA1 = padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)


def _platform_decrypt(mock: MockPlatform, ciphertext: str) -> str:
    return mock.platform_key.decrypt(base64.b64decode(ciphertext), OAEP_SHA1).decode()


def test_sensitive_field_is_encrypted_with_the_platform_key(client: Client, mock: MockPlatform) -> None:
    payload = dict(RECEIVER)
    client.v3.profitsharing.receivers.add.post(json=payload)
    call = mock.calls[-1]
    assert payload["name"] == RECEIVER["name"]  # the caller's dict is untouched
    assert call.json["name"] != RECEIVER["name"]
    assert _platform_decrypt(mock, call.json["name"]) == RECEIVER["name"]
    assert call.headers["Wechatpay-Serial"] == mock.public_key_id
    assert call.json["account"] == RECEIVER["account"]  # only the marked field


def test_caller_ciphertext_with_serial_is_left_alone(client: Client, mock: MockPlatform) -> None:
    ciphertext = oaep_encrypt(mock.platform_key.public_key(), "自己加密")
    client.v3.profitsharing.receivers.add.post(
        json={**RECEIVER, "name": ciphertext}, headers={"Wechatpay-Serial": mock.public_key_id}
    )
    assert mock.calls[-1].json["name"] == ciphertext


def test_public_key_mode_names_the_key_on_every_request(client: Client, mock: MockPlatform) -> None:
    client.v3.pay.transactions.id._transaction_id_.get(transaction_id="42", query={"mchid": "1900000109"})
    assert mock.calls[-1].headers["Wechatpay-Serial"] == mock.public_key_id


def test_sensitive_field_without_a_platform_key_is_refused(mock: MockPlatform) -> None:
    with mock.client(certs={}) as client, pytest.raises(ValidationError) as caught:
        client.v3.profitsharing.receivers.add.post(json=RECEIVER)
    assert "encrypt" in [error.rule for error in caught.value.errors]
    assert not mock.calls


def test_manual_encrypt_and_decrypt(client: Client, mock: MockPlatform) -> None:
    ciphertext = client.encrypt("张三")
    assert _platform_decrypt(mock, ciphertext) == "张三"
    assert client.encryption_serial == mock.public_key_id
    for_merchant = oaep_encrypt(mock.merchant_key.public_key(), "李四")
    assert client.decrypt(for_merchant) == "李四"


def test_answer_fields_are_decrypted_on_request(client: Client, mock: MockPlatform) -> None:
    encrypted = oaep_encrypt(mock.merchant_key.public_key(), "王五")
    key = "v3/fund-app/mch-transfer/transfer-bills/transfer-bill-no/{transfer_bill_no}"
    mock.on("GET", key, lambda call: {"transfer_bill_no": "1", "user_name": encrypted})
    node = client.v3.fund_app.mch_transfer.transfer_bills.transfer_bill_no["1330000071100999991182020050700019480001"]
    assert node.get().json()["user_name"] == encrypted
    assert node.get(decrypt=True).json()["user_name"] == "王五"


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_upload_signs_the_meta_part_and_the_mock_verifies_it(client: Client, mock: MockPlatform) -> None:
    answer = client.v3.merchant.media.upload.post(files={"file": ("logo.png", PNG)})
    assert answer.json()["media_id"]
    call = mock.calls[-1]
    assert call.files == {"file": ("logo.png", PNG)}
    assert call.json == {"filename": "logo.png", "sha256": hashlib.sha256(PNG).hexdigest()}


def test_upload_from_a_file_object_in_async(mock: MockPlatform) -> None:
    import asyncio

    async def main() -> None:
        async with mock.client() as client:
            await client.chain("v3/merchant/media/upload").post_async(files={"file": ("scan.jpg", io.BytesIO(PNG))})

    asyncio.run(main())
    assert mock.calls[-1].files["file"][1] == PNG


@pytest.mark.parametrize(
    "files, rule",
    [
        ({}, "required"),
        ({"file": ("logo.gif", PNG)}, "extensions"),
        ({"file": ("logo.png", b"")}, "minLength"),
        ({"file": ("logo.png", b"x" * (7864320 + 1))}, "max_size"),
        ({"file": "logo.png"}, "type"),
    ],
)
def test_bad_uploads_are_refused_before_sending(
    client: Client, mock: MockPlatform, files: dict[str, object], rule: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        client.v3.merchant.media.upload.post(files=files)
    assert rule in [error.rule for error in caught.value.errors]
    assert not mock.calls


def test_mock_refuses_a_meta_that_does_not_match_the_file(client: Client, mock: MockPlatform) -> None:
    seen: list[MockCall] = []
    mock.on("POST", "v3/merchant/media/upload", lambda call: seen.append(call) or MockAnswer(200, {"media_id": "m"}))
    from wechatpay_chain import ApiError

    with pytest.raises(ApiError) as caught:
        client.v3.merchant.media.upload.post(files={"file": ("logo.png", PNG)}, json={"sha256": "0" * 64})
    assert caught.value.code == "PARAM_ERROR" and "sha256" in (caught.value.message or "")
    assert not seen


def test_sensitive_query_parameter_and_answer_fields(client: Client, mock: MockPlatform) -> None:
    for_merchant = oaep_encrypt(mock.merchant_key.public_key(), "13800138000")
    mock.on(
        "GET",
        "v3/smartguide/guides",
        lambda call: {"data": [{"guide_id": "g", "name": for_merchant, "mobile": for_merchant}], "total_count": 1},
    )
    answer = client.v3.smartguide.guides.get(query={"store_id": 1234, "mobile": "13800138000"}, decrypt=True)
    sent = mock.calls[-1]
    assert sent.query["store_id"] == "1234"
    assert _platform_decrypt(mock, sent.query["mobile"]) == "13800138000"
    assert sent.headers["Wechatpay-Serial"] == mock.public_key_id
    assert answer.json()["data"][0]["mobile"] == "13800138000"


def test_sealed_answer_objects_open_with_the_apiv3_key(client: Client, mock: MockPlatform) -> None:
    mock.sign_with = "certificate"
    try:
        with mock.client(certs={mock.certificate_serial: mock.platform_certificate}) as certificate_client:
            document = certificate_client.v3.certificates.get(decrypt=True).json()
    finally:
        mock.sign_with = "public_key"
    assert document["data"][0]["encrypt_certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_json_string_fields_accept_objects() -> None:
    from wechatpay_chain.v3.fields import encode_json_strings

    payload = {"business": {"store_photos": ["m1", "m2"]}, "other": {"a": 1}}
    encoded = encode_json_strings(payload, ["/business/store_photos"])
    assert encoded == {"business": {"store_photos": '["m1","m2"]'}, "other": {"a": 1}}
    assert payload["business"]["store_photos"] == ["m1", "m2"]  # the caller's dict is untouched
