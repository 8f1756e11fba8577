"""Speech checks (silence, tone, clipping, duplicates) and silence trimming."""

from pathlib import Path

import numpy as np
import pytest

from voxlab.data.sources.checks import (
    active_frames,
    check_speech,
    content_hash,
    tone_measures,
    trim_silence,
)
from voxlab.testing import noise, speak, tone

SR = 16_000
BEEP = Path("/usr/share/asterisk/sounds/it_IT_m_Carlo/beep.wav")
TWO_TONE = Path("/usr/share/asterisk/sounds/it_IT_m_Carlo/ascending-2tone.wav")
PROMPT = Path("/usr/share/asterisk/sounds/it_IT_m_Carlo/agent-pass.wav")


@pytest.fixture(scope="module")
def speech(espeak):
    return speak("Please leave your message after the tone, thank you.", sr=SR)


def test_speech_is_kept(speech):
    check = check_speech(speech, SR)
    assert check.ok and check.reason == ""
    assert check.active_s > 1.0
    assert check.pitch_drift > 3.0


def test_silence_and_near_silence_are_skipped():
    assert check_speech(np.zeros(SR, np.float32), SR).reason == "silence"
    assert check_speech(noise(seconds=1.0, scale=1e-4), SR).reason == "silence"  # -80 dBFS


def test_pure_and_two_tone_beeps_are_skipped():
    assert check_speech(tone(1000.0, seconds=0.5), SR).reason == "tone"
    two = np.concatenate([tone(440.0, seconds=0.4), tone(880.0, seconds=0.4)])
    assert check_speech(two, SR).reason == "tone"
    stability, drift = tone_measures(tone(700.0, seconds=0.5), SR)
    assert stability > 0.95 and drift < 1.0


def test_noise_is_not_a_tone():
    assert check_speech(noise(seconds=1.0, scale=0.1), SR).reason != "tone"


def test_clipped_speech_is_skipped(speech):
    loud = np.clip(speech * 20.0, -1.0, 1.0)
    check = check_speech(loud, SR)
    assert check.reason == "clipped" and check.clipped_fraction > 0.01


def test_too_short_activity(speech):
    blip = np.zeros(SR, np.float32)
    blip[8000:8800] = speech[8000:8800]  # 50 ms of sound in a second of silence
    assert check_speech(blip, SR).reason == "too_short"


@pytest.mark.skipif(not BEEP.is_file(), reason="asterisk-core-sounds-it-wav not installed")
def test_real_beeps_and_a_real_prompt():
    from voxlab.audio import load

    for path in (BEEP, TWO_TONE):
        samples, meta = load(path, sr=None)
        assert check_speech(samples, meta.sample_rate).reason == "tone", path
    samples, meta = load(PROMPT, sr=None)
    assert check_speech(samples, meta.sample_rate).ok


def test_trim_silence_cuts_edges_and_long_pauses(speech):
    quiet = np.zeros(2 * SR, np.float32)
    padded = np.concatenate([quiet, speech, quiet, speech, quiet])
    trimmed = trim_silence(padded, SR, margin_s=0.1, max_pause_s=0.5)
    # each edge keeps <= 0.1 s + a frame; the 2 s pause becomes 0.5 s
    assert trimmed.size < 2 * speech.size + int(0.8 * SR)
    assert trimmed.size > 2 * speech.size - int(0.5 * SR)
    mask = active_frames(trimmed, SR)
    first = np.flatnonzero(mask)[0] * 0.01
    assert first <= 0.11
    # nothing active: unchanged
    assert trim_silence(quiet, SR).size == quiet.size


def test_content_hash_follows_the_decoded_samples(tmp_path, speech):
    from voxlab.audio import load, save

    save(tmp_path / "a" / "x.flac", speech, SR)
    save(tmp_path / "b" / "y.flac", speech, SR, metadata={"title": "another tag"})
    a, _ = load(tmp_path / "a" / "x.flac", sr=None)
    b, _ = load(tmp_path / "b" / "y.flac", sr=None)
    assert content_hash(a) == content_hash(b)  # same sound, other name and tags
    assert content_hash(a) != content_hash(a * 0.5)
    assert content_hash(a) != content_hash(a[1:])
