"""Frame-by-frame video reading and writing through PyAV (bounded memory).

Frames are RGB ``uint8`` arrays of shape ``(height, width, 3)``. Reading is a generator,
so long videos never sit in memory; writing takes any iterable of frames and optionally
muxes an audio track (AAC) next to the H.264 video, with container metadata tags.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from voxlab.errors import VoxlabError

#: Frames smaller than this (either side) are refused: no face fits in them.
MIN_SIDE = 32
#: Frames larger than this (either side) are refused: 8K is the most voxlab handles.
MAX_SIDE = 8192


class VideoError(VoxlabError):
    """A video could not be read or written, or is unusable."""


@dataclass(frozen=True)
class VideoInfo:
    """What a container holds.

    Attributes:
        path: The file.
        width: Frame width (0 without video).
        height: Frame height (0 without video).
        fps: Frames per second (0 without video).
        frames: Declared frame count (0 when unknown).
        has_video: A video stream exists.
        has_audio: An audio stream exists.
        metadata: Container tags.
    """

    path: str
    width: int
    height: int
    fps: float
    frames: int
    has_video: bool
    has_audio: bool
    metadata: dict[str, str]


def _open(path: str | os.PathLike):
    import av

    p = Path(path)
    if not p.exists():
        raise VideoError(f"{p}: no such file; check the path")
    if not p.is_file():
        raise VideoError(f"{p}: not a regular file; give a video file")
    if p.stat().st_size == 0:
        raise VideoError(f"{p}: the file is empty; re-export the video")
    try:
        return av.open(str(p), mode="r", metadata_errors="ignore")
    except Exception as exc:  # PyAV raises many FFmpeg error types
        raise VideoError(
            f"{p}: not a readable video ({exc.__class__.__name__}: {exc}); "
            "re-encode it, e.g. `ffmpeg -i IN -c:v libx264 OUT.mp4`"
        ) from exc


def probe_video(path: str | os.PathLike) -> VideoInfo:
    """Read a container's streams and tags without decoding frames.

    Raises:
        VideoError: Missing, empty or undecodable file.
    """
    with _open(path) as c:
        v = c.streams.video[0] if c.streams.video else None
        fps = float(v.average_rate or v.guessed_rate or 0) if v is not None else 0.0
        return VideoInfo(
            path=str(path),
            width=int(v.codec_context.width) if v is not None else 0,
            height=int(v.codec_context.height) if v is not None else 0,
            fps=fps,
            frames=int(v.frames or 0) if v is not None else 0,
            has_video=v is not None,
            has_audio=bool(c.streams.audio),
            metadata={str(k): str(val) for k, val in c.metadata.items()},
        )


def check_frame(frame: np.ndarray, *, name: str = "frame") -> np.ndarray:
    """Validate one RGB frame's type and size.

    Raises:
        VideoError: Not ``(H, W, 3)`` uint8, or a side outside [MIN_SIDE, MAX_SIDE].
    """
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise VideoError(f"{name}: expected an RGB frame (H, W, 3), got shape {frame.shape}")
    h, w = frame.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise VideoError(
            f"{name}: frame {w}x{h} is too small (each side must be >= {MIN_SIDE} px); "
            "use a larger video or image"
        )
    if max(h, w) > MAX_SIDE:
        raise VideoError(
            f"{name}: frame {w}x{h} is too large (each side must be <= {MAX_SIDE} px); "
            "downscale it first, e.g. `ffmpeg -i IN -vf scale=1920:-2 OUT.mp4`"
        )
    return np.ascontiguousarray(frame, dtype=np.uint8)


def read_frames(path: str | os.PathLike, *, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Decode a video's frames one at a time (bounded memory).

    Args:
        path: Video file.
        max_frames: Stop after this many frames.

    Yields:
        RGB frames. Shape: ``(height, width, 3)``, uint8.

    Raises:
        VideoError: No video stream (e.g. an audio file), corrupt data, bad frame size.
    """
    import av

    with _open(path) as c:
        if not c.streams.video:
            raise VideoError(
                f"{path}: the file has no video stream (audio only?); "
                "give a video, or use `voxlab face talk IMAGE AUDIO` to make one"
            )
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        n = 0
        try:
            for frame in c.decode(stream):
                yield check_frame(frame.to_ndarray(format="rgb24"), name=str(path))
                n += 1
                if max_frames is not None and n >= max_frames:
                    return
        except av.error.FFmpegError as exc:
            raise VideoError(
                f"{path}: the video is corrupt after frame {n} ({exc}); re-encode or re-export it"
            ) from exc
        if n == 0:
            raise VideoError(f"{path}: the video stream holds no decodable frames")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read a still image as an RGB frame (any format FFmpeg decodes: jpg, png, ...).

    Raises:
        VideoError: Missing or undecodable image, bad size.
    """
    frames = read_frames(path, max_frames=1)
    return next(frames)


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    *,
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    metadata: Mapping[str, str] | None = None,
    crf: int = 23,
) -> Path:
    """Encode frames (H.264, yuv420p) and optional mono audio (AAC) into an MP4/MKV.

    Written to a temporary file and renamed into place, so no half-written output.

    Args:
        path: Output file (``.mp4`` or ``.mkv``).
        frames: RGB uint8 frames, all the same size. Shape of each: ``(height, width, 3)``.
        fps: Frame rate.
        audio: Optional float samples. Shape: ``(time,)``.
        sample_rate: Rate of ``audio`` in Hz.
        metadata: Container tags (e.g. the AI-generated ``comment``).
        crf: x264 quality (lower = better, larger).

    Returns:
        The written path.

    Raises:
        VideoError: No frames, frames of changing size, bad fps.
    """
    import av

    out = Path(path)
    if fps <= 0 or fps > 240:
        raise VideoError(f"{out}: fps {fps} is out of range (0, 240]")
    if audio is not None and not sample_rate:
        raise VideoError(f"{out}: audio given without its sample rate")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    rate = Fraction(fps).limit_denominator(1001)
    n = 0
    try:
        with av.open(str(tmp), mode="w") as c:
            for key, value in (metadata or {}).items():
                c.metadata[key] = value
            vstream = None
            astream = None
            if audio is not None:
                astream = c.add_stream("aac", rate=int(sample_rate))
                astream.layout = "mono"
            for frame in frames:
                frame = check_frame(frame, name=str(out))
                if vstream is None:
                    h, w = frame.shape[:2]
                    vstream = c.add_stream("libx264", rate=rate)
                    vstream.width, vstream.height = w - w % 2, h - h % 2
                    vstream.pix_fmt = "yuv420p"
                    vstream.options = {"crf": str(crf), "preset": "veryfast"}
                if frame.shape[:2] != (h, w):
                    raise VideoError(
                        f"{out}: frame {n} is {frame.shape[1]}x{frame.shape[0]}, "
                        f"the first was {w}x{h}; all frames must have one size"
                    )
                vf = av.VideoFrame.from_ndarray(frame[: h - h % 2, : w - w % 2], format="rgb24")
                c.mux(vstream.encode(vf))
                n += 1
            if vstream is None:
                raise VideoError(f"{out}: no frames to write")
            c.mux(vstream.encode(None))
            if astream is not None:
                _mux_audio(c, astream, np.asarray(audio, dtype=np.float32).reshape(-1))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out


def _mux_audio(container, stream, samples: np.ndarray) -> None:
    import av

    chunk = 1024 * 8
    pts = 0
    for start in range(0, len(samples), chunk):
        block = np.clip(samples[start : start + chunk], -1.0, 1.0)[None, :]
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout="mono")
        af.sample_rate = stream.rate
        af.pts = pts
        pts += block.shape[1]
        container.mux(stream.encode(af))
    container.mux(stream.encode(None))


def read_audio_track(path: str | os.PathLike, *, sr: int = 16_000) -> np.ndarray:
    """The audio track of a video as mono float32 at ``sr``.

    Raises:
        VideoError: The file has no audio stream.
    """
    info = probe_video(path)
    if not info.has_audio:
        raise VideoError(
            f"{path}: the video has no audio track; the audio checks need one "
            "(mux speech in with `voxlab av make` or ffmpeg)"
        )
    from voxlab.audio import load

    audio, _ = load(path, sr=sr, mono=True)
    return np.asarray(audio, dtype=np.float32)
