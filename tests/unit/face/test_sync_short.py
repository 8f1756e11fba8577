"""Synchrony on short clips: a lag window that fits the clip and "too short" below 2 s."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.face.sync import MIN_JUDGE_S, synchrony

FPS = 25


def _speechy(n: int, rng: np.random.Generator) -> np.ndarray:
    """A syllable-rate (~4 Hz) envelope: smoothed noise."""
    return np.convolve(rng.normal(size=n + 8), np.ones(5) / 5, mode="valid")[:n]


def _pair(seconds: float, shift_s: float, rng: np.random.Generator):
    """Mouth opening and an envelope of the same clip, the audio late by ``shift_s``."""
    n = int(seconds * FPS)
    pad = int(round(abs(shift_s) * FPS)) + 2
    env = _speechy(n + 2 * pad, rng)
    lag = int(round(shift_s * FPS))
    mouth = env[pad : pad + n] + 0.6 * rng.normal(size=n)
    return mouth, env[pad - lag : pad - lag + n]


def test_a_one_second_clip_is_too_short_to_judge():
    mouth, env = _pair(1.0, 0.0, np.random.default_rng(0))
    res = synchrony(mouth, env, FPS)
    assert res.flagged is None and res.verdict == "too short"
    assert res.to_dict()["verdict"] == "too short"
    # the lags searched keep half of the clip overlapping: +-12 frames, not +-25
    assert np.abs(res.lags_s).max() <= 0.5 + 1e-9


def test_two_second_clips_separate_aligned_from_shifted():
    rng = np.random.default_rng(1)
    aligned = [synchrony(*_pair(MIN_JUDGE_S, 0.0, rng), FPS) for _ in range(20)]
    late = [synchrony(*_pair(MIN_JUDGE_S, 0.4, rng), FPS) for _ in range(20)]
    early = [synchrony(*_pair(MIN_JUDGE_S, -0.4, rng), FPS) for _ in range(20)]
    assert all(r.flagged is not None for r in aligned + late + early)
    assert np.mean([r.flagged for r in aligned]) <= 0.1
    assert np.mean([r.flagged for r in late + early]) >= 0.9
    assert np.median([r.lag_s for r in late]) == pytest.approx(0.4)
    assert np.median([r.lag_s for r in early]) == pytest.approx(-0.4)
    # the score ranks shifted above aligned
    assert np.median([r.score for r in late + early]) > np.max(
        [np.median([r.score for r in aligned]), 0.5]
    )


def test_min_seconds_can_be_lowered():
    mouth, env = _pair(1.0, 0.0, np.random.default_rng(2))
    res = synchrony(mouth, env, FPS, min_seconds=1.0)
    assert res.flagged is not None and res.verdict in ("in sync", "out of sync")
