"""v2 notifications: payment results (signed) and refund results (``req_info``).

Payment (and most other) notifications are ordinary signed v2 documents: the
sign is verified exactly as on an answer.

Refund notifications are not signed by the platform. Their content travels in
``req_info``: base64 of AES-256-ECB (PKCS#7) over a ``<root>...</root>`` document,
keyed with the 32 ASCII characters of the lower-case hex MD5 of the v2 secret.
What vouches for it is that only a holder of the secret can produce a
ciphertext that decrypts to well-formed XML; ECB has no integrity tag, so blocks
could in principle be replayed or reordered between such ciphertexts. The outer
envelope (``appid``, ``mch_id``...) is covered by nothing. So for a refund
notification only the decrypted fields and the envelope's descriptive fields are
returned, never other outer fields, and a merchant acting on large amounts
should confirm with a refund query.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ..errors import DecryptionError
from ..trust.crypto import KeyText, key_bytes, seal
from .codec import XmlError, decode_xml, encode_xml
from .messages import verify_v2_fields

__all__ = [
    "REFUND_ENVELOPE_FIELDS",
    "decrypt_req_info",
    "encrypt_req_info",
    "parse_v2_notification",
]

# The refund notification's outer fields besides req_info, returned as they came.
REFUND_ENVELOPE_FIELDS = ("return_code", "return_msg", "appid", "mch_id", "nonce_str")
_AES_BLOCK_BITS = 128


def _req_info_cipher(secret: KeyText) -> Cipher[modes.ECB]:
    if not secret:
        raise DecryptionError("the v2 secret is empty")
    # The key is the hex text itself (32 ASCII bytes = AES-256), not the 16-byte digest.
    return Cipher(algorithms.AES(hashlib.md5(key_bytes(secret)).hexdigest().encode("ascii")), modes.ECB())


def decrypt_req_info(req_info: str, secret: KeyText) -> dict[str, str]:
    """The fields of a refund notification's ``req_info``.

    Raises ``DecryptionError`` for bad base64, a ciphertext that is not whole
    AES blocks, bad padding or a plaintext that is not XML: all what a wrong
    secret or tampered data give.
    """
    secret = seal(secret)
    try:
        ciphertext = base64.b64decode(req_info, validate=True)
    except ValueError:  # binascii.Error, and non-ASCII text
        raise DecryptionError("req_info is not valid base64") from None
    if not ciphertext or len(ciphertext) % (_AES_BLOCK_BITS // 8):
        raise DecryptionError("req_info is not a whole number of AES blocks")
    decryptor = _req_info_cipher(secret).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(_AES_BLOCK_BITS).unpadder()
    try:
        plaintext = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DecryptionError("req_info has bad padding: wrong secret or tampered data") from None
    try:
        return decode_xml(plaintext, root=None)
    except XmlError:
        reason = "req_info is not XML once decrypted: wrong secret or tampered data"
        raise DecryptionError(reason) from None


def encrypt_req_info(fields: Mapping[str, Any], secret: KeyText) -> str:
    """The inverse of :func:`decrypt_req_info` (for the mock platform and tests)."""
    text_fields = [name for name, value in fields.items() if isinstance(value, str)]
    plaintext = encode_xml(fields, cdata=text_fields, root="root")
    padder = padding.PKCS7(_AES_BLOCK_BITS).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = _req_info_cipher(secret).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def parse_v2_notification(body: bytes, secret: KeyText) -> dict[str, str]:
    """The fields of a v2 notification, once what can be checked has been.

    - with a ``sign`` (payment notifications): the sign must verify, else
      ``SignatureError``; all fields are returned;
    - with ``req_info`` (refund notifications): it must decrypt, else
      ``DecryptionError``; the decrypted fields are returned together with the
      envelope's ``REFUND_ENVELOPE_FIELDS`` (decrypted values win on a clash);
    - with neither: ``SignatureError`` (check ``sign``, "missing").

    ``result_code`` FAIL is returned, not raised: it is the news being notified.
    Reply with :func:`~wechatpay_chain.v2.messages.v2_ack`.
    """
    secret = seal(secret)  # this frame raises: hold the secret wrapped
    fields = decode_xml(body)
    req_info = fields.get("req_info")
    if fields.get("sign") or req_info is None:
        verify_v2_fields(fields, secret, what="notification")
    if req_info is None:
        return fields
    result = {name: fields[name] for name in REFUND_ENVELOPE_FIELDS if name in fields}
    result.update(decrypt_req_info(req_info, secret))
    return result
