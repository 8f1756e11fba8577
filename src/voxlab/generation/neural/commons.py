"""Small pieces shared by the neural generators (HiFi-GAN, VITS, RVC).

* masks and hard alignments: :func:`sequence_mask`, :func:`generate_path`;
* the gated activation of WaveNet-style stacks: :func:`fused_add_tanh_sigmoid_multiply`;
* weight-normalised convolutions that keep the official on-disk names
  (``weight_g`` / ``weight_v``): :class:`WNConv1d`, :class:`WNConvTranspose1d`, with
  :func:`remove_weight_norm` to fold them into plain weights once for inference;
* :class:`LayerNorm` over the channel axis of ``(B, C, T)`` tensors (``gamma`` / ``beta``);
* the deterministic mode (:func:`deterministic`, :func:`randn_like`): every random draw of
  a generator goes through :func:`randn_like` / :func:`rand`, which return zeros inside
  ``with deterministic():``. That is how the reference fixtures were made.

Facts (names, paddings, the weight-norm axis) follow jaywalnut310/vits and jik876/hifi-gan;
the code is voxlab's own.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import ConfigError

#: Leaky-ReLU slope used inside HiFi-GAN/VITS residual blocks and before upsampling.
LRELU_SLOPE = 0.1

#: Environment switch for the deterministic mode (e.g. for ``voxlab tts`` / ``convert``).
DETERMINISTIC_ENV = "VOXLAB_NEURAL_DETERMINISTIC"

_DETERMINISTIC: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "voxlab_neural_deterministic", default=None
)


# --------------------------------------------------------------------------- randomness


@contextlib.contextmanager
def deterministic(enabled: bool = True) -> Iterator[None]:
    """Context in which every random draw of voxlab's neural generators is zero.

    With it, VITS's prior sample is exactly ``m_p`` and its stochastic duration predictor
    starts from a zero latent, whatever the noise scales; RVC's sine source has no noise.
    This is how the official reference fixtures were produced. Outside any such context,
    the environment variable ``VOXLAB_NEURAL_DETERMINISTIC=1`` switches the mode on for the
    whole process (e.g. ``VOXLAB_NEURAL_DETERMINISTIC=1 voxlab tts --engine vits ...``).

    Args:
        enabled: False makes the block random again (e.g. inside an outer deterministic one).
    """
    token = _DETERMINISTIC.set(bool(enabled))
    try:
        yield
    finally:
        _DETERMINISTIC.reset(token)


def is_deterministic() -> bool:
    """Whether random draws are zero here (innermost :func:`deterministic`, else the env)."""
    value = _DETERMINISTIC.get()
    if value is None:
        return os.environ.get(DETERMINISTIC_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return value


def randn_like(x: Tensor) -> Tensor:
    """``torch.randn_like(x)``, or zeros in deterministic mode."""
    return torch.zeros_like(x) if is_deterministic() else torch.randn_like(x)


def randn(*shape: int, like: Tensor) -> Tensor:
    """Standard normal draws of ``shape`` with ``like``'s dtype/device (zeros if deterministic)."""
    if is_deterministic():
        return torch.zeros(shape, dtype=like.dtype, device=like.device)
    return torch.randn(shape, dtype=like.dtype, device=like.device)


def rand(*shape: int, like: Tensor) -> Tensor:
    """Uniform [0, 1) draws of ``shape`` with ``like``'s dtype/device (zeros if deterministic)."""
    if is_deterministic():
        return torch.zeros(shape, dtype=like.dtype, device=like.device)
    return torch.rand(shape, dtype=like.dtype, device=like.device)


# --------------------------------------------------------------------------- masks and paths


def get_padding(kernel_size: int, dilation: int = 1) -> int:
    """The "same" padding of an odd kernel with dilation: ``(k * d - d) // 2``."""
    return (kernel_size * dilation - dilation) // 2


