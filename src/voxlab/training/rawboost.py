"""RawBoost: the raw-waveform data boosting of Tak et al. (ICASSP 2022), as published.

Three signal-processing algorithms and their combinations, selected by ``algo`` as in the
official SSL anti-spoofing scripts (TakHemlata/SSL_Anti-spoofing, ``--algo``):

=====  ==========================================================================
algo   what
=====  ==========================================================================
0      nothing
1      LnL: linear and non-linear convolutive noise (notch-filtered powers of x)
2      ISD: impulsive signal-dependent additive noise on ~beta % of the samples
3      SSI: stationary signal-independent coloured additive noise at a drawn SNR
4      1 -> 2 -> 3 in series
5      1 -> 2 in series (the published ASVspoof 2021 **LA** default)
6      1 -> 3 in series
7      2 -> 3 in series
8      1 and 2 in parallel on the same input (LnL draws first), summed, then divided
       by the peak only if the peak exceeds 1
=====  ==========================================================================

The published **DF** default is algorithm 3 (SSI). Numbers follow the official code: the
same parameter defaults (:class:`RawBoostParams`), the same sequence of draws from NumPy's
*legacy* random generator (each scalar is one ``uniform(low, high, size=1)`` call, integers
by truncation), the same notch-filter design (``scipy.signal.firwin`` band-stop cascades
normalised with ``freqz``) and the same causal FIR filtering with its trimming. With
``rng=None`` the draws come from the global ``np.random`` state exactly as the official
scripts (seed it with ``np.random.seed``); pass a ``np.random.RandomState`` for an
independent, reproducible stream (the training data pipeline does, one per item).

Inputs are converted to float64 first and every output is float64 of the input's length
(the official code keeps a float32 input's dtype inside algorithm 2 alone; that differs by
float32 rounding only).

Reference: H. Tak, M. Kamble, J. Patino, M. Todisco, N. Evans, "RawBoost: A Raw Data
Boosting and Augmentation Method applied to Automatic Speaker Verification Anti-Spoofing",
Proc. ICASSP 2022, pp. 6382-6386.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from voxlab.errors import ConfigError

#: Algorithms, by number.
ALGORITHMS = {
    0: "none",
    1: "LnL convolutive noise",
    2: "ISD impulsive noise",
    3: "SSI coloured additive noise",
    4: "LnL -> ISD -> SSI (series)",
    5: "LnL -> ISD (series)",
    6: "LnL -> SSI (series)",
    7: "ISD -> SSI (series)",
    8: "LnL + ISD (parallel)",
}
#: The published default of the ASVspoof 2021 LA script (``main_SSL_LA.py --algo 5``).
LA_DEFAULT_ALGO = 5
#: The published default of the ASVspoof 2021 DF script (``main_SSL_DF.py --algo 3``).
DF_DEFAULT_ALGO = 3
#: Series combinations: algorithm -> the single algorithms applied in order.
SERIES = {1: (1,), 2: (2,), 3: (3,), 4: (1, 2, 3), 5: (1, 2), 6: (1, 3), 7: (2, 3)}


@dataclass(frozen=True)
class RawBoostParams:
    """RawBoost parameters (defaults: the official scripts' argument defaults).

    Attributes:
        n_bands: Notch bands per filter cascade (``nBands``).
        min_f: Lowest band centre in Hz (``minF``).
        max_f: Highest band centre in Hz (``maxF``).
        min_bw: Narrowest band width in Hz (``minBW``).
        max_bw: Widest band width in Hz (``maxBW``).
        min_coeff: Fewest FIR taps per band (``minCoeff``).
        max_coeff: Most FIR taps per band (``maxCoeff``).
        min_g: Lowest cascade gain in dB (``minG``).
        max_g: Highest cascade gain in dB (``maxG``).
        min_bias_lin_nonlin: Gain offset of the non-linear terms, low end (dB).
        max_bias_lin_nonlin: Gain offset of the non-linear terms, high end (dB).
        n_f: Order of the non-linearity in LnL (``N_f``: powers 1..n_f).
        p: Largest share of samples ISD touches, in percent (``P``).
        g_sd: ISD gain (``g_sd``).
        snr_min: Lowest SSI signal-to-noise ratio in dB.
        snr_max: Highest SSI signal-to-noise ratio in dB.
    """

    n_bands: int = 5
    min_f: float = 20.0
    max_f: float = 8000.0
    min_bw: float = 100.0
    max_bw: float = 1000.0
    min_coeff: int = 10
    max_coeff: int = 100
    min_g: float = 0.0
    max_g: float = 0.0
    min_bias_lin_nonlin: float = 5.0
    max_bias_lin_nonlin: float = 20.0
    n_f: int = 5
    p: float = 10.0
    g_sd: float = 2.0
    snr_min: float = 10.0
    snr_max: float = 40.0

    def __post_init__(self) -> None:
        checks = [
            (self.n_bands >= 1, "n_bands must be >= 1"),
            (self.n_f >= 1, "n_f must be >= 1"),
            (0 < self.min_f <= self.max_f, "need 0 < min_f <= max_f"),
            (0 < self.min_bw <= self.max_bw, "need 0 < min_bw <= max_bw"),
            (1 <= self.min_coeff <= self.max_coeff, "need 1 <= min_coeff <= max_coeff"),
            (0 <= self.p <= 100, "p is a percentage in [0, 100]"),
            (self.snr_min <= self.snr_max, "need snr_min <= snr_max"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"RawBoost parameters: {message} (got {self})")


Rng = Any  # np.random.RandomState or the np.random module (its global legacy state)


def _rng(rng: np.random.RandomState | None) -> Rng:
    return np.random if rng is None else rng


def _draw(rng: Rng, low: float, high: float) -> float:
    """One official scalar draw: ``uniform(low, high, size=1)`` (low > high is allowed)."""
    return float(rng.uniform(low=low, high=high, size=(1,))[0])


def _peak_normalise(x: np.ndarray, *, always: bool) -> np.ndarray:
    """Divide by the peak absolute value, always or only when it exceeds 1."""
    peak = np.max(np.abs(x))
    if always or peak > 1:
        return x / peak
    return x


def notch_filter(
    *,
    sample_rate: int,
    params: RawBoostParams = RawBoostParams(),
    min_g: float | None = None,
    max_g: float | None = None,
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """Draw a random cascade of band-stop FIR filters (16 draws with the defaults).

    For each of ``n_bands`` bands: centre ``fc ~ U(min_f, max_f)``, width
    ``bw ~ U(min_bw, max_bw)``, taps ``int(U(min_coeff, max_coeff))`` made odd; the band
    edges are kept inside (0, fs/2) by 1 mHz; a Hamming-window band-stop is convolved onto
    the cascade. Then a gain ``G ~ U(min_g, max_g)`` dB is drawn and the cascade is scaled
    to a peak magnitude response (512 points) of ``10^(G/20)``.

    Args:
        sample_rate: Sampling rate in Hz.
        params: Ranges of the draws.
        min_g: Overrides ``params.min_g`` (LnL lowers the gain of the non-linear terms).
        max_g: Overrides ``params.max_g``.
        rng: Legacy generator; ``None`` uses the global ``np.random`` state.

    Returns:
        The FIR coefficients (odd length). Shape: ``(taps,)``.
    """
    from scipy.signal import firwin, freqz

    r = _rng(rng)
    nyquist = sample_rate / 2
    b = np.ones(1)
    for _ in range(params.n_bands):
        fc = _draw(r, params.min_f, params.max_f)
        bw = _draw(r, params.min_bw, params.max_bw)
        taps = int(_draw(r, params.min_coeff, params.max_coeff))
        if taps % 2 == 0:
            taps += 1
        low, high = fc - bw / 2, fc + bw / 2
        if low <= 0:
            low = 1e-3
        if high >= nyquist:
            high = nyquist - 1e-3
        band_stop = firwin(taps, [low, high], window="hamming", fs=sample_rate)
        b = np.convolve(band_stop, b)
    gain_db = _draw(
        r, params.min_g if min_g is None else min_g, params.max_g if max_g is None else max_g
    )
    _, response = freqz(b, 1, fs=sample_rate)
    return 10 ** (gain_db / 20) * b / np.max(np.abs(response))


def fir_filter(x: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Causal FIR filtering with RawBoost's delay compensation, same length as ``x``.

    ``len(b) + 1`` zeros are appended, the filter runs causally, and the output drops its
    first ``(len(b) + 1) // 2`` samples and keeps ``len(x)``.

    Shape:
        ``(time,) -> (time,)``
    """
    from scipy.signal import lfilter

    n = len(b) + 1
    y = lfilter(b, 1, np.pad(x, (0, n)))
    start = n // 2
    return y[start : start + len(x)]


def lnl_convolutive_noise(
    x: np.ndarray,
    *,
    sample_rate: int = 16_000,
    params: RawBoostParams = RawBoostParams(),
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """Algorithm 1: sum of notch-filtered powers ``x^1 .. x^n_f`` (5 x 16 draws).

    Power 1 uses the gain range ``(min_g, max_g)``; powers 2.. use
    ``(min_g - min_bias, max_g - max_bias)`` (-5 .. -20 dB by default). The sum is made
    zero-mean and divided by its peak only when the peak exceeds 1.

    Shape:
        ``(time,) -> (time,)``, float64.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.zeros_like(x)
    for i in range(params.n_f):
        if i == 0:
            min_g, max_g = params.min_g, params.max_g
        else:
            min_g = params.min_g - params.min_bias_lin_nonlin
            max_g = params.max_g - params.max_bias_lin_nonlin
        b = notch_filter(sample_rate=sample_rate, params=params, min_g=min_g, max_g=max_g, rng=rng)
        y = y + fir_filter(np.power(x, i + 1), b)
    y = y - np.mean(y)
    return _peak_normalise(y, always=False)


def isd_additive_noise(
    x: np.ndarray,
    *,
    params: RawBoostParams = RawBoostParams(),
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """Algorithm 2: impulsive noise ``g_sd * x * (2u1-1)(2u2-1)`` on ~beta % of the samples.

    ``beta ~ U(0, p)``; the touched positions are the first ``int(len * beta / 100)``
    entries of a random permutation; ``u1`` then ``u2`` are uniform vectors. The result
    is divided by its peak only when the peak exceeds 1.

    Shape:
        ``(time,) -> (time,)``, float64.
    """
    r = _rng(rng)
    x = np.asarray(x, dtype=np.float64)
    beta = _draw(r, 0.0, params.p)
    n = int(x.shape[0] * (beta / 100))
    positions = r.permutation(x.shape[0])[:n]
    u1 = r.rand(positions.shape[0])
    u2 = r.rand(positions.shape[0])
    y = x.copy()
    y[positions] = x[positions] + params.g_sd * x[positions] * ((2 * u1 - 1) * (2 * u2 - 1))
    return _peak_normalise(y, always=False)


def ssi_additive_noise(
    x: np.ndarray,
    *,
    sample_rate: int = 16_000,
    params: RawBoostParams = RawBoostParams(),
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """Algorithm 3: notch-coloured Gaussian noise added at ``SNR ~ U(snr_min, snr_max)`` dB.

    Draw order: the white noise (``normal(0, 1, len)``), the notch cascade (16 draws), the
    SNR. The filtered noise is divided by its peak, then scaled to the L2 norm
    ``||x|| / 10^(SNR/20)``. No normalisation afterwards.

    Shape:
        ``(time,) -> (time,)``, float64.
    """
    r = _rng(rng)
    x = np.asarray(x, dtype=np.float64)
    noise = r.normal(0, 1, x.shape[0])
    b = notch_filter(sample_rate=sample_rate, params=params, rng=rng)
    noise = _peak_normalise(fir_filter(noise, b), always=True)
    snr_db = _draw(r, params.snr_min, params.snr_max)
    noise = noise / np.linalg.norm(noise, 2) * np.linalg.norm(x, 2) / 10.0 ** (0.05 * snr_db)
    return x + noise


def rawboost(
    x: np.ndarray,
    algo: int,
    *,
    sample_rate: int = 16_000,
    params: RawBoostParams = RawBoostParams(),
    rng: np.random.RandomState | None = None,
) -> np.ndarray:
    """Apply RawBoost algorithm ``algo`` (0-8, see the module docstring) to one clip.

    Args:
        x: Waveform. Shape: ``(time,)``.
        algo: 0 none, 1 LnL, 2 ISD, 3 SSI, 4-7 series, 8 parallel LnL + ISD.
        sample_rate: Sampling rate in Hz (the official scripts use 16,000).
        params: Algorithm parameters (official defaults).
        rng: Legacy ``np.random.RandomState``; ``None`` draws from the global
            ``np.random`` state as the official scripts do.

    Returns:
        The boosted waveform, float64. Shape: ``(time,)``.

    Raises:
        ConfigError: Unknown algorithm or input that is not a non-empty 1-D array.
    """
    if algo not in ALGORITHMS:
        known = "; ".join(f"{k} {v}" for k, v in ALGORITHMS.items())
        raise ConfigError(f"RawBoost algo must be one of 0-8 ({known}), got {algo!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError(f"RawBoost needs a non-empty mono waveform (time,), got shape {x.shape}")
    steps = {
        1: lambda s: lnl_convolutive_noise(s, sample_rate=sample_rate, params=params, rng=rng),
        2: lambda s: isd_additive_noise(s, params=params, rng=rng),
        3: lambda s: ssi_additive_noise(s, sample_rate=sample_rate, params=params, rng=rng),
    }
    if algo == 0:
        return x.copy()
    if algo == 8:
        both = steps[1](x) + steps[2](x)
        return _peak_normalise(both, always=False)
    y = x
    for step in SERIES[algo]:
        y = steps[step](y)
    return y
