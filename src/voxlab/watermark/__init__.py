"""Keyed, robust audio watermarking: 32- or 128-bit payload, calibrated detection, localisation.

Example:
    >>> from voxlab.watermark import WatermarkKey, embed, detect
    >>> key = WatermarkKey.generate()
    >>> marked = embed(audio, 16000, key, payload=0xC0FFEE)
    >>> result = detect(marked, 16000, key)
    >>> result.marked, result.payload, result.p_value, result.segments
"""

from voxlab.watermark.api import (
    FileResult,
    detect_file,
    detect_files,
    embed_file,
    message_payload,
    parse_payload,
    payload_text,
)
from voxlab.watermark.detect import DEFAULT_FPR, WatermarkResult, detect, threshold_for
from voxlab.watermark.embed import DEFAULT_STRENGTH, embed
from voxlab.watermark.keys import WatermarkKey, as_key
from voxlab.watermark.labels import AI_LABEL, label_metadata, read_label

__all__ = [
    "AI_LABEL",
    "DEFAULT_FPR",
    "DEFAULT_STRENGTH",
    "FileResult",
    "WatermarkKey",
    "WatermarkResult",
    "as_key",
    "detect",
    "detect_file",
    "detect_files",
    "embed",
    "embed_file",
    "label_metadata",
    "message_payload",
    "parse_payload",
    "payload_text",
    "read_label",
    "threshold_for",
]
