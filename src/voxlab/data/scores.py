"""Score files: reading and writing countermeasure and ASV scores.

Formats (whitespace-separated, one trial per line):

* **4 columns** ``utt_id attack key score`` - the official ASVspoof 2019 CM format and
  voxlab's own; it carries its keys, so evaluating it needs no protocol.
* **2 columns** ``utt_id score`` - the ASVspoof 2021 / 5 submission format; keys come
  from a protocol (any format :func:`read_protocol` reads). A header line such as
  ``filename cm-score`` is skipped.
* **ASV scores** ``source key score`` - the organizers' ASVspoof 2019 (and ASVspoof 5)
  ASV score files: ``source`` is ``bonafide`` or the attack id, ``key`` is ``target``,
  ``nontarget`` or ``spoof``.

Higher CM scores mean more bona fide (ASVspoof convention).
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voxlab.data.corpora._common import protocol_lines
from voxlab.data.manifest import KEYS, Utterance
from voxlab.errors import DataError

#: Utterance ``extra`` fields that become per-condition breakdowns when present.
CONDITION_FIELDS = ("codec", "transmission")
ASV_KEYS = ("target", "nontarget", "spoof")
_SHOWN = 5
#: Last column names that mark a header line (skipped).
_HEADER_NAMES = ("score", "scores", "cm-score", "cm_score", "cm-scores")


@dataclass(frozen=True)
class ScoreTable:
    """CM scores with their keys.

    Attributes:
        utt_ids: Trial ids in file order.
        scores: Score of each trial.
        keys: ``bonafide``/``spoof`` per trial, None when unknown (2-column file).
        attacks: Attack id per trial (``-`` for bona fide), None when unknown.
        conditions: Per-trial condition columns from the protocol (e.g. ``codec``).

    Shape:
        Every array is ``(n_trials,)``.
    """

    utt_ids: np.ndarray
    scores: np.ndarray
    keys: np.ndarray | None = None
    attacks: np.ndarray | None = None
    conditions: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.scores.size)


@dataclass(frozen=True)
class AsvScoreFile:
    """An ASV score file: ``source``, ``key`` and ``score`` per trial."""

    sources: np.ndarray
    keys: np.ndarray
    scores: np.ndarray


def _parse_score(text: str, src: Path, lineno: int) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise DataError(f"{src}:{lineno}: score {text!r} is not a number") from exc
    if not math.isfinite(value):
        raise DataError(f"{src}:{lineno}: score {text!r} is not finite; fix the scoring step")
    return value


def _read_rows(src: Path) -> tuple[list[tuple[int, list[str]]], int]:
    if not src.is_file():
        raise DataError(f"score file not found: {src}")
    rows = [(n, f) for n, f in protocol_lines(src, n_fields=(2, 3, 4), what="score file")]
    if not rows:
        raise DataError(f"score file {src} is empty")
    if rows[0][1][-1].lower() in _HEADER_NAMES:  # header such as "filename cm-score"
        rows = rows[1:]
    widths = {len(f) for _, f in rows}
    if len(widths) != 1:
        first = {w: next(n for n, f in rows if len(f) == w) for w in sorted(widths)}
        raise DataError(
            f"{src}: lines have different numbers of columns ({first}: width -> first line)"
        )
    return rows, widths.pop() if widths else 0


def read_scores(
    path: str | os.PathLike,
    *,
    protocol: Sequence[Utterance] | None = None,
) -> ScoreTable:
    """Reads a CM score file (4-column with keys, or 2-column joined with a protocol).

    Args:
        path: The score file.
        protocol: Utterances giving keys, attacks and conditions. Required for 2-column
            files; for 4-column files it adds conditions and must agree on the keys.

    Returns:
        The scores in file order.

    Raises:
        DataError: On malformed lines (with line numbers), duplicate ids, non-finite
            scores, a 2-column file without protocol, or ids missing from / extra to the
            protocol (counts and first few of each).
    """
    src = Path(path)
    rows, width = _read_rows(src)
    if width == 3:
        raise DataError(
            f"{src}: 3 columns look like an ASV score file (source key score); CM score "
            "files have 4 columns (utt_id attack key score) or 2 (utt_id score)"
        )
    ids, scores, keys, attacks = [], [], [], []
    seen: dict[str, int] = {}
    for lineno, fields in rows:
        utt = fields[0]
        if utt in seen:
            raise DataError(f"{src}:{lineno}: trial {utt!r} already scored on line {seen[utt]}")
        seen[utt] = lineno
        ids.append(utt)
        scores.append(_parse_score(fields[-1], src, lineno))
        if width == 4:
            if fields[2] not in KEYS:
                raise DataError(
                    f"{src}:{lineno}: key must be 'bonafide' or 'spoof', got {fields[2]!r}"
                )
            attacks.append(fields[1])
            keys.append(fields[2])
    table = ScoreTable(
        utt_ids=np.asarray(ids, dtype=str),
        scores=np.asarray(scores, dtype=np.float64),
        keys=np.asarray(keys, dtype=str) if width == 4 else None,
        attacks=np.asarray(attacks, dtype=str) if width == 4 else None,
    )
    if protocol is not None:
        return join_protocol(table, protocol, source=src)
    if width == 2:
        raise DataError(
            f"{src} has 2 columns (utt_id score) and carries no keys; give the protocol "
            "(e.g. --protocol ASVspoof2019.LA.cm.eval.trl.txt or trial_metadata.txt)"
        )
    return table


def join_protocol(
    table: ScoreTable, protocol: Sequence[Utterance], *, source: str | os.PathLike = "scores"
) -> ScoreTable:
    """Takes keys, attacks and conditions of scored trials from a protocol.

    Raises:
        DataError: Listing ids missing from the scores and ids the protocol lacks, or
            trials whose keys disagree with the protocol.
    """
    by_id = {u.utt_id: u for u in protocol}
    ids = table.utt_ids.tolist()
    extra_ids = [u for u in ids if u not in by_id]
    scored = set(ids)
    missing_ids = [u for u in by_id if u not in scored]
    if extra_ids or missing_ids:
        parts = []
        if missing_ids:
            parts.append(
                f"{len(missing_ids)} protocol trial(s) have no score (e.g. "
                f"{', '.join(missing_ids[:_SHOWN])})"
            )
        if extra_ids:
            parts.append(
                f"{len(extra_ids)} scored trial(s) are not in the protocol (e.g. "
                f"{', '.join(extra_ids[:_SHOWN])})"
            )
        raise DataError(
            f"{source}: scores and protocol do not match: " + "; ".join(parts) + ". Score "
            "every trial of the protocol (or pass the protocol of the scored subset)"
        )
    utts = [by_id[u] for u in ids]
    keys = np.asarray([u.key for u in utts], dtype=str)
    if table.keys is not None and not np.array_equal(keys, table.keys):
        bad = [ids[i] for i in np.flatnonzero(keys != table.keys)[:_SHOWN]]
        raise DataError(f"{source}: keys in the score file disagree with the protocol for {bad}")
    conditions = {
        name: np.asarray([str(u.extra[name]) for u in utts], dtype=str)
        for name in CONDITION_FIELDS
        if utts and all(name in u.extra for u in utts)
    }
    return ScoreTable(
        utt_ids=table.utt_ids,
        scores=table.scores,
        keys=keys,
        attacks=np.asarray([u.attack for u in utts], dtype=str),
        conditions=conditions,
    )


def write_scores(
    path: str | os.PathLike,
    utt_ids: Sequence[str],
    scores: Sequence[float] | np.ndarray,
    *,
    attacks: Sequence[str] | None = None,
    keys: Sequence[str] | None = None,
) -> Path:
    """Writes scores as 4 columns (with attacks and keys) or 2 columns (without).

    Scores are written with full float precision (``repr``), so reading gives them back
    exactly.

    Raises:
        DataError: On mismatched lengths, unknown keys or non-finite scores.
    """
    ids = list(utt_ids)
    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (len(ids),):
        raise DataError(f"got {len(ids)} ids but {values.size} scores")
    if (attacks is None) != (keys is None):
        raise DataError("give both attacks and keys (4-column file) or neither (2-column)")
    if not np.isfinite(values).all():
        raise DataError("scores contain NaN or Inf; refusing to write them")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        if keys is None:
            for utt, value in zip(ids, values.tolist(), strict=True):
                fh.write(f"{utt} {value!r}\n")
        else:
            att, kk = list(attacks or []), list(keys)
            if len(att) != len(ids) or len(kk) != len(ids):
                raise DataError("attacks and keys need one entry per score")
            bad = sorted(set(kk) - set(KEYS))
            if bad:
                raise DataError(f"keys must be 'bonafide' or 'spoof', got {bad}")
            for utt, a, k, value in zip(ids, att, kk, values.tolist(), strict=True):
                fh.write(f"{utt} {a} {k} {value!r}\n")
    return out


def read_asv_scores(path: str | os.PathLike) -> AsvScoreFile:
    """Reads an ASV score file ``source key score`` (ASVspoof 2019 / 5 organizers').

    Raises:
        DataError: On malformed lines (with line numbers), unknown keys or a missing
            trial type.
    """
    src = Path(path)
    if not src.is_file():
        raise DataError(f"ASV score file not found: {src}")
    sources, keys, scores = [], [], []
    for lineno, (source, key, score) in protocol_lines(src, n_fields=3, what="ASV score file"):
        if key not in ASV_KEYS:
            raise DataError(
                f"{src}:{lineno}: ASV key must be 'target', 'nontarget' or 'spoof', got {key!r}"
            )
        sources.append(source)
        keys.append(key)
        scores.append(_parse_score(score, src, lineno))
    k = np.asarray(keys, dtype=str)
    absent = [name for name in ASV_KEYS if not (k == name).any()]
    if absent:
        raise DataError(f"{src}: the ASV scores hold no {' / '.join(absent)} trial")
    return AsvScoreFile(
        sources=np.asarray(sources, dtype=str), keys=k, scores=np.asarray(scores, dtype=float)
    )


def read_protocol(path: str | os.PathLike) -> list[Utterance]:
    """Reads a protocol of any supported corpus, recognised by its layout.

    ``.csv`` files are In-the-Wild ``meta.csv`` (header ``file,speaker,label``) or a
    generic list (``path,label,...``); text files are recognised by their number of
    columns: 5 = ASVspoof 2019 CM protocol, 10 = ASVspoof 5, 8/12/13 = ASVspoof 2021
    LA/PA/DF ``trial_metadata.txt``.

    Raises:
        DataError: When the layout is not recognised or the file is malformed.
    """
    from voxlab.data.corpora import (
        read_asvspoof5_protocol,
        read_cm_protocol,
        read_csv_list,
        read_in_the_wild_meta,
        read_trial_metadata,
    )

    src = Path(path)
    if not src.is_file():
        raise DataError(f"protocol not found: {src}")
    if src.suffix.lower() == ".csv":
        with src.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        if [h.strip() for h in header] == ["file", "speaker", "label"]:
            return read_in_the_wild_meta(src)
        return read_csv_list(src, check_files=False)
    first = next(
        (fields for _, fields in protocol_lines(src, n_fields=range(1, 64), what="protocol")), None
    )
    if first is None:
        raise DataError(f"protocol {src} is empty")
    width = len(first)
    if width == 5:
        return read_cm_protocol(src)
    if width == 10:
        return read_asvspoof5_protocol(src)
    if width in (8, 12, 13):
        return read_trial_metadata(src)
    raise DataError(
        f"{src}: cannot tell the protocol format from {width} columns; expected 5 (ASVspoof "
        "2019), 8/12/13 (ASVspoof 2021 trial_metadata) or 10 (ASVspoof 5)"
    )
