"""`voxlab calibrate` and calibrated verdicts in `voxlab detect` (tiny model, real files)."""

import hashlib
import json

import numpy as np
import pytest

from voxlab.cli.main import main

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = {
    "n_filters": 12,
    "sinc_kernel_size": 64,
    "encoder_channels": [4, 4, 8, 8],
    "gat_dims": [8, 8],
    "num_samples": 16000,
}


def write_scores(path, seed=0, n=300):
    rng = np.random.default_rng(seed)
    lines = [f"B{i:04d} - bonafide {0.5 * rng.normal(2, 1) + 3:.6f}" for i in range(n)]
    lines += [f"S{i:04d} A01 spoof {0.5 * rng.normal(-1, 1) + 3:.6f}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny AASIST checkpoint (voxlab format) and two short audio files."""
    import torch

    from voxlab.audio import save
    from voxlab.models.checkpoints import save_checkpoint
    from voxlab.models.registry import build_model
    from voxlab.testing import noise, tone

    root = tmp_path_factory.mktemp("tiny")
    torch.manual_seed(0)
    ckpt = save_checkpoint(build_model("aasist", **TINY), root / "tiny.safetensors")
    other = root / "other"
    other.mkdir()
    torch.manual_seed(1)
    ckpt2 = save_checkpoint(build_model("aasist", **TINY), other / "tiny2.safetensors")
    audio = root / "audio"
    audio.mkdir()
    save(audio / "a.wav", tone(220.0, seconds=1.0) + noise(seconds=1.0, scale=0.01), 16_000)
    save(audio / "b.wav", noise(seconds=1.0, seed=3), 16_000)
    return {"ckpt": ckpt, "other": ckpt2, "audio": audio}


def calibrate_cli(tmp_path, ckpt, capsys, *extra):
    scores = write_scores(tmp_path / "dev.txt")
    out = tmp_path / "cal.json"
    code = main(["calibrate", "-s", str(scores), "--checkpoint", str(ckpt), "-o", str(out), *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return out, captured


def test_calibrate_writes_the_model_identity_and_metrics(tmp_path, tiny, capsys):
    out, captured = calibrate_cli(tmp_path, tiny["ckpt"], capsys)
    doc = json.loads(out.read_text())
    assert doc["model"] == {
        "name": "tiny",
        "checkpoint_sha256": sha256(tiny["ckpt"]),
        "checkpoint": str(tiny["ckpt"]),
    }
    assert doc["source"]["n_bonafide"] == 300 and doc["source"]["n_spoof"] == 300
    assert doc["source"]["sha256"] == sha256(tmp_path / "dev.txt")
    assert doc["metrics"]["after"]["cllr"] < doc["metrics"]["before"]["cllr"]
    # scores are 0.5 * N(2 | -1, 1) + 3: the LLR is 6 s - 19.5
    assert doc["slope"] == pytest.approx(6.0, rel=0.15)
    assert doc["p_spoof"] == 0.05 and doc["c_fa"] == 10.0
    assert "cllr" in captured.out and "verdict bona fide when score >=" in captured.out


def test_calibrate_json_output_and_prior(tmp_path, tiny, capsys):
    out, captured = calibrate_cli(tmp_path, tiny["ckpt"], capsys, "--prior", "0.3", "-f", "json")
    doc = json.loads(captured.out)
    assert doc == json.loads(out.read_text())
    assert doc["p_spoof"] == 0.3
    assert doc["effective_prior"] == pytest.approx(0.7 / (0.7 + 3.0))


def test_calibrate_a_published_model_by_name(tmp_path, fixtures_dir, monkeypatch, capsys):
    scores = write_scores(tmp_path / "dev.txt")
    monkeypatch.delenv("VOXLAB_MODEL_DIR", raising=False)
    args = ["calibrate", "-s", str(scores), "-m", "aasist-l", "-o", str(tmp_path / "a.json")]
    assert main(args) == 0  # not downloaded: the published checksum identifies the file
    published = json.loads((tmp_path / "a.json").read_text())["model"]
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    assert main([*args[:-1], str(tmp_path / "b.json")]) == 0
    local = json.loads((tmp_path / "b.json").read_text())["model"]
    assert published["checkpoint_sha256"] == local["checkpoint_sha256"]
    assert local["checkpoint_sha256"] == sha256(fixtures_dir / "pretrained" / "aasist_l.pth")
    capsys.readouterr()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--checkpoint", "missing.pth"], "checkpoint file not found"),
        (["-m", "nonesuch"], "unknown pretrained model"),
    ],
)
def test_calibrate_bad_input(tmp_path, capsys, args, message):
    scores = write_scores(tmp_path / "dev.txt")
    assert main(["calibrate", "-s", str(scores), "-o", str(tmp_path / "c.json"), *args]) == 2
    assert message in capsys.readouterr().err


def test_calibrate_without_a_model_writes_an_unnamed_calibration(tmp_path, tiny, capsys):
    scores = write_scores(tmp_path / "dev.txt")
    out = tmp_path / "cal.json"
    assert main(["calibrate", "--scores", str(scores), "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "names no model" in captured.err and "cllr" in captured.out
    doc = json.loads(out.read_text())
    assert (
        doc["model"] is None and doc["metrics"]["after"]["cllr"] < doc["metrics"]["before"]["cllr"]
    )
    args = [str(tiny["audio"] / "a.wav"), "--checkpoint", str(tiny["ckpt"]), "--calibration"]
    code, captured = detect([*args, str(out)], capsys)
    assert code == 2 and "names no model" in captured.err


def test_calibrate_two_column_scores_need_a_protocol(tmp_path, tiny, capsys):
    scores = tmp_path / "s.txt"
    scores.write_text("u1 0.5\nu2 -0.5\n")
    code = main(["calibrate", "-s", str(scores), "--checkpoint", str(tiny["ckpt"]), "-o", "c.json"])
    assert code == 2 and "give the protocol" in capsys.readouterr().err


def detect(args, capsys):
    code = main(["detect", *args, "--format", "json", "--no-progress"])
    captured = capsys.readouterr()
    return code, captured


def test_detect_reports_calibrated_fields(tmp_path, tiny, capsys):
    cal_path, _ = calibrate_cli(tmp_path, tiny["ckpt"], capsys)
    cal = json.loads(cal_path.read_text())
    args = [str(tiny["audio"]), "--checkpoint", str(tiny["ckpt"]), "--calibration", str(cal_path)]
    code, captured = detect(args, capsys)
    assert code == 0, captured.err
    rows = json.loads(captured.out)
    assert len(rows) == 2 and "no calibration" not in captured.err
    for row in rows:
        assert row["calibrated"] is True and row["prior_spoof"] == 0.05
        assert row["calibration"] == str(cal_path)
        llr = cal["slope"] * row["score"] + cal["offset"]
        assert row["llr"] == pytest.approx(llr)
        assert row["p_spoof"] == pytest.approx(1 / (1 + np.exp(llr + np.log(0.95 / 0.05))))
        bayes = np.log(10 * 0.05 / 0.95)
        assert row["verdict"] == ("bonafide" if llr >= bayes else "spoof")
        assert row["threshold"] == pytest.approx((bayes - cal["offset"]) / cal["slope"])
    # a stated prior changes the posterior and the threshold
    code, captured = detect([*args, "--prior", "0.5"], capsys)
    for row in json.loads(captured.out):
        llr = row["llr"]
        assert row["prior_spoof"] == 0.5
        assert row["p_spoof"] == pytest.approx(1 / (1 + np.exp(llr)))


def test_detect_finds_a_calibration_beside_the_checkpoint(tmp_path, tiny, capsys):
    cal_path, _ = calibrate_cli(tmp_path, tiny["ckpt"], capsys)
    beside = tiny["ckpt"].with_name("tiny.calibration.json")
    beside.write_text(cal_path.read_text())
    try:
        code, captured = detect(
            [str(tiny["audio"] / "a.wav"), "--checkpoint", str(tiny["ckpt"])], capsys
        )
        row = json.loads(captured.out)[0]
        assert code == 0 and row["calibrated"] is True and row["calibration"] == str(beside)
    finally:
        beside.unlink()


def test_detect_refuses_a_calibration_of_another_model(tmp_path, tiny, capsys):
    cal_path, _ = calibrate_cli(tmp_path, tiny["ckpt"], capsys)
    args = [str(tiny["audio"]), "--checkpoint", str(tiny["other"]), "--calibration", str(cal_path)]
    code, captured = detect(args, capsys)
    assert code == 2 and captured.out == ""
    assert "was fitted on scores of 'tiny'" in captured.err
    assert "not on this model 'tiny2'" in captured.err and "voxlab calibrate" in captured.err


def test_detect_says_plainly_when_there_is_no_calibration(tiny, capsys):
    code, captured = detect([str(tiny["audio"]), "--checkpoint", str(tiny["ckpt"])], capsys)
    assert code == 0
    assert "note: tiny has no calibration" in captured.err
    assert "not a calibrated probability for your audio" in captured.err
    assert "voxlab calibrate --scores dev.txt --model tiny" in captured.err
    for row in json.loads(captured.out):
        assert row["calibrated"] is False and row["llr"] is None
        spoof, bona = row["logits"]
        assert row["p_spoof"] == pytest.approx(1 / (1 + np.exp(bona - spoof)))


def test_detect_published_model_note_names_its_operating_point(
    fixtures_dir, monkeypatch, tiny, capsys
):
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    code, captured = detect([str(tiny["audio"] / "b.wav"), "--model", "aasist-l"], capsys)
    assert code == 0
    assert "aasist-l has no calibration" in captured.err
    assert "score >= 0 (0.0 = arg-max of the two-class head" in captured.err
    assert "operating point of its training data" in captured.err


def test_detect_calibration_option_conflicts(tmp_path, tiny, capsys):
    cal_path, _ = calibrate_cli(tmp_path, tiny["ckpt"], capsys)
    base = [str(tiny["audio"] / "a.wav"), "--checkpoint", str(tiny["ckpt"])]
    code, captured = detect([*base, "--calibration", str(cal_path), "--threshold", "0.5"], capsys)
    assert code == 2 and "drop --threshold" in captured.err
    code, captured = detect([*base, "--prior", "0.3"], capsys)
    assert code == 2 and "--prior needs a calibration of 'tiny'" in captured.err
    code, captured = detect([*base, "--calibration", str(cal_path), "--prior", "1.5"], capsys)
    assert code == 2 and "strictly between 0 and 1" in captured.err
    code, captured = detect([*base, "--calibration", str(tmp_path / "nope.json")], capsys)
    assert code == 2 and "calibration file not found" in captured.err


def test_models_list_states_the_operating_point(fixtures_dir, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    assert main(["models", "list", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["aasist"]["verdict"] == "uncalibrated: score >= 0"
    assert "arg-max" in rows["aasist"]["threshold_source"]
    assert rows["aasist"]["calibration"] is None
    assert main(["models", "list"]) == 0
    assert "ASVspoof operating point" in capsys.readouterr().err


def test_a_catalogue_model_uses_the_calibration_stored_beside_it(
    tmp_path, fixtures_dir, monkeypatch, tiny, capsys
):
    import shutil

    model_dir = tmp_path / "models"
    model_dir.mkdir()
    shutil.copy(fixtures_dir / "pretrained" / "aasist_l.pth", model_dir / "aasist_l.pth")
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(model_dir))
    scores = write_scores(tmp_path / "dev.txt")
    beside = model_dir / "aasist_l.calibration.json"
    assert main(["calibrate", "-s", str(scores), "-m", "aasist-l", "-o", str(beside)]) == 0
    capsys.readouterr()
    code, captured = detect([str(tiny["audio"] / "a.wav"), "--model", "aasist-l"], capsys)
    row = json.loads(captured.out)[0]
    assert code == 0 and row["calibrated"] is True and row["calibration"] == str(beside)
    assert "no calibration" not in captured.err
    assert main(["models", "list", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["aasist-l"]["calibration"] == str(beside)
    assert rows["aasist-l"]["verdict"] == "calibrated"
    # a calibration of another model stored beside it is refused, not silently used
    doc = json.loads(beside.read_text())
    doc["model"]["checkpoint_sha256"] = "0" * 64
    beside.write_text(json.dumps(doc))
    code, captured = detect([str(tiny["audio"] / "a.wav"), "--model", "aasist-l"], capsys)
    assert code == 2 and "aasist_l.calibration.json was fitted on scores" in captured.err


def test_windows_segments_get_calibrated_probabilities(tmp_path, tiny, capsys):
    cal_path, _ = calibrate_cli(tmp_path, tiny["ckpt"], capsys)
    cal = json.loads(cal_path.read_text())
    args = [str(tiny["audio"] / "a.wav"), "--checkpoint", str(tiny["ckpt"]), "--segments"]
    args += ["--calibration", str(cal_path), "--policy", "windows", "--window", "0.5"]
    args += ["--hop", "0.25"]
    code, captured = detect(args, capsys)
    assert code == 0, captured.err
    row = json.loads(captured.out)[0]
    assert len(row["segments"]) >= 3
    for seg in row["segments"]:
        llr = cal["slope"] * seg["score"] + cal["offset"]
        assert seg["p_spoof"] == pytest.approx(1 / (1 + np.exp(llr + np.log(0.95 / 0.05))))
