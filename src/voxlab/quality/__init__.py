"""Measure generated speech the way the field does (``voxlab quality``).

- intelligibility: WER/CER of Whisper tiny.en transcripts (:mod:`voxlab.quality.asr`,
  :mod:`voxlab.quality.text`);
- predicted MOS: DNSMOS P.835/P.808 (:mod:`voxlab.quality.dnsmos`);
- against a reference recording: GE2E speaker similarity, MCD, F0 RMSE, V/UV error
  (:mod:`voxlab.quality.reference`);
- real-time factor of voxlab's engines, and all installed engines compared on the same
  sentences (:mod:`voxlab.quality.systems`).

Example:
    >>> from voxlab.quality import QualityEvaluator
    >>> row = QualityEvaluator().score(audio_16k, text="The train leaves at seven.")
    >>> row["wer"], row["dnsmos_ovrl"]
"""

from voxlab.quality.evaluate import METRICS, QualityEvaluator, QualityOptions, summarize
from voxlab.quality.text import cer, normalize_text, wer

__all__ = [
    "METRICS",
    "QualityEvaluator",
    "QualityOptions",
    "cer",
    "normalize_text",
    "summarize",
    "wer",
]
