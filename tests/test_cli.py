"""The ``wechatpay`` command line against the mock platform."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from wechatpay_chain.cli import main
from wechatpay_chain.mock import MockPlatform


@pytest.fixture
def config(mock: MockPlatform, tmp_path: Path) -> Path:
    (tmp_path / "merchant_key.pem").write_text(mock.merchant_private_key_pem)
    (tmp_path / "platform.pem").write_text(mock.platform_public_key_pem)
    path = tmp_path / "wechatpay.toml"
    path.write_text(
        f'mchid = "{mock.mchid}"\nserial = "{mock.merchant_serial}"\nprivate_key = "merchant_key.pem"\n'
        f'apiv3_key = "{mock.apiv3_key}"\nbase_url = "{mock.base_url}"\n'
        f'[certs]\n"{mock.public_key_id}" = "platform.pem"\n'
    )
    return path


def test_demo_runs_as_a_program() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wechatpay_chain", "demo"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("HTTP 200") == 7
    assert "ValidationError" in result.stdout and "SignatureError" in result.stdout and "ApiError" in result.stdout


def test_call_post_with_json_file(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = tmp_path / "body.json"
    body.write_text(
        json.dumps(
            {
                "out_order_no": "P1",
                "out_return_no": "R1",
                "return_mchid": "86693852",
                "amount": 10,
                "description": "用户退款",
            },
            ensure_ascii=False,
        )
    )
    assert main(["--config", str(config), "call", "POST", "v3/profitsharing/return-orders", "--json", f"@{body}"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["out_return_no"] and "verified by PUB_KEY_ID_" in out.err


def test_call_validates_before_sending(config: Path, mock: MockPlatform, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--config", str(config), "call", "POST", "v3/profitsharing/return-orders", "--json", '{"amount": "x"}'])
        == 2
    )
    assert "ValidationError" in capsys.readouterr().err
    assert not mock.calls


def test_call_get_with_query(config: Path, mock: MockPlatform) -> None:
    assert (
        main(
            ["--config", str(config), "call", "GET", "v3/pay/transactions/id/4200000001", "--query", "mchid=1900000109"]
        )
        == 0
    )
    assert mock.calls[-1].query == {"mchid": "1900000109"}


def test_specs_list_show_and_search(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["specs", "list", "v3/profitsharing"]) == 0
    assert "v3/profitsharing/return-orders" in capsys.readouterr().out
    assert main(["specs", "show", "v3/profitsharing/return-orders"]) == 0
    shown = capsys.readouterr().out
    assert "请求分账回退" in shown and "* out_return_no" in shown
    assert "! one of order_id, out_order_no is required" in shown
    assert main(["specs", "list", "--search", "分账回退"]) == 0
    assert "return-orders" in capsys.readouterr().out
    assert main(["specs", "show", "v3/profitsharing/return-order"]) == 1
    assert "did you mean v3/profitsharing/return-orders" in capsys.readouterr().err


def test_certs_download(config: Path, tmp_path: Path, mock: MockPlatform) -> None:
    out = tmp_path / "certs"
    assert main(["--config", str(config), "certs", "download", "--out", str(out)]) == 0
    assert (out / f"{mock.certificate_serial}.pem").is_file()


def test_bill_download(config: Path, tmp_path: Path) -> None:
    target = tmp_path / "bill.csv"
    assert main(["--config", str(config), "bill", "download", "--date", "2026-11-24", "--out", str(target)]) == 0
    assert target.read_bytes().startswith("交易时间".encode())


def test_missing_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(tmp_path / "none.toml"), "call", "GET", "v3/certificates"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_mock_serve_writes_a_config_a_client_can_use(tmp_path: Path) -> None:
    from wechatpay_chain import Client

    server = subprocess.Popen(
        [sys.executable, "-m", "wechatpay_chain", "mock", "serve", "--keys-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        assert first.startswith("mock platform on http://127.0.0.1:")
        with Client.from_file(tmp_path / "wechatpay.toml") as client:
            answer = client.v3.pay.transactions.native.post(
                json={
                    "appid": "wxd678efh567hg6787",
                    "mchid": client.mchid,
                    "description": "x",
                    "out_trade_no": "N1",
                    "notify_url": "http://127.0.0.1:9/notify",
                    "amount": {"total": 1},
                }
            )
            assert answer.verified and answer.verified.startswith("PUB_KEY_ID_")
            v2 = client.v2.pay.unifiedorder.post(
                xml={
                    "appid": "wxd678efh567hg6787",
                    "body": "x",
                    "out_trade_no": "T1",
                    "total_fee": "1",
                    "spbill_create_ip": "127.0.0.1",
                    "notify_url": "http://127.0.0.1:9/notify",
                    "trade_type": "NATIVE",
                }
            )
            assert v2.verified  # the config carries the v2 secret too
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def v2_config(config: Path, mock: MockPlatform) -> Path:
    """The config with the APIv2 secret (a top-level key, so before the [certs] table)."""
    config.write_text(config.read_text().replace("[certs]", f'secret = "{mock.secret}"\n[certs]', 1))
    return config


def test_call_v2_with_xml_fields(v2_config: Path, mock: MockPlatform, capsys: pytest.CaptureFixture[str]) -> None:
    fields = '{"appid": "wxd678efh567hg6787", "out_trade_no": "T1"}'
    assert main(["--config", str(v2_config), "call", "POST", "v2/pay/orderquery", "--xml", fields]) == 0
    out = capsys.readouterr()
    answer = json.loads(out.out)
    assert answer["return_code"] == "SUCCESS" and answer["out_trade_no"] == "T1"
    assert "verified by HMAC-SHA256" in out.err or "verified by MD5" in out.err
    assert mock.calls[-1].json["out_trade_no"] == "T1"


def test_call_v2_accepts_an_xml_document(v2_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    xml = "<xml><appid>wxd678efh567hg6787</appid><out_trade_no>T2</out_trade_no></xml>"
    assert main(["--config", str(v2_config), "call", "POST", "v2/pay/orderquery", "--xml", xml]) == 0
    assert json.loads(capsys.readouterr().out)["out_trade_no"] == "T2"


def test_call_v2_fail_is_an_error_and_debug_shows_the_answer(
    v2_config: Path, mock: MockPlatform, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    logger = logging.getLogger("wechatpay_chain")
    handlers, level = list(logger.handlers), logger.level
    try:
        argv = ["--config", str(v2_config), "--debug", "--set", "validate=false"]
        assert main([*argv, "call", "POST", "v2/pay/orderquery", "--xml", '{"appid": "wx1"}']) == 2
    finally:
        logger.handlers[:], logger.level = handlers, level
    err = capsys.readouterr().err
    assert "error: ApiError: HTTP 200 FAIL" in err
    assert "<return_code><![CDATA[FAIL]]></return_code>" in err and "<sign>***</sign>" in err
    assert mock.secret not in err


def test_set_overrides_any_client_keyword(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--config", str(config), "--set", "retries=2", "call", "GET", "v3/certificates"]
    assert main(argv) == 2
    assert "unknown key 'retries' (did you mean 'retry'?)" in capsys.readouterr().err
    argv = ["--config", str(config), "--set", "validate=maybe", "call", "GET", "v3/certificates"]
    assert main(argv) == 2
    assert "--set validate: expected true or false" in capsys.readouterr().err


def test_xml_on_a_v3_path_is_a_clear_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(config), "call", "POST", "v3/profitsharing/return-orders", "--xml", "{}"]) == 2
    assert "xml= is for APIv2 paths" in capsys.readouterr().err


def _serve(*options: str) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "wechatpay_chain", "mock", "serve", *options], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    assert server.stdout.readline().startswith("mock platform on http://127.0.0.1:")
    return server


def test_mock_serve_port_state_file_and_sigterm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A sandbox on a chosen port, driven from the shell, its state kept across a SIGTERM."""
    import signal
    import socket

    from wechatpay_chain import Client

    with socket.socket() as probe:  # a port that is free now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state = tmp_path / "sandbox.json"
    options = ("--keys-dir", str(tmp_path), "--port", str(port), "--state", str(state))
    server = _serve(*options)
    try:
        with Client.from_file(tmp_path / "wechatpay.toml") as client:
            assert client.base_url == f"http://127.0.0.1:{port}"
            client.v3.pay.transactions.native.post(
                json={
                    "appid": "wxd678efh567hg6787",
                    "mchid": client.mchid,
                    "description": "tea",
                    "out_trade_no": "CLI-1",
                    "notify_url": "http://127.0.0.1:9/notify",
                    "amount": {"total": 7},
                }
            )
        assert main(["mock", "pay", "CLI-1", "--port", str(port), "--payer", "oCLI"]) == 0
        assert '"trade_state": "SUCCESS"' in capsys.readouterr().out
        assert main(["mock", "pay", "CLI-1", "--port", str(port)]) == 1
        assert "not NOTPAY" in capsys.readouterr().err
        assert main(["mock", "fail-refund", "NONE", "--port", str(port)]) == 1
        assert "no refund 'NONE'" in capsys.readouterr().err
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
    assert "CLI-1" in state.read_text("utf-8")
    server = _serve(*options)
    try:
        assert main(["mock", "order", "CLI-1", "--port", str(port)]) == 0
        stored = json.loads(capsys.readouterr().out)
        assert stored["payer"]["openid"] == "oCLI" and stored["trade_state"] == "SUCCESS"
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=10) == 0


