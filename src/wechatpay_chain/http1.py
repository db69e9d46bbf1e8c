"""HTTP/1.1 for the blocking transport, sans-I/O: request bytes out, an answer reader in.

Why our own and not h11 or http.client: both are correct and well kept, and both
cost about 65 us of CPU per exchange here, a quarter of the whole budget a signed
call has above its RSA floor (issue #7; measured in tools/bench/README.md). What we
need is narrow: one request at a time on a keep-alive connection to one platform,
whose answers are framed by Content-Length or chunked. Anything else that a
conforming server may send is read too (1xx, read-until-close, trailers); anything
malformed is refused (``ProtocolError``), never guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy

__all__ = ["FRAMING_HEADERS", "AnswerReader", "ProtocolError", "framing_headers", "request_bytes"]

MAX_HEAD = 64 * 1024  # bytes of status line plus headers
MAX_CHUNK_LINE = 1024
# Headers that frame the message: set by the transport alone, refused from callers.
FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "te", "upgrade"})

# RFC 9110 token characters, for header names; values must not carry CR, LF or NUL.
_TOKEN_CHARS = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_TEXT = re.compile(_TOKEN_CHARS)
_BAD_VALUE = re.compile(r"[\r\n\x00]")
_BAD_TARGET = re.compile(r"[\x00-\x20\x7f]")
_STATUS_LINE = re.compile(r"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?")


class ProtocolError(Exception):
    """The peer's bytes are not an HTTP/1.1 answer we can trust the framing of."""


def framing_headers(headers: Mapping[str, str]) -> list[str]:
    """The names in ``headers`` that only the transport may set (both transports refuse them)."""
    return [name for name in headers if name.lower() in FRAMING_HEADERS]


def request_bytes(
    method: str,
    target: str,
    host: str,
    headers: Mapping[str, str],
    body: bytes | None,
    *,
    user_agent: str | None = None,
) -> bytes:
    """The request on the wire. Anything that could split or reframe the head is refused:
    a method that is not a token, a target with spaces or controls, header names that are
    not tokens, values with line breaks or NUL, and the framing headers (Host,
    Content-Length, ...), which come from here only."""
    if not _TOKEN_TEXT.fullmatch(method):
        raise ValueError("the method is not an HTTP token")
    if _BAD_TARGET.search(target):
        raise ValueError("the request target holds a space or control character")
    # Two checks for all headers at once (this runs on every call): the names joined are
    # one token only if each is, and no value may hold a line break or NUL.
    if headers and (
        not _TOKEN_TEXT.fullmatch("".join(headers)) or not all(headers) or _BAD_VALUE.search("".join(headers.values()))
    ):
        bad = next(
            name for name, value in headers.items() if not _TOKEN_TEXT.fullmatch(name) or _BAD_VALUE.search(value)
        )
        raise ValueError(f"header {bad!r} cannot be sent: invalid name or a line break in its value")
    lowered = set(map(str.lower, headers))
    if lowered & FRAMING_HEADERS:
        raise ValueError(f"header {framing_headers(headers)[0]!r} is set by the transport, not by the caller")
    lines = [f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n"]
    if user_agent is not None and "user-agent" not in lowered:
        lines.append(f"User-Agent: {user_agent}\r\n")
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body) if body else 0}\r\n")
    lines.append("\r\n")
    head = "".join(lines).encode("utf-8")
    return head + body if body else head


