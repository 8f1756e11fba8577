"""A perceptual masking model: how much each watermark cell may change, from the host alone.

The embedder changes the power of a cell (one band in one STFT frame) by a factor
``exp(delta)``; the change is the signal ``(exp(delta / 2) - 1) * X`` in that cell, with
energy ``(exp(delta / 2) - 1)^2 * E``. A loud cell (a formant, a note's partial) carries
most of the host's energy, so a fixed ``delta`` costs most there, while a cell in a
spectral valley beside it is masked by its loud neighbour and may change a lot for little
energy. The model gives each cell a masking threshold ``M``:

1. the power spectrum of each frame (all 257 bins, so bass and partials outside the
   watermark range mask too) is spread over frequency with Schroeder's spreading function
   on the Bark scale (Schroeder, Atal & Hall 1979; the shape used by Johnston's 1988
   perceptual entropy model): +25 dB/Bark towards low, about -10 dB/Bark towards high
   frequencies;
2. temporal masking: a frame is also masked by its neighbours, the previous frame at
   -3 dB (forward masking decays over ~100 ms; frames are 16 ms apart) and the next at
   -9 dB (backward masking is short);
3. the spread power, summed over each band's bins, minus the offset :data:`OFFSET_DB`
   (the signal-to-mask ratio asked for; larger = quieter mark), is the band's threshold.

:func:`masked_change` turns that into a change of log power per cell, from which the
embedder sets each cell's margin (:mod:`voxlab.watermark.embed`). The result depends on
the host only, so the detector needs no model.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from voxlab.watermark.layout import N_FFT, SAMPLE_RATE, bin_bands, n_bands

#: Signal-to-mask offset in dB: the threshold lies this far below the spread host power.
OFFSET_DB = 27.0
#: Temporal masking: weight of the previous and of the next frame's spread power.
FORWARD, BACKWARD = 10 ** (-3 / 10), 10 ** (-9 / 10)


def bark(freq: np.ndarray) -> np.ndarray:
    """Frequency (Hz) to Bark (Zwicker & Terhardt 1980)."""
    f = np.asarray(freq, dtype=np.float64)
    return 13.0 * np.arctan(0.00076 * f) + 3.5 * np.arctan((f / 7500.0) ** 2)


def spreading_db(dz: np.ndarray) -> np.ndarray:
    """Schroeder's spreading function in dB at Bark distance ``dz`` (masker to maskee).

    ``dz > 0``: the maskee lies above the masker (the gentle, upward side).
    """
    d = np.asarray(dz, dtype=np.float64) + 0.474
    return 15.81 + 7.5 * d - 17.5 * np.sqrt(1.0 + d * d)


@lru_cache(maxsize=1)
def spreading_matrix() -> np.ndarray:
    """Linear spreading weights from every bin (rows) to every band (columns).

    Returns:
        Shape: ``(N_FFT // 2 + 1, n_bands)`` float32: column ``b`` sums the spread power
        over the bins of band ``b``.
    """
    z = bark(np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT)
    spread = 10.0 ** (spreading_db(z[None, :] - z[:, None]) / 10.0)  # (source, target)
    spread /= spread.max()
    bands = bin_bands()
    out = np.zeros((spread.shape[0], n_bands()), np.float64)
    for b in range(n_bands()):
        out[:, b] = spread[:, bands == b].sum(axis=1)
    return out.astype(np.float32)


def masking_threshold(power: np.ndarray, *, offset_db: float = OFFSET_DB) -> np.ndarray:
    """Masking threshold of every band in every frame.

    Args:
        power: Power spectra of the frames. Shape: ``(frames, N_FFT // 2 + 1)``.
        offset_db: Signal-to-mask offset (dB below the spread power).

    Returns:
        Threshold energy per cell, in the units of ``power`` summed over a band's bins.
        Shape: ``(frames, n_bands)``.
    """
    spread = power.astype(np.float32) @ spreading_matrix()
    out = spread.copy()
    if spread.shape[0] > 1:
        out[1:] = np.maximum(out[1:], FORWARD * spread[:-1])
        out[:-1] = np.maximum(out[:-1], BACKWARD * spread[1:])
    return out * np.float32(10.0 ** (-offset_db / 10.0))


def masked_change(energy: np.ndarray, threshold: np.ndarray) -> np.ndarray:
    """The change of log power whose change energy equals the masking threshold.

    A cell of energy ``E`` scaled in amplitude by ``1 + a`` changes by ``a^2 E``; that
    equals the threshold ``M`` at ``a = sqrt(M / E)``, i.e. a change of log power of
    ``2 ln(1 + sqrt(M / E))``: small on loud cells (peaks mask themselves only so far),
    large in the valleys beside them.

    Args:
        energy: Host energy per cell. Shape: ``(frames, bands)``.
        threshold: Masking threshold per cell. Shape: like ``energy``.

    Returns:
        Natural log of power, >= 0. Shape: like ``energy``.
    """
    ratio = np.sqrt(threshold / np.maximum(energy, 1e-30))
    return (2.0 * np.log1p(ratio)).astype(np.float32)
