"""Spoofing-robust speaker verification (SASV) metrics: a-DCF and concurrent t-EER.

* **a-DCF** (Shim et al., Odyssey 2024; ``shimhz/a_DCF`` as adopted by the ASVspoof 5
  package): one SASV score per trial, three trial types. The cost at threshold ``t`` is
  ``Cmiss Ptrg Pmiss(t) + Cfa_asv Pnontrg Pfa_non(t) + Cfa_cm Pspf Pfa_spf(t)``,
  normalised by ``min(Cfa_asv Pnontrg + Cfa_cm Pspf, Cmiss Ptrg)``; a-DCF is its minimum
  (defaults Pspf 0.05, Pnontrg 0.05, Ptrg 0.9, Cmiss 1, Cfa_asv 10, Cfa_cm 20).
* **t-EER** (Kinnunen et al., IEEE TPAMI 2023; ``compute_teer`` of the ASVspoof 5 package):
  the tandem of a CM (threshold ``tau_cm``) and an ASV system (``tau_asv``) misses a
  target when either rejects it, ``Pmiss_tdm = Pmiss_cm + (1 - Pmiss_cm) Pmiss_asv``, and
  falsely accepts a non-target with ``(1 - Pmiss_cm) Pfa_non_asv`` and a spoof with
  ``Pfa_cm Pfa_spf_asv``. For each ASV threshold in the allowed region
  (``Pmiss_asv < Pfa_non_asv``) the CM threshold balancing miss and non-target false
  alarm is taken; the *concurrent* t-EER is reported at the ASV threshold where the
  curves for every spoof prevalence cross, i.e. where
  ``Pfa_non_asv / Pfa_spf_asv = Pfa_cm / (1 - Pmiss_cm)``, and equals
  ``Pfa_spf_asv Pfa_cm`` there. It is parameter-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxlab.errors import MetricError
from voxlab.evaluation.metrics import ArrayLike, as_scores, det_curve


@dataclass(frozen=True)
class ADcfCostModel:
    """a-DCF priors and costs (defaults of the ASVspoof 5 / a_DCF packages)."""

    p_spf: float = 0.05
    p_nontrg: float = 0.05
    p_trg: float = 0.9
    c_miss: float = 1.0
    c_fa_asv: float = 10.0
    c_fa_cm: float = 20.0

    def __post_init__(self) -> None:
        if min(self.p_spf, self.p_nontrg, self.p_trg) < 0:
            raise MetricError(f"a-DCF priors must be non-negative: {self}")
        if min(self.c_miss, self.c_fa_asv, self.c_fa_cm) < 0:
            raise MetricError(f"a-DCF costs must be non-negative: {self}")


@dataclass(frozen=True)
class ADcfResult:
    """Minimum normalised a-DCF and its SASV threshold."""

    a_dcf: float
    threshold: float


def _three_class(
    target: ArrayLike, nontarget: ArrayLike, spoof: ArrayLike, *, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    tar = as_scores(target, name=f"{what} target scores")
    non = as_scores(nontarget, name=f"{what} non-target scores")
    spf = as_scores(spoof, name=f"{what} spoof scores")
    if tar.size == 0 or non.size == 0 or spf.size == 0:
        raise MetricError(
            f"{what} metrics need target, non-target and spoof trials; got {tar.size}, "
            f"{non.size} and {spf.size}"
        )
    return tar, non, spf


def _three_class_rates(
    tar: np.ndarray, non: np.ndarray, spf: np.ndarray, *, one_minus: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pmiss (targets), Pfa (non-targets), Pfa (spoofs) and sorted scores, stable order.

    ``one_minus`` selects how the false-alarm rates are rounded: ``1 - k / n`` (the
    official t-EER code) or ``(n - k) / n`` (the official a-DCF code).
    """
    all_scores = np.concatenate((tar, non, spf))
    order = np.argsort(all_scores, kind="stable")
    cls = np.concatenate(
        (np.zeros(tar.size, np.int8), np.ones(non.size, np.int8), np.full(spf.size, 2, np.int8))
    )[order]
    n = all_scores.size
    pmiss = np.empty(n + 1)
    pfa_non = np.empty(n + 1)
    pfa_spf = np.empty(n + 1)
    pmiss[0], pfa_non[0], pfa_spf[0] = 0.0, 1.0, 1.0
    pmiss[1:] = np.cumsum(cls == 0) / tar.size
    if one_minus:
        pfa_non[1:] = 1 - np.cumsum(cls == 1) / non.size
        pfa_spf[1:] = 1 - np.cumsum(cls == 2) / spf.size
    else:
        pfa_non[1:] = (non.size - np.cumsum(cls == 1)) / non.size
        pfa_spf[1:] = (spf.size - np.cumsum(cls == 2)) / spf.size
    return pmiss, pfa_non, pfa_spf, all_scores[order]


