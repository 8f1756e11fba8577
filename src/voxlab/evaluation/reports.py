"""One call from scores to a full evaluation report: :func:`evaluate` -> :class:`EvalReport`.

Metric sets:

* ``"2019"``: EER and the ASVspoof 2019 (legacy) min t-DCF; per attack the same.
* ``"2021"``: EER and the ASVspoof 2021 (revised) min t-DCF; per attack and per condition.
* ``"asvspoof5"``: EER, minDCF, actDCF, Cllr and min Cllr; per attack EER and minDCF.
* ``"all"``: everything above.

The t-DCFs need ASV scores (:class:`~voxlab.evaluation.tdcf.AsvScores`); without them
they are left out and the report says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from voxlab.errors import MetricError
from voxlab.evaluation.breakdown import BreakdownOptions, BreakdownRow, per_attack, per_condition
from voxlab.evaluation.dcf import DcfCostModel, act_dcf, min_dcf_from_det
from voxlab.evaluation.metrics import (
    BONAFIDE,
    SPOOF,
    as_scores,
    check_two_class,
    cllr,
    det_from_sorted,
    eer_from_det,
    min_cllr,
    n_unique_sorted,
    sort_trials,
)
from voxlab.evaluation.tdcf import (
    AsvOperatingPoint,
    AsvScores,
    LegacyCostModel,
    RevisedCostModel,
    asv_operating_point,
    legacy_coefficients,
    legacy_tdcf_from_det,
    revised_coefficients,
    revised_tdcf_from_det,
)

METRIC_SETS = ("2019", "2021", "asvspoof5", "all")


@dataclass(frozen=True)
class EvalReport:
    """Pooled metrics and their breakdowns. Rates are fractions (``eer_percent`` aside).

    Attributes:
        metric_set: Which metric set was computed.
        n_bonafide: Number of bona fide trials.
        n_spoof: Number of spoof trials.
        eer: Pooled EER (fraction).
        eer_threshold: CM threshold at the EER.
        min_tdcf_2019: ASVspoof 2019 legacy min t-DCF (None if not computed).
        min_tdcf_2019_threshold: CM threshold reaching it.
        min_tdcf_2021: ASVspoof 2021 revised min t-DCF (None if not computed).
        min_tdcf_2021_threshold: CM threshold reaching it.
        asv: ASV operating point used by the t-DCFs.
        min_dcf: ASVspoof 5 minDCF.
        min_dcf_threshold: Threshold reaching it.
        act_dcf: ASVspoof 5 actDCF.
        act_dcf_threshold: Bayes threshold used.
        cllr: Cllr in bits.
        min_cllr: Minimum Cllr (PAV) in bits.
        per_attack: One row per attack.
        per_condition: One row per condition value.
        notes: Why something was not computed.
    """

    metric_set: str
    n_bonafide: int
    n_spoof: int
    eer: float
    eer_threshold: float
    min_tdcf_2019: float | None = None
    min_tdcf_2019_threshold: float | None = None
    min_tdcf_2021: float | None = None
    min_tdcf_2021_threshold: float | None = None
    asv: AsvOperatingPoint | None = None
    min_dcf: float | None = None
    min_dcf_threshold: float | None = None
    act_dcf: float | None = None
    act_dcf_threshold: float | None = None
    cllr: float | None = None
    min_cllr: float | None = None
    per_attack: tuple[BreakdownRow, ...] = ()
    per_condition: tuple[BreakdownRow, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def eer_percent(self) -> float:
        """The pooled EER in percent."""
        return 100.0 * self.eer

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict of every computed value."""
        return {
            "metric_set": self.metric_set,
            "n_bonafide": self.n_bonafide,
            "n_spoof": self.n_spoof,
            "eer": self.eer,
            "eer_percent": self.eer_percent,
            "eer_threshold": self.eer_threshold,
            "min_tdcf_2019": self.min_tdcf_2019,
            "min_tdcf_2019_threshold": self.min_tdcf_2019_threshold,
            "min_tdcf_2021": self.min_tdcf_2021,
            "min_tdcf_2021_threshold": self.min_tdcf_2021_threshold,
            "asv_operating_point": None if self.asv is None else self.asv.to_dict(),
            "min_dcf": self.min_dcf,
            "min_dcf_threshold": self.min_dcf_threshold,
            "act_dcf": self.act_dcf,
            "act_dcf_threshold": self.act_dcf_threshold,
            "cllr": self.cllr,
            "min_cllr": self.min_cllr,
            "per_attack": [row.to_dict() for row in self.per_attack],
            "per_condition": [row.to_dict() for row in self.per_condition],
            "notes": list(self.notes),
        }

    def summary_rows(self) -> list[tuple[str, str]]:
        """``(metric, formatted value)`` pairs of the pooled metrics that were computed."""
        rows = [
            ("bona fide / spoof trials", f"{self.n_bonafide} / {self.n_spoof}"),
            ("EER (%)", f"{self.eer_percent:.4f}"),
            ("EER threshold", f"{self.eer_threshold:.6g}"),
        ]
        optional = [
            ("min t-DCF (ASVspoof 2019)", self.min_tdcf_2019, ".6f"),
            ("min t-DCF (ASVspoof 2021)", self.min_tdcf_2021, ".6f"),
            ("minDCF (ASVspoof 5)", self.min_dcf, ".6f"),
            ("actDCF (ASVspoof 5)", self.act_dcf, ".6f"),
            ("Cllr (bits)", self.cllr, ".6f"),
            ("min Cllr (bits)", self.min_cllr, ".6f"),
        ]
        rows += [(name, format(value, fmt)) for name, value, fmt in optional if value is not None]
        if self.asv is not None:
            rows.append(("ASV EER threshold", f"{self.asv.threshold:.6g}"))
        return rows

    def breakdown_columns(self) -> list[str]:
        """Metric columns present in the breakdown rows."""
        cols = ["eer"]
        rows = self.per_attack + self.per_condition
        for name in ("min_tdcf_2019", "min_tdcf_2021", "min_dcf"):
            if any(getattr(row, name) is not None for row in rows):
                cols.append(name)
        return cols

    def breakdown_table(self, rows: Sequence[BreakdownRow]) -> tuple[list[str], list[list[str]]]:
        """Header and formatted cells of a breakdown table."""
        cols = self.breakdown_columns()
        titles = {
            "eer": "EER (%)",
            "min_tdcf_2019": "min t-DCF 2019",
            "min_tdcf_2021": "min t-DCF 2021",
            "min_dcf": "minDCF",
        }
        header = ["factor", "value", "bona fide", "spoof", *[titles[c] for c in cols]]
        explain = any(row.note for row in rows)  # say why a cell shows "-"
        if explain:
            header.append("note")
        body = []
        for row in rows:
            cells = [row.factor, row.value, str(row.n_bonafide), str(row.n_spoof)]
            for col in cols:
                value = getattr(row, col)
                if value is None:
                    cells.append("-")
                elif col == "eer":
                    cells.append(f"{100 * value:.2f}")
                else:
                    cells.append(f"{value:.4f}")
            if explain:
                cells.append(row.note or "")
            body.append(cells)
        return header, body

    def to_markdown(self) -> str:
        """Markdown: pooled metrics, then the per-attack and per-condition tables."""
        lines = [f"## Evaluation (metric set {self.metric_set})", "", "| metric | value |"]
        lines.append("|---|---|")
        lines += [f"| {name} | {value} |" for name, value in self.summary_rows()]
        for title, rows in (("Per attack", self.per_attack), ("Per condition", self.per_condition)):
            if not rows:
                continue
            header, body = self.breakdown_table(rows)
            lines += ["", f"### {title}", "", "| " + " | ".join(header) + " |"]
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(cells) + " |" for cells in body]
        if self.notes:
            lines += ["", *[f"- note: {note}" for note in self.notes]]
        return "\n".join(lines) + "\n"


