"""The security findings of issue 13 (clock, v2 FAIL signs, item access, secrets in
frame locals, headers, cafile, http://, chain literals), each with the test that
failed on the code before its fix."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from payloads import RETURN_ORDER

import wechatpay_chain
from wechatpay_chain import ApiError, Client, ConfigError, SignatureError, TransportError, ValidationError
from wechatpay_chain.clock import MAX_CLOCK_CORRECTION
from wechatpay_chain.errors import DecryptionError
from wechatpay_chain.mock import MockAnswer, MockPlatform
from wechatpay_chain.v2.codec import encode_xml
from wechatpay_chain.v2.messages import parse_v2_response, sign_v2_answer, v2_result_fail
from wechatpay_chain.v2.notifications import encrypt_req_info
from wechatpay_chain.v3.calls import fill_path
from wechatpay_chain.v3.notifications import build_notification
from wechatpay_chain.v3.protocol import MAX_CLOCK_SKEW

POST_KEY = ("POST", "v3/profitsharing/return-orders")
PACKAGE = Path(wechatpay_chain.__file__).resolve().parent
SECRET = "v2-secret-0123456789abcdef012345"
MICROPAY = {
    "appid": "wx2421b1c4370ec43b",
    "body": "image",
    "out_trade_no": "1415757673",
    "total_fee": 1,
    "spbill_create_ip": "14.17.22.52",
    "auth_code": "120061098828009406",
}


def _post(client: Client, **kwargs: Any) -> Any:
    return client.v3.profitsharing.return_orders.post(json=RETURN_ORDER, **kwargs)


# -- the clock -----------------------------------------------------------------------------------
def _notification(mock: MockPlatform, age: float) -> tuple[dict[str, str], bytes]:
    return build_notification(
        "TRANSACTION.SUCCESS",
        {"out_trade_no": "1217752501201407033233368018"},
        apiv3_key=mock.apiv3_key,
        platform_key=mock.platform_key,
        serial=mock.public_key_id if mock.sign_with == "public_key" else mock.certificate_serial,
        now=lambda: time.time() - age,
    )


def test_an_unsigned_401_date_teaches_the_clock_nothing(mock: MockPlatform) -> None:
    # Failed before: the Date of any 401 moved the clock (up to a day), so a day-old
    # notification was then accepted.
    day_ago = formatdate(time.time() - 23 * 3600, usegmt=True)
    mock.on("POST", POST_KEY[1], lambda call: MockAnswer(401, {"code": "SIGN_ERROR"}, {"Date": day_ago}, signed=False))
    offsets: list[float] = []
    with mock.client(correct_clock=True, retry=None) as client:
        client.on_attempt = lambda attempt: offsets.append(client.clock_offset)
        with pytest.raises(ApiError):
            _post(client)
        assert offsets[0] == 0.0 and client.clock_offset == 0.0
        headers, body = _notification(mock, 23 * 3600)
        with pytest.raises(SignatureError) as caught:
            client.notifications.parse(headers, body)
        assert caught.value.check == "timestamp"


def test_the_date_of_a_verified_answer_is_not_signed_and_teaches_nothing(mock: MockPlatform) -> None:
    # Failed before: a verified answer's Date (not covered by the signature) set the offset.
    ahead = formatdate(time.time() + 3600, usegmt=True)
    mock.on("POST", POST_KEY[1], lambda call: MockAnswer(200, dict(RETURN_ORDER), {"Date": ahead}))
    with mock.client(correct_clock=True, retry=None) as client:
        assert _post(client).status_code == 200
        assert client.clock_offset == 0.0
        assert _post(client).status_code == 200


def test_the_clock_learns_from_a_signed_timestamp_within_the_bound(mock: MockPlatform) -> None:
    skewed = lambda: time.time() + 600  # noqa: E731 - ten minutes fast
    with mock.client(clock=skewed, correct_clock=True, retry=None) as client:
        assert _post(client).status_code == 200  # the signed 401 taught the offset; signed again
        assert abs(client.clock_offset + 600) < 5


def test_a_skew_beyond_the_bound_is_not_corrected(mock: MockPlatform) -> None:
    # Failed before: a two-hour skew was "corrected" from the Date header.
    assert MAX_CLOCK_CORRECTION < 7200
    skewed = lambda: time.time() + 7200  # noqa: E731
    with mock.client(clock=skewed, correct_clock=True, retry=None) as client:
        with pytest.raises(ApiError) as caught:
            _post(client)
        assert caught.value.status_code == 401
        assert client.clock_offset == 0.0


def test_replayed_old_answers_cannot_walk_the_clock_past_the_bound(mock: MockPlatform) -> None:
    original = mock.clock
    lag = [0.0]
    mock.clock = lambda: original() - lag[0]
    try:
        with mock.client(correct_clock=True, retry=None) as client:
            for _ in range(6):
                lag[0] = -client.clock_offset + 290  # each answer 290 s older than our corrected clock
                with contextlib.suppress(ApiError, SignatureError):
                    _post(client)
                assert abs(client.clock_offset) <= MAX_CLOCK_CORRECTION
    finally:
        mock.clock = original


def test_notifications_keep_the_300_s_window(mock: MockPlatform) -> None:
    with mock.client(correct_clock=True) as client:
        client.clock_offset = -200.0  # learnt earlier
        headers, body = _notification(mock, 200 + MAX_CLOCK_SKEW + 30)
        with pytest.raises(SignatureError):
            client.notifications.parse(headers, body)
        headers, body = _notification(mock, MAX_CLOCK_SKEW + 30)
        assert client.notifications.parse(headers, body).event_type == "TRANSACTION.SUCCESS"


# -- v2 business failures ----------------------------------------------------------------------
def _fail_fields() -> dict[str, str]:
    return {
        "return_code": "SUCCESS",
        "return_msg": "OK",
        "result_code": "FAIL",
        "err_code": "AUTHCODEEXPIRE",
        "err_code_des": "二维码已过期",
        "nonce_str": "5K8264ILTKCH16CQ2502SI8ZNMTM67VS",
    }


def test_an_unsigned_v2_business_failure_is_a_signature_error() -> None:
    # Failed before: ApiError(AUTHCODEEXPIRE) came out before the sign was looked at.
    with pytest.raises(SignatureError) as caught:
        parse_v2_response(encode_xml(_fail_fields()), secret=SECRET)
    assert caught.value.check == "sign"


def test_a_v2_business_failure_signed_with_another_key_is_a_signature_error() -> None:
    forged = sign_v2_answer(_fail_fields(), SECRET + "-not-ours")
    with pytest.raises(SignatureError):
        parse_v2_response(forged, secret=SECRET)


def test_a_signed_v2_business_failure_is_still_an_api_error() -> None:
    with pytest.raises(ApiError) as caught:
        parse_v2_response(v2_result_fail("AUTHCODEEXPIRE", "二维码已过期", secret=SECRET), secret=SECRET)
    assert caught.value.code == "AUTHCODEEXPIRE"
    with pytest.raises(ApiError):  # operations the catalogue documents as unsigned keep their behaviour
        parse_v2_response(encode_xml(_fail_fields()), secret=SECRET, verify_sign=False)


def test_a_forged_v2_failure_through_the_client(client: Client, mock: MockPlatform) -> None:
    fail = {"result_code": "FAIL", "err_code": "AUTHCODEEXPIRE", "err_code_des": "二维码已过期"}
    mock.on("POST", "v2/pay/micropay", lambda call: MockAnswer(200, fail, signed=False))
    with pytest.raises(SignatureError):
        client.v2.pay.micropay.post(xml=MICROPAY)
    mock.on("POST", "v2/pay/micropay", lambda call: fail)  # signed by the platform
    with pytest.raises(ApiError) as caught:
        client.v2.pay.micropay.post(xml=MICROPAY)
    assert caught.value.code == "AUTHCODEEXPIRE"


# -- item access -----------------------------------------------------------------------------------
EVIL = ("R1/../../../merchant/fund/balance/BASIC", "R1?sub_mchid=1900000109", "R1#x", "a b", "..%2F")


def _template_positions(client: Client) -> Iterator[tuple[str, list[str]]]:
    catalog = client.catalog
    parents: set[str] = set()
    for entry in catalog:
        parts = entry.key.split("/")
        parents.update("/".join(parts[:depth]) for depth in range(len(parts)))
    for parent in sorted(parents):
        templates = [name[1:-1] for name in catalog.children(parent) if name.startswith("{")]
        if templates:
            yield parent, templates


def test_item_access_never_changes_the_path_at_any_template_position(client: Client) -> None:
    # Failed before at the four positions with two or more templates (refunds/{out_refund_no}...).
    positions = list(_template_positions(client))
    assert sum(len(templates) >= 2 for _, templates in positions) >= 4
    for parent, templates in positions:
        node = client.chain(parent)
        others = {s.template: "x" for s in node._segments if s.template is not None}
        prefix, _, _ = fill_path(node._segments, others, None)
        for value in EVIL:
            child = node[value]
            last = child._segments[-1]
            assert last.text == value and last.template in templates, (parent, value)
            assert len(child._segments) == len(node._segments) + 1
            wire, _, problems = fill_path(child._segments, others, None)
            assert not problems
            assert wire.startswith(prefix.rstrip("/") + "/"), (parent, value)
            tail = wire[len(prefix.rstrip("/")) + 1 :]
            assert "/" not in tail and "?" not in tail and "#" not in tail and " " not in tail, (parent, value)


def test_item_access_picks_the_template_the_rest_of_the_path_needs(client: Client) -> None:
    refunds = client.v3.refund.domestic.refunds
    assert refunds["R1"].spec_key == "v3/refund/domestic/refunds/{out_refund_no}"
    abnormal = refunds["R1"].apply_abnormal_refund
    assert abnormal.spec_key == "v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund"
    plans = client.v3.marketing.partner.delivery_plan.delivery_plans
    assert plans["P1"].terminate.spec_key.endswith("{plan_id}/terminate")


def test_an_item_value_reaches_the_platform_as_one_segment(client: Client, mock: MockPlatform) -> None:
    seen: list[str] = []

    def record(call: Any) -> Any:
        seen.append(call.path)
        return MockAnswer(200, {"refund_id": "1", "out_refund_no": "R1"})

    mock.on("GET", "v3/refund/domestic/refunds/{out_refund_no}", record)
    evil = "R1/../../../merchant/fund/balance/BASIC"
    with contextlib.suppress(ApiError, SignatureError):
        client.v3.refund.domestic.refunds[evil].get(validate=False)
    assert seen and seen[0].startswith("/v3/refund/domestic/refunds/R1%2F..%2F")
    assert all("merchant/fund" not in call.path for call in mock.calls)


# -- secrets in frame locals ------------------------------------------------------------------------
def _frames(error: BaseException) -> Iterator[Any]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb: TracebackType | None = current.__traceback__
        while tb is not None:
            yield tb.tb_frame
            tb = tb.tb_next
        pending.extend((current.__cause__, current.__context__))


def _assert_no_secret_in_locals(error: BaseException, *secrets: str, skip: tuple[str, ...] = ()) -> None:
    """What an error tracker that captures locals would record: repr of every local."""
    for frame in _frames(error):
        filename = frame.f_code.co_filename
        if not filename.startswith(str(PACKAGE)) or any(part in filename for part in skip):
            continue
        for name, value in frame.f_locals.items():
            text = repr(value)  # must not recurse or raise
            for secret in secrets:
                assert secret not in text, f"{frame.f_code.co_name}() local {name!r} holds a secret"


def _pem(mock: MockPlatform) -> str:
    return mock.merchant_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def test_client_init_errors_hold_no_secret_and_repr_of_a_half_built_client_works(mock: MockPlatform) -> None:
    # Failed before: the PEM text, the APIv3 key and the v2 secret were locals of __init__,
    # and repr() of the half-built client recursed through Node.__getattr__.
    pem = _pem(mock)
    body_line = pem.splitlines()[5]
    apiv3 = "K" * 32
    with pytest.raises(ConfigError) as caught:
        Client(mock.mchid, mock.merchant_serial, pem, apiv3_key=apiv3, secret=SECRET, base_url="ftp://example.invalid")
    _assert_no_secret_in_locals(caught.value, body_line, apiv3, SECRET)
    with pytest.raises(ConfigError) as caught:
        Client(mock.mchid, mock.merchant_serial, pem, apiv3_key="too-short-apiv3-key")
    _assert_no_secret_in_locals(caught.value, body_line, "too-short-apiv3-key")
    with pytest.raises(ConfigError) as caught:
        # the key made for this run, its first (armour) line cut off: not PEM any more
        Client(mock.mchid, mock.merchant_serial, "\n".join(pem.splitlines()[1:]))
    _assert_no_secret_in_locals(caught.value, body_line)
    # a proxy's password is a secret too (failed before: `proxy` was a local of __init__)
    with pytest.raises(ConfigError) as caught:
        Client(mock.mchid, proxy="http://user:proxy-pass-123@127.0.0.1:3128", max_answer_bytes=0)
    _assert_no_secret_in_locals(caught.value, "proxy-pass-123")


def test_signed_headers_hide_the_authorization_and_the_proxy_credentials() -> None:
    from wechatpay_chain.v3.signed_headers import SignedHeaders

    headers = SignedHeaders({"Authorization": "WECHATPAY2 sig", "Proxy-Authorization": "Basic dTpw", "Accept": "a"})
    assert "sig" not in repr(headers) and "dTpw" not in repr(headers) and "'Accept': 'a'" in repr(headers)


def test_a_failed_notification_holds_no_apiv3_key(client: Client, mock: MockPlatform) -> None:
    headers, body = _notification(mock, 0)
    with pytest.raises(SignatureError) as caught:
        client.notifications.parse(headers, body + b" ")
    _assert_no_secret_in_locals(caught.value, mock.apiv3_key)
    headers, body = build_notification(
        "TRANSACTION.SUCCESS",
        {"a": 1},
        apiv3_key="W" * 32,  # encrypted with another key: decryption fails after the signature
        platform_key=mock.platform_key,
        serial=next(iter(client.trusted_keys)),
    )
    with pytest.raises(DecryptionError) as failed:
        client.notifications.parse(headers, body)
    _assert_no_secret_in_locals(failed.value, mock.apiv3_key)


def test_v2_failures_hold_no_secret(client: Client, mock: MockPlatform) -> None:
    forged = encode_xml({"return_code": "SUCCESS", "result_code": "SUCCESS", "sign": "0" * 32})
    with pytest.raises(SignatureError) as caught:
        client.notifications.parse_v2(forged)
    _assert_no_secret_in_locals(caught.value, mock.secret)
    refund = encode_xml({"return_code": "SUCCESS", "req_info": encrypt_req_info({"a": "1"}, "other")})
    with pytest.raises(DecryptionError) as failed:
        client.notifications.parse_v2(refund)
    _assert_no_secret_in_locals(failed.value, mock.secret)
    mock.fail("v2_bad_sign")
    with pytest.raises(SignatureError) as answer:
        client.v2.pay.micropay.post(xml=MICROPAY)
    _assert_no_secret_in_locals(answer.value, mock.secret)


def test_a_failed_send_holds_no_authorization_in_any_frame_of_ours(mock: MockPlatform) -> None:
    # The signed headers are locals of every frame down to the socket: their repr hides it.
    with (
        mock.client(base_url="http://127.0.0.1:9", retry=None, backup_urls=[]) as client,
        pytest.raises(TransportError) as caught,
    ):
        client.v3.pay.transactions.id._transaction_id_.get(transaction_id="1", query={"mchid": mock.mchid})
    _assert_no_secret_in_locals(caught.value, "WECHATPAY2-SHA256-RSA2048")

    async def call_async() -> None:
        async with mock.client(base_url="http://127.0.0.1:9", retry=None, backup_urls=[]) as client:
            await client.v3.pay.transactions.id._transaction_id_.get_async(
                transaction_id="1", query={"mchid": mock.mchid}
            )

    with pytest.raises(TransportError) as caught:
        asyncio.run(call_async())
    _assert_no_secret_in_locals(caught.value, "WECHATPAY2-SHA256-RSA2048")


def test_secrets_are_wrapped(client: Client, mock: MockPlatform) -> None:
    for holder in (client.apiv3_key, client.v2_settings.secret):
        assert holder is not None
        assert mock.apiv3_key not in repr(holder) and mock.secret not in repr(holder)
        assert mock.apiv3_key not in str(holder) and mock.secret not in str(holder)
    assert client.apiv3_key.reveal() == mock.apiv3_key  # type: ignore[union-attr]
    assert client.v2_settings.secret.reveal() == mock.secret  # type: ignore[union-attr]


# -- smaller findings ----------------------------------------------------------------------------------
def test_a_lower_case_authorization_header_is_refused_v3_and_v2(client: Client, mock: MockPlatform) -> None:
    # Failed before: the request went out with two Authorization lines.
    for headers in ({"authorization": "x"}, {"AUTHORIZATION": "x"}):
        with pytest.raises(ValidationError) as caught:
            _post(client, headers=headers)
        assert caught.value.errors[0].pointer == "/headers/Authorization"
        with pytest.raises(ValidationError):
            client.v2.pay.micropay.post(xml=MICROPAY, headers=headers)
    assert not mock.calls


def test_caller_headers_merge_case_insensitively(client: Client, mock: MockPlatform) -> None:
    seen: list[Any] = []

    def record(call: Any) -> Any:
        seen.append(call.headers)
        return MockAnswer(200, dict(RETURN_ORDER))

    mock.on("POST", POST_KEY[1], record)
    _post(client, headers={"accept": "application/json", "content-type": "application/json"})
    assert len(seen[0].getall("Accept")) == 1 and len(seen[0].getall("Content-Type")) == 1


def test_cafile_adds_a_ca_to_the_system_store(tmp_path: Path, mock: MockPlatform) -> None:
    # Failed before: ssl.create_default_context(cafile=...) loads that file instead of the system CAs.
    from wechatpay_chain.transport.tls import tls_context

    cafile = tmp_path / "ca.pem"
    cafile.write_bytes(mock.platform_certificate.public_bytes(serialization.Encoding.PEM))
    system = ssl.create_default_context().cert_store_stats()["x509"]
    context = tls_context(str(cafile))
    assert context.cert_store_stats()["x509"] == system + 1  # the system's and ours
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    with mock.client(cafile=cafile) as client:
        assert client.cafile == str(cafile)


@pytest.mark.parametrize("url", ["http://api.mch.weixin.qq.com/", "http://10.0.0.8:8080", "http://example.com"])
def test_plain_http_to_a_public_host_is_refused(mock: MockPlatform, url: str) -> None:
    # Failed before: any http:// base URL was accepted.
    with pytest.raises(ConfigError) as caught:
        mock.client(base_url=url)
    assert caught.value.argument == "base_url" and "allow_insecure_http" in str(caught.value)
    with pytest.raises(ConfigError):
        mock.client(backup_urls=[url])
    mock.client(base_url=url, allow_insecure_http=True).close()


@pytest.mark.parametrize("url", ["http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9", "http://127.1.2.3"])
def test_plain_http_to_loopback_is_allowed(mock: MockPlatform, url: str) -> None:
    mock.client(base_url=url).close()


BAD_LITERALS = ("v3/pay/a b", "v3/pay/a#b", "v3/pay/a\r\nX-Injected: 1", "v3/pay/a\nb", "v3/pay/a?b=c", "v3/pay/a\tb")


@pytest.mark.parametrize("path", BAD_LITERALS)
def test_chain_literals_with_spaces_hash_or_newlines_are_refused(client: Client, mock: MockPlatform, path: str) -> None:
    # Failed before: the literal went to the transports as written (each treating it its own way).
    with pytest.raises(ValueError, match="path segment"):
        client.chain(path)
    with pytest.raises(ValueError, match="path segment"):
        client.request("GET", path)  # the sync transport
    with pytest.raises(ValueError, match="path segment"):
        asyncio.run(client.request_async("GET", path))  # the async transport
    assert not mock.calls


def test_the_catalogue_literals_pass_the_check(client: Client) -> None:
    for entry in client.catalog:
        assert client.chain(entry.key).spec_key == entry.key


def test_a_key_store_url_password_stays_out_of_a_failed_clients_locals() -> None:
    # A redis:// URL carries the store's password; a client that fails to start (here: a bad
    # base_url, checked after the store setting is taken) must not show it to an error tracker.
    from _secrets_check import assert_no_secret_in_locals

    password = "store-password-" + "x" * 12
    with pytest.raises(ConfigError) as caught:
        Client(mchid="1900000109", key_store=f"redis://:{password}@127.0.0.1:1/0", base_url="ftp://nowhere")
    assert_no_secret_in_locals(caught.value, password)


@pytest.mark.parametrize("kind", ["client", "fleet"])
def test_a_key_store_url_that_fails_to_open_keeps_its_password_out_of_locals(kind: str) -> None:
    # redis-py refuses the URL (a port that is no number): the password was in open_key_store's
    # (and a fleet's) locals when it was unwrapped before being handed over.
    from _secrets_check import assert_no_secret_in_locals

    from wechatpay_chain.fleet import Merchants

    password = "store-password-" + "y" * 12
    url = f"redis://:{password}@127.0.0.1:notaport/0"
    with pytest.raises(Exception) as caught:
        if kind == "client":
            Client(mchid="1900000109", key_store=url)
        else:
            Merchants(key_store=url)
    assert_no_secret_in_locals(caught.value, password)
