"""Countermeasure evaluation: the official ASVspoof metrics and reports.

Every metric matches its official implementation numerically (ASVspoof 2019/2021 eval
packages, the ASVspoof 5 package, a-DCF and t-EER reference code); see each module.
:func:`evaluate` turns scores and keys into an :class:`EvalReport`.
"""

from voxlab.evaluation.breakdown import BreakdownRow, per_attack, per_condition
from voxlab.evaluation.dcf import DcfCostModel, DcfResult, act_dcf, min_dcf
from voxlab.evaluation.metrics import (
    DetCurve,
    EerResult,
    cllr,
    compute_eer,
    det_curve,
    min_cllr,
    split_by_key,
)
from voxlab.evaluation.reports import METRIC_SETS, EvalReport, evaluate
from voxlab.evaluation.sasv import ADcfCostModel, ADcfResult, TEerResult, a_dcf, t_eer
from voxlab.evaluation.tdcf import (
    AsvOperatingPoint,
    AsvScores,
    LegacyCostModel,
    RevisedCostModel,
    TdcfResult,
    asv_operating_point,
    min_tdcf_legacy,
    min_tdcf_revised,
    tdcf_curve_legacy,
)

__all__ = [
    "METRIC_SETS",
    "ADcfCostModel",
    "ADcfResult",
    "AsvOperatingPoint",
    "AsvScores",
    "BreakdownRow",
    "DcfCostModel",
    "DcfResult",
    "DetCurve",
    "EerResult",
    "EvalReport",
    "LegacyCostModel",
    "RevisedCostModel",
    "TEerResult",
    "TdcfResult",
    "a_dcf",
    "act_dcf",
    "asv_operating_point",
    "cllr",
    "compute_eer",
    "det_curve",
    "evaluate",
    "min_cllr",
    "min_dcf",
    "min_tdcf_legacy",
    "min_tdcf_revised",
    "per_attack",
    "per_condition",
    "split_by_key",
    "t_eer",
    "tdcf_curve_legacy",
]
