"""Per-file detection results and the writers that stream them to disk (resumable)."""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from voxlab.errors import ConfigError

#: Columns of CSV output and of the table, in order.
CSV_COLUMNS = [
    "path", "status", "score", "p_spoof", "verdict", "duration", "judged", "judged_start",
    "judged_end", "model", "policy", "score_min", "logit_spoof", "logit_bonafide", "calibrated",
    "llr", "prior_spoof", "error",
]  # fmt: skip


@dataclass(frozen=True)
class Segment:
    """The score of one model input (a window) with the seconds of audio it covers."""

    start: float
    end: float
    score: float
    p_spoof: float


@dataclass(frozen=True)
class DetectionResult:
    """What a countermeasure says about one file or array.

    Attributes:
        path: The file, or ``None`` for arrays.
        status: ``"ok"`` or ``"error"``.
        score: Bona fide logit (ASVspoof convention: higher = more bona fide); for several
            windows, the bona fide entry of the mean logits.
        logits: ``[spoof, bona fide]`` logits (mean over windows).
        p_spoof: Without a calibration, the softmax probability of the spoof class from
            ``logits`` (uncalibrated); with one, the posterior probability of spoof at the
            prior ``prior_spoof``.
        verdict: ``"bonafide"`` when ``score >= threshold`` (or, with no threshold, when the
            bona fide logit exceeds the spoof logit), else ``"spoof"``. With a calibration
            the threshold is the Bayes threshold of the prior and costs.
        threshold: The threshold used on ``score`` (``None``: logit comparison).
        duration: Seconds of audio in the file.
        model: Model name.
        policy: Input policy applied to this file (``official``, ``full``, ``windows``;
            ``auto`` resolves to one of them).
        judged_start: Start (s) of the audio the verdict is based on.
        judged_end: End (s) of the audio the verdict is based on: the official policy
            judges only the first 4.04 s of a longer file.
        score_min: Bona fide logit of the most-spoof window (equals ``score`` for one input).
        segments: Per-window scores when asked for.
        error: The error message when ``status == "error"``.
        calibrated: Whether ``p_spoof`` and ``verdict`` come from a calibration
            (:mod:`voxlab.evaluation.calibration`).
        llr: Calibrated log-likelihood ratio, bona fide vs spoof (calibrated only).
        prior_spoof: Spoof prior of ``p_spoof`` and of the verdict (calibrated only).
        calibration: The calibration file used (calibrated only).
    """

    path: str | None
    status: str
    score: float | None = None
    logits: list[float] | None = None
    p_spoof: float | None = None
    verdict: str | None = None
    threshold: float | None = None
    duration: float | None = None
    model: str | None = None
    policy: str | None = None
    judged_start: float | None = None
    judged_end: float | None = None
    score_min: float | None = None
    segments: list[Segment] | None = field(default=None)
    error: str | None = None
    calibrated: bool = False
    llr: float | None = None
    prior_spoof: float | None = None
    calibration: str | None = None

    @classmethod
    def failed(cls, path: str, error: str, *, model: str | None = None) -> DetectionResult:
        """An error row for ``path``."""
        return cls(path=path, status="error", error=error, model=model)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (segments as dicts, no NaN)."""
        out = asdict(self)
        if self.segments is None:
            out.pop("segments")
        return out

    def to_row(self) -> dict[str, Any]:
        """Flat dict for CSV and tables (logits split into two columns)."""
        row = self.to_dict()
        logits = row.pop("logits") or [None, None]
        row["logit_spoof"], row["logit_bonafide"] = logits
        row.pop("segments", None)
        row["judged"] = judged_text(self.judged_start, self.judged_end, self.duration)
        return row


def judged_text(start: float | None, end: float | None, duration: float | None) -> str | None:
    """``"0-4.04 s of 9.67"`` (part judged) or ``"all"``; ``None`` for error rows."""
    if start is None or end is None:
        return None
    if duration is not None and start <= 0.0 and end >= duration - 1e-3:
        return "all"
    total = f" of {duration:.2f}" if duration is not None else ""
    return f"{start:g}-{end:.2f} s{total}"


def softmax_p_spoof(logits: Iterable[float]) -> float:
    """Probability of the spoof class from ``[spoof, bona fide]`` logits (stable softmax)."""
    spoof, bona = (float(v) for v in logits)
    return 1.0 / (1.0 + math.exp(min(bona - spoof, 700.0)))


class ResultWriter:
    """Streams results to a JSONL or CSV file as they come, flushing each row.

    A crash keeps every row written so far. With ``resume=True`` the earlier file is
    appended to, :attr:`done` holds the paths whose latest row is ``ok`` (error rows are
    retried; rows cut short by a crash are dropped), and the file is compacted to one row per
    path, the latest attempt winning, when it is opened and when it is closed.
    """

    def __init__(self, path: str | os.PathLike, *, fmt: str | None = None, resume: bool = False):
        self.path = Path(path)
        self.fmt = fmt or ("csv" if self.path.suffix.lower() == ".csv" else "jsonl")
        if self.fmt not in ("jsonl", "csv"):
            raise ConfigError(f"--out writes jsonl or csv, not {self.fmt!r}")
        self.resume = resume
        self.done: set[str] = _compact(self.path, self.fmt) if resume else set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        exists = resume and self.path.exists() and self.path.stat().st_size > 0
        self._handle: TextIO = open(self.path, "a" if resume else "w", encoding="utf-8", newline="")
        self._csv = None
        if self.fmt == "csv":
            self._csv = csv.DictWriter(self._handle, CSV_COLUMNS, extrasaction="ignore")
            if not exists:
                self._csv.writeheader()

    def write(self, result: DetectionResult) -> None:
        """Append one row and flush it to disk."""
        if self._csv is not None:
            self._csv.writerow(result.to_row())
        else:
            self._handle.write(json.dumps(result.to_dict()) + "\n")
        self._handle.flush()

    def close(self) -> None:
        """Close the file (compacting it to one row per path when resuming)."""
        self._handle.close()
        if self.resume:
            _compact(self.path, self.fmt)

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _last_rows(path: Path, fmt: str) -> dict[str, Any]:
    """The last row per path of an earlier output file (raw line or CSV dict)."""
    last: dict[str, Any] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            for row in csv.DictReader(handle):
                if row.get("path") and row.get("status"):
                    last.pop(row["path"], None)
                    last[row["path"]] = row
        else:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # a row cut short by a crash: redo that file
                    continue
                last.pop(row["path"], None)
                last[row["path"]] = row
    return last


def read_done(path: Path, fmt: str) -> set[str]:
    """Paths whose last row in an earlier output file has status ``ok``."""
    if not path.exists():
        return set()
    return {p for p, row in _last_rows(path, fmt).items() if row["status"] == "ok"}


def _compact(path: Path, fmt: str) -> set[str]:
    """Rewrites an output file with the last row per path; returns the paths that are ``ok``."""
    if not path.exists() or path.stat().st_size == 0:
        return set()
    keep = _last_rows(path, fmt)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as handle:
        if fmt == "csv":
            writer = csv.DictWriter(handle, CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(keep.values())
        else:
            handle.writelines(json.dumps(row) + "\n" for row in keep.values())
    os.replace(tmp, path)
    return {p for p, row in keep.items() if row["status"] == "ok"}
