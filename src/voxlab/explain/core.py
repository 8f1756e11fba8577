"""Explain one waveform: window timeline, integrated gradients, Grad-CAM, on one grid.

:func:`explain` runs the chosen methods and returns an :class:`Explanation` whose arrays
share the spectrogram's time-frequency grid (25 ms Hann frames, 10 ms hop, 512-point FFT
at 16 kHz), so that attributions can be overlaid on the spectrogram, saved as ``.npz``
(:meth:`Explanation.save_npz`) and drawn (:func:`voxlab.explain.figure.draw`).

Models that accept any length are explained on the whole file in one pass. Fixed-length
models (RawGAT-ST, 64,600 samples) are explained window by window (half-window hop) and
the overlapping attributions averaged; shorter input is tiled as in the official
evaluation (the gradients of the repeated copies add up on the original samples).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from voxlab.errors import ConfigError
from voxlab.explain.attribution import (
    grad_cam,
    integrated_gradients,
    project_cam,
    sinc_band_edges,
)

METHODS = ("windows", "ig", "gradcam")
N_FFT, WIN, HOP = 512, 400, 160


@dataclass
class Explanation:
    """Everything :func:`explain` found, on the spectrogram grid.

    Attributes:
        sample_rate: Rate of ``wave``.
        wave: The explained waveform. Shape: ``(time,)``.
        freqs: Spectrogram bin frequencies in Hz. Shape: ``(n_freqs,)``.
        times: Frame centres in seconds. Shape: ``(n_frames,)``.
        spectrogram_db: Log power. Shape: ``(n_freqs, n_frames)``.
        margin: Spoof margin ``logit_spoof - logit_bonafide`` of the model input(s).
        window_spans: ``(start, end)`` seconds per window. Shape: ``(n_windows, 2)``.
        window_scores: Bona fide logit per window. Shape: ``(n_windows,)``.
        ig: Integrated-gradients attribution per sample. Shape: ``(time,)``.
        ig_frames: ``ig`` summed per 10 ms hop (signed). Shape: ``(n_frames,)``.
        ig_tf: Magnitude of the attribution's STFT. Shape: ``(n_freqs, n_frames)``.
        ig_completeness_error: Worst relative completeness error over the windows.
        ig_completeness_gap: Worst absolute completeness gap (logits) over the windows.
        baseline_margin: Spoof margin of the silent baseline (mean over windows).
        gradcam: Grad-CAM projected onto the grid, max 1. Shape: ``(n_freqs, n_frames)``.
        gradcam_layers: Names of the hooked layers.
        info: Model name, method settings.
    """

    sample_rate: int
    wave: np.ndarray
    freqs: np.ndarray
    times: np.ndarray
    spectrogram_db: np.ndarray
    margin: float | None = None
    window_spans: np.ndarray | None = None
    window_scores: np.ndarray | None = None
    ig: np.ndarray | None = None
    ig_frames: np.ndarray | None = None
    ig_tf: np.ndarray | None = None
    ig_completeness_error: float | None = None
    ig_completeness_gap: float | None = None
    baseline_margin: float | None = None
    gradcam: np.ndarray | None = None
    gradcam_layers: list[str] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    def save_npz(self, path: str | Path) -> Path:
        """Write every array that was computed (and the info as JSON text) to ``path``."""
        import json

        arrays = {k: np.asarray(v) for k, v in self.__dict__.items() if isinstance(v, np.ndarray)}
        meta = {
            "sample_rate": self.sample_rate,
            "margin": self.margin,
            "ig_completeness_error": self.ig_completeness_error,
            "ig_completeness_gap": self.ig_completeness_gap,
            "baseline_margin": self.baseline_margin,
            "gradcam_layers": self.gradcam_layers,
            **self.info,
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, info=np.array(json.dumps(meta)), **arrays)
        return path

    def mass_inside(self, start: float, end: float, *, what: str = "ig") -> float:
        """Fraction of the attribution mass between ``start`` and ``end`` seconds.

        ``ig``: positive (spoof-evidence) part of the per-frame attribution;
        ``gradcam``: the projected map summed over frequency.
        """
        if what == "ig":
            if self.ig_frames is None:
                raise ConfigError("no integrated gradients computed (method ig)")
            profile = np.clip(self.ig_frames, 0, None)
        elif what == "gradcam":
            if self.gradcam is None:
                raise ConfigError("no Grad-CAM computed (method gradcam)")
            profile = self.gradcam.sum(axis=0)
        else:
            raise ConfigError(f"what must be 'ig' or 'gradcam', got {what!r}")
        total = float(profile.sum())
        if total <= 0:
            return 0.0
        inside = (self.times >= start) & (self.times < end)
        return float(profile[inside].sum()) / total


def spectrogram(wave: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hann STFT (25 ms / 10 ms at 16 kHz) magnitude of ``wave``.

    Returns:
        ``(magnitude, freqs, times)``. Shape: ``(n_freqs, n_frames)``, ``(n_freqs,)``,
        ``(n_frames,)``.
    """
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32))
    spec = torch.stft(
        x, N_FFT, hop_length=HOP, win_length=WIN, window=torch.hann_window(WIN),
        center=True, return_complex=True,
    ).abs().numpy()  # fmt: skip
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / sample_rate)
    times = np.arange(spec.shape[1]) * HOP / sample_rate
    return spec.astype(np.float64), freqs, times