def a_dcf(
    target: ArrayLike,
    nontarget: ArrayLike,
    spoof: ArrayLike,
    *,
    cost: ADcfCostModel = ADcfCostModel(),
) -> ADcfResult:
    """Minimum normalised architecture-agnostic DCF of SASV scores.

    Args:
        target: SASV scores of target trials.
        nontarget: SASV scores of non-target trials.
        spoof: SASV scores of spoof trials.
        cost: Priors and costs.

    Returns:
        a-DCF and the threshold reaching it (the first point below the smallest score is
        ``min(score) - 1e-8``, as in the official code).

    Raises:
        MetricError: On an empty trial type or NaN/Inf.
    """
    tar, non, spf = _three_class(target, nontarget, spoof, what="a-DCF")
    pmiss, pfa_non, pfa_spf, sorted_scores = _three_class_rates(tar, non, spf, one_minus=False)
    dcfs = (
        (cost.c_miss * cost.p_trg) * pmiss
        + (cost.c_fa_asv * cost.p_nontrg) * pfa_non
        + (cost.c_fa_cm * cost.p_spf) * pfa_spf
    )
    norm = min(cost.c_fa_asv * cost.p_nontrg + cost.c_fa_cm * cost.p_spf, cost.c_miss * cost.p_trg)
    if norm == 0:
        raise MetricError(f"a-DCF cannot be normalised with {cost}")
    dcfs = dcfs / norm
    idx = int(np.argmin(dcfs))
    thresholds = np.concatenate(([float(sorted_scores[0]) - 1e-8], sorted_scores))
    return ADcfResult(a_dcf=float(dcfs[idx]), threshold=float(thresholds[idx]))


@dataclass(frozen=True)
class TEerResult:
    """Concurrent tandem EER (fraction) and the ASV and CM thresholds of its point."""

    t_eer: float
    asv_threshold: float
    cm_threshold: float


def t_eer(
    asv_target: ArrayLike,
    asv_nontarget: ArrayLike,
    asv_spoof: ArrayLike,
    cm_target: ArrayLike,
    cm_nontarget: ArrayLike,
    cm_spoof: ArrayLike,
) -> TEerResult:
    """Concurrent t-EER of a CM and an ASV system scored on the same trials.

    Matches ``compute_teer`` of the ASVspoof 5 package (which returns ``100 * t_eer``),
    vectorised: the CM threshold for each ASV threshold is found by bisection on the
    monotone tandem miss-minus-false-alarm curve instead of a scan.

    Args:
        asv_target: ASV scores of target trials.
        asv_nontarget: ASV scores of non-target trials.
        asv_spoof: ASV scores of spoof trials.
        cm_target: CM scores of the same target trials.
        cm_nontarget: CM scores of the same non-target trials.
        cm_spoof: CM scores of the same spoof trials.

    Returns:
        The concurrent t-EER (fraction) and its thresholds.

    Raises:
        MetricError: On an empty trial type, mismatched lengths, NaN/Inf, or when no ASV
            threshold lies in the allowed region.
    """
    a_tar, a_non, a_spf = _three_class(asv_target, asv_nontarget, asv_spoof, what="t-EER ASV")
    c_tar, c_non, c_spf = _three_class(cm_target, cm_nontarget, cm_spoof, what="t-EER CM")
    if (a_tar.size, a_non.size, a_spf.size) != (c_tar.size, c_non.size, c_spf.size):
        raise MetricError("t-EER needs an ASV and a CM score for every trial (lengths differ)")
    pmiss_asv, pfa_non_asv, pfa_spf_asv, asv_sorted = _three_class_rates(
        a_tar, a_non, a_spf, one_minus=True
    )
    tau_asv = np.concatenate(([asv_sorted[0] - 0.001], asv_sorted))
    cm = det_curve(np.concatenate((c_tar, c_non)), c_spf)
    n_bona = c_tar.size + c_non.size

    allowed = np.flatnonzero(pmiss_asv < pfa_non_asv)
    if allowed.size == 0:
        raise MetricError("t-EER: no ASV threshold has Pmiss_asv < Pfa_non_asv")
    a = pmiss_asv[allowed]
    b = pfa_non_asv[allowed]
    # Pmiss_cm takes the levels l / n_bona; level l first appears after the l-th bona fide
    # trial in sorted order. h(l) = Pmiss_tdm - Pfa_tdm rises with l (slope 1 - a + b > 1),
    # so the level of smallest |h| is next to the root l* = n_bona (b - a) / (1 - a + b).
    first_idx = np.concatenate(([0], np.flatnonzero(np.diff(cm.frr) > 0) + 1))
    levels = cm.frr[first_idx]
    root = np.floor(n_bona * (b - a) / (1 - a + b)).astype(np.int64)
    cand = np.clip(root[:, None] + np.arange(-2, 3)[None, :], 0, n_bona)
    p = levels[cand]
    h = (p + (1 - p) * a[:, None]) - (1 - p) * b[:, None]
    best = cand[np.arange(cand.shape[0]), np.argmin(np.abs(h), axis=1)]
    # among equal |h| argmin keeps the first column, i.e. the lowest level, as a scan would
    cm_idx = first_idx[best]
    with np.errstate(divide="ignore", invalid="ignore"):
        lhs = b / pfa_spf_asv[allowed]
        rhs = cm.far[cm_idx] / (1 - cm.frr[cm_idx])
        crit = np.abs(lhs - rhs)
    crit = np.where(np.isnan(crit), np.inf, crit)
    j = int(np.argmin(crit))
    if not np.isfinite(crit[j]):
        raise MetricError("t-EER: the tandem curves never cross (no finite intersection)")
    value = pfa_spf_asv[allowed[j]] * cm.far[cm_idx[j]]
    return TEerResult(
        t_eer=float(value),
        asv_threshold=float(tau_asv[allowed[j]]),
        cm_threshold=float(cm.thresholds[cm_idx[j]]),
    )
