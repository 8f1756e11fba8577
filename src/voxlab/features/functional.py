"""Pure-torch acoustic features: STFT, mel, MFCC, deltas, LFCC (and CQT/CQCC re-exported).

Every function takes a waveform of shape ``(..., time)`` (float32 or float64, any device; the
output follows the input's dtype and device) and returns features laid out like librosa and
torchaudio: ``(..., n_features, n_frames)``. Arguments are keyword-only. Defaults of the
mel-family functions are librosa's (``n_fft=2048``, ``hop_length=512``, hann window,
``center=True`` with zero padding), so ``mfcc(x, sample_rate=sr)`` matches
``librosa.feature.mfcc(y=x, sr=sr)``. Defaults of :func:`lfcc` are the ASVspoof LFCC-LCNN
front-end; :data:`LFCC_PRESETS` holds the other official configurations.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Literal

import numpy as np
import torch

from voxlab.errors import ConfigError
from voxlab.features._common import (
    check_freq_range,
    check_positive,
    check_sample_rate,
    cpu_chunked,
    dct_matrix,
    htk_deltas,
)
from voxlab.features.constant_q import cqcc, cqt
from voxlab.features.linear_cepstrum import (
    LFCC_PRESETS,
    lfcc,
    lfcc_band,
    lfcc_from_parts,
    linear_filterbank,
)
from voxlab.features.spectral import spectrogram, stft

__all__ = [
    "LFCC_PRESETS",
    "cqcc",
    "cqt",
    "dct_matrix",
    "deltas",
    "htk_deltas",
    "hz_to_mel",
    "lfcc",
    "lfcc_band",
    "lfcc_from_parts",
    "linear_filterbank",
    "log_mel",
    "mel_filterbank",
    "mel_frequencies",
    "mel_spectrogram",
    "mel_to_hz",
    "mfcc",
    "power_to_db",
    "spectrogram",
    "stft",
]


# --------------------------------------------------------------------------- mel


def hz_to_mel(freqs, *, htk: bool = False) -> np.ndarray:
    """Hz to mel (Slaney's auditory toolbox scale by default, HTK when ``htk``)."""
    freqs = np.asanyarray(freqs, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + freqs / 700.0)
    f_sp = 200.0 / 3
    mels = freqs / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    log_part = min_log_mel + np.log(np.maximum(freqs, min_log_hz) / min_log_hz) / logstep
    return np.where(freqs >= min_log_hz, log_part, mels)


def mel_to_hz(mels, *, htk: bool = False) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mels = np.asanyarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp = 200.0 / 3
    freqs = f_sp * mels
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, math.log(6.4) / 27.0
    log_part = min_log_hz * np.exp(logstep * (mels - min_log_mel))
    return np.where(mels >= min_log_mel, log_part, freqs)


def mel_frequencies(n_mels: int, *, fmin: float, fmax: float, htk: bool = False) -> np.ndarray:
    """``n_mels`` frequencies (Hz) evenly spaced on the mel scale from ``fmin`` to ``fmax``."""
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


@lru_cache(maxsize=32)
def _mel_np(sample_rate, n_fft, n_mels, fmin, fmax, htk, norm) -> np.ndarray:
    fftfreqs = np.fft.rfftfreq(n_fft, d=1.0 / sample_rate)  # exact bin centres, odd n_fft too
    mel_f = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fftfreqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    if norm == "slaney":
        weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, None]
    return weights


def mel_filterbank(
    *,
    sample_rate: float,
    n_fft: int,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: Literal["slaney"] | None = "slaney",
    dtype: torch.dtype = torch.float32,
    device=None,
) -> torch.Tensor:
    """Triangular mel filterbank, identical to ``librosa.filters.mel`` (slaney or htk scale).

    Shape:
        ``(n_mels, n_fft // 2 + 1)``
    """
    check_sample_rate(sample_rate)
    check_positive(n_fft, "n_fft", integer=True)
    check_positive(n_mels, "n_mels", integer=True)
    fmax = check_freq_range(fmin, fmax, sample_rate)
    if norm not in ("slaney", None):
        raise ConfigError(f"norm must be 'slaney' or None, got {norm!r}")
    weights = _mel_np(float(sample_rate), n_fft, n_mels, float(fmin), fmax, bool(htk), norm)
    return torch.as_tensor(weights, dtype=dtype, device=device)


@cpu_chunked
def mel_spectrogram(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: Literal["slaney"] | None = "slaney",
) -> torch.Tensor:
    """Mel spectrogram, as ``librosa.feature.melspectrogram`` with the same arguments.

    Shape:
        ``(..., time) -> (..., n_mels, n_frames)``
    """
    check_sample_rate(sample_rate)
    spec = spectrogram(
        waveform,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
        power=power,
    )
    fb = mel_filterbank(
        sample_rate=sample_rate,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
        htk=htk,
        norm=norm,
        dtype=spec.dtype,
        device=spec.device,
    )
    return torch.matmul(fb, spec)


