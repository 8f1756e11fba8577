"""File API and ``voxlab watermark`` commands: keygen, embed (with label), detect."""

from __future__ import annotations

import json

import numpy as np
import pytest

from voxlab.audio import load, save
from voxlab.audio.tags import read_tags
from voxlab.cli.main import main
from voxlab.errors import ConfigError
from voxlab.watermark import (
    AI_LABEL,
    WatermarkKey,
    detect_file,
    detect_files,
    embed_file,
    message_payload,
    parse_payload,
    read_label,
)
from voxlab.watermark.signals import speech

SR = 16_000


@pytest.fixture(scope="module")
def source(tmp_path_factory, espeak):
    folder = tmp_path_factory.mktemp("wm")
    path = folder / "talk.wav"
    save(path, speech(8.0, seed=2), SR)
    return path


def test_parse_payload():
    assert parse_payload(payload="0badc0de") == 0x0BADC0DE
    assert parse_payload(payload="0xFF") == 255
    assert parse_payload(payload=7) == 7
    assert parse_payload(message="hello") == parse_payload(message="hello")
    assert message_payload("hello") != message_payload("hello!")
    for bad in ({"payload": "xyz"}, {"payload": "123456789"}, {}, {"payload": "1", "message": "a"}):
        with pytest.raises(ConfigError):
            parse_payload(**bad)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3", "m4a"])
def test_embed_file_writes_the_label(source, tmp_path, ext):
    key = WatermarkKey.from_passphrase("api")
    out = tmp_path / f"marked.{ext}"
    summary = embed_file(source, out, key, 0x1234ABCD, strength=1.5)
    assert summary["payload"] == "1234abcd" and summary["key_id"] == key.key_id
    label = read_label(out)
    assert label is not None and AI_LABEL in label and key.key_id in label
    assert key.secret.hex() not in json.dumps(read_tags(out))
    assert read_label(source) is None
    result = detect_file(out, key)
    assert result.status == "ok" and result.label == label
    assert result.result.marked and result.result.payload == "1234abcd"


def test_embed_file_keeps_rate_and_channels(tmp_path, espeak):
    stereo = np.stack([speech(4.0, sr=44_100, seed=3)] * 2)
    src = save(tmp_path / "st.wav", stereo, 44_100)
    out = tmp_path / "st_marked.flac"
    embed_file(src, out, WatermarkKey.from_passphrase("x"), 1, label=False)
    audio, info = load(out, sr=None, mono=False)
    assert info.sample_rate == 44_100 and audio.shape == stereo.shape
    assert read_label(out) is None


def test_detect_files_reports_errors_per_file(source, tmp_path):
    rows = list(detect_files([source, tmp_path / "missing.wav"], WatermarkKey.from_passphrase("x")))
    assert [r.status for r in rows] == ["ok", "error"]
    assert "missing.wav" in rows[1].error
    assert not rows[0].result.marked
    assert "ai_label" not in rows[1].to_dict()


def test_cli_keygen_embed_detect(source, tmp_path, capsys):
    key = tmp_path / "my.key"
    assert main(["watermark", "keygen", "--out", str(key)]) == 0
    assert main(["watermark", "keygen", "--out", str(key)]) == 2  # refuses to overwrite
    WatermarkKey.load(key)
    marked = tmp_path / "out" / "marked.wav"
    args = ["watermark", "embed", str(source), str(marked), "--key", str(key)]
    assert main([*args, "--payload", "0badc0de", "--strength", "1.5", "-f", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["payload"] == "0badc0de" and summary["label"] is True
    assert main([*args, "--payload", "1", "--message", "m"]) == 2
    capsys.readouterr()

    code = main(
        [
            "watermark",
            "detect",
            str(marked.parent),
            str(source),
            "--key",
            str(key),
            "-f",
            "jsonl",
            "--no-progress",
        ]
    )
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows}
    assert by_name["marked.wav"]["marked"] and by_name["marked.wav"]["payload"] == "0badc0de"
    assert by_name["marked.wav"]["ai_label"] and by_name["marked.wav"]["segments"]
    assert not by_name["talk.wav"]["marked"] and not by_name["talk.wav"]["ai_label"]

    code = main(
        [
            "watermark",
            "detect",
            str(marked),
            str(tmp_path / "nope.wav"),
            "--key",
            str(key),
            "--no-progress",
        ]
    )
    out = capsys.readouterr()
    assert code == 1
    assert "marked.wav" in out.out and "nope.wav" in out.err
    assert main(["watermark", "detect", str(marked), "--key", str(tmp_path / "nokey")]) == 2
