"""LFCC as the ASVspoof baselines define it (NII PyTorch front-end and MATLAB code)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import numpy as np
import torch

from voxlab.errors import ConfigError
from voxlab.features._common import (
    check_freq_range,
    check_positive,
    check_sample_rate,
    check_waveform,
    cpu_chunked,
    dct_matrix,
    frame_matlab_buffer,
    get_window,
    htk_deltas,
)
from voxlab.features.spectral import _check_frames, spectrogram

__all__ = ["LFCC_PRESETS", "lfcc", "lfcc_band", "lfcc_from_parts", "linear_filterbank"]

_FLOAT32_EPS = float(np.finfo(np.float32).eps)
_FLOAT64_EPS = float(np.finfo(np.float64).eps)

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


@cpu_chunked
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
    fmax = check_freq_range(fmin, fmax, sample_rate)
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
    lo, hi, _ = _lfcc_bins(float(sample_rate), n_fft, float(fmin), fmax, grid)
    return lfcc_from_parts(
        waveform,
        window=get_window(window, win_length, dtype=waveform.dtype, device=waveform.device),
        filterbank=fb,
        dct=dct_matrix(n_filters, n_lfcc, dtype=waveform.dtype, device=waveform.device),
        band=(lo, hi),
        n_fft=n_fft,
        hop_length=hop_length,
        pre_emphasis=pre_emphasis,
        with_energy=with_energy,
        with_deltas=with_deltas,
        framing=framing,
        delta_half_width=delta_half_width,
        delta_normalize=delta_normalize,
        log_floor=log_floor,
    )


def lfcc_band(
    *, sample_rate: float, n_fft: int, fmin: float, fmax: float | None, grid: str
) -> tuple[int, int]:
    """FFT bins ``[lo, hi)`` that :func:`lfcc` uses for its filterbank and energy."""
    fmax = check_freq_range(fmin, fmax, sample_rate)
    lo, hi, _ = _lfcc_bins(float(sample_rate), n_fft, float(fmin), fmax, grid)
    return lo, hi


@cpu_chunked
def lfcc_from_parts(
    waveform: torch.Tensor,
    *,
    window: torch.Tensor,
    filterbank: torch.Tensor,
    dct: torch.Tensor,
    band: tuple[int, int],
    n_fft: int,
    hop_length: int,
    pre_emphasis: float,
    with_energy: bool,
    with_deltas: bool,
    framing: str,
    delta_half_width: int,
    delta_normalize: bool,
    log_floor: float,
) -> torch.Tensor:
    """The :func:`lfcc` pipeline on precomputed window, filterbank and DCT (used by modules).

    Shape:
        ``(..., time) -> (..., n_lfcc * (3 if with_deltas else 1), n_frames)``
    """
    x = check_waveform(waveform)
    win_length = int(window.shape[-1])
    if pre_emphasis > 0:
        x = torch.cat([x[..., :1], x[..., 1:] - pre_emphasis * x[..., :-1]], dim=-1)
    if framing == "center":
        spec = spectrogram(
            x,
            n_fft=n_fft,
            hop_length=hop_length,
            window=window,
            center=True,
            pad_mode="constant",
            power=2.0,
        )
    else:
        _check_frames(x.shape[-1], n_fft, hop_length, win_length, center=True)
        frames = frame_matlab_buffer(x, win_length, hop_length) * window.to(x.dtype)
        fft = torch.fft.rfft(frames, n=n_fft, dim=-1)
        spec = (fft.real.square() + fft.imag.square()).transpose(-1, -2)
    weights = filterbank.to(x.dtype)
    n_filters = weights.shape[0]
    if with_energy:
        # The band energy rides along as one more row of the filterbank matmul.
        lo, hi = band
        band_row = torch.zeros_like(weights[:1])
        band_row[:, lo:hi] = 1.0
        weights = torch.cat([weights, band_row])
    energies = torch.matmul(weights, spec)
    log_fb = torch.log10(energies[..., :n_filters, :] + log_floor)
    ceps = torch.matmul(dct.to(x.dtype), log_fb)
    if with_energy:
        energy = torch.log10(energies[..., n_filters:, :] / n_fft + log_floor)
        ceps = torch.cat([energy, ceps[..., 1:, :]], dim=-2)
    if not with_deltas:
        return ceps
    d1 = htk_deltas(ceps, half_width=delta_half_width, normalize=delta_normalize)
    d2 = htk_deltas(d1, half_width=delta_half_width, normalize=delta_normalize)
    return torch.cat([ceps, d1, d2], dim=-2)
