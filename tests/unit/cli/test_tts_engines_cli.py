"""``voxlab tts --engine ...`` and ``voxlab voices`` end to end."""

from __future__ import annotations

import json

import pytest

from voxlab.audio import info
from voxlab.cli.main import main
from voxlab.watermark import WatermarkKey, detect_file, read_label
from voxlab.watermark.provenance import system_payload

TEXT = (
    "This sentence was spoken by a machine. It carries a label in its metadata and a "
    "watermark in the sound itself, so that anyone with the key can check where it came from."
)


def _engine_or_skip(name):
    from voxlab.generation.neural.engines import get_engine

    reason = get_engine(name).missing()
    if reason:
        pytest.skip(f"{name} not installed: {reason}")


def test_tts_piper_writes_a_watermarked_labelled_file(tmp_path, capsys):
    _engine_or_skip("piper")
    key_file = tmp_path / "gen.key"
    WatermarkKey.from_passphrase("voxlab tts engines test").save(key_file)
    out = tmp_path / "piper.flac"
    args = ["tts", TEXT, "--engine", "piper", "--seed", "4", "-o", str(out)]
    assert main([*args, "--watermark-key", str(key_file)]) == 0
    line = capsys.readouterr().out
    assert "piper:en_US-joe-medium" in line and "watermarked" in line and str(key_file) in line
    assert info(out).sample_rate == 22_050 and info(out).duration > 4
    assert "AI-generated" in read_label(out) and "piper:en_US-joe-medium" in read_label(out)
    result = detect_file(out, WatermarkKey.load(key_file)).result
    assert result.marked and result.payload == f"{system_payload('piper:en_US-joe-medium'):08x}"


@pytest.mark.parametrize(
    ("engine", "voice", "rate"),
    [
        pytest.param("kokoro", "bf_emma", 24_000, marks=pytest.mark.slow),
        ("festival", "ked_diphone", 16_000),
        ("espeak", "de", 16_000),
    ],
)
def test_tts_engines_label_without_watermark(tmp_path, capsys, engine, voice, rate):
    _engine_or_skip(engine)
    out = tmp_path / f"{engine}.wav"
    args = ["tts", "Good morning.", "--engine", engine, "--voice", voice, "-o", str(out)]
    assert main([*args, "--no-watermark"]) == 0
    assert "NOT watermarked" in capsys.readouterr().out
    assert info(out).sample_rate == rate and info(out).duration > 0.4
    assert f"{engine}:{voice}" in read_label(out) and "AI-generated" in read_label(out)


def test_tts_keeps_the_espeak_options(tmp_path, capsys, espeak):
    out = tmp_path / "old.wav"
    args = ["tts", "Hello there", "--variant", "f3", "--pitch", "70", "--speed", "200"]
    assert main([*args, "-o", str(out), "--no-watermark"]) == 0
    assert "espeak:en-us+f3" in capsys.readouterr().out and info(out).sample_rate == 16_000


def test_tts_errors_are_clear(tmp_path, capsys):
    out = str(tmp_path / "x.wav")
    assert main(["tts", "Hi", "--engine", "nope", "-o", out]) == 2
    assert "unknown TTS engine 'nope'" in capsys.readouterr().err
    assert main(["tts", "Hi", "--engine", "festival", "--pitch", "60", "-o", out]) == 2
    assert "espeak options" in capsys.readouterr().err
    assert main(["tts", "Hi", "--voice", "xx-nobody", "-o", out]) == 2
    assert "voxlab voices --engine espeak" in capsys.readouterr().err


def test_voices_lists_engines_and_voices(capsys):
    assert main(["voices", "--format", "json"]) == 0
    rows = {row["engine"]: row for row in json.loads(capsys.readouterr().out)}
    assert {"espeak", "piper", "kokoro", "festival"} <= set(rows)
    for row in rows.values():
        assert row["available"] == (row["missing"] is None) and row["install"]
        if row["available"]:
            assert row["voices"] and row["default_voice"]
            voice = row["voices"][0]
            assert {"id", "language", "gender", "sample_rate", "licence", "source"} <= set(voice)
        else:
            assert not row["voices"] and row["missing"]
    if rows["kokoro"]["available"]:
        ids = {v["id"] for v in rows["kokoro"]["voices"]}
        assert {"af_heart", "bm_george"} <= ids
    assert main(["voices", "--engine", "festival"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("festival:") and "voxlab tts TEXT --engine" in table


def test_tts_writes_the_phonemes_face_talk_reads(tmp_path, capsys, espeak):
    from voxlab.face.visemes import read_events

    out, events = tmp_path / "hello.wav", tmp_path / "hello.json"
    args = ["tts", "Hello there, Bob.", "-o", str(out), "--no-watermark"]
    assert main([*args, "--phonemes-out", str(events)]) == 0
    assert f"{events} (" in capsys.readouterr().out
    timed = read_events(events)  # the reader of `voxlab face talk --phonemes`
    if not timed:
        pytest.skip("libespeak-ng phoneme events unavailable")
    assert timed[0][0] == 0.0 and abs(timed[-1][1] - info(out).duration) < 0.05
    assert any(symbol == "b" for _, _, symbol in timed)  # "Bob" closes the lips


def test_tts_phonemes_out_refused_before_writing_when_the_engine_has_none(tmp_path, capsys):
    _engine_or_skip("festival")
    out, events = tmp_path / "f.wav", tmp_path / "f.json"
    args = ["tts", "Hi.", "--engine", "festival", "-o", str(out), "--phonemes-out", str(events)]
    assert main(args) == 2
    assert "recorded no phoneme timings" in capsys.readouterr().err
    assert not out.exists() and not events.exists()
