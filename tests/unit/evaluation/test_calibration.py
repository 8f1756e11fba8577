"""Logistic calibration: known LLRs recovered, Cllr/actDCF improved, file format, model check."""

import json
import math

import numpy as np
import pytest
from scipy.stats import norm

from voxlab.errors import ConfigError, DataError, MetricError
from voxlab.evaluation.calibration import (
    Calibration,
    ModelIdentity,
    calibrate,
    effective_prior,
    fit_linear_calibration,
    load_calibration,
)
from voxlab.evaluation.dcf import DcfCostModel

# bona fide ~ N(2, 1), spoof ~ N(-1, 1): the true LLR is 3 s - 1.5
MU_B, MU_S, SIGMA = 2.0, -1.0, 1.0
TRUE_SLOPE = (MU_B - MU_S) / SIGMA**2
TRUE_OFFSET = -(MU_B**2 - MU_S**2) / (2 * SIGMA**2)


def gaussian_scores(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(MU_B, SIGMA, n), rng.normal(MU_S, SIGMA, n)


@pytest.mark.parametrize("prior", [0.5, effective_prior(DcfCostModel()), 0.2])
def test_recovers_the_true_llr_of_gaussian_scores(prior):
    bona, spoof = gaussian_scores()
    slope, offset = fit_linear_calibration(bona, spoof, prior=prior)
    # 2 x 20,000 trials: sampling error of a few percent on slope/offset
    assert slope == pytest.approx(TRUE_SLOPE, rel=0.05)
    assert offset == pytest.approx(TRUE_OFFSET, abs=0.1)


def test_recovers_llrs_of_scaled_and_shifted_scores():
    bona, spoof = gaussian_scores(seed=1)
    cal = calibrate(0.4 * bona + 5, 0.4 * spoof + 5)  # raw scores: not LLRs at all
    grid = np.linspace(-2, 3, 11)
    np.testing.assert_allclose(cal.llr(0.4 * grid + 5), TRUE_SLOPE * grid + TRUE_OFFSET, atol=0.2)


def test_the_fit_is_stationary_for_the_weighted_cross_entropy():
    bona, spoof = gaussian_scores(2_000, seed=3)
    prior = 0.3
    slope, offset = fit_linear_calibration(bona, spoof, prior=prior, penalty=0.0)
    shift = math.log(prior / (1 - prior))
    lb, ls = slope * bona + offset + shift, slope * spoof + offset + shift
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    # d/d offset and d/d slope of  -P mean log s(lb) - (1-P) mean log s(-ls)  vanish
    d_offset = -prior * np.mean(sig(-lb)) + (1 - prior) * np.mean(sig(ls))
    d_slope = -prior * np.mean(sig(-lb) * bona) + (1 - prior) * np.mean(sig(ls) * spoof)
    assert abs(d_offset) < 1e-7 and abs(d_slope) < 1e-7


def test_cllr_and_actdcf_before_and_after():
    bona, spoof = gaussian_scores(seed=2)
    cal = calibrate(0.4 * bona + 5, 0.4 * spoof + 5)
    before, after = cal.metrics["before"], cal.metrics["after"]
    assert after["cllr"] < before["cllr"]
    assert after["cllr"] == pytest.approx(after["min_cllr"], abs=0.01)
    assert after["act_dcf"] == pytest.approx(after["min_dcf"], abs=0.02)
    assert before["act_dcf"] > after["act_dcf"] + 0.5  # raw scores at the Bayes threshold
    assert after["eer"] == before["eer"]  # a monotone map keeps the ranking
    assert after["min_dcf"] == pytest.approx(before["min_dcf"])
    # the Bayes verdict's error rates, from the calibrated LLRs
    t = math.log(10 * 0.05 / 0.95)
    assert after["bonafide_called_spoof"] == pytest.approx(np.mean(cal.llr(0.4 * bona + 5) < t))
    assert after["spoof_missed"] == pytest.approx(np.mean(cal.llr(0.4 * spoof + 5) >= t))
    assert after["act_dcf"] == pytest.approx(
        (0.95 * after["bonafide_called_spoof"] + 0.5 * after["spoof_missed"]) / 0.5
    )


def test_already_calibrated_scores_stay_put():
    bona, spoof = gaussian_scores(seed=4)
    llr = lambda s: TRUE_SLOPE * s + TRUE_OFFSET  # noqa: E731
    cal = calibrate(llr(bona), llr(spoof))
    assert cal.slope == pytest.approx(1.0, abs=0.05) and cal.offset == pytest.approx(0, abs=0.1)
    assert cal.metrics["after"]["cllr"] <= cal.metrics["before"]["cllr"] + 1e-9


def test_posterior_and_bayes_threshold():
    bona, spoof = gaussian_scores(seed=5)
    cal = calibrate(bona, spoof, p_spoof=0.05)
    s = np.linspace(-2, 3, 6)
    # posterior from the true class densities at the prior
    f_b, f_s = norm.pdf(s, MU_B, SIGMA), norm.pdf(s, MU_S, SIGMA)
    true_post = 0.05 * f_s / (0.05 * f_s + 0.95 * f_b)
    np.testing.assert_allclose(cal.p_spoof_posterior(s), true_post, atol=0.02)
    # a different stated prior moves the posterior the right way
    assert np.all(cal.p_spoof_posterior(s, p_spoof=0.5) >= cal.p_spoof_posterior(s) - 1e-12)
    # Bayes threshold of ASVspoof 5 costs: llr >= log(Cfa Pspoof / (Cmiss (1 - Pspoof)))
    assert cal.llr_threshold() == pytest.approx(math.log(10 * 0.05 / 0.95))
    t = cal.score_threshold()
    assert float(cal.llr(t)) == pytest.approx(cal.llr_threshold())
    assert cal.llr_threshold(p_spoof=0.5) == pytest.approx(math.log(10.0))


def test_effective_prior_convention():
    assert effective_prior(DcfCostModel()) == pytest.approx(0.95 / (0.95 + 0.5))
    assert effective_prior(DcfCostModel(p_spoof=0.5, c_fa=1.0)) == pytest.approx(0.5)


def test_separable_scores_give_a_finite_map():
    cal = calibrate([1.0, 2.0, 3.0], [-1.0, -2.0, -3.0])
    assert math.isfinite(cal.slope) and 0 < cal.slope < 1e3


def test_unusable_scores_are_refused():
    with pytest.raises(MetricError, match="rank spoofs above bona fide"):
        calibrate([-2.0, -1.0, -1.5], [1.0, 2.0, 1.5])
    with pytest.raises(MetricError, match="both bona fide and spoof"):
        calibrate([1.0, 2.0], [])
    with pytest.raises(MetricError, match="soft scores"):
        calibrate([1.0, 1.0], [1.0, 1.0])
    with pytest.raises(MetricError, match="Pspoof"):
        calibrate([1.0, 2.0], [0.0, -1.0], p_spoof=1.5)


def _cal(**kwargs):
    bona, spoof = gaussian_scores(500, seed=6)
    model = ModelIdentity(name="aasist-l", checkpoint_sha256="ab" * 32, checkpoint="x.pth")
    return calibrate(bona, spoof, model=model, source={"scores": "dev.txt"}, **kwargs)


def test_json_round_trip(tmp_path):
    cal = _cal(p_spoof=0.1, c_fa=5.0)
    path = cal.save(tmp_path / "sub" / "cal.json")
    doc = json.loads(path.read_text())
    assert doc["format"] == "voxlab-calibration" and doc["version"] == 1
    assert doc["model"]["checkpoint_sha256"] == "ab" * 32
    assert doc["effective_prior"] == pytest.approx(0.9 / (0.9 + 0.5))
    assert set(doc["metrics"]) == {"before", "after"}
    again = load_calibration(path)
    assert again == cal
    assert again.score_threshold() == cal.score_threshold()


def test_a_calibration_for_another_model_is_refused(tmp_path):
    cal = _cal()
    cal.check_model("aasist-l", "ab" * 32)  # same checkpoint: accepted
    cal.check_model("renamed", "ab" * 32)  # the checksum is the identity, not the name
    with pytest.raises(ConfigError, match=r"fitted on scores of 'aasist-l'.*not on this model"):
        cal.check_model("aasist", "cd" * 32, source="cal.json")
    anonymous = Calibration(slope=1.0, offset=0.0)
    with pytest.raises(ConfigError, match="names no model"):
        anonymous.check_model("aasist", "cd" * 32)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "calibration file not found"),
        ("not json", "is not a JSON calibration"),
        ('{"slope": 1}', "is not a voxlab calibration"),
        ('{"format": "voxlab-calibration", "version": 7, "kind": "linear-logistic"}', "version 7"),
        (
            '{"format": "voxlab-calibration", "version": 1, "kind": "linear-logistic", "slope": 1}',
            "malformed calibration",
        ),
    ],
)
def test_bad_calibration_files_are_refused(tmp_path, content, message):
    path = tmp_path / "cal.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_calibration(path)


def test_negative_slope_in_a_file_is_refused(tmp_path):
    doc = _cal().to_dict()
    doc["slope"] = -1.0
    path = tmp_path / "cal.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(DataError, match="slope must be a positive number"):
        load_calibration(path)
