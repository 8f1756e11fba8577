"""Load, inspect and save audio: one policy for every command in voxlab.

``load`` returns float32 samples plus an :class:`AudioInfo` recording what the file was
(original rate, channels, duration, codec) and what was done to it (mixed down, resampled).
Every bad input raises an :class:`~voxlab.errors.AudioError` subclass whose message starts
with the file's name; silence is valid audio and only warns.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.audio import backends
from voxlab.audio.backends import Source
from voxlab.audio.resample import resample
from voxlab.errors import (
    AudioError,
    AudioFileNotFoundError,
    CorruptAudioError,
    DurationError,
    EmptyAudioError,
    InvalidSamplesError,
    NotAFileError,
    SampleRateError,
    SilentAudioWarning,
    UnsupportedFormatError,
)

logger = logging.getLogger(__name__)

#: Sample rates outside this range are refused as absurd (in Hz).
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 768_000
#: Peak amplitude below which audio counts as silence.
SILENCE_PEAK = 1e-6
#: Peak level (dBFS) below which audio counts as near-silence: no speech to judge.
NEAR_SILENCE_DBFS = -60.0


def silence_note(samples: np.ndarray) -> str | None:
    """Says whether audio is silent or near-silent; None when it has a usable level.

    Args:
        samples: Audio of any shape (channels and time).

    Returns:
        ``"silent (...)"`` when every sample is below :data:`SILENCE_PEAK`,
        ``"near-silent (peak X dBFS ...)"`` when the peak is below :data:`NEAR_SILENCE_DBFS`,
        otherwise None.
    """
    peak = float(np.max(np.abs(samples), initial=0.0))
    if peak < SILENCE_PEAK:
        return "silent (every sample is zero or below 1e-6)"
    level = 20.0 * np.log10(peak)
    if level < NEAR_SILENCE_DBFS:
        return f"near-silent (peak {level:.1f} dBFS, below {NEAR_SILENCE_DBFS:.0f} dBFS)"
    return None


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, and what loading did to it.

    Attributes:
        path: The file path, or ``"<bytes>"`` / ``"<stream>"`` for in-memory sources.
        sample_rate: Native sample rate of the stream in Hz.
        channels: Native channel count.
        frames: Native length in samples per channel (declared, for :func:`info`; decoded,
            for :func:`load`).
        duration: ``frames / sample_rate`` in seconds.
        codec: Codec or subtype (``"pcm_16"``, ``"flac"``, ``"mp3float"``...).
        container: Container format (``"wav"``, ``"flac"``, ``"mp3"``...).
        backend: Which decoder read it: ``"soundfile"`` or ``"pyav"``.
        loaded_sample_rate: Rate of the returned samples (``None`` for :func:`info`).
        mixed_down: Whether channels were averaged to mono.
        channel: The channel picked, when one was.
    """

    path: str
    sample_rate: int
    channels: int
    frames: int
    duration: float
    codec: str
    container: str
    backend: str
    loaded_sample_rate: int | None = None
    mixed_down: bool = False
    channel: int | None = None

    @property
    def resampled(self) -> bool:
        """Whether the returned samples were resampled from the native rate."""
        return self.loaded_sample_rate is not None and self.loaded_sample_rate != self.sample_rate

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-serialisable), including ``resampled``."""
        out = asdict(self)
        out["resampled"] = self.resampled
        return out


def describe(source: Source) -> str:
    """A short name for ``source`` to put in messages."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    if isinstance(source, (bytes, bytearray)):
        return "<bytes>"
    return str(getattr(source, "name", "<stream>"))


