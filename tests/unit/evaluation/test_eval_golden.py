"""Official metric values on the published RawGAT-ST (add) ASVspoof 2019 LA eval scores.

The expected numbers were computed by the official implementations (fixture
``metrics/expected_rawgat_st_add.json``); voxlab must reproduce them to 1e-9 relative.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from voxlab.evaluation import AsvScores, asv_operating_point, compute_eer, evaluate

RTOL = 1e-9


@pytest.fixture(scope="module")
def golden(fixtures_dir):
    expected = json.loads((fixtures_dir / "metrics" / "expected_rawgat_st_add.json").read_text())
    cm = np.genfromtxt(fixtures_dir / "metrics" / expected["scores"], dtype=str)
    asv_path = fixtures_dir / "asvspoof2019_la" / "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt"
    asv_raw = np.genfromtxt(asv_path, dtype=str)
    asv = AsvScores.from_keys(asv_raw[:, 1], asv_raw[:, 2].astype(float), asv_raw[:, 0])
    return expected, cm, asv


def test_asv_operating_point_matches_official(golden):
    expected, _, asv = golden
    op = asv_operating_point(asv).to_dict()
    for name, value in expected["asv_operating_point"].items():
        assert op[name] == pytest.approx(value, rel=RTOL), name


def test_pooled_metrics_match_official(golden):
    expected, cm, asv = golden
    report = evaluate(cm[:, 3].astype(float), cm[:, 2], cm[:, 1], asv=asv, metric_set="all")
    assert report.n_bonafide == expected["n_bonafide"]
    assert report.n_spoof == expected["n_spoof"]
    checks = {
        "eer_percent": "asvspoof2019_eer_percent",
        "eer_threshold": "eer_threshold",
        "min_tdcf_2019": "asvspoof2019_min_tdcf",
        "min_tdcf_2021": "asvspoof2021_min_tdcf",
        "min_dcf": "asvspoof5_minDCF",
        "min_dcf_threshold": "asvspoof5_minDCF_threshold",
        "act_dcf": "asvspoof5_actDCF",
        "act_dcf_threshold": "asvspoof5_actDCF_threshold",
        "cllr": "cllr_bits",
    }
    got = report.to_dict()
    for ours, theirs in checks.items():
        assert got[ours] == pytest.approx(expected[theirs], rel=RTOL), ours
    assert [row.value for row in report.per_attack] == [f"A{i:02d}" for i in range(7, 20)]
    assert report.min_cllr is not None and 0 < report.min_cllr < report.cllr


def test_per_attack_rows_equal_direct_computation(golden):
    _, cm, asv = golden
    scores, keys, attacks = cm[:, 3].astype(float), cm[:, 2], cm[:, 1]
    report = evaluate(scores, keys, attacks, asv=asv, metric_set="2019")
    bona = scores[keys == "bonafide"]
    for row in report.per_attack:
        spoof = scores[attacks == row.value]
        assert row.n_spoof == spoof.size == 4914
        assert row.eer == compute_eer(bona, spoof).eer
        assert row.min_tdcf_2019 is not None and 0 < row.min_tdcf_2019 < 1
