"""`voxlab detect --model ssl-aasist --checkpoint ...` reproduces the official logits from files.

The tiny official-layout checkpoint and its expected logits come from the unmodified
official SSL-AASIST code (``shared/fixtures/ssl``). The waveforms are written to float WAV
files here and scored through the whole file path (decoding, input policy, batching, JSON
output). Tolerance: atol 1e-5 on both logits.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("transformers")

from voxlab.cli.main import main

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("one_torch_thread")]
ATOL = 1e-5


@pytest.fixture(scope="module")
def ssl_dir(fixtures_dir):
    return fixtures_dir / "ssl"


@pytest.fixture(scope="module")
def wav_files(ssl_dir, tmp_path_factory):
    io = np.load(ssl_dir / "tiny_io.npz")
    folder = tmp_path_factory.mktemp("ssl_wavs")
    files, expected = [], []
    for case in (0, 1, 3):  # full-length clips (64,600 samples) and a 2-s clip
        for i, wave in enumerate(io[f"case{case}_wav"]):
            path = folder / f"case{case}_{i}.wav"
            sf.write(path, wave, 16_000, subtype="FLOAT")
            files.append(path)
            expected.append(io[f"case{case}_logits"][i])
    pads = []
    for j in range(3):  # raw clips that the official policy tiles/crops to 64,600
        path = folder / f"pad{j}.wav"
        sf.write(path, io[f"pad_raw{j}"], 16_000, subtype="FLOAT")
        pads.append(path)
    return files, np.stack(expected), pads, io["case2_logits"]


def _detect(args, capsys):
    code = main(["detect", *map(str, args), "--format", "json", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return {row["path"]: row for row in json.loads(captured.out)}


def test_full_policy_reproduces_tiny_logits(ssl_dir, wav_files, capsys):
    files, expected, _, _ = wav_files
    rows = _detect(
        [
            *files,
            "--model",
            "ssl-aasist",
            "--checkpoint",
            ssl_dir / "tiny_official_layout.pth",
            "--ssl-config",
            ssl_dir / "tiny_config.json",
            "--policy",
            "full",
            "--batch-size",
            "2",
        ],
        capsys,
    )
    got = np.array([rows[str(f)]["logits"] for f in files])
    np.testing.assert_allclose(got, expected, atol=ATOL)
    assert all(rows[str(f)]["score"] == rows[str(f)]["logits"][1] for f in files)


def test_official_policy_pads_like_the_official_evaluation(ssl_dir, wav_files, capsys):
    _, _, pads, expected = wav_files
    rows = _detect(
        [
            *pads,
            "--model",
            "ssl-aasist",
            "--checkpoint",
            ssl_dir / "tiny_official_layout.pth",
            "--ssl-config",
            ssl_dir / "tiny_config.json",
            "--policy",  # the default (auto) windows the 70,000-sample clip
            "official",
        ],
        capsys,
    )
    got = np.array([rows[str(p)]["logits"] for p in pads])
    np.testing.assert_allclose(got, expected, atol=ATOL)
    assert {rows[str(p)]["policy"] for p in pads} == {"official"}


def test_registered_local_model_and_clear_errors(ssl_dir, wav_files, capsys):
    files, expected, _, _ = wav_files
    checkpoint = ssl_dir / "tiny_official_layout.pth"
    config = ssl_dir / "tiny_config.json"
    add = ["models", "add", "tiny-ssl", "--checkpoint", str(checkpoint), "--arch", "ssl-aasist"]
    assert main([*add, "--ssl-config", str(config)]) == 0
    capsys.readouterr()
    rows = _detect([files[0], "--model", "tiny-ssl", "--policy", "full"], capsys)
    np.testing.assert_allclose(rows[str(files[0])]["logits"], expected[0], atol=ATOL)
    assert main(["models", "list", "--format", "json"]) == 0
    listed = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed["tiny-ssl"]["model"] == "ssl-aasist"
    assert Path(listed["tiny-ssl"]["local"]).resolve() == checkpoint.resolve()
    # --ssl-config with a non-SSL model, and an AASIST-style file given to ssl-aasist
    assert main(["detect", str(files[0]), "--model", "aasist", "--checkpoint",
                 str(checkpoint), "--ssl-config", str(config)]) == 2  # fmt: skip
    assert "--ssl-config applies to the SSL models" in capsys.readouterr().err
    backend = ssl_dir / "backend_state_dict.pth"
    assert main(["detect", str(files[0]), "--model", "ssl-aasist", "--checkpoint",
                 str(backend), "--no-progress"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "backend_state_dict.pth" in err and "no SSL front end" in err
    # the published SSL entries cannot be downloaded: the message says how to get them
    assert main(["detect", str(files[0]), "--model", "ssl-aasist-la", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "drive.google.com" in err and "voxlab models add" in err
