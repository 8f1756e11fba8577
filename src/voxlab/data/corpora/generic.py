"""Your own data: a folder with ``bonafide/`` and ``spoof/``, or a CSV list.

Folder layout (any audio format :mod:`voxlab.audio` reads, searched recursively)::

    root/bonafide/**/<file>
    root/spoof/<attack>/**/<file>   # the first sub-folder names the attack
    root/spoof/<file>               # attack "unknown"

CSV list: header ``path,label`` plus optional ``attack`` and ``speaker`` columns; relative
paths are relative to the CSV's folder. Labels ``bonafide``/``bona-fide``/``bona fide``/
``real``/``genuine`` and ``spoof``/``fake``/``deepfake``/``synthetic`` are accepted (any case).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from voxlab.audio.discovery import find_audio_files
from voxlab.data.corpora._common import check_audio_files, check_unique, save_manifests
from voxlab.data.manifest import NO_ATTACK, Utterance
from voxlab.errors import DataError

UNKNOWN_ATTACK = "unknown"
_LABELS = {
    **dict.fromkeys(("bonafide", "bona-fide", "bona fide", "real", "genuine"), "bonafide"),
    **dict.fromkeys(("spoof", "fake", "deepfake", "synthetic"), "spoof"),
}


def normalise_label(label: str) -> str:
    """Maps a user label to ``bonafide``/``spoof``.

    Raises:
        DataError: When the label is not one of the accepted spellings.
    """
    key = _LABELS.get(label.strip().lower())
    if key is None:
        raise DataError(
            f"unknown label {label!r}; use bonafide (bona-fide, real, genuine) or spoof "
            "(fake, deepfake, synthetic)"
        )
    return key


def _utt_id(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def prepare_folder(
    root: str | os.PathLike,
    *,
    split: str = "eval",
    out: str | os.PathLike | None = None,
) -> dict[str, list[Utterance]]:
    """Reads a ``bonafide/`` + ``spoof/`` folder tree.

    Args:
        root: Folder holding ``bonafide/`` and ``spoof/``.
        split: Split name given to every utterance.
        out: If given, writes ``folder_<split>.jsonl`` there.

    Returns:
        ``{split: utterances}``; ``utt_id`` is the path relative to ``root`` without the
        extension (e.g. ``spoof/A01/x``).

    Raises:
        DataError: When a class folder is missing or holds no audio.
    """
    base = Path(root).expanduser().resolve()
    utterances = []
    for key in ("bonafide", "spoof"):
        folder = base / key
        if not folder.is_dir():
            raise DataError(f"{folder} not found; a folder corpus needs bonafide/ and spoof/")
        files = find_audio_files([folder])
        if not files:
            raise DataError(f"{folder} holds no audio files")
        for file in files:
            rel = file.relative_to(folder)
            attack = NO_ATTACK
            if key == "spoof":
                attack = rel.parts[0] if len(rel.parts) > 1 else UNKNOWN_ATTACK
            utterances.append(
                Utterance(
                    utt_id=_utt_id(file, base),
                    path=str(file),
                    speaker="-",
                    attack=attack,
                    key=key,
                    split=split,
                )
            )
    check_unique(utterances, base)
    result = {split: utterances}
    save_manifests(result, out, prefix="folder")
    return result


def read_csv_list(
    path: str | os.PathLike,
    *,
    split: str = "eval",
    check_files: bool = True,
) -> list[Utterance]:
    """Reads a CSV list ``path,label[,attack][,speaker]``.

    Args:
        path: The CSV file (with a header row).
        split: Split name given to every utterance.
        check_files: Require every listed file to exist.

    Returns:
        Utterances in file order; ``utt_id`` is the listed path without extension.

    Raises:
        DataError: On a missing header column, an unknown label, a short row (with its
            line number) or missing audio.
    """
    src = Path(path)
    if not src.is_file():
        raise DataError(f"CSV list not found: {src}")
    utterances = []
    with src.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip() for f in reader.fieldnames or []]
        if "path" not in fields or "label" not in fields:
            raise DataError(f"{src}:1: the header needs 'path' and 'label' columns, got {fields}")
        reader.fieldnames = fields
        for row in reader:
            lineno = reader.line_num
            if None in row or any(row.get(f) is None for f in fields):
                raise DataError(
                    f"{src}:{lineno}: expected {len(fields)} fields ({','.join(fields)})"
                )
            if not any((v or "").strip() for v in row.values()):
                continue
            try:
                key = normalise_label(row["label"])
            except DataError as exc:
                raise DataError(f"{src}:{lineno}: {exc}") from exc
            listed = row["path"].strip()
            if not listed:
                raise DataError(f"{src}:{lineno}: empty path")
            file = Path(listed) if Path(listed).is_absolute() else src.parent / listed
            attack = (row.get("attack") or "").strip()
            if key == "bonafide":
                attack = NO_ATTACK
            utterances.append(
                Utterance(
                    utt_id=Path(listed).with_suffix("").as_posix(),
                    path=str(file),
                    speaker=(row.get("speaker") or "").strip() or "-",
                    attack=attack or UNKNOWN_ATTACK,
                    key=key,
                    split=split,
                )
            )
    check_unique(utterances, src)
    if check_files:
        check_audio_files(utterances, corpus=f"CSV list {src}")
    return utterances