def power_to_db(
    power: torch.Tensor, *, ref: float = 1.0, amin: float = 1e-10, top_db: float | None = 80.0
) -> torch.Tensor:
    """``10 log10(max(power, amin) / ref)`` clipped to ``top_db`` below each item's peak.

    Matches ``librosa.power_to_db``; the peak is taken per item over the last two axes.

    Shape:
        ``(..., freq, frames) -> (..., freq, frames)``
    """
    check_positive(amin, "amin")
    check_positive(ref, "ref")
    log_spec = 10.0 * torch.log10(power.clamp_min(amin)) - 10.0 * math.log10(max(amin, ref))
    if top_db is not None:
        check_positive(top_db, "top_db")
        peak = log_spec.amax(dim=(-2, -1), keepdim=True)
        log_spec = torch.maximum(log_spec, peak - top_db)
    return log_spec


@cpu_chunked
def log_mel(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: Literal["slaney"] | None = "slaney",
    amin: float = 1e-10,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """Log-mel spectrogram in dB: ``librosa.power_to_db(librosa.feature.melspectrogram(...))``.

    Shape:
        ``(..., time) -> (..., n_mels, n_frames)``
    """
    mel = mel_spectrogram(
        waveform,
        sample_rate=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
        htk=htk,
        norm=norm,
    )
    return power_to_db(mel, amin=amin, top_db=top_db)


@cpu_chunked
def mfcc(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    n_mfcc: int = 20,
    n_fft: int = 2048,
    hop_length: int = 512,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    n_mels: int = 128,
    fmin: float = 0.0,
    fmax: float | None = None,
    htk: bool = False,
    norm: Literal["slaney"] | None = "slaney",
    lifter: float = 0.0,
    top_db: float | None = 80.0,
) -> torch.Tensor:
    """MFCCs exactly as ``librosa.feature.mfcc`` (orthonormal DCT-II of the dB log-mel).

    Args:
        waveform: Signal, ``(..., time)``.
        sample_rate: Sample rate in Hz.
        n_mfcc: Number of coefficients kept (``<= n_mels``).
        lifter: Sinusoidal liftering ``1 + lifter/2 sin(pi (n + 1) / lifter)`` when > 0.
        top_db: Dynamic-range clip of the log-mel (librosa's ``power_to_db`` default 80).
        n_fft: FFT size.
        hop_length: Frame advance in samples.
        win_length: Window length; ``n_fft`` when None.
        window: Window name.
        center: Centre frames (zero padding).
        n_mels: Mel bands.
        fmin: Lowest mel edge in Hz.
        fmax: Highest mel edge in Hz; Nyquist when None.
        htk: HTK mel scale instead of Slaney's.
        norm: ``"slaney"`` area normalisation or None.

    Shape:
        ``(..., time) -> (..., n_mfcc, n_frames)``
    """
    check_positive(n_mfcc, "n_mfcc", integer=True)
    if lifter < 0:
        raise ConfigError(f"lifter must be >= 0, got {lifter}")
    log_spec = log_mel(
        waveform,
        sample_rate=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
        htk=htk,
        norm=norm,
        top_db=top_db,
    )
    basis = dct_matrix(n_mels, n_mfcc, dtype=log_spec.dtype, device=log_spec.device)
    out = torch.matmul(basis, log_spec)
    if lifter > 0:
        n = torch.arange(1, n_mfcc + 1, dtype=out.dtype, device=out.device)
        out = out * (1.0 + (lifter / 2.0) * torch.sin(math.pi * n / lifter)).unsqueeze(-1)
    return out


# --------------------------------------------------------------------------- deltas


@lru_cache(maxsize=16)
def _savgol_np(width: int, order: int) -> np.ndarray:
    # Least-squares polynomial fit over the window; row ``order`` of the pseudo-inverse,
    # times order!, gives the order-th derivative at the window centre (scipy's savgol).
    half = width // 2
    pos = np.arange(-half, half + 1, dtype=np.float64)
    vander = pos[:, None] ** np.arange(order + 1)[None, :]
    return np.linalg.pinv(vander)[order] * math.factorial(order)


def deltas(x: torch.Tensor, *, width: int = 9, order: int = 1, dim: int = -1) -> torch.Tensor:
    """Delta features exactly as ``librosa.feature.delta`` (Savitzky-Golay, ``mode='interp'``).

    Inside, each value is the ``order``-th derivative of a degree-``order`` least-squares
    polynomial over ``width`` frames; in the first and last ``width // 2`` frames librosa's
    ``interp`` mode fits the polynomial to the edge window, whose ``order``-th derivative is
    constant, so those frames repeat the nearest interior value.

    Args:
        x: Features; ``dim`` is the time axis.
        width: Odd window length ``>= 3`` and ``<=`` the number of frames.
        order: Derivative order (1: delta, 2: delta-delta).
        dim: Time axis.

    Shape:
        same as ``x``
    """
    check_positive(order, "order", integer=True)
    check_positive(width, "width", integer=True)
    if width < 3 or width % 2 == 0:
        raise ConfigError(f"width must be an odd integer >= 3, got {width}")
    x = torch.movedim(x, dim, -1)
    n = x.shape[-1]
    if width > n:
        raise ConfigError(
            f"width={width} cannot exceed the number of frames ({n}); use a smaller width "
            "or a longer signal"
        )
    coeffs = _savgol_np(width, order)
    valid = n - width + 1
    inner = sum(float(c) * x[..., k : k + valid] for k, c in enumerate(coeffs) if c != 0.0)
    half = width // 2
    out = torch.cat(
        [inner[..., :1].expand(*inner.shape[:-1], half), inner,
         inner[..., -1:].expand(*inner.shape[:-1], half)], dim=-1,
    )  # fmt: skip
    return torch.movedim(out, -1, dim)
