"""``apiv3_keys=[new, old]`` while the APIv3 key is being reset: each envelope opens with the key
that sealed it (the AES-GCM tag tells), notifications, platform certificates and answer fields alike."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from _secrets_check import assert_no_secret_in_locals

from wechatpay_chain import Client, ConfigError, DecryptionError
from wechatpay_chain.config import client_keywords, client_kwargs_from_env, client_kwargs_from_file
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.trust.crypto import APIv3Keys, aes_gcm_decrypt, aes_gcm_encrypt
from wechatpay_chain.v3.notifications import build_notification

NEW = "N3wApiV3KeyN3wApiV3KeyN3wApiV3Ke"
OTHER = "0therApiV3Key0therApiV3Key0therA"


def _notification(mock: MockPlatform, apiv3_key: str) -> tuple[dict[str, str], bytes]:
    return build_notification(
        "REFUND.SUCCESS",
        {"out_refund_no": "R1", "refund_status": "SUCCESS"},
        apiv3_key=apiv3_key,
        platform_key=mock.platform_key,
        serial=mock.public_key_id,
    )


def test_notifications_sealed_with_either_key_open(mock: MockPlatform) -> None:
    old = mock.apiv3_key
    with mock.client(apiv3_key=None, apiv3_keys=[NEW, old]) as client:
        for key in (NEW, old):  # the platform switches while notifications are on their way
            event = client.notifications.parse(*_notification(mock, key))
            assert event["resource"]["out_refund_no"] == "R1"
        with pytest.raises(DecryptionError, match="tried 2 keys") as caught:
            client.notifications.parse(*_notification(mock, OTHER))
        assert_no_secret_in_locals(caught.value, NEW, old)
    with mock.client(apiv3_key=NEW) as only_new, pytest.raises(DecryptionError, match="wrong APIv3 key"):
        only_new.notifications.parse(*_notification(mock, old))


def test_platform_certificates_open_with_the_second_key(mock: MockPlatform) -> None:
    # the mock still seals with the old key: the client, set to the new one first, opens them anyway
    with mock.client(apiv3_key=None, apiv3_keys=[NEW, mock.apiv3_key]) as client:
        assert client.certificates.download()[0].serial == mock.certificate_serial
    with mock.client(apiv3_key=None, apiv3_keys=[NEW, OTHER]) as client, pytest.raises(DecryptionError):
        client.certificates.download()


def test_sealed_answer_fields_open_with_any_key(mock: MockPlatform) -> None:
    mock.sign_with = "certificate"
    try:
        with mock.client(
            apiv3_key=None,
            apiv3_keys=[OTHER, mock.apiv3_key],
            certs={mock.certificate_serial: mock.platform_certificate},
        ) as client:
            document = client.v3.certificates.get(decrypt=True).json()
    finally:
        mock.sign_with = "public_key"
    assert document["data"][0]["encrypt_certificate"].startswith("-----BEGIN CERTIFICATE-----")


def test_sealing_uses_the_first_key() -> None:
    keys = APIv3Keys([NEW, OTHER])
    sealed = aes_gcm_encrypt(keys, "nonce1234567", b"plain", "aad")
    assert aes_gcm_decrypt(NEW, "nonce1234567", sealed, "aad") == b"plain"
    assert aes_gcm_decrypt(APIv3Keys([OTHER, NEW]), "nonce1234567", sealed, "aad") == b"plain"
    with pytest.raises(DecryptionError, match="32 bytes"):
        aes_gcm_decrypt(APIv3Keys([OTHER, "short"]), "nonce1234567", sealed, "aad")


@pytest.mark.parametrize(
    ("options", "argument", "reason"),
    [
        ({"apiv3_key": NEW, "apiv3_keys": [NEW]}, "apiv3_keys", "not both"),
        ({"apiv3_keys": [NEW, "too-short-apiv3-key"]}, "apiv3_keys[1]", "32 bytes"),
        ({"apiv3_keys": [b"\x00" * 31]}, "apiv3_keys[0]", "32 bytes"),
        ({"apiv3_keys": [NEW, 42]}, "apiv3_keys[1]", "32 bytes"),
        ({"apiv3_keys": []}, "apiv3_keys", "a list of APIv3 keys"),
        ({"apiv3_keys": NEW}, "apiv3_keys", "a list of APIv3 keys"),
    ],
)
def test_bad_apiv3_keys_name_the_key(options: dict[str, Any], argument: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Client("1900000109", **options)
    assert caught.value.argument == argument and reason in caught.value.reason
    assert_no_secret_in_locals(caught.value, NEW, "too-short-apiv3-key")


def test_the_keys_are_held_as_secrets(mock: MockPlatform) -> None:
    old = mock.apiv3_key
    with mock.client(apiv3_key=None, apiv3_keys=[NEW, old]) as client:
        keys = client.apiv3_keys
        assert keys is not None and len(keys) == 2
        for text in (repr(keys), str(keys), repr(client), repr(list(keys)), repr(client._engine.settings)):
            assert NEW not in text and old not in text
        assert [key.reveal() for key in keys] == [NEW, old]
        assert client.apiv3_key is not None and client.apiv3_key.reveal() == NEW  # the current one
        with pytest.raises(TypeError):
            pickle.dumps(keys)
        client.apiv3_key = old  # setting the single key leaves that one
        assert client.apiv3_keys is not None and [key.reveal() for key in client.apiv3_keys] == [old]
        client.apiv3_key = None
        assert client.apiv3_keys is None


def test_apiv3_keys_from_the_environment_and_a_file(tmp_path: Path) -> None:
    known = client_keywords(Client.__init__)
    assert known["apiv3_keys"].kind == "list"
    environ = {"WECHATPAY_MCHID": "1", "WECHATPAY_APIV3_KEYS": f"{NEW}, {OTHER}"}
    assert client_kwargs_from_env(known, environ=environ)["apiv3_keys"] == [NEW, OTHER]
    config = tmp_path / "wechatpay.toml"
    config.write_text(f'mchid = "1"\napiv3_keys = ["{NEW}", "{OTHER}"]\n', encoding="utf-8")
    assert client_kwargs_from_file(known, config)["apiv3_keys"] == [NEW, OTHER]
    with Client.from_file(config) as client:
        assert client.apiv3_keys is not None and len(client.apiv3_keys) == 2