def _frame_sums(values: np.ndarray, n_frames: int) -> np.ndarray:
    """Sum of ``values`` in each hop-long bin centred on a frame centre."""
    idx = np.clip((np.arange(len(values)) + HOP // 2) // HOP, 0, n_frames - 1)
    return np.bincount(idx, weights=values.astype(np.float64), minlength=n_frames)


def _chunks(n: int, fixed: int | None) -> list[tuple[int, int]]:
    if fixed is None or n <= fixed:
        return [(0, n)]
    hop = fixed // 2
    starts = list(range(0, n - fixed + 1, hop))
    if starts[-1] + fixed < n:
        starts.append(n - fixed)
    return [(s, s + fixed) for s in starts]


def _tiling_forward(model: nn.Module, n: int, fixed: int | None):
    if fixed is None or n >= fixed:
        return model
    index = torch.arange(fixed) % n
    return lambda batch: model(batch[:, index.to(batch.device)])


def explain(
    model: nn.Module,
    wave: np.ndarray,
    *,
    sample_rate: int = 16_000,
    methods: tuple[str, ...] = METHODS,
    ig_steps: int = 32,
    window: float = 4.0375,
    hop: float = 0.5,
    name: str = "model",
) -> Explanation:
    """Explain a countermeasure's verdict on ``wave``.

    Args:
        model: Countermeasure ``(batch, time)`` -> logits ``[spoof, bona fide]`` (in eval
            mode; use the plain, not the inference-optimised, model for gradients).
        wave: Mono waveform at ``sample_rate``. Shape: ``(time,)``.
        sample_rate: The model's rate.
        methods: Any of ``"windows"`` (per-window scores), ``"ig"`` (integrated
            gradients), ``"gradcam"``.
        ig_steps: Integrated-gradients path steps.
        window: Window length in seconds of the timeline (fixed-length models: theirs).
        hop: Hop between windows in seconds of the timeline.
        name: Model name recorded in ``info``.

    Returns:
        The :class:`Explanation`.
    """
    unknown = set(methods) - set(METHODS)
    if unknown or not methods:
        raise ConfigError(f"unknown explain method(s) {sorted(unknown)}; choose from {METHODS}")
    wave = np.asarray(wave, dtype=np.float32)
    if wave.ndim != 1 or wave.size < 0.1 * sample_rate:
        raise ConfigError(f"explain needs a mono waveform of at least 0.1 s, got {wave.shape}")
    model.eval()
    mag, freqs, times = spectrogram(wave, sample_rate)
    out = Explanation(
        sample_rate=sample_rate,
        wave=wave,
        freqs=freqs,
        times=times,
        spectrogram_db=20 * np.log10(mag + 1e-6),
        info={"model": name, "methods": list(methods), "ig_steps": ig_steps},
    )
    fixed = getattr(model, "fixed_input_samples", None)
    chunks = _chunks(len(wave), fixed)
    out.info["chunks"] = [[s / sample_rate, e / sample_rate] for s, e in chunks]
    if "windows" in methods:
        _timeline(out, model, window=window if fixed is None else fixed / sample_rate, hop=hop)
    if "ig" in methods:
        _ig(out, model, chunks, fixed, ig_steps)
    if "gradcam" in methods:
        _gradcam(out, model, chunks, fixed)
    return out


def _timeline(out: Explanation, model: nn.Module, *, window: float, hop: float) -> None:
    from voxlab.detection import Detector, InputPolicy

    policy = InputPolicy(name="windows", window=window, hop=min(hop, window),
                         sample_rate=out.sample_rate)  # fmt: skip
    detector = Detector(model, name=out.info["model"], policy=policy, batch_size=4,
                        sample_rate=out.sample_rate)  # fmt: skip
    result = detector.score(out.wave, segments=True)
    out.window_spans = np.array([[s.start, s.end] for s in result.segments])
    out.window_scores = np.array([s.score for s in result.segments])
    out.info["window"], out.info["hop"] = window, hop


def _ig(out: Explanation, model, chunks, fixed, steps: int) -> None:
    total = np.zeros(len(out.wave), dtype=np.float64)
    weight = np.zeros(len(out.wave), dtype=np.float64)
    margins, errors, gaps, bases = [], [], [], []
    for s, e in chunks:
        piece = out.wave[s:e]
        attr = integrated_gradients(
            model, piece, steps=steps, forward=_tiling_forward(model, len(piece), fixed)
        )
        total[s:e] += attr.values
        weight[s:e] += 1.0
        margins.append(attr.margin)
        errors.append(attr.completeness_error)
        gaps.append(attr.completeness_gap)
        bases.append(attr.baseline_margin)
    out.ig = (total / np.maximum(weight, 1.0)).astype(np.float32)
    out.ig_frames = _frame_sums(out.ig, len(out.times))
    out.ig_tf, _, _ = spectrogram(out.ig, out.sample_rate)
    out.ig_completeness_error = float(max(errors))
    out.ig_completeness_gap = float(max(gaps))
    out.baseline_margin = float(np.mean(bases))
    out.margin = float(np.mean(margins))


def _gradcam(out: Explanation, model, chunks, fixed) -> None:
    sr = out.sample_rate
    grid = np.zeros((len(out.freqs), len(out.times)))
    count = np.zeros(len(out.times))
    edges = sinc_band_edges(model)
    margins = []
    for s, e in chunks:
        piece = out.wave[s:e]
        cam, margin, layers = grad_cam(
            model, piece, forward=_tiling_forward(model, len(piece), fixed)
        )
        margins.append(margin)
        inside = (out.times >= s / sr) & (out.times < e / sr + 1e-9)
        n = int(inside.sum())
        if n == 0:
            continue
        if fixed is not None and len(piece) < fixed:  # tiled: keep the original part
            keep = max(1, int(round(cam.shape[1] * len(piece) / fixed)))
            cam = cam[:, :keep]
        grid[:, inside] += project_cam(cam, freqs=out.freqs, n_frames=n, band_edges=edges)
        count[inside] += 1
    grid /= np.maximum(count, 1)
    peak = grid.max()
    out.gradcam = grid / peak if peak > 0 else grid
    names = {id(m): n for n, m in model.named_modules()}
    out.gradcam_layers = [names.get(id(layer.module), "?") for layer in layers]
    if out.margin is None:
        out.margin = float(np.mean(margins))
