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
import torch.nn.functional as F

from voxlab.errors import ConfigError
from voxlab.features._common import (
    check_freq_range,
    check_positive,
    check_sample_rate,
    check_waveform,
    dct_matrix,
    frame_matlab_buffer,
    get_window,
    htk_deltas,
)
from voxlab.features.constant_q import cqcc, cqt

__all__ = [
    "LFCC_PRESETS",
    "cqcc",
    "cqt",
    "dct_matrix",
    "deltas",
    "htk_deltas",
    "hz_to_mel",
    "lfcc",
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

_FLOAT32_EPS = float(np.finfo(np.float32).eps)
_FLOAT64_EPS = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------- STFT


def _check_frames(
    n_samples: int, n_fft: int, hop_length: int, win_length: int, center: bool
) -> None:
    check_positive(n_fft, "n_fft", integer=True)
    check_positive(hop_length, "hop_length", integer=True)
    check_positive(win_length, "win_length", integer=True)
    if win_length > n_fft:
        raise ConfigError(f"win_length ({win_length}) must not exceed n_fft ({n_fft})")
    if not center and n_fft > n_samples:
        raise ConfigError(
            f"n_fft={n_fft} is longer than the signal ({n_samples} samples) and center=False; "
            "use a smaller n_fft, pad the signal, or pass center=True"
        )


def stft(
    waveform: torch.Tensor,
    *,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Short-time Fourier transform (librosa conventions), batched over leading dims.

    Args:
        waveform: Signal, ``(..., time)``.
        n_fft: FFT size.
        hop_length: Frame advance; ``win_length // 4`` when None.
        win_length: Window length (centred in the ``n_fft`` frame); ``n_fft`` when None.
        window: Window name (see :func:`voxlab.features._common.get_window`).
        center: Pad ``n_fft // 2`` samples on both sides so frame ``t`` is centred at
            ``t * hop_length``.
        pad_mode: ``"constant"`` (zeros, librosa's default) or ``"reflect"``.

    Returns:
        Complex STFT.

    Shape:
        ``(..., time) -> (..., n_fft // 2 + 1, n_frames)``
    """
    waveform = check_waveform(waveform)
    win_length = n_fft if win_length is None else win_length
    hop_length = win_length // 4 if hop_length is None else hop_length
    _check_frames(waveform.shape[-1], n_fft, hop_length, win_length, center)
    if pad_mode not in ("constant", "reflect"):
        raise ConfigError(f"pad_mode must be 'constant' or 'reflect', got {pad_mode!r}")
    if center and pad_mode == "reflect" and waveform.shape[-1] <= n_fft // 2:
        raise ConfigError(
            f"pad_mode='reflect' needs more than n_fft // 2 = {n_fft // 2} samples, got "
            f"{waveform.shape[-1]}; use pad_mode='constant'"
        )
    win = get_window(window, win_length, dtype=waveform.dtype, device=waveform.device)
    shape = waveform.shape
    spec = torch.stft(
        waveform.reshape(-1, shape[-1]),
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=win,
        center=center,
        pad_mode=pad_mode,
        return_complex=True,
    )
    return spec.reshape(*shape[:-1], spec.shape[-2], spec.shape[-1])


def spectrogram(
    waveform: torch.Tensor,
    *,
    n_fft: int = 2048,
    hop_length: int | None = None,
    win_length: int | None = None,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
    power: float = 2.0,
) -> torch.Tensor:
    """Magnitude (``power=1``) or power (``power=2``) spectrogram, like ``librosa``'s ``|stft|**p``.

    Shape:
        ``(..., time) -> (..., n_fft // 2 + 1, n_frames)``
    """
    check_positive(power, "power")
    spec = stft(
        waveform,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    # real^2 + imag^2 keeps the gradient finite where the spectrum is exactly zero.
    power_spec = spec.real.square() + spec.imag.square()
    if power == 2.0:
        return power_spec
    return power_spec.clamp_min(torch.finfo(power_spec.dtype).tiny).pow(power / 2.0)


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
    fftfreqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
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
    shape = x.shape
    coeffs = torch.as_tensor(_savgol_np(width, order), dtype=x.dtype, device=x.device)
    inner = F.conv1d(x.reshape(-1, 1, n), coeffs.view(1, 1, -1))
    out = F.pad(inner, (width // 2, width // 2), mode="replicate").reshape(shape)
    return torch.movedim(out, -1, dim)


# --------------------------------------------------------------------------- LFCC


def _trimf(freqs: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    rise = (freqs - a) / (b - a) if b > a else np.where(freqs >= b, 1.0, 0.0)
    fall = (c - freqs) / (c - b) if c > b else np.where(freqs <= b, 1.0, 0.0)
    return np.maximum(np.minimum(rise, fall), 0.0)


def _lfcc_bins(sample_rate, n_fft, fmin, fmax, grid) -> tuple[int, int, np.ndarray]:
    n_freqs = n_fft // 2 + 1
    nyquist = sample_rate / 2
    if grid == "nii":
        lo_frac, hi_frac = fmin / nyquist, fmax / nyquist
        lo, hi = int(lo_frac * n_freqs), int(hi_frac * n_freqs)
        return lo, hi, nyquist * np.linspace(lo_frac, hi_frac, hi - lo)
    if grid == "bins":
        all_freqs = nyquist * np.linspace(0.0, 1.0, n_freqs)
        lo = int(np.argmin(np.abs(all_freqs - fmin)))
        hi = int(np.argmin(np.abs(all_freqs - fmax))) + 1
        return lo, hi, all_freqs[lo:hi]
    raise ConfigError(f"grid must be 'bins' or 'nii', got {grid!r}")


@lru_cache(maxsize=32)
def _linear_fb_np(sample_rate, n_fft, n_filters, fmin, fmax, grid) -> np.ndarray:
    lo, hi, freqs = _lfcc_bins(sample_rate, n_fft, fmin, fmax, grid)
    if grid == "nii":
        edges = np.linspace(freqs.min(), freqs.max(), n_filters + 2)
    else:
        edges = np.linspace(fmin, fmax, n_filters + 2)
    fb = np.zeros((n_filters, n_fft // 2 + 1))
    for i in range(n_filters):
        fb[i, lo:hi] = _trimf(freqs, edges[i], edges[i + 1], edges[i + 2])
    return fb


def linear_filterbank(
    *,
    sample_rate: float,
    n_fft: int,
    n_filters: int = 20,
    fmin: float = 0.0,
    fmax: float | None = None,
    grid: Literal["bins", "nii"] = "bins",
    dtype: torch.dtype = torch.float32,
    device=None,
) -> torch.Tensor:
    """Linearly spaced triangular filterbank of the ASVspoof LFCC baselines (MATLAB ``trimf``).

    ``n_filters + 2`` edges are spaced evenly from ``fmin`` to ``fmax``; filter ``i`` rises
    from edge ``i`` to 1 at edge ``i+1`` and falls to 0 at edge ``i+2`` (no area
    normalisation). ``grid="bins"`` evaluates the triangles at the FFT bin frequencies
    between the bins closest to ``fmin`` and ``fmax`` (MATLAB ``lfcc_bp``); ``grid="nii"``
    reproduces the NII front-end's band limiting, which keeps bins
    ``int(fmin/nyq * (n_fft//2+1))`` to ``int(fmax/nyq * (n_fft//2+1))`` and evaluates the
    triangles on ``linspace(fmin, fmax, n_kept)``. Both agree on the full band. Zero outside.

    Shape:
        ``(n_filters, n_fft // 2 + 1)``
    """
    check_sample_rate(sample_rate)
    check_positive(n_fft, "n_fft", integer=True)
    check_positive(n_filters, "n_filters", integer=True)
    fmax = check_freq_range(fmin, fmax, sample_rate)
    fb = _linear_fb_np(float(sample_rate), n_fft, n_filters, float(fmin), fmax, grid)
    return torch.as_tensor(fb, dtype=dtype, device=device)


#: Official LFCC configurations (16 kHz). ``lfcc(x, sample_rate=16000, **LFCC_PRESETS[k])``.
LFCC_PRESETS: dict[str, dict] = {
    # NII LFCC front-end of the LFCC-LCNN baseline (project-NN-Pytorch-scripts,
    # sandbox/util_frontend.py LFCC(320, 160, 512, 16000, 20, with_energy=True)); 60 dims.
    "asvspoof2019_lcnn": dict(
        n_fft=512,
        win_length=320,
        hop_length=160,
        n_filters=20,
        n_lfcc=20,
        fmin=0.0,
        fmax=None,
        window="hamming",
        pre_emphasis=0.97,
        with_energy=True,
        with_deltas=True,
        framing="center",
        grid="nii",
        delta_half_width=1,
        delta_normalize=False,
        log_floor=_FLOAT32_EPS,
    ),
    # ASVspoof 2021 LA B03 (asvspoof-challenge/2021 LA/Baseline-LFCC-LCNN model.py):
    # 1024-point FFT and only the lower half of the band (max_freq=0.5, i.e. 0-4 kHz).
    "asvspoof2021_la_lcnn": dict(
        n_fft=1024,
        win_length=320,
        hop_length=160,
        n_filters=20,
        n_lfcc=20,
        fmin=0.0,
        fmax=4000.0,
        window="hamming",
        pre_emphasis=0.97,
        with_energy=True,
        with_deltas=True,
        framing="center",
        grid="nii",
        delta_half_width=1,
        delta_normalize=False,
        log_floor=_FLOAT32_EPS,
    ),
    # ASVspoof 2019 MATLAB LFCC-GMM (extract_lfcc(x, fs, 20, 512, 20)): pre-emphasis,
    # buffer() framing with 50 % overlap, symmetric Hamming, deltas(x, 3) = x[t+1]-x[t-1].
    "asvspoof2019_gmm": dict(
        n_fft=512,
        win_length=320,
        hop_length=160,
        n_filters=20,
        n_lfcc=20,
        fmin=0.0,
        fmax=None,
        window="hamming_symmetric",
        pre_emphasis=0.97,
        with_energy=False,
        with_deltas=True,
        framing="matlab",
        grid="bins",
        delta_half_width=1,
        delta_normalize=False,
        log_floor=_FLOAT64_EPS,
    ),
    # ASVspoof 2021 LA MATLAB LFCC-GMM (lfcc_bp(x, fs, 30, 1024, 70, 19, 0, 4000)): no
    # pre-emphasis, 0-4 kHz, HTK deltas divided by 2.
    "asvspoof2021_la_gmm": dict(
        n_fft=1024,
        win_length=480,
        hop_length=240,
        n_filters=70,
        n_lfcc=19,
        fmin=0.0,
        fmax=4000.0,
        window="hamming_symmetric",
        pre_emphasis=0.0,
        with_energy=False,
        with_deltas=True,
        framing="matlab",
        grid="bins",
        delta_half_width=1,
        delta_normalize=True,
        log_floor=_FLOAT64_EPS,
    ),
}


def lfcc(
    waveform: torch.Tensor,
    *,
    sample_rate: float,
    n_fft: int = 512,
    win_length: int = 320,
    hop_length: int = 160,
    n_filters: int = 20,
    n_lfcc: int = 20,
    fmin: float = 0.0,
    fmax: float | None = None,
    window: str = "hamming",
    pre_emphasis: float = 0.97,
    with_energy: bool = True,
    with_deltas: bool = True,
    framing: Literal["center", "matlab"] = "center",
    grid: Literal["bins", "nii"] = "nii",
    delta_half_width: int = 1,
    delta_normalize: bool = False,
    log_floor: float = _FLOAT32_EPS,
) -> torch.Tensor:
    """Linear-frequency cepstral coefficients as the ASVspoof baselines define them.

    Pipeline: pre-emphasis ``y[n] = x[n] - a x[n-1]`` (``y[0] = x[0]``) → framing and window
    → ``|FFT|^2`` → linear triangular filterbank (:func:`linear_filterbank`) →
    ``log10(. + log_floor)`` → orthonormal DCT-II, first ``n_lfcc`` → optionally replace
    ``c0`` with log frame energy ``log10(sum |X|^2 / n_fft + log_floor)`` over the same band
    → optionally append deltas and delta-deltas (:func:`~voxlab.features._common.htk_deltas`).
    The defaults are the LFCC-LCNN front-end (20 ms Hamming window, 10 ms hop, 512-point FFT,
    20 filters, 20 coefficients with energy, deltas ``x[t+1] - x[t-1]``: 60 dims at 16 kHz);
    see :data:`LFCC_PRESETS` for the GMM and 2021 variants.

    Args:
        waveform: Signal, ``(..., time)``.
        sample_rate: Sample rate in Hz.
        framing: ``"center"``: ``torch.stft`` with ``center=True`` and zero padding (NII);
            ``"matlab"``: ``buffer(x, win, win - hop, 'nodelay')``, last frame zero-padded.
        grid: Filterbank band limiting, see :func:`linear_filterbank`.
        delta_half_width: Regression half-width ``N`` of the deltas.
        delta_normalize: Divide deltas by ``2 sum n^2`` (HTK); False for the 2019 baselines.
        n_fft: FFT size (frames are zero-padded to it).
        win_length: Window length in samples (20 ms at 16 kHz by default).
        hop_length: Frame advance in samples.
        n_filters: Triangular filters.
        n_lfcc: Cepstral coefficients kept (``<= n_filters``).
        fmin: Lower band edge in Hz.
        fmax: Upper band edge in Hz; Nyquist when None.
        window: Window name; ``"hamming"`` is periodic (torch), ``"hamming_symmetric"``
            MATLAB's ``hamming(N)``.
        pre_emphasis: Pre-emphasis coefficient; 0 disables it.
        with_energy: Replace ``c0`` with the log frame energy (NII ``with_energy``).
        with_deltas: Append deltas and delta-deltas.
        log_floor: Added before ``log10`` (float32 eps in NII, float64 eps in MATLAB).

    Returns:
        ``[c; delta c; delta^2 c]`` stacked on the feature axis (``n_lfcc`` rows each).

    Shape:
        ``(..., time) -> (..., n_lfcc * (3 if with_deltas else 1), n_frames)``
    """
    waveform = check_waveform(waveform)
    check_sample_rate(sample_rate)
    check_positive(n_lfcc, "n_lfcc", integer=True)
    check_positive(log_floor, "log_floor")
    if not 0.0 <= pre_emphasis < 1.0:
        raise ConfigError(f"pre_emphasis must be in [0, 1), got {pre_emphasis}")
    if framing not in ("center", "matlab"):
        raise ConfigError(f"framing must be 'center' or 'matlab', got {framing!r}")
    fb = linear_filterbank(
        sample_rate=sample_rate,
        n_fft=n_fft,
        n_filters=n_filters,
        fmin=fmin,
        fmax=fmax,
        grid=grid,
        dtype=waveform.dtype,
        device=waveform.device,
    )
    x = waveform
    if pre_emphasis > 0:
        x = torch.cat([x[..., :1], x[..., 1:] - pre_emphasis * x[..., :-1]], dim=-1)
    if framing == "center":
        spec = spectrogram(
            x,
            n_fft=n_fft,
            hop_length=hop_length,
            win_length=win_length,
            window=window,
            center=True,
            pad_mode="constant",
            power=2.0,
        )
    else:
        _check_frames(x.shape[-1], n_fft, hop_length, win_length, center=True)
        win = get_window(window, win_length, dtype=x.dtype, device=x.device)
        frames = frame_matlab_buffer(x, win_length, hop_length) * win
        fft = torch.fft.rfft(frames, n=n_fft, dim=-1)
        spec = (fft.real.square() + fft.imag.square()).transpose(-1, -2)
    log_fb = torch.log10(torch.matmul(fb, spec) + log_floor)
    ceps = torch.matmul(dct_matrix(n_filters, n_lfcc, dtype=x.dtype, device=x.device), log_fb)
    if with_energy:
        lo, hi, _ = _lfcc_bins(
            float(sample_rate), n_fft, float(fmin), check_freq_range(fmin, fmax, sample_rate), grid
        )
        energy = torch.log10(spec[..., lo:hi, :].sum(dim=-2, keepdim=True) / n_fft + log_floor)
        ceps = torch.cat([energy, ceps[..., 1:, :]], dim=-2)
    if not with_deltas:
        return ceps
    d1 = htk_deltas(ceps, half_width=delta_half_width, normalize=delta_normalize)
    d2 = htk_deltas(d1, half_width=delta_half_width, normalize=delta_normalize)
    return torch.cat([ceps, d1, d2], dim=-2)
