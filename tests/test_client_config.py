"""Client construction: key material in every accepted form, clear errors, no secrets in messages."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from wechatpay_chain import Client, ConfigError
from wechatpay_chain.config import client_keywords, client_kwargs_from_env

KEYWORDS = client_keywords(Client.__init__)  # what Client(...) takes

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PLATFORM = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PKCS8 = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PKCS1 = KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
).decode()
PUBLIC = (
    PLATFORM.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
# PEM armour around garbage, assembled so that no file holds a private-key block.
NOT_A_KEY = "-----BEGIN " + "PRIVATE KEY-----\nnot a key\n-----END " + "PRIVATE KEY-----"


def _certificate() -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tenpay.com Root CA test")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(PLATFORM.public_key())
        .serial_number(0x7132D72A03E93CDDF8C03BBD1F37EEDFFCCE8A7A)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(PLATFORM, hashes.SHA256())
    )


def _client(**overrides: object) -> Client:
    settings: dict[str, object] = {
        "mchid": "1900000109",
        "serial": SERIAL,
        "private_key": PKCS8,
        "certs": {"PUB_KEY_ID_1": PUBLIC},
    }
    settings.update(overrides)
    return Client(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("form", ["pkcs8", "pkcs1", "path", "pathlike", "file_url", "object", "bytes"])
def test_private_key_forms(tmp_path: Path, form: str) -> None:
    path = tmp_path / "apiclient_key.pem"
    path.write_text(PKCS1)
    source = {
        "pkcs8": PKCS8,
        "pkcs1": PKCS1,
        "path": str(path),
        "pathlike": path,
        "file_url": path.as_uri(),
        "object": KEY,
        "bytes": PKCS8.encode(),
    }[form]
    client = _client(private_key=source)
    assert client.private_key is not None
    assert client.private_key.private_numbers() == KEY.private_numbers()


@pytest.mark.parametrize("form", ["pem_public", "certificate_pem", "certificate_object", "key_object", "path"])
def test_certs_forms(tmp_path: Path, form: str) -> None:
    certificate = _certificate()
    path = tmp_path / "pub_key.pem"
    path.write_text(PUBLIC)
    source = {
        "pem_public": PUBLIC,
        "certificate_pem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
        "certificate_object": certificate,
        "key_object": PLATFORM.public_key(),
        "path": str(path),
    }[form]
    client = _client(certs={"7132D72A03E93CDDF8C03BBD1F37EEDFFCCE8A7A": source})
    assert (
        client.trusted_keys["7132D72A03E93CDDF8C03BBD1F37EEDFFCCE8A7A"].public_numbers()
        == PLATFORM.public_key().public_numbers()
    )


@pytest.mark.parametrize(
    "overrides, argument, reason",
    [
        ({"private_key": "/nonexistent/key.pem"}, "private_key", "no such file"),
        (
            {"private_key": NOT_A_KEY},
            "private_key",
            "not a readable",
        ),
        ({"private_key": PUBLIC}, "private_key", "not a readable"),
        ({"private_key": PLATFORM.public_key()}, "private_key", "got a public key"),
        ({"certs": {"PUB_KEY_ID_1": PKCS8}}, "certs['PUB_KEY_ID_1']", "got a private key"),
        ({"certs": {"PUB_KEY_ID_1": "garbage"}}, "certs['PUB_KEY_ID_1']", "no such file"),
        (
            {"certs": {"X": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"}},
            "certs['X']",
            "not a readable",
        ),
        ({"serial": None}, "serial", "go together"),
        ({"mchid": ""}, "mchid", "non-empty"),
        ({"apiv3_key": "short"}, "apiv3_key", "32 bytes"),
        ({"base_url": "ftp://x"}, "base_url", "https"),
    ],
)
def test_bad_configuration_names_the_argument(overrides: dict[str, object], argument: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _client(**overrides)
    assert caught.value.argument == argument
    assert reason in str(caught.value)
    assert "BEGIN" not in str(caught.value)


def test_non_rsa_key_is_refused() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ConfigError, match="RSA"):
        _client(private_key=pem)


def test_repr_and_errors_carry_no_key_material() -> None:
    client = _client(apiv3_key="0123456789abcdef0123456789abcdef")
    text = repr(client)
    assert "1900000109" in text and "PUB_KEY_ID_1" in text
    for secret in (PKCS8[40:80], "0123456789abcdef0123456789abcdef", str(KEY.private_numbers().d)[:20]):
        assert secret not in text


def test_from_env(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text(PKCS8)
    (tmp_path / "pub.pem").write_text(PUBLIC)
    environ = {
        "WECHATPAY_MCHID": "1900000109",
        "WECHATPAY_SERIAL": SERIAL,
        "WECHATPAY_PRIVATE_KEY": str(tmp_path / "key.pem"),
        "WECHATPAY_CERTS": f"PUB_KEY_ID_1={tmp_path / 'pub.pem'}",
    }
    kwargs = client_kwargs_from_env(KEYWORDS, environ=environ)
    client = Client(**kwargs)
    assert client.mchid == "1900000109" and list(client.trusted_keys) == ["PUB_KEY_ID_1"]
    with pytest.raises(ConfigError, match="WECHATPAY_MCHID"):
        client_kwargs_from_env(KEYWORDS, environ={})
    with pytest.raises(ConfigError, match="ID=path"):
        client_kwargs_from_env(KEYWORDS, environ={"WECHATPAY_MCHID": "1", "WECHATPAY_CERTS": "nonsense"})


def test_from_file_resolves_paths_beside_the_file(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text(PKCS8)
    (tmp_path / "pub.pem").write_text(PUBLIC)
    config = tmp_path / "wechatpay.toml"
    config.write_text(
        f'mchid = "1900000109"\nserial = "{SERIAL}"\nprivate_key = "key.pem"\n[certs]\nPUB_KEY_ID_1 = "pub.pem"\n'
    )
    client = Client.from_file(config)
    assert client.serial == SERIAL and "PUB_KEY_ID_1" in client.trusted_keys
    (tmp_path / "broken.toml").write_text("mchid = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Client.from_file(tmp_path / "broken.toml")


def test_encryption_prefers_the_public_key_id() -> None:
    client = _client(certs={"7132D72A03E93CDDF8C03BBD1F37EEDFFCCE8A7A": _certificate(), "PUB_KEY_ID_1": PUBLIC})
    assert client.encryption_serial == "PUB_KEY_ID_1"


def test_v3_call_without_keys_is_refused_before_sending() -> None:
    client = Client(mchid="1900000109")
    with pytest.raises(ConfigError, match="private_key"):
        client.chain("v3/certificates").get()


def test_a_key_without_its_pem_lines_is_never_echoed() -> None:
    body = "".join(PKCS8.strip().splitlines()[1:-1])  # the base64 body only, as env vars often hold it
    for overrides in ({"private_key": body}, {"secret": "s", "client_cert": body, "client_key": body}):
        with pytest.raises(ConfigError) as caught:
            _client(**overrides)
        message = str(caught.value)
        assert body[:40] not in message and body[-40:] not in message
        assert "not PEM text and not a readable file" in message


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "apiclient_key.pem"
    with pytest.raises(ConfigError, match=f"no such file: {missing}"):
        _client(private_key=str(missing))
