"""In-the-Wild (Müller et al., Interspeech 2022): real and deepfake speech of public figures.

Layout: ``release_in_the_wild/meta.csv`` (header ``file,speaker,label``; label
``bona-fide`` or ``spoof``) next to the ``<n>.wav`` files. The corpus has no attack ids:
spoofs get attack ``"unknown"``. All of it is evaluation data (split ``eval``).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from voxlab.data.corpora._common import check_audio_files, check_unique, save_manifests
from voxlab.data.manifest import NO_ATTACK, Utterance
from voxlab.errors import DataError

LABELS = {"bona-fide": "bonafide", "spoof": "spoof"}
UNKNOWN_ATTACK = "unknown"


def read_in_the_wild_meta(
    path: str | os.PathLike, *, audio_dir: str | os.PathLike | None = None
) -> list[Utterance]:
    """Parses ``meta.csv`` of In-the-Wild.

    Args:
        path: The CSV file.
        audio_dir: Folder of the audio (default: the CSV's folder).

    Returns:
        Utterances (``utt_id`` is the file name without extension).

    Raises:
        DataError: On a missing file or header, an unknown label or a short row (the
            message gives the line number).
    """
    src = Path(path)
    if not src.is_file():
        raise DataError(f"In-the-Wild meta.csv not found: {src}")
    base = Path(audio_dir) if audio_dir is not None else src.parent
    utterances = []
    with src.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None or [h.strip() for h in header[:3]] != ["file", "speaker", "label"]:
            raise DataError(f"{src}:1: expected the header 'file,speaker,label', got {header}")
        for row in reader:
            lineno = reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            if len(row) != 3:
                raise DataError(f"{src}:{lineno}: expected 3 fields (file,speaker,label): {row}")
            file, speaker, label = (cell.strip() for cell in row)
            if label not in LABELS:
                raise DataError(
                    f"{src}:{lineno}: label must be 'bona-fide' or 'spoof', got {label!r}"
                )
            key = LABELS[label]
            utterances.append(
                Utterance(
                    utt_id=Path(file).stem,
                    path=str(base / file),
                    speaker=speaker,
                    attack=NO_ATTACK if key == "bonafide" else UNKNOWN_ATTACK,
                    key=key,
                    split="eval",
                )
            )
    check_unique(utterances, src)
    return utterances


def prepare_in_the_wild(
    root: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    check_files: bool = True,
) -> dict[str, list[Utterance]]:
    """Reads In-the-Wild into utterance records.

    Args:
        root: ``release_in_the_wild`` (the folder with ``meta.csv``) or its parent.
        out: If given, writes ``in_the_wild_eval.jsonl`` there.
        check_files: Require every listed audio file to exist.

    Returns:
        ``{"eval": utterances}``.

    Raises:
        DataError: When ``meta.csv`` or audio are missing or malformed.
    """
    base = Path(root).expanduser().resolve()
    if not (base / "meta.csv").is_file() and (base / "release_in_the_wild" / "meta.csv").is_file():
        base = base / "release_in_the_wild"
    utterances = read_in_the_wild_meta(base / "meta.csv")
    if check_files:
        check_audio_files(utterances, corpus="In-the-Wild")
    result = {"eval": utterances}
    save_manifests(result, out, prefix="in_the_wild")
    return result
