"""Score audio files: inputs (texts, systems, references, timings) and the batch loop.

A :class:`QualityItem` is one file to score with what is known about it: the system that
made it (``--system``, a manifest's ``attack``/``extra.system``, else the parent folder's
name), the text that was said (``--text``, a transcripts TSV or a manifest's
``extra.text``), a reference recording and, when voxlab timed the synthesis, the seconds it
took (a manifest's ``extra.synthesis_s`` or ``extra.rtf``). :func:`score_items` scores them
one by one; a failing file becomes an error row and the others go on.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import DataError, VoxlabError
from voxlab.quality.evaluate import SAMPLE_RATE, QualityEvaluator


@dataclass(frozen=True)
class QualityItem:
    """One audio file to score.

    Attributes:
        path: The audio file.
        system: Group name in the per-system summary.
        text: What was said (enables WER/CER), or None.
        reference: Reference recording (enables speaker similarity, MCD, F0, V/UV), or None.
        synthesis_s: Seconds the generating engine took (enables RTF), or None.
        rtf: Real-time factor stated by the generator, used when ``synthesis_s`` is None.
    """

    path: Path
    system: str
    text: str | None = None
    reference: Path | None = None
    synthesis_s: float | None = None
    rtf: float | None = None


def read_transcripts(path: str | os.PathLike) -> dict[str, str]:
    """Reads a transcripts TSV: ``FILE<TAB>TEXT`` per line.

    ``FILE`` may be a path, a file name or a stem; blank lines and lines starting with
    ``#`` are skipped, as is a header line ``path<TAB>text``.

    Raises:
        DataError: Missing file or a line without a tab (the message gives the line).
    """
    src = Path(path)
    if not src.is_file():
        raise DataError(f"transcripts file not found: {src}; give a TSV of FILE<TAB>TEXT")
    out: dict[str, str] = {}
    with src.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            line = line.rstrip("\n\r")
            if not line.strip() or line.startswith("#"):
                continue
            key, tab, text = line.partition("\t")
            if not tab or not key.strip():
                raise DataError(
                    f"{src}:{lineno}: expected FILE<TAB>TEXT, got {line[:60]!r} "
                    "(separate the file name and its text with one tab)"
                )
            if lineno == 1 and key.strip().lower() in ("path", "file", "utt_id"):
                continue
            out[key.strip()] = text.strip()
    return out


def _lookup(table: dict[str, str], path: Path) -> str | None:
    for key in (str(path), path.name, path.stem):
        if key in table:
            return table[key]
    return None


def _reference_for(reference: Path | None, path: Path) -> Path | None:
    if reference is None or not reference.is_dir():
        return reference
    matches = sorted(p for p in reference.glob(f"{path.stem}.*") if p.is_file())
    if not matches:
        raise DataError(
            f"no reference for {path.name} in {reference}: the folder needs a file named "
            f"{path.stem}.<ext> (or give one reference file)"
        )
    return matches[0]


def items_from_manifest(path: str | os.PathLike) -> list[QualityItem]:
    """Items of a voxlab JSONL manifest.

    The system is ``extra.system``, else the ``attack`` (``"bonafide"`` for ``-``); text and
    timings come from ``extra`` (``text``, ``synthesis_s``, ``rtf``).
    """
    from voxlab.data.manifest import read_manifest

    items = []
    for utt in read_manifest(path):
        extra = dict(utt.extra)
        system = str(extra.get("system") or (utt.attack if utt.attack != "-" else "bonafide"))
        synth, rtf = extra.get("synthesis_s"), extra.get("rtf")
        items.append(
            QualityItem(
                path=Path(utt.path),
                system=system,
                text=extra.get("text"),
                synthesis_s=float(synth) if synth is not None else None,
                rtf=float(rtf) if rtf is not None else None,
            )
        )
    return items


def build_items(
    files: Sequence[str | os.PathLike] = (),
    *,
    manifest: str | os.PathLike | None = None,
    text: str | None = None,
    transcripts: str | os.PathLike | None = None,
    reference: str | os.PathLike | None = None,
    system: str | None = None,
) -> list[QualityItem]:
    """Everything to score, from files/folders and/or a manifest.

    Args:
        files: Audio files and folders (folders are searched recursively).
        manifest: A voxlab JSONL manifest (systems, texts and timings come from it).
        text: One text said in every file.
        transcripts: TSV of ``FILE<TAB>TEXT`` (overrides manifest texts).
        reference: A reference recording for every file, or a folder holding one per
            file with the same stem.
        system: Group name for every file (default: manifest system, else parent folder).

    Returns:
        The items, files in the order given.

    Raises:
        DataError: Nothing to score, unreadable transcripts, or a missing reference.
    """
    from voxlab.audio.discovery import find_audio_files

    items = items_from_manifest(manifest) if manifest is not None else []
    for path in find_audio_files(files):
        items.append(QualityItem(path=path, system=path.parent.name or "."))
    if not items:
        raise DataError("nothing to score: give audio files, folders or --manifest")
    table = read_transcripts(transcripts) if transcripts is not None else {}
    ref = Path(reference) if reference is not None else None
    if ref is not None and not ref.exists():
        raise DataError(f"reference not found: {ref}; give a recording or a folder of them")
    out = []
    for item in items:
        said = text if text is not None else _lookup(table, item.path) or item.text
        out.append(
            QualityItem(
                path=item.path,
                system=system or item.system,
                text=said,
                reference=ref,
                synthesis_s=item.synthesis_s,
                rtf=item.rtf,
            )
        )
    return out


def load_16k(path: str | os.PathLike) -> np.ndarray:
    """A file as 16 kHz mono float32 (soxr resampling, channels averaged).

    Shape:
        ``() -> (time,)``
    """
    from voxlab.audio import load

    audio, _ = load(path, sr=SAMPLE_RATE)
    return np.asarray(audio, dtype=np.float32).reshape(-1)


def score_items(
    items: Iterable[QualityItem],
    evaluator: QualityEvaluator,
    *,
    progress: bool | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Scores every item; a failing one becomes ``{"status": "error", "error": ...}``.

    Args:
        items: What to score.
        evaluator: Holds the models.
        progress: Progress bar on stderr when it is a terminal (False: never).
        on_row: Called with each row as soon as it is ready.

    Returns:
        One row per item, in order.
    """
    from tqdm import tqdm

    items = list(items)
    evaluator.prepare(texts=any(i.text for i in items), reference=any(i.reference for i in items))
    references: dict[Path, np.ndarray] = {}
    rows = []
    bar = tqdm(items, unit="file", disable=None if progress in (None, True) else True,
               file=sys.stderr, desc="quality")  # fmt: skip
    for item in bar:
        row: dict[str, Any] = {"path": str(item.path), "system": item.system}
        try:
            audio = load_16k(item.path)
            ref_path = _reference_for(item.reference, item.path)
            ref = None
            if ref_path is not None:
                if ref_path not in references:
                    references[ref_path] = load_16k(ref_path)
                ref = references[ref_path]
                row["reference"] = str(ref_path)
            row.update(evaluator.score(audio, text=item.text, reference=ref))
            synth = item.synthesis_s
            if synth is None and item.rtf is not None:
                synth = item.rtf * row["duration_s"]
            row["synthesis_s"] = synth
            row["rtf"] = synth / row["duration_s"] if synth is not None else None
            row["status"] = "ok"
        except VoxlabError as exc:
            message = str(exc)
            if str(item.path) not in message and item.path.name not in message:
                message = f"{item.path}: {message}"
            row.update(status="error", error=message)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows
