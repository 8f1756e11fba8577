import importlib.util
import warnings

import numpy as np
import pytest

from voxlab.asv import embed, embed_mfcc, score_trials
from voxlab.asv import encoder as enc
from voxlab.data.scores import read_asv_scores
from voxlab.errors import CheckpointError, ConfigError, DataError

pytestmark = pytest.mark.usefixtures("one_torch_thread")

needs_resemblyzer = pytest.mark.skipif(
    importlib.util.find_spec("resemblyzer") is None,
    reason="resemblyzer is not installed (pip install 'voxlab[asv]')",
)


@pytest.fixture(scope="module")
def voices(espeak):
    from voxlab.generation.tts import EspeakVoice, synthesize

    texts = [
        "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
        "It's easy to tell the depth of a well. These days a chicken leg is a rare dish.",
        "Rice is often served in round bowls. The juice of lemons makes fine punch.",
    ]
    a = [synthesize(t, EspeakVoice("en-us", "m3", pitch=30)).audio for t in texts]
    b = [synthesize(t, EspeakVoice("de", "f4", pitch=75, speed=140)).audio for t in texts]
    return a, b


@needs_resemblyzer
def test_ge2e_matches_resemblyzer(voices):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from resemblyzer import VoiceEncoder
    wav = voices[0][0]
    reference = VoiceEncoder(device="cpu", verbose=False).embed_utterance(wav)
    ours = enc.embed_ge2e(wav, preprocess=False)
    np.testing.assert_allclose(ours, reference, atol=1e-5)  # same weights, same partials


@needs_resemblyzer
def test_ge2e_separates_speakers(voices):
    a, b = voices
    ea = [embed(w) for w in a]
    eb = [embed(w) for w in b]
    assert ea[0].shape == (256,) and np.linalg.norm(ea[0]) == pytest.approx(1.0, abs=1e-5)
    scores = score_trials({"A": ea[:2]}, [("A", ea[2]), ("A", eb[2])])
    assert scores[0] > scores[1] + 0.05


def test_mfcc_baseline_separates_speakers(voices):
    a, b = voices
    ea = [embed_mfcc(w) for w in a]
    eb = [embed_mfcc(w) for w in b]
    scores = score_trials({"A": ea[:2], "B": eb[:2]}, [("A", ea[2]), ("A", eb[2]), ("B", eb[2])])
    assert scores[0] > scores[1] and scores[2] > scores[1]


def test_missing_resemblyzer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(enc.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(CheckpointError, match=r"voxlab\[asv\]"):
        enc.resemblyzer_weights()


def test_unknown_encoder():
    with pytest.raises(ConfigError, match="ge2e"):
        embed(np.zeros(16_000, np.float32), encoder="xvector")


def test_partial_slices_follow_resemblyzer():
    # 1.6 s partials every 0.77 s (rate 1.3/s); a 3 s utterance gives 3 partials.
    slices = enc.partial_slices(48_000)
    assert slices[0] == (0, 160) and all(b - a == 160 for a, b in slices)
    assert [a for a, _ in slices] == [0, 77, 154]
    assert enc.partial_slices(1_000) == [(0, 160)]


def test_score_file_format_matches_the_official_one(fixtures_dir, tmp_path):
    asv = read_asv_scores(
        fixtures_dir / "asvspoof2019_la" / "ASVspoof2019.LA.asv.dev.gi.trl.scores.txt"
    )
    sources, keys, scores = asv.sources, asv.keys, asv.scores
    assert set(keys) == {"target", "nontarget", "spoof"}
    assert {"bonafide", "A01"} <= set(sources) and np.isfinite(scores).all()
    bad = tmp_path / "bad.txt"
    bad.write_text("bonafide target\n")
    with pytest.raises(DataError, match="field"):
        read_asv_scores(bad)