def _check_source(source: Source) -> None:
    name = describe(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise AudioFileNotFoundError(f"{name}: no such file; check the path")
        if path.is_dir():
            raise NotAFileError(f"{name}: is a directory, not an audio file")
        if not path.is_file():
            raise NotAFileError(f"{name}: is not a regular file")
        if path.stat().st_size == 0:
            raise EmptyAudioError(f"{name}: the file is empty (0 bytes)")
    elif isinstance(source, (bytes, bytearray)):
        if len(source) == 0:
            raise EmptyAudioError(f"{name}: no bytes given")
    elif not hasattr(source, "read"):
        raise AudioError(
            f"cannot read audio from a {type(source).__name__}; "
            "pass a path, bytes or a binary file object"
        )


def _check_rate(name: str, rate: int, what: str) -> None:
    if not (MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE):
        raise SampleRateError(
            f"{name}: {what} sample rate {rate} Hz is outside the supported range "
            f"{MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz"
        )


def _attempts(source: Source):
    if backends.prefers_pyav(source):
        return [("pyav", backends.probe_pyav, backends.decode_pyav)]
    return [
        ("soundfile", backends.probe_soundfile, backends.decode_soundfile),
        ("pyav", backends.probe_pyav, backends.decode_pyav),
    ]


def _run_backends(source: Source, op: str, **kwargs):
    """Call the probe (``op="probe"``) or decoder of each backend in turn until one works."""
    errors: list[str] = []
    for label, probe, decode in _attempts(source):
        try:
            return (probe if op == "probe" else decode)(source, **kwargs)
        except CorruptAudioError as exc:
            # A backend that recognised the format and then failed has the best message.
            raise CorruptAudioError(f"{describe(source)}: {exc}") from exc
        except Exception as exc:  # each backend raises its own zoo of errors
            errors.append(f"{label}: {str(exc).strip() or type(exc).__name__}")
    logger.debug("%s: decoders failed: %s", describe(source), "; ".join(errors))
    raise CorruptAudioError(
        f"{describe(source)}: not decodable audio (corrupt, truncated or not an audio file)"
    )


def info(source: Source) -> AudioInfo:
    """Read a file's audio metadata without decoding it.

    Args:
        source: Path, bytes or binary file object.

    Returns:
        The native rate, channels, declared length, codec and container.

    Raises:
        AudioError: Missing, empty, non-audio or corrupt input (a subclass says which).
    """
    _check_source(source)
    probe = _run_backends(source, "probe")
    name = describe(source)
    if probe.channels <= 0:
        raise CorruptAudioError(f"{name}: the stream declares no channels")
    _check_rate(name, probe.sample_rate, "native")
    return AudioInfo(
        path=name,
        sample_rate=probe.sample_rate,
        channels=probe.channels,
        frames=probe.frames,
        duration=probe.frames / probe.sample_rate,
        codec=probe.codec,
        container=probe.container,
        backend=probe.backend,
    )


def load(
    source: Source,
    *,
    sr: int | None = 16_000,
    mono: bool = True,
    channel: int | None = None,
    max_seconds: float | None = None,
    offset: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, AudioInfo]:
    """Decode audio to float32, resampled with soxr and mixed down as asked.

    Args:
        source: Path, bytes or binary file object (wav/flac/ogg via soundfile;
            mp3/aac/m4a/opus/webm and video containers via PyAV).
        sr: Target sample rate in Hz; ``None`` keeps the native rate.
        mono: Average all channels to one. Ignored when ``channel`` is given.
        channel: Pick this channel (0-based) instead of mixing.
        max_seconds: Refuse files longer than this (checked before decoding when the
            header declares a length).
        offset: Skip this many seconds at the start.
        duration: Keep at most this many seconds after ``offset``.

    Returns:
        ``(samples, info)``: samples of shape ``(time,)`` for mono or a picked channel,
        else ``(channels, time)``; ``info`` records the original rate and channels.

    Raises:
        AudioError: A subclass naming the file: missing, directory, empty, zero samples,
            corrupt or truncated, NaN/Inf samples, too long, absurd sample rate.
    """
    _check_source(source)
    name = describe(source)
    if sr is not None:
        _check_rate(name, sr, "requested")
    if offset < 0 or (duration is not None and duration <= 0):
        raise AudioError(f"{name}: offset must be >= 0 and duration > 0")

    probe = None
    if max_seconds is not None or offset or duration is not None:
        probe = _run_backends(source, "probe")
        _check_rate(name, probe.sample_rate, "native")
        if max_seconds is not None and probe.frames / probe.sample_rate > max_seconds:
            raise DurationError(
                f"{name}: {probe.frames / probe.sample_rate:.1f} s is longer than the "
                f"limit of {max_seconds:g} s; raise max_seconds or cut the file"
            )
    max_frames = None
    if probe is not None and duration is not None:
        max_frames = int(math.ceil((offset + duration) * probe.sample_rate))
    decoded = _run_backends(source, "decode", max_frames=max_frames)
    rate = decoded.sample_rate
    _check_rate(name, rate, "native")
    samples = decoded.samples
    native_channels, native_frames = samples.shape
    if native_frames == 0:
        raise EmptyAudioError(f"{name}: the file decodes to zero samples")
    if max_seconds is not None and native_frames / rate > max_seconds:
        raise DurationError(
            f"{name}: {native_frames / rate:.1f} s is longer than the limit of "
            f"{max_seconds:g} s; raise max_seconds or cut the file"
        )
    if not np.isfinite(samples).all():
        bad = int(np.size(samples) - np.isfinite(samples).sum())
        raise InvalidSamplesError(
            f"{name}: {bad} sample(s) are NaN or Inf; the file is damaged or was written "
            "from a broken computation"
        )
    if offset or duration is not None:
        start = int(round(offset * rate))
        stop = None if duration is None else start + int(round(duration * rate))
        samples = samples[:, start:stop]
        if samples.shape[1] == 0:
            raise EmptyAudioError(f"{name}: nothing left after offset {offset:g} s")

    mixed = False
    if channel is not None:
        if not 0 <= channel < native_channels:
            raise AudioError(
                f"{name}: channel {channel} asked for, but the file has {native_channels}"
            )
        samples = samples[channel]
    elif mono:
        samples = samples.mean(axis=0, dtype=np.float32) if native_channels > 1 else samples[0]
        mixed = native_channels > 1
    if sr is not None and sr != rate:
        samples = resample(samples, orig_sr=rate, target_sr=sr)
    if float(np.max(np.abs(samples), initial=0.0)) < SILENCE_PEAK:
        warnings.warn(f"{name}: the audio is silent", SilentAudioWarning, stacklevel=2)
    result_info = AudioInfo(
        path=name,
        sample_rate=rate,
        channels=native_channels,
        frames=native_frames,
        duration=native_frames / rate,
        codec=decoded.codec,
        container=decoded.container,
        backend=decoded.backend,
        loaded_sample_rate=rate if sr is None else sr,
        mixed_down=mixed,
        channel=channel,
    )
    return np.ascontiguousarray(samples, dtype=np.float32), result_info


#: Extension -> (libsndfile format, default subtype).
_SOUNDFILE_WRITERS = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
}