def test_mock_drives_transfers_and_combined_orders_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What only the platform does to a transfer bill or a combined order, asked from the shell."""
    import signal

    from _ports import free_port

    from wechatpay_chain import Client

    port = free_port()
    server = _serve("--keys-dir", str(tmp_path), "--port", str(port))
    try:
        with Client.from_file(tmp_path / "wechatpay.toml") as client:
            client.v3.fund_app.mch_transfer.transfer_bills.post(
                json={
                    "appid": "wxd678efh567hg6787",
                    "out_bill_no": "CLI-T1",
                    "transfer_scene_id": "1000",
                    "openid": "o-MYE42l80oelYMDE34nYD456Xoy",
                    "transfer_amount": 400,
                    "transfer_remark": "2026年11月报销",
                    "transfer_scene_report_infos": [{"info_type": "活动名称", "info_content": "注册会员有礼"}],
                }
            )
        assert main(["mock", "confirm-transfer", "CLI-T1", "--port", str(port)]) == 0
        capsys.readouterr()
        assert main(["mock", "complete-transfer", "CLI-T1", "--port", str(port), "--fail", "ACCOUNT_FROZEN"]) == 0
        finished = json.loads(capsys.readouterr().out)
        assert finished["state"] == "FAIL" and finished["fail_reason"] == "ACCOUNT_FROZEN"
        assert main(["mock", "pay-combined", "NO-SUCH", "--port", str(port)]) == 1
        assert "NO-SUCH" in capsys.readouterr().err
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0


def test_mock_drive_without_a_server(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["mock", "advance", "60", "--port", str(port)]) == 2
    assert "no mock platform" in capsys.readouterr().err
