"""Prosodic features: F0 (WORLD via pyworld, or pure-torch YIN), frame energy, zero-crossing rate.

Frame grid: like the spectral features, frame ``t`` is centred on sample ``t * hop_length``
and a signal of ``n`` samples has ``1 + n // hop_length`` frames. Per-frame scalars come
back as ``(..., n_frames)``.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from voxlab.errors import ConfigError
from voxlab.features._common import check_positive, check_sample_rate, check_waveform

_SILENCE_FLOOR_DB = -100.0  # frames quieter than this (RMS, dB full scale) are never voiced

__all__ = ["f0_world", "f0_yin", "frame_signal", "rms", "zero_crossing_rate"]


def frame_signal(
    waveform: torch.Tensor,
    *,
    frame_length: int,
    hop_length: int,
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Overlapping frames, centred (padding ``frame_length // 2`` each side) by default.

    Args:
        waveform: Signal, ``(..., time)``.
        frame_length: Samples per frame.
        hop_length: Frame advance.
        center: Pad so that frame ``t`` is centred at ``t * hop_length``.
        pad_mode: ``"constant"`` (zeros), ``"edge"`` (repeat end samples) or ``"reflect"``.

    Shape:
        ``(..., time) -> (..., n_frames, frame_length)``
    """
    waveform = check_waveform(waveform)
    check_positive(frame_length, "frame_length", integer=True)
    check_positive(hop_length, "hop_length", integer=True)
    if center:
        pad = frame_length // 2
        shape = waveform.shape
        flat = waveform.reshape(-1, 1, shape[-1])
        if pad_mode == "constant":
            flat = F.pad(flat, (pad, pad))
        elif pad_mode in ("edge", "reflect"):
            mode = "replicate" if pad_mode == "edge" else "reflect"
            if mode == "reflect" and shape[-1] <= pad:
                raise ConfigError(f"pad_mode='reflect' needs more than {pad} samples")
            flat = F.pad(flat, (pad, pad), mode=mode)
        else:
            raise ConfigError(f"pad_mode must be constant, edge or reflect, got {pad_mode!r}")
        waveform = flat.reshape(*shape[:-1], -1)
    if waveform.shape[-1] < frame_length:
        raise ConfigError(
            f"frame_length={frame_length} is longer than the signal ({waveform.shape[-1]} "
            "samples) with center=False; use a shorter frame or center=True"
        )
    return waveform.unfold(-1, frame_length, hop_length)


