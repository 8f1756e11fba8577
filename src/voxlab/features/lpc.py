"""Linear prediction: LPC (autocorrelation / Levinson-Durbin, or Burg), LPCC and formants.

Coefficients follow librosa's convention ``[1, a_1, ..., a_p]`` for the prediction-error
filter ``A(z) = 1 + sum_k a_k z^-k`` (the all-pole model is ``G / A(z)``).
"""

from __future__ import annotations

import math
from typing import Literal

import torch

from voxlab.errors import ConfigError
from voxlab.features._common import (
    check_positive,
    check_sample_rate,
    check_waveform,
    get_window,
)
from voxlab.features.prosody import frame_signal

__all__ = ["formants", "formants_from_lpc", "frame_lpc", "lpc", "lpcc"]


def _check_order(order: int, n: int) -> None:
    check_positive(order, "order", integer=True)
    if order >= n:
        raise ConfigError(
            f"LPC order {order} needs more than {order} samples per frame, got {n}; lower the "
            "order or use longer frames"
        )


def _levinson(r: torch.Tensor, order: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Levinson-Durbin on autocorrelations ``r[..., 0..order]``; returns (a, error power)."""
    a = torch.zeros(*r.shape[:-1], order + 1, dtype=r.dtype, device=r.device)
    a[..., 0] = 1.0
    err = r[..., 0].clone()
    tiny = torch.finfo(r.dtype).tiny
    for i in range(1, order + 1):
        acc = r[..., i] + (a[..., 1:i] * r[..., 1:i].flip(-1)).sum(-1)
        k = -acc / err.clamp_min(tiny)
        a_new = a.clone()
        a_new[..., 1:i] = a[..., 1:i] + k.unsqueeze(-1) * a[..., 1:i].flip(-1)
        a_new[..., i] = k
        a = a_new
        err = err * (1.0 - k * k)
    return a, err


def _burg(y: torch.Tensor, order: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Burg's method, the recursion of ``librosa.lpc``, batched over leading dims."""
    n = y.shape[-1]
    a = torch.zeros(*y.shape[:-1], order + 1, dtype=y.dtype, device=y.device)
    a[..., 0] = 1.0
    fwd, bwd = y[..., 1:], y[..., :-1]
    den = fwd.square().sum(-1) + bwd.square().sum(-1)
    eps = torch.finfo(y.dtype).tiny
    err = y.square().sum(-1) / n
    for i in range(order):
        k = -2.0 * (bwd * fwd).sum(-1) / (den + eps)
        prev = a
        a = prev.clone()
        a[..., 1 : i + 2] = prev[..., 1 : i + 2] + k.unsqueeze(-1) * prev[..., : i + 1].flip(-1)
        fwd, bwd = fwd + k.unsqueeze(-1) * bwd, bwd + k.unsqueeze(-1) * fwd
        den = (1.0 - k * k) * den - bwd[..., -1].square() - fwd[..., 0].square()
        fwd, bwd = fwd[..., 1:], bwd[..., :-1]
        err = err * (1.0 - k * k)
    return a, err


def lpc(
    x: torch.Tensor,
    *,
    order: int,
    method: Literal["autocorrelation", "burg"] = "autocorrelation",
    return_error: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Linear prediction coefficients of each signal (or frame) along the last axis.

    ``method="autocorrelation"``: biased autocorrelation ``r[k] = sum_n x[n] x[n+k]`` and
    Levinson-Durbin (the Yule-Walker solution; window the frames first). ``method="burg"``:
    Burg's method, exactly the recursion of ``librosa.lpc``.

    Args:
        x: Signal or frames, ``(..., n)``.
        order: Prediction order ``p < n``.
        method: ``"autocorrelation"`` or ``"burg"``.
        return_error: Also return the prediction-error power per sample (the all-pole
            gain squared, ``G^2``).

    Returns:
        ``[1, a_1, ..., a_p]``, and the error power when ``return_error``.

    Shape:
        ``(..., n) -> (..., order + 1)`` (error: ``(...)``)
    """
    x = check_waveform(x, name="x")
    n = x.shape[-1]
    _check_order(order, n)
    if method == "autocorrelation":
        n_fft = 1 << int(math.ceil(math.log2(2 * n)))
        spec = torch.fft.rfft(x, n=n_fft)
        r = torch.fft.irfft(spec.real.square() + spec.imag.square(), n=n_fft)[..., : order + 1]
        a, err = _levinson(r, order)
        err = err / n
    elif method == "burg":
        a, err = _burg(x, order)
    else:
        raise ConfigError(f"method must be 'autocorrelation' or 'burg', got {method!r}")
    return (a, err) if return_error else a


def frame_lpc(
    waveform: torch.Tensor,
    *,
    order: int,
    frame_length: int = 400,
    hop_length: int = 160,
    window: str = "hamming",
    pre_emphasis: float = 0.0,
    method: Literal["autocorrelation", "burg"] = "autocorrelation",
) -> torch.Tensor:
    """LPC per centred, windowed frame (the feature grid of the other features).

    Shape:
        ``(..., time) -> (..., order + 1, n_frames)``
    """
    waveform = check_waveform(waveform)
    if not 0.0 <= pre_emphasis < 1.0:
        raise ConfigError(f"pre_emphasis must be in [0, 1), got {pre_emphasis}")
    x = waveform
    if pre_emphasis > 0:
        x = torch.cat([x[..., :1], x[..., 1:] - pre_emphasis * x[..., :-1]], dim=-1)
    frames = frame_signal(x, frame_length=frame_length, hop_length=hop_length)
    frames = frames * get_window(window, frame_length, dtype=x.dtype, device=x.device)
    return lpc(frames, order=order, method=method).transpose(-1, -2)


def lpcc(
    a: torch.Tensor, *, n_ceps: int, error: torch.Tensor | None = None, dim: int = -1
) -> torch.Tensor:
    """LPC cepstrum: the complex cepstrum of the all-pole model ``G / A(z)``.

    ``c_0 = log G = 0.5 log(error)`` (0 when ``error`` is None) and for ``n >= 1``
    ``c_n = -a_n - sum_{k=1}^{n-1} (k / n) c_k a_{n-k}`` (``a_n = 0`` for ``n > p``).

    Args:
        a: LPC coefficients ``[1, a_1, ..., a_p]`` along ``dim``.
        n_ceps: Number of cepstral coefficients ``c_0 .. c_{n_ceps - 1}``.
        error: Prediction-error power from :func:`lpc` (gives ``c_0``).
        dim: Coefficient axis of ``a`` (and of the result).

    Shape:
        ``(..., order + 1) -> (..., n_ceps)`` along ``dim``
    """
    check_positive(n_ceps, "n_ceps", integer=True)
    a = torch.movedim(a, dim, -1)
    if a.shape[-1] < 2:
        raise ConfigError("lpcc needs LPC coefficients [1, a_1, ..., a_p] with p >= 1")
    p = a.shape[-1] - 1
    coeffs = [torch.zeros_like(a[..., 0])]
    if error is not None:
        coeffs[0] = 0.5 * torch.log(error.clamp_min(torch.finfo(a.dtype).tiny))
    for n in range(1, n_ceps):
        acc = -a[..., n] if n <= p else torch.zeros_like(a[..., 0])
        for k in range(max(1, n - p), n):
            acc = acc - (k / n) * coeffs[k] * a[..., n - k]
        coeffs.append(acc)
    return torch.movedim(torch.stack(coeffs, dim=-1), -1, dim)


def formants_from_lpc(
    a: torch.Tensor,
    *,
    sample_rate: float,
    n_formants: int = 4,
    min_freq: float = 90.0,
    max_bandwidth: float = 400.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Formant frequencies and bandwidths from the roots of ``A(z)``.

    Each root ``r`` in the upper half plane is a resonance at ``angle(r) sr / (2 pi)`` Hz with
    bandwidth ``-log|r| sr / pi`` Hz. Resonances below ``min_freq`` or wider than
    ``max_bandwidth`` are dropped; the lowest ``n_formants`` remain, NaN-padded. Roots come
    from the eigenvalues of the companion matrix (batched; not differentiable).

    Shape:
        ``(..., order + 1) -> (..., n_formants)``, ``(..., n_formants)``
    """
    check_sample_rate(sample_rate)
    check_positive(n_formants, "n_formants", integer=True)
    p = a.shape[-1] - 1
    if p < 2:
        raise ConfigError(f"formants need an LPC order >= 2, got {p}")
    lead = a.shape[:-1]
    coeffs = a.detach().reshape(-1, p + 1).to(torch.float64)
    companion = torch.zeros(coeffs.shape[0], p, p, dtype=torch.float64, device=a.device)
    companion[:, 0, :] = -coeffs[:, 1:] / coeffs[:, :1]
    companion[:, 1:, :-1] = torch.eye(p - 1, dtype=torch.float64, device=a.device)
    roots = torch.linalg.eigvals(companion)
    freq = torch.angle(roots) * sample_rate / (2 * math.pi)
    bw = -torch.log(roots.abs().clamp_min(1e-300)) * sample_rate / math.pi
    keep = (roots.imag > 0) & (freq > min_freq) & (bw < max_bandwidth) & (bw > 0)
    freq = torch.where(keep, freq, torch.full_like(freq, math.inf))
    order_idx = freq.argsort(dim=-1)[:, :n_formants]
    freq = freq.gather(-1, order_idx)
    bw = bw.gather(-1, order_idx)
    if freq.shape[-1] < n_formants:
        pad = n_formants - freq.shape[-1]
        freq = torch.cat([freq, freq.new_full((freq.shape[0], pad), math.inf)], dim=-1)
        bw = torch.cat([bw, bw.new_full((bw.shape[0], pad), math.nan)], dim=-1)
    missing = torch.isinf(freq)
    freq = torch.where(missing, torch.full_like(freq, math.nan), freq)
    bw = torch.where(missing, torch.full_like(bw, math.nan), bw)
    dtype = a.dtype if a.is_floating_point() else torch.float32
    return (
        freq.to(dtype).reshape(*lead, n_formants),
        bw.to(dtype).reshape(*lead, n_formants),
    )


def formants(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    n_formants: int = 4,
    order: int | None = None,
    frame_length: int | None = None,
    hop_length: int | None = None,
    pre_emphasis: float = 0.97,
    min_freq: float = 90.0,
    max_bandwidth: float = 400.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Formant tracks: LPC of pre-emphasised, Hamming-windowed frames, then polynomial roots.

    Args:
        waveform: Signal, ``(..., time)``.
        sample_rate: Sample rate in Hz.
        n_formants: Formants reported per frame (NaN where fewer are found).
        order: LPC order; ``2 + sample_rate // 1000`` when None (two poles per kHz plus two).
        frame_length: Samples per frame; 25 ms when None.
        hop_length: Frame advance; 10 ms when None.
        pre_emphasis: Pre-emphasis coefficient.
        min_freq: Resonances below this (Hz) are ignored.
        max_bandwidth: Resonances wider than this (Hz) are ignored.

    Returns:
        ``(frequencies, bandwidths)`` in Hz.

    Shape:
        ``(..., time) -> (..., n_formants, n_frames)`` each
    """
    check_sample_rate(sample_rate)
    order = int(2 + sample_rate // 1000) if order is None else order
    frame_length = int(round(0.025 * sample_rate)) if frame_length is None else frame_length
    hop_length = int(round(0.010 * sample_rate)) if hop_length is None else hop_length
    a = frame_lpc(
        waveform,
        order=order,
        frame_length=frame_length,
        hop_length=hop_length,
        window="hamming",
        pre_emphasis=pre_emphasis,
    )
    freq, bw = formants_from_lpc(
        a.transpose(-1, -2),
        sample_rate=sample_rate,
        n_formants=n_formants,
        min_freq=min_freq,
        max_bandwidth=max_bandwidth,
    )
    return freq.transpose(-1, -2), bw.transpose(-1, -2)
