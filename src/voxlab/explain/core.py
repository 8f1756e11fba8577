"""Explain one waveform: window timeline, scans, occlusion, IG, Grad-CAM, on one grid.

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
from voxlab.explain.baselines import BASELINES, expected_gradients, ig_baseline
from voxlab.explain.scan import occlusion, window_scan

METHODS = ("windows", "scan", "occlusion", "ig", "gradcam")
#: What ``voxlab explain --method all`` runs (occlusion rescored the file per segment).
DEFAULT_METHODS = ("windows", "scan", "ig", "gradcam")
#: Attribution profiles :meth:`Explanation.mass_inside` can measure.
PROFILES = ("scan", "occlusion", "ig", "gradcam")
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
        baseline_margin: Spoof margin of the IG baseline (mean over windows).
        scan_evidence: Short-window scan evidence per frame (the frame's window margin
            above the midpoint of the file's median and peak, kept where positive).
            Shape: ``(n_frames,)``.
        scan_margin: Mean short-window spoof margin per frame. Shape: ``(n_frames,)``.
        scan_spans: ``(start, end)`` of each scanned window. Shape: ``(n_scan, 2)``.
        scan_margins: Spoof margin of each scanned window. Shape: ``(n_scan,)``.
        occlusion_evidence: Drop of the file's spoof margin when the frame's segment is
            hidden (positive part, per frame). Shape: ``(n_frames,)``.
        occlusion_spans: Hidden segments. Shape: ``(n_segments, 2)``.
        occlusion_margins: File margin with each segment hidden. Shape: ``(n_segments,)``.
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
    scan_evidence: np.ndarray | None = None
    scan_margin: np.ndarray | None = None
    scan_spans: np.ndarray | None = None
    scan_margins: np.ndarray | None = None
    occlusion_evidence: np.ndarray | None = None
    occlusion_spans: np.ndarray | None = None
    occlusion_margins: np.ndarray | None = None
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
        ``gradcam``: the projected map summed over frequency; ``scan`` and
        ``occlusion``: their per-frame evidence.
        """
        return mass_fraction(self.profile(what), self.times, start, end)

    def profile(self, what: str) -> np.ndarray:
        """Non-negative spoof evidence per frame of attribution ``what``.

        ``what`` is one of :data:`PROFILES`. Shape: ``(n_frames,)``.
        """
        arrays = {
            "ig": None if self.ig_frames is None else np.clip(self.ig_frames, 0, None),
            "gradcam": None if self.gradcam is None else self.gradcam.sum(axis=0),
            "scan": self.scan_evidence,
            "occlusion": self.occlusion_evidence,
        }
        if what not in arrays:
            raise ConfigError(f"what must be one of {PROFILES}, got {what!r}")
        if arrays[what] is None:
            raise ConfigError(f"no {what} attribution computed (add method {what})")
        return arrays[what]


