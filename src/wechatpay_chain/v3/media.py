"""Media uploads: the multipart body with its signed ``meta`` part.

The platform signs uploads differently from other calls: the signature covers
the ``meta`` JSON (``{"filename": ..., "sha256": ..., ...extra}``), not the
multipart body. The body is::

    --BOUNDARY
    Content-Disposition: form-data; name="meta"
    Content-Type: application/json

    {"filename":"a.png","sha256":"..."}
    --BOUNDARY
    Content-Disposition: form-data; name="file"; filename="a.png"
    Content-Type: image/png

    <file bytes>
    --BOUNDARY--

The spec's ``upload`` key names the file field, the allowed extensions and the
size limit; bad input is refused before anything is sent. Upload limits are a
few MB, so the body is built in memory once (which also lets a retry resend it).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import secrets
from collections.abc import Mapping
from typing import IO, Any

from ..errors import FieldProblem
from .protocol import dump_json

__all__ = ["FileSpec", "build_form", "build_multipart", "read_upload"]

_LINE_BREAK = re.compile(r"[\r\n\x00]")

FileSpec = tuple[str, bytes | IO[bytes]] | tuple[str, bytes | IO[bytes], str]

_CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "bmp": "image/bmp",
    "pdf": "application/pdf",
    "mp4": "video/mp4",
    "avi": "video/x-msvideo",
}


def _content_type(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _CONTENT_TYPES.get(extension) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def read_upload(
    files: Mapping[str, Any], upload: Mapping[str, Any] | None, extra_meta: Mapping[str, Any] | None
) -> tuple[str, str, bytes, str, dict[str, Any], list[FieldProblem]]:
    """(field, filename, content, content type, meta, problems) for one file upload."""
    problems: list[FieldProblem] = []
    field = str((upload or {}).get("file") or "file")
    entry = files.get(field)
    if entry is None and len(files) == 1 and upload is None:
        field, entry = next(iter(files.items()))
    if entry is None:
        problems.append(FieldProblem(f"/files/{field}", "required", f"the file part '{field}' is missing"))
        return field, "", b"", "", {}, problems
    if not isinstance(entry, tuple) or len(entry) not in (2, 3):
        problems.append(
            FieldProblem(f"/files/{field}", "type", "expected (filename, bytes or binary file[, content type])")
        )
        return field, "", b"", "", {}, problems
    filename = os.path.basename(str(entry[0]))
    source = entry[1]
    content = source if isinstance(source, bytes) else source.read()
    content_type = entry[2] if len(entry) == 3 else _content_type(filename)
    if not filename:
        problems.append(FieldProblem(f"/files/{field}", "filename", "a file name is required"))
    if _LINE_BREAK.search(filename) or _LINE_BREAK.search(str(content_type)):
        # Both go into the part's head: a line break there would write headers of its own.
        problems.append(FieldProblem(f"/files/{field}", "pattern", "a line break in the file name or content type"))
    if not content:
        problems.append(FieldProblem(f"/files/{field}", "minLength", "the file is empty"))
    allowed = [str(ext).lower() for ext in (upload or {}).get("extensions") or ()]
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if allowed and extension not in allowed and not (extension == "jpeg" and "jpg" in allowed):
        problems.append(FieldProblem(f"/files/{field}", "extensions", f"'.{extension}' is not one of {allowed}"))
    limit = (upload or {}).get("max_size")
    if limit and len(content) > int(limit):
        problems.append(
            FieldProblem(f"/files/{field}", "max_size", f"{len(content)} bytes is over the {limit} byte limit")
        )
    meta = {"filename": filename, "sha256": hashlib.sha256(content).hexdigest(), **dict(extra_meta or {})}
    return field, filename, content, content_type, meta, problems


def build_multipart(
    meta: Mapping[str, Any], field: str, filename: str, content: bytes, content_type: str
) -> tuple[bytes, bytes, str]:
    """(body, the signed meta JSON, Content-Type header) of one upload."""
    boundary = secrets.token_hex(16)
    meta_json = dump_json(dict(meta))
    quoted = filename.replace('"', "%22")
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="meta"\r\n'
            "Content-Type: application/json\r\n\r\n".encode(),
            meta_json,
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode(),
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, meta_json, f"multipart/form-data; boundary={boundary}"


def build_form(
    fields: Mapping[str, str], field: str, filename: str, content: bytes, content_type: str
) -> tuple[bytes, str]:
    """(body, Content-Type header) of a v2 upload: its text fields, then the file.

    The v2 platform signs the text fields (``mch_id``, ``media_hash``, ``sign_type``)
    like any v2 request; the file travels beside them, covered by ``media_hash``.
    """
    boundary = secrets.token_hex(16)
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    quoted = filename.replace('"', "%22")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
    )
    body = b"".join([*parts, content, f"\r\n--{boundary}--\r\n".encode()])
    return body, f"multipart/form-data; boundary={boundary}"
