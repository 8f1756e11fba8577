"""Per-attack and per-condition breakdowns of countermeasure metrics.

Per attack, the spoof trials of one attack are scored against *all* bona fide trials, as
in the ASVspoof 2019/2021 result tables. Where the ASV scores carry attack ids, the
t-DCF of an attack uses the ASV error rates on that attack's spoof trials (target and
non-target trials pooled, so the ASV threshold is unchanged), as the 2021 evaluation
package does; otherwise the pooled ASV operating point is used.

Per condition (e.g. the codec or transmission channel of ASVspoof 2021), bona fide and
spoof trials sharing a value are compared with each other ("both" factors of the 2021
package).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from voxlab.errors import MetricError
from voxlab.evaluation.dcf import DcfCostModel, min_dcf_from_det
from voxlab.evaluation.metrics import (
    check_two_class,
    det_from_sorted,
    eer_from_det,
    n_unique_sorted,
    sort_trials,
)
from voxlab.evaluation.tdcf import (
    AsvScores,
    LegacyCostModel,
    RevisedCostModel,
    asv_operating_point,
    legacy_coefficients,
    legacy_tdcf_from_det,
    revised_coefficients,
    revised_tdcf_from_det,
)


@dataclass(frozen=True)
class BreakdownRow:
    """Metrics of one subset of trials (one attack, or one condition value).

    Attributes:
        factor: What splits the trials: ``"attack"`` or a condition name such as ``"codec"``.
        value: The attack id or condition value.
        n_bonafide: Bona fide trials in the subset.
        n_spoof: Spoof trials in the subset.
        eer: EER (fraction), None if the subset cannot give one.
        min_tdcf_2019: Legacy min t-DCF, None if not computed.
        min_tdcf_2021: Revised min t-DCF, None if not computed.
        min_dcf: ASVspoof 5 minDCF, None if not computed.
        note: Why a value is missing, empty otherwise.
    """

    factor: str
    value: str
    n_bonafide: int
    n_spoof: int
    eer: float | None
    min_tdcf_2019: float | None = None
    min_tdcf_2021: float | None = None
    min_dcf: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain-dict form (JSON-ready)."""
        return {
            "factor": self.factor,
            "value": self.value,
            "n_bonafide": self.n_bonafide,
            "n_spoof": self.n_spoof,
            "eer": self.eer,
            "min_tdcf_2019": self.min_tdcf_2019,
            "min_tdcf_2021": self.min_tdcf_2021,
            "min_dcf": self.min_dcf,
            "note": self.note,
        }


@dataclass(frozen=True)
class BreakdownOptions:
    """Which metrics a breakdown row carries, with their cost models."""

    tdcf_2019: bool = False
    tdcf_2021: bool = False
    dcf: bool = False
    legacy_cost: LegacyCostModel = field(default_factory=LegacyCostModel)
    revised_cost: RevisedCostModel = field(default_factory=RevisedCostModel)
    dcf_cost: DcfCostModel = field(default_factory=DcfCostModel)


def _row(
    factor: str,
    value: str,
    sorted_scores: np.ndarray,
    is_bona: np.ndarray,
    *,
    asv: AsvScores | None,
    asv_threshold: float | None,
    options: BreakdownOptions,
) -> BreakdownRow:
    n_b = int(np.count_nonzero(is_bona))
    n_s = int(is_bona.size - n_b)
    row = {"factor": factor, "value": value, "n_bonafide": n_b, "n_spoof": n_s}
    try:
        n_unique = n_unique_sorted(sorted_scores)
        check_two_class(
            sorted_scores[is_bona], sorted_scores[~is_bona], metric="EER", n_unique=n_unique
        )
    except MetricError as exc:
        return BreakdownRow(**row, eer=None, note=str(exc))
    det = det_from_sorted(sorted_scores, is_bona, n_b, n_s)
    out: dict[str, object] = {"eer": eer_from_det(det).eer}
    notes: list[str] = []
    if options.dcf:
        out["min_dcf"] = min_dcf_from_det(det, options.dcf_cost).dcf
    if (options.tdcf_2019 or options.tdcf_2021) and asv is not None:
        try:
            if n_unique < 3:
                raise MetricError("t-DCF needs at least 3 distinct scores")
            op = asv_operating_point(asv, threshold=asv_threshold)
            if options.tdcf_2019:
                c1, c2 = legacy_coefficients(op, options.legacy_cost)
                out["min_tdcf_2019"] = legacy_tdcf_from_det(det, c1, c2).min_tdcf
            if options.tdcf_2021:
                c0, c1, c2 = revised_coefficients(op, options.revised_cost)
                out["min_tdcf_2021"] = revised_tdcf_from_det(det, c0, c1, c2).min_tdcf
        except MetricError as exc:
            notes.append(str(exc))
    return BreakdownRow(**row, **out, note="; ".join(notes))  # type: ignore[arg-type]


