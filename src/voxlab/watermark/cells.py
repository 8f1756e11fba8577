"""What the embedder and the detector both measure: the sign of each cell against its neighbours.

A *cell* is one watermark band in one analysis frame (Hann window of 512 samples at
16 kHz, every 128 samples, i.e. every half embedding hop). Its *residual* is its log
energy minus the mean log energy of the same band over the :data:`LOCAL_FRAMES` frames
around it: positive when the cell stands out of its own band's recent level, negative
when it sits below. The mark is carried by the **sign** of the residual. The embedder
pushes each cell whose sign disagrees with the keyed chip, by as little as it can
(see :mod:`voxlab.watermark.embed`); the detector reads a soft sign, ``clip(r / SOFT)``,
weighted by how much of the cell is signal rather than silence or noise.

Everything here depends on the audio alone, never on the key, so that the detector's
score keeps its null distribution (see :mod:`voxlab.watermark.detect`).
"""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np

from voxlab.watermark.layout import CHIP_FRAMES, HOP, N_FFT, band_matrix

#: Highest FFT bin analysed (4.2 kHz: the top band edge at +5 % speed).
MAX_BIN = 135
#: Analysis hop (half the embedding hop).
A_HOP = HOP // 2
#: Analysis frames over which a band's local level is averaged (5 = 48 ms).
LOCAL_FRAMES = 5
#: Residual (natural log of power) at which the soft sign saturates.
SOFT = 0.15
#: Percentile of each band's energy over time taken as its noise floor.
NOISE_PERCENTILE = 10.0
#: Exponent of the share above the noise floor in the reliability (2: favour clean cells).
CLEAN_POWER = 2.0


#: Frames from which :func:`rfft` switches from numpy's FFT to scipy's. scipy's is faster
#: per frame (detection of 5 s: 0.135 vs 0.19 CPU-s) but costs ~0.2 CPU-s to import, which
#: pays off from about 15 s of audio (2,000 analysis frames of one rate).
SCIPY_FFT_FRAMES = 2000


def rfft(frames: np.ndarray, n: int | None = None) -> np.ndarray:
    """Real FFT along the last axis, with the backend that is cheapest for this job.

    ``scipy.fft`` is used when it is already imported or the batch is large; otherwise
    ``numpy.fft`` (same pocketfft algorithm, float32 in float32 out): a short file is
    analysed before scipy.fft would even have finished importing.

    Shape: ``(..., n)`` -> ``(..., n // 2 + 1)``.
    """
    rows = frames.size // max(frames.shape[-1], 1)
    if "scipy.fft" in sys.modules or rows >= SCIPY_FFT_FRAMES:
        from scipy import fft as sfft

        return sfft.rfft(frames, n=n, axis=-1)
    return np.fft.rfft(frames, n=n, axis=-1)