def rms(
    waveform: torch.Tensor,
    *,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Root-mean-square energy per frame, as ``librosa.feature.rms(y=...)``.

    Shape:
        ``(..., time) -> (..., n_frames)``
    """
    frames = frame_signal(
        waveform,
        frame_length=frame_length,
        hop_length=hop_length,
        center=center,
        pad_mode=pad_mode,
    )
    power = frames.square().mean(dim=-1)
    # Clamping at the smallest normal number keeps the gradient finite on silent frames.
    return power.clamp_min(torch.finfo(power.dtype).tiny).sqrt()


def zero_crossing_rate(
    waveform: torch.Tensor,
    *,
    frame_length: int = 2048,
    hop_length: int = 512,
    center: bool = True,
    threshold: float = 1e-10,
) -> torch.Tensor:
    """Fraction of zero crossings per frame, as ``librosa.feature.zero_crossing_rate``.

    Samples with ``|x| <= threshold`` count as 0, and 0 counts as positive; a crossing at
    sample ``i`` of a frame is a sign change from sample ``i - 1`` (the first sample of each
    frame never counts), and the count is divided by ``frame_length``. Centring pads by
    repeating the end samples, like librosa. Not differentiable.

    Shape:
        ``(..., time) -> (..., n_frames)``
    """
    frames = frame_signal(
        waveform,
        frame_length=frame_length,
        hop_length=hop_length,
        center=center,
        pad_mode="edge",
    )
    negative = frames < -threshold
    crossings = negative[..., 1:] != negative[..., :-1]
    return crossings.sum(dim=-1).to(waveform.dtype) / frame_length


def _n_frames(n_samples: int, hop_length: int) -> int:
    return 1 + n_samples // hop_length


def f0_world(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    hop_length: int = 160,
    method: Literal["dio", "harvest"] = "dio",
    f0_floor: float = 71.0,
    f0_ceil: float = 800.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """F0 with WORLD (pyworld): ``dio`` refined by ``stonemask``, or ``harvest``.

    WORLD's frames sit at ``t * frame_period`` with ``frame_period = 1000 hop / sr`` ms,
    which is the feature grid; the result is trimmed or edge-padded to exactly
    ``1 + n // hop_length`` frames. Runs on the CPU in float64 (one signal at a time) and
    returns tensors on the input's device and dtype. Not differentiable.

    Args:
        waveform: Signal, ``(..., time)``.
        sample_rate: Sample rate in Hz.
        hop_length: Frame advance in samples.
        method: ``"dio"`` (fast, + ``stonemask``) or ``"harvest"`` (slower, more robust).
        f0_floor: Lowest F0 searched, Hz.
        f0_ceil: Highest F0 searched, Hz.

    Returns:
        ``(f0, voiced)``: F0 in Hz (0 where unvoiced) and a boolean voicing mask.

    Shape:
        ``(..., time) -> (..., n_frames)``, ``(..., n_frames)``
    """
    with warnings.catch_warnings():
        # pyworld imports the deprecated pkg_resources at import time.
        warnings.filterwarnings("ignore", message=".*pkg_resources.*")
        import pyworld

    waveform = check_waveform(waveform)
    check_sample_rate(sample_rate)
    check_positive(hop_length, "hop_length", integer=True)
    if not 0 < f0_floor < f0_ceil:
        raise ConfigError(f"need 0 < f0_floor < f0_ceil, got {f0_floor}, {f0_ceil}")
    if method not in ("dio", "harvest"):
        raise ConfigError(f"method must be 'dio' or 'harvest', got {method!r}")
    period = 1000.0 * hop_length / sample_rate
    n = waveform.shape[-1]
    n_frames = _n_frames(n, hop_length)
    flat = waveform.detach().reshape(-1, n).cpu().double().numpy()
    out = np.zeros((flat.shape[0], n_frames))
    for i, x in enumerate(flat):
        x = np.ascontiguousarray(x)
        if method == "dio":
            f0, times = pyworld.dio(
                x, int(sample_rate), f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=period
            )
            f0 = pyworld.stonemask(x, f0, times, int(sample_rate))
        else:
            f0, _ = pyworld.harvest(
                x, int(sample_rate), f0_floor=f0_floor, f0_ceil=f0_ceil, frame_period=period
            )
        m = min(n_frames, f0.size)
        out[i, :m] = f0[:m]
        if m < n_frames:
            out[i, m:] = f0[-1]
    f0 = torch.as_tensor(out, dtype=waveform.dtype, device=waveform.device)
    f0 = f0.reshape(*waveform.shape[:-1], n_frames)
    return f0, f0 > 0


def f0_yin(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    hop_length: int = 160,
    frame_length: int | None = None,
    fmin: float = 60.0,
    fmax: float = 500.0,
    threshold: float = 0.1,
    voicing_threshold: float = 0.3,
    silence_db: float = 40.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pure-torch YIN F0 (de Cheveigné & Kawahara 2002), batched, on any device.

    Per frame: difference function over a window of ``frame_length - tau_max`` samples
    (computed with FFTs), cumulative-mean normalisation, the first local minimum below
    ``threshold`` (else the global minimum) between ``sr / fmax`` and ``sr / fmin``, parabolic
    interpolation. A frame is voiced when the normalised difference there is below
    ``voicing_threshold`` and its RMS is within ``silence_db`` dB of the loudest frame (and
    above -100 dBFS, so digital silence is unvoiced).

    Args:
        waveform: Signal, ``(..., time)``.
        sample_rate: Sample rate in Hz.
        hop_length: Frame advance in samples.
        frame_length: Analysis frame; long enough for two periods of ``fmin`` when None.
        fmin: Lowest F0 searched, Hz.
        fmax: Highest F0 searched, Hz.
        threshold: YIN's absolute threshold on the normalised difference.
        voicing_threshold: Normalised difference above which a frame is unvoiced.
        silence_db: Frames quieter than the loudest by more than this are unvoiced.

    Returns:
        ``(f0, voiced)``: F0 in Hz (0 where unvoiced) and a boolean voicing mask.

    Shape:
        ``(..., time) -> (..., n_frames)``, ``(..., n_frames)``
    """
    waveform = check_waveform(waveform)
    check_sample_rate(sample_rate)
    if not 0 < fmin < fmax < sample_rate / 2:
        raise ConfigError(
            f"need 0 < fmin < fmax < sample_rate / 2, got fmin={fmin}, fmax={fmax}, "
            f"sample_rate={sample_rate}"
        )
    tau_min = max(1, int(math.floor(sample_rate / fmax)))
    tau_max = int(math.ceil(sample_rate / fmin))
    if frame_length is None:
        frame_length = 2 * tau_max + 2
    if frame_length <= tau_max + 1:
        raise ConfigError(
            f"frame_length={frame_length} must exceed sample_rate / fmin = {tau_max} samples"
        )
    win = frame_length - tau_max
    frames = frame_signal(waveform, frame_length=frame_length, hop_length=hop_length)
    frames = frames - frames.mean(dim=-1, keepdim=True)
    n_fft = 1 << int(math.ceil(math.log2(frame_length + win)))
    spec_full = torch.fft.rfft(frames, n=n_fft)
    spec_head = torch.fft.rfft(frames[..., :win], n=n_fft)
    corr = torch.fft.irfft(spec_full * spec_head.conj(), n=n_fft)[..., : tau_max + 1]
    energy = F.pad(frames.square().cumsum(dim=-1), (1, 0))
    taus = torch.arange(tau_max + 1, device=frames.device)
    energy_lag = energy[..., taus + win] - energy[..., taus]
    diff = (energy_lag[..., :1] + energy_lag - 2 * corr).clamp_min(0.0)
    cum = diff[..., 1:].cumsum(dim=-1)
    tiny = torch.finfo(diff.dtype).tiny
    cmnd = torch.ones_like(diff)
    cmnd[..., 1:] = diff[..., 1:] * taus[1:] / cum.clamp_min(tiny)
    cand = cmnd[..., tau_min:tau_max]  # candidate lags tau_min .. tau_max - 1
    is_min = torch.zeros_like(cand, dtype=torch.bool)
    is_min[..., 1:-1] = (cand[..., 1:-1] <= cand[..., :-2]) & (cand[..., 1:-1] <= cand[..., 2:])
    below = is_min & (cand < threshold)
    first = below.to(torch.int8).argmax(dim=-1)
    best = torch.where(below.any(dim=-1), first, cand.argmin(dim=-1))
    idx = (best + tau_min).clamp(1, tau_max - 1)
    left = cmnd.gather(-1, (idx - 1).unsqueeze(-1)).squeeze(-1)
    centre = cmnd.gather(-1, idx.unsqueeze(-1)).squeeze(-1)
    right = cmnd.gather(-1, (idx + 1).unsqueeze(-1)).squeeze(-1)
    denom = left - 2 * centre + right
    shift = torch.where(denom.abs() > 1e-12, 0.5 * (left - right) / denom, torch.zeros_like(denom))
    period = idx.to(frames.dtype) + shift.clamp(-1.0, 1.0)
    f0 = sample_rate / period
    level = 10 * torch.log10(frames.square().mean(dim=-1).clamp_min(1e-20))
    loud = (level > level.amax(dim=-1, keepdim=True) - silence_db) & (level > _SILENCE_FLOOR_DB)
    voiced = (centre < voicing_threshold) & loud & (f0 >= fmin) & (f0 <= fmax)
    return torch.where(voiced, f0, torch.zeros_like(f0)), voiced
