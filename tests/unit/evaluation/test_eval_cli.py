"""``voxlab eval`` end to end on the published RawGAT-ST scores (golden numbers)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from voxlab.cli.main import main

RTOL = 1e-9


@pytest.fixture(scope="module")
def paths(fixtures_dir):
    return {
        "scores": fixtures_dir / "metrics" / "rawgat_st_add_eval_scores.txt",
        "asv": fixtures_dir / "asvspoof2019_la" / "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt",
        "protocol": fixtures_dir / "asvspoof2019_la" / "ASVspoof2019.LA.cm.eval.trl.txt",
        "expected": json.loads(
            (fixtures_dir / "metrics" / "expected_rawgat_st_add.json").read_text()
        ),
    }


def test_eval_json_matches_official_numbers(paths, tmp_path):
    out = tmp_path / "report.json"
    args = ["eval", "--scores", str(paths["scores"]), "--asv-scores", str(paths["asv"])]
    code = main([*args, "--metric-set", "all", "--format", "json", "--out", str(out)])
    assert code == 0
    got = json.loads(out.read_text())
    exp = paths["expected"]
    assert got["eer_percent"] == pytest.approx(exp["asvspoof2019_eer_percent"], rel=RTOL)
    assert got["min_tdcf_2019"] == pytest.approx(exp["asvspoof2019_min_tdcf"], rel=RTOL)
    assert got["min_tdcf_2021"] == pytest.approx(exp["asvspoof2021_min_tdcf"], rel=RTOL)
    assert got["min_dcf"] == pytest.approx(exp["asvspoof5_minDCF"], rel=RTOL)
    assert got["act_dcf"] == pytest.approx(exp["asvspoof5_actDCF"], rel=RTOL)
    assert got["cllr"] == pytest.approx(exp["cllr_bits"], rel=RTOL)
    for name, value in exp["asv_operating_point"].items():
        assert got["asv_operating_point"][name] == pytest.approx(value, rel=RTOL)
    assert [row["value"] for row in got["per_attack"]] == [f"A{i:02d}" for i in range(7, 20)]


def test_eval_two_column_scores_with_protocol_markdown(paths, tmp_path, capsys):
    raw = np.genfromtxt(paths["scores"], dtype=str)
    two = tmp_path / "two.txt"
    two.write_text("".join(f"{u} {s}\n" for u, s in zip(raw[:, 0], raw[:, 3], strict=True)))
    args = ["eval", "-s", str(two), "-p", str(paths["protocol"]), "-a", str(paths["asv"])]
    assert main([*args, "-f", "markdown"]) == 0
    text = capsys.readouterr().out
    assert "| EER (%) | 1.1586 |" in text
    assert "| min t-DCF (ASVspoof 2019) | 0.037372 |" in text
    assert "| attack | A17 | 7355 | 4914 |" in text


def test_eval_table_and_errors(paths, tmp_path, capsys):
    assert main(["eval", "-s", str(paths["scores"])]) == 0
    captured = capsys.readouterr()
    assert "Per attack" in captured.out and "EER (%)" in captured.out
    assert "no ASV scores" in captured.err
    bad = tmp_path / "bad.txt"
    bad.write_text("a - bonafide 1\nb A07 spoof nan\n")
    assert main(["eval", "-s", str(bad)]) == 2
    assert "bad.txt:2: score 'nan' is not finite" in capsys.readouterr().err
    assert main(["eval", "-s", str(paths["scores"]), "-m", "2020"]) == 2
