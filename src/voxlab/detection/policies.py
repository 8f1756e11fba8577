"""How a waveform of any length becomes model inputs: official, full and windowed policies.

The official ASVspoof evaluation keeps the first 64,600 samples (4.0375 s at 16 kHz) and
tiles shorter input up to that length. ``full`` feeds the whole waveform at once (for
models that accept any length). ``windows`` slides a window over the whole file so that a
10-minute call is examined entirely; window scores are aggregated by the mean logit and by
the most-spoof window. ``auto`` (the ``voxlab detect`` default) is ``official`` for input no
longer than the model's input and ``windows`` for longer input, so no part of a long file
goes unjudged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voxlab.errors import ConfigError

#: The official evaluation length in samples at 16 kHz.
OFFICIAL_SAMPLES = 64_600
POLICIES = ("official", "full", "windows", "auto")


@dataclass(frozen=True)
class InputPolicy:
    """How to cut a waveform into model inputs.

    Attributes:
        name: ``"official"``, ``"full"``, ``"windows"`` or ``"auto"`` (official up to
            ``length`` samples, windows beyond).
        window: Window length in seconds (``windows`` policy).
        hop: Hop between window starts in seconds (``windows`` policy).
        sample_rate: Rate of the waveforms in Hz.
        length: Model input length in samples for ``official`` (and the tiling target for
            too-short input in every policy).
    """

    name: str = "official"
    window: float = 4.0375
    hop: float = 2.0
    sample_rate: int = 16_000
    length: int = OFFICIAL_SAMPLES

    def __post_init__(self) -> None:
        if self.name not in POLICIES:
            raise ConfigError(f"unknown input policy {self.name!r}; choose one of {POLICIES}")
        if self.name in ("windows", "auto") and not (0 < self.hop <= self.window):
            raise ConfigError(
                f"windows policy needs 0 < hop <= window, got hop={self.hop}, window={self.window}"
            )

    def effective(self, n_samples: int) -> str:
        """The policy actually applied to ``n_samples`` of audio (resolves ``auto``)."""
        if self.name != "auto":
            return self.name
        return "official" if n_samples <= self.length else "windows"

    @property
    def window_samples(self) -> int:
        """Window length in samples."""
        return int(round(self.window * self.sample_rate))

    @property
    def hop_samples(self) -> int:
        """Hop in samples."""
        return max(1, int(round(self.hop * self.sample_rate)))


def tile_to(waveform: np.ndarray, length: int) -> np.ndarray:
    """Repeat a short waveform until it is ``length`` long; crop a long one (official pad).

    Shape:
        ``(time,) -> (length,)``
    """
    if len(waveform) == 0:
        raise ConfigError("cannot tile an empty waveform")
    if len(waveform) >= length:
        return waveform[:length]
    repeats = length // len(waveform) + 1
    return np.tile(waveform, repeats)[:length]


def segment(waveform: np.ndarray, policy: InputPolicy) -> tuple[list[np.ndarray], np.ndarray]:
    """Cut ``waveform`` into the inputs ``policy`` asks for.

    Args:
        waveform: Mono samples. Shape: ``(time,)``.
        policy: The input policy.

    Returns:
        ``(inputs, spans)``: a list of 1-D arrays (equal length except for ``full``) and
        the ``(start, end)`` seconds of original audio each one covers. Shape of spans:
        ``(n_inputs, 2)``.
    """
    sr = policy.sample_rate
    total = len(waveform)
    name = policy.effective(total)
    if name == "official":
        return [tile_to(waveform, policy.length)], np.array([[0.0, min(total, policy.length) / sr]])
    if name == "full":
        return [waveform], np.array([[0.0, total / sr]])
    win, hop = policy.window_samples, policy.hop_samples
    if total <= win:
        return [tile_to(waveform, win)], np.array([[0.0, total / sr]])
    starts = list(range(0, total - win + 1, hop))
    if starts[-1] + win < total:  # cover the tail with a window aligned to the end
        starts.append(total - win)
    inputs = [waveform[s : s + win] for s in starts]
    spans = np.array([[s / sr, (s + win) / sr] for s in starts])
    return inputs, spans


def aggregate(window_logits: np.ndarray) -> dict[str, np.ndarray | float]:
    """Combine per-window logits into file-level scores.

    Args:
        window_logits: ``[spoof, bona fide]`` logits per window. Shape: ``(n_windows, 2)``.

    Returns:
        ``logits``: mean logits (shape ``(2,)``); ``score``: their bona fide logit;
        ``score_min``: the bona fide logit of the most-spoof window; ``worst_window``: its
        index.
    """
    mean = window_logits.mean(axis=0)
    worst = int(np.argmin(window_logits[:, 1]))
    return {
        "logits": mean,
        "score": float(mean[1]),
        "score_min": float(window_logits[worst, 1]),
        "worst_window": worst,
    }
