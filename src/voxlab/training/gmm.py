"""EM training of the GMM baselines (LFCC-GMM, CQCC-GMM) inside the same run directory.

The ASVspoof 2019/2021 GMM baselines train two GMMs by EM on the front-end features of
whole training utterances (no cropping): one on bona fide speech, one on spoofed speech.
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch
from tqdm import tqdm

from voxlab.errors import DataError, SilentAudioWarning
from voxlab.training.augment import build_augmenter


def collect_features(
    model, utterances, *, sample_rate: int, progress: bool, augment=None, seed: int = 0
):
    """Front-end feature matrices of ``utterances``, split into bona fide and spoof lists.

    ``augment`` (a :class:`voxlab.training.augment.Augmenter`) is applied to each whole
    utterance with a generator seeded by ``(seed, 0, index)``, as the neural trainer does.

    Shape:
        Each item ``(frames, dim)``.
    """
    from voxlab.audio import load

    bona, spoof = [], []
    for index, utt in enumerate(
        tqdm(utterances, disable=not progress, desc="features", leave=False)
    ):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SilentAudioWarning)
                wave, _ = load(utt.path, sr=sample_rate)
        except Exception as exc:
            raise DataError(f"utterance {utt.utt_id}: {exc}") from exc
        if augment is not None:
            wave = augment(wave, np.random.default_rng([seed, 0, index]))
        feats = model.extract_features(torch.from_numpy(wave))
        (bona if utt.is_bonafide else spoof).append(feats)
    return bona, spoof


def fit_gmm_run(trainer, model) -> dict:
    """Fit ``model`` (a GMM countermeasure) on the recipe's training split; one 'epoch' row.

    Returns:
        The metrics row written to ``metrics.jsonl``.
    """
    r = trainer.recipe
    started = time.time()
    bona, spoof = collect_features(
        model, trainer.splits[r.data.train_split], sample_rate=r.data.sample_rate,
        progress=trainer.progress, seed=r.seed,
        augment=build_augmenter(r.augment, sample_rate=r.data.sample_rate),
    )  # fmt: skip
    if not bona or not spoof:
        raise DataError("GMM training needs both bona fide and spoof training utterances")
    history = model.fit(bona, spoof, seed=r.seed)
    dev = trainer._evaluate(model, r.data.dev_split)
    row = {
        "epoch": 0,
        "train_loss": -float(history["bonafide"][-1] + history["spoof"][-1]) / 2,
        "dev_eer": dev["eer"],
        "dev_min_tdcf": dev["min_tdcf"],
        "dev_min_dcf": dev["min_dcf"],
        "lr": None,
        "best": True,
        "seconds": round(time.time() - started, 2),
        "em_log_likelihood": {k: [float(v) for v in h] for k, h in history.items()},
    }
    trainer.run.append_metrics(row)
    trainer._save_weights(model, "best")
    trainer._save_weights(model, "last")
    return row