def _asv_threshold(asv: AsvScores | None) -> float | None:
    """The pooled ASV EER threshold (the same for every attack: targets are pooled)."""
    return None if asv is None else asv_operating_point(asv).threshold


def _asv_by_attack(asv: AsvScores | None, attacks: np.ndarray) -> dict[str, AsvScores]:
    """ASV scores restricted to each attack's spoof trials (attacks the ASV file has)."""
    if asv is None or asv.spoof_attacks is None:
        return {}
    names, codes = np.unique(asv.spoof_attacks, return_inverse=True)
    wanted = set(attacks.tolist())
    out = {}
    for code, name in enumerate(names.tolist()):
        if name in wanted:
            sel = codes == code
            out[name] = AsvScores(asv.target, asv.nontarget, asv.spoof[sel], asv.spoof_attacks[sel])
    return out


def per_attack(
    bonafide: np.ndarray,
    spoof: np.ndarray,
    spoof_attacks: np.ndarray,
    *,
    asv: AsvScores | None = None,
    asv_threshold: float | None = None,
    options: BreakdownOptions = BreakdownOptions(),
) -> tuple[BreakdownRow, ...]:
    """Metrics of each attack's spoof trials against all bona fide trials.

    Args:
        bonafide: Bona fide CM scores.
        spoof: Spoof CM scores.
        spoof_attacks: Attack id of each spoof trial.
        asv: ASV scores for the t-DCF (per attack when they carry attack ids).
        asv_threshold: The ASV EER threshold if already known (computed when None).
        options: Which metrics to compute.

    Returns:
        One row per attack, sorted by attack id.

    Shape:
        ``spoof_attacks`` is ``(n_spoof,)`` like ``spoof``.
    """
    attacks = np.asarray(spoof_attacks, dtype=str)
    if attacks.shape != spoof.shape:
        raise MetricError(f"got {spoof.size} spoof scores but {attacks.size} attack ids")
    names, codes = np.unique(attacks, return_inverse=True)
    # one global stable sort; each attack's subsequence is then its own stable sort
    all_scores = np.concatenate((bonafide, spoof))
    order = np.argsort(all_scores, kind="stable")
    sorted_scores = all_scores[order]
    is_bona = order < bonafide.size
    sorted_codes = np.concatenate((np.full(bonafide.size, -1), codes))[order]
    asv_split = _asv_by_attack(asv, names)
    if asv_threshold is None and asv is not None and (options.tdcf_2019 or options.tdcf_2021):
        asv_threshold = asv_operating_point(asv).threshold
    rows = []
    for code, attack in enumerate(names.tolist()):
        mask = is_bona | (sorted_codes == code)
        rows.append(
            _row(
                "attack",
                attack,
                sorted_scores[mask],
                is_bona[mask],
                asv=asv_split.get(attack, asv),
                asv_threshold=asv_threshold,
                options=options,
            )
        )
    return tuple(rows)


def per_condition(
    scores: np.ndarray,
    is_bonafide: np.ndarray,
    conditions: Mapping[str, np.ndarray],
    *,
    asv: AsvScores | None = None,
    options: BreakdownOptions = BreakdownOptions(),
) -> tuple[BreakdownRow, ...]:
    """Metrics per value of each condition column (bona fide and spoof of that value).

    Args:
        scores: CM score of every trial.
        is_bonafide: Whether each trial is bona fide.
        conditions: Condition name -> value per trial (e.g. ``{"codec": [...]}``).
        asv: Pooled ASV scores for the t-DCF (condition-specific ASV scores are not used).
        options: Which metrics to compute.

    Returns:
        Rows per condition then value (sorted).
    """
    rows = []
    asv_threshold = _asv_threshold(asv)
    for name, values in conditions.items():
        vals = np.asarray(values, dtype=str)
        if vals.shape != scores.shape:
            raise MetricError(f"condition {name!r} has {vals.size} values for {scores.size} trials")
        for value in sorted(set(vals.tolist())):
            sel = vals == value
            sorted_scores, is_bona = sort_trials(
                scores[sel & is_bonafide], scores[sel & ~is_bonafide]
            )
            rows.append(
                _row(
                    name,
                    value,
                    sorted_scores,
                    is_bona,
                    asv=asv,
                    asv_threshold=asv_threshold,
                    options=options,
                )
            )
    return tuple(rows)
