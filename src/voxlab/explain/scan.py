"""Attribution by scanning: score short windows, and by occlusion: hide a segment, rescore.

Both ask the model itself, with real audio only, so neither depends on a baseline input
the model never saw in training (integrated gradients with a silent baseline measure the
distance from silence; see :mod:`voxlab.explain.baselines`). Both score with the
inference-optimised copy of the model (:func:`voxlab.models.fast.optimize_for_inference`:
the same margins within float32 rounding, several times less CPU).

* :func:`window_scan`: the countermeasure scores short windows (default 1 s, 0.125 s hop)
  sliding over the file; each 10 ms frame gets the mean spoof margin ``e(t)`` of the
  windows that cover it, and its *evidence* is how far that lies in the upper half of the
  range between the file's typical frame and its most spoof frame:
  ``relu(e(t) - (median(e) + (max(e) - median(e)) / 2))``. The map answers "which
  part is clearly more spoof than the rest of this file", the question of partially
  spoofed audio (a synthetic segment inside a human recording), without assuming how
  long that part is; on an entirely synthetic or entirely human file it still points at
  the least human-like part, and the window scores themselves (kept in the result) say
  whether anything is spoof at all. The threshold is relative to the file's own peak, so
  the map is never empty when some part stands out (a threshold from the spread, such as
  median + 1.4826 MAD, lies above the peak itself when a synthetic segment fills a
  quarter of the file and the margins rise and fall smoothly around it: the scan then
  showed nothing on such files).
* :func:`occlusion`: each segment (default 0.5 s, 0.25 s hop) is replaced by the audio just
  before it (or after it, at the start of the file) and the whole file rescored; the
  evidence of a frame is the mean drop of the spoof margin over the segments covering it,
  kept where positive.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from voxlab.errors import ConfigError
from voxlab.explain.attribution import spoof_margin
from voxlab.models.fast import optimize_for_inference

HOP_S = 0.01  # the explanation grid: 10 ms frames


@dataclass
class ScanResult:
    """Frame evidence of :func:`window_scan` or :func:`occlusion`.

    Attributes:
        evidence: Non-negative spoof evidence per 10 ms frame. Shape: ``(n_frames,)``.
        frame_margin: Mean spoof margin (scan) or margin drop (occlusion) per frame.
            Shape: ``(n_frames,)``.
        spans: ``(start, end)`` seconds of each scored window / hidden segment.
            Shape: ``(n_windows, 2)``.
        margins: Spoof margin of each window (scan) or of the file with that segment
            hidden (occlusion). Shape: ``(n_windows,)``.
        reference: What the evidence is measured from (scan: ``median + (max - median)
            / 2`` of the frame margins; occlusion: the file's own margin).
    """

    evidence: np.ndarray
    frame_margin: np.ndarray
    spans: np.ndarray
    margins: np.ndarray
    reference: float


def _starts(n: int, win: int, hop: int) -> list[int]:
    if n <= win:
        return [0]
    starts = list(range(0, n - win + 1, hop))
    if starts[-1] + win < n:
        starts.append(n - win)
    return starts


def _margins(model: nn.Module, inputs: list[np.ndarray], batch_size: int) -> np.ndarray:
    """Spoof margins of equal-length inputs, in batches, without gradients."""
    device = next(iter(model.parameters()), torch.empty(0)).device
    out = []
    with torch.no_grad():
        for i in range(0, len(inputs), batch_size):
            x = torch.as_tensor(np.stack(inputs[i : i + batch_size]), device=device)
            out.append(spoof_margin(model(x)).cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def _spread(spans: np.ndarray, values: np.ndarray, n_frames: int) -> np.ndarray:
    """Mean of ``values`` over the spans covering each frame centre (nearest if none)."""
    centres = np.arange(n_frames) * HOP_S
    total = np.zeros(n_frames)
    count = np.zeros(n_frames)
    for (s, e), v in zip(spans, values):
        inside = (centres >= s) & (centres < e)
        total[inside] += v
        count[inside] += 1
    if not count.any():
        return np.full(n_frames, float(np.mean(values)))
    missing = count == 0
    if missing.any():  # the last frame centre may fall after the last span's end
        idx = np.flatnonzero(~missing)
        nearest = idx[np.abs(idx[None, :] - np.flatnonzero(missing)[:, None]).argmin(axis=1)]
        total[missing], count[missing] = total[nearest], count[nearest]
    return total / count


def _fixed_length(model: nn.Module, piece: np.ndarray) -> np.ndarray:
    """Fixed-input models (RawGAT-ST) get each window tiled to their length."""
    fixed = getattr(model, "fixed_input_samples", None)
    return np.resize(piece, fixed) if fixed else piece


def _file_margins(model: nn.Module, waves: list[np.ndarray], batch_size: int) -> np.ndarray:
    """Spoof margin of each whole file; fixed-input models average half-overlapping inputs."""
    fixed = getattr(model, "fixed_input_samples", None)
    if not fixed or len(waves[0]) <= fixed:
        return _margins(model, [_fixed_length(model, w) for w in waves], batch_size)
    starts = _starts(len(waves[0]), fixed, fixed // 2)
    pieces = [w[s : s + fixed] for w in waves for s in starts]
    return _margins(model, pieces, batch_size).reshape(len(waves), len(starts)).mean(axis=1)


def window_scan(
    model: nn.Module,
    wave: np.ndarray,
    *,
    sample_rate: int = 16_000,
    window: float = 1.0,
    hop: float = 0.125,
    n_frames: int | None = None,
    batch_size: int = 8,
) -> ScanResult:
    """Spoof evidence per frame from the margins of short sliding windows.

    Args:
        model: Countermeasure ``(batch, time)`` -> logits ``[spoof, bona fide]``.
        wave: Waveform. Shape: ``(time,)``.
        sample_rate: Rate of ``wave``.
        window: Window length in seconds (shorter = sharper but noisier scores).
        hop: Hop between windows in seconds.
        n_frames: Frames of the 10 ms grid (default: ``1 + len // hop``).
        batch_size: Windows per forward pass.

    Returns:
        The :class:`ScanResult`.
    """
    if not 0 < hop <= window:
        raise ConfigError(f"window scan needs 0 < hop <= window, got {hop} and {window}")
    wave = np.asarray(wave, dtype=np.float32)
    win, step = int(round(window * sample_rate)), max(1, int(round(hop * sample_rate)))
    starts = _starts(len(wave), win, step)
    pieces = [_fixed_length(model, wave[s : s + win]) for s in starts]
    margins = _margins(optimize_for_inference(model), pieces, batch_size)
    spans = np.array([[s / sample_rate, min(s + win, len(wave)) / sample_rate] for s in starts])
    n_frames = n_frames or 1 + len(wave) // int(HOP_S * sample_rate)
    frame = _spread(spans, margins, n_frames)
    median = float(np.median(frame))
    reference = median + 0.5 * (float(frame.max()) - median)
    return ScanResult(np.clip(frame - reference, 0, None), frame, spans, margins, reference)


def occlusion(
    model: nn.Module,
    wave: np.ndarray,
    *,
    sample_rate: int = 16_000,
    segment: float = 0.5,
    hop: float = 0.25,
    n_frames: int | None = None,
    batch_size: int = 4,
) -> ScanResult:
    """Spoof evidence per frame from hiding each segment behind its neighbouring audio.

    Args:
        model: Countermeasure ``(batch, time)`` -> logits ``[spoof, bona fide]``
            (fixed-length models score half-overlapping inputs of their length, averaged).
        wave: Waveform. Shape: ``(time,)``.
        sample_rate: Rate of ``wave``.
        segment: Hidden segment length in seconds.
        hop: Hop between segments in seconds.
        n_frames: Frames of the 10 ms grid (default: ``1 + len // hop``).
        batch_size: Occluded copies per forward pass.

    Returns:
        The :class:`ScanResult` (``margins``: the file's margin with each segment hidden;
        ``reference``: its margin as it is).
    """
    if not 0 < hop <= segment:
        raise ConfigError(f"occlusion needs 0 < hop <= segment, got {hop} and {segment}")
    wave = np.asarray(wave, dtype=np.float32)
    seg, step = int(round(segment * sample_rate)), max(1, int(round(hop * sample_rate)))
    if len(wave) < 2 * seg:
        raise ConfigError(
            f"occlusion needs at least two segments of {segment} s; the file lasts "
            f"{len(wave) / sample_rate:.2f} s (use a shorter --occlusion segment)"
        )
    starts = _starts(len(wave), seg, step)
    copies = []
    for s in starts:
        hidden = wave.copy()
        src = s - seg if s >= seg else s + seg  # the audio just before (or after) it
        hidden[s : s + seg] = wave[src : src + seg]
        copies.append(hidden)
    scorer = optimize_for_inference(model)
    margins = _file_margins(scorer, copies, batch_size)
    reference = float(_file_margins(scorer, [wave], 1)[0])
    spans = np.array([[s / sample_rate, (s + seg) / sample_rate] for s in starts])
    n_frames = n_frames or 1 + len(wave) // int(HOP_S * sample_rate)
    frame = _spread(spans, reference - margins, n_frames)
    return ScanResult(np.clip(frame, 0, None), frame, spans, margins, reference)
