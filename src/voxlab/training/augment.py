"""Training augmentation: RawBoost and channel conditions, as options of every recipe.

A recipe's ``augment`` section::

    augment:
      rawboost:
        algo: 5          # 0 none, 1 LnL, 2 ISD, 3 SSI, 4-7 series, 8 parallel (LA: 5, DF: 3)
        p: 1.0           # share of training items boosted (official: every item)
        params: {}       # RawBoostParams overrides, e.g. {snr_min: 5}
      channel:
        p: 0.5           # share of training items sent through a channel
        max_conditions: 1
        conditions:      # condition -> relative weight (empty: every condition, weight 1)
          telephone: 1
          mp3: 1
          aac: 1
          opus: 1
          noise: 1
          reverb: 1
          gain: 1

Each training item is augmented on the whole loaded clip, before the fixed-length crop (as
the official RawBoost recipe does): first RawBoost, then the channel. Channel conditions
are effects of :mod:`voxlab.audio.effects` with parameters drawn per item
(:data:`CONDITIONS` lists the ranges). Every draw comes from the item's own generator,
seeded by ``(seed, epoch, index)``, so a run is reproducible and resumes exactly; RawBoost
gets a legacy ``np.random.RandomState`` seeded from it (its official draw order needs the
legacy stream). Development and evaluation data are never augmented.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from voxlab.errors import ConfigError

#: Condition name -> (what it is, parameter draw). Each draw returns ``[(effect, params)]``.
ConditionDraw = Callable[[np.random.Generator], list[tuple[str, dict[str, Any]]]]


def _telephone(rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    return [("telephone", {"low": rng.uniform(200, 400), "high": rng.uniform(3000, 3600)})]


def _codec(name: str, bitrates: tuple[int, ...]) -> ConditionDraw:
    def draw(rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
        return [(name, {"bitrate": int(rng.choice(bitrates))})]

    return draw


def _noise(rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    kind = "white_noise" if rng.random() < 0.5 else "pink_noise"
    return [(kind, {"snr_db": rng.uniform(5, 35), "seed": int(rng.integers(2**31))})]


def _reverb(rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    params = {
        "rt60": rng.uniform(0.15, 0.9),
        "drr_db": rng.uniform(-3, 10),
        "seed": int(rng.integers(2**31)),
    }
    return [("reverb", params)]


def _gain(rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    return [("gain", {"factor": float(10 ** (rng.uniform(-18, 6) / 20)), "clip": True})]


#: Channel conditions: name -> (description, draw of effect parameters).
CONDITIONS: dict[str, tuple[str, ConditionDraw]] = {
    "telephone": ("8 kHz, band 200-400 .. 3000-3600 Hz, G.711 mu-law", _telephone),
    "mp3": ("MP3 round trip at 32-128 kbit/s", _codec("mp3", (32, 48, 64, 96, 128))),
    "aac": ("AAC round trip at 24-64 kbit/s", _codec("aac", (24, 32, 48, 64))),
    "opus": ("Opus round trip at 8-32 kbit/s", _codec("opus", (8, 12, 16, 24, 32))),
    "noise": ("white or pink noise at 5-35 dB SNR", _noise),
    "reverb": ("synthetic room, RT60 0.15-0.9 s, DRR -3..10 dB", _reverb),
    "gain": ("gain -18..+6 dB, clipped to [-1, 1]", _gain),
}


@dataclass(frozen=True)
class RawBoostSection:
    """RawBoost in a recipe.

    Attributes:
        algo: 0 none, 1 LnL, 2 ISD, 3 SSI, 4-7 series, 8 parallel (published: LA 5, DF 3).
        p: Share of training items boosted (official: 1.0, every item).
        params: Overrides of :class:`voxlab.training.rawboost.RawBoostParams` fields.
    """

    algo: int = 0
    p: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelSection:
    """Channel augmentation in a recipe.

    Attributes:
        p: Share of training items sent through a channel (0 = off).
        conditions: Condition name -> relative weight; empty means every condition of
            :data:`CONDITIONS` with weight 1.
        max_conditions: Up to this many different conditions chained per item (the number
            is drawn uniformly from 1..max_conditions).
    """

    p: float = 0.0
    conditions: dict[str, float] = field(default_factory=dict)
    max_conditions: int = 1


@dataclass(frozen=True)
class AugmentSection:
    """The ``augment`` section of a recipe (off by default)."""

    rawboost: RawBoostSection = field(default_factory=RawBoostSection)
    channel: ChannelSection = field(default_factory=ChannelSection)

    @property
    def enabled(self) -> bool:
        """Whether anything is applied at all."""
        boost = self.rawboost.algo != 0 and self.rawboost.p > 0
        return boost or self.channel.p > 0


def _weights(section: ChannelSection) -> dict[str, float]:
    return dict(section.conditions) or {name: 1.0 for name in CONDITIONS}


def check_augment(section: AugmentSection) -> None:
    """Validate an ``augment`` section.

    Raises:
        ConfigError: A message naming the key and the valid values.
    """
    from voxlab.training.rawboost import ALGORITHMS, RawBoostParams

    boost, channel = section.rawboost, section.channel
    if boost.algo not in ALGORITHMS:
        known = ", ".join(f"{k} {v}" for k, v in ALGORITHMS.items())
        raise ConfigError(f"augment.rawboost.algo must be 0-8 ({known}); got {boost.algo}")
    for name, value in (("rawboost.p", boost.p), ("channel.p", channel.p)):
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"augment.{name} is a probability in [0, 1]; got {value}")
    valid = {f.name for f in fields(RawBoostParams)}
    unknown = sorted(set(boost.params) - valid)
    if unknown:
        raise ConfigError(
            f"augment.rawboost.params: unknown key(s) {unknown}; valid keys: {sorted(valid)}"
        )
    rawboost_params(boost)  # value checks
    weights = _weights(channel)
    unknown = sorted(set(weights) - set(CONDITIONS))
    if unknown:
        raise ConfigError(
            f"augment.channel.conditions: unknown condition(s) {unknown}; "
            f"choose from {sorted(CONDITIONS)}"
        )
    bad = {
        k: v
        for k, v in weights.items()
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0
    }
    if bad or (channel.p > 0 and not any(v > 0 for v in weights.values())):
        raise ConfigError(
            f"augment.channel.conditions: weights must be numbers >= 0, one of them > 0; "
            f"got {dict(weights)}"
        )
    positive = sum(1 for v in weights.values() if v > 0)
    if not 1 <= channel.max_conditions <= max(positive, 1):
        raise ConfigError(
            f"augment.channel.max_conditions must be in [1, {max(positive, 1)}] (the number "
            f"of conditions with a weight > 0); got {channel.max_conditions}"
        )


def rawboost_params(section: RawBoostSection):
    """The :class:`~voxlab.training.rawboost.RawBoostParams` a section asks for."""
    from voxlab.training.rawboost import RawBoostParams

    try:
        return RawBoostParams(**section.params)
    except TypeError as exc:
        raise ConfigError(f"augment.rawboost.params: {exc}") from None


class Augmenter:
    """Applies a recipe's augmentation to one training clip (picklable for DataLoader workers).

    Args:
        section: The recipe's ``augment`` section (validated here).
        sample_rate: Rate of the clips.
        check_codecs: Run each codec condition once on a short signal, so that a missing
            encoder fails before training rather than in the middle of an epoch.
    """

    def __init__(
        self, section: AugmentSection, *, sample_rate: int, check_codecs: bool = True
    ) -> None:
        check_augment(section)
        self.section = section
        self.sample_rate = sample_rate
        self.params = rawboost_params(section.rawboost)
        weights = {k: float(v) for k, v in _weights(section.channel).items() if v > 0}
        self.names = sorted(weights)
        total = sum(weights.values())
        self.probs = np.array([weights[n] / total for n in self.names])
        if check_codecs and section.channel.p > 0:
            self._check_codecs()

    def _check_codecs(self) -> None:
        from voxlab.audio.effects import apply_effect
        from voxlab.errors import VoxlabError

        probe = 0.1 * np.sin(np.linspace(0, 400 * np.pi, self.sample_rate // 4)).astype(np.float32)
        for name in self.names:
            if name not in ("mp3", "aac", "opus"):
                continue
            try:
                apply_effect(name, probe, self.sample_rate)
            except VoxlabError as exc:
                raise ConfigError(
                    f"augment.channel.conditions: the {name} round trip does not work here "
                    f"({exc}); remove {name!r} from the conditions or install a PyAV build "
                    "with that encoder"
                ) from exc

    def draw_channel(self, rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
        """Draw the effects (name and parameters, in order) of one item's channel."""
        count = int(rng.integers(1, self.section.channel.max_conditions + 1))
        chosen = rng.choice(len(self.names), size=count, replace=False, p=self.probs)
        steps: list[tuple[str, dict[str, Any]]] = []
        for index in chosen:
            steps += CONDITIONS[self.names[int(index)]][1](rng)
        return steps

    def __call__(self, wave: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Augment one clip.

        Args:
            wave: The loaded clip. Shape: ``(time,)``.
            rng: The item's generator (seeded by seed, epoch and index).

        Returns:
            float32 samples of the same length. Shape: ``(time,)``.
        """
        from voxlab.audio.effects import apply_effect
        from voxlab.training.rawboost import rawboost

        boost, channel = self.section.rawboost, self.section.channel
        out = np.asarray(wave, dtype=np.float32)
        # Fixed number of draws per item, whatever is applied, so items stay independent.
        boost_u, channel_u, sub_seed = rng.random(), rng.random(), int(rng.integers(2**32))
        if boost.algo and boost_u < boost.p:
            legacy = np.random.RandomState(sub_seed)  # RawBoost's official (legacy) stream
            out = rawboost(
                out, boost.algo, sample_rate=self.sample_rate, params=self.params, rng=legacy
            ).astype(np.float32)
        if channel.p > 0 and channel_u < channel.p:
            for name, params in self.draw_channel(rng):
                out = apply_effect(name, out, self.sample_rate, **params)
        return out

    def __repr__(self) -> str:
        return f"Augmenter({self.section!r}, sample_rate={self.sample_rate})"


def build_augmenter(section: AugmentSection, *, sample_rate: int) -> Augmenter | None:
    """The augmenter of a recipe section, or ``None`` when it applies nothing."""
    if not section.enabled:
        return None
    return Augmenter(section, sample_rate=sample_rate)
