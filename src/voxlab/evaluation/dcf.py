"""ASVspoof 5 detection costs of a stand-alone countermeasure: minDCF and actDCF.

Both follow ``compute_mindcf`` / ``compute_actDCF`` of the ASVspoof 5 evaluation package:
with ``Pspoof = 0.05``, ``Cmiss = 1`` and ``Cfa = 10`` the cost of a threshold is
``Cmiss (1 - Pspoof) Pmiss + Cfa Pspoof Pfa``, normalised by
``min(Cmiss (1 - Pspoof), Cfa Pspoof)``. minDCF is its minimum over the DET curve (first
minimum); actDCF uses the Bayes threshold ``-log(Cmiss (1 - Pspoof) / (Cfa Pspoof))``,
which assumes the scores are calibrated natural-log likelihood ratios.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxlab.errors import MetricError
from voxlab.evaluation.metrics import ArrayLike, DetCurve, as_scores, check_two_class, det_curve


@dataclass(frozen=True)
class DcfCostModel:
    """ASVspoof 5 cost model of a stand-alone CM (official defaults)."""

    p_spoof: float = 0.05
    c_miss: float = 1.0
    c_fa: float = 10.0

    def __post_init__(self) -> None:
        if not 0.0 < self.p_spoof < 1.0:
            raise MetricError(f"Pspoof must lie strictly between 0 and 1, got {self.p_spoof}")
        if self.c_miss <= 0 or self.c_fa <= 0:
            raise MetricError(f"DCF costs must be positive, got {self}")

    @property
    def bayes_threshold(self) -> float:
        """The LLR threshold of minimum expected cost: ``-log(beta)``."""
        beta = self.c_miss * (1 - self.p_spoof) / (self.c_fa * self.p_spoof)
        return float(-np.log(beta))


@dataclass(frozen=True)
class DcfResult:
    """A normalised detection cost and the threshold it was taken at."""

    dcf: float
    threshold: float


def min_dcf_from_det(det: DetCurve, cost: DcfCostModel = DcfCostModel()) -> DcfResult:
    """MinDCF along an existing DET curve (first minimum, as the official loop)."""
    p_target = 1 - cost.p_spoof
    c_det = cost.c_miss * det.frr * p_target + cost.c_fa * det.far * (1 - p_target)
    idx = int(np.argmin(c_det))
    c_def = min(cost.c_miss * p_target, cost.c_fa * (1 - p_target))
    return DcfResult(dcf=float(c_det[idx] / c_def), threshold=float(det.thresholds[idx]))


def min_dcf(
    bonafide: ArrayLike, spoof: ArrayLike, *, cost: DcfCostModel = DcfCostModel()
) -> DcfResult:
    """ASVspoof 5 minimum normalised DCF of a countermeasure.

    Args:
        bonafide: Bona fide scores (higher = more bona fide).
        spoof: Spoof scores.
        cost: Priors and costs (official: Pspoof 0.05, Cmiss 1, Cfa 10).

    Returns:
        minDCF and the threshold reaching it.

    Shape:
        ``(n_bonafide,)`` and ``(n_spoof,)``.

    Raises:
        MetricError: On an empty class, NaN/Inf or constant scores.
    """
    return min_dcf_from_det(det_curve(bonafide, spoof), cost)


def act_dcf(
    bonafide: ArrayLike, spoof: ArrayLike, *, cost: DcfCostModel = DcfCostModel()
) -> DcfResult:
    """ASVspoof 5 actual normalised DCF at the Bayes threshold for LLR scores.

    Args:
        bonafide: Bona fide LLR scores.
        spoof: Spoof LLR scores.
        cost: Priors and costs.

    Returns:
        actDCF and the threshold used.

    Raises:
        MetricError: On an empty class or NaN/Inf.
    """
    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    check_two_class(bona, spf, metric="actDCF", min_unique=1)
    threshold = cost.bayes_threshold
    rate_miss = np.count_nonzero(bona < threshold) / bona.size
    rate_fa = np.count_nonzero(spf >= threshold) / spf.size
    value = cost.c_miss * (1 - cost.p_spoof) * rate_miss + cost.c_fa * cost.p_spoof * rate_fa
    value = value / min(cost.c_fa * cost.p_spoof, cost.c_miss * (1 - cost.p_spoof))
    return DcfResult(dcf=float(value), threshold=threshold)
