"""``voxlab face detect``: one report per video from three detectors.

(a) the blending-boundary CNN on aligned crops (per frame, per 1-s segment),
(b) audio-visual synchrony (mouth opening vs speech envelope over lags),
(c) the audio track through voxlab's countermeasure (optional) and watermark detection.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.av.video import VideoError, probe_video, read_audio_track, read_frames
from voxlab.face.sync import mouth_opening, speech_envelope, synchrony


def analyse_video(
    path: str | os.PathLike,
    *,
    weights: str | os.PathLike | None = None,
    max_frames: int | None = None,
    face_index: int | None = None,
    cm_model: str | None = None,
    key: Any = None,
    progress: Callable[[Iterable, int], Iterable] | None = None,
) -> dict[str, Any]:
    """Run the detectors over one video (streaming frames).

    Args:
        path: Video file.
        weights: Boundary-CNN weights (the shipped ones when None).
        max_frames: Analyse at most this many frames.
        face_index: Which face (0 = largest).
        cm_model: Countermeasure for the audio (``voxlab detect`` model name); skipped when
            None.
        key: Watermark key (the generation key when None).
        progress: Optional ``wrap(iterable, total)`` for a progress bar.

    Returns:
        JSON-ready report: per-frame scores, per-segment means, synchrony, audio checks.

    Raises:
        VideoError: Unreadable video or no video stream.
    """
    from voxlab.face.boundary import load_boundary, score_crops
    from voxlab.face.landmarks import FaceTracker, align_crop

    info = probe_video(path)
    if not info.has_video:
        raise VideoError(f"{path}: no video stream; `voxlab detect` checks audio-only files")
    fps = info.fps or 25.0
    from voxlab.errors import CheckpointError

    try:
        model = load_boundary(weights)
        missing = None
    except CheckpointError as exc:
        if weights is not None:
            raise
        model, missing = None, str(exc)  # the other detectors still run
    # raw per-frame landmarks: the detectors judge each frame as it is
    tracker = FaceTracker(smoothing=0.0, redetect=5, face_index=face_index, stabilise="none")
    frames: Iterable[np.ndarray] = read_frames(path, max_frames=max_frames)
    if progress is not None:
        frames = progress(frames, min(info.frames or 0, max_frames or 10**9))
    scores: list[float | None] = []
    opening: list[float] = []
    batch: list[np.ndarray] = []
    batch_idx: list[int] = []
    for i, frame in enumerate(frames):
        pts = tracker.update(frame)
        scores.append(None)
        opening.append(mouth_opening(pts) if pts is not None else np.nan)
        if pts is not None:
            batch.append(align_crop(frame, pts, size=64))
            batch_idx.append(i)
        if model is not None and len(batch) >= 32:
            for j, s in zip(batch_idx, score_crops(model, np.stack(batch))):
                scores[j] = float(s)
            batch, batch_idx = [], []
    if model is not None and batch:
        for j, s in zip(batch_idx, score_crops(model, np.stack(batch))):
            scores[j] = float(s)
    n = len(scores)
    seg = max(1, int(round(fps)))
    segments = []
    for start in range(0, n, seg):
        vals = [s for s in scores[start : start + seg] if s is not None]
        segments.append({"start_s": round(start / fps, 3),
                         "boundary": round(float(np.mean(vals)), 4) if vals else None})  # fmt: skip
    found = [s for s in scores if s is not None]
    report: dict[str, Any] = {
        "video": str(path),
        "frames": n,
        "fps": fps,
        "size": [info.width, info.height],
        "faces_found": int(np.isfinite(opening).sum()),
        "boundary": {
            "score_convention": "logit of 'swapped' (higher = more likely swapped)",
            "mean": round(float(np.mean(found)), 4) if found else None,
            "per_frame": [None if s is None else round(s, 4) for s in scores],
            "per_segment": segments,
            **({"skipped": missing} if missing else {}),
        },
        "tags": info.metadata,
    }
    if not info.has_audio:
        report["synchrony"] = {"skipped": "the video has no audio track"}
        report["audio"] = {"skipped": "the video has no audio track"}
        return report
    audio = read_audio_track(path, sr=16_000)
    op = np.asarray(opening, dtype=np.float64)
    if np.isfinite(op).sum() >= 10:
        op = np.where(np.isfinite(op), op, np.nanmean(op))
        env = speech_envelope(audio, 16_000, n, fps)
        sync = synchrony(op, env, fps)
        report["synchrony"] = {**sync.to_dict(), "lags_s": sync.lags_s.round(3).tolist(),
                               "curve": sync.curve.round(4).tolist()}  # fmt: skip
        report["_opening"] = op.round(4).tolist()
        report["_envelope"] = env.round(2).tolist()
    else:
        report["synchrony"] = {"skipped": "fewer than 10 frames with a face"}
    report["audio"] = _audio_checks(path, audio, cm_model=cm_model, key=key)
    return report


def _audio_checks(path, audio: np.ndarray, *, cm_model: str | None, key: Any) -> dict[str, Any]:
    from voxlab.watermark.detect import detect
    from voxlab.watermark.keys import as_key
    from voxlab.watermark.labels import read_label
    from voxlab.watermark.provenance import generation_key

    out: dict[str, Any] = {}
    k = as_key(key) if key is not None else generation_key()
    res = detect(audio, 16_000, k)
    out["watermark"] = {
        "found": bool(res.marked),
        "detail": {
            a: (round(v, 6) if isinstance(v, float) else v)
            for a, v in vars(res).items()
            if isinstance(v, (int, float, str, bool)) or v is None
        },
    }
    try:
        out["label"] = read_label(path)
    except Exception as exc:
        out["label"] = f"unreadable ({exc})"
    if cm_model:
        from voxlab.detection import Detector

        det = Detector.from_pretrained(cm_model)
        res = det.score(audio, sample_rate=16_000, path=str(path))
        out["countermeasure"] = {"model": cm_model, **res.to_dict()}
    return out


def plot_report(report: dict[str, Any], out: str | os.PathLike) -> Path:
    """A figure: boundary score per frame, mouth opening vs envelope, synchrony curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fps = report["fps"]
    fig, axes = plt.subplots(3, 1, figsize=(8, 7), constrained_layout=True)
    s = np.array([np.nan if v is None else v for v in report["boundary"]["per_frame"]])
    axes[0].plot(np.arange(len(s)) / fps, s, lw=1)
    axes[0].axhline(0, color="k", lw=0.5)
    axes[0].set(title="blending-boundary CNN (logit, >0 = swapped)", xlabel="s")
    if "_opening" in report:
        op = np.array(report["_opening"])
        env = np.array(report["_envelope"])
        t = np.arange(len(op)) / fps
        axes[1].plot(t, (op - op.mean()) / (op.std() + 1e-9), label="mouth opening", lw=1)
        axes[1].plot(t, (env - env.mean()) / (env.std() + 1e-9), label="speech envelope", lw=1)
        axes[1].legend(loc="upper right", fontsize=8)
        axes[1].set(title="mouth vs voice (z-scores)", xlabel="s")
        sy = report["synchrony"]
        axes[2].plot(sy["lags_s"], sy["curve"])
        axes[2].axvline(sy["lag_s"], color="r", lw=0.8)
        verdict = {True: " FLAGGED", False: "", None: " (too short to judge)"}[sy["flagged"]]
        axes[2].set(title=f"synchrony: best lag {sy['lag_s']} s, r={sy['peak']}{verdict}",
                    xlabel="lag (s)")  # fmt: skip
    p = Path(out)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=80)
    plt.close(fig)
    return p
