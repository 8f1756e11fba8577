"""In-memory lossy codec round trips (MP3, AAC, Opus) with PyAV: encode, decode, align.

Used by the attack suite in :mod:`voxlab.audio.effects`; nothing touches the disk and
nothing shells out to ffmpeg.
"""

from __future__ import annotations

import io

import numpy as np

from voxlab.audio.backends import PYAV_WRITERS, decode_pyav, encode_pyav
from voxlab.audio.resample import resample
from voxlab.errors import AudioError, UnsupportedFormatError

#: Codec name -> output extension understood by :func:`voxlab.audio.backends.encode_pyav`.
CODEC_EXTENSIONS = {"mp3": ".mp3", "aac": ".m4a", "opus": ".opus"}


def encode_bytes(
    audio: np.ndarray,
    sr: int,
    *,
    codec: str,
    bitrate: int,
    metadata: dict[str, str] | None = None,
) -> bytes:
    """Encode audio to an in-memory MP3 / AAC (M4A) / Opus file.

    Args:
        audio: float32 samples in [-1, 1]. Shape: ``(time,)`` or ``(channels, time)``.
        sr: Sample rate of ``audio`` in Hz.
        codec: ``"mp3"``, ``"aac"`` or ``"opus"``.
        bitrate: Bits per second (e.g. ``64_000``).
        metadata: Container tags.

    Returns:
        The encoded file's bytes.

    Raises:
        UnsupportedFormatError: Unknown codec.
    """
    if codec not in CODEC_EXTENSIONS:
        raise UnsupportedFormatError(
            f"unknown codec {codec!r}; use one of {sorted(CODEC_EXTENSIONS)}"
        )
    ext = CODEC_EXTENSIONS[codec]
    assert ext in PYAV_WRITERS
    data = np.asarray(audio, dtype=np.float32)
    data = data[None, :] if data.ndim == 1 else data
    buffer = io.BytesIO()
    encode_pyav(
        buffer,
        np.clip(data, -1.0, 1.0),
        int(sr),
        extension=ext,
        bitrate=int(bitrate),
        metadata=metadata,
    )
    return buffer.getvalue()


def codec_roundtrip(audio: np.ndarray, sr: int, *, codec: str, bitrate: int) -> np.ndarray:
    """Encode then decode ``audio`` with a lossy codec, back at ``sr`` and the same length.

    The decoder's output is resampled back to ``sr`` when the codec changed the rate (Opus
    runs at 48 kHz for 44.1 kHz input), then trimmed or zero-padded to the input length
    (the container's edit list already removes the encoder's priming delay).

    Args:
        audio: float32 samples. Shape: ``(time,)`` or ``(channels, time)``.
        sr: Sample rate in Hz.
        codec: ``"mp3"``, ``"aac"`` or ``"opus"``.
        bitrate: Bits per second.

    Returns:
        float32 samples. Shape: like ``audio``.

    Raises:
        AudioError: Empty input or a codec failure.
    """
    data = np.asarray(audio, dtype=np.float32)
    mono = data.ndim == 1
    frames = data.shape[-1]
    if frames == 0:
        raise AudioError("cannot run a codec round trip on empty audio")
    blob = encode_bytes(data, sr, codec=codec, bitrate=bitrate)
    decoded = decode_pyav(io.BytesIO(blob))
    out = decoded.samples
    if decoded.sample_rate != sr:
        out = resample(out, orig_sr=decoded.sample_rate, target_sr=sr)
    if out.shape[1] >= frames:
        out = out[:, :frames]
    else:
        out = np.pad(out, ((0, 0), (0, frames - out.shape[1])))
    out = np.ascontiguousarray(out, dtype=np.float32)
    return out[0] if mono else out