def sequence_mask(lengths: Tensor, max_length: int | None = None) -> Tensor:
    """Boolean mask that is True inside each sequence.

    Args:
        lengths: Valid lengths (int or float). Shape: ``(B,)``.
        max_length: Mask width; ``lengths.max()`` when None.

    Returns:
        ``mask[b, t] = t < lengths[b]``. Shape: ``(B, max_length)``.
    """
    if max_length is None:
        max_length = int(lengths.max())
    steps = torch.arange(max_length, dtype=lengths.dtype, device=lengths.device)
    return steps.unsqueeze(0) < lengths.unsqueeze(1)


def generate_path(durations: Tensor, mask: Tensor) -> Tensor:
    """Monotonic hard alignment from integer durations.

    Output frame ``t`` is assigned to the input token ``i`` whose cumulative duration
    range ``[cum[i-1], cum[i])`` contains ``t``.

    Args:
        durations: Frames per token (whole numbers, float or int). Shape: ``(B, 1, T_x)``.
        mask: Joint mask ``x_mask[:, :, None, :] * y_mask[..., None]``.
            Shape: ``(B, 1, T_y, T_x)``.

    Returns:
        The 0/1 alignment in ``mask``'s dtype. Shape: ``(B, 1, T_y, T_x)``.
    """
    t_y = mask.shape[2]
    ends = torch.cumsum(durations, dim=-1)  # (B, 1, T_x)
    starts = ends - durations
    frames = torch.arange(t_y, dtype=ends.dtype, device=ends.device).view(1, 1, t_y, 1)
    path = (frames >= starts.unsqueeze(2)) & (frames < ends.unsqueeze(2))
    return path.to(mask.dtype) * mask


def fused_add_tanh_sigmoid_multiply(a: Tensor, b: Tensor, n_channels: int) -> Tensor:
    """WaveNet gate ``tanh(x[:, :n]) * sigmoid(x[:, n:])`` of ``x = a + b``.

    Shape:
        ``a``, ``b``: ``(B, 2n, T)`` -> ``(B, n, T)``.
    """
    x = a + b
    return torch.tanh(x[:, :n_channels]) * torch.sigmoid(x[:, n_channels:])


# --------------------------------------------------------------------------- layers


