"""Calibrated verdicts: a detector's results through a fitted score -> LLR calibration.

A calibration (``voxlab calibrate``, :mod:`voxlab.evaluation.calibration`) belongs to one
model checkpoint. It is given explicitly (``voxlab detect --calibration cal.json``) or
found beside the checkpoint as ``<checkpoint stem>.calibration.json`` (e.g.
``aasist.pth`` -> ``aasist.calibration.json``). Either way its recorded checkpoint sha256
must equal the checkpoint's, or it is refused.

With a calibration every result gets its LLR, ``p_spoof`` becomes the posterior probability
of spoof at the stated prior, and the verdict is the Bayes decision for that prior and the
calibration's costs. Without one, results say ``calibrated: false``: ``p_spoof`` is the
softmax of the two logits and the verdict uses the model's documented threshold.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from voxlab.detection.results import DetectionResult
from voxlab.evaluation.calibration import Calibration, load_calibration

SUFFIX = ".calibration.json"


def calibration_path_for(checkpoint: str | os.PathLike) -> Path:
    """Where a calibration of ``checkpoint`` is looked for: ``<stem>.calibration.json``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.stem + SUFFIX)


def find_calibration(checkpoint: str | os.PathLike | None) -> Path | None:
    """The calibration file stored beside ``checkpoint``, if there is one."""
    if checkpoint is None:
        return None
    path = calibration_path_for(checkpoint)
    return path if path.is_file() else None


def load_for_model(
    path: str | os.PathLike, *, name: str, checkpoint: str | os.PathLike
) -> Calibration:
    """Load a calibration and check that it belongs to ``checkpoint``.

    Raises:
        DataError: Unreadable calibration file.
        ConfigError: The calibration was fitted on another model's scores.
    """
    from voxlab.pretrained import sha256_of

    cal = load_calibration(path)
    cal.check_model(name, sha256_of(checkpoint), source=path)
    return cal


def apply_calibration(
    result: DetectionResult,
    calibration: Calibration,
    *,
    p_spoof: float | None = None,
    source: str | None = None,
) -> DetectionResult:
    """The result with calibrated ``llr``, ``p_spoof`` and Bayes verdict at prior ``p_spoof``.

    Args:
        result: An uncalibrated result (error rows are returned unchanged).
        calibration: The model's calibration.
        p_spoof: Spoof prior of the verdict and posterior; default: the calibration's.
        source: The calibration file, reported in the result.

    Returns:
        A new :class:`DetectionResult` with ``calibrated=True``.
    """
    if result.status != "ok" or result.score is None:
        return result
    prior = calibration.p_spoof if p_spoof is None else p_spoof
    llr = float(calibration.llr(result.score))
    posterior = float(calibration.p_spoof_posterior(result.score, p_spoof=prior))
    bonafide = llr >= calibration.llr_threshold(p_spoof=prior)
    segments = None
    if result.segments is not None:
        segments = [
            dataclasses.replace(
                seg, p_spoof=float(calibration.p_spoof_posterior(seg.score, p_spoof=prior))
            )
            for seg in result.segments
        ]
    return dataclasses.replace(
        result,
        p_spoof=posterior,
        verdict="bonafide" if bonafide else "spoof",
        threshold=calibration.score_threshold(p_spoof=prior),
        segments=segments,
        calibrated=True,
        llr=llr,
        prior_spoof=prior,
        calibration=source,
    )


def uncalibrated_note(name: str, threshold: float | None, threshold_source: str = "") -> str:
    """The plain statement printed when a model has no calibration."""
    rule = "the larger logit wins" if threshold is None else f"score >= {threshold:g}"
    why = f" ({threshold_source})" if threshold_source else ""
    return (
        f"note: {name} has no calibration. p_spoof is the softmax of its logits and the "
        f"verdict is {rule}{why}: the operating point of its training data, not a "
        "calibrated probability for your audio. To calibrate it on labelled audio like "
        f"yours: voxlab calibrate --scores dev.txt --model {name} --out cal.json, then "
        "voxlab detect ... --calibration cal.json"
    )


def model_checkpoint(model: str, checkpoint: str | os.PathLike | None) -> Path | None:
    """The checkpoint file a detector was built from: ``checkpoint`` or the local published one."""
    if checkpoint is not None:
        return Path(checkpoint)
    from voxlab import pretrained
    from voxlab.errors import VoxlabError

    try:
        return pretrained.resolve_checkpoint(model, download=False)
    except VoxlabError:
        return None


def calibration_for(
    model: str,
    checkpoint: str | os.PathLike | None,
    explicit: str | os.PathLike | None = None,
    *,
    name: str | None = None,
) -> tuple[Calibration | None, Path | None]:
    """The calibration to use for a model: ``explicit``, else one stored beside its checkpoint.

    Args:
        model: Catalogue or architecture name (finds a published checkpoint).
        checkpoint: The checkpoint file, when one was given.
        explicit: A calibration file given by the user.
        name: Name of the model in messages (default ``model``).

    Returns:
        ``(calibration, its file)``, or ``(None, None)`` when the model has none.

    Raises:
        ConfigError: The calibration belongs to another model, or the model's checkpoint
            file cannot be found to check it against.
        DataError: Unreadable calibration file.
    """
    from voxlab.errors import ConfigError

    path = model_checkpoint(model, checkpoint)
    found = Path(explicit) if explicit is not None else find_calibration(path)
    if found is None:
        return None, None
    if path is None or not path.is_file():
        raise ConfigError(
            f"cannot check calibration {found} against {name or model!r}: its checkpoint is not "
            "available locally (pull it with `voxlab models pull` or pass --checkpoint)"
        )
    return load_for_model(found, name=name or model, checkpoint=path), found
