"""Constant-Q transform and CQCC, as in the ASVspoof CQCC baseline (Todisco et al. 2016).

The CQT is the non-stationary Gabor transform of Schörkhuber, Klapuri, Holighaus and Dörfler
(the "CQT toolbox 2013" the official ``cqcc.m`` calls) with full rasterisation: the whole
signal's FFT is multiplied by one Hann window per bin (centre ``f_k = fmin 2^(k/B)``,
bandwidth ``f_k (2^(1/B) - 2^(-1/B)) + gamma``) and each windowed band is brought back to
the time domain with an inverse FFT of one common length ``M`` (the number of frames), so the
output is a ``(bins, M)`` matrix per signal. Coefficients are "sine" normalised: a sinusoid of
amplitude ``A`` centred on a bin gives ``|c| = A`` there.

CQCC = DCT of the log power CQT after cubic-spline resampling onto a uniform frequency grid
with spacing ``fmin / d`` (``d`` samples in the first octave), plus HTK deltas (half width 3).
Resampling and DCT are linear, so they are folded into one small matrix.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
from scipy.interpolate import CubicSpline

from voxlab.errors import ConfigError
from voxlab.features._common import (
    check_positive,
    check_sample_rate,
    check_waveform,
    cpu_chunked,
    htk_deltas,
)

__all__ = ["cqcc", "cqcc_gamma", "cqt", "cqt_frequencies"]

_EPS64 = float(np.finfo(np.float64).eps)
_MIN_WIN = 4  # the toolbox's minimum window length in FFT bins
_MIN_FRAMES = 8  # fewer frames than this means the signal is too short to analyse
_CHUNK_ELEMENTS = 1 << 21  # complex coefficients per chunk of the batch (cache-sized)


def cqcc_gamma(bins_per_octave: int) -> float:
    """Bandwidth offset (Hz) that ``cqcc.m`` passes to ``cqt``: ``228.7 (2^(1/B) - 2^(-1/B))``."""
    return 228.7 * (2 ** (1 / bins_per_octave) - 2 ** (-1 / bins_per_octave))


def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _resolve(sample_rate, bins_per_octave, fmin, fmax, gamma):
    check_sample_rate(sample_rate)
    check_positive(bins_per_octave, "bins_per_octave", integer=True)
    nyquist = sample_rate / 2
    fmax = nyquist if fmax is None else float(fmax)
    fmax = min(fmax, nyquist)
    fmin = fmax / 2**9 if fmin is None else float(fmin)
    if fmin <= 0 or fmin >= fmax:
        raise ConfigError(f"need 0 < fmin < fmax for the CQT, got fmin={fmin}, fmax={fmax}")
    if gamma < 0:
        raise ConfigError(f"gamma must be >= 0 Hz, got {gamma}")
    return float(fmin), float(fmax)


@lru_cache(maxsize=32)
def _centre_freqs(sample_rate, bins_per_octave, fmin, fmax, gamma) -> np.ndarray:
    nyquist = sample_rate / 2
    n = math.floor(bins_per_octave * math.log2(fmax / fmin))
    fbas = fmin * 2.0 ** (np.arange(n + 1) / bins_per_octave)
    q = 2 ** (1 / bins_per_octave) - 2 ** (-1 / bins_per_octave)
    bw = q * fbas + gamma
    keep = np.ones_like(fbas, dtype=bool)
    over = np.nonzero(fbas + bw / 2 > nyquist)[0]
    if over.size:
        keep[over[0] :] = False
    under = np.nonzero(fbas - bw / 2 < 0)[0]
    if under.size:
        keep[: under[-1] + 1] = False
    if not keep.any():
        raise ConfigError(
            f"no constant-Q bin fits between fmin={fmin} Hz and the Nyquist frequency "
            f"{nyquist} Hz; lower fmin or bins_per_octave"
        )
    return np.stack([fbas[keep], bw[keep]])


def cqt_frequencies(
    *,
    sample_rate: float,
    bins_per_octave: int = 96,
    fmin: float | None = None,
    fmax: float | None = None,
    gamma: float = 0.0,
) -> np.ndarray:
    """Centre frequencies (Hz) of the bins :func:`cqt` returns, ``fmin 2^(k/B)``.

    Shape:
        ``(n_bins,)``
    """
    fmin, fmax = _resolve(sample_rate, bins_per_octave, fmin, fmax, gamma)
    return _centre_freqs(float(sample_rate), bins_per_octave, fmin, fmax, float(gamma))[0].copy()


@lru_cache(maxsize=16)
def _plan(n_samples, sample_rate, bins_per_octave, fmin, fmax, gamma):
    fbas, bw = _centre_freqs(sample_rate, bins_per_octave, fmin, fmax, gamma)
    fftres = sample_rate / n_samples
    win_len = np.maximum(_round_half_away(bw / fftres), _MIN_WIN).astype(np.int64)
    posit = np.floor(fbas / fftres).astype(np.int64)
    n_frames = int(win_len[-1])
    n_bins = fbas.size
    index = np.zeros((n_bins, n_frames), dtype=np.int64)
    weight = np.zeros((n_bins, n_frames), dtype=np.float64)
    for k in range(n_bins):
        length = int(win_len[k])
        offsets = np.arange(-(length // 2), (length + 1) // 2)
        rel = offsets / length
        hann = (0.5 + 0.5 * np.cos(2 * np.pi * rel)) * (np.abs(rel) < 0.5)
        # "global" phase mode: the band is placed at (posit + offset) mod M.
        slots = (posit[k] + offsets) % n_frames
        index[k, slots] = (posit[k] + offsets) % n_samples
        weight[k, slots] = hann
    return index, weight, n_frames


def cqt(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    bins_per_octave: int = 96,
    fmin: float | None = None,
    fmax: float | None = None,
    gamma: float = 0.0,
) -> torch.Tensor:
    """Constant-Q (``gamma=0``) or variable-Q transform of the CQT toolbox, fully rasterised.

    Args:
        waveform: Signal, ``(..., time)``.
        sample_rate: Sample rate in Hz.
        bins_per_octave: Bins per octave ``B``.
        fmin: Lowest centre frequency; ``fmax / 2**9`` when None (the CQCC baseline).
        fmax: Highest analysed frequency; Nyquist when None.
        gamma: Bandwidth offset in Hz (``cqcc_gamma(B)`` in CQCC).

    Returns:
        Complex coefficients; frames are spaced ``time / n_frames`` apart, where ``n_frames``
        is the window length (in FFT bins) of the highest bin, so it grows with the signal.

    Shape:
        ``(..., time) -> (..., n_bins, n_frames)``
    """
    waveform = check_waveform(waveform)
    fmin, fmax = _resolve(sample_rate, bins_per_octave, fmin, fmax, gamma)
    n = waveform.shape[-1]
    index, weight, n_frames = _plan(
        n, float(sample_rate), bins_per_octave, fmin, fmax, float(gamma)
    )
    if n_frames < _MIN_FRAMES:
        raise ConfigError(
            f"signal of {n} samples is too short for this CQT ({n_frames} frames); use at "
            "least about 0.1 s of audio"
        )
    device = waveform.device
    idx = torch.as_tensor(index.reshape(-1), device=device)
    # "sine" normalisation 2 M / n folded into the windows.
    w = torch.as_tensor(weight * (2.0 * n_frames / n), dtype=waveform.dtype, device=device)
    lead = waveform.shape[:-1]
    flat = waveform.reshape(-1, n)
    chunk = max(1, _CHUNK_ELEMENTS // index.size)
    outs = []
    for start in range(0, flat.shape[0], chunk):
        spec = torch.fft.fft(flat[start : start + chunk], dim=-1)
        bands = spec[:, idx].reshape(-1, *index.shape) * w
        outs.append(torch.fft.ifft(bands, dim=-1))
    out = torch.cat(outs, dim=0)
    return out.reshape(*lead, *index.shape)


@lru_cache(maxsize=16)
def _cepstral_matrix(freqs_key: tuple, fmin: float, d: int, first: int, last: int) -> np.ndarray:
    freqs = np.asarray(freqs_key)
    step = fmin / d
    n_uniform = int(math.floor((freqs[-1] - freqs[0]) / step + 1e-9)) + 1
    if last >= n_uniform:
        raise ConfigError(
            f"n_ceps={last} needs more than the {n_uniform} uniform frequency samples; lower "
            "n_ceps or raise uniform_samples"
        )
    grid = freqs[0] + step * np.arange(n_uniform)
    spline = CubicSpline(freqs, np.eye(freqs.size), axis=0)(grid)  # (n_uniform, n_bins)
    k = np.arange(first, last + 1)[:, None]
    basis = np.cos(np.pi / n_uniform * (np.arange(n_uniform) + 0.5) * k) * math.sqrt(
        2.0 / n_uniform
    )
    if first == 0:
        basis[0] /= math.sqrt(2.0)
    return basis @ spline


@cpu_chunked
def cqcc(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    bins_per_octave: int = 96,
    fmin: float | None = None,
    fmax: float | None = None,
    uniform_samples: int = 16,
    n_ceps: int = 19,
    include_c0: bool = True,
    with_deltas: bool = True,
    delta_half_width: int = 3,
) -> torch.Tensor:
    """Constant-Q cepstral coefficients, the ASVspoof CQCC-GMM front-end (``cqcc.m``).

    ``log(|CQT|^2 + eps)`` (with ``gamma = cqcc_gamma(B)``) → cubic-spline resampling onto a
    uniform grid of spacing ``fmin / uniform_samples`` → orthonormal DCT-II → coefficients
    ``0..n_ceps`` (``1..n_ceps`` without ``include_c0``) → HTK deltas and delta-deltas
    (``sum n (c[t+n] - c[t-n]) / (2 sum n^2)``, edges replicated). Defaults are ``cqcc.m``'s
    (``B=96``, ``fmax`` Nyquist, ``fmin = fmax / 2^9``, ``d=16``, ``cf=19``, ``'ZsdD'``: 60 dims);
    the ASVspoof 2019/2021 GMM baselines call it with ``cf=29`` (``n_ceps=29``: 90 dims).

    Shape:
        ``(..., time) -> (..., (n_ceps + include_c0) * (3 if with_deltas else 1), n_frames)``
    """
    check_positive(uniform_samples, "uniform_samples", integer=True)
    check_positive(n_ceps, "n_ceps", integer=True)
    fmin_r, fmax_r = _resolve(sample_rate, bins_per_octave, fmin, fmax, 0.0)
    gamma = cqcc_gamma(bins_per_octave)
    coeffs = cqt(
        waveform,
        sample_rate=sample_rate,
        bins_per_octave=bins_per_octave,
        fmin=fmin_r,
        fmax=fmax_r,
        gamma=gamma,
    )
    log_power = torch.log(coeffs.real.square() + coeffs.imag.square() + _EPS64)
    freqs = _centre_freqs(float(sample_rate), bins_per_octave, fmin_r, fmax_r, gamma)[0]
    matrix = _cepstral_matrix(
        tuple(freqs.tolist()), fmin_r, uniform_samples, 0 if include_c0 else 1, n_ceps
    )
    ceps = torch.matmul(
        torch.as_tensor(matrix, dtype=log_power.dtype, device=log_power.device), log_power
    )
    if not with_deltas:
        return ceps
    d1 = htk_deltas(ceps, half_width=delta_half_width, normalize=True)
    d2 = htk_deltas(d1, half_width=delta_half_width, normalize=True)
    return torch.cat([ceps, d1, d2], dim=-2)
