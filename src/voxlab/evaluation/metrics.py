"""Countermeasure metrics as ASVspoof defines them: DET curve, EER, Cllr, min Cllr.

The DET curve and the EER follow the official ``compute_det_curve`` / ``compute_eer`` of
the ASVspoof 2019/2021/5 evaluation packages exactly: the scores of both classes are
sorted together, bona fide trials first where scores tie (the official code concatenates
bona fide then spoof and sorts stably), the miss and false-alarm rates are taken after
each sorted trial (plus a leading point with threshold ``min(score) - 0.001``), and the
EER is the mean of the two rates where ``|FRR - FAR|`` is smallest (first such point).

Scores follow the ASVspoof convention: higher means more bona fide. Every function raises
:class:`~voxlab.errors.MetricError` on inputs that cannot give a meaningful number (an
empty class, NaN or Inf, constant scores, unknown labels) instead of exiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voxlab.errors import MetricError

BONAFIDE = "bonafide"
SPOOF = "spoof"
#: Offset of the leading DET point below the smallest score (official value).
DET_LEADING_OFFSET = 0.001

ArrayLike = np.ndarray | Sequence[float]


def as_scores(values: ArrayLike, *, name: str = "scores") -> np.ndarray:
    """Converts scores to a finite 1-D float64 array.

    Args:
        values: Scores (any sequence of numbers).
        name: What the scores are, for error messages.

    Returns:
        The scores as float64.

    Shape:
        ``(n,)`` in and out.

    Raises:
        MetricError: When the scores are not 1-D numbers or hold NaN or Inf.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MetricError(f"{name} must be numbers: {exc}") from exc
    if arr.ndim != 1:
        raise MetricError(f"{name} must be a 1-D array of scores, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = np.flatnonzero(bad)[:5].tolist()
        raise MetricError(
            f"{name} contain {int(bad.sum())} NaN or Inf value(s) (first at index {first}); "
            "fix the scoring step: every trial needs a finite score"
        )
    return arr


def split_by_key(
    scores: ArrayLike, keys: Sequence[str] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Splits scores into bona fide and spoof scores by their keys.

    Args:
        scores: One score per trial.
        keys: One key per trial, ``"bonafide"`` or ``"spoof"``.

    Returns:
        ``(bonafide_scores, spoof_scores)`` in input order.

    Raises:
        MetricError: On length mismatch, unknown keys, NaN/Inf or an empty class.
    """
    s = as_scores(scores)
    k = np.asarray(keys, dtype=str)
    if k.shape != s.shape:
        raise MetricError(f"got {s.size} scores but {k.size} keys; give one key per score")
    is_bona = k == BONAFIDE
    is_spoof = k == SPOOF
    unknown = ~(is_bona | is_spoof)
    if unknown.any():
        labels = sorted(set(k[unknown].tolist()))[:5]
        raise MetricError(
            f"keys must be 'bonafide' or 'spoof'; found {int(unknown.sum())} other key(s) "
            f"such as {labels} (map e.g. 'bona-fide'/'real'/'fake' to the ASVspoof keys first)"
        )
    bona, spoof = s[is_bona], s[is_spoof]
    check_two_class(bona, spoof)
    return bona, spoof


def n_unique_sorted(sorted_scores: np.ndarray) -> int:
    """Number of distinct values of an already sorted array."""
    if sorted_scores.size == 0:
        return 0
    return 1 + int(np.count_nonzero(sorted_scores[1:] != sorted_scores[:-1]))


def check_two_class(
    bonafide: np.ndarray,
    spoof: np.ndarray,
    *,
    metric: str = "the metric",
    min_unique: int = 2,
    n_unique: int | None = None,
) -> None:
    """Raises MetricError when two score sets cannot give a detection metric.

    Args:
        bonafide: Bona fide (positive class) scores, already finite float64.
        spoof: Spoof (negative class) scores, already finite float64.
        metric: Name of the metric, for the message.
        min_unique: Least number of distinct scores accepted (2: not constant; the
            official t-DCF code demands 3, i.e. soft scores rather than decisions).
        n_unique: Number of distinct scores if already known (saves a sort).

    Raises:
        MetricError: On an empty class or too few distinct scores.
    """
    if bonafide.size == 0 or spoof.size == 0:
        raise MetricError(
            f"{metric} needs both bona fide and spoof trials; got {bonafide.size} bona fide "
            f"and {spoof.size} spoof"
        )
    if n_unique is None:
        n_unique = np.unique(np.concatenate((bonafide, spoof))).size
    if n_unique < min_unique:
        what = "all scores are equal" if n_unique == 1 else f"only {n_unique} distinct scores"
        raise MetricError(
            f"{metric} needs soft scores, but {what}; give real-valued detection scores, "
            "not decisions"
        )


@dataclass(frozen=True)
class DetCurve:
    """Points of a detection error trade-off curve (official ASVspoof construction).

    Attributes:
        frr: Miss (false rejection) rate of bona fide trials at each threshold.
        far: False acceptance rate of spoof trials at each threshold.
        thresholds: The thresholds: ``min(score) - 0.001`` then the sorted scores.

    Shape:
        All three ``(n_bonafide + n_spoof + 1,)``.
    """

    frr: np.ndarray
    far: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class EerResult:
    """Equal error rate (a fraction, not a percentage) and its threshold."""

    eer: float
    threshold: float


def sort_trials(bonafide: np.ndarray, spoof: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorts trials of both classes by score, bona fide first on ties.

    This is the order the official ``compute_det_curve`` produces with a stable sort of
    the bona fide scores followed by the spoof scores.

    Args:
        bonafide: Bona fide scores.
        spoof: Spoof scores.

    Returns:
        ``(sorted_scores, is_bonafide)`` in sorted order.

    Shape:
        Both ``(n_bonafide + n_spoof,)``.
    """
    all_scores = np.concatenate((bonafide, spoof))
    order = np.argsort(all_scores, kind="stable")
    is_bona = order < bonafide.size
    return all_scores[order], is_bona


def det_from_sorted(
    sorted_scores: np.ndarray, is_bonafide: np.ndarray, n_bonafide: int, n_spoof: int
) -> DetCurve:
    """Builds the DET curve from trials already sorted by :func:`sort_trials`.

    Args:
        sorted_scores: Scores in ascending order (bona fide first on ties).
        is_bonafide: Whether each sorted trial is bona fide.
        n_bonafide: Number of bona fide trials (``is_bonafide.sum()``).
        n_spoof: Number of spoof trials.

    Returns:
        The DET curve.
    """
    bona_cum = np.cumsum(is_bonafide, dtype=np.int64)
    spoof_left = n_spoof - (np.arange(1, is_bonafide.size + 1) - bona_cum)
    frr = np.empty(is_bonafide.size + 1)
    far = np.empty(is_bonafide.size + 1)
    frr[0], far[0] = 0.0, 1.0
    frr[1:] = bona_cum / n_bonafide
    far[1:] = spoof_left / n_spoof
    thresholds = np.empty(is_bonafide.size + 1)
    thresholds[0] = sorted_scores[0] - DET_LEADING_OFFSET
    thresholds[1:] = sorted_scores
    return DetCurve(frr=frr, far=far, thresholds=thresholds)


def det_curve(bonafide: ArrayLike, spoof: ArrayLike) -> DetCurve:
    """DET curve of a countermeasure (official ASVspoof ``compute_det_curve``).

    Args:
        bonafide: Bona fide scores (higher = more bona fide).
        spoof: Spoof scores.

    Returns:
        Miss rate, false-alarm rate and thresholds at every operating point.

    Shape:
        Inputs ``(n_bonafide,)`` and ``(n_spoof,)``; outputs ``(n_bonafide + n_spoof + 1,)``.

    Raises:
        MetricError: On an empty class, NaN/Inf or constant scores.
    """
    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    check_two_class(bona, spf, metric="the DET curve")
    sorted_scores, is_bona = sort_trials(bona, spf)
    return det_from_sorted(sorted_scores, is_bona, bona.size, spf.size)


def eer_from_det(det: DetCurve) -> EerResult:
    """EER at the DET point where ``|FRR - FAR|`` is smallest (first such point)."""
    idx = int(np.argmin(np.abs(det.frr - det.far)))
    eer = (det.frr[idx] + det.far[idx]) / 2.0
    return EerResult(eer=float(eer), threshold=float(det.thresholds[idx]))


def compute_eer(bonafide: ArrayLike, spoof: ArrayLike) -> EerResult:
    """Equal error rate as the ASVspoof ``compute_eer`` defines it.

    Args:
        bonafide: Bona fide scores (higher = more bona fide).
        spoof: Spoof scores.

    Returns:
        The EER (fraction in [0, 1]) and the threshold at that point.

    Shape:
        ``(n_bonafide,)`` and ``(n_spoof,)``.

    Raises:
        MetricError: On an empty class, NaN/Inf or constant scores.
    """
    return eer_from_det(det_curve(bonafide, spoof))


def _softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow."""
    return np.logaddexp(0.0, x)


def cllr(bonafide: ArrayLike, spoof: ArrayLike) -> float:
    """Log-likelihood-ratio cost in bits (ASVspoof 5 ``calculate_CLLR``).

    The scores are read as natural-log likelihood ratios of bona fide versus spoof.
    ``log1p(exp(.))`` is evaluated without overflow, so very large scores give a finite
    cost where the official code overflows to ``inf``; elsewhere the two agree to rounding.

    Args:
        bonafide: Bona fide LLRs.
        spoof: Spoof LLRs.

    Returns:
        Cllr in bits (0 is perfect, 1 is an uninformative but calibrated system).

    Raises:
        MetricError: On an empty class or NaN/Inf.
    """
    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    if bona.size == 0 or spf.size == 0:
        raise MetricError(f"Cllr needs both classes; got {bona.size} bona fide, {spf.size} spoof")
    value = 0.5 * (np.mean(_softplus(-bona)) + np.mean(_softplus(spf))) / np.log(2)
    return float(value)


def _pav(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression by pool-adjacent-violators."""
    try:
        from scipy.optimize import isotonic_regression
    except ImportError:  # scipy < 1.12
        return pav_reference(y, w)
    return np.asarray(isotonic_regression(y, weights=w, increasing=True).x, dtype=np.float64)


def pav_reference(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Pool-adjacent-violators in plain Python (fallback and test reference).

    Args:
        y: Values to fit, in order.
        w: Positive weight of each value.

    Returns:
        The non-decreasing sequence closest to ``y`` in weighted least squares.

    Shape:
        ``(n,)`` in and out.
    """
    means: list[float] = []
    weights: list[float] = []
    counts: list[int] = []
    for value, weight in zip(y.tolist(), w.tolist(), strict=True):
        means.append(value)
        weights.append(weight)
        counts.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            m2, w2, c2 = means.pop(), weights.pop(), counts.pop()
            m1, w1 = means[-1], weights[-1]
            weights[-1] = w1 + w2
            means[-1] = (m1 * w1 + m2 * w2) / (w1 + w2)
            counts[-1] += c2
    return np.repeat(np.asarray(means), counts)


def min_cllr(bonafide: ArrayLike, spoof: ArrayLike) -> float:
    """Minimum Cllr: the Cllr after optimal monotone calibration (PAV), in bits.

    Equal scores are pooled before the PAV, so trials that tie get the same calibrated
    LLR (the minimum is over monotone functions of the score).

    Args:
        bonafide: Bona fide scores.
        spoof: Spoof scores.

    Returns:
        min Cllr in bits, ``<= cllr`` for any score scaling.

    Raises:
        MetricError: On an empty class or NaN/Inf.
    """
    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    if bona.size == 0 or spf.size == 0:
        raise MetricError(
            f"min Cllr needs both classes; got {bona.size} bona fide, {spf.size} spoof"
        )
    all_scores = np.concatenate((bona, spf))
    is_bona = np.concatenate((np.ones(bona.size), np.zeros(spf.size)))
    uniq, inverse = np.unique(all_scores, return_inverse=True)
    n_block = np.bincount(inverse, minlength=uniq.size).astype(np.float64)
    bona_block = np.bincount(inverse, weights=is_bona, minlength=uniq.size)
    posterior = _pav(bona_block / n_block, n_block)
    n_b, n_s = float(bona.size), float(spf.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = np.log(posterior) - np.log1p(-posterior) - np.log(n_b / n_s)
    spoof_block = n_block - bona_block
    with np.errstate(invalid="ignore"):
        cost_b = np.where(bona_block > 0, bona_block * _softplus(-llr), 0.0)
        cost_s = np.where(spoof_block > 0, spoof_block * _softplus(llr), 0.0)
    value = 0.5 * (cost_b.sum() / n_b + cost_s.sum() / n_s) / np.log(2)
    return float(value)
