"""Property-based tests: arbitrary input gives a correct result or a typed error, never another exception."""

from __future__ import annotations

import keyword

from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wechatpay_chain.errors import SignatureError, WeChatPayError
from wechatpay_chain.merchant_key import LocalSigner, MerchantKey
from wechatpay_chain.naming import Segment, attribute_segment, fold, kebab, path_segments
from wechatpay_chain.v3.calls import build_target, fill_path
from wechatpay_chain.v3.protocol import (
    authorization_header,
    parse_authorization,
    request_signing_string,
    verify_signed_message,
)

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
identifiers = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True)
segment_text = st.text(st.characters(blacklist_characters="/{}", blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(identifiers)
def test_kebab_is_lower_case_without_underscores(name: str) -> None:
    result = kebab(name)
    assert result == result.lower() and "_" not in result
    assert fold(result) == fold(name)


@given(identifiers, st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,12}", fullmatch=True), max_size=5))
def test_attribute_segment_is_a_literal_or_template(name: str, known: list[str]) -> None:
    segment = attribute_segment(name, known)
    assert isinstance(segment, Segment)
    if segment.template is None:
        assert segment.text
        matches = [k for k in known if fold(k) == fold(name.rstrip("_") if name.endswith("_") else name)]
        if matches and not (name.startswith("_") and name.endswith("_")):
            assert segment.text == matches[0]
    else:
        assert name.startswith("_") and name.endswith("_")


@given(st.sampled_from(sorted(keyword.kwlist)))
def test_keyword_escapes(word: str) -> None:
    assert attribute_segment(word + "_").text == kebab(word)  # "False_" -> "false": lower case, as every name


@given(st.lists(segment_text, min_size=1, max_size=6))
def test_path_segments_keep_text_as_written(parts: list[str]) -> None:
    path = "/".join(parts)
    segments = path_segments(path)
    rebuilt = [s.text if s.template is None else None for s in segments]
    for original, got in zip([p for p in parts if p], rebuilt, strict=False):
        if got is not None:
            assert got == original


@given(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.text(max_size=30), max_size=4))
def test_path_values_are_encoded_once(values: dict[str, str]) -> None:
    template = "v3/x/" + "/".join("{" + name + "}" for name in values)
    wire, filled, missing = fill_path(path_segments(template), values, None)
    assert filled == values
    refused = {name for name, value in values.items() if value in ("", ".", "..")}
    assert {error.pointer for error in missing} == {f"/path/{name}" for name in refused}
    for part in wire.split("/")[3:]:
        assert "/" not in part and " " not in part


@given(st.dictionaries(st.text(max_size=10), st.one_of(st.text(max_size=20), st.integers(), st.booleans()), max_size=5))
def test_query_targets_are_ascii(query: dict[str, object]) -> None:
    target = build_target("/v3/x", query)
    assert target.isascii() and " " not in target


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    st.from_regex(r"/v3/[a-z/-]{0,30}(\?[a-z=&0-9]{0,20})?", fullmatch=True),
    st.binary(max_size=200),
    st.from_regex(r"[A-Za-z0-9]{32}", fullmatch=True),
)
def test_signing_string_and_authorization_round_trip(method: str, target: str, body: bytes, nonce: str) -> None:
    message = request_signing_string(method, target, "1700000000", nonce, body)
    assert message == f"{method}\n{target}\n1700000000\n{nonce}\n".encode() + body + b"\n"
    header = authorization_header(
        MerchantKey("ABC", LocalSigner(KEY)),
        mchid="1900000109",
        method=method,
        target=target,
        body=body,
        timestamp="1700000000",
        nonce=nonce,
    )
    fields = parse_authorization(header)
    assert (fields["mchid"], fields["nonce_str"], fields["serial_no"]) == ("1900000109", nonce, "ABC")


@given(st.text(max_size=300))
def test_authorization_parser_never_crashes(text: str) -> None:
    try:
        fields = parse_authorization(text)
    except SignatureError:
        return
    assert {"mchid", "nonce_str", "signature", "timestamp", "serial_no"} <= set(fields)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "Wechatpay-Timestamp",
                "Wechatpay-Nonce",
                "Wechatpay-Signature",
                "Wechatpay-Serial",
                "wechatpay-timestamp",
                "Other",
            ]
        ),
        st.text(max_size=40),
        max_size=6,
    ),
    st.binary(max_size=100),
)
def test_answer_verification_never_crashes(headers: dict[str, str], body: bytes) -> None:
    try:
        verify_signed_message(headers, body, {"S": KEY.public_key()}, now=lambda: 1_700_000_000.0)
    except WeChatPayError:
        return
    raise AssertionError("an unsigned answer passed")
