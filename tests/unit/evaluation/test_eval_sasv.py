"""a-DCF and concurrent t-EER against loop-style official re-statements."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from voxlab.errors import MetricError
from voxlab.evaluation import ADcfCostModel, a_dcf, t_eer

_SPEC = importlib.util.spec_from_file_location(
    "voxlab_tests_official_style", Path(__file__).with_name("_official_style.py")
)
ref = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ref)


def _sasv_trials(seed: int, n: int = 120, decimals: int = 1):
    rng = np.random.default_rng(seed)
    n_tar, n_non, n_spf = n, n + 30, n + 60
    asv = (
        np.round(rng.normal(3.0, 1.5, n_tar), decimals),
        np.round(rng.normal(-2.0, 1.5, n_non), decimals),
        np.round(rng.normal(1.5, 2.0, n_spf), decimals),
    )
    cm = (
        np.round(rng.normal(2.0, 1.0, n_tar), decimals),
        np.round(rng.normal(2.0, 1.0, n_non), decimals),
        np.round(rng.normal(-1.0, 1.5, n_spf), decimals),
    )
    return asv, cm


def test_a_dcf_hand_computed():
    # 1t 2n 3s 4t: thresholds below all -> accept all: Pfa_non = Pfa_spf = 1
    res = a_dcf([1.0, 4.0], [2.0], [3.0])
    norm = min(10 * 0.05 + 20 * 0.05, 0.9)
    # after 3 (accept only 4): Pmiss .5, Pfa_non 0, Pfa_spf 0 -> 0.45 / 0.9 = 0.5
    assert res.a_dcf == pytest.approx(0.9 * 0.5 / norm, rel=1e-12)
    assert res.threshold == 3.0


@pytest.mark.parametrize("seed", range(5))
def test_a_dcf_matches_official_loop(seed):
    (tar, non, spf), _ = _sasv_trials(seed)
    res = a_dcf(tar, non, spf)
    value, thr = ref.a_dcf_loop(tar, non, spf)
    assert res.a_dcf == value and res.threshold == thr
    custom = ADcfCostModel(p_spf=0.2, p_nontrg=0.1, p_trg=0.7, c_fa_cm=5)
    value, thr = ref.a_dcf_loop(tar, non, spf, p_spf=0.2, p_non=0.1, p_trg=0.7, c_fa_cm=5)
    assert a_dcf(tar, non, spf, cost=custom).a_dcf == value


@pytest.mark.parametrize(("seed", "decimals"), [(0, 1), (1, 1), (2, 2), (3, 3), (4, 0), (5, 2)])
def test_t_eer_matches_official_loop(seed, decimals):
    asv, cm = _sasv_trials(seed, decimals=decimals)
    res = t_eer(*asv, *cm)
    value, asv_thr, cm_thr = ref.t_eer_loop(*asv, *cm)
    assert res.t_eer == pytest.approx(value, rel=1e-12, abs=1e-15)
    assert res.asv_threshold == asv_thr and res.cm_threshold == cm_thr
    assert 0.0 <= res.t_eer <= 1.0


def test_sasv_metrics_reject_degenerate_inputs():
    with pytest.raises(MetricError, match="target, non-target and spoof"):
        a_dcf([1.0], [], [0.0])
    with pytest.raises(MetricError, match="NaN or Inf"):
        a_dcf([1.0], [float("nan")], [0.0])
    with pytest.raises(MetricError, match="lengths differ"):
        t_eer([1.0], [0.0], [0.5], [1.0, 2.0], [0.0], [0.5])
