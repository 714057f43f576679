"""A team member's identity, and a secret wrapped so that only one identity opens it.

An identity is an X25519 key pair. The private half lives on the member's own
machine (``$CMTOOL_IDENTITY``, else ``$XDG_CONFIG_HOME/cmtool/identity``, else
``~/.config/cmtool/identity``), mode 0600, never on the share; the public half
(``cmtool-x25519:<base64url>``) is what a member hands to the team.

Wrapping follows age's X25519 recipient: a fresh ephemeral key pair per
wrapping, its Diffie-Hellman secret with the recipient's public key through
HKDF-SHA256 (salted with both public keys) into an AES-256-GCM key that seals
the secret. Only the holder of the recipient's private key can redo the
exchange; the ephemeral private key is thrown away at once.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmtool.errors import EXIT_REFUSED, CmtoolError, UsageError

IDENTITY_ENV = "CMTOOL_IDENTITY"
NO_IDENTITY = "none"  # $CMTOOL_IDENTITY=none: this run opens no key, on purpose (a purge from cron)
PUBLIC_PREFIX = "cmtool-x25519:"
_WRAP_INFO = b"cmtool-member-wrap:v1"
_NONCE = 12
_PUBLIC = 32


class IdentityMissing(CmtoolError):
    """A key store wrapped for its members, and this user has no identity."""


class NotAMember(CmtoolError):
    """This user's identity is not enrolled in the key store."""

    exit_code = EXIT_REFUSED


def deliberately_none() -> bool:
    return os.environ.get(IDENTITY_ENV) == NO_IDENTITY


def identity_path() -> Path:
    chosen = os.environ.get(IDENTITY_ENV)
    if chosen:
        return Path(chosen).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or "~/.config"
    return Path(config).expanduser() / "cmtool" / "identity"


def public_text(raw: bytes) -> str:
    return PUBLIC_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_public(text: str) -> bytes:
    """The 32 raw bytes of a public key as ``cmtool privacy keygen`` prints it."""
    text = text.strip()
    body = text[len(PUBLIC_PREFIX) :] if text.startswith(PUBLIC_PREFIX) else None
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)) if body else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _PUBLIC:
        raise UsageError(
            f"{text[:60]!r} is not a member's public key",
            hint=f"it looks like {PUBLIC_PREFIX}... (43 characters after the colon): "
            "the line `cmtool privacy keygen` prints",
        )
    return raw


@dataclass(frozen=True)
class Identity:
    path: Path
    private: Any  # X25519PrivateKey

    @property
    def public(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def public_text(self) -> str:
        return public_text(self.public)


def create_identity(path: Path) -> tuple[Identity, bool]:
    """The identity at ``path``, made now if there is none (True when made)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    if path.exists():
        return load_identity(path), False
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = X25519PrivateKey.generate()
    pem = private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made meanwhile by another run: that one counts
        return load_identity(path), False
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return Identity(path, private), True


def load_identity(path: Path | None = None) -> Identity:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if path is None and deliberately_none():
        raise IdentityMissing(f"no identity (${IDENTITY_ENV}={NO_IDENTITY})", hint=f"unset {IDENTITY_ENV}")
    path = path or identity_path()
    join = "ask a member of the team to run: cmtool privacy members add YOURNAME <the key it prints>"
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except FileNotFoundError:
        raise IdentityMissing(
            f"no identity at {path}", hint=f"run `cmtool privacy keygen`, then {join}"
        ) from None
    except OSError as exc:
        raise IdentityMissing(f"identity {path}: {exc.strerror}") from None
    if os.name == "posix" and mode & 0o077:
        raise UsageError(
            f"identity {path} can be read by others (mode {mode & 0o777:o})",
            hint=f"chmod 600 {path}",
        )
    try:
        private = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        private = None
    if not isinstance(private, X25519PrivateKey):
        raise UsageError(
            f"identity {path} is not an X25519 private key",
            hint=f"move it away and run `cmtool privacy keygen` for a new one; then {join}",
        )
    return Identity(path, private)


def wrap_for(recipient: bytes, secret: bytes) -> bytes:
    """``secret`` sealed for the holder of the private key of ``recipient``:
    ephemeral public key (32) + nonce (12) + AES-GCM ciphertext and tag."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    sender = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    nonce = os.urandom(_NONCE)
    return sender + nonce + AESGCM(_wrap_key(shared, sender, recipient)).encrypt(nonce, secret, _WRAP_INFO)


def unwrap_with(identity: Identity, wrapped: bytes) -> bytes | None:
    """The secret ``wrap_for`` sealed for this identity; None if it was not for it
    or was changed."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    sender, nonce, body = wrapped[:_PUBLIC], wrapped[_PUBLIC : _PUBLIC + _NONCE], wrapped[_PUBLIC + _NONCE :]
    try:
        shared = identity.private.exchange(X25519PublicKey.from_public_bytes(sender))
        return AESGCM(_wrap_key(shared, sender, identity.public)).decrypt(nonce, body, _WRAP_INFO)
    except (InvalidTag, ValueError):
        return None


def _wrap_key(shared: bytes, sender: bytes, recipient: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(hashes.SHA256(), 32, salt=sender + recipient, info=_WRAP_INFO).derive(shared)
