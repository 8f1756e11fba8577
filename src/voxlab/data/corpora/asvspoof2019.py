"""ASVspoof 2019 (LA and PA) as distributed by the University of Edinburgh DataShare.

Layout (``root`` is the ``LA`` or ``PA`` folder, or its parent)::

    ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
    ASVspoof2019_LA_{train,dev,eval}/flac/<utt_id>.flac

CM protocol lines are ``speaker utt_id env attack key``: ``env`` is ``-`` in LA and the
acoustic environment id in PA, ``attack`` is ``-`` for bona fide, ``key`` is
``bonafide``/``spoof``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from voxlab.data.corpora._common import (
    check_audio_files,
    check_key,
    check_unique,
    protocol_lines,
    save_manifests,
)
from voxlab.data.manifest import NO_ATTACK, Utterance
from voxlab.errors import DataError

TRACKS = ("LA", "PA")
SPLITS = ("train", "dev", "eval")
_PROTOCOL_SUFFIX = {"train": "train.trn", "dev": "dev.trl", "eval": "eval.trl"}


def protocol_name(track: str, split: str) -> str:
    """File name of the CM protocol of a track and split."""
    return f"ASVspoof2019.{track}.cm.{_PROTOCOL_SUFFIX[split]}.txt"


def _split_from_name(path: Path) -> str:
    match = re.search(r"\.(train|dev|eval)\.", path.name)
    return match.group(1) if match else "unknown"


def read_cm_protocol(
    path: str | os.PathLike,
    *,
    split: str | None = None,
    audio_dir: str | os.PathLike | None = None,
) -> list[Utterance]:
    """Parses an ASVspoof 2019 CM protocol file.

    Args:
        path: The protocol (``ASVspoof2019.LA.cm.eval.trl.txt`` etc.).
        split: Split name; taken from the file name when None.
        audio_dir: Folder of the ``.flac`` files; paths are ``<utt_id>.flac`` relative
            to it when None.

    Returns:
        One utterance per line, in file order. ``extra`` holds ``environment`` for PA.

    Raises:
        DataError: On a missing file, a malformed line (with its line number), an
            unknown key or a repeated utterance id.
    """
    src = Path(path)
    split = split or _split_from_name(src)
    base = Path(audio_dir) if audio_dir is not None else None
    utterances = []
    for lineno, (speaker, utt_id, env, attack, key) in protocol_lines(
        src, n_fields=5, what="ASVspoof 2019 CM protocol"
    ):
        check_key(key, src, lineno)
        if key == "bonafide" and attack != NO_ATTACK:
            raise DataError(f"{src}:{lineno}: bona fide line has attack {attack!r} (expected '-')")
        if key == "spoof" and attack == NO_ATTACK:
            raise DataError(f"{src}:{lineno}: spoof line has no attack id")
        name = f"{utt_id}.flac"
        utterances.append(
            Utterance(
                utt_id=utt_id,
                path=str(base / name) if base is not None else name,
                speaker=speaker,
                attack=attack,
                key=key,
                split=split,
                extra={} if env == "-" else {"environment": env},
            )
        )
    check_unique(utterances, src)
    return utterances


def prepare_asvspoof2019(
    root: str | os.PathLike,
    *,
    track: str = "LA",
    splits: tuple[str, ...] = SPLITS,
    out: str | os.PathLike | None = None,
    check_files: bool = True,
) -> dict[str, list[Utterance]]:
    """Reads ASVspoof 2019 LA or PA as distributed into utterance records.

    Args:
        root: The ``LA``/``PA`` folder (or the folder holding it).
        track: ``"LA"`` or ``"PA"``.
        splits: Which of ``train``, ``dev``, ``eval`` to read.
        out: If given, writes ``asvspoof2019_<track>_<split>.jsonl`` manifests there.
        check_files: Require every listed ``.flac`` to exist (one DataError lists the
            missing ones); False for protocol-only use.

    Returns:
        Split name -> utterances with absolute audio paths.

    Raises:
        DataError: On an unknown track/split, missing protocols or audio, or malformed lines.
    """
    if track not in TRACKS:
        raise DataError(f"ASVspoof 2019 track must be one of {TRACKS}, got {track!r}")
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        raise DataError(f"ASVspoof 2019 splits are {SPLITS}; unknown {bad}")
    base = Path(root).expanduser().resolve()
    proto_dir_name = f"ASVspoof2019_{track}_cm_protocols"
    if not (base / proto_dir_name).is_dir() and (base / track / proto_dir_name).is_dir():
        base = base / track
    proto_dir = base / proto_dir_name
    if not proto_dir.is_dir():
        raise DataError(
            f"ASVspoof 2019 {track} protocols not found: {proto_dir} (point root at the "
            f"extracted {track} folder)"
        )
    result: dict[str, list[Utterance]] = {}
    for split in splits:
        audio_dir = base / f"ASVspoof2019_{track}_{split}" / "flac"
        utterances = read_cm_protocol(
            proto_dir / protocol_name(track, split), split=split, audio_dir=audio_dir
        )
        if check_files:
            check_audio_files(utterances, corpus=f"ASVspoof 2019 {track} {split}")
        result[split] = utterances
    save_manifests(result, out, prefix=f"asvspoof2019_{track.lower()}")
    return result
