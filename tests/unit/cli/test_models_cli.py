import json

import pytest

from voxlab.cli.main import main


@pytest.fixture
def model_dir(fixtures_dir, monkeypatch):
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    return fixtures_dir / "pretrained"


def test_models_list_shows_catalogue_and_local_copies(model_dir, capsys):
    assert main(["models", "list", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {
        "aasist",
        "aasist-l",
        "aasist-asvspoof5",
        "rawgat-st",
        "rawgat-st-add",
        "ssl-aasist-la",
        "ssl-aasist-df",
        "xlsr-sls-df",
        "voxlab-wild",
    }
    assert rows["aasist"]["local"] == str(model_dir / "aasist.pth")
    assert rows["voxlab-wild"]["verdict"] == "calibrated"  # ships with its calibration
    assert rows["aasist"]["verdict"].startswith("uncalibrated")
    assert rows["aasist"]["url"].startswith("https://github.com/clovaai/aasist/")
    assert len(rows["rawgat-st"]["sha256"]) == 64


def test_models_list_without_local_copies(monkeypatch, capsys):
    monkeypatch.delenv("VOXLAB_MODEL_DIR", raising=False)
    assert main(["models", "list", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.count("not downloaded") == 8 and "voxlab_wild.safetensors" in out  # packaged


def test_pull_finds_and_verifies_a_local_copy(model_dir, capsys):
    assert main(["models", "pull", "aasist-l"]) == 0
    assert str(model_dir / "aasist_l.pth") in capsys.readouterr().out


def test_pull_unknown_model_is_a_clear_error(capsys):
    assert main(["models", "pull", "wav2vec-magic"]) == 2
    assert "wav2vec-magic" in capsys.readouterr().err


@pytest.mark.slow
def test_export_onnx_checks_against_pytorch(model_dir, tmp_path, capsys):
    out = tmp_path / "aasist_l.onnx"
    assert main(["export", "--model", "aasist-l", "--onnx", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.stat().st_size > 100_000
    error = float(text.rsplit("max |diff|", 1)[1].split()[0])
    assert error < 1e-4


def test_models_list_says_which_set_a_published_result_is_on(model_dir, capsys):
    assert main(["models", "list", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["aasist-asvspoof5"]["reported"].startswith("ASVspoof 5 dev")
    assert rows["aasist"]["reported"].startswith("ASVspoof 2019 LA eval")
    assert main(["models", "list"]) == 0
    header = capsys.readouterr().out.splitlines()[1]
    assert "reported" in header and "eer_percent" not in header
