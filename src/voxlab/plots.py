"""Figures for features (matplotlib, Agg backend: no display needed).

``waveform_and_image`` draws the classic "waveform and its MFCCs" figure (shared time axis);
``spectrogram_with_tracks`` draws a spectrogram with F0 or formant contours on top;
``waveform_and_curves`` draws per-frame scalars (energy, ZCR) under the waveform;
``spectrogram_gallery`` stacks the spectrograms of several clips (e.g. one utterance and
its spoofed copies) on shared axes with one colour bar.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import torch

from voxlab.errors import ConfigError

__all__ = [
    "spectrogram_gallery",
    "spectrogram_with_tracks",
    "waveform_and_curves",
    "waveform_and_image",
]


def _check(samples: np.ndarray, sample_rate: float) -> np.ndarray:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or samples.size == 0:
        raise ConfigError(f"plots need mono samples of shape (time,), got {samples.shape}")
    if sample_rate <= 0:
        raise ConfigError(f"sample_rate must be positive, got {sample_rate}")
    return samples


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _frame_times(n_frames: int, duration: float, frame_period: float | None) -> np.ndarray:
    if frame_period:
        return np.arange(n_frames) * frame_period
    return (np.arange(n_frames) + 0.5) * duration / max(n_frames, 1)


def _waveform(ax, samples: np.ndarray, sample_rate: float) -> None:
    t = np.arange(samples.size) / sample_rate
    ax.plot(t, samples, linewidth=0.5, color="tab:blue")
    ax.set_ylabel("amplitude")
    ax.set_xlim(0, samples.size / sample_rate)
    ax.margins(x=0)


def waveform_and_image(
    samples: np.ndarray,
    features: np.ndarray,
    *,
    sample_rate: float,
    path: str | Path,
    title: str = "",
    ylabel: str = "coefficient",
    cmap: str = "viridis",
) -> Path:
    """Waveform on top, a ``(dims, frames)`` feature image below, sharing the time axis.

    Returns:
        The written PNG path.
    """
    samples = _check(samples, sample_rate)
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2:
        raise ConfigError(f"features must be (dims, frames), got shape {features.shape}")
    duration = samples.size / sample_rate
    fig, (ax_w, ax_f) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 6), gridspec_kw={"height_ratios": [1, 2]}
    )
    _waveform(ax_w, samples, sample_rate)
    if title:
        ax_w.set_title(title)
    image = ax_f.imshow(
        features,
        origin="lower",
        aspect="auto",
        cmap=cmap,
        extent=(0.0, duration, -0.5, features.shape[0] - 0.5),
        interpolation="nearest",
    )
    ax_f.set_ylabel(ylabel)
    ax_f.set_xlabel("time (s)")
    fig.colorbar(image, ax=[ax_w, ax_f], location="right", fraction=0.03, pad=0.01)
    return _save(fig, path)


def spectrogram_with_tracks(
    samples: np.ndarray,
    tracks: Sequence[np.ndarray],
    *,
    sample_rate: float,
    path: str | Path,
    labels: Sequence[str] = (),
    title: str = "",
    n_fft: int = 1024,
    hop_length: int | None = None,
    max_freq: float | None = None,
    frame_period: float | None = None,
) -> Path:
    """Waveform, then a log spectrogram with frequency tracks (Hz, NaN = gap) drawn on top.

    Track frame ``t`` is drawn at ``t * frame_period`` seconds (centred frames), or spread
    evenly over the signal when ``frame_period`` is None.

    Returns:
        The written PNG path.
    """
    from voxlab.features import spectrogram

    samples = _check(samples, sample_rate)
    hop_length = hop_length or max(1, int(sample_rate // 200))
    n_fft = min(n_fft, max(16, samples.size))
    spec = spectrogram(torch.from_numpy(samples), n_fft=n_fft, hop_length=hop_length)
    db = 10 * np.log10(spec.numpy() + 1e-10)
    duration = samples.size / sample_rate
    fig, (ax_w, ax_s) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 6), gridspec_kw={"height_ratios": [1, 2]}
    )
    _waveform(ax_w, samples, sample_rate)
    if title:
        ax_w.set_title(title)
    ax_s.imshow(
        db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        extent=(0.0, duration, 0.0, sample_rate / 2),
        vmin=db.max() - 80,
    )
    colors = ["cyan", "lime", "yellow", "white", "orange", "red"]
    for i, track in enumerate(tracks):
        track = np.asarray(track, dtype=np.float64)
        times = _frame_times(track.size, duration, frame_period)
        label = labels[i] if i < len(labels) else None
        ax_s.plot(times, track, ".-", markersize=2, linewidth=1.2,
                  color=colors[i % len(colors)], label=label)  # fmt: skip
    if labels:
        ax_s.legend(loc="upper right", fontsize=8)
    ax_s.set_ylim(0, max_freq or sample_rate / 2)
    ax_s.set_ylabel("frequency (Hz)")
    ax_s.set_xlabel("time (s)")
    return _save(fig, path)


def waveform_and_curves(
    samples: np.ndarray,
    curves: np.ndarray,
    *,
    sample_rate: float,
    path: str | Path,
    ylabel: str,
    title: str = "",
    frame_period: float | None = None,
) -> Path:
    """Waveform on top, per-frame curves ``(dims, frames)`` below on the same time axis.

    Returns:
        The written PNG path.
    """
    samples = _check(samples, sample_rate)
    curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
    duration = samples.size / sample_rate
    fig, (ax_w, ax_c) = plt.subplots(2, 1, sharex=True, figsize=(10, 5))
    _waveform(ax_w, samples, sample_rate)
    if title:
        ax_w.set_title(title)
    for curve in curves:
        times = _frame_times(curve.size, duration, frame_period)
        ax_c.plot(times, curve, linewidth=1.0)
    ax_c.set_ylabel(ylabel)
    ax_c.set_xlabel("time (s)")
    return _save(fig, path)


def spectrogram_gallery(
    panels: Sequence[tuple[str, np.ndarray]],
    *,
    sample_rate: float,
    path: str | Path,
    title: str = "",
    n_fft: int = 512,
    hop_length: int | None = None,
    dynamic_range_db: float = 80.0,
    dpi: int = 80,
) -> Path:
    """Spectrograms of several clips, one row each, on shared time and frequency axes.

    Every row has a frequency axis in kHz, the bottom row a time axis in seconds, and one
    colour bar in dB (relative to the loudest bin of all panels) serves them all, so the
    rows compare directly.

    Args:
        panels: ``(label, samples)`` per row; samples are mono. Shape: ``(time,)``.
        sample_rate: Rate of every clip (Hz).
        path: Output image.
        title: Figure title.
        n_fft: FFT size.
        hop_length: Hop in samples (default: 10 ms).
        dynamic_range_db: dB shown below the loudest bin.
        dpi: Resolution of the saved figure.

    Returns:
        The written image path.
    """
    from voxlab.features import spectrogram

    if not panels:
        raise ConfigError("spectrogram_gallery needs at least one panel")
    hop_length = hop_length or max(1, int(sample_rate // 100))
    images, longest = [], 0.0
    for label, samples in panels:
        samples = _check(samples, sample_rate)
        spec = spectrogram(
            torch.from_numpy(samples), n_fft=min(n_fft, max(16, samples.size)),
            hop_length=hop_length,
        ).numpy()  # fmt: skip
        images.append((label, 10 * np.log10(spec + 1e-10), samples.size / sample_rate))
        longest = max(longest, samples.size / sample_rate)
    top = max(float(db.max()) for _, db, _ in images)
    fig, axes = plt.subplots(
        len(images), 1, sharex=True, sharey=True, figsize=(7.5, 0.3 + 1.15 * len(images)),
        squeeze=False,
    )  # fmt: skip
    image = None
    for ax, (label, db, seconds) in zip(axes[:, 0], images):
        image = ax.imshow(
            db - top, origin="lower", aspect="auto", cmap="magma",
            extent=(0.0, seconds, 0.0, sample_rate / 2000), vmin=-dynamic_range_db, vmax=0.0,
        )  # fmt: skip
        ax.set_ylabel("kHz", fontsize="small")
        ax.set_title(label, fontsize="small", loc="left", pad=2)
        ax.tick_params(labelsize="x-small")
    axes[-1, 0].set_xlim(0.0, longest)
    axes[-1, 0].set_xlabel("time (s)")
    if title:
        fig.suptitle(title, fontsize="medium")
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    bar = fig.colorbar(image, ax=list(axes[:, 0]), location="right", fraction=0.025, pad=0.02)
    bar.set_label("dB re loudest bin")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
