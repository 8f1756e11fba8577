"""EER, DET, Cllr, min Cllr, minDCF/actDCF and t-DCF on hand-computed and random data."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from voxlab.errors import MetricError
from voxlab.evaluation import (
    AsvOperatingPoint,
    AsvScores,
    DcfCostModel,
    LegacyCostModel,
    act_dcf,
    asv_operating_point,
    cllr,
    compute_eer,
    det_curve,
    min_cllr,
    min_dcf,
    min_tdcf_legacy,
    min_tdcf_revised,
    split_by_key,
)
from voxlab.evaluation.metrics import pav_reference

_SPEC = importlib.util.spec_from_file_location(
    "voxlab_tests_official_style", Path(__file__).with_name("_official_style.py")
)
ref = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ref)


def test_eer_perfect_separation_hand_computed():
    res = compute_eer([3.0, 4.0], [1.0, 2.0])
    # sorted 1s 2s 3b 4b: frr 0 0 0 .5 1, far 1 .5 0 0 0 -> |diff| smallest at index 2
    assert res.eer == 0.0
    assert res.threshold == 2.0


def test_eer_ties_put_bonafide_first_like_the_official_code():
    # sorted with bona fide first on the tie: 1b 2b 2s 3s -> frr 0 .5 1 1 1, far 1 1 1 .5 0
    res = compute_eer([1.0, 2.0], [2.0, 3.0])
    assert res.eer == 1.0
    assert res.threshold == 2.0
    # spoof-first ordering would have given 0.5: the tie rule matters and is kept
    assert res.eer == ref.eer(np.array([1.0, 2.0]), np.array([2.0, 3.0]))[0]


def test_eer_tiny_set_with_ties_hand_computed():
    # 0s 1b 2b 2b 2s: frr 0 0 1/3 2/3 1 1, far 1 .5 .5 .5 .5 0. |diff| is 1/6 at points 2
    # and 3 in exact arithmetic, but in float64 |2/3 - 1/2| < |1/3 - 1/2|, so the official
    # argmin (and voxlab) lands on point 3: EER = (2/3 + 1/2) / 2 at threshold 2.
    res = compute_eer([1.0, 2.0, 2.0], [0.0, 2.0])
    assert res.eer == pytest.approx((2 / 3 + 1 / 2) / 2, abs=1e-15)
    assert res.threshold == 2.0
    assert (res.eer, res.threshold) == ref.eer(np.array([1.0, 2.0, 2.0]), np.array([0.0, 2.0]))


def test_det_curve_points_hand_computed():
    det = det_curve([1.0, 3.0], [2.0])
    np.testing.assert_array_equal(det.frr, [0.0, 0.5, 0.5, 1.0])
    np.testing.assert_array_equal(det.far, [1.0, 1.0, 0.0, 0.0])
    np.testing.assert_allclose(det.thresholds, [0.999, 1.0, 2.0, 3.0], rtol=0, atol=1e-15)


@pytest.mark.parametrize("seed", range(6))
def test_eer_matches_official_style_on_random_scores_with_ties(seed):
    rng = np.random.default_rng(seed)
    bona = np.round(rng.normal(1.0, 1.0, 300), 1)  # rounding creates many ties
    spoof = np.round(rng.normal(-1.0, 1.0, 500), 1)
    res = compute_eer(bona, spoof)
    eer, thr = ref.eer(bona, spoof)
    assert res.eer == eer and res.threshold == thr  # exact (same arithmetic)
    frr, far, thr_all = ref.det_curve(bona, spoof)
    det = det_curve(bona, spoof)
    np.testing.assert_array_equal(det.frr, frr)
    np.testing.assert_array_equal(det.far, far)
    np.testing.assert_array_equal(det.thresholds, thr_all)


@pytest.mark.parametrize(
    ("bona", "spoof", "match"),
    [
        ([], [1.0, 2.0], "both bona fide and spoof"),
        ([1.0, 2.0], [], "both bona fide and spoof"),
        ([1.0, 1.0], [1.0], "all scores are equal"),
        ([1.0, float("nan")], [0.0], "NaN or Inf"),
        ([1.0, 2.0], [float("inf")], "NaN or Inf"),
        ([1.0], [], "both bona fide"),
        ([[1.0, 2.0]], [0.0], "1-D"),
    ],
)
def test_degenerate_inputs_raise_metric_error(bona, spoof, match):
    with pytest.raises(MetricError, match=match):
        compute_eer(bona, spoof)


def test_split_by_key_rejects_unknown_labels_and_mismatch():
    with pytest.raises(MetricError, match="'bonafide' or 'spoof'"):
        split_by_key([1.0, 2.0], ["bona-fide", "spoof"])
    with pytest.raises(MetricError, match="2 scores but 1 keys"):
        split_by_key([1.0, 2.0], ["spoof"])
    bona, spoof = split_by_key([1.0, 2.0, 3.0], ["spoof", "bonafide", "spoof"])
    assert bona.tolist() == [2.0] and spoof.tolist() == [1.0, 3.0]


def test_metric_error_is_not_sys_exit():
    with pytest.raises(MetricError):
        min_tdcf_legacy([1.0, 2.0], [1.0, 2.0], _perfect_asv())  # only 2 distinct scores


def _perfect_asv() -> AsvOperatingPoint:
    return AsvOperatingPoint(
        threshold=0.0,
        eer_asv=0.0,
        pfa_asv=0.0,
        pmiss_asv=0.0,
        pmiss_spoof_asv=0.0,
        pfa_spoof_asv=1.0,
    )


def test_legacy_tdcf_hand_computed():
    # C1 = Ptar = 0.9405, C2 = Cfa_cm Pspoof = 0.5 with a perfect ASV accepting all spoofs.
    # 1b 2s 3b 4b 5s 6b: frr 0 .25 .25 .5 .75 .75 1, far 1 1 .5 .5 .5 0 0
    res = min_tdcf_legacy([1.0, 3.0, 4.0, 6.0], [2.0, 5.0], _perfect_asv())
    expected = (0.95 * 0.99 * 0.25 + 0.05 * 10 * 0.5) / (0.05 * 10)
    assert res.min_tdcf == pytest.approx(expected, rel=1e-12)
    assert res.threshold == 2.0


def test_revised_tdcf_hand_computed():
    op = AsvOperatingPoint(
        threshold=0.0,
        eer_asv=None,
        pfa_asv=0.1,
        pmiss_asv=0.2,
        pmiss_spoof_asv=0.5,
        pfa_spoof_asv=0.5,
    )
    ptar, pnon = 0.95 * 0.99, 0.95 * 0.01
    c0 = ptar * 0.2 + pnon * 10 * 0.1
    c1 = ptar - c0
    c2 = 0.05 * 10 * 0.5
    res = min_tdcf_revised([1.0, 3.0, 4.0, 6.0], [2.0, 5.0], op)
    curve = [
        c0 + c1 * m + c2 * f
        for m, f in zip(
            [0, 0.25, 0.25, 0.5, 0.75, 0.75, 1], [1, 1, 0.5, 0.5, 0.5, 0, 0], strict=True
        )
    ]
    assert res.min_tdcf == pytest.approx(min(curve) / (c0 + min(c1, c2)), rel=1e-12)


def test_asv_operating_point_counts_hand_computed():
    asv = AsvScores(
        target=np.array([5.0, 6.0, 1.0]),
        nontarget=np.array([0.0, 2.0, -1.0]),
        spoof=np.array([3.0, -2.0]),
    )
    op = asv_operating_point(asv, threshold=2.0)
    assert op.pfa_asv == pytest.approx(1 / 3) and op.pmiss_asv == pytest.approx(1 / 3)
    assert op.pmiss_spoof_asv == 0.5 and op.pfa_spoof_asv == 0.5
    with pytest.raises(MetricError, match="spoof trials"):
        asv_operating_point(AsvScores(np.ones(2), np.zeros(2), np.array([])))


def test_asv_scores_from_keys_validates():
    with pytest.raises(MetricError, match="'target', 'nontarget' or 'spoof'"):
        AsvScores.from_keys(["target", "bonafide"], [1.0, 2.0])
    asv = AsvScores.from_keys(
        ["target", "nontarget", "spoof", "spoof"], [3.0, 1.0, 2.0, 0.0], ["-", "-", "A1", "A2"]
    )
    assert asv.for_attack("A2").spoof.tolist() == [0.0]
    with pytest.raises(MetricError, match="no spoof trial of attack 'A9'"):
        asv.for_attack("A9")


def test_cost_models_validate_priors():
    with pytest.raises(MetricError, match="sum to one"):
        LegacyCostModel(p_tar=0.5)
    with pytest.raises(MetricError, match="Pspoof"):
        DcfCostModel(p_spoof=0.0)


@pytest.mark.parametrize("seed", range(4))
def test_min_dcf_matches_official_loop(seed):
    rng = np.random.default_rng(seed)
    bona = np.round(rng.normal(2.0, 2.0, 400), 1)
    spoof = np.round(rng.normal(-2.0, 2.0, 600), 1)
    res = min_dcf(bona, spoof)
    value, thr = ref.min_dcf_loop(bona, spoof)
    assert res.dcf == value and res.threshold == thr


def test_act_dcf_hand_computed():
    thr = -math.log(0.95 / 0.5)
    res = act_dcf([thr, thr - 1, 5.0, 6.0], [thr, -5.0])
    # misses: one bona fide below the threshold; false alarms: the spoof at the threshold
    expected = (0.95 * 0.25 + 10 * 0.05 * 0.5) / 0.5
    assert res.dcf == pytest.approx(expected, rel=1e-12)
    assert res.threshold == pytest.approx(thr, rel=1e-15)


def test_cllr_hand_computed_and_stable_for_huge_scores():
    assert cllr([0.0], [0.0]) == pytest.approx(1.0, rel=1e-12)  # uninformative, calibrated
    value = cllr([math.log(3)], [-math.log(3)])
    assert value == pytest.approx(math.log2(4 / 3), rel=1e-12)
    assert cllr([1000.0], [-1000.0]) == pytest.approx(0.0, abs=1e-300)
    assert math.isfinite(cllr([-1000.0], [0.0]))


def test_min_cllr_is_invariant_to_monotone_maps_and_below_cllr():
    rng = np.random.default_rng(0)
    bona = rng.normal(1.0, 1.0, 500)
    spoof = rng.normal(-1.0, 1.0, 700)
    m = min_cllr(bona, spoof)
    assert m <= cllr(bona, spoof)
    assert min_cllr(np.exp(bona), np.exp(spoof)) == pytest.approx(m, rel=1e-12)
    assert min_cllr([2.0, 3.0], [0.0, 1.0]) == pytest.approx(0.0, abs=1e-12)
    # scores carrying no information: calibrated posterior equals the prior
    assert min_cllr([1.0, 1.0], [1.0, 1.0]) == pytest.approx(1.0, rel=1e-12)


def test_pav_fallback_matches_scipy():
    rng = np.random.default_rng(1)
    y = rng.random(200)
    w = rng.integers(1, 5, 200).astype(float)
    from scipy.optimize import isotonic_regression

    np.testing.assert_allclose(pav_reference(y, w), isotonic_regression(y, weights=w).x, atol=1e-12)
