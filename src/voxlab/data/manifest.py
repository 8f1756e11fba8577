"""Utterance records and JSONL manifests (one JSON object per line).

A manifest describes a corpus split without touching audio: every corpus reader in
:mod:`voxlab.data.corpora` produces :class:`Utterance` records, and datasets, training and
evaluation consume them. Corpus-specific metadata (codec, transmission, vocoder, gender,
...) lives in ``extra``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from voxlab.errors import DataError

BONAFIDE = "bonafide"
SPOOF = "spoof"
KEYS = (BONAFIDE, SPOOF)
#: Attack id of bona fide utterances.
NO_ATTACK = "-"

_FIELDS = ("utt_id", "path", "speaker", "attack", "key", "split")


@dataclass(frozen=True)
class Utterance:
    """One utterance of a corpus.

    Attributes:
        utt_id: Unique utterance (trial) id, e.g. ``LA_E_2834763``.
        path: Audio file path (absolute after ``prepare_*``; relative to the audio
            folder when a protocol is parsed without one). A relative path in a manifest
            file is relative to the manifest's folder; :func:`read_manifest` resolves it.
        speaker: Speaker id (``"-"`` when unknown).
        attack: Spoofing system id, ``"-"`` for bona fide.
        key: ``"bonafide"`` or ``"spoof"``.
        split: Split name (``train``, ``dev``, ``eval``, ...).
        extra: Corpus-specific fields (JSON-serialisable values).
    """

    utt_id: str
    path: str
    speaker: str
    attack: str
    key: str
    split: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.key not in KEYS:
            raise DataError(
                f"utterance {self.utt_id!r}: key must be 'bonafide' or 'spoof', got {self.key!r}"
            )
        if not self.utt_id:
            raise DataError("utterance id must not be empty")

    @property
    def is_bonafide(self) -> bool:
        """Whether the utterance is bona fide."""
        return self.key == BONAFIDE

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form: the fixed fields, then ``extra`` (only when not empty)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in _FIELDS}
        if self.extra:
            out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Utterance:
        """Inverse of :meth:`to_dict`.

        Raises:
            DataError: On missing or non-string fields or an invalid key.
        """
        missing = [name for name in _FIELDS if name not in data]
        if missing:
            raise DataError(f"missing field(s) {missing}")
        values = {}
        for name in _FIELDS:
            if not isinstance(data[name], str):
                raise DataError(f"field {name!r} must be a string, got {data[name]!r}")
            values[name] = data[name]
        extra = data.get("extra", {})
        if not isinstance(extra, dict):
            raise DataError(f"field 'extra' must be an object, got {extra!r}")
        unknown = set(data) - {*_FIELDS, "extra"}
        if unknown:
            raise DataError(f"unknown field(s) {sorted(unknown)}")
        return cls(**values, extra=extra)


def write_manifest(utterances: Iterable[Utterance], path: str | os.PathLike) -> Path:
    """Writes utterances as JSONL (atomically: a temporary file, then a rename).

    Args:
        utterances: The records.
        path: Output file; parent folders are created.

    Returns:
        The path written.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for utt in utterances:
            fh.write(json.dumps(utt.to_dict(), ensure_ascii=False, sort_keys=False) + "\n")
    os.replace(tmp, out)
    return out


def read_manifest(path: str | os.PathLike) -> list[Utterance]:
    """Reads a JSONL manifest written by :func:`write_manifest`.

    Blank lines are skipped. Relative audio paths are resolved against the manifest's
    folder (not the current directory), so a corpus can be moved or read from anywhere.

    Args:
        path: The manifest file.

    Returns:
        The utterances in file order.

    Raises:
        DataError: When the file is missing, a line is not a valid record (the message
            names the file and line number), or an utterance id repeats.
    """
    src = Path(path)
    if not src.is_file():
        raise DataError(f"manifest not found: {src}")
    folder = os.path.abspath(src.parent)
    utterances: list[Utterance] = []
    seen: dict[str, int] = {}
    with src.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{src}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(data, dict):
                raise DataError(
                    f"{src}:{lineno}: expected a JSON object, got {type(data).__name__}"
                )
            try:
                utt = Utterance.from_dict(data)
            except DataError as exc:
                raise DataError(f"{src}:{lineno}: {exc}") from exc
            if utt.utt_id in seen:
                raise DataError(
                    f"{src}:{lineno}: utterance id {utt.utt_id!r} repeats line {seen[utt.utt_id]}"
                )
            seen[utt.utt_id] = lineno
            if not os.path.isabs(utt.path):
                utt = replace(utt, path=os.path.normpath(os.path.join(folder, utt.path)))
            utterances.append(utt)
    return utterances
