"""What every generator returns, and the one place where generated audio leaves voxlab.

Every generator (TTS, vocoder, voice conversion, attack system) returns a :class:`Generated`:
the samples plus their provenance (system id and the parameters that made them), so that a
corpus manifest can say exactly how each spoof was produced.

:func:`write_generated` is the single exit point of generated audio to disk: the corpus
builder and the ``voxlab tts`` / ``voxlab vocode`` commands all write through it, and it
labels everything it writes (watermark + AI-generated tag, see
:mod:`voxlab.watermark.provenance`), so that every generation command is covered at once.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import AudioError
from voxlab.threads import one_blas_thread  # noqa: F401 - re-exported for generators

#: Peak level generated audio is scaled to when it would clip.
PEAK_LIMIT = 0.95


@dataclass(frozen=True)
class Generated:
    """Generated audio and its provenance.

    Attributes:
        audio: float32 samples. Shape: ``(time,)``.
        sample_rate: Sample rate in Hz.
        system: Id of the system that made it (e.g. ``"espeak-ng"``, ``"V01"``).
        params: The parameters that made it (JSON-serialisable values).
    """

    audio: np.ndarray
    sample_rate: int
    system: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.audio) / self.sample_rate

    def provenance(self) -> dict[str, Any]:
        """``{"system": ..., "params": {...}}`` for manifests."""
        return {"system": self.system, "params": dict(self.params)}


def finish_audio(audio: np.ndarray, *, name: str = "generated audio") -> np.ndarray:
    """Checks a synthesised signal and scales it down if it would clip.

    Args:
        audio: Samples. Shape: ``(time,)``.
        name: What to call the signal in error messages.

    Returns:
        float32 samples with peak at most :data:`PEAK_LIMIT` (unchanged when already below).

    Raises:
        AudioError: The signal is empty or holds NaN/Inf.
    """
    out = np.asarray(audio, dtype=np.float64).reshape(-1)
    if out.size == 0:
        raise AudioError(f"{name}: synthesis produced no samples (is the input too short?)")
    if not np.isfinite(out).all():
        raise AudioError(f"{name}: synthesis produced NaN or Inf samples")
    peak = float(np.max(np.abs(out)))
    if peak > PEAK_LIMIT:
        out = out * (PEAK_LIMIT / peak)
    return out.astype(np.float32)


def derive_seed(*parts: object) -> int:
    """A stable 32-bit seed from any printable parts (same parts -> same seed, any process).

    Python's ``hash`` is salted per process; this uses SHA-256 of the parts' ``repr``.
    """
    digest = hashlib.sha256(repr(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "little")


def write_generated(
    generated: Generated,
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, str] | None = None,
    watermark: bool = True,
    key: Any = None,
) -> Path:
    """Writes generated audio atomically (temporary file, then rename), labelled.

    This is the one place where generated audio leaves voxlab: the audio carries the
    keyed watermark (payload = the generating system, see
    :mod:`voxlab.watermark.provenance`) unless ``watermark`` is False, and the file always
    carries the explicit "AI-generated" metadata tag.

    Args:
        generated: What to write.
        path: Output file; the extension picks the format (``.flac``, ``.wav``, ...).
        metadata: Extra text tags (e.g. ``{"title": "V01"}``); the label goes in ``comment``.
        watermark: Embed the watermark (switch off for countermeasure training corpora).
        key: Watermark key (object, hex or key file); the generation key when None.

    Returns:
        The written path.
    """
    from voxlab.watermark.provenance import label_generated

    audio, tags = label_generated(
        generated.audio, generated.sample_rate, system=generated.system, watermark=watermark,
        key=key,
    )  # fmt: skip
    extra = dict(metadata or {})
    if "comment" in extra:
        tags["comment"] = f"{tags['comment']}; {extra.pop('comment')}"
    return save_atomic(path, audio, generated.sample_rate, metadata={**extra, **tags})


def save_atomic(
    path: str | os.PathLike,
    audio: np.ndarray,
    sample_rate: int,
    *,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write audio to a temporary file, then rename it into place (no half-written files)."""
    from voxlab.audio import save

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.partial{out.suffix}")
    save(tmp, audio, sample_rate, metadata=dict(metadata or {}))
    os.replace(tmp, out)
    return out
