"""Tandem detection cost function (t-DCF) of a countermeasure with a fixed ASV system.

Two formulations, each matching its official implementation:

* **ASVspoof 2019 (legacy)**: ``compute_tDCF_legacy`` / ``compute_tDCF`` of the 2019
  ``tDCF_python`` v1 package. ``tDCF(s) = C1 Pmiss_cm(s) + C2 Pfa_cm(s)`` normalised by
  ``min(C1, C2)``, with ``C1 = Ptar (Cmiss_cm - Cmiss_asv Pmiss_asv) - Pnon Cfa_asv Pfa_asv``
  and ``C2 = Cfa_cm Pspoof (1 - Pmiss_spoof_asv)``.
* **ASVspoof 2021 (revised)**: ``compute_tDCF`` of the 2021 eval package (Kinnunen et al.,
  TASLP 2020). ``tDCF(s) = C0 + C1 Pmiss_cm(s) + C2 Pfa_cm(s)`` normalised by
  ``C0 + min(C1, C2)``, with ``C0 = Ptar Cmiss Pmiss_asv + Pnon Cfa Pfa_asv``,
  ``C1 = Ptar Cmiss - C0`` and ``C2 = Pspoof Cfa_spoof Pfa_spoof_asv``.

Both fix the ASV system at its EER threshold on target versus non-target trials.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxlab.errors import MetricError
from voxlab.evaluation.metrics import (
    ArrayLike,
    DetCurve,
    as_scores,
    check_two_class,
    compute_eer,
    det_curve,
)

_P_SPOOF = 0.05


def _check_priors(p_tar: float, p_non: float, p_spoof: float) -> None:
    if min(p_tar, p_non, p_spoof) < 0 or abs(p_tar + p_non + p_spoof - 1) > 1e-10:
        raise MetricError(
            f"t-DCF priors must be non-negative and sum to one; got Ptar={p_tar}, "
            f"Pnon={p_non}, Pspoof={p_spoof}"
        )


@dataclass(frozen=True)
class LegacyCostModel:
    """Cost model of the ASVspoof 2019 (legacy) t-DCF; defaults are the official ones."""

    p_spoof: float = _P_SPOOF
    p_tar: float = (1 - _P_SPOOF) * 0.99
    p_non: float = (1 - _P_SPOOF) * 0.01
    c_miss_asv: float = 1.0
    c_fa_asv: float = 10.0
    c_miss_cm: float = 1.0
    c_fa_cm: float = 10.0

    def __post_init__(self) -> None:
        _check_priors(self.p_tar, self.p_non, self.p_spoof)
        if min(self.c_miss_asv, self.c_fa_asv, self.c_miss_cm, self.c_fa_cm) < 0:
            raise MetricError(f"t-DCF costs must be non-negative: {self}")


@dataclass(frozen=True)
class RevisedCostModel:
    """Cost model of the ASVspoof 2021 (revised) t-DCF; defaults are the official ones."""

    p_spoof: float = _P_SPOOF
    p_tar: float = (1 - _P_SPOOF) * 0.99
    p_non: float = (1 - _P_SPOOF) * 0.01
    c_miss: float = 1.0
    c_fa: float = 10.0
    c_fa_spoof: float = 10.0

    def __post_init__(self) -> None:
        _check_priors(self.p_tar, self.p_non, self.p_spoof)
        if min(self.c_miss, self.c_fa, self.c_fa_spoof) < 0:
            raise MetricError(f"t-DCF costs must be non-negative: {self}")


@dataclass(frozen=True)
class AsvOperatingPoint:
    """Error rates of the ASV system at its fixed threshold (fractions).

    Attributes:
        threshold: ASV decision threshold (accept when ``score >= threshold``).
        eer_asv: ASV EER on target versus non-target trials (None if the threshold was given).
        pfa_asv: Rate of non-target trials accepted.
        pmiss_asv: Rate of target trials rejected.
        pmiss_spoof_asv: Rate of spoof trials rejected.
        pfa_spoof_asv: Rate of spoof trials accepted (``1 - pmiss_spoof_asv``).
    """

    threshold: float
    eer_asv: float | None
    pfa_asv: float
    pmiss_asv: float
    pmiss_spoof_asv: float
    pfa_spoof_asv: float

    def to_dict(self) -> dict[str, float | None]:
        """The operating point with the official field names."""
        return {
            "eer_asv": self.eer_asv,
            "thr": self.threshold,
            "Pfa_asv": self.pfa_asv,
            "Pmiss_asv": self.pmiss_asv,
            "Pmiss_spoof_asv": self.pmiss_spoof_asv,
            "Pfa_spoof_asv": self.pfa_spoof_asv,
        }


@dataclass(frozen=True)
class AsvScores:
    """ASV scores of target, non-target and spoof trials (e.g. the organizers' file).

    Attributes:
        target: Scores of target-speaker bona fide trials.
        nontarget: Scores of zero-effort impostor trials.
        spoof: Scores of spoofed trials.
        spoof_attacks: Attack id of each spoof trial (enables per-attack t-DCF), or None.
    """

    target: np.ndarray
    nontarget: np.ndarray
    spoof: np.ndarray
    spoof_attacks: np.ndarray | None = None

    @classmethod
    def from_keys(
        cls,
        keys: ArrayLike,
        scores: ArrayLike,
        attacks: ArrayLike | None = None,
    ) -> AsvScores:
        """Builds ASV scores from per-trial keys ``target``/``nontarget``/``spoof``.

        Args:
            keys: One key per trial.
            scores: One ASV score per trial.
            attacks: Optional attack id per trial (used for the spoof trials).

        Returns:
            The grouped scores.

        Raises:
            MetricError: On unknown keys, a missing class, or NaN/Inf scores.
        """
        k = np.asarray(keys, dtype=str)
        s = as_scores(scores, name="ASV scores")
        if k.shape != s.shape:
            raise MetricError(f"got {s.size} ASV scores but {k.size} keys")
        known = (k == "target") | (k == "nontarget") | (k == "spoof")
        if not known.all():
            bad = sorted(set(k[~known].tolist()))[:5]
            raise MetricError(f"ASV keys must be 'target', 'nontarget' or 'spoof'; found {bad}")
        spoof_attacks = None
        if attacks is not None:
            a = np.asarray(attacks, dtype=str)
            if a.shape != s.shape:
                raise MetricError(f"got {s.size} ASV scores but {a.size} attack ids")
            spoof_attacks = a[k == "spoof"]
        return cls(
            target=s[k == "target"],
            nontarget=s[k == "nontarget"],
            spoof=s[k == "spoof"],
            spoof_attacks=spoof_attacks,
        )

    def for_attack(self, attack: str) -> AsvScores:
        """The same scores with the spoof trials restricted to one attack.

        Raises:
            MetricError: When the attack ids are unknown or the attack has no ASV trial.
        """
        if self.spoof_attacks is None:
            raise MetricError("these ASV scores carry no attack ids")
        mask = self.spoof_attacks == attack
        if not mask.any():
            raise MetricError(f"the ASV scores hold no spoof trial of attack {attack!r}")
        return AsvScores(self.target, self.nontarget, self.spoof[mask], self.spoof_attacks[mask])


def asv_operating_point(asv: AsvScores, *, threshold: float | None = None) -> AsvOperatingPoint:
    """ASV error rates at a threshold (default: the ASV EER threshold, as officially).

    Args:
        asv: Target, non-target and spoof ASV scores.
        threshold: Fixed ASV threshold; the EER threshold of target vs non-target if None.

    Returns:
        The operating point.

    Raises:
        MetricError: When a class of ASV trials is empty or scores are not finite.
    """
    tar = as_scores(asv.target, name="ASV target scores")
    non = as_scores(asv.nontarget, name="ASV non-target scores")
    spf = as_scores(asv.spoof, name="ASV spoof scores")
    if spf.size == 0:
        raise MetricError("the t-DCF needs ASV scores of spoof trials; none were given")
    eer_asv = None
    if threshold is None:
        check_two_class(tar, non, metric="the ASV EER")
        res = compute_eer(tar, non)
        eer_asv, threshold = res.eer, res.threshold
    elif tar.size == 0 or non.size == 0:
        raise MetricError("ASV error rates need target and non-target trials")
    pfa = np.count_nonzero(non >= threshold) / non.size
    pmiss = np.count_nonzero(tar < threshold) / tar.size
    pmiss_spoof = np.count_nonzero(spf < threshold) / spf.size
    pfa_spoof = np.count_nonzero(spf >= threshold) / spf.size
    return AsvOperatingPoint(
        threshold=float(threshold),
        eer_asv=eer_asv,
        pfa_asv=float(pfa),
        pmiss_asv=float(pmiss),
        pmiss_spoof_asv=float(pmiss_spoof),
        pfa_spoof_asv=float(pfa_spoof),
    )


@dataclass(frozen=True)
class TdcfResult:
    """Minimum normalised t-DCF and the CM threshold where it is reached."""

    min_tdcf: float
    threshold: float


def legacy_coefficients(
    op: AsvOperatingPoint, cost: LegacyCostModel = LegacyCostModel()
) -> tuple[float, float]:
    """``(C1, C2)`` of the ASVspoof 2019 t-DCF.

    Raises:
        MetricError: When a coefficient is negative (inconsistent ASV error rates).
    """
    c1 = cost.p_tar * (cost.c_miss_cm - cost.c_miss_asv * op.pmiss_asv) - (
        cost.p_non * cost.c_fa_asv * op.pfa_asv
    )
    c2 = cost.c_fa_cm * cost.p_spoof * (1 - op.pmiss_spoof_asv)
    if c1 < 0 or c2 < 0:
        raise MetricError(
            f"t-DCF weights are negative (C1={c1}, C2={c2}); check the ASV error rates"
        )
    if min(c1, c2) == 0:
        raise MetricError(
            f"the t-DCF cannot be normalised (C1={c1}, C2={c2}); the ASV system accepts "
            "no spoof or rejects every target"
        )
    return c1, c2


def revised_coefficients(
    op: AsvOperatingPoint, cost: RevisedCostModel = RevisedCostModel()
) -> tuple[float, float, float]:
    """``(C0, C1, C2)`` of the ASVspoof 2021 t-DCF.

    Raises:
        MetricError: When a coefficient is negative.
    """
    c0 = cost.p_tar * cost.c_miss * op.pmiss_asv + cost.p_non * cost.c_fa * op.pfa_asv
    c1 = cost.p_tar * cost.c_miss - (
        cost.p_tar * cost.c_miss * op.pmiss_asv + cost.p_non * cost.c_fa * op.pfa_asv
    )
    c2 = cost.p_spoof * cost.c_fa_spoof * op.pfa_spoof_asv
    if c0 < 0 or c1 < 0 or c2 < 0:
        raise MetricError(
            f"t-DCF weights are negative (C0={c0}, C1={c1}, C2={c2}); check the ASV error rates"
        )
    if c0 + min(c1, c2) == 0:
        raise MetricError("the t-DCF cannot be normalised: C0 + min(C1, C2) is 0")
    return c0, c1, c2


def _cm_det(bonafide: ArrayLike, spoof: ArrayLike) -> DetCurve:
    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    check_two_class(bona, spf, metric="the t-DCF", min_unique=3)
    return det_curve(bona, spf)


def legacy_tdcf_from_det(det: DetCurve, c1: float, c2: float) -> TdcfResult:
    """Minimum of the legacy normalised t-DCF along a DET curve."""
    curve = (c1 * det.frr + c2 * det.far) / min(c1, c2)
    idx = int(np.argmin(curve))
    return TdcfResult(min_tdcf=float(curve[idx]), threshold=float(det.thresholds[idx]))


def revised_tdcf_from_det(det: DetCurve, c0: float, c1: float, c2: float) -> TdcfResult:
    """Minimum of the revised normalised t-DCF along a DET curve."""
    curve = (c0 + c1 * det.frr + c2 * det.far) / (c0 + min(c1, c2))
    idx = int(np.argmin(curve))
    return TdcfResult(min_tdcf=float(curve[idx]), threshold=float(det.thresholds[idx]))


def tdcf_curve_legacy(
    bonafide: ArrayLike,
    spoof: ArrayLike,
    op: AsvOperatingPoint,
    *,
    cost: LegacyCostModel = LegacyCostModel(),
) -> tuple[np.ndarray, np.ndarray]:
    """Normalised ASVspoof 2019 t-DCF at every CM threshold.

    Args:
        bonafide: CM scores of bona fide trials.
        spoof: CM scores of spoof trials.
        op: ASV operating point (:func:`asv_operating_point`).
        cost: Cost model.

    Returns:
        ``(tdcf_norm, cm_thresholds)``.

    Shape:
        Both ``(n_bonafide + n_spoof + 1,)``.
    """
    c1, c2 = legacy_coefficients(op, cost)
    det = _cm_det(bonafide, spoof)
    return (c1 * det.frr + c2 * det.far) / min(c1, c2), det.thresholds


def min_tdcf_legacy(
    bonafide: ArrayLike,
    spoof: ArrayLike,
    op: AsvOperatingPoint,
    *,
    cost: LegacyCostModel = LegacyCostModel(),
) -> TdcfResult:
    """Minimum normalised ASVspoof 2019 t-DCF (official ``compute_tDCF`` legacy form).

    Raises:
        MetricError: On degenerate scores (fewer than 3 distinct values, as officially).
    """
    c1, c2 = legacy_coefficients(op, cost)
    return legacy_tdcf_from_det(_cm_det(bonafide, spoof), c1, c2)


def min_tdcf_revised(
    bonafide: ArrayLike,
    spoof: ArrayLike,
    op: AsvOperatingPoint,
    *,
    cost: RevisedCostModel = RevisedCostModel(),
) -> TdcfResult:
    """Minimum normalised ASVspoof 2021 t-DCF (official 2021 ``compute_tDCF``).

    Raises:
        MetricError: On degenerate scores (fewer than 3 distinct values, as officially).
    """
    c0, c1, c2 = revised_coefficients(op, cost)
    return revised_tdcf_from_det(_cm_det(bonafide, spoof), c0, c1, c2)
