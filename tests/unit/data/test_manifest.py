"""Utterance records and JSONL manifests."""

from __future__ import annotations

import json

import pytest

from voxlab.data.manifest import Utterance, read_manifest, write_manifest
from voxlab.errors import DataError


def _utts():
    return [
        Utterance("LA_T_1", "/a/LA_T_1.flac", "LA_0079", "-", "bonafide", "train"),
        Utterance("LA_T_2", "/a/LA_T_2.flac", "LA_0079", "A01", "spoof", "train", {"codec": "gsm"}),
    ]


def test_round_trip(tmp_path):
    path = write_manifest(_utts(), tmp_path / "sub" / "m.jsonl")
    assert read_manifest(path) == _utts()
    lines = path.read_text().splitlines()
    assert json.loads(lines[1])["extra"] == {"codec": "gsm"}
    assert "extra" not in json.loads(lines[0])


def test_utterance_is_frozen_and_validates_key():
    utt = _utts()[0]
    with pytest.raises(AttributeError):
        utt.key = "spoof"  # type: ignore[misc]
    with pytest.raises(DataError, match="'bonafide' or 'spoof'"):
        Utterance("x", "x.flac", "-", "-", "bona-fide", "eval")


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"utt_id": "a"}', "missing field"),
        (
            '{"utt_id": "a", "path": "p", "speaker": "s", "attack": "-", "key": "real", '
            '"split": "eval"}',
            "key must be",
        ),
        (
            '{"utt_id": "a", "path": 3, "speaker": "s", "attack": "-", "key": "spoof", '
            '"split": "eval"}',
            "must be a string",
        ),
        (
            '{"utt_id": "a", "path": "p", "speaker": "s", "attack": "-", "key": "spoof", '
            '"split": "eval", "colour": 1}',
            "unknown field",
        ),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path, line, match):
    path = write_manifest(_utts(), tmp_path / "m.jsonl")
    with path.open("a") as fh:
        fh.write("\n" + line + "\n")
    with pytest.raises(DataError, match=match) as info:
        read_manifest(path)
    assert f"{path}:4:" in str(info.value)


def test_duplicate_ids_and_missing_file(tmp_path):
    path = write_manifest([*_utts(), _utts()[0]], tmp_path / "m.jsonl")
    with pytest.raises(DataError, match="repeats line 1"):
        read_manifest(path)
    with pytest.raises(DataError, match="manifest not found"):
        read_manifest(tmp_path / "none.jsonl")


def test_relative_paths_resolve_against_the_manifest_folder(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    (corpus / "wav").mkdir(parents=True)
    (corpus / "wav" / "a.flac").write_bytes(b"x")
    rel = Utterance("u1", "wav/a.flac", "s", "-", "bonafide", "train")
    absolute = Utterance("u2", "/elsewhere/b.flac", "s", "A01", "spoof", "train")
    write_manifest([rel, absolute], corpus / "manifest.jsonl")
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    got = read_manifest("../corpus/manifest.jsonl")
    assert got[0].path == str(corpus / "wav" / "a.flac")
    assert (tmp_path / got[0].path).is_file()
    assert got[1].path == "/elsewhere/b.flac"
