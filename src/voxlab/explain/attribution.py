"""Attributions of a countermeasure's verdict: integrated gradients and Grad-CAM.

The explained quantity is the *spoof margin* ``m(x) = logit_spoof - logit_bonafide`` (the
negative of the bona fide log-odds for two-class heads): positive attribution = evidence
for "spoof".

* :func:`integrated_gradients` (Sundararajan et al., ICML 2017) on the waveform, for any
  differentiable model, with a baseline of silence; the Riemann-midpoint path integral
  satisfies completeness ``sum(attr) ~= m(x) - m(baseline)`` up to the discretisation
  error, which is reported (:attr:`Attribution.completeness_error`).
* :func:`grad_cam` (Selvaraju et al., ICCV 2017) on a 2-D encoder map. The hooked layer
  per architecture (:func:`cam_layers`):

  - AASIST / AASIST-L: the output of the last residual block ``encoder[-1]``, shaped
    ``(channels, sinc bands // 3, frames)``: rows are groups of three mel-spaced sinc
    bands, so the map projects onto Hz through the filterbank's band edges;
  - RawGAT-ST: the last blocks of both encoders (``spectral_encoder[-1]``,
    ``temporal_encoder[-1]``), same axes; the two maps are averaged;
  - LFCC-LCNN: ``m_transform[27]`` (after the last max-pool), shaped
    ``(channels, frames / 16, LFCC dims / 16)``. Its second axis is cepstral (and deltas),
    not frequency, so only its time profile is meaningful: it is spread evenly over
    frequency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from voxlab.errors import ConfigError


def spoof_margin(logits: Tensor) -> Tensor:
    """``logit_spoof - logit_bonafide`` per item. Shape: ``(batch, 2) -> (batch,)``."""
    return logits[:, 0] - logits[:, 1]


@dataclass
class Attribution:
    """Integrated-gradients attribution of one waveform.

    Attributes:
        values: Attribution per sample. Shape: ``(time,)``.
        margin: Spoof margin of the input, ``m(x)``.
        baseline_margin: Spoof margin of the baseline, ``m(x0)``.
        steps: Path steps used.
        completeness_gap: ``|sum(values) - (m(x) - m(x0))|`` in logit units.
        completeness_error: The gap relative to ``max(|m(x) - m(x0)|, 1e-6)`` (large
            when the input and the baseline score alike: AASIST scores silence as spoof).
    """

    values: np.ndarray
    margin: float
    baseline_margin: float
    steps: int
    completeness_gap: float
    completeness_error: float


def _as_tensor(wave, device) -> Tensor:
    x = torch.as_tensor(np.asarray(wave, dtype=np.float32), device=device)
    if x.ndim != 1 or x.numel() == 0:
        raise ConfigError(f"explanations take one mono waveform (time,), got {tuple(x.shape)}")
    return x


def _device(model: nn.Module) -> torch.device:
    return next(iter(model.parameters()), torch.empty(0)).device


def integrated_gradients(
    model: nn.Module,
    wave: np.ndarray,
    *,
    steps: int = 32,
    baseline: np.ndarray | None = None,
    batch_size: int = 8,
    forward: Callable[[Tensor], Tensor] | None = None,
) -> Attribution:
    """Integrated gradients of the spoof margin along the straight path from the baseline.

    Args:
        model: Differentiable countermeasure, ``(batch, time)`` -> logits ``[spoof, bona fide]``.
        wave: Waveform. Shape: ``(time,)``.
        steps: Riemann-midpoint steps along the path (more = better completeness).
        baseline: Reference input; default silence (zeros). Shape: ``(time,)``.
        batch_size: Path points per forward pass.
        forward: Maps a batch of waveforms ``(n, time)`` to logits; default ``model``
            (pass one that crops/tiles for fixed-length models).

    Returns:
        The :class:`Attribution`.
    """
    if steps < 1:
        raise ConfigError(f"integrated gradients needs steps >= 1, got {steps}")
    model.eval()
    forward = forward or model
    device = _device(model)
    x = _as_tensor(wave, device)
    x0 = torch.zeros_like(x) if baseline is None else _as_tensor(baseline, device)
    if x0.shape != x.shape:
        raise ConfigError(f"baseline shape {tuple(x0.shape)} differs from input {tuple(x.shape)}")
    alphas = (torch.arange(steps, dtype=torch.float32, device=device) + 0.5) / steps
    total = torch.zeros_like(x)
    for start in range(0, steps, batch_size):
        a = alphas[start : start + batch_size, None]
        path = (x0 + a * (x - x0)).detach().requires_grad_(True)
        margin = spoof_margin(forward(path)).sum()
        (grad,) = torch.autograd.grad(margin, path)
        total += grad.sum(dim=0)
    values = ((x - x0) * total / steps).detach()
    with torch.no_grad():
        ends = spoof_margin(forward(torch.stack([x, x0])))
    delta = float(ends[0] - ends[1])
    gap = abs(float(values.sum()) - delta)
    return Attribution(
        values=values.cpu().numpy(),
        margin=float(ends[0]),
        baseline_margin=float(ends[1]),
        steps=steps,
        completeness_gap=gap,
        completeness_error=gap / max(abs(delta), 1e-6),
    )


# --------------------------------------------------------------------------- Grad-CAM


@dataclass
class CamLayer:
    """A hooked 2-D map and how its axes read.

    Attributes:
        module: The layer whose output is hooked.
        freq_axis: Axis (2 or 3 of ``(batch, channels, a, b)``) that runs along frequency,
            or ``None`` when the map has no frequency axis (LCNN's cepstral axis).
        time_axis: Axis running along time.
    """

    module: nn.Module
    freq_axis: int | None
    time_axis: int


def cam_layers(model: nn.Module, *, block: int = -1) -> list[CamLayer]:
    """The layers Grad-CAM hooks for ``model`` (see the module docstring).

    Args:
        model: The countermeasure.
        block: Residual block of the AASIST / RawGAT-ST encoders (default the last;
            earlier blocks have finer time and frequency axes).

    Raises:
        ConfigError: The architecture has no 2-D encoder map voxlab knows of.
    """
    if hasattr(model, "spectral_encoder") and hasattr(model, "temporal_encoder"):
        return [
            CamLayer(model.spectral_encoder[block], freq_axis=2, time_axis=3),
            CamLayer(model.temporal_encoder[block], freq_axis=2, time_axis=3),
        ]
    if hasattr(model, "encoder") and hasattr(model, "graph_embed"):
        return [CamLayer(model.encoder[block], freq_axis=2, time_axis=3)]
    if hasattr(model, "m_transform") and hasattr(model, "score_features"):
        return [CamLayer(model.m_transform[27], freq_axis=None, time_axis=2)]
    if hasattr(model, "cam_layer"):  # models may declare their own map
        layer = model.cam_layer
        return [CamLayer(layer.module, freq_axis=layer.freq_axis, time_axis=layer.time_axis)]
    raise ConfigError(
        f"Grad-CAM needs a 2-D encoder map; {type(model).__name__} has none voxlab knows "
        "(AASIST, RawGAT-ST, LCNN). Use --method ig, which works for any model."
    )


def sinc_band_edges(model: nn.Module) -> np.ndarray | None:
    """Hz edges of the groups of three sinc bands the encoder rows stand for, or ``None``.

    Shape:
        ``(n_rows + 1,)``.
    """
    frontend = getattr(model, "frontend", None)
    if frontend is None or not hasattr(frontend, "n_filters"):
        return None
    from voxlab.models.layers.sinc import mel_band_edges

    edges = mel_band_edges(frontend.n_filters, sample_rate=frontend.sample_rate)
    rows = frontend.n_filters // 3
    return np.asarray(edges[: 3 * rows + 1 : 3], dtype=np.float64)


def grad_cam(
    model: nn.Module,
    wave: np.ndarray,
    *,
    forward: Callable[[Tensor], Tensor] | None = None,
    block: int = -1,
) -> tuple[np.ndarray, float, list[CamLayer]]:
    """Grad-CAM maps of the spoof margin on the model's 2-D encoder maps.

    ``cam = relu(sum_c alpha_c * A_c)`` with ``alpha_c`` the mean gradient of the margin
    over channel ``c``'s map; each hooked map is transposed to ``(freq rows, frames)``
    (one row when it has no frequency axis), scaled to a maximum of 1 and, for several
    layers of equal shape, averaged.

    Args:
        model: AASIST, RawGAT-ST, LCNN or a model with a ``cam_layer``.
        wave: Waveform. Shape: ``(time,)``.
        forward: Maps ``(1, time)`` to logits; default ``model``.
        block: Encoder block to hook (:func:`cam_layers`).

    Returns:
        ``(cam, margin, layers)``. Shape of ``cam``: ``(rows, frames)`` (row 0 = lowest
        frequency).
    """
    model.eval()
    layers = cam_layers(model, block=block)
    forward = forward or model
    store: list[Tensor] = []
    hooks = [
        layer.module.register_forward_hook(lambda _m, _i, out: store.append(out))
        for layer in layers
    ]
    try:
        x = _as_tensor(wave, _device(model))[None].requires_grad_(True)  # frozen weights too
        with torch.enable_grad():
            margin = spoof_margin(forward(x)).sum()
            grads = torch.autograd.grad(margin, store)
    finally:
        for hook in hooks:
            hook.remove()
    maps = []
    for layer, act, grad in zip(layers, store, grads):
        weights = grad.mean(dim=(2, 3), keepdim=True)
        cam = torch.relu((weights * act).sum(dim=1))[0].detach()  # (a, b)
        if layer.freq_axis is None:
            cam = cam.mean(dim=1 if layer.time_axis == 2 else 0)[None]
        elif layer.freq_axis == 3:
            cam = cam.T
        cam = cam.cpu().numpy().astype(np.float64)
        peak = cam.max()
        maps.append(cam / peak if peak > 0 else cam)
    shapes = {m.shape for m in maps}
    cam = np.mean(maps, axis=0) if len(shapes) == 1 else maps[0]
    return cam, float(margin.detach()), layers


def project_cam(
    cam: np.ndarray,
    *,
    freqs: np.ndarray,
    n_frames: int,
    band_edges: np.ndarray | None,
) -> np.ndarray:
    """Resample a ``(rows, frames)`` CAM onto a spectrogram's ``(freqs, n_frames)`` grid.

    Time: the encoder's frames are taken to span the input uniformly (nearest frame).
    Frequency: row ``r`` covers ``band_edges[r]..band_edges[r + 1]`` Hz (sinc models);
    without edges (one row, or unknown layout) rows are spread evenly over the axis.

    Shape:
        ``(rows, frames) -> (len(freqs), n_frames)``.
    """
    rows, frames = cam.shape
    t_index = np.minimum((np.arange(n_frames) + 0.5) * frames / n_frames, frames - 1)
    by_time = cam[:, t_index.astype(int)]
    if rows == 1:
        return np.repeat(by_time, len(freqs), axis=0)
    if band_edges is not None and len(band_edges) == rows + 1:
        r_index = np.clip(np.searchsorted(band_edges, freqs, side="right") - 1, 0, rows - 1)
    else:
        r_index = np.minimum((freqs / max(freqs[-1], 1e-9) * rows).astype(int), rows - 1)
    return by_time[r_index]
