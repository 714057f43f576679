"""Attachments sealed under their case's key, so erasing the case erases them too.

A sealed attachment is stored as::

    CMTOOL-SEALED-FILE v1\\n<key id>\\n<12-byte nonce><AES-256-GCM ciphertext and tag>

The header says what it is and which key opens it; the associated data binds it
to the case and to the sha256 of the plaintext, so a sealed file moved to
another case, or claimed for other content, does not open. The nonce is derived
from the key and that sha256 (HMAC-SHA256): the same file attached twice to one
case seals to the same bytes and is stored once, and a nonce is never reused for
different content under one key. Files are stored under the sha256 of what is
stored (the ciphertext), so ``audit verify`` checks them without any key.
"""

from __future__ import annotations

import hashlib
import hmac

from cmtool.store.keystore import KeyStore
from cmtool.store.sealing import NONCE_BYTES, aes_gcm

MAGIC = b"CMTOOL-SEALED-FILE v1\n"


def _aad(case_id: str, plain_sha256: str) -> bytes:
    return f"cmtool-sealed-file:v1\0{case_id}\0{plain_sha256}".encode()


def seal_file(key: bytes, key_id: str, case_id: str, plain_sha256: str, data: bytes) -> bytes:
    nonce = hmac.new(key, f"nonce\0{plain_sha256}".encode(), hashlib.sha256).digest()[:NONCE_BYTES]
    sealed = aes_gcm(key).encrypt(nonce, data, _aad(case_id, plain_sha256))
    return MAGIC + key_id.encode() + b"\n" + nonce + sealed


def is_sealed_file(blob: bytes) -> bool:
    return blob.startswith(MAGIC)


def open_file(blob: bytes, case_id: str, plain_sha256: str, keys: KeyStore) -> bytes | None:
    """The plaintext, or None when the key is missing, destroyed or wrong, or the
    bytes are not what the event recorded."""
    from cryptography.exceptions import InvalidTag

    if not is_sealed_file(blob):
        return None
    key_id, newline, body = blob[len(MAGIC) :].partition(b"\n")
    key = keys.get(key_id.decode("utf-8", "replace")) if newline else None
    if key is None or len(body) <= NONCE_BYTES:
        return None
    try:
        plain = aes_gcm(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(case_id, plain_sha256))
    except InvalidTag:
        return None
    return plain if hashlib.sha256(plain).hexdigest() == plain_sha256 else None