class AnswerReader:
    """Reads one answer from the bytes fed to it, and says when it is complete.

    ``feed(data)`` returns True once the whole answer has been read; ``feed_eof()`` when
    the peer closed (it completes an answer framed by the end of the connection, and
    raises ``ProtocolError`` for a truncated one). Bytes after a complete answer are
    dropped with the connection (``keep_alive`` becomes False): we never pipeline, so a
    server sending them is out of step, but the answer it framed is whole (aiohttp does
    the same).

    With ``stream=True`` the body is not kept: each ``feed`` leaves the body bytes it
    completed for ``take()`` (downloads read tens of MB; memory stays at one read).
    """

    __slots__ = (
        "_buffer",
        "_chunk_left",
        "_chunks",
        "_length",
        "_mode",
        "_no_body",
        "_out",
        "_pos",
        "_stream",
        "body",
        "done",
        "headers",
        "keep_alive",
        "reason",
        "status",
    )

    def __init__(self, method: str, *, stream: bool = False) -> None:
        # One growing buffer and a read position: appending is amortised O(1), and consumed
        # bytes are dropped once per feed, so a large or finely chunked body stays linear.
        self._buffer = bytearray()
        self._pos = 0
        self._no_body = method == "HEAD"
        self._mode = "head"  # head -> length | chunk-size <-> chunk-data -> trailer | close -> done
        self._length = 0
        self._chunk_left = 0
        self._chunks: list[bytes] = []
        self._stream = stream
        self._out: list[bytes] = []  # stream mode: body bytes not yet taken
        self.status = 0
        self.reason = ""
        self.headers: CIMultiDictProxy[str] = _NO_HEADERS
        self.keep_alive = False
        self.body = b""
        self.done = False

    @property
    def head_done(self) -> bool:
        """Whether the status and headers have been read."""
        return self._mode != "head" or self.done

    def take(self) -> bytes:
        """Stream mode: the body bytes read since the last ``take``."""
        out = self._out
        if not out:
            return b""
        self._out = []
        return out[0] if len(out) == 1 else b"".join(out)

    def feed(self, data: bytes) -> bool:
        if self.done:
            if data:
                self.keep_alive = False
            return True
        if self._stream and not self._buffer and self._mode in ("length", "close"):
            return self._pass_through(data)
        self._buffer += data
        while not self.done:
            mode = self._mode
            if mode == "head":
                if not self._read_head():
                    break
            elif mode == "length":
                available = len(self._buffer) - self._pos
                if self._stream:
                    piece = min(available, self._length)
                    if piece:
                        self._out.append(bytes(self._buffer[self._pos : self._pos + piece]))
                        self._pos += piece
                        self._length -= piece
                    if self._length:
                        break
                    self._finish(b"", available > piece)
                    continue
                if available < self._length:
                    break
                self._finish(bytes(self._buffer[self._pos : self._pos + self._length]), available > self._length)
            elif mode == "close":
                if self._stream and len(self._buffer) > self._pos:
                    self._out.append(bytes(self._buffer[self._pos :]))
                    self._pos = len(self._buffer)
                break  # until feed_eof
            elif not self._read_chunked():
                break
        if self._pos and not self.done:
            del self._buffer[: self._pos]
            self._pos = 0
        return self.done

    def feed_eof(self) -> None:
        if self.done:
            return
        if self._mode == "close":
            self._finish(b"" if self._stream else bytes(self._buffer[self._pos :]))
            self.keep_alive = False
            return
        raise ProtocolError("the connection closed before the answer ended")

    def _pass_through(self, data: bytes) -> bool:
        """Stream mode, body framed by length or close, nothing buffered: hand ``data`` out
        as it is (downloads: no copy per read)."""
        if self._mode == "close":
            self._out.append(data)
            return False
        piece = min(len(data), self._length)
        self._out.append(data if piece == len(data) else data[:piece])
        self._length -= piece
        if not self._length:
            self._finish(b"", len(data) > piece)
        return self.done

    # -- parts ---------------------------------------------------------------------------
    def _read_head(self) -> bool:
        buffer, pos = self._buffer, self._pos
        end = buffer.find(b"\r\n\r\n", pos)
        if end < 0 or end - pos > MAX_HEAD:
            if len(buffer) - pos > MAX_HEAD:
                raise ProtocolError("the answer's head is too large")
            return False
        # latin-1 maps every byte to one character, so the text can be checked and split as str.
        head = buffer[pos:end].decode("latin-1")
        pairs_count = head.count("\r\n")  # every CR and every LF must belong to a CRLF
        if head.count("\n") != pairs_count or head.count("\r") != pairs_count or "\x00" in head:
            # A lone CR or LF (or NUL) in a value would reach the signature check as part of,
            # say, the nonce, and move where the signed message's fields end (RFC 9110 5.5).
            raise ProtocolError("a bare CR, LF or NUL in the answer's head")
        self._pos = end + 4
        line_end = head.find("\r\n")
        status_line = _STATUS_LINE.fullmatch(head if line_end < 0 else head[:line_end])
        if status_line is None:
            raise ProtocolError("not an HTTP/1.x status line")
        minor, status = status_line.group(1), int(status_line.group(2))
        if status < 100:
            raise ProtocolError("a status code below 100")
        pairs: list[tuple[str, str]] = []
        if line_end >= 0:
            names = []
            for line in head[line_end + 2 :].split("\r\n"):
                name, colon, value = line.partition(":")
                if not colon or not name:
                    raise ProtocolError("a malformed header line")
                names.append(name)
                pairs.append((name, value.strip(" \t")))
            # The names joined are one token only if each is: a folded line, a space before
            # the colon or a control character is refused (RFC 9112 5.1-5.2) with one match.
            if not _TOKEN_TEXT.fullmatch("".join(names)):
                raise ProtocolError("a malformed header line")
        fields: CIMultiDict[str] = CIMultiDict(pairs)
        if status < 200:
            if status == 101:
                raise ProtocolError("the server switched protocols")
            return True  # an interim answer (100 Continue, 103 Early Hints): the real one follows
        self.status = status
        self.reason = status_line.group(3) or ""
        self.headers = CIMultiDictProxy(fields)
        connection = fields.get("Connection")
        close = connection is not None and any(
            token.strip().lower() == "close" for value in fields.getall("Connection") for token in value.split(",")
        )
        self.keep_alive = minor == "1" and not close
        encodings = fields.getall("Transfer-Encoding", [])
        lengths = fields.getall("Content-Length", [])
        if self._no_body or status in (204, 304):
            self._finish(b"", len(buffer) > self._pos)
        elif encodings:
            if lengths:
                raise ProtocolError("both Transfer-Encoding and Content-Length")
            codings = [coding.strip().lower() for value in encodings for coding in value.split(",")]
            if codings != ["chunked"]:
                raise ProtocolError(f"unsupported Transfer-Encoding {', '.join(codings)}")
            self._mode = "chunk-size"
        elif lengths:
            values = {value.strip() for item in lengths for value in item.split(",")}
            length = values.pop() if len(values) == 1 else ""
            if not (length.isascii() and length.isdigit()):
                raise ProtocolError("an invalid Content-Length")
            self._length = int(length)
            self._mode = "length"
        else:
            self._mode = "close"  # framed by the end of the connection
            self.keep_alive = False
        return True

    def _read_chunked(self) -> bool:
        """One step of a chunked body; False when more bytes are needed."""
        buffer, pos = self._buffer, self._pos
        if self._mode == "chunk-data":
            if self._stream and self._chunk_left:
                # Hand out what has come of the chunk: a large chunk never waits whole in memory.
                piece = min(len(buffer) - pos, self._chunk_left)
                if not piece:
                    return False
                self._out.append(bytes(buffer[pos : pos + piece]))
                self._pos = pos = pos + piece
                self._chunk_left -= piece
                if self._chunk_left:
                    return False
            end = pos + self._chunk_left
            if len(buffer) < end + 2:
                return False
            if buffer[end : end + 2] != b"\r\n":
                raise ProtocolError("a chunk does not end with CRLF")
            if end > pos:
                self._chunks.append(bytes(buffer[pos:end]))
            self._pos = end + 2
            self._mode = "chunk-size"
            return True
        end = buffer.find(b"\r\n", pos)
        if end < 0 or end - pos > MAX_CHUNK_LINE:
            if len(buffer) - pos > MAX_CHUNK_LINE:
                raise ProtocolError("a chunk line is too long")
            return False
        line = bytes(buffer[pos:end])
        self._pos = end + 2
        if self._mode == "trailer":
            if not line:
                self._finish(b"".join(self._chunks), len(buffer) > self._pos)
            elif b":" not in line:
                raise ProtocolError("a malformed trailer line")
            return True
        size = _CHUNK_SIZE.fullmatch(line)
        if size is None:
            raise ProtocolError("a malformed chunk size")
        self._chunk_left = int(size.group(1), 16)
        self._mode = "chunk-data" if self._chunk_left else "trailer"
        return True

    def _finish(self, body: bytes, leftover: bool = False) -> None:
        if leftover:
            self.keep_alive = False  # the connection is out of step: never reuse it
        self.body = body
        self._buffer = bytearray()
        self._pos = 0
        self._chunks = []
        self.done = True


_NO_HEADERS: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
