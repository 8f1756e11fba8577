"""Pitch for RVC: F0 at 100 frames/s from pyworld, transposition and coarse mel bins.

Facts from the official pipeline (``infer/modules/vc/pipeline.py``): F0 is searched in
50..1100 Hz on 16 kHz audio with a 10 ms frame shift (160 samples); Harvest's contour is
refined by StoneMask and median-filtered over 3 frames; ``transpose`` semitones multiply
F0 by ``2 ** (n / 12)``. The pitch embedding reads a coarse bin: ``mel = 1127 ln(1 +
f / 700)``, voiced frames mapped linearly so that 50 Hz -> 1 and 1100 Hz -> 255, clipped
to 1..255 and rounded half to even; unvoiced frames (F0 = 0) get bin 1.
"""

from __future__ import annotations

import numpy as np

from voxlab.errors import AudioError, ConfigError

#: F0 search range of the official pipeline (Hz).
F0_MIN, F0_MAX = 50.0, 1100.0
#: Frame shift of the F0 contour and of the upsampled content features (16 kHz samples).
WINDOW = 160
#: Sample rate of content and pitch analysis.
ANALYSIS_RATE = 16_000
#: F0 extractors available without a user-supplied model.
F0_METHODS = ("harvest", "dio")

_MEL_MIN = 1127.0 * np.log(1.0 + F0_MIN / 700.0)
_MEL_MAX = 1127.0 * np.log(1.0 + F0_MAX / 700.0)


def coarse_pitch(f0: np.ndarray) -> np.ndarray:
    """Quantise F0 in Hz to RVC's coarse pitch bins 1..255.

    Args:
        f0: F0 in Hz, 0 where unvoiced. Shape: any.

    Returns:
        int64 bins of the same shape (1 for unvoiced frames).
    """
    mel = 1127.0 * np.log(1.0 + np.asarray(f0, dtype=np.float64) / 700.0)
    voiced = mel > 0
    mel[voiced] = (mel[voiced] - _MEL_MIN) * 254.0 / (_MEL_MAX - _MEL_MIN) + 1.0
    mel = np.where(mel <= 1.0, 1.0, mel)
    mel = np.where(mel > 255.0, 255.0, mel)
    return np.rint(mel).astype(np.int64)


def transpose_f0(f0: np.ndarray, semitones: float) -> np.ndarray:
    """F0 shifted by ``semitones`` (unvoiced zeros stay zero)."""
    return np.asarray(f0, dtype=np.float64) * 2.0 ** (float(semitones) / 12.0)


def extract_f0(
    audio: np.ndarray, *, method: str = "harvest", n_frames: int | None = None
) -> np.ndarray:
    """F0 of 16 kHz audio at 100 frames/s with pyworld, as RVC's pipeline computes it.

    Args:
        audio: Mono 16 kHz samples. Shape: ``(time,)``.
        method: ``"harvest"`` (robust; StoneMask + 3-frame median filter) or ``"dio"``
            (fast; StoneMask).
        n_frames: Crop or zero-pad the contour to this many frames (the pipeline uses
            ``len(audio) // 160``).

    Returns:
        F0 in Hz, 0 = unvoiced. Shape: ``(n_frames,)``.

    Raises:
        ConfigError: Unknown method.
        AudioError: Audio shorter than 50 ms or holding NaN/Inf.
    """
    import pyworld
    from scipy.signal import medfilt

    if method not in F0_METHODS:
        raise ConfigError(f"unknown F0 method {method!r}; choose one of {', '.join(F0_METHODS)}")
    x = np.ascontiguousarray(np.asarray(audio, dtype=np.float64).reshape(-1))
    if x.size < ANALYSIS_RATE // 20:
        raise AudioError(f"F0 analysis needs at least 50 ms of audio, got {x.size} samples")
    if not np.isfinite(x).all():
        raise AudioError("F0 analysis: the audio holds NaN or Inf samples")
    period = 1000.0 * WINDOW / ANALYSIS_RATE
    kwargs = {"f0_floor": F0_MIN, "f0_ceil": F0_MAX, "frame_period": period}
    if method == "harvest":
        f0, t = pyworld.harvest(x, ANALYSIS_RATE, **kwargs)
    else:
        f0, t = pyworld.dio(x, ANALYSIS_RATE, **kwargs)
    f0 = pyworld.stonemask(x, f0, t, ANALYSIS_RATE)
    if method == "harvest":
        f0 = medfilt(f0, 3)
    if n_frames is not None:
        f0 = np.pad(f0[:n_frames], (0, max(0, n_frames - len(f0))))
    return np.asarray(f0, dtype=np.float64)
