"""File-level watermarking: embed into files (with the AI label) and scan files for marks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxlab.audio import load, save
from voxlab.errors import ConfigError, VoxlabError
from voxlab.watermark.detect import DEFAULT_FPR, WatermarkResult, detect
from voxlab.watermark.embed import DEFAULT_STRENGTH, embed
from voxlab.watermark.keys import WatermarkKey, as_key
from voxlab.watermark.labels import label_metadata, read_label


def parse_payload(
    *, payload: str | int | None = None, message: str | None = None, bits: int = 32
) -> int:
    """The payload from hex digits / an int, or from a text message.

    In the 32-bit format a message is hashed (first 4 bytes of its SHA-256): 32 bits
    cannot hold text, but the same message always gives the same payload, so a detector
    can check it. In the 128-bit format a message of up to 16 UTF-8 bytes is carried as
    it is (zero-padded), so the detector reads it back (:func:`payload_text`).

    Args:
        payload: Hex digits (8 for 32 bits, up to 32 for 128) or an int.
        message: Text instead of a payload.
        bits: Payload format, 32 or 128.

    Raises:
        ConfigError: Neither or both given, a bad hex value, a value or message too long
            for the format, or an unknown format.
    """
    if bits not in (32, 128):
        raise ConfigError(f"payload format must be 32 or 128 bits, got {bits}")
    digits = bits // 4
    if (payload is None) == (message is None):
        raise ConfigError(f"give exactly one of a payload ({digits} hex digits) or a message")
    if message is not None:
        raw = message.encode("utf-8")
        if bits == 32:
            return int.from_bytes(hashlib.sha256(raw).digest()[:4], "big")
        if not raw or len(raw) > 16 or b"\0" in raw:
            raise ConfigError(
                f"a 128-bit message is 1-16 UTF-8 bytes without NUL; {message!r} has "
                f"{len(raw)} (shorten it, or pass --payload with 32 hex digits)"
            )
        return int.from_bytes(raw.ljust(16, b"\0"), "big")
    if isinstance(payload, int):
        value = payload
    else:
        text = str(payload).strip().lower().removeprefix("0x")
        try:
            value = int(text, 16)
        except ValueError as exc:
            raise ConfigError(f"payload {payload!r} is not hexadecimal (e.g. 0badc0de)") from exc
    if not 0 <= value < 2**bits:
        hint = " (or use --bits 128 for up to 32 hex digits)" if bits == 32 else ""
        raise ConfigError(
            f"payload {payload!r} does not fit in {bits} bits (at most {digits} hex digits)" + hint
        )
    return value


def payload_text(payload: str | None) -> str | None:
    """The text a 128-bit payload carries (``embed --bits 128 --message``), if it is text.

    Returns:
        The message, or None for 32-bit payloads and payloads that are not zero-padded
        printable UTF-8.
    """
    if payload is None or len(payload) != 32:
        return None
    raw = bytes.fromhex(payload).rstrip(b"\0")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text if text and text.isprintable() and b"\0" not in raw else None


def message_payload(message: str) -> str:
    """The payload (8 hex digits) a message maps to."""
    return f"{parse_payload(message=message):08x}"


def embed_file(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    key: WatermarkKey | str | bytes | os.PathLike,
    payload: int,
    *,
    strength: float = DEFAULT_STRENGTH,
    label: bool = True,
    bitrate: int | None = None,
    bits: int = 32,
) -> dict[str, Any]:
    """Watermark a file at its own rate and channels, writing the AI label tag too.

    Args:
        src: Input audio file.
        dst: Output path; the extension picks the format (wav/flac/ogg/mp3/m4a/opus).
        key: Secret key (object, bytes, hex, or key file).
        payload: The payload (``bits`` bits).
        strength: Watermark strength (see :func:`voxlab.watermark.embed.embed`).
        label: Write the "AI-generated" metadata tag.
        bitrate: Bit rate for lossy outputs.
        bits: Payload format, 32 or 128.

    Returns:
        A summary: paths, payload, duration, sample rate, channels, SNR (dB).

    Raises:
        AudioError: Unreadable input or unwritable output.
    """
    import numpy as np

    k = as_key(key)
    audio, info = load(src, sr=None, mono=False)
    marked = embed(audio, info.sample_rate, k, payload, strength=strength, bits=bits)
    metadata = label_metadata(key_id=k.key_id) if label else None
    save(dst, marked, info.sample_rate, bitrate=bitrate, metadata=metadata)
    noise = float(np.sum((marked - audio) ** 2))
    snr = (
        10 * np.log10(float(np.sum(audio.astype(np.float64) ** 2)) / noise)
        if noise > 0
        else float("inf")
    )
    return {
        "input": os.fspath(src),
        "output": os.fspath(dst),
        "payload": f"{payload:0{bits // 4}x}",
        "bits": bits,
        "key_id": k.key_id,
        "duration": round(info.duration, 4),
        "sample_rate": info.sample_rate,
        "channels": info.channels,
        "snr_db": round(float(snr), 2),
        "label": bool(label),
    }


@dataclass
class FileResult:
    """One row of a file scan: the watermark result plus the label, or the error."""

    path: str
    status: str
    result: WatermarkResult | None = None
    label: str | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON-serialisable row."""
        row: dict[str, Any] = {"path": self.path, "status": self.status}
        if self.result is not None:
            row.update(self.result.to_dict())
        if self.status == "ok":
            row["ai_label"] = self.label is not None
            row["label"] = self.label
        if self.error is not None:
            row["error"] = self.error
        return row


def detect_file(
    path: str | os.PathLike,
    key: WatermarkKey | str | bytes | os.PathLike,
    *,
    fpr: float = DEFAULT_FPR,
    max_seconds: float | None = None,
) -> FileResult:
    """Look for the watermark and the AI label in one file.

    Raises:
        VoxlabError: Unreadable file or bad key.
    """
    audio, info = load(path, sr=16_000, mono=True, max_seconds=max_seconds)
    result = detect(audio, 16_000, as_key(key), fpr=fpr)
    result.duration = round(info.duration, 4)
    try:
        label = read_label(path)
    except VoxlabError:
        label = None
    return FileResult(path=os.fspath(path), status="ok", result=result, label=label)


def detect_files(
    paths: Iterable[str | os.PathLike],
    key: WatermarkKey | str | bytes | os.PathLike,
    *,
    fpr: float = DEFAULT_FPR,
    max_seconds: float | None = None,
) -> Iterator[FileResult]:
    """:func:`detect_file` over many files; a failing file becomes an error row.

    Raises:
        ConfigError: The key cannot be read (checked once, before any file).
    """
    k = as_key(key)
    for path in paths:
        try:
            yield detect_file(path, k, fpr=fpr, max_seconds=max_seconds)
        except VoxlabError as exc:
            yield FileResult(path=os.fspath(Path(path)), status="error", error=str(exc))
