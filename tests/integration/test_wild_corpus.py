"""voxlab-wild: the shared finishing chain, the shortcut report and a tiny real build."""

import json

import numpy as np
import pytest

from voxlab.generation._wild_channel import (
    CHANNELS,
    active_rms_db,
    apply_channel,
    draw_finish,
    finish,
    native_band,
)
from voxlab.generation.wild_report import (
    FEATURES,
    histogram_llr,
    shortcut_features,
    shortcut_report,
    threshold_eer,
)
from voxlab.testing import speak

SR = 16_000


@pytest.fixture(scope="module")
def speech(espeak):
    return speak("Your call is important to us, please hold the line.", sr=SR)


def _band_energy(x, lo):
    spec = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / SR)
    return spec[freqs > lo].sum() / spec.sum()


@pytest.mark.slow
def test_worker_module_registers_the_wild_tts_systems():
    # corpus workers are spawned processes that import only the task module
    import subprocess
    import sys

    code = (
        "import voxlab.generation._wild_tasks\n"
        "from voxlab.generation.attacks import get_attack\n"
        "print(get_attack('W01').name, get_attack('W04').name)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["festival-ru-nsh", "kokoro-im_nicola"]


def test_finish_settings_depend_on_the_seed_only():
    assert draw_finish(7) == draw_finish(7)
    drawn = {draw_finish(s)["channel"] for s in range(200)}
    assert drawn == set(CHANNELS)
    levels = [draw_finish(s)["loudness_db"] for s in range(200)]
    assert -32 <= min(levels) and max(levels) <= -18
    pads = [draw_finish(s)["lead_s"] for s in range(200)]
    assert 0.05 <= min(pads) and max(pads) <= 0.5


def test_finish_chain(speech):
    padded = np.concatenate([np.zeros(SR, np.float32), speech, np.zeros(SR, np.float32)])
    spec = {"loudness_db": -24.0, "lead_s": 0.3, "trail_s": 0.1, "channel": "clean",
            "channel_seed": 1}  # fmt: skip
    out = finish(padded, native_sr=SR, spec=spec)
    assert abs(active_rms_db(out) + 24.0) < 0.5
    feats = shortcut_features(out)
    # the silence around the speech is the drawn padding (to a 10 ms frame), nothing else
    assert abs(feats["leading_silence"] - 0.3) <= 0.03
    assert abs(feats["trailing_silence"] - 0.1) <= 0.03
    assert feats["duration"] < padded.size / SR - 1.5  # the long silences are gone
    # an 8 kHz source band-limits whatever passes through it, spoof or not
    assert _band_energy(speech, 4200) > 1e-3
    assert _band_energy(native_band(speech, 8_000), 4200) < 1e-5


@pytest.mark.parametrize("name", sorted(CHANNELS))
def test_every_channel_keeps_the_length(speech, name):
    out = apply_channel(speech, name, seed=3)
    assert out.shape == speech.shape and np.isfinite(out).all()
    if name != "clean":
        assert not np.allclose(out, speech)


def test_shortcut_report_catches_a_shortcut_and_passes_noise():
    rng = np.random.default_rng(0)
    rows = []
    for split in ("train", "dev", "eval"):
        for i in range(300):
            key = "spoof" if i % 3 else "bonafide"
            row = {f: float(rng.normal()) for f in FEATURES}
            row["duration"] += 3.0 if key == "spoof" else 0.0  # a duration shortcut
            rows.append({"split": split, "key": key, **row})
    report = shortcut_report(rows)
    for split in ("train", "dev", "eval"):
        assert report["splits"][split]["duration"]["threshold"] < 0.1
        assert report["splits"][split]["duration"]["trained"] < 0.2  # 10 coarse bins
        assert report["splits"][split]["loudness"]["threshold"] > 0.4
    assert not report["ok"]


def test_histogram_llr_sees_non_monotonic_shortcuts():
    rng = np.random.default_rng(1)
    bona = rng.normal(0, 0.3, 500)
    spoof = np.concatenate([rng.normal(-2, 0.3, 250), rng.normal(2, 0.3, 250)])
    values = np.concatenate([bona, spoof])
    is_spoof = np.r_[np.zeros(500, bool), np.ones(500, bool)]
    score = histogram_llr(values, is_spoof)(values)
    from voxlab.evaluation.metrics import compute_eer

    assert compute_eer(score[:500], score[500:]).eer < 0.15
    assert threshold_eer(values, is_spoof) > 0.4  # a threshold alone cannot see it


def test_language_cap_is_round_robin_over_speakers():
    from voxlab.generation.wild import _cap_languages

    chosen = {"a": [1, 2, 3, 4], "b": [5], "c": [6, 7, 8]}
    prepared = {"s1": {"language": "cs"}, "s2": {"language": "ru"}}
    source = {"a": "s1", "b": "s1", "c": "s2"}
    _cap_languages(chosen, 3, prepared, source)
    assert chosen == {"a": [1, 2], "b": [5], "c": [6, 7, 8]}


SOURCES_NEEDED = ("festvox-ru", "asterisk-it", "asterisk-ru", "pocketsphinx", "gcin-voice")


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, espeak):
    from voxlab.data.sources import get_source
    from voxlab.generation.wild import WildConfig, make_wild

    missing = [n for n in SOURCES_NEEDED if not get_source(n).available()]
    if missing:
        pytest.skip(f"speech source packages missing ({', '.join(missing)}): run `make data`")
    root = tmp_path_factory.mktemp("wild")
    config = WildConfig(
        sources=SOURCES_NEEDED,
        heldout_sources=("gcin-voice",),
        attacks=("V01", "V07", "V08"),
        eval_attacks=("V01", "V05", "V06", "V08"),
        per_speaker=1,
        prepare_per_speaker=6,
        n_parallel=3,
        sources_dir=str(root / "sources"),
    )
    result = make_wild(config, root / "corpus", workers=1, progress=False)
    return config, result


