"""Score calibration: countermeasure scores -> log-likelihood ratios, by logistic regression.

A countermeasure's score (the bona fide logit) ranks trials but is not a probability on
anyone's data. Linear logistic calibration, as in the BOSARIS toolkit and as the ASVspoof 5
evaluation assumes for its actDCF and Cllr, maps a score ``s`` to a natural-log likelihood
ratio of bona fide versus spoof::

    llr = slope * s + offset

``slope`` and ``offset`` minimise the prior-weighted cross-entropy on labelled development
scores. **Convention** (stated once, used everywhere): the *target* class is bona fide;
``p_spoof`` is the prior of spoofs (ASVspoof 5: 0.05) and ``c_miss`` / ``c_fa`` the costs of
rejecting bona fide speech / accepting a spoof (ASVspoof 5: 1 and 10). The regression is
weighted by the **effective target prior**
``P = (1 - p_spoof) c_miss / ((1 - p_spoof) c_miss + p_spoof c_fa)`` (0.655 for the
ASVspoof 5 costs): each class's mean loss gets weight ``P`` (bona fide) and ``1 - P``
(spoof), with ``logit(P)`` added to the LLR inside the loss, so the fitted map is an LLR
that is best where those costs apply. A tiny L2 penalty on the slope (``1e-6`` on
standardised scores) keeps the fit finite when the development scores separate perfectly.

Decisions follow Bayes: bona fide when ``llr >= log(c_fa p_spoof / (c_miss (1 - p_spoof)))``
(:attr:`voxlab.evaluation.dcf.DcfCostModel.bayes_threshold`); the posterior probability of
spoof at prior ``p_spoof`` is ``1 / (1 + exp(llr + log((1 - p_spoof) / p_spoof)))``.

A calibration is stored as JSON together with the identity of the model whose scores it
was fitted on (name and checkpoint sha256), so that it is never applied to another model.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import ConfigError, DataError, MetricError
from voxlab.evaluation.dcf import DcfCostModel, act_dcf, min_dcf
from voxlab.evaluation.metrics import (
    ArrayLike,
    as_scores,
    check_two_class,
    cllr,
    compute_eer,
    min_cllr,
)

FORMAT = "voxlab-calibration"
VERSION = 1
#: L2 penalty on the slope of standardised scores (only matters for separable scores).
L2_PENALTY = 1e-6


def effective_prior(cost: DcfCostModel) -> float:
    """The effective bona fide (target) prior of a cost model.

    ``(1 - p_spoof) c_miss / ((1 - p_spoof) c_miss + p_spoof c_fa)``.
    """
    target = (1 - cost.p_spoof) * cost.c_miss
    return float(target / (target + cost.p_spoof * cost.c_fa))


def _sigmoid_log(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x))`` without overflow."""
    return -np.logaddexp(0.0, -x)


def fit_linear_calibration(
    bonafide: ArrayLike,
    spoof: ArrayLike,
    *,
    prior: float,
    penalty: float = L2_PENALTY,
) -> tuple[float, float]:
    """Prior-weighted linear logistic regression of scores to LLRs.

    Args:
        bonafide: Bona fide scores (higher = more bona fide).
        spoof: Spoof scores.
        prior: Effective target (bona fide) prior weighting the two classes, in (0, 1).
        penalty: L2 penalty on the slope of standardised scores.

    Returns:
        ``(slope, offset)`` with ``llr = slope * score + offset``.

    Shape:
        ``(n_bonafide,)`` and ``(n_spoof,)``.

    Raises:
        MetricError: An empty class, NaN/Inf, or constant scores.
    """
    from scipy.optimize import minimize

    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    check_two_class(bona, spf, metric="calibration", min_unique=2)
    if not 0.0 < prior < 1.0:
        raise MetricError(f"the calibration prior must lie strictly between 0 and 1, got {prior}")
    both = np.concatenate([bona, spf])
    centre, scale = float(np.mean(both)), float(np.std(both))
    zb, zs = (bona - centre) / scale, (spf - centre) / scale
    shift = math.log(prior / (1 - prior))

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = w
        lb, ls = a * zb + b + shift, a * zs + b + shift
        loss = -prior * np.mean(_sigmoid_log(lb)) - (1 - prior) * np.mean(_sigmoid_log(-ls))
        gb = -prior * (1 - np.exp(_sigmoid_log(lb))) / zb.size  # d loss / d lb
        gs = (1 - prior) * np.exp(_sigmoid_log(ls)) / zs.size  # d loss / d ls
        grad = np.array([gb @ zb + gs @ zs + 2 * penalty * a, gb.sum() + gs.sum()])
        return float(loss + penalty * a * a), grad

    result = minimize(
        objective, np.array([1.0, 0.0]), jac=True, method="BFGS", options={"gtol": 1e-10}
    )
    a, b = (float(v) for v in result.x)
    slope = a / scale
    return slope, b - slope * centre