def evaluate(
    scores: Sequence[float] | np.ndarray,
    keys: Sequence[str] | np.ndarray,
    attacks: Sequence[str] | np.ndarray | None = None,
    *,
    asv: AsvScores | None = None,
    metric_set: str = "2019",
    conditions: Mapping[str, Sequence[str] | np.ndarray] | None = None,
    legacy_cost: LegacyCostModel = LegacyCostModel(),
    revised_cost: RevisedCostModel = RevisedCostModel(),
    dcf_cost: DcfCostModel = DcfCostModel(),
) -> EvalReport:
    """Evaluates CM scores: pooled metrics of a metric set plus breakdowns.

    Args:
        scores: One CM score per trial (higher = more bona fide).
        keys: ``"bonafide"`` or ``"spoof"`` per trial.
        attacks: Attack id per trial (``"-"`` for bona fide) for the per-attack table.
        asv: ASV scores for the t-DCFs (e.g. the organizers' ASV score file).
        metric_set: ``"2019"``, ``"2021"``, ``"asvspoof5"`` or ``"all"``.
        conditions: Extra per-trial factors (e.g. ``{"codec": ..., "transmission": ...}``).
        legacy_cost: Cost model of the 2019 t-DCF.
        revised_cost: Cost model of the 2021 t-DCF.
        dcf_cost: Cost model of minDCF/actDCF.

    Returns:
        The report.

    Shape:
        ``scores``, ``keys``, ``attacks`` and each condition are ``(n_trials,)``.

    Raises:
        MetricError: On unknown keys or metric set, NaN/Inf scores, an empty class,
            constant scores, or misaligned inputs.
    """
    if metric_set not in METRIC_SETS:
        raise MetricError(f"unknown metric set {metric_set!r}; choose one of {METRIC_SETS}")
    s = as_scores(scores)
    k = np.asarray(keys, dtype=str)
    if k.shape != s.shape:
        raise MetricError(f"got {s.size} scores but {k.size} keys")
    is_bona = k == BONAFIDE
    unknown = ~(is_bona | (k == SPOOF))
    if unknown.any():
        bad = sorted(set(k[unknown].tolist()))[:5]
        raise MetricError(f"keys must be 'bonafide' or 'spoof'; found {bad}")
    bona, spoof = s[is_bona], s[~is_bona]
    sorted_scores, sorted_bona = sort_trials(bona, spoof)
    n_unique = n_unique_sorted(sorted_scores)
    check_two_class(bona, spoof, metric="evaluation", n_unique=n_unique)

    want_2019 = metric_set in ("2019", "all")
    want_2021 = metric_set in ("2021", "all")
    want_5 = metric_set in ("asvspoof5", "all")
    det = det_from_sorted(sorted_scores, sorted_bona, bona.size, spoof.size)
    eer = eer_from_det(det)
    out: dict[str, object] = {}
    notes: list[str] = []

    op = None
    if (want_2019 or want_2021) and asv is None:
        notes.append("t-DCF not computed: no ASV scores given")
    elif want_2019 or want_2021:
        op = asv_operating_point(asv)
        check_two_class(bona, spoof, metric="the t-DCF", min_unique=3, n_unique=n_unique)
        if want_2019:
            c1, c2 = legacy_coefficients(op, legacy_cost)
            res = legacy_tdcf_from_det(det, c1, c2)
            out["min_tdcf_2019"], out["min_tdcf_2019_threshold"] = res.min_tdcf, res.threshold
        if want_2021:
            c0, c1, c2 = revised_coefficients(op, revised_cost)
            res = revised_tdcf_from_det(det, c0, c1, c2)
            out["min_tdcf_2021"], out["min_tdcf_2021_threshold"] = res.min_tdcf, res.threshold
    if want_5:
        res5 = min_dcf_from_det(det, dcf_cost)
        act = act_dcf(bona, spoof, cost=dcf_cost)
        out.update(
            min_dcf=res5.dcf,
            min_dcf_threshold=res5.threshold,
            act_dcf=act.dcf,
            act_dcf_threshold=act.threshold,
            cllr=cllr(bona, spoof),
            min_cllr=min_cllr(bona, spoof),
        )

    options = BreakdownOptions(
        tdcf_2019=want_2019,
        tdcf_2021=want_2021,
        dcf=want_5,
        legacy_cost=legacy_cost,
        revised_cost=revised_cost,
        dcf_cost=dcf_cost,
    )
    attack_rows: tuple[BreakdownRow, ...] = ()
    if attacks is not None:
        a = np.asarray(attacks, dtype=str)
        if a.shape != s.shape:
            raise MetricError(f"got {s.size} scores but {a.size} attack ids")
        attack_rows = per_attack(
            bona,
            spoof,
            a[~is_bona],
            asv=asv,
            asv_threshold=None if op is None else op.threshold,
            options=options,
        )
    condition_rows: tuple[BreakdownRow, ...] = ()
    if conditions:
        cond = {name: np.asarray(v, dtype=str) for name, v in conditions.items()}
        condition_rows = per_condition(
            s, is_bona, cond, asv=None, options=BreakdownOptions(dcf=want_5, dcf_cost=dcf_cost)
        )
        if want_2019 or want_2021:
            notes.append("per-condition t-DCF not computed: it needs condition-specific ASV scores")
    return EvalReport(
        metric_set=metric_set,
        n_bonafide=int(bona.size),
        n_spoof=int(spoof.size),
        eer=eer.eer,
        eer_threshold=eer.threshold,
        asv=op,
        per_attack=attack_rows,
        per_condition=condition_rows,
        notes=tuple(notes),
        **out,  # type: ignore[arg-type]
    )
