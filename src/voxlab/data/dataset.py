"""Torch datasets over manifests: waveforms cropped or padded to a fixed length.

Training uses a random crop of ``num_samples`` (short files tiled first, as the official
AASIST/RawNet2 recipes do); evaluation keeps the first ``num_samples`` (the official
evaluation policy). Labels follow the ASVspoof training convention: bona fide = 1,
spoof = 0, matching the logit order ``[spoof, bona fide]``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import Dataset

from voxlab.data.manifest import Utterance
from voxlab.errors import ConfigError, DataError, SilentAudioWarning, VoxlabError

CROPS = ("random", "first")


@dataclass(frozen=True)
class Example:
    """One item: waveform, label and id."""

    waveform: torch.Tensor
    label: int
    utt_id: str


def fit_length(
    waveform: np.ndarray, num_samples: int, *, crop: str, rng: np.random.Generator | None
) -> np.ndarray:
    """Tile short input, then crop to ``num_samples`` (randomly or from the start).

    Shape:
        ``(time,) -> (num_samples,)``
    """
    if crop not in CROPS:
        raise ConfigError(f"crop must be one of {CROPS}, got {crop!r}")
    if len(waveform) < num_samples:
        waveform = np.tile(waveform, num_samples // len(waveform) + 1)
    if crop == "first" or len(waveform) == num_samples:
        return waveform[:num_samples]
    if rng is None:
        raise ConfigError("random crops need a numpy Generator")
    start = int(rng.integers(0, len(waveform) - num_samples + 1))
    return waveform[start : start + num_samples]


class WaveformDataset(Dataset):
    """Waveforms of a manifest's utterances at ``sample_rate``, fixed length.

    Args:
        utterances: The utterances (paths must exist).
        num_samples: Length of every item (64,600 = 4.04 s at 16 kHz, the official one).
        crop: ``"random"`` (training) or ``"first"`` (evaluation).
        seed: Base seed of the random crops; item ``i`` in epoch ``e`` uses
            ``(seed, e, i)``, so a resumed run sees exactly the same crops.
        sample_rate: Rate to load at.
        augment: Optional waveform augmentation ``f(np.ndarray, rng) -> np.ndarray``,
            applied to the whole loaded clip before the crop (e.g.
            :class:`voxlab.training.augment.Augmenter`).
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        *,
        num_samples: int = 64_600,
        crop: str = "random",
        seed: int = 0,
        sample_rate: int = 16_000,
        augment=None,
    ) -> None:
        if not utterances:
            raise DataError("the dataset is empty: no utterances selected")
        if crop not in CROPS:
            raise ConfigError(f"crop must be one of {CROPS}, got {crop!r}")
        self.utterances = list(utterances)
        self.num_samples = num_samples
        self.crop = crop
        self.seed = seed
        self.sample_rate = sample_rate
        self.augment = augment
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Select the crops of ``epoch`` (deterministic per epoch and item)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.utterances)

    @property
    def labels(self) -> np.ndarray:
        """1 for bona fide, 0 for spoof. Shape: ``(n,)``."""
        return np.array([int(u.is_bonafide) for u in self.utterances])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int, str]:
        from voxlab.audio import load

        utt = self.utterances[index]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SilentAudioWarning)
                wave, _ = load(utt.path, sr=self.sample_rate)
        except VoxlabError as exc:
            raise DataError(f"utterance {utt.utt_id}: {exc}") from exc
        rng = np.random.default_rng([self.seed, self.epoch, index])
        if self.augment is not None:  # the whole clip, before the crop (as RawBoost's recipe)
            wave = self.augment(wave, rng)
        wave = fit_length(wave, self.num_samples, crop=self.crop, rng=rng)
        return (
            torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)),
            int(utt.is_bonafide),
            utt.utt_id,
        )


def collate(batch: Sequence[tuple[torch.Tensor, int, str]]):
    """Stack a list of items into ``(waveforms, labels, utt_ids)``.

    Shape:
        waveforms ``(batch, num_samples)``, labels ``(batch,)``.
    """
    waves, labels, ids = zip(*batch, strict=True)
    return torch.stack(waves), torch.tensor(labels, dtype=torch.long), list(ids)
