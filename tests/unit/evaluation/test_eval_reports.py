"""evaluate() and EvalReport: metric sets, breakdowns, serialisation, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from voxlab.errors import MetricError
from voxlab.evaluation import AsvScores, compute_eer, evaluate, min_dcf


def _trials(seed: int = 0):
    rng = np.random.default_rng(seed)
    n_b, n_s = 200, 300
    scores = np.concatenate((rng.normal(2, 1, n_b), rng.normal(-2, 1.5, n_s)))
    keys = np.array(["bonafide"] * n_b + ["spoof"] * n_s)
    attacks = np.array(["-"] * n_b + [f"A0{i % 3 + 1}" for i in range(n_s)])
    codec = np.array([["none", "gsm"][i % 2] for i in range(n_b + n_s)])
    asv_keys = ["target"] * 100 + ["nontarget"] * 150 + ["spoof"] * 90
    asv_scores = np.concatenate(
        (rng.normal(5, 2, 100), rng.normal(-5, 2, 150), rng.normal(2, 3, 90))
    )
    asv_attacks = ["-"] * 250 + [f"A0{i % 3 + 1}" for i in range(90)]
    asv = AsvScores.from_keys(asv_keys, asv_scores, asv_attacks)
    return scores, keys, attacks, codec, asv


def test_metric_sets_choose_metrics():
    scores, keys, attacks, _, asv = _trials()
    r19 = evaluate(scores, keys, attacks, asv=asv, metric_set="2019")
    assert r19.min_tdcf_2019 is not None and r19.min_tdcf_2021 is None and r19.min_dcf is None
    r21 = evaluate(scores, keys, attacks, asv=asv, metric_set="2021")
    assert r21.min_tdcf_2021 is not None and r21.min_tdcf_2019 is None
    r5 = evaluate(scores, keys, attacks, metric_set="asvspoof5")
    assert r5.min_dcf == min_dcf(scores[keys == "bonafide"], scores[keys == "spoof"]).dcf
    assert r5.cllr is not None and r5.min_cllr is not None and r5.min_tdcf_2019 is None
    assert [row.min_dcf is not None for row in r5.per_attack] == [True] * 3


def test_without_asv_scores_tdcf_is_left_out_with_a_note():
    scores, keys, attacks, _, _ = _trials()
    report = evaluate(scores, keys, attacks, metric_set="2019")
    assert report.min_tdcf_2019 is None
    assert any("no ASV scores" in note for note in report.notes)
    assert report.eer == compute_eer(scores[keys == "bonafide"], scores[keys == "spoof"]).eer


def test_per_attack_uses_attack_specific_asv_spoof_scores():
    scores, keys, attacks, _, asv = _trials()
    report = evaluate(scores, keys, attacks, asv=asv, metric_set="all")
    assert [row.value for row in report.per_attack] == ["A01", "A02", "A03"]
    for row in report.per_attack:
        assert row.n_bonafide == 200 and row.n_spoof == 100
        bona, spoof = scores[keys == "bonafide"], scores[attacks == row.value]
        assert row.eer == compute_eer(bona, spoof).eer
        assert row.min_tdcf_2019 is not None and row.min_tdcf_2021 is not None


def test_per_condition_breakdown_and_serialisation():
    scores, keys, attacks, codec, asv = _trials()
    report = evaluate(
        scores, keys, attacks, asv=asv, metric_set="2021", conditions={"codec": codec}
    )
    rows = {row.value: row for row in report.per_condition}
    assert set(rows) == {"gsm", "none"}
    sel = codec == "gsm"
    expected = compute_eer(scores[sel & (keys == "bonafide")], scores[sel & (keys == "spoof")])
    assert rows["gsm"].eer == expected.eer
    data = json.loads(json.dumps(report.to_dict()))
    assert data["per_condition"][0]["factor"] == "codec"
    assert data["asv_operating_point"]["thr"] == report.asv.threshold
    md = report.to_markdown()
    assert "### Per attack" in md and "### Per condition" in md and "min t-DCF 2021" in md


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric_set": "2020"}, "unknown metric set"),
        ({"keys": ["bonafide", "fake"]}, "'bonafide' or 'spoof'"),
        ({"keys": ["spoof", "spoof"]}, "both bona fide and spoof"),
        ({"scores": [1.0, float("nan")]}, "NaN or Inf"),
        ({"attacks": ["-"]}, "attack ids"),
    ],
)
def test_evaluate_errors(kwargs, match):
    args = {"scores": [1.0, 0.0], "keys": ["bonafide", "spoof"], "attacks": None}
    args.update(kwargs)
    metric_set = args.pop("metric_set", "2019")
    with pytest.raises(MetricError, match=match):
        evaluate(args["scores"], args["keys"], args["attacks"], metric_set=metric_set)


def test_single_trial_raises():
    with pytest.raises(MetricError):
        evaluate([1.0], ["bonafide"])


def test_plot_det_writes_an_image_and_rejects_nothing(tmp_path):
    from voxlab.evaluation import det_curve
    from voxlab.evaluation.plots import plot_det

    scores, keys, _, _, _ = _trials()
    det = det_curve(scores[keys == "bonafide"], scores[keys == "spoof"])
    out = plot_det({"pooled": det}, tmp_path / "det.png")
    assert out.stat().st_size > 1000
    with pytest.raises(MetricError, match="at least one"):
        plot_det({}, tmp_path / "none.png")


def test_breakdown_table_says_why_a_cell_is_empty():
    scores, keys, attacks, _, asv = _trials()
    one = attacks == "A03"
    scores[one] = -3.0  # two distinct scores in A03's trials: its t-DCF is undefined
    scores[keys == "bonafide"] = 1.0
    report = evaluate(scores, keys, attacks, asv=asv, metric_set="2019")
    header, body = report.breakdown_table(report.per_attack)
    assert header[-1] == "note"
    rows = {cells[1]: cells for cells in body}
    a03 = rows["A03"]
    assert a03[header.index("min t-DCF 2019")] == "-" and "distinct" in a03[-1]
    assert rows["A01"][-1] == ""
    assert all(len(cells) == len(header) for cells in body)
    md = report.to_markdown()
    assert "| note |" in md
