"""End to end: `voxlab corpus make` on tiny corpora, read back by the ASVspoof 2019 reader."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from voxlab.cli.main import main
from voxlab.data.corpora.asvspoof2019 import prepare_asvspoof2019
from voxlab.data.manifest import read_manifest
from voxlab.errors import ConfigError, DataError
from voxlab.generation.corpus import CorpusConfig, make_corpus, make_plan

pytestmark = pytest.mark.integration

TINY = CorpusConfig(
    n_speakers=6,
    n_utterances=1,
    n_enroll=1,
    attacks=("V01", "V03"),
    eval_attacks=("V01", "V03", "V05", "V06"),
    seed=5,
)


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module", autouse=True)
def _one_generation_key(tmp_path_factory):
    """Every build in this module watermarks with the same generation key."""
    from voxlab.watermark import WatermarkKey

    path = WatermarkKey.from_passphrase("voxlab corpus tests").save(
        tmp_path_factory.mktemp("key") / "gen.key"
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VOXLAB_WATERMARK_KEY", str(path))
        yield


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, espeak):
    out = tmp_path_factory.mktemp("corpus") / "tiny"
    result = make_corpus(TINY, out, workers=1, progress=False)
    assert result.failed == []
    return out, result


def test_protocols_read_back_with_the_asvspoof2019_reader(tiny):
    out, result = tiny
    splits = prepare_asvspoof2019(out)  # checks that every listed FLAC exists
    speakers = {}
    for split, utts in splits.items():
        bona = [u for u in utts if u.is_bonafide]
        spoof = [u for u in utts if not u.is_bonafide]
        attacks = sorted({u.attack for u in spoof})
        assert len(bona) == 2  # 2 speakers x 1 utterance
        assert attacks == list(TINY.split_attacks(split))
        assert len(spoof) == len(bona) * len(attacks)
        speakers[split] = {u.speaker for u in bona}
        assert result.counts[split]["bonafide"] == len(bona)
        assert result.counts[split]["spoof"] == len(spoof)
    assert len(speakers["train"] | speakers["dev"] | speakers["eval"]) == 6  # disjoint
    unseen = {"V05", "V06"} - set(TINY.attacks)
    assert unseen and unseen <= {u.attack for u in splits["eval"]}
    # Conversion spoofs are labelled with their target, another speaker of the same split.
    vc = [u for u in splits["eval"] if u.attack == "V06"]
    assert {u.speaker for u in vc} <= speakers["eval"]


def test_manifest_readme_and_asv_protocols(tiny):
    out, result = tiny
    records = read_manifest(out / "manifest.jsonl")
    assert len(records) == sum(sum(c.values()) for c in result.counts.values())
    by_id = {r.utt_id: r for r in records}
    for r in records:
        assert (out / r.path).is_file()
        assert r.extra["system"] == ("espeak-ng" if r.is_bonafide else r.attack)
        assert "params" in r.extra and r.extra["role"] in {"cm", "enroll"}
        if not r.is_bonafide:
            assert by_id[r.extra["source"]].is_bonafide
            assert r.extra["params"]["source_utt"] == r.extra["source"]
    readme = (out / "README.md").read_text()
    assert "stand-in" in readme and "V05" in readme and "unseen" in readme
    asv = out / "ASVspoof2019_LA_asv_protocols"
    enroll = (asv / "ASVspoof2019.LA.asv.eval.gi.trn.txt").read_text().split("\n")
    assert len([line for line in enroll if line]) == 2
    trials = [
        line.split()
        for line in (asv / "ASVspoof2019.LA.asv.eval.gi.trl.txt").read_text().splitlines()
    ]
    keys = {t[3] for t in trials}
    assert keys == {"target", "nontarget", "spoof"}
    assert json.loads((out / "corpus.json").read_text())["seed"] == 5


def test_generated_audio_carries_both_labels(tiny):
    import numpy as np

    from voxlab.watermark import WatermarkKey, detect_file, read_label
    from voxlab.watermark.provenance import default_key_path

    out, _ = tiny
    key = WatermarkKey.load(default_key_path())
    wrong = WatermarkKey.from_passphrase("not the generation key")
    records = [r for r in read_manifest(out / "manifest.jsonl") if r.split == "eval"]
    assert all("AI-generated" in read_label(out / r.path) for r in records)
    # The clips are 1-3 s: too short for a sure per-file decision (see benchmarks/watermark.py),
    # so the test looks at the calibrated scores over the split: N(0, 1) under a wrong key.
    right = np.array([detect_file(out / r.path, key).result.score for r in records])
    other = np.array([detect_file(out / r.path, wrong).result.score for r in records])
    assert right.mean() > 3.0 and abs(other.mean()) < 1.0, (right, other)
    assert not any(detect_file(out / r.path, wrong).result.marked for r in records[:3])


def test_no_watermark_switch_keeps_the_tag(tmp_path, espeak):
    from dataclasses import replace

    from voxlab.watermark import WatermarkKey, detect_file, read_label
    from voxlab.watermark.provenance import default_key_path

    out = tmp_path / "plain"
    config = replace(TINY, attacks=("V01",), eval_attacks=("V01",), watermark=False)
    assert make_corpus(config, out, workers=1, progress=False).failed == []
    record = next(r for r in read_manifest(out / "manifest.jsonl") if r.attack == "V01")
    assert "not watermarked" in read_label(out / record.path)
    key = WatermarkKey.load(default_key_path())
    assert not detect_file(out / record.path, key).result.marked


def test_resume_regenerates_deleted_files_bit_exactly(tiny):
    out, _ = tiny
    before = _hashes(out)
    flacs = sorted(out.glob("ASVspoof2019_LA_*/flac/*.flac"))
    for victim in flacs[::9]:
        victim.unlink()
    (out / "ASVspoof2019_LA_eval" / "flac" / "junk.flac").write_bytes(b"")
    result = make_corpus(TINY, out, workers=1, progress=False)
    (out / "ASVspoof2019_LA_eval" / "flac" / "junk.flac").unlink()
    assert result.made == len(flacs[::9]) and result.failed == []
    assert _hashes(out) == before


def test_cli_resumes_and_lists_attacks(tiny, capsys):
    out, _ = tiny
    code = main(
        [
            "corpus", "make", "--out", str(out), "--speakers", "6", "-n", "1", "--n-enroll", "1",
            "--attacks", "V01,V03", "--eval-attacks", "V01,V03,V05-V06", "--seed", "5",
            "--no-progress", "--format", "json",
        ]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = json.loads(captured.out)
    assert [r["split"] for r in rows] == ["train", "dev", "eval"]
    assert "0 file(s) made" in captured.err
    assert main(["corpus", "attacks", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in listed][:2] == ["V01", "V02"]


def test_cli_other_settings_in_the_same_folder_is_an_error(tiny, capsys):
    out, _ = tiny
    code = main(["corpus", "make", "--out", str(out), "--seed", "6", "--no-progress"])
    assert code == 2 and "other settings" in capsys.readouterr().err


def test_asv_scores_in_the_official_format(tiny):
    from voxlab.asv import score_corpus
    from voxlab.data.scores import read_asv_scores

    out, _ = tiny
    path = score_corpus(out, split="eval", encoder="mfcc")
    assert path.name == "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt"
    asv = read_asv_scores(path)
    sources, keys, scores = asv.sources, asv.keys, asv.scores
    trials = out / "ASVspoof2019_LA_asv_protocols/ASVspoof2019.LA.asv.eval.gi.trl.txt"
    assert len(scores) == len(trials.read_text().splitlines())
    assert set(keys) == {"target", "nontarget", "spoof"}
    assert set(sources) == {"bonafide", *TINY.split_attacks("eval")}


def test_plan_errors():
    with pytest.raises(DataError, match="V08"):
        make_plan(CorpusConfig(attacks=("V08",)))
    with pytest.raises(DataError, match="at least 6 speakers"):
        make_plan(CorpusConfig(n_speakers=4))
    with pytest.raises(ConfigError, match="unknown attack"):
        CorpusConfig(attacks=("A17",))


@pytest.fixture(scope="module")
def recordings(tmp_path_factory, espeak):
    """A folder of 'real' recordings: 6 speakers reading the same 2 sentences, 22.05 kHz WAV."""
    from voxlab.audio import resample, save
    from voxlab.generation.tts import EspeakVoice, synthesize

    root = tmp_path_factory.mktemp("recordings")
    texts = ["The boy was there when the sun rose.", "Kick the ball straight and follow through."]
    voices = [("en-us", "m1", 30), ("en-gb", "f2", 70), ("en-us", "m3", 45), ("en-gb", "f4", 60),
              ("en-us", "m5", 38), ("en-us", "f1", 80)]  # fmt: skip
    rows = []
    for i, (voice, variant, pitch) in enumerate(voices):
        for j, text in enumerate(texts):
            audio = synthesize(text, EspeakVoice(voice, variant, pitch=pitch)).audio
            rel = f"speaker {i}/take{j}.wav"
            save(root / rel, 0.8 * resample(audio, orig_sr=16_000, target_sr=22_050), 22_050)
            rows.append({"path": rel, "speaker": f"speaker {i}", "text": text})
    with (root / "metadata.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["path", "speaker", "text"])
        writer.writeheader()
        writer.writerows(rows)
    return root


def test_folder_of_recordings_with_tts_attack(recordings, tmp_path):
    config = CorpusConfig(
        bonafide=str(recordings), attacks=("V01",), eval_attacks=("V01", "V08"),
        n_utterances=1, n_enroll=1,
    )  # fmt: skip
    result = make_corpus(config, tmp_path / "c", progress=False)
    assert result.failed == []
    splits = prepare_asvspoof2019(tmp_path / "c")
    speakers = {u.speaker for utts in splits.values() for u in utts}
    assert speakers == {f"speaker_{i}" for i in range(6)}
    tts = [u for u in splits["eval"] if u.attack == "V08"]
    assert len(tts) == 2
    records = {r.utt_id: r for r in read_manifest(tmp_path / "c" / "manifest.jsonl")}
    bona = [r for r in records.values() if r.is_bonafide]
    assert all(r.extra["params"]["source_file"].endswith(".wav") for r in bona)
    assert records[tts[0].utt_id].extra["params"]["text"] == records[tts[0].utt_id].extra["text"]


def test_folder_without_transcripts_refuses_tts(recordings, tmp_path):
    bare = tmp_path / "bare"
    for wav in recordings.rglob("*.wav"):
        target = bare / wav.relative_to(recordings)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wav.read_bytes())
    with pytest.raises(DataError, match="transcripts"):
        make_plan(CorpusConfig(bonafide=str(bare), attacks=("V08",), n_enroll=1))
    with pytest.raises(DataError, match="parallel"):
        make_plan(CorpusConfig(bonafide=str(bare), attacks=("V07",), n_enroll=1))


@pytest.mark.slow
def test_rebuild_with_workers_is_bit_exact(tiny, tmp_path):
    out, _ = tiny
    again = make_corpus(TINY, tmp_path / "again", workers=2, progress=False)
    assert again.failed == [] and again.kept == 0
    first = {k: v for k, v in _hashes(out).items() if "asv_scores" not in k}
    assert _hashes(tmp_path / "again") == first


@pytest.mark.slow
def test_gmm_vc_from_parallel_recordings(recordings, tmp_path):
    config = CorpusConfig(
        bonafide=str(recordings), attacks=("V01",), eval_attacks=("V07",),
        n_utterances=1, n_enroll=1, n_parallel=2,
    )  # fmt: skip
    result = make_corpus(config, tmp_path / "c", progress=False, workers=2)
    assert result.failed == []
    splits = prepare_asvspoof2019(tmp_path / "c")
    assert {u.attack for u in splits["eval"] if not u.is_bonafide} == {"V07"}
    # GMM training is bit-exact whatever the number of workers (one BLAS thread everywhere).
    serial = make_corpus(config, tmp_path / "serial", progress=False, workers=1)
    assert serial.failed == []
    assert _hashes(tmp_path / "serial") == _hashes(tmp_path / "c")


def test_cli_tts_and_vocode(tmp_path, espeak, capsys):
    import numpy as np

    from voxlab.audio import load

    wav = tmp_path / "hello.wav"
    assert main(["tts", "Hello there.", "--variant", "f3", "-o", str(wav)]) == 0
    audio, info = load(wav)
    assert info.sample_rate == 16_000 and len(audio) > 8000
    out = tmp_path / "hello_lpc.flac"
    assert main(["vocode", str(wav), "--attack", "V05", "-o", str(out), "--seed", "3"]) == 0
    vocoded, _ = load(out)
    assert len(vocoded) == len(audio) and not np.array_equal(vocoded, audio)
    assert main(["vocode", str(wav), "--attack", "V06", "-o", str(out)]) == 2
    assert "target speaker" in capsys.readouterr().err


def test_flat_folder_of_recordings_reads_speakers_from_file_names(recordings, tmp_path):
    """Issue 15 §4: the README's `corpus make --bonafide recordings/` failed on a flat folder."""
    flat, bare = tmp_path / "flat", tmp_path / "bare"
    flat.mkdir()
    bare.mkdir()
    texts = {r["path"]: r["text"] for r in csv.DictReader((recordings / "metadata.csv").open())}
    for n, (rel, text) in enumerate(sorted(texts.items())):
        speaker, take = rel.replace("speaker ", "spk").split("/")
        (flat / f"{speaker}_{take}").write_bytes((recordings / rel).read_bytes())
        (flat / f"{speaker}_{take}").with_suffix(".txt").write_text(text)
        (bare / f"clip{n:02d}.wav").write_bytes((recordings / rel).read_bytes())
    with pytest.warns(UserWarning, match="speakers from file-name prefixes"):
        plan = make_plan(CorpusConfig(bonafide=str(flat), attacks=("V08",), n_enroll=1))
    assert set(plan.speakers) == {f"spk{i}" for i in range(6)}
    assert all(item["text"] for item in plan.items if item["attack"] == "V08")
    with pytest.warns(UserWarning, match="ONE speaker"):
        with pytest.raises(DataError, match="one subfolder per speaker"):
            make_plan(CorpusConfig(bonafide=str(bare), attacks=("V01",), n_enroll=1))
