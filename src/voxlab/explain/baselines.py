"""Reference inputs for integrated gradients, and expected gradients over human references.

Integrated gradients explain ``m(x) - m(x0)``: the attribution says how the input differs
from the baseline ``x0`` *as the model sees it*. Silence is the usual choice, but a
countermeasure may score silence far from any speech (the published AASIST gives an
all-zero input a strongly bona fide margin, about -7 logits), so the whole speech signal
earns attribution, not the part that makes it spoof. The alternatives here keep more of
the input in the baseline:

* ``lowpass``: the input low-passed (default 1 kHz): keeps timing, energy and pitch, drops
  the upper-band detail where vocoder artefacts live;
* ``noise``: white noise with the input's short-time (25 ms) level, seeded;
* :func:`expected_gradients` (Erion et al., 2021): the average of integrated-gradient
  integrands over baselines drawn from reference recordings (e.g. human speech you trust)
  and random path positions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import Tensor, nn

from voxlab.errors import ConfigError
from voxlab.explain.attribution import Attribution, _as_tensor, _device, spoof_margin

BASELINES = ("zeros", "lowpass", "noise")


def ig_baseline(
    kind: str,
    wave: np.ndarray,
    sample_rate: int = 16_000,
    *,
    cutoff: float = 1000.0,
    seed: int = 0,
) -> np.ndarray:
    """The integrated-gradients baseline ``kind`` for ``wave``.

    Args:
        kind: ``zeros``, ``lowpass`` or ``noise`` (see the module docstring).
        wave: Waveform. Shape: ``(time,)``.
        sample_rate: Rate of ``wave``.
        cutoff: Low-pass cutoff in Hz (``lowpass``).
        seed: Noise seed (``noise``).

    Returns:
        The baseline. Shape: ``(time,)``.

    Raises:
        ConfigError: Unknown kind.
    """
    wave = np.asarray(wave, dtype=np.float32)
    if kind == "zeros":
        return np.zeros_like(wave)
    if kind == "lowpass":
        from voxlab.audio.effects import lowpass

        return lowpass(wave, sample_rate, cutoff=cutoff, order=8)
    if kind == "noise":
        frame = max(1, int(0.025 * sample_rate))
        n_frames = -(-len(wave) // frame)
        padded = np.zeros(n_frames * frame, dtype=np.float64)
        padded[: len(wave)] = wave
        rms = np.sqrt(np.mean(padded.reshape(n_frames, frame) ** 2, axis=1))
        envelope = np.interp(np.arange(len(wave)), (np.arange(n_frames) + 0.5) * frame, rms)
        noise = np.random.default_rng(seed).standard_normal(len(wave))
        return (noise * envelope).astype(np.float32)
    raise ConfigError(f"unknown integrated-gradients baseline {kind!r}; choose from {BASELINES}")


def fit_length(reference: np.ndarray, n: int) -> np.ndarray:
    """Tile or crop ``reference`` to ``n`` samples. Shape: ``(time,) -> (n,)``."""
    reference = np.asarray(reference, dtype=np.float32)
    if reference.ndim != 1 or reference.size == 0:
        raise ConfigError(f"a reference must be a non-empty mono waveform, got {reference.shape}")
    return np.resize(reference, n)


def expected_gradients(
    model: nn.Module,
    wave: np.ndarray,
    references: Sequence[np.ndarray],
    *,
    samples: int = 16,
    batch_size: int = 8,
    seed: int = 0,
    forward: Callable[[Tensor], Tensor] | None = None,
) -> Attribution:
    """Expected gradients of the spoof margin over reference baselines.

    ``attr = E_{r, a}[(x - r) * grad m(r + a (x - r))]`` with ``r`` drawn uniformly from
    ``references`` (each tiled/cropped to the input's length) and ``a ~ U(0, 1)``; its sum
    estimates ``m(x) - E_r[m(r)]`` (the reported completeness uses that mean).

    Args:
        model: Differentiable countermeasure.
        wave: Waveform. Shape: ``(time,)``.
        references: Reference waveforms at the same rate (e.g. trusted human speech).
        samples: Monte-Carlo samples (reference, position) pairs.
        batch_size: Samples per forward pass.
        seed: Draws of references and positions.
        forward: Maps ``(n, time)`` to logits; default ``model``.

    Returns:
        The :class:`~voxlab.explain.attribution.Attribution` (``baseline_margin``: the
        mean margin of the references as drawn; ``steps``: ``samples``).
    """
    if not references:
        raise ConfigError("expected gradients need at least one reference waveform")
    if samples < 1:
        raise ConfigError(f"expected gradients need samples >= 1, got {samples}")
    model.eval()
    forward = forward or model
    device = _device(model)
    x = _as_tensor(wave, device)
    refs = torch.stack([_as_tensor(fit_length(r, x.numel()), device) for r in references])
    rng = np.random.default_rng(seed)
    pick = torch.as_tensor(rng.integers(0, len(refs), samples), device=device)
    alphas = torch.as_tensor(rng.random(samples), dtype=torch.float32, device=device)
    total = torch.zeros_like(x)
    for start in range(0, samples, batch_size):
        r = refs[pick[start : start + batch_size]]
        a = alphas[start : start + batch_size, None]
        path = (r + a * (x - r)).detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(spoof_margin(forward(path)).sum(), path)
        total += ((x - r) * grad).sum(dim=0)
    values = (total / samples).detach()
    with torch.no_grad():
        ref_margins = torch.cat([spoof_margin(forward(refs[i : i + 1])) for i in range(len(refs))])
        margin = float(spoof_margin(forward(x[None]))[0])
    base = float(ref_margins[pick].mean())  # the references as drawn
    gap = abs(float(values.sum()) - (margin - base))
    return Attribution(
        values=values.cpu().numpy(),
        margin=margin,
        baseline_margin=base,
        steps=samples,
        completeness_gap=gap,
        completeness_error=gap / max(abs(margin - base), 1e-6),
    )
