"""Phoneme timings from a VITS duration predictor (voxlab's VITS and Piper voices).

VITS decodes ``w_ceil[i]`` latent frames for input symbol ``i`` (the rounded-up output of
its duration predictor) and every latent frame becomes ``hop_length`` samples, so symbol
``i`` sounds from ``sum(w_ceil[:i]) * hop / sample_rate`` to ``sum(w_ceil[:i + 1]) * hop /
sample_rate`` seconds. The padding symbol between phonemes (``add_blank`` in VITS,
Piper's ``_`` after every phoneme) is no phoneme of its own: its time goes to the symbol
before it (to the first symbol when the sequence starts with one).

The events are ``[start_s, end_s, symbol]`` lists, what
:func:`voxlab.face.talk.visemes_from_phonemes` reads and what the engines record in
``Generated.params["phonemes"]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def phoneme_events(
    symbols: Sequence[str],
    frames: Sequence[float] | np.ndarray,
    *,
    hop_length: int,
    sample_rate: int,
    blank: str | None = "_",
    offset_s: float = 0.0,
) -> list[list]:
    """Timed phonemes from per-symbol frame counts.

    Args:
        symbols: The model's input symbols in order (``"_"`` for blanks/pads).
        frames: Latent frames per symbol (``w_ceil``). Shape: ``(len(symbols),)``.
        hop_length: Samples per latent frame.
        sample_rate: Output rate in Hz.
        blank: The padding symbol whose time joins the previous symbol (None: keep all).
        offset_s: Added to every time (position of this chunk in a longer output).

    Returns:
        ``[[start_s, end_s, symbol], ...]`` in time order, contiguous, times rounded to
        0.1 ms; the last end is ``sum(frames) * hop_length / sample_rate + offset_s``.

    Raises:
        ValueError: ``symbols`` and ``frames`` differ in length, or a count is negative.
    """
    counts = np.asarray(frames, dtype=np.float64).reshape(-1)
    if counts.size != len(symbols):
        raise ValueError(f"{len(symbols)} symbols but {counts.size} durations")
    if (counts < 0).any():
        raise ValueError("durations must be >= 0 frames")
    edges = np.concatenate([[0.0], np.cumsum(counts)]) * hop_length / sample_rate + offset_s
    events: list[list] = []
    for i, sym in enumerate(symbols):
        start, end = float(edges[i]), float(edges[i + 1])
        if blank is not None and sym == blank:
            if events:
                events[-1][1] = end
            continue
        if not events:  # leading blanks belong to the first symbol
            start = float(edges[0])
        events.append([start, end, sym])
    return [[round(s, 4), round(e, 4), sym] for s, e, sym in events]
