"""Text -> voice -> (voice conversion) -> talking face -> (swap) -> labelled video.

Every output carries the three labels the deep-synthesis labelling rules ask for: the audio
watermark (:func:`voxlab.watermark.provenance.label_generated`), the AI-generated tag in the
container metadata (``comment``, readable by ``ffprobe``) and, unless switched off, a
visible "AI-generated" caption. A YAML file (:class:`PipelineConfig`) can describe a run; the
run folder next to the output records the resolved config and the provenance. The mouth
follows the TTS engine's phoneme timings when it has them (Piper, VITS, espeak-ng), else
the audio; the provenance says which (``"mouth": {"source": "phonemes" | "audio"}``).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.av.video import VideoError, read_frames, read_image, write_video
from voxlab.errors import ConfigError

#: The visible label drawn on every frame when ``caption`` is on.
CAPTION = "AI-generated"


@dataclass(frozen=True)
class PipelineConfig:
    """One ``voxlab av make`` run.

    Attributes:
        text: What the face says.
        face: Photo of the face to animate.
        engine: TTS engine (espeak, piper, kokoro, festival).
        voice: Voice id of the engine (its default when None).
        rvc: Optional RVC export (``.pth``) to convert the voice.
        hubert: HuBERT weights RVC needs.
        swap_into: Optional video whose face gets replaced by the talking face.
        fps: Frame rate.
        caption: Draw the visible AI-generated caption.
        watermark: Embed the audio watermark (the container tag is written either way).
        seed: Seed of TTS, blinks and head motion.
        face_index: Which face of the photo (0 = largest).
    """

    text: str
    face: str
    engine: str = "espeak"
    voice: str | None = None
    rvc: str | None = None
    hubert: str | None = None
    swap_into: str | None = None
    fps: float = 25.0
    caption: bool = True
    watermark: bool = True
    seed: int = 0
    face_index: int | None = None

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> PipelineConfig:
        """Read a pipeline file; ``overrides`` (not None) win over its values.

        Raises:
            ConfigError: Unreadable YAML, unknown keys, missing text/face.
        """
        import yaml

        p = Path(path)
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{p}: cannot read the pipeline file ({exc})") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: a pipeline file is a mapping of keys (text:, face:, ...)")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{p}: unknown keys {unknown}; known: {sorted(known)}")
        data.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("text", "face"):
            if not data.get(key):
                raise ConfigError(f"{p}: `{key}:` is required")
        base = p.parent
        for key in ("face", "rvc", "hubert", "swap_into"):
            if data.get(key) and not Path(data[key]).is_absolute() and key not in overrides:
                data[key] = str(base / data[key])
        return cls(**data)


def draw_caption(frame: np.ndarray, text: str = CAPTION) -> np.ndarray:
    """Draw the visible label in the lower-left corner (white on a dark box)."""
    import cv2

    h, w = frame.shape[:2]
    scale = max(0.35, w / 900)
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    out = frame.copy()
    x, y = 6, h - 8
    cv2.rectangle(out, (x - 4, y - th - 6), (x + tw + 4, y + base), (0, 0, 0), -1)
    cv2.putText(out, text, (x, y - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick,
                cv2.LINE_AA)  # fmt: skip
    return out


def _git_revision() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).parent,
        ).stdout.strip() or None  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None


def speak(config: PipelineConfig):
    """TTS (+ optional RVC) for a config; returns a :class:`~voxlab.generation.base.Generated`."""
    from voxlab.generation.neural.engines import get_engine

    gen = get_engine(config.engine).synthesize(config.text, voice=config.voice, seed=config.seed)
    if config.rvc:
        if not config.hubert:
            raise ConfigError("--rvc needs --hubert hubert_base.pt (RVC's content encoder)")
        from voxlab.generation.neural.rvc.pipeline import RVCConverter

        conv = RVCConverter.load(config.rvc, config.hubert, None)
        out = conv.convert(gen.audio, gen.sample_rate)
        gen = type(out)(out.audio, out.sample_rate, f"{gen.system}+rvc",
                        {**gen.params, "rvc": str(config.rvc),
                         "tts_duration_s": round(gen.duration, 4)})  # fmt: skip
    return gen


def mouth_track(gen, audio: np.ndarray, *, fps: float):
    """The talking face's mouth track and where it came from.

    The TTS engine's phoneme timings (``gen.params["phonemes"]``, from Piper, VITS or
    espeak-ng) drive the mouth when they exist and still fit the audio: voice conversion
    that keeps the timing (RVC does: frame-synchronous) leaves them valid; a length change
    of more than one video frame or 2 % means they no longer apply. Otherwise the mouth
    follows the audio envelope and spectrum (:func:`~voxlab.face.talk.mouth_from_audio`).

    Args:
        gen: The speech (:class:`~voxlab.generation.base.Generated`).
        audio: The samples that go into the video (watermarked). Shape: ``(time,)``.
        fps: Video frame rate.

    Returns:
        ``(MouthTrack, info)``; ``info["source"]`` is ``"phonemes"`` or ``"audio"`` (with
        a ``"reason"`` when phoneme timings were not used).
    """
    from voxlab.face.talk import mouth_from_audio, visemes_from_phonemes
    from voxlab.face.visemes import check_events

    duration = len(audio) / gen.sample_rate
    raw = gen.params.get("phonemes")
    if not raw:
        engine = gen.params.get("engine", gen.system)
        reason = f"engine {engine} gives no phoneme timings"
    else:
        events = check_events(raw, name=f"phoneme events of {gen.system}")
        spoken = float(gen.params.get("tts_duration_s", events[-1][1]))
        if abs(spoken - duration) <= max(1.0 / fps, 0.02 * duration):
            track = visemes_from_phonemes(events, duration=duration, fps=fps)
            return track, {"source": "phonemes", "events": len(events)}
        reason = f"the timing changed ({spoken:.3f} s of phonemes, {duration:.3f} s of audio)"
    return mouth_from_audio(audio, gen.sample_rate, fps=fps), {"source": "audio", "reason": reason}


def make_video(
    config: PipelineConfig,
    out: str | os.PathLike,
    *,
    progress: Iterable | None = None,
    key: Any = None,
) -> dict[str, Any]:
    """Run the whole pipeline and write ``out`` plus ``<out>.run/`` (provenance).

    Args:
        config: What to make.
        out: Output video (``.mp4``).
        progress: Optional callable ``wrap(iterator, total)`` for a progress bar.
        key: Watermark key (the generation key when None).

    Returns:
        The provenance record (also written to ``<out>.run/provenance.json``).

    Raises:
        VoxlabError: Missing face photo, no face, TTS engine unavailable, bad swap video.
    """
    from voxlab.face.landmarks import Landmarker
    from voxlab.face.talk import TalkingFace
    from voxlab.watermark.provenance import label_generated

    t0 = time.perf_counter()
    out = Path(out)
    image = read_image(config.face)
    lm = Landmarker()
    face = TalkingFace(image, landmarker=lm, face_index=config.face_index, seed=config.seed,
                       name=str(config.face))  # fmt: skip
    gen = speak(config)
    audio, tags = label_generated(gen.audio, gen.sample_rate, system=f"av:{gen.system}",
                                  watermark=config.watermark, key=key)  # fmt: skip
    t_tts = time.perf_counter() - t0
    track, mouth = mouth_track(gen, audio, fps=config.fps)
    frames: Iterator[np.ndarray] = face.frames(track)
    if config.swap_into:
        frames = _swap_into(frames, config, lm)
    if config.caption:
        frames = (draw_caption(f) for f in frames)
    if progress is not None:
        frames = progress(frames, len(track.opening))
    tags = {**tags, "title": config.text[:80]}
    write_video(out, frames, fps=config.fps, audio=audio, sample_rate=gen.sample_rate,
                metadata=tags)  # fmt: skip
    record = {
        "output": str(out),
        "config": asdict(config),
        "speech": gen.provenance(),
        "labels": {
            "container_tags": tags,
            "watermark": config.watermark,
            "caption": CAPTION if config.caption else None,
        },
        "mouth": mouth,
        "frames": len(track.opening),
        "duration_s": round(len(audio) / gen.sample_rate, 3),
        "git_revision": _git_revision(),
        "seconds": {"tts": round(t_tts, 3), "total": round(time.perf_counter() - t0, 3)},
    }
    run = out.with_name(out.name + ".run")
    run.mkdir(parents=True, exist_ok=True)
    import yaml

    (run / "pipeline.yaml").write_text(yaml.safe_dump(asdict(config), sort_keys=False))
    (run / "provenance.json").write_text(json.dumps(record, indent=2))
    return record


def _swap_into(frames: Iterator[np.ndarray], config: PipelineConfig, lm) -> Iterator[np.ndarray]:
    """Put each talking-face frame onto the matching frame of ``swap_into`` (looped)."""
    from voxlab.face.landmarks import FaceTracker
    from voxlab.face.swap import FaceSwapper

    target = config.swap_into
    tracker = FaceTracker(lm, smoothing=0.5)
    swapper = None
    it = read_frames(target)
    for src in frames:
        try:
            tgt = next(it)
        except StopIteration:
            it = read_frames(target)
            tgt = next(it)
        if swapper is None:
            swapper = FaceSwapper(src, landmarker=lm, name="talking face")
        src_pts = tracker.update(src)
        if src_pts is not None:
            swapper.source, swapper.src_pts = src, src_pts
        yield swapper.swap_frame(tgt)


def check_output_path(out: str | os.PathLike) -> Path:
    """Refuse output names PyAV cannot mux an H.264 + AAC stream into."""
    p = Path(out)
    if p.suffix.lower() not in (".mp4", ".mkv", ".mov"):
        raise VideoError(f"{p}: the output must be .mp4, .mkv or .mov")
    return p


def describe(record: Mapping[str, Any]) -> str:
    """One line about a finished run."""
    return (
        f"{record['output']}: {record['frames']} frames, {record['duration_s']} s, "
        f"speech {record['speech']['system']}, {record['seconds']['total']} s to make"
    )