def save(
    target: str | os.PathLike,
    audio: np.ndarray,
    sr: int,
    *,
    subtype: str | None = None,
    bitrate: int | None = None,
    metadata: dict[str, str] | None = None,
) -> Path:
    """Write audio to ``target``; the extension picks the format.

    wav/flac/ogg go through soundfile; mp3/m4a/aac/opus/webm through PyAV.

    Args:
        target: Output path; parent folders are created.
        audio: Samples in [-1, 1]. Shape: ``(time,)`` or ``(channels, time)``.
        sr: Sample rate in Hz.
        subtype: libsndfile subtype (e.g. ``"PCM_24"``, ``"FLOAT"``); format default if None.
        bitrate: Bits per second for lossy PyAV formats.
        metadata: Text tags (soundfile: title/comment/artist/...; PyAV: container tags).

    Returns:
        The written path.

    Raises:
        AudioError: Bad samples or rate; UnsupportedFormatError for unknown extensions.
    """
    path = Path(target)
    name = os.fspath(path)
    _check_rate(name, int(sr), "output")
    data = np.asarray(audio, dtype=np.float32)
    if data.ndim == 1:
        data = data[None, :]
    if data.ndim != 2 or data.shape[1] == 0:
        raise AudioError(f"{name}: audio must be (time,) or (channels, time) and non-empty")
    if not np.isfinite(data).all():
        raise InvalidSamplesError(f"{name}: refusing to write NaN or Inf samples")
    ext = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext in _SOUNDFILE_WRITERS:
        import soundfile as sf

        fmt, default_subtype = _SOUNDFILE_WRITERS[ext]
        chosen = subtype or default_subtype
        if chosen.startswith("PCM") and np.abs(data).max() > 1.0:
            warnings.warn(f"{name}: samples beyond [-1, 1] are clipped", stacklevel=2)
            data = np.clip(data, -1.0, 1.0)
        with sf.SoundFile(
            name, "w", samplerate=int(sr), channels=data.shape[0], format=fmt, subtype=chosen
        ) as handle:
            for key, value in (metadata or {}).items():
                if key in backends.SOUNDFILE_TAGS:
                    setattr(handle, key, value)
            handle.write(data.T)
    elif ext in backends.PYAV_WRITERS:
        backends.encode_pyav(
            name,
            np.clip(data, -1.0, 1.0),
            int(sr),
            extension=ext,
            bitrate=bitrate,
            metadata=metadata,
        )
    else:
        known = sorted(set(_SOUNDFILE_WRITERS) | set(backends.PYAV_WRITERS))
        raise UnsupportedFormatError(f"{name}: cannot write {ext or 'no extension'}; use {known}")
    return path
