"""Field-level transformations the specs ask for, addressed by JSON pointers.

A pointer is RFC 6901 with ``*`` for every item of an array (``/receivers/*/name``);
a pointer naming an absent field is skipped. The caller's payload is never
changed: requests are transformed on a deep copy.

- ``encrypt`` / ``encrypt_query``: RSA-OAEP with the platform public key;
- ``json_strings``: a field the platform wants as a JSON-encoded string, given as a dict or list;
- ``decrypt``: answer fields encrypted with the merchant public key (RSA-OAEP);
- ``decrypt_aead``: answer objects ``{algorithm, nonce, associated_data, ciphertext}``
  sealed with the APIv3 key (AES-256-GCM).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa

from ..errors import DecryptionError
from ..trust.crypto import AES_GCM_ALGORITHM, KeyText, aes_gcm_decrypt, oaep_decrypt, oaep_encrypt
from .protocol import dump_json

__all__ = [
    "decrypt_aead_fields",
    "decrypt_oaep_fields",
    "encode_json_strings",
    "encrypt_fields",
    "encrypt_query",
    "transform_pointer",
]


def transform_pointer(document: Any, pointer: str, change: Callable[[Any], Any]) -> None:
    """Replace in place each value ``pointer`` names by ``change(value)``."""
    parts = pointer.strip("/").split("/") if pointer.strip("/") else []
    _walk(document, parts, change)


def _walk(document: Any, parts: list[str], change: Callable[[Any], Any]) -> None:
    if not parts:
        return
    head, rest = parts[0].replace("~1", "/").replace("~0", "~"), parts[1:]
    if head == "*":
        children: list[Any] = list(range(len(document))) if isinstance(document, list) else []
    elif isinstance(document, dict) and head in document:
        children = [head]
    else:
        children = []
    for child in children:
        if rest:
            _walk(document[child], rest, change)
        else:
            document[child] = change(document[child])


def _copy(payload: Any) -> Any:
    return json.loads(dump_json(payload))


def _oaep(key: rsa.RSAPublicKey) -> Callable[[Any], Any]:
    return lambda value: oaep_encrypt(key, value) if isinstance(value, str) and value else value


def encrypt_fields(payload: Any, pointers: Sequence[str], key: rsa.RSAPublicKey) -> Any:
    """A copy of ``payload`` with the sensitive string fields RSA-OAEP encrypted."""
    copy = _copy(payload)
    for pointer in pointers:
        transform_pointer(copy, pointer, _oaep(key))
    return copy


def encrypt_query(query: Mapping[str, Any], pointers: Sequence[str], key: rsa.RSAPublicKey) -> dict[str, Any]:
    """A copy of ``query`` with the sensitive parameters encrypted (``/cert_number``)."""
    copy = dict(query)
    for pointer in pointers:
        transform_pointer(copy, pointer, _oaep(key))
    return copy


def encode_json_strings(payload: Any, pointers: Sequence[str]) -> Any:
    """A copy with dict/list values at ``pointers`` turned into the JSON strings the platform wants."""
    if not pointers:
        return payload
    copy = _copy(payload)
    for pointer in pointers:
        transform_pointer(
            copy, pointer, lambda value: dump_json(value).decode() if isinstance(value, (dict, list)) else value
        )
    return copy


def decrypt_oaep_fields(document: Any, pointers: Sequence[str], key: rsa.RSAPrivateKey) -> None:
    """Decrypt in place the answer fields encrypted for the merchant (RSA-OAEP)."""
    for pointer in pointers:
        transform_pointer(
            document, pointer, lambda value: oaep_decrypt(key, value) if isinstance(value, str) and value else value
        )


def _open_aead(apiv3_key: KeyText) -> Callable[[Any], Any]:
    def open_sealed(value: Any) -> Any:
        if not isinstance(value, dict) or "ciphertext" not in value:
            return value
        if value.get("algorithm", AES_GCM_ALGORITHM) != AES_GCM_ALGORITHM:
            raise DecryptionError(f"unsupported algorithm {value.get('algorithm')!r}")
        plain = aes_gcm_decrypt(
            apiv3_key, str(value.get("nonce", "")), str(value["ciphertext"]), str(value.get("associated_data") or "")
        )
        return plain.decode("utf-8")

    return open_sealed


def decrypt_aead_fields(document: Any, pointers: Sequence[str], apiv3_key: KeyText) -> None:
    """Replace in place each sealed object at ``pointers`` by its plaintext (e.g. a PEM)."""
    for pointer in pointers:
        transform_pointer(document, pointer, _open_aead(apiv3_key))
