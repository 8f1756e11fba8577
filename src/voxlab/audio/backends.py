"""Decoders and encoders behind :mod:`voxlab.audio.io`: soundfile first, PyAV for the rest.

This module and its siblings in :mod:`voxlab.audio` are the only code in voxlab that touches
soundfile, PyAV or soxr. Backends return raw decoded samples and metadata; validation
(NaN, silence, duration limits) and channel/rate policy live in :mod:`voxlab.audio.io`.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import numpy as np

from voxlab.errors import CorruptAudioError, UnsupportedFormatError

#: Extensions libsndfile reads natively; everything else goes to PyAV first.
SOUNDFILE_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au", ".snd", ".caf", ".w64"}
)
#: Extensions PyAV (FFmpeg) decodes: compressed audio and video containers.
PYAV_EXTENSIONS = frozenset(
    {".mp3", ".m4a", ".aac", ".mp4", ".opus", ".webm", ".mkv", ".mka", ".wma", ".mov", ".amr"}
)
#: Every extension voxlab treats as audio when scanning folders.
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS | PYAV_EXTENSIONS
#: Text fields libsndfile reads and writes (WAV LIST/INFO, FLAC/Vorbis comments).
SOUNDFILE_TAGS = (
    "title", "copyright", "software", "artist", "comment", "date", "album", "license",
    "tracknumber", "genre",
)  # fmt: skip

Source = str | os.PathLike | bytes | bytearray | BinaryIO


@dataclass(frozen=True)
class Decoded:
    """Raw decoder output.

    Attributes:
        samples: float32 array. Shape: ``(channels, frames)``.
        sample_rate: Native sample rate of the stream.
        codec: Codec name (``"pcm_16"``, ``"flac"``, ``"mp3"``...).
        container: Container/format name (``"wav"``, ``"flac"``, ``"mp3"``, ``"mov,mp4..."``).
        backend: ``"soundfile"`` or ``"pyav"``.
    """

    samples: np.ndarray
    sample_rate: int
    codec: str
    container: str
    backend: str


@dataclass(frozen=True)
class Probe:
    """Stream metadata read without decoding the samples."""

    sample_rate: int
    channels: int
    frames: int
    codec: str
    container: str
    backend: str


def rewind(source: Source) -> Source:
    """Give a backend a fresh view of ``source`` (file-likes are seeked back to the start)."""
    if isinstance(source, (bytes, bytearray)):
        return io.BytesIO(bytes(source))
    if hasattr(source, "seek"):
        source.seek(0)
    return source


def _sniff(head: bytes) -> bool:
    """Whether the first bytes look like MP3, MP4/M4A, Matroska/WebM or Ogg Opus."""
    return (
        head.startswith(b"ID3")
        or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0)
        or head[4:8] == b"ftyp"
        or head.startswith(b"\x1a\x45\xdf\xa3")
        or (head.startswith(b"OggS") and b"OpusHead" in head)
    )


def prefers_pyav(source: Source) -> bool:
    """Whether PyAV should decode ``source`` rather than soundfile.

    Paths decide by extension; bytes and file objects by their first bytes.
    """
    if isinstance(source, (str, os.PathLike)):
        return Path(source).suffix.lower() in PYAV_EXTENSIONS
    if isinstance(source, (bytes, bytearray)):
        return _sniff(bytes(source[:64]))
    if hasattr(source, "read") and hasattr(source, "seek"):
        head = source.read(64)
        source.seek(0)
        return _sniff(head)
    return False


# --------------------------------------------------------------------------- soundfile


def probe_soundfile(source: Source) -> Probe:
    """Read a stream's header with libsndfile."""
    import soundfile as sf

    info = sf.info(rewind(source))
    return Probe(
        sample_rate=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        codec=str(info.subtype).lower(),
        container=str(info.format).lower(),
        backend="soundfile",
    )


