"""Sample-rate conversion with soxr (the one resampler voxlab uses)."""

from __future__ import annotations

import numpy as np

from voxlab.errors import SampleRateError


def resample(
    samples: np.ndarray, *, orig_sr: int, target_sr: int, quality: str = "HQ"
) -> np.ndarray:
    """Resample along the last axis with soxr.

    Args:
        samples: float32 audio. Shape: ``(time,)`` or ``(channels, time)``.
        orig_sr: Rate of ``samples`` in Hz.
        target_sr: Wanted rate in Hz.
        quality: soxr quality: ``"QQ"``, ``"LQ"``, ``"MQ"``, ``"HQ"`` or ``"VHQ"``.

    Returns:
        float32 samples at ``target_sr``. Shape: like ``samples`` with a new time length.

    Raises:
        SampleRateError: A rate is not a positive integer.
    """
    import soxr

    if orig_sr <= 0 or target_sr <= 0:
        raise SampleRateError(f"sample rates must be positive, got {orig_sr} -> {target_sr}")
    if orig_sr == target_sr:
        return np.asarray(samples, dtype=np.float32)
    data = np.asarray(samples, dtype=np.float32)
    if data.ndim == 1:
        return soxr.resample(data, orig_sr, target_sr, quality=quality).astype(np.float32)
    # soxr wants (time, channels)
    out = soxr.resample(np.ascontiguousarray(data.T), orig_sr, target_sr, quality=quality)
    return np.ascontiguousarray(out.T, dtype=np.float32)