class LayerNorm(nn.Module):
    """Layer normalisation over the channel axis of a ``(B, C, T)`` tensor.

    Parameters are named ``gamma`` and ``beta`` as in the official VITS checkpoints.

    Shape:
        ``(B, C, T)`` -> ``(B, C, T)``.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.channels = channels
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        """Normalise each time step over its channels."""
        y = F.layer_norm(x.transpose(1, -1), (self.channels,), self.gamma, self.beta, self.eps)
        return y.transpose(1, -1)


def _norm_except_dim0(v: Tensor) -> Tensor:
    return torch.linalg.vector_norm(v, dim=tuple(range(1, v.dim())), keepdim=True)


class _WeightNormMixin:
    """Weight norm ``w = g * v / ||v||`` (norm over all axes but 0), stored as g and v.

    The parameters are ``weight_g`` (shape ``(dim0, 1, 1)``) and ``weight_v`` (the
    weight's shape), exactly as ``torch.nn.utils.weight_norm`` names them in the official
    checkpoints. :meth:`fold` replaces them by a plain ``weight`` (what the official
    ``remove_weight_norm`` does).
    """

    def _split_weight(self) -> None:
        weight = self.weight.detach()
        del self.weight
        self.weight_g = nn.Parameter(_norm_except_dim0(weight).clone())
        self.weight_v = nn.Parameter(weight.clone())

    def _current_weight(self) -> Tensor:
        if "weight" in self._parameters:
            return self._parameters["weight"]
        v = self.weight_v
        return v * (self.weight_g / _norm_except_dim0(v))

    @property
    def weight_normed(self) -> bool:
        """Whether the layer still holds ``weight_g`` / ``weight_v`` (not folded)."""
        return "weight_v" in self._parameters

    @torch.no_grad()
    def fold(self) -> None:
        """Compute ``w = g * v / ||v||`` once and keep only ``weight`` (no-op if folded)."""
        if not self.weight_normed:
            return
        weight = self._current_weight().detach().clone()
        del self.weight_g
        del self.weight_v
        self.weight = nn.Parameter(weight)


class WNConv1d(_WeightNormMixin, nn.Conv1d):
    """``nn.Conv1d`` with weight norm, keeping the official ``weight_g`` / ``weight_v`` names.

    Shape:
        ``(B, C_in, T)`` -> ``(B, C_out, T')``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: Tensor) -> Tensor:
        """Convolve with the (re)computed weight."""
        return self._conv_forward(x, self._current_weight(), self.bias)


class WNConvTranspose1d(_WeightNormMixin, nn.ConvTranspose1d):
    """``nn.ConvTranspose1d`` with weight norm over dim 0 (the INPUT channel axis here).

    ``weight_g`` has shape ``(C_in, 1, 1)`` and ``weight_v`` ``(C_in, C_out, k)``, as the
    official HiFi-GAN/VITS checkpoints store them.

    Shape:
        ``(B, C_in, T)`` -> ``(B, C_out, T * stride)`` for the HiFi-GAN paddings.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: Tensor) -> Tensor:
        """Transposed convolution with the (re)computed weight."""
        return F.conv_transpose1d(
            x,
            self._current_weight(),
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


def remove_weight_norm(module: nn.Module) -> nn.Module:
    """Fold every weight-normed layer inside ``module`` into a plain weight (in place).

    This is what the official inference scripts do after loading (HiFi-GAN); for VITS and
    RVC the official code keeps recomputing ``g * v / ||v||`` at every call, which gives
    the same numbers up to float rounding, only slower.

    Returns:
        ``module`` itself.
    """
    for layer in module.modules():
        if isinstance(layer, _WeightNormMixin):
            layer.fold()
    return module


def weight_norm_keys_to_official(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Rename ``torch.nn.utils.parametrizations.weight_norm`` keys to the classic ones.

    Newer re-saves of HiFi-GAN/VITS/RVC models store ``<layer>.parametrizations.weight.
    original0`` / ``original1``; the official checkpoints store ``<layer>.weight_g`` /
    ``weight_v``. Other keys pass unchanged.
    """
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        for suffix, new in (
            (".parametrizations.weight.original0", ".weight_g"),
            (".parametrizations.weight.original1", ".weight_v"),
        ):
            if key.endswith(suffix):
                key = key[: -len(suffix)] + new
                break
        out[key] = value
    return out


# --------------------------------------------------------------------------- configs


def read_json_config(config: str | os.PathLike | Mapping[str, Any], *, what: str) -> dict:
    """An official JSON config as a dict (a path to read, or a mapping to copy).

    Args:
        config: ``config.json`` path or an already-parsed mapping.
        what: What the config is for, named in error messages (e.g. ``"HiFi-GAN"``).

    Raises:
        ConfigError: The file is missing or not a JSON object.
    """
    if isinstance(config, Mapping):
        return dict(config)
    path = Path(config)
    if not path.is_file():
        raise ConfigError(
            f"{what} config not found: {path}. Pass the config.json that was trained with "
            "the checkpoint."
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{what} config {path} is not valid JSON ({exc}); fix or replace it"
        ) from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{what} config {path} must hold a JSON object, got {type(data).__name__}"
        )
    return data


def require_keys(config: Mapping[str, Any], keys: Iterable[str], *, what: str) -> None:
    """Raise :class:`~voxlab.errors.ConfigError` naming every key of ``keys`` missing."""
    missing = [k for k in keys if k not in config]
    if missing:
        raise ConfigError(
            f"{what} config lacks {', '.join(missing)}; use the official config.json that "
            "belongs to the checkpoint"
        )


# --------------------------------------------------------------------------- fast CPU inference
#
# oneDNN's direct convolutions are about twice as fast on channels-last (N, C, 1, T) maps as
# on (N, C, T) tensors for the HiFi-GAN shapes, and can apply a leaky ReLU or a residual
# addition while the output is still in cache. These helpers run a 1-D conv layer of a
# module on such maps. Results differ from F.conv1d by float rounding only.

_CL = torch.channels_last
_FUSED = [torch.backends.mkldnn.is_available()]


def to_channels_last(x: Tensor) -> Tensor:
    """``(B, C, T)`` -> channels-last ``(B, C, 1, T)``."""
    return x.unsqueeze(2).contiguous(memory_format=_CL)


def from_channels_last(x: Tensor) -> Tensor:
    """Channels-last ``(B, C, 1, T)`` -> contiguous ``(B, C, T)``."""
    return x.squeeze(2).contiguous()


def _layer_weight(layer: nn.Module) -> tuple[Tensor, Tensor | None]:
    """The layer's 4-D channels-last weight (cached until a parameter changes) and bias."""
    params = [p for p in layer.parameters(recurse=False)]
    key = tuple((p.data_ptr(), p._version) for p in params)
    cache = layer.__dict__.get("_voxlab_cl_weight")
    if cache is None or cache[0] != key:
        weight = layer._current_weight() if isinstance(layer, _WeightNormMixin) else layer.weight
        with torch.no_grad():
            w4 = weight.detach().unsqueeze(2).contiguous(memory_format=_CL)
        cache = (key, w4)
        layer.__dict__["_voxlab_cl_weight"] = cache
    return cache[1], layer.bias


def conv_cl(x: Tensor, layer: nn.Conv1d, *, lrelu: float | None = None) -> Tensor:
    """``layer(x)`` (then ``leaky_relu(., lrelu)``) on a channels-last ``(B, C, 1, T)`` map.

    Shape:
        ``(B, C_in, 1, T)`` -> ``(B, C_out, 1, T')``, channels-last.
    """
    weight, bias = _layer_weight(layer)
    pad, stride, dil = layer.padding[0], layer.stride[0], layer.dilation[0]
    if lrelu is not None and _FUSED[0]:
        try:
            return torch.ops.mkldnn._convolution_pointwise(
                x,
                weight,
                bias,
                [0, pad],
                [1, stride],
                [1, dil],
                layer.groups,
                "leaky_relu",
                [lrelu],
                "",
            )
        except (AttributeError, RuntimeError, NotImplementedError):
            _FUSED[0] = False
    y = F.conv2d(x, weight, bias, (1, stride), (0, pad), (1, dil), layer.groups)
    return y if lrelu is None else F.leaky_relu_(y, lrelu)


def conv_add_cl(x: Tensor, layer: nn.Conv1d, residual: Tensor, *, inplace: bool) -> Tensor:
    """``layer(x) + residual`` on channels-last maps (written into ``residual`` if ``inplace``).

    Shape:
        ``x`` ``(B, C_in, 1, T)``, ``residual`` ``(B, C_out, 1, T)`` -> ``(B, C_out, 1, T)``.
    """
    weight, bias = _layer_weight(layer)
    pad, dil = layer.padding[0], layer.dilation[0]
    if _FUSED[0] and layer.stride[0] == 1 and layer.groups == 1:
        args = ([0, pad], [1, 1], [1, dil], 1, "add", None, None, [], None)
        try:
            if inplace:
                torch.ops.mkldnn._convolution_pointwise_.binary(residual, x, weight, bias, *args)
                return residual
            return torch.ops.mkldnn._convolution_pointwise.binary(x, residual, weight, bias, *args)
        except (AttributeError, RuntimeError, NotImplementedError):
            _FUSED[0] = False
    y = F.conv2d(x, weight, bias, (1, layer.stride[0]), (0, pad), (1, dil), layer.groups)
    return residual.add_(y) if inplace else y.add_(residual)


def conv_transpose_cl(x: Tensor, layer: nn.ConvTranspose1d) -> Tensor:
    """``layer(x)`` for a transposed 1-D convolution on a channels-last map.

    Shape:
        ``(B, C_in, 1, T)`` -> ``(B, C_out, 1, T')``, channels-last.
    """
    weight, bias = _layer_weight(layer)
    return F.conv_transpose2d(
        x,
        weight,
        bias,
        (1, layer.stride[0]),
        (0, layer.padding[0]),
        (0, layer.output_padding[0]),
        layer.groups,
        (1, layer.dilation[0]),
    )
