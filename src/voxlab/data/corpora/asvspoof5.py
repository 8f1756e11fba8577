"""ASVspoof 5 (track 1, stand-alone countermeasures).

Protocols (``ASVspoof5_protocols/``): ``ASVspoof5.train.tsv``, ``ASVspoof5.dev.track_1.tsv``,
``ASVspoof5.eval.track_1.tsv`` - whitespace-separated despite the name, 10 fields::

    speaker utt gender codec codec_q codec_seed attack_tag attack_label key tmp
    T_4850 T_0000000000 F - - - AC3 A05 spoof -
    T_3734 T_0000000011 F - - - - bonafide bonafide -

Audio: ``flac_T/``, ``flac_D/``, ``flac_E_eval/`` holding ``<utt>.flac``.
"""

from __future__ import annotations

import os
from pathlib import Path

from voxlab.data.corpora._common import (
    check_audio_files,
    check_key,
    check_unique,
    find_first,
    protocol_lines,
    save_manifests,
)
from voxlab.data.manifest import NO_ATTACK, Utterance
from voxlab.errors import DataError

SPLITS = ("train", "dev", "eval")
PROTOCOLS = {
    "train": "ASVspoof5.train.tsv",
    "dev": "ASVspoof5.dev.track_1.tsv",
    "eval": "ASVspoof5.eval.track_1.tsv",
}
AUDIO_DIRS = {"train": "flac_T", "dev": "flac_D", "eval": "flac_E_eval"}
_EXTRA = ("gender", "codec", "codec_q", "codec_seed", "attack_tag")


def read_asvspoof5_protocol(
    path: str | os.PathLike,
    *,
    split: str | None = None,
    audio_dir: str | os.PathLike | None = None,
) -> list[Utterance]:
    """Parses an ASVspoof 5 track-1 protocol.

    Args:
        path: The protocol file.
        split: Split name; guessed from the file name (``train``/``dev``/``eval``) if None.
        audio_dir: Folder of the ``.flac`` files (relative paths when None).

    Returns:
        Utterances; ``attack`` is the attack label (``A01``...) or ``-`` for bona fide,
        ``extra`` holds gender, codec, codec_q, codec_seed and attack_tag.

    Raises:
        DataError: On missing files, malformed lines (with line number) or unknown keys.
    """
    src = Path(path)
    if split is None:
        split = next((s for s in SPLITS if f".{s}." in src.name), "unknown")
    base = Path(audio_dir) if audio_dir is not None else None
    utterances = []
    for lineno, fields in protocol_lines(src, n_fields=10, what="ASVspoof 5 protocol"):
        speaker, utt_id = fields[0], fields[1]
        attack_label, key = fields[7], check_key(fields[8], src, lineno)
        if key == "spoof" and attack_label in (NO_ATTACK, "bonafide"):
            raise DataError(f"{src}:{lineno}: spoof line without an attack label")
        name = f"{utt_id}.flac"
        utterances.append(
            Utterance(
                utt_id=utt_id,
                path=str(base / name) if base is not None else name,
                speaker=speaker,
                attack=NO_ATTACK if key == "bonafide" else attack_label,
                key=key,
                split=split,
                extra=dict(zip(_EXTRA, fields[2:7], strict=True)),
            )
        )
    check_unique(utterances, src)
    return utterances


def prepare_asvspoof5(
    root: str | os.PathLike,
    *,
    splits: tuple[str, ...] = SPLITS,
    out: str | os.PathLike | None = None,
    check_files: bool = True,
) -> dict[str, list[Utterance]]:
    """Reads ASVspoof 5 track 1 into utterance records.

    Args:
        root: Folder holding ``ASVspoof5_protocols/`` (or the protocols directly) and the
            ``flac_*`` audio folders.
        splits: Which of ``train``, ``dev``, ``eval`` to read.
        out: If given, writes ``asvspoof5_<split>.jsonl`` manifests there.
        check_files: Require every listed ``.flac`` to exist.

    Returns:
        Split -> utterances with absolute audio paths.

    Raises:
        DataError: On unknown splits, missing protocols/audio or malformed lines.
    """
    bad = [s for s in splits if s not in SPLITS]
    if bad:
        raise DataError(f"ASVspoof 5 splits are {SPLITS}; unknown {bad}")
    base = Path(root).expanduser().resolve()
    result = {}
    for split in splits:
        proto = find_first(
            base,
            [f"ASVspoof5_protocols/{PROTOCOLS[split]}", PROTOCOLS[split]],
            what=f"ASVspoof 5 {split} protocol",
        )
        utterances = read_asvspoof5_protocol(proto, split=split, audio_dir=base / AUDIO_DIRS[split])
        if check_files:
            check_audio_files(utterances, corpus=f"ASVspoof 5 {split}")
        result[split] = utterances
    save_manifests(result, out, prefix="asvspoof5")
    return result