@dataclass(frozen=True)
class ModelIdentity:
    """Which model produced the scores: catalogue/architecture name and checkpoint sha256."""

    name: str
    checkpoint_sha256: str
    checkpoint: str = ""


@dataclass(frozen=True)
class Calibration:
    """A fitted score -> LLR map and what it was fitted on.

    Attributes:
        slope: LLR per unit of score (> 0 for a model that ranks trials the right way).
        offset: LLR at score 0.
        p_spoof: Spoof prior the fit was weighted for (and the default prior of verdicts).
        c_miss: Cost of calling bona fide speech spoof.
        c_fa: Cost of accepting a spoof as bona fide.
        model: The model whose scores were calibrated.
        metrics: Cllr, min Cllr, actDCF, minDCF and EER before/after on the fitting set.
        source: The score file, its sha256 and class counts.
        created: UTC time of the fit (ISO 8601).
    """

    slope: float
    offset: float
    p_spoof: float = 0.05
    c_miss: float = 1.0
    c_fa: float = 10.0
    model: ModelIdentity | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    created: str = ""

    @property
    def cost(self) -> DcfCostModel:
        """The cost model of the fit."""
        return DcfCostModel(p_spoof=self.p_spoof, c_miss=self.c_miss, c_fa=self.c_fa)

    def llr(self, scores: ArrayLike | float) -> np.ndarray:
        """Calibrated natural-log likelihood ratios (bona fide vs spoof) of ``scores``."""
        return self.slope * np.asarray(scores, dtype=np.float64) + self.offset

    def p_spoof_posterior(self, scores: ArrayLike | float, *, p_spoof: float | None = None):
        """Posterior probability of spoof at prior ``p_spoof`` (default: the fit's)."""
        prior = self.p_spoof if p_spoof is None else _check_prior(p_spoof)
        log_odds_bona = self.llr(scores) + math.log((1 - prior) / prior)
        return 1.0 / (1.0 + np.exp(np.clip(log_odds_bona, -700, 700)))

    def llr_threshold(self, *, p_spoof: float | None = None) -> float:
        """Bayes threshold on the LLR for prior ``p_spoof`` and the fit's costs."""
        prior = self.p_spoof if p_spoof is None else _check_prior(p_spoof)
        return DcfCostModel(p_spoof=prior, c_miss=self.c_miss, c_fa=self.c_fa).bayes_threshold

    def score_threshold(self, *, p_spoof: float | None = None) -> float:
        """The Bayes threshold expressed on the raw score: ``score >= it`` means bona fide."""
        return (self.llr_threshold(p_spoof=p_spoof) - self.offset) / self.slope

    def to_dict(self) -> dict[str, Any]:
        """The JSON document."""
        out = {"format": FORMAT, "version": VERSION, "kind": "linear-logistic"}
        out.update(asdict(self))
        out["effective_prior"] = effective_prior(self.cost)
        out["convention"] = (
            "llr = slope * score + offset: natural-log likelihood ratio of bona fide vs "
            "spoof; score = bona fide logit; fitted by prior-weighted logistic regression "
            "with the effective bona fide prior of (p_spoof, c_miss, c_fa)"
        )
        return out

    def save(self, path: str | os.PathLike) -> Path:
        """Write the JSON document (atomically) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    def check_model(self, name: str, sha256: str, *, source: str | os.PathLike = "") -> None:
        """Refuse to serve a model other than the one this calibration was fitted for.

        Raises:
            ConfigError: The checkpoint's sha256 differs (the message says what to do).
        """
        where = f"calibration {source}" if source else "the calibration"
        if self.model is None:
            raise ConfigError(
                f"{where} names no model; refit it with `voxlab calibrate --model ...`"
            )
        if self.model.checkpoint_sha256 != sha256:
            raise ConfigError(
                f"{where} was fitted on scores of {self.model.name!r} (checkpoint sha256 "
                f"{self.model.checkpoint_sha256[:12]}...), not on this model {name!r} "
                f"(sha256 {sha256[:12]}...); refit it with `voxlab calibrate --scores DEV "
                f"--model {name}` on scores of this model, or drop --calibration"
            )


def _check_prior(p_spoof: float) -> float:
    if not 0.0 < p_spoof < 1.0:
        raise ConfigError(f"the spoof prior must lie strictly between 0 and 1, got {p_spoof}")
    return float(p_spoof)


def calibration_metrics(
    bonafide: ArrayLike, spoof: ArrayLike, *, cost: DcfCostModel
) -> dict[str, float]:
    """Cllr, min Cllr, actDCF, minDCF, EER and the Bayes verdict's error rates of LLRs.

    The error rates are those of the verdict at the Bayes threshold of ``cost``: bona fide
    trials called spoof (``bonafide_called_spoof``) and spoofs let through (``spoof_missed``).
    """
    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    threshold = cost.bayes_threshold
    return {
        "cllr": cllr(bona, spf),
        "min_cllr": min_cllr(bona, spf),
        "act_dcf": act_dcf(bona, spf, cost=cost).dcf,
        "min_dcf": min_dcf(bona, spf, cost=cost).dcf,
        "eer": compute_eer(bona, spf).eer,
        "bonafide_called_spoof": float(np.mean(bona < threshold)),
        "spoof_missed": float(np.mean(spf >= threshold)),
    }


def calibrate(
    bonafide: ArrayLike,
    spoof: ArrayLike,
    *,
    p_spoof: float = 0.05,
    c_miss: float = 1.0,
    c_fa: float = 10.0,
    model: ModelIdentity | None = None,
    source: dict[str, Any] | None = None,
) -> Calibration:
    """Fit a linear calibration and measure it before/after on the same scores.

    Args:
        bonafide: Bona fide development scores.
        spoof: Spoof development scores.
        p_spoof: Spoof prior (ASVspoof 5: 0.05).
        c_miss: Cost of rejecting bona fide speech (ASVspoof 5: 1).
        c_fa: Cost of accepting a spoof (ASVspoof 5: 10).
        model: Identity of the model that produced the scores.
        source: Where the scores came from (stored as is).

    Returns:
        The :class:`Calibration`, with ``metrics["before"]`` (raw scores read as LLRs) and
        ``metrics["after"]``.

    Raises:
        MetricError: Unusable scores or priors.
    """
    cost = DcfCostModel(p_spoof=p_spoof, c_miss=c_miss, c_fa=c_fa)
    bona = as_scores(bonafide, name="bona fide scores")
    spf = as_scores(spoof, name="spoof scores")
    slope, offset = fit_linear_calibration(bona, spf, prior=effective_prior(cost))
    if slope <= 0:
        raise MetricError(
            f"the fitted calibration slope is {slope:.3g} <= 0: these scores rank spoofs above "
            "bona fide speech (check the keys, or that higher scores mean bona fide)"
        )
    fitted = Calibration(slope=slope, offset=offset, p_spoof=p_spoof, c_miss=c_miss, c_fa=c_fa)
    metrics = {
        "before": calibration_metrics(bona, spf, cost=cost),
        "after": calibration_metrics(fitted.llr(bona), fitted.llr(spf), cost=cost),
    }
    return Calibration(
        slope=slope,
        offset=offset,
        p_spoof=p_spoof,
        c_miss=c_miss,
        c_fa=c_fa,
        model=model,
        metrics=metrics,
        source=dict(source or {}),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def load_calibration(path: str | os.PathLike) -> Calibration:
    """Read a calibration JSON written by :meth:`Calibration.save`.

    Raises:
        DataError: Missing file, not JSON, not a voxlab calibration, or bad values.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"calibration file not found: {path} (make one with `voxlab calibrate`)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} is not a JSON calibration file: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise DataError(f'{path} is not a voxlab calibration (no "format": "{FORMAT}")')
    if doc.get("version") != VERSION or doc.get("kind") != "linear-logistic":
        raise DataError(
            f"{path}: calibration version {doc.get('version')!r} / kind {doc.get('kind')!r} "
            f"is not supported (this voxlab reads version {VERSION}, linear-logistic)"
        )
    try:
        model = doc.get("model")
        cal = Calibration(
            slope=float(doc["slope"]),
            offset=float(doc["offset"]),
            p_spoof=float(doc["p_spoof"]),
            c_miss=float(doc["c_miss"]),
            c_fa=float(doc["c_fa"]),
            model=ModelIdentity(**model) if model else None,
            metrics=dict(doc.get("metrics") or {}),
            source=dict(doc.get("source") or {}),
            created=str(doc.get("created", "")),
        )
        cal.cost  # noqa: B018 - validates the prior and costs
    except (KeyError, TypeError, ValueError, MetricError) as exc:
        raise DataError(f"{path}: malformed calibration ({exc}); refit it") from None
    if not (math.isfinite(cal.slope) and cal.slope > 0 and math.isfinite(cal.offset)):
        raise DataError(f"{path}: slope must be a positive number and offset finite")
    return cal
