"""Festival through voxlab: HTS statistical and diphone voices, speed, safe text handling."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.generation.neural.engines import UnknownVoiceError
from voxlab.generation.neural.engines.festival import method

from .conftest import assert_speech

TEXT = "The birch canoe slid on the planks."


def test_festival_lists_hts_and_diphone_voices(festival_engine):
    voices = {v.id: v for v in festival_engine.voices()}
    assert {"cmu_us_slt_arctic_hts", "kal_diphone", "ked_diphone"} <= set(voices)
    assert voices["cmu_us_slt_arctic_hts"].gender == "female"
    assert voices["kal_diphone"].language == "en-us" and voices["kal_diphone"].gender == "male"
    assert method("cmu_us_slt_arctic_hts") == "hts" and method("kal_diphone") == "diphone"
    assert festival_engine.default_voice == "cmu_us_slt_arctic_hts"


def test_festival_hts_voice_speaks_deterministically(festival_engine):
    out = festival_engine.synthesize(TEXT)
    assert out.system == "festival:cmu_us_slt_arctic_hts" and out.params["method"] == "hts"
    assert_speech(out, rate=32_000, min_s=1.2, max_s=5.0)
    again = festival_engine.synthesize(TEXT)
    np.testing.assert_array_equal(out.audio, again.audio)
    fast = festival_engine.synthesize(TEXT, speed=1.5)
    assert fast.duration == pytest.approx(out.duration / 1.5, rel=0.1)


def test_festival_diphone_voices(festival_engine):
    kal = festival_engine.synthesize(TEXT, voice="kal_diphone", sample_rate=16_000)
    assert_speech(kal, rate=16_000, min_s=1.2, max_s=5.0)
    slow = festival_engine.synthesize(TEXT, voice="ked_diphone", speed=0.7)
    ked = festival_engine.synthesize(TEXT, voice="ked_diphone")
    assert slow.duration > 1.25 * ked.duration


def test_festival_text_never_reaches_a_shell(festival_engine, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = 'Hi $(touch pwned) `touch pwned2`; (voice_kal_diphone) "quoted" \\ end.'
    out = festival_engine.synthesize(text, voice="kal_diphone")
    assert out.duration > 0.5
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()


def test_festival_unknown_voice(festival_engine):
    with pytest.raises(UnknownVoiceError, match="no voice 'nobody_diphone'"):
        festival_engine.synthesize("Hello.", voice="nobody_diphone")
    with pytest.raises(UnknownVoiceError):
        festival_engine.synthesize("Hello.", voice="kal_diphone) (system 'ls')")
