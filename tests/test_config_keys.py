"""Every Client keyword is a config key (file, environment); unknown keys are errors naming them."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from wechatpay_chain import Client, ConfigError
from wechatpay_chain.config import client_keywords, client_kwargs_from_env, client_kwargs_from_file
from wechatpay_chain.mock import MockPlatform
from wechatpay_chain.retry import NO_RETRY, Retry
from wechatpay_chain.transport.aio import Timeout

KEYWORDS = client_keywords(Client.__init__)  # what Client(...) takes


def test_the_keys_are_the_keywords_of_client() -> None:
    names = [name for name in inspect.signature(Client.__init__).parameters if name != "self"]
    assert list(KEYWORDS) == names
    kinds = {name: keyword.kind for name, keyword in KEYWORDS.items()}
    assert kinds["timeout"] == "timeout" and kinds["retry"] == "retry" and kinds["validate"] == "bool"
    assert kinds["backup_urls"] == "list" and kinds["certs"] == "certs" and kinds["signing_threads"] == "int"
    assert kinds["on_attempt"] == kinds["clock"] == "object" and kinds["secret"] == "str"


def test_env_converts_by_annotation() -> None:
    environ = {
        "WECHATPAY_MCHID": "1900000109",
        "WECHATPAY_SECRET": "s" * 32,
        "WECHATPAY_VALIDATE": "false",
        "WECHATPAY_STRICT": "Yes",
        "WECHATPAY_TIMEOUT": "total=12,connect=3,read=none",
        "WECHATPAY_RETRY": "attempts=5,backoff=0.5",
        "WECHATPAY_BACKUP_URLS": "https://a.example/, https://b.example/",
        "WECHATPAY_SIGNING_THREADS": "2",
        "WECHATPAY_CLIENT_CERT": "/etc/wechatpay/apiclient_cert.pem",
        "WECHATPAY_EMPTY_IS_UNSET": "",
        "OTHER_VARIABLE": "ignored",
    }
    kwargs = client_kwargs_from_env(KEYWORDS, environ=environ)
    assert kwargs == {
        "mchid": "1900000109",
        "secret": "s" * 32,
        "validate": False,
        "strict": True,
        "timeout": Timeout(total=12.0, connect=3.0, read=None),
        "retry": Retry(attempts=5, backoff=0.5),
        "backup_urls": ["https://a.example/", "https://b.example/"],
        "signing_threads": 2,
        "client_cert": "/etc/wechatpay/apiclient_cert.pem",
    }
    assert (
        client_kwargs_from_env(KEYWORDS, environ={"WECHATPAY_MCHID": "1", "WECHATPAY_TIMEOUT": "7"})["timeout"] == 7.0
    )
    assert (
        client_kwargs_from_env(KEYWORDS, environ={"WECHATPAY_MCHID": "1", "WECHATPAY_RETRY": "none"})["retry"] is None
    )
    assert client_kwargs_from_env(KEYWORDS, environ={"WECHATPAY_MCHID": "1", "WECHATPAY_RETRY": "1"})["retry"] == 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WECHATPAY_VALIDATE", "maybe", "WECHATPAY_VALIDATE: expected true or false"),
        ("WECHATPAY_SIGNING_THREADS", "two", "WECHATPAY_SIGNING_THREADS: expected a whole number"),
        ("WECHATPAY_TIMEOUT", "total=1,wait=2", "unknown part 'wait'"),
        ("WECHATPAY_RETRY", "attempts=x", "WECHATPAY_RETRY.attempts: expected a whole number"),
        ("WECHATPAY_ON_ATTEMPT", "print", "on_attempt takes a Python object"),
        ("WECHATPAY_RETRIES", "3", "unknown key WECHATPAY_RETRIES (did you mean WECHATPAY_RETRY?)"),
        ("WECHATPAY_APIV3KEY", "k", "unknown key WECHATPAY_APIV3KEY (did you mean WECHATPAY_APIV3_KEY?)"),
    ],
)
def test_env_errors_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        client_kwargs_from_env(KEYWORDS, environ={"WECHATPAY_MCHID": "1", variable: value})


def test_env_errors_never_show_the_value() -> None:
    with pytest.raises(ConfigError) as caught:
        client_kwargs_from_env(KEYWORDS, environ={"WECHATPAY_MCHID": "1", "WECHATPAY_SECRETS": "TOP-SECRET-VALUE"})
    assert "TOP-SECRET-VALUE" not in str(caught.value) and "WECHATPAY_SECRET?" in str(caught.value)


def test_file_takes_every_keyword_with_tables(tmp_path: Path) -> None:
    config = tmp_path / "wechatpay.toml"
    config.write_text(
        """