def _wav_data_bytes(source: Source) -> tuple[int, int] | None:
    """``(declared, present)`` byte counts of a RIFF/WAVE file's ``data`` chunk, if any."""
    import struct

    src = rewind(source)
    if isinstance(src, (str, os.PathLike)):
        with open(src, "rb") as handle:
            blob = handle.read(1 << 16)
            total = os.fstat(handle.fileno()).st_size
    elif hasattr(src, "read"):
        blob = src.read(1 << 16)
        src.seek(0, io.SEEK_END)
        total = src.tell()
        src.seek(0)
    else:
        return None
    if len(blob) < 12 or blob[:4] != b"RIFF" or blob[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(blob):
        chunk_id, size = blob[pos : pos + 4], struct.unpack("<I", blob[pos + 4 : pos + 8])[0]
        if chunk_id == b"data":
            if size in (0, 0xFFFFFFFF):  # streaming writers leave the size open
                return None
            return size, total - (pos + 8)
        pos += 8 + size + (size & 1)
    return None


def decode_soundfile(source: Source, *, max_frames: int | None = None) -> Decoded:
    """Decode with libsndfile, refusing streams that end before their header says.

    Args:
        source: Path, bytes or file-like object.
        max_frames: Decode at most this many frames (``None``: all).

    Returns:
        The decoded samples and metadata.

    Raises:
        CorruptAudioError: The stream ends early or cannot be decoded.
    """
    import soundfile as sf

    wav = _wav_data_bytes(source)
    if wav is not None and wav[1] < wav[0]:
        raise CorruptAudioError(
            f"truncated WAV: the header declares {wav[0]} bytes of samples but only "
            f"{wav[1]} are present"
        )
    with sf.SoundFile(rewind(source)) as handle:
        declared = int(handle.frames)
        wanted = declared if max_frames is None else min(declared, max_frames)
        data = handle.read(frames=wanted, dtype="float32", always_2d=True)
        codec, container, rate = handle.subtype.lower(), handle.format.lower(), handle.samplerate
    if data.shape[0] < wanted:
        raise CorruptAudioError(
            f"truncated stream: the header declares {declared} frames but only "
            f"{data.shape[0]} could be decoded"
        )
    return Decoded(
        samples=np.ascontiguousarray(data.T),
        sample_rate=int(rate),
        codec=codec,
        container=container,
        backend="soundfile",
    )


# --------------------------------------------------------------------------- PyAV


def _open_av(source: Source):
    import av

    src = rewind(source)
    if isinstance(src, os.PathLike):
        src = os.fspath(src)
    return av.open(src, mode="r", metadata_errors="ignore")


def _first_audio_stream(container):
    streams = [s for s in container.streams if s.type == "audio"]
    if not streams:
        raise CorruptAudioError("the container holds no audio stream")
    return streams[0]


def _declared_frames(stream, container) -> int:
    """Frames the container declares for ``stream`` (0 when unknown)."""
    rate = stream.rate or stream.codec_context.sample_rate or 0
    if stream.duration is not None and stream.time_base is not None and rate:
        return int(round(float(stream.duration * stream.time_base) * rate))
    if container.duration is not None and rate:
        return int(round(container.duration / 1_000_000 * rate))
    return 0


def probe_pyav(source: Source) -> Probe:
    """Read a stream's metadata with PyAV (FFmpeg)."""
    with _open_av(source) as container:
        stream = _first_audio_stream(container)
        ctx = stream.codec_context
        return Probe(
            sample_rate=int(stream.rate or ctx.sample_rate or 0),
            channels=int(ctx.channels or 0),
            frames=_declared_frames(stream, container),
            codec=str(ctx.name),
            container=str(container.format.name),
            backend="pyav",
        )


def decode_pyav(source: Source, *, max_frames: int | None = None) -> Decoded:
    """Decode the first audio stream with PyAV to planar float32.

    Args:
        source: Path, bytes or file-like object.
        max_frames: Stop after this many frames (``None``: all).

    Returns:
        The decoded samples and metadata.

    Raises:
        CorruptAudioError: No audio stream, undecodable packets, or a stream that ends well
            before the duration its container declares (a truncated file).
    """
    import av

    chunks: list[np.ndarray] = []
    total = 0
    with _open_av(source) as container:
        stream = _first_audio_stream(container)
        ctx = stream.codec_context
        rate = int(stream.rate or ctx.sample_rate or 0)
        declared = _declared_frames(stream, container)
        resampler = av.AudioResampler(format="fltp", layout=ctx.layout.name, rate=rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    total += chunks[-1].shape[1]
                if max_frames is not None and total >= max_frames:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
                    total += chunks[-1].shape[1]
        except av.error.FFmpegError as exc:
            raise CorruptAudioError(f"corrupt or truncated audio data ({exc})") from exc
        codec, fmt = str(ctx.name), str(container.format.name)
    if not chunks:
        return Decoded(np.zeros((max(ctx.channels, 1), 0), np.float32), rate, codec, fmt, "pyav")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    if max_frames is not None:
        samples = samples[:, :max_frames]
    # Lossy codecs pad/trim a frame or two; a real truncation loses much more.
    slack = max(4096, int(0.02 * declared))
    if max_frames is None and declared and samples.shape[1] + slack < declared:
        raise CorruptAudioError(
            f"truncated stream: the container declares {declared / rate:.2f} s but only "
            f"{samples.shape[1] / rate:.2f} s could be decoded"
        )
    return Decoded(np.ascontiguousarray(samples), rate, codec, fmt, "pyav")


#: Output extension -> (PyAV container format, codec, default bit rate or None).
PYAV_WRITERS: dict[str, tuple[str, str, int | None]] = {
    ".mp3": ("mp3", "libmp3lame", 128_000),
    ".m4a": ("ipod", "aac", 128_000),
    ".aac": ("adts", "aac", 128_000),
    ".opus": ("opus", "libopus", 64_000),
    ".webm": ("webm", "libopus", 64_000),
}
_OPUS_RATES = (48_000, 24_000, 16_000, 12_000, 8_000)


def encode_pyav(
    target: str | os.PathLike | BinaryIO,
    samples: np.ndarray,
    sample_rate: int,
    *,
    extension: str,
    bitrate: int | None = None,
    metadata: dict[str, str] | None = None,
) -> None:
    """Encode ``samples`` with PyAV into a compressed container.

    Args:
        target: Output path or writable binary file object.
        samples: float32 samples in [-1, 1]. Shape: ``(channels, frames)``.
        sample_rate: Sample rate of ``samples``.
        extension: Output kind, a key of :data:`PYAV_WRITERS` (e.g. ``".mp3"``).
        bitrate: Bits per second; the format's default when None.
        metadata: Container tags (e.g. ``{"comment": "AI-generated"}``).

    Raises:
        UnsupportedFormatError: The extension has no PyAV writer.
    """
    import av

    if extension not in PYAV_WRITERS:
        raise UnsupportedFormatError(
            f"cannot encode {extension!r}; PyAV writers: {sorted(PYAV_WRITERS)}"
        )
    fmt, codec, default_rate = PYAV_WRITERS[extension]
    channels = samples.shape[0]
    layout = "mono" if channels == 1 else "stereo"
    if channels > 2:
        raise UnsupportedFormatError(f"{extension} output supports 1 or 2 channels, not {channels}")
    out_rate = sample_rate
    if codec == "libopus" and sample_rate not in _OPUS_RATES:
        out_rate = 48_000
    dest = os.fspath(target) if isinstance(target, (str, os.PathLike)) else target
    with av.open(dest, mode="w", format=fmt) as container:
        for key, value in (metadata or {}).items():
            container.metadata[key] = value
        stream = container.add_stream(codec, rate=out_rate)
        stream.layout = layout
        if bitrate or default_rate:
            stream.bit_rate = int(bitrate or default_rate)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples, dtype=np.float32), format="fltp", layout=layout
        )
        frame.sample_rate = sample_rate
        frame.pts = None
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout=layout, rate=out_rate
        )
        frame_size = stream.codec_context.frame_size or 1024
        fifo = av.AudioFifo()
        for converted in resampler.resample(frame) + resampler.resample(None):
            fifo.write(converted)
        offset = 0
        for chunk in fifo.read_many(frame_size, partial=True):
            # Real timestamps let the muxer record the encoder's priming delay (edit list).
            chunk.pts = offset
            chunk.time_base = Fraction(1, out_rate)
            offset += chunk.samples
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
