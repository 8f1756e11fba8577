"""WORLD analysis/synthesis (pyworld) and mel-cepstral coding of the spectral envelope.

WORLD splits speech into an F0 contour (DIO refined by StoneMask, or Harvest), a smooth
spectral envelope (CheapTrick) and a band aperiodicity (D4C), and resynthesises speech
from them. The envelope is coded as a mel-cepstrum in the SPTK sense: the cepstrum of the
log amplitude spectrum on a frequency axis warped by the first-order all-pass
``z^-1 -> (z^-1 - alpha) / (1 - alpha z^-1)``; with ``alpha ≈ 0.41`` at 16 kHz the warped
axis follows the mel scale. The warping is the exact ``freqt`` recursion of SPTK, applied
as a cached matrix so whole utterances convert with one product.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from voxlab.errors import AudioError, ConfigError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyworld imports the deprecated pkg_resources
    import pyworld

F0_METHODS = ("dio", "harvest")


@dataclass(frozen=True)
class WorldFeatures:
    """WORLD parameters of one utterance.

    Attributes:
        f0: F0 in Hz, 0 for unvoiced frames. Shape: ``(frames,)``.
        sp: Spectral envelope (power). Shape: ``(frames, fft_size // 2 + 1)``.
        ap: Aperiodicity in [0, 1]. Shape: ``(frames, fft_size // 2 + 1)``.
        sample_rate: Sample rate in Hz.
        frame_period: Frame shift in milliseconds.
    """

    f0: np.ndarray
    sp: np.ndarray
    ap: np.ndarray
    sample_rate: int
    frame_period: float

    @property
    def fft_size(self) -> int:
        """FFT size of the envelope and aperiodicity."""
        return (self.sp.shape[1] - 1) * 2

    def replace(self, **changes) -> WorldFeatures:
        """A copy with some fields replaced."""
        values = {
            "f0": self.f0,
            "sp": self.sp,
            "ap": self.ap,
            "sample_rate": self.sample_rate,
            "frame_period": self.frame_period,
        }
        values.update(changes)
        return WorldFeatures(**values)


def _as_signal(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.ascontiguousarray(np.asarray(audio, dtype=np.float64).reshape(-1))
    if x.size < sample_rate // 20:
        raise AudioError(
            f"WORLD analysis needs at least 50 ms of audio, got {x.size} samples "
            f"at {sample_rate} Hz"
        )
    if not np.isfinite(x).all():
        raise AudioError("WORLD analysis: the audio holds NaN or Inf samples")
    return x


def extract_f0(
    audio: np.ndarray,
    sample_rate: int,
    *,
    method: str = "dio",
    frame_period: float = 5.0,
    f0_floor: float = 71.0,
    f0_ceil: float = 800.0,
) -> np.ndarray:
    """F0 contour by DIO + StoneMask refinement or by Harvest.

    Args:
        audio: Mono samples. Shape: ``(time,)``.
        sample_rate: Sample rate in Hz.
        method: ``"dio"`` (fast; refined by StoneMask) or ``"harvest"`` (slower, more robust).
        frame_period: Frame shift in ms.
        f0_floor: Lowest F0 searched (Hz).
        f0_ceil: Highest F0 searched (Hz).

    Returns:
        F0 in Hz (0 = unvoiced). Shape: ``(round(time / sr * 1000 / frame_period) + 1,)``.
    """
    if method not in F0_METHODS:
        raise ConfigError(f"F0 method must be one of {F0_METHODS}, got {method!r}")
    x = _as_signal(audio, sample_rate)
    kwargs = {"f0_floor": f0_floor, "f0_ceil": f0_ceil, "frame_period": frame_period}
    if method == "harvest":
        f0, _ = pyworld.harvest(x, sample_rate, **kwargs)
        return f0
    f0, t = pyworld.dio(x, sample_rate, **kwargs)
    return pyworld.stonemask(x, f0, t, sample_rate)


def analyze(
    audio: np.ndarray,
    sample_rate: int,
    *,
    f0_method: str = "dio",
    frame_period: float = 5.0,
    f0_floor: float = 71.0,
    f0_ceil: float = 800.0,
    f0: np.ndarray | None = None,
) -> WorldFeatures:
    """WORLD analysis: F0, CheapTrick envelope and D4C aperiodicity.

    Args:
        audio: Mono samples. Shape: ``(time,)``.
        sample_rate: Sample rate in Hz.
        f0_method: ``"dio"`` or ``"harvest"`` (see :func:`extract_f0`).
        frame_period: Frame shift in ms.
        f0_floor: Lowest F0 (Hz); also sets CheapTrick's FFT size.
        f0_ceil: Highest F0 (Hz).
        f0: A precomputed F0 contour to use instead of tracking one.

    Returns:
        The WORLD parameters.
    """
    x = _as_signal(audio, sample_rate)
    if f0 is None:
        f0 = extract_f0(
            x,
            sample_rate,
            method=f0_method,
            frame_period=frame_period,
            f0_floor=f0_floor,
            f0_ceil=f0_ceil,
        )
    f0 = np.ascontiguousarray(f0, dtype=np.float64)
    t = np.arange(len(f0), dtype=np.float64) * frame_period / 1000.0
    sp = pyworld.cheaptrick(x, f0, t, sample_rate, f0_floor=f0_floor)
    ap = pyworld.d4c(x, f0, t, sample_rate)
    return WorldFeatures(f0=f0, sp=sp, ap=ap, sample_rate=sample_rate, frame_period=frame_period)


def spectral_envelope(
    audio: np.ndarray,
    sample_rate: int,
    f0: np.ndarray,
    *,
    frame_period: float = 5.0,
    f0_floor: float = 71.0,
) -> np.ndarray:
    """CheapTrick spectral envelope alone (no aperiodicity), for training features.

    Returns:
        Power envelope. Shape: ``(len(f0), fft_size // 2 + 1)``.
    """
    x = _as_signal(audio, sample_rate)
    f0 = np.ascontiguousarray(f0, dtype=np.float64)
    t = np.arange(len(f0), dtype=np.float64) * frame_period / 1000.0
    return pyworld.cheaptrick(x, f0, t, sample_rate, f0_floor=f0_floor)


def synthesize(features: WorldFeatures) -> np.ndarray:
    """WORLD synthesis (deterministic: WORLD reseeds its noise generator on every call).

    Returns:
        float64 samples. Shape: ``(time,)``.
    """
    f0 = np.ascontiguousarray(features.f0, dtype=np.float64)
    sp = np.ascontiguousarray(np.maximum(features.sp, 1e-16), dtype=np.float64)
    ap = np.ascontiguousarray(np.clip(features.ap, 0.0, 1.0), dtype=np.float64)
    if not (len(f0) == len(sp) == len(ap)) or sp.shape != ap.shape:
        raise ConfigError(
            f"WORLD features disagree in shape: f0 {f0.shape}, sp {sp.shape}, ap {ap.shape}"
        )
    return pyworld.synthesize(f0, sp, ap, features.sample_rate, features.frame_period)


# --------------------------------------------------------------------------- mel-cepstrum


@lru_cache(maxsize=16)
def mcep_alpha(sample_rate: int) -> float:
    """All-pass constant whose warped frequency axis best fits the mel scale (as SPTK).

    Grid search (step 0.001) minimising the squared distance between the normalised mel
    scale and the all-pass phase response, as ``pysptk.util.mcepalpha``: 0.410 at 16 kHz.
    """
    omega = np.linspace(0.0, np.pi, 1000)
    hz = omega / np.pi * sample_rate / 2.0
    mel = 1000.0 / math.log(2.0) * np.log1p(hz / 1000.0)
    mel = mel / mel[-1] * np.pi
    best, best_dist = 0.0, np.inf
    for alpha in np.arange(0.0, 1.0, 0.001):
        warped = omega + 2.0 * np.arctan(alpha * np.sin(omega) / (1.0 - alpha * np.cos(omega)))
        dist = float(np.mean((mel - warped) ** 2))
        if dist < best_dist:
            best, best_dist = float(alpha), dist
    return round(best, 3)


@lru_cache(maxsize=32)
def _freqt_matrix(in_order: int, out_order: int, alpha: float) -> np.ndarray:
    """SPTK's ``freqt`` recursion as a matrix: ``c_out = W @ c_in``. Shape: ``(out+1, in+1)``."""
    beta = 1.0 - alpha * alpha
    n_in = in_order + 1
    g = np.zeros((out_order + 1, n_in))
    for i in range(in_order, -1, -1):
        d = g.copy()
        g[0] = alpha * d[0]
        g[0, i] += 1.0
        if out_order >= 1:
            g[1] = beta * d[0] + alpha * d[1]
        for j in range(2, out_order + 1):
            g[j] = d[j - 1] + alpha * (d[j] - g[j - 1])
    return g


def freqt(c: np.ndarray, out_order: int, alpha: float) -> np.ndarray:
    """Frequency transform of (mel-)cepstra (SPTK ``freqt``), batched over leading dims.

    Shape:
        ``(..., in_order + 1) -> (..., out_order + 1)``
    """
    c = np.asarray(c, dtype=np.float64)
    return c @ _freqt_matrix(c.shape[-1] - 1, int(out_order), float(alpha)).T


def sp_to_mcep(
    sp: np.ndarray, *, order: int = 24, alpha: float | None = None, sample_rate: int = 16_000
) -> np.ndarray:
    """Mel-cepstrum of a (power) spectral envelope, as ``pysptk.sp2mc``.

    Args:
        sp: Power spectra. Shape: ``(..., fft_size // 2 + 1)``.
        order: Mel-cepstral order (``order + 1`` coefficients including the 0th).
        alpha: All-pass constant; :func:`mcep_alpha` of ``sample_rate`` when None.
        sample_rate: Only used to pick ``alpha``.

    Returns:
        Mel-cepstra of the log amplitude spectrum. Shape: ``(..., order + 1)``.
    """
    alpha = mcep_alpha(sample_rate) if alpha is None else alpha
    logp = np.log(np.maximum(np.asarray(sp, dtype=np.float64), 1e-20))
    c = np.fft.irfft(logp, axis=-1)[..., : logp.shape[-1]]
    c[..., 0] /= 2.0
    return freqt(c, order, alpha)


def mcep_to_sp(
    mc: np.ndarray, *, fft_size: int, alpha: float | None = None, sample_rate: int = 16_000
) -> np.ndarray:
    """Power spectral envelope of mel-cepstra (inverse of :func:`sp_to_mcep`).

    Shape:
        ``(..., order + 1) -> (..., fft_size // 2 + 1)``
    """
    alpha = mcep_alpha(sample_rate) if alpha is None else alpha
    c = freqt(mc, fft_size // 2, -alpha)
    sym = np.concatenate([2.0 * c[..., :1], c[..., 1:], c[..., -2:0:-1]], axis=-1)
    return np.exp(np.fft.rfft(sym, axis=-1).real)


def mel_cepstral_distortion(mc_a: np.ndarray, mc_b: np.ndarray) -> float:
    """Mean mel-cepstral distortion in dB, without the 0th (energy) coefficient.

    ``MCD = 10 / ln 10 * sqrt(2 * sum_{m>=1} (a_m - b_m)^2)``, averaged over frames; the
    frames must already be aligned (e.g. by :func:`voxlab.generation.vc.gmm_vc.dtw_path`).

    Shape:
        ``(frames, order + 1), (frames, order + 1) -> scalar``
    """
    a = np.asarray(mc_a, dtype=np.float64)
    b = np.asarray(mc_b, dtype=np.float64)
    if a.shape != b.shape:
        raise ConfigError(f"mel-cepstra must have the same shape, got {a.shape} and {b.shape}")
    diff = a[..., 1:] - b[..., 1:]
    return float(np.mean(10.0 / math.log(10.0) * np.sqrt(2.0 * np.sum(diff * diff, axis=-1))))


def smooth_time(x: np.ndarray, width: int) -> np.ndarray:
    """Moving average over frames (axis 0) with edge padding; ``width`` 1 is the identity.

    Shape:
        ``(frames, ...) -> (frames, ...)``
    """
    if width <= 1:
        return np.asarray(x, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    half = width // 2
    padded = np.concatenate([np.repeat(x[:1], half, 0), x, np.repeat(x[-1:], width - 1 - half, 0)])
    csum = np.cumsum(padded, axis=0)
    csum = np.concatenate([np.zeros_like(csum[:1]), csum])
    return (csum[width:] - csum[:-width]) / width
