"""Score utterances: one row per file, one summary per system.

:class:`QualityEvaluator` loads each model once (Whisper, DNSMOS, GE2E) and scores audio
arrays; :func:`summarize` groups the rows by system. A row is a plain dict, ready for
JSON/CSV: ``status`` ``"ok"`` or ``"error"`` (with ``error``), the metrics that apply
(None otherwise) and the evidence (the transcript Whisper heard).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voxlab.errors import ConfigError
from voxlab.quality.asr import AsrOptions
from voxlab.quality.text import EditCounts, char_counts, word_counts

SAMPLE_RATE = 16_000
#: Metric groups: Whisper WER/CER, DNSMOS, GE2E speaker similarity, MCD/F0/VUV.
METRICS = ("wer", "dnsmos", "speaker", "reference")

#: Per-file columns of the table and CSV.
FILE_COLUMNS = (
    "path", "system", "duration_s", "wer", "cer", "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl",
    "speaker_sim", "mcd_db", "f0_rmse_cents", "vuv_error", "rtf", "status",
)  # fmt: skip
#: Per-system columns of the table and CSV.
SYSTEM_COLUMNS = (
    "system", "files", "failed", "audio_s", "wer", "cer", "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl",
    "dnsmos_p808", "speaker_sim", "mcd_db", "f0_rmse_cents", "vuv_error", "rtf",
)  # fmt: skip
_MEANS = (
    "dnsmos_sig", "dnsmos_bak", "dnsmos_ovrl", "dnsmos_p808", "speaker_sim", "mcd_db",
    "f0_rmse_cents", "f0_rmse_hz", "vuv_error",
)  # fmt: skip


@dataclass(frozen=True)
class QualityOptions:
    """What to measure and how.

    Attributes:
        metrics: Metric groups from :data:`METRICS`; each applies only where its input
            exists (WER needs a text, speaker/reference need a reference recording).
        asr: Whisper decoding options.
        f0_method: F0 tracker for the reference metrics (``dio`` or ``harvest``).
    """

    metrics: tuple[str, ...] = METRICS
    asr: AsrOptions = field(default_factory=AsrOptions)
    f0_method: str = "dio"

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in METRICS]
        if unknown or not self.metrics:
            raise ConfigError(
                f"unknown quality metric(s) {unknown or '(none given)'}; "
                f"choose from {', '.join(METRICS)}"
            )
        if self.f0_method not in ("dio", "harvest"):
            raise ConfigError(f"f0_method must be 'dio' or 'harvest', got {self.f0_method!r}")


class QualityEvaluator:
    """Scores utterances with the models the options ask for (each loaded once, lazily).

    Args:
        options: What to measure.
    """

    def __init__(self, options: QualityOptions | None = None) -> None:
        self.options = options or QualityOptions()
        self._transcriber = None

    def wants(self, metric: str) -> bool:
        """Whether ``metric`` (one of :data:`METRICS`) is switched on."""
        return metric in self.options.metrics

    def prepare(self, *, texts: bool, reference: bool) -> None:
        """Loads the needed models now, so missing packages fail before any file is read.

        Args:
            texts: Some utterance has a text (WER/CER will run).
            reference: Some utterance has a reference recording.

        Raises:
            CheckpointError: A needed model or package is not installed (with the fix).
        """
        if texts and self.wants("wer"):
            self.transcriber()
        if self.wants("dnsmos"):
            from voxlab.quality.dnsmos import _sessions

            _sessions()
        if reference and self.wants("speaker"):
            from voxlab.asv.encoder import load_ge2e

            load_ge2e()

    def transcriber(self):
        """The shared :class:`~voxlab.quality.asr.Transcriber`."""
        if self._transcriber is None:
            from voxlab.quality.asr import Transcriber

            self._transcriber = Transcriber(self.options.asr)
        return self._transcriber

    def score(
        self,
        audio: np.ndarray,
        *,
        text: str | None = None,
        reference: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """All applicable metrics of one 16 kHz utterance.

        Args:
            audio: 16 kHz mono samples. Shape: ``(time,)``.
            text: What was said (for WER/CER), or None.
            reference: 16 kHz reference recording of the same speaker (and, for
                MCD/F0/VUV, the same sentence), or None. Shape: ``(time_ref,)``.

        Returns:
            Metric name -> value (None where a metric does not apply), plus the transcript
            and the raw error counts.
        """
        x = np.asarray(audio, dtype=np.float32).reshape(-1)
        row: dict[str, Any] = {"duration_s": x.size / SAMPLE_RATE}
        if text is not None and self.wants("wer"):
            hypothesis = self.transcriber()(x)
            words, chars = word_counts(text, hypothesis), char_counts(text, hypothesis)
            row.update(
                text=text,
                hypothesis=hypothesis,
                wer=words.rate,
                cer=chars.rate,
                **_counts("word", words),
                **_counts("char", chars),
            )
        if self.wants("dnsmos"):
            from voxlab.quality.dnsmos import dnsmos

            scores = dnsmos(x, SAMPLE_RATE)
            row.update({f"dnsmos_{k}": v for k, v in scores.to_dict().items()})
        if reference is not None and self.wants("speaker"):
            from voxlab.quality.reference import speaker_similarity

            row["speaker_sim"] = speaker_similarity(x, reference)
        if reference is not None and self.wants("reference"):
            from voxlab.quality.reference import compare_to_reference

            ref = compare_to_reference(x, reference, f0_method=self.options.f0_method)
            row.update(ref.to_dict())
        return row


def _counts(prefix: str, counts: EditCounts) -> dict[str, int]:
    return {
        f"{prefix}_errors": counts.errors,
        f"{prefix}_substitutions": counts.substitutions,
        f"{prefix}_deletions": counts.deletions,
        f"{prefix}_insertions": counts.insertions,
        f"{prefix}s": counts.reference_length,
    }


def _mean(values: Iterable[Any]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def summarize(rows: Iterable[Mapping[str, Any]], *, by: str = "system") -> list[dict[str, Any]]:
    """One summary row per group (in order of first appearance).

    WER and CER are micro averages (all errors over all reference words/characters of the
    group); RTF is total synthesis time over total audio duration; the other metrics are
    plain means over the files that have them. Failed rows count in ``failed`` only.

    Args:
        rows: Per-file rows (from :meth:`QualityEvaluator.score` plus ``status`` and ``by``).
        by: The key to group on.

    Returns:
        Rows with the keys of :data:`SYSTEM_COLUMNS` (and ``words``, ``chars``).
    """
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[str(row.get(by, "-"))].append(row)
    out = []
    for name, members in groups.items():
        ok = [r for r in members if r.get("status", "ok") == "ok"]
        summary: dict[str, Any] = {
            by: name,
            "files": len(members),
            "failed": len(members) - len(ok),
        }
        for unit in ("word", "char"):
            errors = sum(r.get(f"{unit}_errors", 0) for r in ok if r.get(f"{unit}s"))
            total = sum(r.get(f"{unit}s", 0) or 0 for r in ok)
            summary[f"{unit}s"] = total
            summary["wer" if unit == "word" else "cer"] = errors / total if total else None
        for key in _MEANS:
            summary[key] = _mean(r.get(key) for r in ok)
        timed = [r for r in ok if r.get("synthesis_s") is not None]
        audio_s = sum(r["duration_s"] for r in timed)
        summary["rtf"] = sum(r["synthesis_s"] for r in timed) / audio_s if audio_s else None
        summary["audio_s"] = sum(r.get("duration_s", 0.0) for r in ok)
        for key in ("engine", "voice", "family"):  # constant per group in --systems rows
            values = {r.get(key) for r in members}
            if len(values) == 1 and None not in values:
                summary[key] = values.pop()
        out.append(summary)
    return out
