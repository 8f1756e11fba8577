"""Piper through voxlab: the packaged voice, user voices by path, seeded noise."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from voxlab.generation.neural.engines import EngineError, UnknownVoiceError
from voxlab.generation.neural.engines.piper import BUNDLED_VOICE, load_piper_voice

from .conftest import assert_speech

TEXT = "The birch canoe slid on the planks."


def test_piper_speaks_deterministically_with_a_seed(piper_engine):
    a = piper_engine.synthesize(TEXT, seed=1)
    assert a.system == f"piper:{BUNDLED_VOICE}"
    assert_speech(a, rate=22_050, min_s=1.2, max_s=5.0)
    b = piper_engine.synthesize(TEXT, seed=1)
    np.testing.assert_array_equal(a.audio, b.audio)
    c = piper_engine.synthesize(TEXT, seed=2)  # other noise: other durations or samples
    assert len(c.audio) != len(a.audio) or not np.allclose(c.audio, a.audio, atol=1e-3)
    assert a.params["noise_scale"] == pytest.approx(0.667) and a.params["seed"] == 1


def test_piper_speed_and_sample_rate(piper_engine):
    slow = piper_engine.synthesize(TEXT, seed=0)
    fast = piper_engine.synthesize(TEXT, seed=0, speed=1.6, sample_rate=16_000)
    assert fast.sample_rate == 16_000 and fast.params["length_scale"] == pytest.approx(1 / 1.6)
    assert fast.duration < 0.8 * slow.duration


def test_seeded_graph_equals_the_piper_runtime_without_noise(piper_engine):
    """With both noise scales at 0 the rewrite must not change a single computation."""
    from piper.config import SynthesisConfig
    from piper.voice import PiperVoice

    path = piper_engine.model_path(piper_engine.voice())
    syn = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    ours = load_piper_voice(path)
    ours.session.seed = 5
    mine = np.concatenate([c.audio_float_array for c in ours.synthesize("Hello there.", syn)])
    plain = PiperVoice.load(path)
    theirs = np.concatenate([c.audio_float_array for c in plain.synthesize("Hello there.", syn)])
    assert mine.shape == theirs.shape
    np.testing.assert_allclose(mine, theirs, atol=1e-5)  # same graph; tolerance for threads


def test_user_voice_by_path_and_folder(piper_engine, tmp_path, monkeypatch):
    src = piper_engine.model_path(piper_engine.voice())
    folder = tmp_path / "voices"
    folder.mkdir()
    model = folder / "en_US-mine-medium.onnx"
    model.symlink_to(src)
    shutil.copy(src.with_name(src.name + ".json"), folder / "en_US-mine-medium.onnx.json")
    out = piper_engine.synthesize("Hello.", voice=str(model), seed=0)
    assert out.system == "piper:en_US-mine-medium" and out.sample_rate == 22_050
    monkeypatch.setenv("VOXLAB_PIPER_VOICES", str(folder))
    ids = [v.id for v in piper_engine.voices()]
    assert ids[0] == BUNDLED_VOICE and "en_US-mine-medium" in ids


def test_piper_bad_voices(piper_engine, tmp_path):
    with pytest.raises(UnknownVoiceError, match="no voice 'en_US-nobody'"):
        piper_engine.synthesize("Hello.", voice="en_US-nobody")
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(b"not a model")
    with pytest.raises(EngineError, match=r"lonely\.onnx\.json"):
        piper_engine.synthesize("Hello.", voice=str(lonely))
    config = {
        "audio": {"sample_rate": 22050},
        "phoneme_id_map": {},
        "espeak": {"voice": "en-us"},
        "num_symbols": 1,
        "num_speakers": 1,
    }
    (tmp_path / "lonely.onnx.json").write_text(json.dumps(config))
    with pytest.raises(EngineError, match=r"lonely\.onnx could not be loaded"):
        piper_engine.synthesize("Hello.", voice=str(lonely))
    with pytest.raises(EngineError, match="does not exist"):
        piper_engine.synthesize("Hello.", voice=str(tmp_path / "absent.onnx"))
