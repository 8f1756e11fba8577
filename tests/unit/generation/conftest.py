"""Shared inputs of the generation tests: espeak-ng speech made once per session."""

from __future__ import annotations

import functools

import numpy as np
import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """BLAS threads thrash on a loaded 2-core machine; the tests run single-threaded."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield


@functools.lru_cache(maxsize=32)
def _speech(text: str, voice: str, variant: str | None, pitch: int, speed: int) -> np.ndarray:
    from voxlab.generation.tts import EspeakVoice, synthesize

    return synthesize(text, EspeakVoice(voice, variant, speed=speed, pitch=pitch)).audio


@pytest.fixture(scope="session")
def speech(espeak):
    """``speech(text, voice="en-us", variant=None, pitch=50, speed=160)`` -> 16 kHz float32."""

    def make(text="The birch canoe slid on the smooth planks.", voice="en-us", variant=None,
             pitch=50, speed=160):  # fmt: skip
        return _speech(text, voice, variant, pitch, speed).copy()

    return make
