"""ASVspoof 2019 readers on the real protocols and on tiny fake corpora."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import soundfile as sf

from voxlab.data.corpora import prepare_asvspoof2019, read_cm_protocol
from voxlab.data.manifest import read_manifest
from voxlab.errors import DataError

COUNTS = {
    "train": (2580, 22800, [f"A{i:02d}" for i in range(1, 7)], "ASVspoof2019.LA.cm.train.trn.txt"),
    "dev": (2548, 22296, [f"A{i:02d}" for i in range(1, 7)], "ASVspoof2019.LA.cm.dev.trl.txt"),
    "eval": (7355, 63882, [f"A{i:02d}" for i in range(7, 20)], "ASVspoof2019.LA.cm.eval.trl.txt"),
}


@pytest.mark.parametrize("split", ["train", "dev", "eval"])
def test_real_protocol_counts(fixtures_dir, split):
    n_bona, n_spoof, attacks, name = COUNTS[split]
    utts = read_cm_protocol(fixtures_dir / "asvspoof2019_la" / name)
    keys = Counter(u.key for u in utts)
    assert keys == {"bonafide": n_bona, "spoof": n_spoof}
    assert sorted({u.attack for u in utts if u.key == "spoof"}) == attacks
    assert {u.attack for u in utts if u.key == "bonafide"} == {"-"}
    assert {u.split for u in utts} == {split}
    assert utts[0].path == f"{utts[0].utt_id}.flac" and utts[0].extra == {}


def _write_flac(path, seconds=0.05):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(16000 * seconds), dtype=np.float32), 16000, format="FLAC")


def _fake_corpus(root, *, skip=()):
    proto = root / "LA" / "ASVspoof2019_LA_cm_protocols"
    proto.mkdir(parents=True)
    lines = {
        "train": ["LA_0079 LA_T_1 - - bonafide", "LA_0079 LA_T_2 - A01 spoof"],
        "dev": ["LA_0069 LA_D_1 - - bonafide", "LA_0069 LA_D_2 - A02 spoof"],
        "eval": ["LA_0039 LA_E_1 - A11 spoof", "LA_0039 LA_E_2 - - bonafide"],
    }
    names = {"train": "train.trn", "dev": "dev.trl", "eval": "eval.trl"}
    for split, rows in lines.items():
        (proto / f"ASVspoof2019.LA.cm.{names[split]}.txt").write_text("\n".join(rows) + "\n")
        for row in rows:
            utt = row.split()[1]
            if utt not in skip:
                _write_flac(root / "LA" / f"ASVspoof2019_LA_{split}" / "flac" / f"{utt}.flac")
    return root


def test_prepare_fake_corpus_and_manifests(tmp_path):
    root = _fake_corpus(tmp_path / "corpus")
    splits = prepare_asvspoof2019(root, out=tmp_path / "manifests")  # parent of LA/ works
    assert {s: len(u) for s, u in splits.items()} == {"train": 2, "dev": 2, "eval": 2}
    first = splits["eval"][0]
    assert first.attack == "A11" and first.key == "spoof" and first.speaker == "LA_0039"
    assert first.path.endswith("LA/ASVspoof2019_LA_eval/flac/LA_E_1.flac")
    assert read_manifest(tmp_path / "manifests" / "asvspoof2019_la_eval.jsonl") == splits["eval"]
    only_eval = prepare_asvspoof2019(root / "LA", splits=("eval",))
    assert list(only_eval) == ["eval"]


def test_missing_audio_reported_together(tmp_path):
    root = _fake_corpus(tmp_path / "c", skip=("LA_E_1", "LA_E_2"))
    with pytest.raises(DataError, match="2 audio file") as info:
        prepare_asvspoof2019(root, splits=("eval",))
    assert "LA_E_1.flac" in str(info.value) and "check_files=False" in str(info.value)
    assert len(prepare_asvspoof2019(root, splits=("eval",), check_files=False)["eval"]) == 2


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("LA_0001 LA_E_3 - A07", "expected 5 fields"),
        ("LA_0001 LA_E_3 - A07 fake", "key must be"),
        ("LA_0001 LA_E_3 - A07 bonafide", "bona fide line has attack"),
        ("LA_0001 LA_E_3 - - spoof", "spoof line has no attack"),
        ("LA_0001 LA_E_1 - A07 spoof", "appears more than once"),
    ],
)
def test_malformed_protocol_lines(tmp_path, line, match):
    path = tmp_path / "ASVspoof2019.LA.cm.eval.trl.txt"
    path.write_text("LA_0001 LA_E_1 - A07 spoof\n\nLA_0001 LA_E_2 - - bonafide\n" + line + "\n")
    with pytest.raises(DataError, match=match) as info:
        read_cm_protocol(path)
    if "more than once" not in match:
        assert f"{path}:4:" in str(info.value)


def test_bad_track_and_root(tmp_path):
    with pytest.raises(DataError, match="track must be"):
        prepare_asvspoof2019(tmp_path, track="DF")
    with pytest.raises(DataError, match="protocols not found"):
        prepare_asvspoof2019(tmp_path)


def test_pa_environment_goes_to_extra(tmp_path):
    path = tmp_path / "ASVspoof2019.PA.cm.dev.trl.txt"
    path.write_text("PA_0069 PA_D_1 aaa AA spoof\nPA_0069 PA_D_2 aaa - bonafide\n")
    utts = read_cm_protocol(path, audio_dir=tmp_path / "flac")
    assert utts[0].extra == {"environment": "aaa"} and utts[0].split == "dev"
    assert utts[1].path == str(tmp_path / "flac" / "PA_D_2.flac")
