"""ASVspoof 2021, ASVspoof 5, In-the-Wild and generic readers on tiny fake corpora."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from voxlab.data.corpora import (
    prepare_asvspoof5,
    prepare_asvspoof2021,
    prepare_folder,
    prepare_in_the_wild,
    read_asvspoof5_protocol,
    read_csv_list,
    read_in_the_wild_meta,
    read_trial_metadata,
)
from voxlab.errors import DataError


def _audio(path, fmt="FLAC"):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(800, dtype=np.float32), 16000, format=fmt)


LA21 = [
    "LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval",
    "LA_0009 LA_E_8589971 alaw loc_tx A07 spoof notrim progress",
    "LA_0010 LA_E_1000001 none loc_tx - bonafide notrim eval",
]
DF21 = [
    "LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim progress traditional_vocoder - - - -",
    "LA_0031 DF_E_2000012 low_mp3 vcc2020 - bonafide notrim eval bonafide - - - -",
]
PA21 = ["PA_0010 PA_E_1000001 R3 M3 d4 r1 m1 s4 c4 spoof notrim eval"]


def test_2021_la_keys_and_subsets(tmp_path):
    root = tmp_path / "2021"
    keys = root / "keys" / "LA" / "CM" / "trial_metadata.txt"
    keys.parent.mkdir(parents=True)
    keys.write_text("\n".join(LA21) + "\n")
    for line in LA21:
        _audio(root / "ASVspoof2021_LA_eval" / "flac" / f"{line.split()[1]}.flac")
    subsets = prepare_asvspoof2021(root, out=tmp_path / "m")
    assert {k: len(v) for k, v in subsets.items()} == {"eval": 2, "progress": 1}
    spoof = subsets["eval"][0]
    assert spoof.attack == "A07" and spoof.extra["codec"] == "alaw"
    assert spoof.extra["transmission"] == "ita_tx" and spoof.extra["track"] == "LA"
    assert (tmp_path / "m" / "asvspoof2021_la_progress.jsonl").is_file()
    only = prepare_asvspoof2021(root, subsets=("eval",), keys=keys)
    assert list(only) == ["eval"]


def test_2021_df_and_pa_detected_by_width(tmp_path):
    df = tmp_path / "df.txt"
    df.write_text("\n".join(DF21) + "\n")
    utts = read_trial_metadata(df)
    assert utts[0].extra["vocoder"] == "traditional_vocoder" and utts[0].extra["track"] == "DF"
    assert utts[1].attack == "-" and utts[1].key == "bonafide" and utts[1].split == "eval"
    pa = tmp_path / "pa.txt"
    pa.write_text("\n".join(PA21) + "\n")
    (utt,) = read_trial_metadata(pa)
    assert utt.attack == "r1_m1_s4_c4" and utt.extra["asv_room"] == "R3"


def test_2021_errors(tmp_path):
    bad = tmp_path / "k.txt"
    bad.write_text(LA21[0] + "\n" + "LA_0009 LA_E_1 alaw ita_tx A07 spoof\n")
    with pytest.raises(DataError, match=r"k.txt:2: expected 8 or 13 or 12 fields"):
        read_trial_metadata(bad)
    bad.write_text(LA21[0] + "\n" + DF21[0] + "\n")
    with pytest.raises(DataError, match=r"k.txt:2: 13 fields, but earlier lines have 8"):
        read_trial_metadata(bad)
    with pytest.raises(DataError, match=r"k.txt:2: expected 8 fields"):
        read_trial_metadata(bad, track="LA")
    with pytest.raises(DataError, match="keys not found"):
        prepare_asvspoof2021(tmp_path)
    keys = tmp_path / "keys" / "LA" / "CM" / "trial_metadata.txt"
    keys.parent.mkdir(parents=True)
    keys.write_text(LA21[0] + "\n")
    with pytest.raises(DataError, match="1 audio file"):
        prepare_asvspoof2021(tmp_path)


ASV5 = [
    "T_4850 T_0000000000 F - - - AC3 A05 spoof -",
    "T_3734 T_0000000011 F - - - - bonafide bonafide -",
]


def test_asvspoof5_protocol_and_prepare(tmp_path):
    protos = tmp_path / "ASVspoof5_protocols"
    protos.mkdir()
    (protos / "ASVspoof5.train.tsv").write_text("\n".join(ASV5) + "\n")
    for line in ASV5:
        _audio(tmp_path / "flac_T" / f"{line.split()[1]}.flac")
    result = prepare_asvspoof5(tmp_path, splits=("train",))
    spoof, bona = result["train"]
    assert spoof.attack == "A05" and spoof.extra["attack_tag"] == "AC3"
    assert spoof.extra["gender"] == "F" and spoof.split == "train"
    assert bona.attack == "-" and bona.key == "bonafide"
    with pytest.raises(DataError, match="dev protocol not found"):
        prepare_asvspoof5(tmp_path, splits=("dev",))


def test_asvspoof5_malformed(tmp_path):
    path = tmp_path / "ASVspoof5.dev.track_1.tsv"
    path.write_text(ASV5[0] + "\nD_1 D_2 F - - - - - spoof -\n")
    with pytest.raises(DataError, match=r":2: spoof line without an attack"):
        read_asvspoof5_protocol(path)
    path.write_text(ASV5[0] + "\nD_1 D_2 F - - -\n")
    with pytest.raises(DataError, match=r":2: expected 10 fields"):
        read_asvspoof5_protocol(path)


def test_in_the_wild(tmp_path):
    root = tmp_path / "release_in_the_wild"
    root.mkdir()
    (root / "meta.csv").write_text(
        "file,speaker,label\n0.wav,Alec Guinness,spoof\n1.wav,Alec Guinness,bona-fide\n"
    )
    for name in ("0.wav", "1.wav"):
        _audio(root / name, fmt="WAV")
    (spoof, bona) = prepare_in_the_wild(tmp_path)["eval"]
    assert spoof.key == "spoof" and spoof.attack == "unknown" and spoof.utt_id == "0"
    assert bona.key == "bonafide" and bona.speaker == "Alec Guinness"
    (root / "meta.csv").write_text("file,speaker,label\n0.wav,A,fake\n")
    with pytest.raises(DataError, match=r"meta.csv:2: label must be"):
        read_in_the_wild_meta(root / "meta.csv")
    (root / "meta.csv").write_text("name,label\n")
    with pytest.raises(DataError, match="header"):
        read_in_the_wild_meta(root / "meta.csv")


def test_generic_folder(tmp_path):
    _audio(tmp_path / "bonafide" / "a.flac")
    _audio(tmp_path / "bonafide" / "sub" / "b.wav", fmt="WAV")
    _audio(tmp_path / "spoof" / "tts1" / "c.flac")
    _audio(tmp_path / "spoof" / "d.flac")
    utts = prepare_folder(tmp_path, split="test")["test"]
    by_id = {u.utt_id: u for u in utts}
    assert set(by_id) == {"bonafide/a", "bonafide/sub/b", "spoof/tts1/c", "spoof/d"}
    assert by_id["spoof/tts1/c"].attack == "tts1" and by_id["spoof/d"].attack == "unknown"
    assert by_id["bonafide/sub/b"].key == "bonafide" and by_id["bonafide/a"].split == "test"
    with pytest.raises(DataError, match="needs bonafide/ and spoof/"):
        prepare_folder(tmp_path / "bonafide")


def test_generic_csv(tmp_path):
    _audio(tmp_path / "x.flac")
    _audio(tmp_path / "y.flac")
    csv_path = tmp_path / "list.csv"
    csv_path.write_text("path,label,attack\nx.flac,Real,\ny.flac,fake,A01\n")
    x, y = read_csv_list(csv_path)
    assert (x.key, x.attack, y.key, y.attack) == ("bonafide", "-", "spoof", "A01")
    csv_path.write_text("path,label\nx.flac,maybe\n")
    with pytest.raises(DataError, match=r"list.csv:2: unknown label 'maybe'"):
        read_csv_list(csv_path)
    csv_path.write_text("path,label\nx.flac,real\nz.flac,spoof\n")
    with pytest.raises(DataError, match="1 audio file"):
        read_csv_list(csv_path)
    assert len(read_csv_list(csv_path, check_files=False)) == 2
    csv_path.write_text("file,label\n")
    with pytest.raises(DataError, match="'path' and 'label'"):
        read_csv_list(csv_path)