[wechatpay]
mchid = "1900000109"
secret = "v2secret"
client_cert = "certs/apiclient_cert.pem"
client_key = "/abs/apiclient_key.pem"
cafile = "ca.pem"
validate = false
correct_clock = "true"
backup_urls = ["https://b.example"]
specs = ["myspecs"]
signing_threads = 1
timeout = {total = 20, connect = 2}
retry = {attempts = 4, statuses = [500, 503]}
"""
    )
    kwargs = client_kwargs_from_file(KEYWORDS, config)
    assert kwargs["client_cert"] == str(tmp_path / "certs/apiclient_cert.pem")
    assert kwargs["client_key"] == "/abs/apiclient_key.pem"
    assert kwargs["cafile"] == str(tmp_path / "ca.pem") and kwargs["specs"] == [str(tmp_path / "myspecs")]
    assert kwargs["validate"] is False and kwargs["correct_clock"] is True and kwargs["signing_threads"] == 1
    assert kwargs["timeout"] == Timeout(total=20.0, connect=2.0)
    assert kwargs["retry"] == Retry(attempts=4, statuses=frozenset({500, 503}))
    assert kwargs["secret"] == "v2secret" and kwargs["backup_urls"] == ["https://b.example"]


def test_file_unknown_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    config = tmp_path / "wechatpay.json"
    config.write_text(json.dumps({"mchid": "1", "api_v3_key": "x" * 32}))
    with pytest.raises(ConfigError, match=r"unknown key 'api_v3_key' \(did you mean 'apiv3_key'\?\)"):
        client_kwargs_from_file(KEYWORDS, config)
    config.write_text(json.dumps({"mchid": "1", "clock": "now"}))
    with pytest.raises(ConfigError, match="clock takes a Python object"):
        client_kwargs_from_file(KEYWORDS, config)
    config.write_text(json.dumps({"mchid": "1", "retry": {"tries": 2}}))
    with pytest.raises(ConfigError, match="unknown part 'tries'"):
        client_kwargs_from_file(KEYWORDS, config)


def test_from_file_builds_a_working_v2_and_v3_client(mock: MockPlatform, tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text(mock.merchant_private_key_pem)
    (tmp_path / "platform.pem").write_text(mock.platform_public_key_pem)
    config = tmp_path / "wechatpay.toml"
    config.write_text(
        f'mchid = "{mock.mchid}"\nserial = "{mock.merchant_serial}"\nprivate_key = "key.pem"\n'
        f'base_url = "{mock.base_url}"\nsecret = "{mock.secret}"\nretry = 1\ntimeout = 15\nvalidate = true\n'
        f'[certs]\n"{mock.public_key_id}" = "platform.pem"\n'
    )
    with Client.from_file(config) as client:
        assert client.retry == NO_RETRY and client.transport.timeout.total == 15.0
        answer = client.v2.pay.orderquery.post(xml={"appid": "wxd678efh567hg6787", "out_trade_no": "T1"})
        assert answer.data["return_code"] == "SUCCESS" and answer.verified


def test_from_env_builds_a_client(mock: MockPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHATPAY_MCHID", mock.mchid)
    monkeypatch.setenv("WECHATPAY_SECRET", mock.secret)
    monkeypatch.setenv("WECHATPAY_BASE_URL", mock.base_url)
    monkeypatch.setenv("WECHATPAY_RETRY", "2")
    monkeypatch.setenv("WECHATPAY_VALIDATE_RESPONSES", "on")
    with Client.from_env() as client:
        assert client.retry.attempts == 2 and client.validate_responses is True
        assert client.v2_settings.secret.reveal() == mock.secret


def test_overrides_may_supply_the_mchid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WECHATPAY_MCHID", raising=False)
    monkeypatch.setenv("WECHATPAY_SECRET", "s" * 32)
    with Client.from_env(mchid="1900000109") as client:
        assert client.mchid == "1900000109" and client.v2_settings.secret.reveal() == "s" * 32
    config = tmp_path / "v2.toml"
    config.write_text('secret = "abcdabcd"\n')
    with Client.from_file(config, mchid="1900000110") as client:
        assert client.mchid == "1900000110"


def test_a_keyword_whose_none_means_something_takes_none_from_env_and_file(tmp_path: Path) -> None:
    from wechatpay_chain.config import convert_text

    keyword = KEYWORDS["max_answer_bytes"]
    assert convert_text(keyword, "none", "WECHATPAY_MAX_ANSWER_BYTES") is None
    assert convert_text(keyword, "1048576", "WECHATPAY_MAX_ANSWER_BYTES") == 1 << 20
    config = tmp_path / "wechatpay.json"
    config.write_text('{"mchid": "1900000109", "max_answer_bytes": null}', encoding="utf-8")
    with Client.from_file(config) as client:
        assert client.transport.max_answer_bytes is None
