"""The reference fixtures through the command line: `voxlab vocode --vocoder hifigan` and
`voxlab tts --engine vits` reproduce the official outputs.

Tolerance: atol 1e-4 after the 16-bit WAV round trip (quantisation <= 1.6e-5). VITS runs
with VOXLAB_NEURAL_DETERMINISTIC=1 (every random draw zero, as the fixtures were made) and
a config whose ``text_cleaners`` is empty, so the argument's characters are the symbols.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from voxlab.cli.main import main
from voxlab.generation.neural.vits.text import SYMBOLS

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("one_torch_thread")]

ATOL = 1e-4


@pytest.fixture(scope="module")
def gen_dir(fixtures_dir):
    path = fixtures_dir / "generation"
    if not path.is_dir():
        pytest.skip(f"generation fixtures not found at {path}")
    return path


def hifigan_args(gen_dir, case):
    return [
        "--vocoder",
        "hifigan",
        "--checkpoint",
        str(gen_dir / f"{case}_g.pth"),
        "--config",
        str(gen_dir / f"{case}.json"),
    ]


@pytest.mark.parametrize("case", ["hifigan_v1_tiny", "hifigan_v2_tiny", "hifigan_v3_tiny"])
def test_vocode_mel_fixture_through_cli(gen_dir, tmp_path, case, capsys):
    io = np.load(gen_dir / f"{case}_io.npz")
    mel = tmp_path / "mel.npy"
    np.save(mel, io["mel"][0])  # (80, T), as a user would save it
    out = tmp_path / "out.wav"
    args = ["vocode", str(mel), *hifigan_args(gen_dir, case), "-o", str(out), "--no-watermark"]
    assert main(args) == 0
    assert "hifigan:" in capsys.readouterr().out
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 22050
    np.testing.assert_allclose(audio, io["audio"][0, 0], atol=ATOL)


def test_vocode_audio_file_is_labelled(gen_dir, tmp_path):
    io = np.load(gen_dir / "hifigan_v3_tiny_io.npz")
    speech = tmp_path / "speech.wav"
    sf.write(speech, io["audio"][0, 0], 22050)
    out = tmp_path / "copy.flac"
    assert (
        main(["vocode", str(speech), *hifigan_args(gen_dir, "hifigan_v3_tiny"), "-o", str(out)])
        == 0
    )
    audio, rate = sf.read(out, dtype="float32")
    assert rate == 22050 and audio.shape == ((io["audio"].shape[-1] // 256) * 256,)
    assert np.abs(audio).max() > 0.05
    with sf.SoundFile(out) as f:
        comment = f.comment or ""
    assert comment.startswith("AI-generated audio") and "watermarked" in comment
    assert "system hifigan:hifigan_v3_tiny_g.pth" in comment


def test_vocode_refusals_exit_2(gen_dir, tmp_path, capsys):
    out = tmp_path / "o.wav"
    bad_mel = tmp_path / "bad.npy"
    np.save(bad_mel, np.zeros((40, 10), np.float32))
    assert (
        main(["vocode", str(bad_mel), *hifigan_args(gen_dir, "hifigan_v1_tiny"), "-o", str(out)])
        == 2
    )
    assert "bad.npy" in capsys.readouterr().err
    args = [
        "vocode",
        str(bad_mel),
        "--vocoder",
        "hifigan",
        "--checkpoint",
        str(gen_dir / "hifigan_v1_tiny_g.pth"),
        "--config",
        str(gen_dir / "hifigan_v3_tiny.json"),
        "-o",
        str(out),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "hifigan_v1_tiny_g.pth does not match" in err and "hifigan_v3_tiny.json" in err
    assert main(["vocode", str(bad_mel), "--vocoder", "hifigan", "-o", str(out)]) == 2
    assert "--checkpoint" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("case", "item", "expected"),
    [
        ("vits_vctk_tiny", 0, "audio"),
        ("vits_ljs_nosdp_tiny", 0, "audio"),
        ("vits_ljs_tiny", 1, "audio_item1_alone"),
    ],
)
def test_tts_vits_fixture_through_cli(gen_dir, tmp_path, monkeypatch, case, item, expected):
    monkeypatch.setenv("VOXLAB_NEURAL_DETERMINISTIC", "1")
    io = np.load(gen_dir / f"{case}_io.npz")
    config = json.loads((gen_dir / f"{case}.json").read_text())
    config["data"]["text_cleaners"] = []  # the text is already symbols
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps(config))
    n = int(io["x_lengths"][item])
    text = "".join(SYMBOLS[i] for i in io["x"][item, 1:n:2])
    out = tmp_path / "vits.wav"
    args = [
        "tts",
        text,
        "--engine",
        "vits",
        "--checkpoint",
        str(gen_dir / f"{case}_G.pth"),
        "--config",
        str(cfg),
        "-o",
        str(out),
        "--no-watermark",
    ]
    if "sid" in io.files:
        args += ["--voice", str(int(io["sid"][item]))]
    assert main(args) == 0
    audio, rate = sf.read(out, dtype="float32")
    reference = io[expected][0 if expected != "audio" else item, 0]
    peak = np.abs(reference).max()
    if peak > 0.95:  # generated audio is peak-limited to 0.95 on its way out
        reference = reference * (0.95 / peak)
    assert rate == 22050
    np.testing.assert_allclose(audio, reference, atol=ATOL)


def test_h01_t01_attack_systems_from_environment(gen_dir, monkeypatch):
    from voxlab.generation.attacks import ATTACKS, AttackInput, get_attack
    from voxlab.generation.neural.vits import attack

    monkeypatch.delitem(ATTACKS, "H01", raising=False)
    monkeypatch.delitem(ATTACKS, "T01", raising=False)
    for name in ("VOXLAB_HIFIGAN_CHECKPOINT", "VOXLAB_VITS_CHECKPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert attack.ensure_registered() == (False, False)  # nothing configured: not offered
    monkeypatch.setenv("VOXLAB_HIFIGAN_CHECKPOINT", str(gen_dir / "hifigan_v1_tiny_g.pth"))
    monkeypatch.setenv("VOXLAB_HIFIGAN_CONFIG", str(gen_dir / "hifigan_v1_tiny.json"))
    monkeypatch.setenv("VOXLAB_VITS_CHECKPOINT", str(gen_dir / "vits_vctk_tiny_G.pth"))
    monkeypatch.setenv("VOXLAB_VITS_CONFIG", str(gen_dir / "vits_vctk_tiny.json"))
    monkeypatch.setenv("VOXLAB_VITS_SPEAKER", "7")
    try:
        assert attack.ensure_registered() == (True, True)
        source = np.resize(np.load(gen_dir / "hifigan_v1_tiny_io.npz")["audio"][0, 0], 16000)
        item = AttackInput(source.astype(np.float32), 16_000, speaker="p1", seed=3, text="hi")
        vocoded = get_attack("H01")(item)
        assert vocoded.system == "H01" and vocoded.sample_rate == 16_000
        assert abs(len(vocoded.audio) - 16000) <= 256 * 16000 // 22050 + 1
        spoken = get_attack("T01")(item)
        assert spoken.system == "T01" and spoken.params["speaker"] == 7
        assert spoken.sample_rate == 16_000 and len(spoken.audio) > 1000
        assert get_attack("T01").kind == "tts" and "text" in get_attack("T01").requires
    finally:
        ATTACKS.pop("H01", None)
        ATTACKS.pop("T01", None)
