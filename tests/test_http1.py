"""The sans-I/O HTTP/1.1 reader and writer of the blocking transport (http1.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wechatpay_chain.http1 import AnswerReader, ProtocolError, request_bytes

BODY = b'{"code":"OK"}'
PLAIN = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n" + BODY


def read(raw: bytes, method: str = "POST", eof: bool = False) -> AnswerReader:
    reader = AnswerReader(method)
    done = reader.feed(raw)
    if eof:
        reader.feed_eof()
    else:
        assert done
    return reader


def chunked(body: bytes, sizes: list[int]) -> bytes:
    out, rest = [], body
    for size in sizes:
        if not rest:
            break
        piece, rest = rest[:size], rest[size:]
        out.append(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
    if rest:
        out.append(b"%x\r\n%s\r\n" % (len(rest), rest))
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(out) + b"0\r\nX-Trailer: t\r\n\r\n"


def test_request_bytes_are_exact() -> None:
    wire = request_bytes("POST", "/v3/x?a=1", "api.mch.weixin.qq.com", {"Accept": "application/json"}, b"{}")
    assert wire == (
        b"POST /v3/x?a=1 HTTP/1.1\r\nHost: api.mch.weixin.qq.com\r\nAccept: application/json\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    )
    assert request_bytes("GET", "/v3/y", "h:8", {}, None) == b"GET /v3/y HTTP/1.1\r\nHost: h:8\r\n\r\n"
    assert b"Content-Length: 0\r\n" in request_bytes("POST", "/v3/z", "h", {}, None)


@pytest.mark.parametrize(
    "headers",
    [{"X-Evil": "a\r\nInjected: yes"}, {"X-Evil": "a\nb"}, {"X-Nul": "a\x00"}, {"Bad Name": "v"}, {"": "v"}],
)
def test_request_bytes_refuse_header_injection(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="cannot be sent"):
        request_bytes("GET", "/v3/x", "h", {"Accept": "*/*", **headers}, None)


@pytest.mark.parametrize("target", ["/v3/a b", "/v3/a\r\nHost: evil", "/v3/\x7f"])
def test_request_bytes_refuse_a_target_that_splits_the_line(target: str) -> None:
    with pytest.raises(ValueError, match="request target"):
        request_bytes("GET", target, "h", {}, None)


def test_a_plain_answer() -> None:
    reader = read(PLAIN)
    assert (reader.status, reader.reason, reader.body, reader.keep_alive) == (200, "OK", BODY, True)
    assert reader.headers["content-type"] == "application/json"


def test_any_split_of_the_bytes_reads_the_same() -> None:
    for raw in (PLAIN, chunked(BODY * 3, [1, 5, 7])):
        for cut in range(1, len(raw)):
            reader = AnswerReader("POST")
            assert not reader.feed(raw[:cut])
            assert reader.feed(raw[cut:])
            assert reader.body == read(raw).body


@given(st.binary(max_size=3000), st.lists(st.integers(1, 700), max_size=12), st.integers(1, 64))
def test_chunked_bodies_round_trip(body: bytes, sizes: list[int], step: int) -> None:
    raw = chunked(body, sizes)
    reader = AnswerReader("GET")
    for start in range(0, len(raw), step):
        reader.feed(raw[start : start + step])
    assert reader.done and reader.body == body


def test_interim_answers_are_skipped() -> None:
    reader = read(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" + PLAIN)
    assert reader.status == 200 and reader.body == BODY


def test_answers_without_a_body() -> None:
    assert read(b"HTTP/1.1 204 No Content\r\n\r\n").body == b""
    assert read(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n").body == b""
    assert read(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\n", method="HEAD").body == b""


def test_a_body_framed_by_the_end_of_the_connection() -> None:
    reader = read(b"HTTP/1.1 200 OK\r\n\r\npart one, ", eof=True)
    assert reader.body == b"part one, " and not reader.keep_alive


def test_keep_alive_follows_the_version_and_connection_header() -> None:
    assert not read(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n").keep_alive
    assert not read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive
    assert read(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n").keep_alive


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"HTTP/2 200 OK\r\n\r\n", "status line"),
        (b"ICY 200 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 20 OK\r\n\r\n", "status line"),
        (b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", "below 100"),
        (b"HTTP/1.1 101 Switching\r\n\r\n", "switched"),
        (b"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\nContent-Length: 0\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "malformed header"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "both"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "unsupported"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: \xd9\xa3\r\n\r\n", "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nWechatpay-Nonce: abc\nX-Injected: 1\r\nContent-Length: 0\r\n\r\n", "bare CR, LF"),
        (b"HTTP/1.1 200 OK\r\nX-Cr: a\rb\r\nContent-Length: 0\r\n\r\n", "bare CR, LF"),
        (b"HTTP/1.1 200 OK\r\nX-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n", "bare CR, LF"),
        (b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare CR, LF"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "CRLF"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", "trailer"),
    ],
)
def test_malformed_answers_are_refused(raw: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        AnswerReader("GET").feed(raw)


def test_truncated_answers_are_refused_at_eof() -> None:
    for raw in (PLAIN[:-1], PLAIN[:20], chunked(BODY, [4])[:-5]):
        reader = AnswerReader("GET")
        reader.feed(raw)
        with pytest.raises(ProtocolError, match="closed before the answer ended"):
            reader.feed_eof()


def test_oversized_heads_and_chunk_lines_are_refused() -> None:
    with pytest.raises(ProtocolError, match="head is too large"):
        AnswerReader("GET").feed(b"HTTP/1.1 200 OK\r\nX: " + b"a" * 70_000)
    with pytest.raises(ProtocolError, match="chunk line is too long"):
        AnswerReader("GET").feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 2000)


@pytest.mark.parametrize(
    "raw",
    [
        PLAIN + b"\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\nxyz",
        chunked(BODY, [4]) + b"junk",
    ],
)
def test_bytes_after_a_complete_answer_end_the_connection_not_the_answer(raw: bytes) -> None:
    reader = read(raw)
    assert reader.status in (200, 204) and reader.body in (BODY, b"")
    assert not reader.keep_alive  # out of step: the connection is dropped, never reused
    reader = read(PLAIN)
    reader.feed(b"HTTP/1.1 200 OK\r\n")  # more after the fact: the same
    assert reader.body == BODY and not reader.keep_alive


def test_the_method_and_the_framing_headers_are_the_transports() -> None:
    with pytest.raises(ValueError, match="method"):
        request_bytes("GET / HTTP/1.1\r\nX-Injected: 1\r\n\r\nPOST", "/v3/x", "h", {}, None)
    for name in ("Host", "content-length", "Transfer-Encoding", "Connection"):
        with pytest.raises(ValueError, match="set by the transport"):
            request_bytes("POST", "/v3/x", "h", {name: "1"}, b"{}")


def test_the_user_agent_is_added_once_whatever_its_case() -> None:
    mine = request_bytes("GET", "/v3/x", "h", {"user-agent": "MyApp/2.0"}, None, user_agent="wechatpay-chain/1")
    assert mine.count(b"ser-Agent") + mine.count(b"ser-agent") == 1 and b"MyApp/2.0" in mine
    default = request_bytes("GET", "/v3/x", "h", {}, None, user_agent="wechatpay-chain/1")
    assert b"\r\nUser-Agent: wechatpay-chain/1\r\n" in default


def _streamed(raw: bytes, step: int, eof: bool = False) -> tuple[AnswerReader, bytes]:
    reader = AnswerReader("GET", stream=True)
    pieces = []
    for start in range(0, len(raw), step):
        reader.feed(raw[start : start + step])
        pieces.append(reader.take())
    if eof:
        reader.feed_eof()
        pieces.append(reader.take())
    return reader, b"".join(pieces)


@given(st.binary(max_size=3000), st.lists(st.integers(1, 700), max_size=12), st.integers(1, 97))
def test_stream_mode_hands_out_the_same_body(body: bytes, sizes: list[int], step: int) -> None:
    for raw, eof in (
        (chunked(body, sizes), False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body, False),
        (b"HTTP/1.1 200 OK\r\n\r\n" + body, True),
    ):
        reader, streamed = _streamed(raw, step, eof)
        assert reader.done and streamed == body and reader.body == b""


def test_stream_mode_keeps_no_more_than_one_read() -> None:
    body = bytes(range(256)) * 4096  # 1 MiB in one chunk
    raw = chunked(body, [len(body)])
    reader = AnswerReader("GET", stream=True)
    taken = 0
    for start in range(0, len(raw), 65536):
        reader.feed(raw[start : start + 65536])
        assert len(reader._buffer) <= 65536  # consumed bytes are dropped at each feed
        taken += len(reader.take())
    assert reader.done and taken == len(body)
