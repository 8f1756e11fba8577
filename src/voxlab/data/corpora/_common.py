"""Helpers shared by the corpus readers: line parsing, key checks, missing-file reports."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from voxlab.data.manifest import KEYS, Utterance, write_manifest
from voxlab.errors import DataError

#: How many missing files a DataError lists by name.
MISSING_SHOWN = 5


def protocol_lines(
    path: str | os.PathLike, *, n_fields: int | Sequence[int], what: str
) -> Iterator[tuple[int, list[str]]]:
    """Yields ``(line_number, fields)`` of a whitespace-separated protocol file.

    Blank lines are skipped.

    Args:
        path: The protocol file.
        n_fields: Accepted number(s) of fields per line.
        what: Name of the format, for messages (e.g. ``"ASVspoof 2019 CM protocol"``).

    Raises:
        DataError: When the file is missing or a line has the wrong number of fields
            (the message names file, line number and the expected layout).
    """
    src = Path(path)
    if not src.is_file():
        raise DataError(f"{what} not found: {src}")
    allowed = (n_fields,) if isinstance(n_fields, int) else tuple(n_fields)
    with src.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) not in allowed:
                expected = " or ".join(str(n) for n in allowed)
                raise DataError(
                    f"{src}:{lineno}: expected {expected} fields per {what} line, got "
                    f"{len(fields)}: {line.strip()[:120]!r}"
                )
            yield lineno, fields


def check_key(key: str, src: str | os.PathLike, lineno: int) -> str:
    """Returns ``key`` if it is ``bonafide``/``spoof``, else raises DataError."""
    if key not in KEYS:
        raise DataError(f"{src}:{lineno}: key must be 'bonafide' or 'spoof', got {key!r}")
    return key


def check_unique(utterances: Sequence[Utterance], src: str | os.PathLike) -> None:
    """Raises DataError when an utterance id appears twice."""
    seen: set[str] = set()
    for utt in utterances:
        if utt.utt_id in seen:
            raise DataError(f"{src}: utterance id {utt.utt_id!r} appears more than once")
        seen.add(utt.utt_id)


def check_audio_files(utterances: Iterable[Utterance], *, corpus: str) -> None:
    """Raises one DataError listing the audio files that do not exist (count + first few).

    Args:
        utterances: Records whose ``path`` must exist.
        corpus: Corpus name for the message.
    """
    missing = [u.path for u in utterances if not os.path.isfile(u.path)]
    if missing:
        shown = ", ".join(missing[:MISSING_SHOWN])
        more = f" and {len(missing) - MISSING_SHOWN} more" if len(missing) > MISSING_SHOWN else ""
        raise DataError(
            f"{corpus}: {len(missing)} audio file(s) listed in the protocol are missing: "
            f"{shown}{more}. Download/extract the audio, or pass check_files=False to use "
            "the protocol alone"
        )


def find_first(root: Path, candidates: Iterable[str], *, what: str) -> Path:
    """The first of ``root / candidate`` that exists.

    Raises:
        DataError: Naming every place looked at.
    """
    tried = [root / c for c in candidates]
    for path in tried:
        if path.exists():
            return path
    raise DataError(f"{what} not found; looked for " + ", ".join(str(p) for p in tried))


def save_manifests(
    splits: dict[str, list[Utterance]], out: str | os.PathLike | None, *, prefix: str
) -> None:
    """Writes ``<out>/<prefix>_<split>.jsonl`` for every split when ``out`` is given."""
    if out is None:
        return
    for split, utterances in splits.items():
        write_manifest(utterances, Path(out) / f"{prefix}_{split}.jsonl")