def mass_fraction(profile: np.ndarray, times: np.ndarray, start: float, end: float) -> float:
    """Share of a non-negative per-frame ``profile`` whose frame times lie in [start, end)."""
    profile = np.asarray(profile, dtype=np.float64)
    total = float(profile.sum())
    if total <= 0:
        return 0.0
    inside = (times >= start) & (times < end)
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
    methods: tuple[str, ...] = DEFAULT_METHODS,
    ig_steps: int = 32,
    ig_baseline: str = "zeros",
    references: list[np.ndarray] | None = None,
    window: float = 4.0375,
    hop: float = 0.5,
    scan_window: float = 1.0,
    scan_hop: float = 0.125,
    occlusion_segment: float = 0.5,
    occlusion_hop: float = 0.25,
    cam_block: int = -1,
    seed: int = 0,
    name: str = "model",
) -> Explanation:
    """Explain a countermeasure's verdict on ``wave``.

    Args:
        model: Countermeasure ``(batch, time)`` -> logits ``[spoof, bona fide]`` (in eval
            mode; use the plain, not the inference-optimised, model for gradients).
        wave: Mono waveform at ``sample_rate``. Shape: ``(time,)``.
        sample_rate: The model's rate.
        methods: Any of :data:`METHODS`: ``"windows"`` (per-window scores over the
            timeline), ``"scan"`` (short-window scan evidence), ``"occlusion"`` (margin
            drop when a segment is hidden), ``"ig"`` (integrated gradients),
            ``"gradcam"``.
        ig_steps: Integrated-gradients path steps (expected-gradients samples for the
            ``human`` baseline).
        ig_baseline: ``zeros``, ``lowpass``, ``noise`` (:func:`~voxlab.explain.baselines.
            ig_baseline`) or ``human`` (expected gradients over ``references``).
        references: Trusted human recordings at ``sample_rate`` (``human`` baseline).
        window: Window length in seconds of the timeline (fixed-length models: theirs).
        hop: Hop between windows in seconds of the timeline.
        scan_window: Window of the scan, in seconds.
        scan_hop: Hop of the scan, in seconds.
        occlusion_segment: Hidden segment length, in seconds.
        occlusion_hop: Hop between hidden segments, in seconds.
        cam_block: Encoder block Grad-CAM hooks (AASIST / RawGAT-ST; default the last).
        seed: Seed of random baselines (``noise``, ``human``).
        name: Model name recorded in ``info``.

    Returns:
        The :class:`Explanation`.
    """
    unknown = set(methods) - set(METHODS)
    if unknown or not methods:
        raise ConfigError(f"unknown explain method(s) {sorted(unknown)}; choose from {METHODS}")
    if ig_baseline not in (*BASELINES, "human"):
        raise ConfigError(
            f"unknown IG baseline {ig_baseline!r}; choose from {(*BASELINES, 'human')}"
        )
    if ig_baseline == "human" and "ig" in methods and not references:
        raise ConfigError(
            "the human IG baseline needs reference recordings (--reference FILE, trusted "
            "human speech); or choose --ig-baseline zeros, lowpass or noise"
        )
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
        info={"model": name, "methods": list(methods), "ig_steps": ig_steps,
              "ig_baseline": ig_baseline},
    )  # fmt: skip
    fixed = getattr(model, "fixed_input_samples", None)
    chunks = _chunks(len(wave), fixed)
    out.info["chunks"] = [[s / sample_rate, e / sample_rate] for s, e in chunks]
    if "windows" in methods:
        _timeline(out, model, window=window if fixed is None else fixed / sample_rate, hop=hop)
    n_frames = len(times)
    if "scan" in methods:
        res = window_scan(model, wave, sample_rate=sample_rate, window=scan_window,
                          hop=scan_hop, n_frames=n_frames)  # fmt: skip
        out.scan_evidence, out.scan_margin = res.evidence, res.frame_margin
        out.scan_spans, out.scan_margins = res.spans, res.margins
        out.info["scan"] = {"window": scan_window, "hop": scan_hop, "reference": res.reference}
    if "occlusion" in methods:
        res = occlusion(model, wave, sample_rate=sample_rate, segment=occlusion_segment,
                        hop=occlusion_hop, n_frames=n_frames)  # fmt: skip
        out.occlusion_evidence = res.evidence
        out.occlusion_spans, out.occlusion_margins = res.spans, res.margins
        out.info["occlusion"] = {"segment": occlusion_segment, "hop": occlusion_hop}
        out.margin = res.reference
    if "ig" in methods:
        _ig(out, model, chunks, fixed, ig_steps, ig_baseline, references, seed)
    if "gradcam" in methods:
        _gradcam(out, model, chunks, fixed, cam_block)
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


def _ig(out: Explanation, model, chunks, fixed, steps, kind, references, seed) -> None:
    total = np.zeros(len(out.wave), dtype=np.float64)
    weight = np.zeros(len(out.wave), dtype=np.float64)
    margins, errors, gaps, bases = [], [], [], []
    for s, e in chunks:
        piece = out.wave[s:e]
        forward = _tiling_forward(model, len(piece), fixed)
        if kind == "human":
            attr = expected_gradients(model, piece, references, samples=steps, seed=seed,
                                      forward=forward)  # fmt: skip
        else:
            base = ig_baseline(kind, piece, out.sample_rate, seed=seed)
            attr = integrated_gradients(model, piece, steps=steps, baseline=base,
                                        forward=forward)  # fmt: skip
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


def _gradcam(out: Explanation, model, chunks, fixed, block: int) -> None:
    sr = out.sample_rate
    grid = np.zeros((len(out.freqs), len(out.times)))
    count = np.zeros(len(out.times))
    edges = sinc_band_edges(model)
    margins = []
    for s, e in chunks:
        piece = out.wave[s:e]
        cam, margin, layers = grad_cam(
            model, piece, forward=_tiling_forward(model, len(piece), fixed), block=block
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
