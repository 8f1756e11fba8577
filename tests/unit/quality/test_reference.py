"""MCD, F0 RMSE and V/UV error against a reference; GE2E speaker similarity."""

import numpy as np
import pytest

from voxlab.quality.reference import compare_to_reference, f0_errors, speaker_similarity


def test_against_itself_is_zero(speech):
    scores = compare_to_reference(speech["male"], speech["male"])
    assert scores.mcd_db == 0.0
    assert scores.f0_rmse_cents == 0.0 and scores.vuv_error == 0.0
    assert scores.voiced_frames > 100


def test_mcd_grows_with_distortion(speech):
    clean = speech["male"]
    rng = np.random.default_rng(3)
    noise = rng.standard_normal(clean.size).astype(np.float32)
    mcds = [compare_to_reference(clean + s * noise, clean).mcd_db for s in (0.002, 0.01, 0.05)]
    assert 0.0 < mcds[0] < mcds[1] < mcds[2]


def test_f0_rmse_of_pitch_shifted_copy(speech):
    from voxlab.generation import world

    clean = speech["male"].astype(np.float64)
    feats = world.analyze(clean, 16_000)
    up = world.synthesize(feats.replace(f0=feats.f0 * 2 ** (200 / 1200)))  # +200 cents
    same = world.synthesize(feats)
    shifted = compare_to_reference(up, same)
    resynth = compare_to_reference(same, same)
    assert shifted.f0_rmse_cents == pytest.approx(200.0, abs=40.0)
    assert resynth.f0_rmse_cents == 0.0
    assert shifted.vuv_error < 0.1


def test_f0_errors_hand_checked():
    f0 = np.array([0.0, 220.0, 440.0, 100.0])
    ref = np.array([0.0, 110.0, 440.0, 0.0])
    cents, hz, vuv = f0_errors(f0, ref)
    # voiced in both: frames 1 (+1200 cents, +110 Hz) and 2 (0); frame 3 differs in voicing
    assert cents == pytest.approx(np.sqrt((1200.0**2) / 2))
    assert hz == pytest.approx(np.sqrt(110.0**2 / 2))
    assert vuv == pytest.approx(0.25)
    assert f0_errors(np.zeros(3), np.zeros(3))[:2] == (None, None)


@pytest.mark.usefixtures("needs_ge2e", "one_torch_thread")
def test_speaker_similarity_same_voice_higher(speech):
    same = speaker_similarity(speech["male"], speech["male_other"])
    different = speaker_similarity(speech["male"], speech["female"])
    assert same > different + 0.1
    assert speaker_similarity(speech["male"], speech["male"]) == pytest.approx(1.0, abs=1e-5)


def test_too_long_for_dtw_is_a_clear_error():
    from voxlab.errors import MetricError

    long = np.zeros(16_000 * 70, dtype=np.float32)
    with pytest.raises(MetricError, match="cut both into sentences"):
        compare_to_reference(long, long)
