"""Uncertainty of the demo's numbers: bootstrap EER intervals and Wilson intervals.

The demo's corpus is small (tens of bona fide trials), so every rate it reports comes with
its trial counts and a 95 % interval: a stratified bootstrap (bona fide and spoof trials
resampled separately, as the class sizes are fixed by design) for the EER, and the Wilson
score interval for error rates at a fixed threshold (a binomial proportion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from voxlab.evaluation.metrics import compute_eer


@dataclass(frozen=True)
class Interval:
    """A rate with its 95 % interval (fractions) and the trials behind it."""

    value: float
    low: float
    high: float
    n: int

    def percent(self, digits: int = 1) -> str:
        """``12.3 [8.1, 17.0]`` (percent)."""
        return (
            f"{100 * self.value:.{digits}f} "
            f"[{100 * self.low:.{digits}f}, {100 * self.high:.{digits}f}]"
        )


def wilson_interval(errors: int, n: int, *, z: float = 1.959964) -> Interval:
    """Wilson score interval of the proportion ``errors / n``.

    Args:
        errors: Trials counted (e.g. bona fide trials called spoof).
        n: Trials in all (> 0).
        z: Normal quantile of the interval (1.96: 95 %).

    Returns:
        The proportion and its interval.
    """
    if n <= 0:
        raise ValueError("a Wilson interval needs at least one trial")
    p = errors / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), n)


def bootstrap_eer(
    bonafide: np.ndarray,
    spoof: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> Interval:
    """EER with a stratified percentile-bootstrap interval.

    Args:
        bonafide: Bona fide scores. Shape: ``(n_bona,)``.
        spoof: Spoof scores. Shape: ``(n_spoof,)``.
        n_boot: Bootstrap resamples.
        seed: Seed of the resampling.
        level: Coverage of the interval.

    Returns:
        The EER of all trials and the interval of the resampled EERs; ``n`` counts both
        classes.
    """
    bona = np.asarray(bonafide, dtype=np.float64)
    spf = np.asarray(spoof, dtype=np.float64)
    eer = compute_eer(bona, spf).eer
    rng = np.random.default_rng(seed)
    values = np.empty(n_boot)
    for i in range(n_boot):
        b = bona[rng.integers(0, bona.size, bona.size)]
        s = spf[rng.integers(0, spf.size, spf.size)]
        values[i] = compute_eer(b, s).eer
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return Interval(float(eer), float(min(low, eer)), float(max(high, eer)), bona.size + spf.size)
