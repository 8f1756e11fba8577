"""Training augmentation: recipe options, RawBoost + channel draws, the dataset hook, a run."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import welch

from voxlab.audio.effects import EFFECTS, apply_effect
from voxlab.data.dataset import WaveformDataset
from voxlab.data.manifest import read_manifest
from voxlab.errors import ConfigError
from voxlab.testing import chirp, make_toy_corpus
from voxlab.training.augment import (
    CONDITIONS,
    Augmenter,
    AugmentSection,
    ChannelSection,
    RawBoostSection,
    build_augmenter,
)
from voxlab.training.config import load_recipe, recipe_from_dict
from voxlab.training.rawboost import rawboost

pytestmark = pytest.mark.usefixtures("one_torch_thread")
SR = 16_000
RECIPES = Path(__file__).resolve().parents[3] / "recipes"
DEBUG = RECIPES / "debug" / "aasist_tiny_augmented.yaml"


def speech(seconds=1.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    wave = sum(0.2 / k * np.sin(2 * np.pi * 140 * k * t) for k in range(1, 8))
    return (wave + 0.005 * rng.standard_normal(t.size)).astype(np.float32)


# --------------------------------------------------------------------------- recipe options


def test_recipes_get_an_augment_section_off_by_default():
    recipe = recipe_from_dict({"name": "x"})
    assert recipe.augment == AugmentSection()
    assert not recipe.augment.enabled
    assert build_augmenter(recipe.augment, sample_rate=SR) is None
    assert recipe.to_dict()["augment"]["rawboost"]["algo"] == 0


def test_augment_section_from_yaml_and_overrides():
    recipe = load_recipe(DEBUG, overrides=["augment.rawboost.algo=3", "augment.channel.p=0.25"])
    assert recipe.augment.rawboost == RawBoostSection(algo=3, p=1.0)
    assert recipe.augment.channel.p == 0.25
    assert recipe.augment.channel.max_conditions == 2
    assert recipe_from_dict(recipe.to_dict()) == recipe  # round trip (run folders, resume)


@pytest.mark.parametrize(
    ("augment", "message"),
    [
        ({"rawboost": {"algo": 9}}, r"augment\.rawboost\.algo must be 0-8 .*5 LnL -> ISD"),
        ({"rawboost": {"algo": "5"}}, r"augment\.rawboost\.algo: expected an integer"),
        ({"rawboost": {"algorithm": 5}}, r"unknown key\(s\) \['algorithm'\]"),
        ({"rawboost": {"algo": 1, "p": 1.5}}, r"augment\.rawboost\.p is a probability"),
        ({"rawboost": {"algo": 1, "params": {"snr": 3}}}, r"unknown key\(s\) \['snr'\]"),
        ({"rawboost": {"algo": 3, "params": {"snr_min": 50}}}, r"snr_min <= snr_max"),
        ({"channel": {"p": 0.5, "conditions": {"fax": 1}}}, r"unknown condition\(s\) \['fax'\]"),
        ({"channel": {"p": 0.5, "conditions": {"mp3": -1}}}, r"weights must be numbers >= 0"),
        ({"channel": {"p": 0.5, "conditions": {"mp3": 0}}}, r"one of them > 0"),
        (
            {"channel": {"p": 0.5, "conditions": {"mp3": 1}, "max_conditions": 2}},
            r"max_conditions must be in \[1, 1\]",
        ),
    ],
)
def test_bad_augment_sections_are_refused_clearly(augment, message):
    with pytest.raises(ConfigError, match=message):
        recipe_from_dict({"name": "bad", "augment": augment})


def test_bad_augment_in_a_file_names_the_file(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: r\naugment:\n  rawboost:\n    algo: 12\n")
    with pytest.raises(ConfigError, match=r"r\.yaml: recipe 'r': augment\.rawboost\.algo"):
        load_recipe(path)


# --------------------------------------------------------------------------- the augmenter


def test_rawboost_alone_is_the_official_algorithm_on_the_items_stream():
    aug = Augmenter(AugmentSection(rawboost=RawBoostSection(algo=5)), sample_rate=SR)
    x = speech()
    got = aug(x, np.random.default_rng([7, 0, 3]))
    replay = np.random.default_rng([7, 0, 3])
    replay.random(), replay.random()
    legacy = np.random.RandomState(int(replay.integers(2**32)))
    np.testing.assert_array_equal(got, rawboost(x, 5, rng=legacy).astype(np.float32))
    assert got.dtype == np.float32 and got.shape == x.shape


def test_augmentation_is_deterministic_per_item_and_varies_across_items():
    section = AugmentSection(
        rawboost=RawBoostSection(algo=3), channel=ChannelSection(p=1.0, max_conditions=2)
    )
    aug = Augmenter(section, sample_rate=SR)
    x = speech()
    outs = [aug(x, np.random.default_rng([1, 0, i])) for i in range(4)]
    again = aug(x, np.random.default_rng([1, 0, 2]))
    np.testing.assert_array_equal(outs[2], again)
    for out in outs:
        assert out.dtype == np.float32 and out.shape == x.shape and np.isfinite(out).all()
    assert len({o.tobytes() for o in outs}) == 4


def test_probabilities_are_respected():
    section = AugmentSection(rawboost=RawBoostSection(algo=2, p=0.3), channel=ChannelSection(p=0.0))
    aug = Augmenter(section, sample_rate=SR)
    x = speech(0.25)
    boosted = sum(
        not np.array_equal(aug(x, np.random.default_rng([0, 0, i])), x) for i in range(300)
    )
    assert 60 <= boosted <= 120  # binomial(300, 0.3): mean 90, sd 8


def test_channel_conditions_follow_their_weights():
    weights = {"mp3": 3, "noise": 1, "gain": 0, "reverb": 1}
    aug = Augmenter(
        AugmentSection(channel=ChannelSection(p=1.0, conditions=weights)),
        sample_rate=SR,
        check_codecs=False,
    )
    counts = Counter()
    for i in range(2000):
        (name, _params), *_ = aug.draw_channel(np.random.default_rng(i))
        counts[name] += 1
        assert name in EFFECTS
    assert counts["gain"] == 0
    assert counts["mp3"] / 2000 == pytest.approx(0.6, abs=0.05)
    assert counts["reverb"] / 2000 == pytest.approx(0.2, abs=0.04)
    assert counts["white_noise"] + counts["pink_noise"] == pytest.approx(400, abs=80)


def test_chained_conditions_are_distinct():
    aug = Augmenter(
        AugmentSection(channel=ChannelSection(p=1.0, max_conditions=3)),
        sample_rate=SR,
        check_codecs=False,
    )
    lengths = Counter()
    for i in range(300):
        steps = aug.draw_channel(np.random.default_rng(i))
        lengths[len(steps)] += 1
        assert len({name for name, _ in steps}) == len(steps)
    assert set(lengths) == {1, 2, 3}


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_every_condition_runs_and_keeps_the_length(name):
    aug = Augmenter(
        AugmentSection(channel=ChannelSection(p=1.0, conditions={name: 1})), sample_rate=SR
    )
    x = speech(0.6)
    y = aug(x, np.random.default_rng(5))
    assert y.shape == x.shape and y.dtype == np.float32 and np.isfinite(y).all()
    assert not np.array_equal(x, y)


# --------------------------------------------------------------------------- the new effects


def test_telephone_band_limits_to_the_narrow_band():
    x = chirp(50, 7900, seconds=2.0)
    y = apply_effect("telephone", x, SR)
    assert y.shape == x.shape
    freqs, pxx = welch(x, fs=SR, nperseg=1024)
    _, pyy = welch(y, fs=SR, nperseg=1024)
    gain_db = 10 * np.log10(pyy / pxx)
    inside = (freqs > 600) & (freqs < 3000)
    assert np.abs(np.median(gain_db[inside])) < 1.0
    assert np.all(gain_db[freqs > 4200] < -40)
    assert np.all(gain_db[(freqs > 60) & (freqs < 150)] < -15)


def test_telephone_mulaw_quantises_to_256_levels():
    x = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(8000) / 8000).astype(np.float32)
    y = apply_effect("telephone", x, 8000, low=1.0, high=3999.0)
    assert len(np.unique(np.round(y, 7))) <= 256
    plain = apply_effect("telephone", x, 8000, low=1.0, high=3999.0, mulaw=False)
    assert len(np.unique(np.round(plain, 7))) > 256


def test_reverb_decays_at_the_requested_rt60_and_keeps_rms():
    impulse = np.zeros(SR * 2, np.float32)
    impulse[100] = 1.0
    for rt60 in (0.3, 0.8):
        y = apply_effect("reverb", impulse, SR, rt60=rt60, drr_db=-10.0, seed=1)
        tail = y[101:].astype(np.float64) ** 2
        edc = 10 * np.log10(np.cumsum(tail[::-1])[::-1] / tail.sum())  # Schroeder decay
        t5, t25 = np.argmax(edc < -5), np.argmax(edc < -25)
        measured = 3 * (t25 - t5) / SR  # T20 extrapolated to 60 dB
        assert measured == pytest.approx(rt60, rel=0.2)
    x = speech()
    y = apply_effect("reverb", x, SR, rt60=0.5, seed=2)
    assert np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(x**2)), rel=1e-4)
    with pytest.raises(ConfigError, match="rt60"):
        apply_effect("reverb", x, SR, rt60=10.0)


# --------------------------------------------------------------------------- data and training


def test_the_dataset_augments_the_whole_clip_before_the_crop(tmp_path):
    manifest = make_toy_corpus(tmp_path, per_split={"train": 2}, seconds=1.5)
    utts = read_manifest(manifest)
    seen = []

    def spy(wave, rng):
        seen.append(len(wave))
        return wave

    data = WaveformDataset(utts, num_samples=8000, crop="random", augment=spy)
    wave, _, _ = data[0]
    assert seen == [24_000] and wave.shape == (8000,)


def test_debug_recipe_with_both_augmentations_trains_a_step(tmp_path):
    from voxlab.training.trainer import Trainer

    manifest = make_toy_corpus(
        tmp_path / "toy", per_split={"train": 8, "dev": 4, "eval": 4}, seconds=1.0
    )
    recipe = load_recipe(DEBUG)
    assert recipe.augment.rawboost.algo == 5 and recipe.augment.channel.p > 0
    result = Trainer(recipe, tmp_path / "run", data_root=str(manifest), progress=False).fit()
    assert result.epochs_done == 1
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert np.isfinite(rows[0]["train_loss"]) and rows[0]["train_loss"] > 0
    saved = (tmp_path / "run" / "config.yaml").read_text()
    assert "rawboost" in saved and "algo: 5" in saved


def test_gmm_features_are_taken_on_augmented_utterances(tmp_path):
    from voxlab.models.registry import build_model
    from voxlab.training.gmm import collect_features

    utts = read_manifest(make_toy_corpus(tmp_path, per_split={"train": 4}, seconds=0.5))
    seen = []

    def spy(wave, rng):
        seen.append(rng.random())
        return 0.5 * wave

    model = build_model("lfcc-gmm")
    bona, spoof = collect_features(model, utts, sample_rate=SR, progress=False, augment=spy, seed=3)
    assert len(bona) + len(spoof) == 4
    assert seen == [np.random.default_rng([3, 0, i]).random() for i in range(4)]


# --------------------------------------------------------------------------- recipes/wild

WILD = sorted((RECIPES / "wild").glob("*.yaml"))


def test_the_wild_recipes_cover_the_five_models():
    names = {load_recipe(path).model.name for path in WILD}
    assert names == {"aasist", "aasist-l", "rawnet2", "lfcc-lcnn", "lfcc-gmm"}


@pytest.mark.parametrize("path", WILD, ids=lambda p: p.stem)
def test_wild_recipes_validate_and_use_both_augmentations(path):
    from voxlab import pretrained

    recipe = load_recipe(path)
    assert recipe.data.corpus == "manifest" and recipe.train.device == "cpu"
    assert recipe.augment.rawboost.algo in (3, 5) and recipe.augment.channel.p > 0
    assert Augmenter(recipe.augment, sample_rate=SR) is not None  # codecs checked here
    if recipe.model.name.startswith("aasist"):
        assert recipe.model.init_from in pretrained.names()  # fine-tuned from published weights


@pytest.mark.slow
def test_wild_aasist_l_fine_tunes_from_the_published_weights(tmp_path, fixtures_dir, monkeypatch):
    from voxlab.training.trainer import Trainer

    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    manifest = make_toy_corpus(
        tmp_path / "toy", per_split={"train": 4, "dev": 4, "eval": 4}, seconds=1.0
    )
    fast = [
        "optim.epochs=1",
        "optim.batch_size=2",
        "train.max_steps_per_epoch=1",
        "train.num_workers=0",
        "train.swa=false",
        "data.num_samples=16000",
    ]
    recipe = load_recipe(RECIPES / "wild" / "aasist-l.yaml", overrides=fast)
    result = Trainer(recipe, tmp_path / "run", data_root=str(manifest), progress=False).fit()
    assert result.epochs_done == 1 and result.eval_eer is not None


def test_the_augmenter_pickles_for_dataloader_workers():
    import pickle

    section = AugmentSection(
        rawboost=RawBoostSection(algo=4), channel=ChannelSection(p=1.0, conditions={"reverb": 1})
    )
    aug = Augmenter(section, sample_rate=SR)
    clone = pickle.loads(pickle.dumps(aug))
    x = speech(0.5)
    np.testing.assert_array_equal(
        aug(x, np.random.default_rng([1, 2, 3])), clone(x, np.random.default_rng([1, 2, 3]))
    )
