"""ASVspoof 2021 LA, DF and PA evaluation data with the full keys and meta-labels.

Audio: ``ASVspoof2021_<track>_eval/flac/<utt_id>.flac``. Keys: the ``<track>-keys-full``
package, ``keys/<track>/CM/trial_metadata.txt``, one trial per line:

* LA (8 fields): ``speaker utt codec transmission attack key trim subset``,
  e.g. ``LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval``.
* DF (13 fields): ``speaker utt codec source attack key trim subset vocoder task team
  gender_pair language``, e.g. ``LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim
  progress traditional_vocoder - - - -``.
* PA (12 fields): ``speaker utt asv_room asv_mic dis_to_asv att_room att_mic att_d
  att_to_spk key trim subset``.

``subset`` (``eval``/``progress``/``hidden``) becomes the split; every other column goes
to ``extra`` so that results can be broken down per codec, transmission, vocoder, ...
"""

from __future__ import annotations

import os
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

TRACKS = ("LA", "DF", "PA")
#: Columns of ``trial_metadata.txt`` per track (names follow the official eval package).
COLUMNS = {
    "LA": ("speaker", "utt_id", "codec", "transmission", "attack", "key", "trim", "subset"),
    "DF": (
        "speaker",
        "utt_id",
        "codec",
        "source",
        "attack",
        "key",
        "trim",
        "subset",
        "vocoder",
        "task",
        "team",
        "gender_pair",
        "language",
    ),
    "PA": (
        "speaker",
        "utt_id",
        "asv_room",
        "asv_mic",
        "dis_to_asv",
        "att_room",
        "att_mic",
        "att_d",
        "att_to_spk",
        "key",
        "trim",
        "subset",
    ),
}
_TRACK_BY_WIDTH = {len(cols): track for track, cols in COLUMNS.items()}
_PA_ATTACK_FIELDS = ("att_room", "att_mic", "att_d", "att_to_spk")


def read_trial_metadata(
    path: str | os.PathLike,
    *,
    track: str | None = None,
    subsets: tuple[str, ...] | None = None,
    audio_dir: str | os.PathLike | None = None,
) -> list[Utterance]:
    """Parses an ASVspoof 2021 CM ``trial_metadata.txt``.

    Args:
        path: The key file.
        track: ``"LA"``, ``"DF"`` or ``"PA"``; detected from the number of columns if None.
        subsets: Keep only these subsets (e.g. ``("eval",)``); all when None.
        audio_dir: Folder of the ``.flac`` files (paths relative to it when None).

    Returns:
        Utterances; ``split`` is the subset and ``extra`` holds the remaining columns.
        PA spoofs get the attacker factors joined by ``_`` as attack id.

    Raises:
        DataError: On a missing file, malformed lines (with line number), unknown keys
            or repeated ids.
    """
    src = Path(path)
    if track is not None and track not in TRACKS:
        raise DataError(f"ASVspoof 2021 track must be one of {TRACKS}, got {track!r}")
    widths = (len(COLUMNS[track]),) if track else tuple(_TRACK_BY_WIDTH)
    base = Path(audio_dir) if audio_dir is not None else None
    utterances = []
    first_track: str | None = None
    for lineno, fields in protocol_lines(src, n_fields=widths, what="ASVspoof 2021 key file"):
        this_track = track or _TRACK_BY_WIDTH[len(fields)]
        if first_track is not None and this_track != first_track:
            raise DataError(
                f"{src}:{lineno}: {len(fields)} fields, but earlier lines have "
                f"{len(COLUMNS[first_track])} ({first_track} layout)"
            )
        first_track = this_track
        row = dict(zip(COLUMNS[this_track], fields, strict=True))
        key = check_key(row.pop("key"), src, lineno)
        subset = row.pop("subset")
        if subsets is not None and subset not in subsets:
            continue
        utt_id, speaker = row.pop("utt_id"), row.pop("speaker")
        if this_track == "PA":
            attack = NO_ATTACK if key == "bonafide" else "_".join(row[f] for f in _PA_ATTACK_FIELDS)
        else:
            attack = row.pop("attack")
            if key == "bonafide":
                attack = NO_ATTACK
        name = f"{utt_id}.flac"
        utterances.append(
            Utterance(
                utt_id=utt_id,
                path=str(base / name) if base is not None else name,
                speaker=speaker,
                attack=attack,
                key=key,
                split=subset,
                extra={"track": this_track, **row},
            )
        )
    check_unique(utterances, src)
    return utterances


def prepare_asvspoof2021(
    root: str | os.PathLike,
    *,
    track: str = "LA",
    keys: str | os.PathLike | None = None,
    subsets: tuple[str, ...] | None = None,
    out: str | os.PathLike | None = None,
    check_files: bool = True,
) -> dict[str, list[Utterance]]:
    """Reads an ASVspoof 2021 evaluation track with its keys.

    Args:
        root: Folder holding ``ASVspoof2021_<track>_eval/`` (or that folder itself).
        track: ``"LA"``, ``"DF"`` or ``"PA"``.
        keys: The ``trial_metadata.txt`` file or the ``keys`` folder of the keys package;
            default ``<root>/keys``.
        subsets: Subsets to keep (``eval``, ``progress``, ``hidden``); all when None.
        out: If given, writes ``asvspoof2021_<track>_<subset>.jsonl`` manifests there.
        check_files: Require every listed ``.flac`` to exist.

    Returns:
        Subset -> utterances with absolute audio paths.

    Raises:
        DataError: When keys or audio are missing or malformed.
    """
    if track not in TRACKS:
        raise DataError(f"ASVspoof 2021 track must be one of {TRACKS}, got {track!r}")
    base = Path(root).expanduser().resolve()
    eval_dir = (
        base if base.name == f"ASVspoof2021_{track}_eval" else base / f"ASVspoof2021_{track}_eval"
    )
    key_path = Path(keys) if keys is not None else base / "keys"
    if key_path.is_dir():
        key_path = key_path / track / "CM" / "trial_metadata.txt"
    if not key_path.is_file():
        raise DataError(
            f"ASVspoof 2021 {track} keys not found at {key_path}; download "
            f"{track}-keys-full.tar.gz from asvspoof.org and pass its keys folder as keys="
        )
    utterances = read_trial_metadata(
        key_path, track=track, subsets=subsets, audio_dir=eval_dir / "flac"
    )
    if check_files:
        check_audio_files(utterances, corpus=f"ASVspoof 2021 {track}")
    result: dict[str, list[Utterance]] = {}
    for utt in utterances:
        result.setdefault(utt.split, []).append(utt)
    save_manifests(result, out, prefix=f"asvspoof2021_{track.lower()}")
    return result