def irfft(spec: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`rfft` (same backend choice). Shape: ``(..., n)``."""
    if "scipy.fft" in sys.modules or spec.size // max(spec.shape[-1], 1) >= SCIPY_FFT_FRAMES:
        from scipy import fft as sfft

        return sfft.irfft(spec, n=n, axis=-1)
    return np.fft.irfft(spec, n=n, axis=-1)


def moving_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over ``size`` rows centred on each row, edges repeated ("nearest" mode).

    Shape: like ``x`` (time on axis 0).
    """
    if x.shape[0] == 0:
        return x.copy()
    before = size // 2
    after = size - 1 - before
    padded = np.concatenate(
        [np.repeat(x[:1], before, axis=0), x, np.repeat(x[-1:], after, axis=0)]
    ).astype(np.float64)
    csum = np.concatenate([np.zeros((1, *x.shape[1:])), np.cumsum(padded, axis=0)])
    return ((csum[size:] - csum[:-size]) / size).astype(x.dtype)


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    return np.hanning(N_FFT).astype(np.float32)


def power_frames(xp: np.ndarray, rate: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Power spectra of frames every ``A_HOP / rate`` samples, up to 4.2 kHz.

    Args:
        xp: 16 kHz samples, zero-padded by ``N_FFT`` on both sides. Shape: ``(time,)``.
        rate: Playback-rate hypothesis (frames are taken ``rate`` times closer).

    Returns:
        ``(power, positions)``. Shape: ``(frames, MAX_BIN)`` and ``(frames,)``.
    """
    n_frames = int((xp.size - N_FFT) * rate // A_HOP) + 1
    pos = np.round(np.arange(max(n_frames, 0)) * (A_HOP / rate)).astype(np.int64)
    pos = pos[pos + N_FFT <= xp.size]
    frames = np.lib.stride_tricks.sliding_window_view(xp, N_FFT)[pos] * _hann()
    spec = rfft(frames)[:, :MAX_BIN]
    return (spec.real**2 + spec.imag**2).astype(np.float32), pos


def band_energy(power: np.ndarray, fscale: float = 1.0) -> np.ndarray:
    """Energy per watermark band (edges scaled by ``fscale``) of each chip-long stretch.

    Row ``j`` sums the analysis frames ``j .. j + 2 * CHIP_FRAMES - 2``: the frames whose
    centres lie inside a chip starting at frame ``j``.

    Shape: ``(frames - 2 * CHIP_FRAMES + 2, bands)``.
    """
    energy = power @ band_matrix(round(fscale, 6))[:MAX_BIN]
    span = 2 * CHIP_FRAMES - 1
    if span > 1 and energy.shape[0] >= span:
        energy = sum(energy[i : energy.shape[0] - span + 1 + i] for i in range(span))
    return energy


def residual(energy: np.ndarray) -> np.ndarray:
    """Log band energy minus its mean over :data:`LOCAL_FRAMES` frames of the same band.

    Shape: like ``energy``.
    """
    mean = float(energy.mean()) if energy.size else 0.0
    log_e = np.log(energy + (1e-5 * mean + 1e-12))
    return log_e - moving_mean(log_e, LOCAL_FRAMES)


def reliability(energy: np.ndarray) -> np.ndarray:
    """How much each cell is signal, in [0, 1]: frame loudness times share above noise.

    The frame term fades out pauses and digital silence; the noise term is the share of
    the cell's energy above its band's noise floor (the band's 10th percentile over
    time): the mark scales with the signal, so cells drowned in noise carry little of it.

    Shape: like ``energy``.
    """
    if not energy.size:
        return np.zeros_like(energy)
    mean = float(energy.mean())
    frame_e = energy.sum(axis=1)
    loud = frame_e / (frame_e + 1e-3 * mean * energy.shape[1] + 1e-12)
    floor = np.percentile(energy[::4], NOISE_PERCENTILE, axis=0) if energy.shape[0] > 80 else 0.0
    clean = np.clip(1.0 - floor / (energy + 1e-30), 0.0, 1.0)
    return (loud[:, None] * clean**CLEAN_POWER).astype(np.float32)


def soft_signs(energy: np.ndarray) -> np.ndarray:
    """The detector's chip values: ``clip(residual / SOFT, -1, 1) * reliability``.

    Shape: like ``energy``, float32 in [-1, 1].
    """
    return (np.clip(residual(energy) / SOFT, -1.0, 1.0) * reliability(energy)).astype(np.float32)


def pad_signal(x16: np.ndarray) -> np.ndarray:
    """``x16`` zero-padded by ``N_FFT`` samples on both sides (the analysis convention)."""
    pad = np.zeros(N_FFT, np.float32)
    return np.concatenate([pad, np.asarray(x16, np.float32), pad])


def chip_residuals(x16: np.ndarray, n_frames: int) -> np.ndarray:
    """Residuals of the cells the embedder controls: the analysis frame of each embed frame.

    Embedding frame ``t`` (hop 256, starting ``HOP`` samples before the signal) coincides
    with analysis frame ``2 t + 2`` of the padded signal; every frame of a chip gets the
    residual of the chip (the row of its first frame).

    Returns:
        Shape: ``(n_frames, bands)``; rows past the analysed frames are 0.
    """
    power, _ = power_frames(pad_signal(x16))
    r = residual(band_energy(power))
    first = np.arange(n_frames)
    rows = 2 + 2 * (first - first % CHIP_FRAMES)
    out = np.zeros((n_frames, r.shape[1]), np.float32)
    ok = rows < r.shape[0]
    out[ok] = r[rows[ok]]
    return out
