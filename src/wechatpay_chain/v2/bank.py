"""The RSA-encrypted fields of APIv2 bank transfers (``mmpaysptrans/pay_bank``).

The card number and the holder's name travel encrypted with the platform's RSA
public key (RSA-OAEP, SHA-1), which ``v2/risk/getpublickey`` hands out over the
merchant certificate. The spec names the fields (``encrypt: [/enc_bank_no, ...]``) and
the key (``encrypt_key: v2/risk/getpublickey``; other v2 ``encrypt`` fields, whose key
the catalogue does not name, are the caller's to encrypt);
the client encrypts the plaintext values before signing, so the sign covers the
ciphertext as sent. The key comes from ``Client(bank_public_key=...)`` or, when
none is configured, from one call of the operation the spec's ``encrypt_key`` names:
preparing raises :class:`BankKeyNeeded`, the engine makes that call, reads the key
with :func:`bank_key_from_answer`, keeps it, and prepares again.

A value that already is RSA ciphertext (base64 of 128, 256, 384 or 512 bytes: no
card number or name looks like that) is left alone, for callers who encrypt
themselves.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..errors import ApiError, FieldProblem
from ..trust.crypto import load_public_key, oaep_encrypt

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ..catalog.specs import Operation
    from ..response import Response

__all__ = [
    "BankKeyNeeded",
    "bank_fields",
    "bank_key_from_answer",
    "encrypt_bank_fields",
    "looks_encrypted",
    "plaintext_bank_fields",
]

KEY_OPERATION = "v2/risk/getpublickey"
_CIPHERTEXT_SIZES = {128, 256, 384, 512}  # RSA-1024 .. RSA-4096


def looks_encrypted(value: str) -> bool:
    """Whether ``value`` is base64 of one RSA block (so the caller encrypted it already)."""
    if len(value) < 172:  # base64 of 128 bytes
        return False
    try:
        return len(base64.b64decode(value, validate=True)) in _CIPHERTEXT_SIZES
    except (binascii.Error, ValueError):
        return False


def bank_fields(operation: Operation | None) -> list[str]:
    """The top-level fields ``operation`` encrypts with the getpublickey key (``encrypt_key``);
    none for fields encrypted with a key the catalogue does not name."""
    if operation is None or operation.spec.get("encrypt_key") != KEY_OPERATION:
        return []
    names = [str(pointer).strip("/") for pointer in operation.spec.get("encrypt") or ()]
    return [name for name in names if "/" not in name]


def plaintext_bank_fields(operation: Operation | None, fields: Mapping[str, Any] | None) -> list[str]:
    """The bank fields (``bank_fields``) that ``fields`` carries as plaintext.

    Every value counts but ciphertext: a card number given as an ``int`` is plaintext too,
    and must never go out as it is.
    """
    if not fields:
        return []
    return [
        name
        for name in bank_fields(operation)
        if fields.get(name) is not None
        and not (isinstance(fields[name], str) and (not fields[name] or looks_encrypted(fields[name])))
    ]


def encrypt_bank_fields(
    fields: Mapping[str, Any], names: list[str], key: rsa.RSAPublicKey
) -> tuple[dict[str, Any], list[FieldProblem]]:
    """A copy of ``fields`` with ``names`` encrypted (RSA-OAEP SHA-1, base64), and the
    problems of values that are neither text nor a number (those are not sent at all)."""
    copy = dict(fields)
    problems: list[FieldProblem] = []
    for name in names:
        value = copy[name]
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            problems.append(FieldProblem(f"/xml/{name}", "type", "must be text (or a number) to encrypt"))
            copy[name] = ""  # never the plaintext, whatever happens to the problems
            continue
        copy[name] = oaep_encrypt(key, str(value))
    return copy, problems


class BankKeyNeeded(Exception):
    """A signal from preparing, never seen by callers: the call is fine but for the bank key,
    which ``operation`` (the spec's ``encrypt_key``) hands out; fetch it, then prepare again."""

    def __init__(self, operation: str) -> None:
        super().__init__(operation)
        self.operation = operation


def bank_key_from_answer(answer: Response) -> rsa.RSAPublicKey:
    """The RSA public key in a ``getpublickey`` answer (``pub_key``, PEM), or ``ApiError``."""
    data = getattr(answer, "data", None)  # a V2Response: the answer's fields
    pem = data.get("pub_key") if isinstance(data, Mapping) else None
    if not isinstance(pem, str) or "PUBLIC KEY" not in pem:
        raise ApiError(answer.status_code, "NO_PUB_KEY", f"{KEY_OPERATION} answered without pub_key", None, answer)
    return load_public_key(pem.encode("ascii"), "bank_public_key")
