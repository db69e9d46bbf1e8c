"""The mock's side of uploads: split a multipart body, check the meta against the file."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
from typing import Any

__all__ = ["check_upload", "parse_multipart"]


def parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """name -> (filename, bytes) for each part of a multipart/form-data body."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        parts[name] = (part.get_filename() or "", payload if isinstance(payload, bytes) else b"")
    return parts


def check_upload(meta: Any, files: dict[str, tuple[str, bytes]]) -> str | None:
    """What the platform checks: the meta names the file and carries its SHA-256."""
    if not isinstance(meta, dict):
        return "meta is not a JSON object"
    filename, content = next(iter(files.values()))
    if meta.get("filename") != filename:
        return f"meta.filename {meta.get('filename')!r} does not match the file part {filename!r}"
    if meta.get("sha256") != hashlib.sha256(content).hexdigest():
        return "meta.sha256 does not match the file content"
    return None
