"""Score a corpus split with a model and write the official 4-column score file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from torch import nn

from voxlab.data.manifest import Utterance
from voxlab.detection import Detector
from voxlab.errors import DataError


def score_utterances(
    model: nn.Module | Detector,
    utterances: Sequence[Utterance],
    *,
    batch_size: int = 32,
    workers: int = 2,
    device: str = "cpu",
    name: str = "model",
    progress: bool = False,
) -> np.ndarray:
    """Bona fide logits of ``utterances`` under the official evaluation policy.

    Args:
        model: A countermeasure network or a ready :class:`Detector`.
        utterances: What to score (their ``path`` must be readable).
        batch_size: Inputs per forward pass.
        workers: Decoding threads.
        device: Torch device for a bare network.
        name: Model name for messages.
        progress: Show a progress bar.

    Returns:
        Scores in the order of ``utterances``. Shape: ``(n,)``.

    Raises:
        DataError: Some files could not be scored (all of them are listed).
    """
    from tqdm import tqdm

    detector = (
        model
        if isinstance(model, Detector)
        else Detector(model, name=name, batch_size=batch_size, device=device)
    )
    scores = np.empty(len(utterances), dtype=np.float64)
    failures = []
    results = detector.score_files([u.path for u in utterances], workers=workers)
    bar = tqdm(results, total=len(utterances), disable=not progress, unit="utt", leave=False)
    for i, result in enumerate(bar):
        if result.status != "ok":
            failures.append(f"{utterances[i].utt_id}: {result.error}")
            scores[i] = np.nan
        else:
            scores[i] = result.score
    if failures:
        shown = "; ".join(failures[:5])
        raise DataError(f"{len(failures)} utterance(s) could not be scored: {shown}")
    return scores


def write_score_file(
    path: str | os.PathLike, utterances: Sequence[Utterance], scores: Sequence[float]
) -> Path:
    """Write ``utt_id attack key score`` lines (the official CM score format).

    The file carries its own keys, so ``voxlab eval --scores FILE`` needs no protocol.
    """
    from voxlab.data.scores import write_scores

    return write_scores(
        path,
        [u.utt_id for u in utterances],
        scores,
        attacks=[u.attack for u in utterances],
        keys=[u.key for u in utterances],
    )
