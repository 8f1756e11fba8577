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
    plot = tmp_path / "det.png"
    assert main([*args, "-f", "markdown", "--det-plot", str(plot)]) == 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
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


def test_eval_2021_two_column_scores_break_down_by_condition(tmp_path):
    rng = np.random.default_rng(0)
    keys_lines, score_lines = [], []
    for i in range(60):
        codec = ["none", "alaw", "gsm"][i % 3]
        trans = ["loc_tx", "ita_tx"][i % 2]
        spoof = i % 4 != 0
        attack, key = (f"A{7 + i % 3:02d}", "spoof") if spoof else ("-", "bonafide")
        keys_lines.append(f"LA_{i:04d} LA_E_{i:07d} {codec} {trans} {attack} {key} notrim eval")
        score = rng.normal(-2.0 if spoof else 2.0, 1.5)
        score_lines.append(f"LA_E_{i:07d} {score!r}")
    meta = tmp_path / "trial_metadata.txt"
    meta.write_text("\n".join(keys_lines) + "\n")
    scores = tmp_path / "score.txt"
    scores.write_text("\n".join(score_lines) + "\n")
    out = tmp_path / "r.json"
    args = ["eval", "-s", str(scores), "-p", str(meta), "-m", "2021", "-f", "json", "-o", str(out)]
    assert main(args) == 0
    report = json.loads(out.read_text())
    conditions = {(row["factor"], row["value"]) for row in report["per_condition"]}
    assert conditions == {
        ("codec", "alaw"), ("codec", "gsm"), ("codec", "none"),
        ("transmission", "ita_tx"), ("transmission", "loc_tx"),
    }  # fmt: skip
    assert [row["value"] for row in report["per_attack"]] == ["A07", "A08", "A09"]
    assert report["min_tdcf_2021"] is None and report["n_bonafide"] == 15
