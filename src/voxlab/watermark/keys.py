"""Secret watermark keys: 128 random bits from which every pseudo-random choice derives.

A key is stored as 32 hexadecimal characters in a text file. Each use (sync pattern,
payload spreading, scrambling...) gets its own stream: HMAC-SHA-256(key, label) seeds a
numpy ``Generator``, so streams are independent and reproducible, and nothing about
them can be computed without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voxlab.errors import ConfigError

#: Key length in bytes (128 bits).
KEY_BYTES = 16


@dataclass(frozen=True)
class WatermarkKey:
    """A 128-bit secret key.

    Attributes:
        secret: The 16 key bytes.
    """

    secret: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) != KEY_BYTES:
            raise ConfigError(f"a watermark key must be {KEY_BYTES} bytes, got {self.secret!r:.40}")

    def __repr__(self) -> str:  # never print the secret
        return f"WatermarkKey(id={self.key_id})"

    @classmethod
    def generate(cls) -> WatermarkKey:
        """A fresh key from the operating system's secure random source."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_hex(cls, text: str) -> WatermarkKey:
        """Parse 32 hexadecimal characters.

        Raises:
            ConfigError: Not 32 hex digits.
        """
        clean = text.strip().lower()
        try:
            raw = bytes.fromhex(clean)
        except ValueError:
            raw = b""
        if len(raw) != KEY_BYTES:
            raise ConfigError(
                f"a watermark key is {2 * KEY_BYTES} hex digits; got {len(clean)} characters "
                "(create one with `voxlab watermark keygen --out KEY`)"
            )
        return cls(raw)

    @classmethod
    def from_passphrase(cls, text: str) -> WatermarkKey:
        """Derive a key from a passphrase (SHA-256, truncated); for tests and demos."""
        return cls(hashlib.sha256(text.encode("utf-8")).digest()[:KEY_BYTES])

    @classmethod
    def load(cls, path: str | os.PathLike) -> WatermarkKey:
        """Read a key file written by :meth:`save`.

        Raises:
            ConfigError: Missing or malformed key file.
        """
        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"{p}: no such key file; create one with `voxlab watermark keygen --out {p}`"
            )
        try:
            return cls.from_hex(
                p.read_text(encoding="ascii").splitlines()[0] if p.stat().st_size else ""
            )
        except (UnicodeDecodeError, IndexError) as exc:
            raise ConfigError(f"{p}: not a voxlab watermark key (32 hex digits)") from exc
        except ConfigError as exc:
            raise ConfigError(f"{p}: {exc}") from exc

    def save(self, path: str | os.PathLike) -> Path:
        """Write the key as hex text, readable by the owner only."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(self.secret.hex() + "\n")
        return p

    @property
    def key_id(self) -> str:
        """A short public fingerprint (first 8 hex digits of a hash), safe to print."""
        return hashlib.sha256(b"voxlab-key-id" + self.secret).hexdigest()[:8]

    def derive(self, label: str) -> bytes:
        """32 bytes for the use ``label``: HMAC-SHA-256(key, label)."""
        return hmac.new(self.secret, label.encode("utf-8"), hashlib.sha256).digest()

    def rng(self, label: str) -> np.random.Generator:
        """A numpy Generator seeded from :meth:`derive` (independent per label)."""
        return np.random.default_rng(int.from_bytes(self.derive(label), "big"))


def as_key(key: WatermarkKey | str | bytes | os.PathLike) -> WatermarkKey:
    """Accept a key object, 16 raw bytes, 32 hex digits, or a key file path."""
    if isinstance(key, WatermarkKey):
        return key
    if isinstance(key, bytes):
        return WatermarkKey(key)
    if isinstance(key, str) and len(key.strip()) == 2 * KEY_BYTES and not Path(key).exists():
        return WatermarkKey.from_hex(key)
    return WatermarkKey.load(key)
