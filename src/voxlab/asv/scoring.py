"""Offline ASV scoring of a voxlab corpus: enrollment, cosine scores, official score files.

Reads the ASV protocols written by :func:`voxlab.generation.corpus.make_corpus`
(``ASVspoof2019.LA.asv.{split}.gi.trn.txt``: ``SPEAKER UTT,UTT,...`` and
``...gi.trl.txt``: ``CLAIMED_SPEAKER UTT SOURCE KEY``), enrolls each speaker as the
L2-normalised mean of its enrollment embeddings and writes one cosine score per trial in
the ASVspoof 2019 ASV score format, ``SOURCE KEY SCORE`` (SOURCE = ``bonafide`` or the
attack id; KEY = ``target``/``nontarget``/``spoof``), as the organizers'
``ASVspoof2019.LA.asv.{dev,eval}.gi.trl.scores.txt``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from voxlab.asv.encoder import SAMPLE_RATE, embed
from voxlab.errors import DataError

ASV_PROTOCOL_DIR = "ASVspoof2019_LA_asv_protocols"
ASV_SCORE_DIR = "ASVspoof2019_LA_asv_scores"


def _lines(path: Path, n_fields: int) -> list[list[str]]:
    if not path.is_file():
        raise DataError(f"ASV protocol not found: {path} (make the corpus with n_enroll > 0)")
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != n_fields:
            raise DataError(f"{path}:{lineno}: expected {n_fields} fields, got {len(fields)}")
        rows.append(fields)
    return rows


def read_asv_protocols(
    corpus: str | os.PathLike, split: str
) -> tuple[dict[str, list[str]], list[tuple[str, str, str, str]]]:
    """Enrollment lists and trials of a split.

    Returns:
        ``(enrollment, trials)``: speaker -> utterance ids, and
        ``(claimed_speaker, utt_id, source, key)`` per trial.
    """
    base = Path(corpus) / ASV_PROTOCOL_DIR / f"ASVspoof2019.LA.asv.{split}.gi"
    enroll = {spk: ids.split(",") for spk, ids in _lines(Path(f"{base}.trn.txt"), 2)}
    trials = [tuple(row) for row in _lines(Path(f"{base}.trl.txt"), 4)]
    for claimed, utt, _, _ in trials:
        if claimed not in enroll:
            raise DataError(f"{base}.trl.txt: trial {utt} claims {claimed}, who is not enrolled")
    return enroll, trials


def score_trials(
    enrollment: dict[str, list[np.ndarray]],
    trials: list[tuple[str, np.ndarray]],
) -> np.ndarray:
    """Cosine scores of trial embeddings against enrolled speaker models.

    Args:
        enrollment: Speaker -> enrollment embeddings.
        trials: ``(claimed_speaker, embedding)`` per trial.

    Returns:
        One score per trial in [-1, 1]. Shape: ``(n_trials,)``.
    """
    models = {}
    for speaker, embeds in enrollment.items():
        mean = np.mean(np.stack(embeds), axis=0)
        models[speaker] = mean / np.linalg.norm(mean)
    out = np.empty(len(trials))
    for i, (speaker, vec) in enumerate(trials):
        out[i] = float(np.dot(models[speaker], vec / np.linalg.norm(vec)))
    return out


def score_corpus(
    corpus: str | os.PathLike,
    *,
    split: str = "eval",
    encoder: str = "ge2e",
    progress: bool = False,
) -> Path:
    """Scores a corpus split's ASV trials and writes the official-format score file.

    Args:
        corpus: Folder made by ``voxlab corpus make``.
        split: ``dev`` or ``eval``.
        encoder: ``ge2e`` (resemblyzer's weights) or ``mfcc`` (baseline).
        progress: Show a progress bar.

    Returns:
        The score file written.
    """
    from tqdm.auto import tqdm

    from voxlab.audio import load

    root = Path(corpus)
    enroll_ids, trials = read_asv_protocols(root, split)
    needed = sorted({u for ids in enroll_ids.values() for u in ids} | {t[1] for t in trials})
    audio_dir = root / f"ASVspoof2019_LA_{split}" / "flac"
    embeds = {}
    threads = torch.get_num_threads()
    # The GE2E LSTM runs on tiny batches: one thread is several times faster than two
    # fighting over the cores.
    torch.set_num_threads(1)
    try:
        for utt in tqdm(needed, desc=f"ASV {split}", disable=not progress, leave=False):
            path = audio_dir / f"{utt}.flac"
            if not path.is_file():
                raise DataError(f"ASV audio missing: {path}")
            wav, _ = load(path, sr=SAMPLE_RATE)
            embeds[utt] = embed(wav, encoder=encoder)
    finally:
        torch.set_num_threads(threads)
    scores = score_trials(
        {spk: [embeds[u] for u in ids] for spk, ids in enroll_ids.items()},
        [(claimed, embeds[utt]) for claimed, utt, _, _ in trials],
    )
    out = root / ASV_SCORE_DIR / f"ASVspoof2019.LA.asv.{split}.gi.trl.scores.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial")
    lines = [f"{t[2]} {t[3]} {s:.6f}\n" for t, s in zip(trials, scores, strict=True)]
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, out)
    return out
