import numpy as np
import pytest

from voxlab.errors import ConfigError, VoxlabError
from voxlab.generation import world
from voxlab.generation.tts import (
    EspeakError,
    EspeakNotFoundError,
    EspeakVoice,
    list_variants,
    list_voices,
    synthesize,
)


def _mean_f0(x):
    f0 = world.extract_f0(x, 16_000)
    return float(np.exp(np.log(f0[f0 > 0]).mean()))


def test_synthesize_returns_16k_float32_with_provenance(espeak):
    out = synthesize("Hello there.", EspeakVoice("en-us", "f3", pitch=70, speed=150))
    assert out.sample_rate == 16_000 and out.audio.dtype == np.float32 and out.audio.ndim == 1
    assert 0.3 < out.duration < 3.0
    assert 0.01 < np.abs(out.audio).max() <= 1.0
    assert out.system == "espeak-ng"
    assert out.params["text"] == "Hello there." and out.params["variant"] == "f3"
    assert out.params["pitch"] == 70 and out.params["speed"] == 150


def test_deterministic_and_sample_rate_option(espeak):
    a = synthesize("Determinism matters.")
    b = synthesize("Determinism matters.")
    np.testing.assert_array_equal(a.audio, b.audio)
    c = synthesize("Determinism matters.", sample_rate=8000)
    assert c.sample_rate == 8000 and abs(len(c.audio) - len(a.audio) / 2) <= 2


def test_many_languages(espeak):
    voices = list_voices()
    assert {"en-us", "de", "fr-fr", "es"} <= set(voices) and len(voices) > 50
    for voice, text in (("de", "Guten Morgen."), ("fr-fr", "Bonjour à tous."), ("es", "Hola.")):
        out = synthesize(text, EspeakVoice(voice))
        assert out.duration > 0.3


def test_pitch_and_speed_change_the_voice(espeak):
    text = "The quick brown fox jumps over the lazy dog."
    low = synthesize(text, EspeakVoice("en-us", pitch=20)).audio
    high = synthesize(text, EspeakVoice("en-us", "f3", pitch=80)).audio
    assert _mean_f0(high) > 1.5 * _mean_f0(low)
    fast = synthesize(text, EspeakVoice("en-us", speed=260)).audio
    slow = synthesize(text, EspeakVoice("en-us", speed=120)).audio
    assert len(fast) < 0.7 * len(slow)


def test_variants_listed(espeak):
    variants = list_variants()
    assert {"f3", "m3", "klatt"} <= set(variants)


def test_bad_voice_variant_and_text(espeak):
    with pytest.raises(EspeakError, match="xx-yy"):
        synthesize("hello", EspeakVoice("xx-yy"))
    with pytest.raises(EspeakError, match="variant"):
        synthesize("hello", EspeakVoice("en", "nosuchvariant"))
    with pytest.raises(EspeakError, match="empty"):
        synthesize("   ")
    with pytest.raises(ConfigError):
        EspeakVoice("en; rm -rf /")
    with pytest.raises(ConfigError, match="pitch"):
        EspeakVoice("en", pitch=120)


def test_text_is_passed_safely(espeak):
    # Text starting with a dash must be spoken, not parsed as an option.
    out = synthesize("-v xx --help")
    assert out.duration > 0.2


def test_missing_espeak_raises_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EspeakNotFoundError, match="apt-get install") as info:
        synthesize("hello")
    assert isinstance(info.value, VoxlabError)
