"""The `voxlab-wild` catalogue entry: voxlab's own AASIST-L fine-tune, shipped in the package."""

from __future__ import annotations

import json

import pytest
from safetensors import safe_open

from voxlab import pretrained
from voxlab.detection.calibrated import calibration_for, calibration_path_for


def test_weights_ship_inside_the_package_and_match_the_catalogue(tmp_path, monkeypatch):
    monkeypatch.setenv("VOXLAB_HOME", str(tmp_path))  # empty cache
    monkeypatch.delenv("VOXLAB_MODEL_DIR", raising=False)
    entry = pretrained.get_entry("voxlab-wild")
    assert entry.is_packaged and not entry.is_local
    path = pretrained.resolve_checkpoint("voxlab-wild", download=False)
    assert path.is_file() and path.parent.name == "weights"
    assert pretrained.sha256_of(path) == entry.sha256
    assert pretrained.pull("voxlab-wild", download=False) == path  # nothing to download
    with safe_open(str(path), "pt") as fh:
        assert fh.metadata()["model"] == entry.model == "aasist-l"
    assert entry.eer_percent is not None and "voxlab-wild eval" in entry.reported


def test_missing_packaged_file_names_the_fix(monkeypatch):
    entry = pretrained.get_entry("voxlab-wild")
    broken = pretrained.PretrainedEntry(
        **{**entry.__dict__, "url": pretrained.PACKAGE_SCHEME + "voxlab.models/weights/gone.pt"}
    )
    with pytest.raises(pretrained.CheckpointError, match="reinstall voxlab"):
        pretrained.packaged_path(broken)


def test_loads_strictly_and_scores(tmp_path):
    import numpy as np
    import torch

    model = pretrained.load_pretrained("voxlab-wild", download=False)
    assert sum(p.numel() for p in model.parameters()) == 85034
    rng = np.random.default_rng(0)
    wave = torch.from_numpy(rng.standard_normal((1, 64600)).astype(np.float32) * 0.05)
    with torch.no_grad():
        logits = model(wave)
    assert logits.shape == (1, 2) and torch.isfinite(logits).all()


def test_calibration_ships_beside_the_weights_and_is_checked():
    path = pretrained.resolve_checkpoint("voxlab-wild", download=False)
    cal_file = calibration_path_for(path)
    assert cal_file.is_file()
    data = json.loads(cal_file.read_text())
    assert data["model"]["checkpoint_sha256"] == pretrained.get_entry("voxlab-wild").sha256
    assert data["model"]["name"] == "voxlab-wild"
    cal, found = calibration_for("voxlab-wild", None)
    assert found == cal_file and cal is not None
    assert cal.slope > 0  # higher score = more bona fide, as for every voxlab model


def test_detect_defaults_to_voxlab_wild_with_calibrated_verdicts(
    fixtures_dir, tmp_path, monkeypatch, capsys
):
    from voxlab.cli.main import main

    monkeypatch.setenv("VOXLAB_HOME", str(tmp_path))  # nothing downloaded, no fixtures
    monkeypatch.delenv("VOXLAB_MODEL_DIR", raising=False)
    path = fixtures_dir / "parity" / "espeak_en_short_16k.flac"
    assert main(["detect", str(path), "--format", "json", "--no-progress", "--no-download"]) == 0
    row = json.loads(capsys.readouterr().out)[0]
    assert row["model"] == "voxlab-wild" and row["calibrated"] is True
    cal, _ = calibration_for("voxlab-wild", None)
    assert row["llr"] == pytest.approx(cal.slope * row["score"] + cal.offset, abs=1e-4)
    assert row["verdict"] in ("bonafide", "spoof")
