"""Score files: 4-column, 2-column joined with a protocol, ASV scores, protocol detection."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.data.manifest import Utterance
from voxlab.data.scores import (
    read_asv_scores,
    read_protocol,
    read_scores,
    write_scores,
)
from voxlab.errors import DataError


def test_four_column_round_trip_is_exact(tmp_path):
    scores = np.array([0.1, -1e-12, 3.141592653589793, -8.558014869689941])
    path = write_scores(
        tmp_path / "s.txt",
        ["a", "b", "c", "d"],
        scores,
        attacks=["-", "A07", "-", "A08"],
        keys=["bonafide", "spoof", "bonafide", "spoof"],
    )
    table = read_scores(path)
    np.testing.assert_array_equal(table.scores, scores)
    assert table.keys.tolist() == ["bonafide", "spoof", "bonafide", "spoof"]
    assert table.attacks.tolist() == ["-", "A07", "-", "A08"]


def test_real_fixture_score_file(fixtures_dir):
    table = read_scores(fixtures_dir / "metrics" / "rawgat_st_add_eval_scores.txt")
    assert len(table) == 71237
    assert int((table.keys == "bonafide").sum()) == 7355


def _protocol():
    return [
        Utterance("a", "a.flac", "s", "-", "bonafide", "eval", {"codec": "none"}),
        Utterance("b", "b.flac", "s", "A07", "spoof", "eval", {"codec": "gsm"}),
        Utterance("c", "c.flac", "s", "A08", "spoof", "eval", {"codec": "none"}),
    ]


def test_two_column_joined_with_protocol(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("filename cm-score\nc 0.5\na 2.0\nb -1\n")
    table = read_scores(path, protocol=_protocol())
    assert table.utt_ids.tolist() == ["c", "a", "b"]
    assert table.keys.tolist() == ["spoof", "bonafide", "spoof"]
    assert table.attacks.tolist() == ["A08", "-", "A07"]
    assert table.conditions["codec"].tolist() == ["none", "none", "gsm"]
    with pytest.raises(DataError, match="carries no keys"):
        read_scores(path)


def test_join_lists_missing_and_extra_ids(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("a 1\nx 2\ny 3\n")
    with pytest.raises(DataError) as info:
        read_scores(path, protocol=_protocol())
    msg = str(info.value)
    assert "2 protocol trial(s) have no score (e.g. b, c)" in msg
    assert "2 scored trial(s) are not in the protocol (e.g. x, y)" in msg


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a 1\na 2\n", r":2: trial 'a' already scored on line 1"),
        ("a - bonafide 1\nb A07 fake 2\n", r":2: key must be"),
        ("a 1\nb nan\n", r":2: score 'nan' is not finite"),
        ("a 1\nb x\n", r":2: score 'x' is not a number"),
        ("a x\nb 1\n", r":1: score 'x' is not a number"),
        ("a 1\nb - spoof 2\n", "different numbers of columns"),
        ("a b c d e\n", "expected 2 or 3 or 4 fields"),
        ("bonafide target 1.0\n", "look like an ASV score file"),
    ],
)
def test_malformed_score_files(tmp_path, text, match):
    path = tmp_path / "s.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=match):
        read_scores(path)


def test_keys_must_agree_with_protocol(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("a - spoof 1\nb A07 spoof 2\nc A08 spoof 3\n")
    with pytest.raises(DataError, match="disagree with the protocol"):
        read_scores(path, protocol=_protocol())


def test_asv_scores(fixtures_dir, tmp_path):
    asv = read_asv_scores(
        fixtures_dir / "asvspoof2019_la" / "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt"
    )
    assert asv.scores.size == 102579
    assert int((asv.keys == "target").sum()) == 5370
    assert set(asv.sources[asv.keys == "spoof"]) == {f"A{i:02d}" for i in range(7, 20)}
    bad = tmp_path / "asv.txt"
    bad.write_text("bonafide target 1\nbonafide impostor 2\n")
    with pytest.raises(DataError, match=r"asv.txt:2: ASV key must be"):
        read_asv_scores(bad)
    bad.write_text("bonafide target 1\nbonafide nontarget 2\n")
    with pytest.raises(DataError, match="no spoof trial"):
        read_asv_scores(bad)


def test_read_protocol_detects_formats(fixtures_dir, tmp_path):
    utts = read_protocol(fixtures_dir / "asvspoof2019_la" / "ASVspoof2019.LA.cm.dev.trl.txt")
    assert len(utts) == 24844
    la21 = tmp_path / "trial_metadata.txt"
    la21.write_text("LA_0009 LA_E_1 alaw ita_tx A07 spoof notrim eval\n")
    assert read_protocol(la21)[0].extra["codec"] == "alaw"
    asv5 = tmp_path / "ASVspoof5.eval.track_1.tsv"
    asv5.write_text("E_1 E_2 F C01 1 5 AC1 A17 spoof -\n")
    assert read_protocol(asv5)[0].attack == "A17"
    itw = tmp_path / "meta.csv"
    itw.write_text("file,speaker,label\n0.wav,A,spoof\n")
    assert read_protocol(itw)[0].key == "spoof"
    odd = tmp_path / "odd.txt"
    odd.write_text("a b c\n")
    with pytest.raises(DataError, match="cannot tell the protocol format"):
        read_protocol(odd)
