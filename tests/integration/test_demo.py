"""A reduced `voxlab demo`: corpus -> ASV -> train -> score -> report, end to end."""

import pytest

from voxlab.cli.main import main

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_writes_a_complete_report(tmp_path, monkeypatch, espeak, capsys):
    monkeypatch.delenv("VOXLAB_MODEL_DIR", raising=False)  # no published checkpoints
    out = tmp_path / "demo"
    code = main(["demo", "--out", str(out), "--speakers", "6", "--utterances", "3",
                 "--no-progress"])  # fmt: skip
    assert code == 0
    assert str(out / "report.md") in capsys.readouterr().out
    report = (out / "report.md").read_text()
    assert "synthetic stand-in speech" in report
    assert "| lfcc-gmm |" in report and "| aasist-l-short |" in report
    assert "V07 EER (%)" in report and "no (unseen)" in report
    assert "Published checkpoints not found locally" in report and "aasist-l" in report
    for image in ("det.png", "histograms.png", "gallery.png"):
        assert (out / image).stat().st_size > 5_000, image
    header = (out / "report.csv").read_text().splitlines()[0]
    assert header.startswith("model,parameters,EER (%),min t-DCF (2019)")
    # the run folders and score files behind the table are kept
    assert (out / "runs" / "lfcc-gmm" / "scores" / "eval_scores.txt").is_file()
    assert (out / "corpus" / "ASVspoof2019_LA_asv_scores").is_dir()