@pytest.mark.slow
def test_tiny_build_layout_splits_and_provenance(tiny_corpus):
    from voxlab.audio.io import info
    from voxlab.data.manifest import read_manifest

    _config, result = tiny_corpus
    out = result.out
    assert not result.failed, result.failed
    protocols = {}
    for split, name in (("train", "train.trn"), ("dev", "dev.trl"), ("eval", "eval.trl")):
        path = out / "ASVspoof2019_LA_cm_protocols" / f"ASVspoof2019.LA.cm.{name}.txt"
        protocols[split] = [line.split() for line in path.read_text().splitlines()]
        assert protocols[split] and all(len(row) == 5 and row[2] == "-" for row in protocols[split])
    bona_speakers = {
        split: {row[0] for row in rows if row[4] == "bonafide"} for split, rows in protocols.items()
    }
    assert not bona_speakers["train"] & bona_speakers["eval"]
    assert not bona_speakers["train"] & bona_speakers["dev"]
    assert {"gcin-voice-3", "gcin-voice-5"} <= bona_speakers["eval"]  # held-out source
    # V07: espeak-ng TTS converted to the festvox-ru speaker (parallel data from TTS)
    assert any(row[3] == "V07" and row[0] == "festvox-ru-nsh" for rows in protocols.values()
               for row in rows)  # fmt: skip
    eval_attacks = {row[3] for row in protocols["eval"]}
    assert "V05" in eval_attacks and "V05" not in {row[3] for row in protocols["train"]}
    manifest = read_manifest(out / "manifest.jsonl")
    assert len(manifest) == sum(len(rows) for rows in protocols.values())
    for utt in manifest:
        meta = info(utt.path)
        assert meta.sample_rate == SR and meta.channels == 1
        assert utt.extra["channel"] in CHANNELS
        assert utt.extra["source_licence"] and utt.extra["source_package"]
        assert set(utt.extra["shortcut_features"]) == set(FEATURES)
    wild = out / "voxlab_wild_protocols"
    assert (wild / "leave_one_system_out" / "V01" / "eval.txt").is_file()
    lso = (wild / "leave_one_source_out" / "festvox-ru" / "eval.txt").read_text().split("\n")
    assert all("festvox-ru" in line for line in lso if " bonafide" in line)
    shortcuts = json.loads((out / "shortcuts.json").read_text())
    assert set(shortcuts["splits"]) == {"train", "dev", "eval"}
    readme = (out / "README.md").read_text()
    for word in ("BSD-like", "CC-BY-3.0", "Shortcut classifiers", "eval only (unseen)"):
        assert word in readme


@pytest.mark.slow
def test_tiny_build_resumes_bit_exactly(tiny_corpus):
    from voxlab.generation.wild import make_wild

    config, result = tiny_corpus
    flac = sorted((result.out / "ASVspoof2019_LA_eval" / "flac").glob("*.flac"))
    before = {p.name: p.read_bytes() for p in flac[:3]}
    for p in flac[:3]:
        p.unlink()
    again = make_wild(config, result.out, workers=1, progress=False)
    assert again.made == 3 and not again.failed
    assert again.kept == result.made + result.kept - 3
    for p in flac[:3]:
        assert p.read_bytes() == before[p.name]


@pytest.mark.slow
def test_cli_wild_resumes_the_corpus_and_prints_the_shortcuts(tiny_corpus, capsys):
    from voxlab.cli.main import main

    config, result = tiny_corpus
    args = [
        "corpus", "make", "--wild", "--out", str(result.out), "--per-speaker", "1",
        "--sources", ",".join(config.sources), "--heldout-sources", "gcin-voice",
        "--attacks", "V01,V07,V08", "--eval-attacks", "V01,V05,V06,V08",
        "--sources-dir", config.sources_dir, "--prepare-per-speaker", "6", "--n-parallel", "3",
        "--no-progress", "--format", "json",
    ]  # fmt: skip
    code = main(args)
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert code == 0
    assert [r["split"] for r in rows] == ["train", "dev", "eval"]
    assert all(0 <= r["duration"] <= 100 for r in rows)
    assert "0 file(s) made" in captured.err and "shortcut EER" in captured.err
