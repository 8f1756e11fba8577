"""``voxlab features``: .npy layout, plots, errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from voxlab.cli.main import main
from voxlab.testing import chirp, noise, tone

SR = 16_000
EXPECTED_DIMS = {"mfcc": 20, "lfcc": 60, "cqcc": 60, "mel": 80, "f0": 2, "energy": 1, "zcr": 1,
                 "lpc": 19, "formants": 8}  # fmt: skip


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "voice.wav"
    y = np.concatenate([tone(150.0, seconds=0.6) + noise(seconds=0.6, scale=0.01),
                        chirp(seconds=0.4)])  # fmt: skip
    sf.write(path, y, SR)
    return path


@pytest.mark.parametrize("kind", sorted(EXPECTED_DIMS))
def test_features_writes_frames_by_dims(kind, wav, tmp_path, capsys):
    out = tmp_path / f"{kind}.npy"
    assert main(["features", str(wav), "--kind", kind, "--out", str(out)]) == 0
    feats = np.load(out)
    assert feats.dtype == np.float32 and feats.ndim == 2
    assert feats.shape[1] == EXPECTED_DIMS[kind]
    if kind == "cqcc":
        assert 100 < feats.shape[0] < 200  # frames tile the 1 s signal evenly
    else:
        assert feats.shape[0] == 1 + SR // 160  # 10 ms hop, centred frames
    assert f"{feats.shape[0]} frames x {feats.shape[1]} dims" in capsys.readouterr().out


def test_f0_column_finds_the_tone(wav, tmp_path):
    out = tmp_path / "f0.npy"
    assert (
        main(["features", str(wav), "--kind", "f0", "--f0-method", "yin", "--out", str(out)]) == 0
    )
    f0, voiced = np.load(out).T
    assert np.median(f0[10:50][voiced[10:50] > 0]) == pytest.approx(150.0, rel=0.02)


@pytest.mark.parametrize("kind", ["mfcc", "f0", "energy", "formants"])
def test_plot_is_written(kind, wav, tmp_path):
    png = tmp_path / f"{kind}.png"
    code = main(
        ["features", str(wav), "-k", kind, "-o", str(tmp_path / "x.npy"), "--plot", str(png)]
    )
    assert code == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a drawn figure, not an empty canvas


def test_errors_are_one_line_and_exit_2(wav, tmp_path, capsys):
    assert main(["features", str(tmp_path / "missing.wav"), "--kind", "mfcc",
                 "--out", str(tmp_path / "a.npy")]) == 2  # fmt: skip
    assert "missing.wav" in capsys.readouterr().err
    assert main(["features", str(wav), "--kind", "mfcc", "--out", str(tmp_path / "a.txt")]) == 2
    assert ".npy" in capsys.readouterr().err
    assert main(["features", str(wav), "--kind", "pitch", "--out", str(tmp_path / "a.npy")]) == 2
    assert main(["features", str(wav), "--kind", "f0", "--f0-method", "crepe",
                 "--out", str(tmp_path / "a.npy")]) == 2  # fmt: skip


def test_help_documents_layout(capsys):
    assert main(["features", "--help"]) == 0
    text = capsys.readouterr().out
    assert "frames x dims" in text and "formants" in text
