"""Inference-optimised, numerically equivalent versions of the sinc/graph countermeasures.

Almost all of AASIST's and RawGAT-ST's CPU time goes to the 2-D residual encoder at full
time resolution (the first block sees 23 x 21,490 positions per 4-s utterance) and to
memory-bound element-wise passes over those maps. :func:`optimize_for_inference` returns a
module that computes the same function faster:

* every batch norm that follows a convolution is folded into that convolution's weights;
* the encoder runs in channels-last memory layout (oneDNN's fastest direct convolution),
  with the residual addition fused into the second convolution when oneDNN allows it;
* the sinc front end is one dense convolution over the waveform's three polyphase
  components (:class:`FastSincFront`), which keeps it on oneDNN's fast kernel;
* the sinc front end and every residual block work on time tiles (whole pooling windows,
  two-sample halos) of at most :data:`ENCODER_TILE_BYTES`, so no full-resolution map is
  ever allocated: at batch 16 the plain model allocates several GB per call, and the page
  faults of those fresh allocations alone cost about as much as the arithmetic of the
  first block. The tiles stay below glibc's largest mmap threshold (32 MB), so their
  memory is reused instead of faulted in again; tiles much smaller than that cost more
  CPU on a busy 2-core machine (more, smaller operations and thread hand-offs):
  one AASIST utterance measured at load ~7 took 15-25 % more CPU with 4 MB tiles than
  with 24 MB ones, at 1 and at 2 threads;
* ``|x|`` and the max-pools are reductions over reshaped views instead of the generic
  pooling kernels, and activations work in place.

The graph attention part (a few thousand nodes in total) is reused unchanged. Results
differ from the plain model only by float32 rounding (≈1e-6 on the logits; the tests and
``benchmarks/models.py`` check 1e-5 against the official references). The module is
eval-only: it has no dropout, no batch-norm updates and no gradients.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.models.detectors.aasist import AASIST
from voxlab.models.detectors.rawgat_st import RawGATST
from voxlab.models.layers import ResidualBlock2d, SincFilterbank

_CL = torch.channels_last


def _bn_scale_shift(bn: nn.modules.batchnorm._BatchNorm) -> tuple[Tensor, Tensor]:
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - bn.running_mean * scale


class FoldedResidualBlock(nn.Module):
    """:class:`~voxlab.models.layers.ResidualBlock2d` with its batch norm folded into conv1.

    Shape:
        ``(batch, in_ch, freq, time) -> (batch, out_ch, freq, time // 3)``, channels-last.
    """

    def __init__(self, block: ResidualBlock2d) -> None:
        super().__init__()
        scale, shift = _bn_scale_shift(block.norm)
        w1 = block.conv1.weight * scale.view(-1, 1, 1, 1)
        b1 = block.conv1.bias * scale + shift
        self.register_buffer("w1", w1.detach().contiguous(memory_format=_CL))
        self.register_buffer("b1", b1.detach().clone())
        self.register_buffer("w2", block.conv2.weight.detach().contiguous(memory_format=_CL))
        self.register_buffer("b2", block.conv2.bias.detach().clone())
        self.project = isinstance(block.shortcut, nn.Conv2d)
        if self.project:
            sc = block.shortcut
            self.register_buffer("ws", sc.weight.detach().contiguous(memory_format=_CL))
            self.register_buffer("bs", sc.bias.detach().clone())

    def forward(self, x: Tensor, *, tile_bytes: int = 0) -> Tensor:
        """Shape: ``(batch, in_ch, freq, time) -> (batch, out_ch, freq, time // 3)``.

        With ``tile_bytes > 0`` the time axis is processed in tiles whose hidden map is at
        most about that many bytes (whole pooling windows per tile, two-sample halos), so
        no full-resolution intermediate is ever allocated. Each output frame is computed
        from exactly the same inputs either way.
        """
        batch, _, height, length = x.shape
        frames = length // 3
        per_frame = 3 * batch * self.w1.shape[0] * (height + 1) * 4
        tile = max(1, tile_bytes // per_frame) if tile_bytes > 0 else frames
        if tile >= frames:
            return self._run(x, 0, length)
        out = torch.empty(
            (batch, self.w2.shape[0], height, frames),
            dtype=x.dtype,
            device=x.device,
            memory_format=_CL,
        )
        for f0 in range(0, frames, tile):
            f1 = min(frames, f0 + tile)
            self._run(x, 3 * f0, 3 * f1, dest=out[..., f0:f1])
        return out

    def _run(self, x: Tensor, start: int, end: int, *, dest: Tensor | None = None) -> Tensor:
        # Output positions [start, end) of the block before pooling; hidden positions
        # [start - 1, end + 1); input positions [start - 2, end + 2), zero outside [0, T).
        length = x.shape[-1]
        if start == 0 and end == length:
            hidden = F.selu_(F.conv2d(x, self.w1, self.b1, padding=(1, 1)))
            if self.project:
                residual = F.conv2d(x, self.ws, self.bs, padding=(0, 1))
            elif x.shape[1] == self.w2.shape[0]:
                residual = x
            else:  # one input channel broadcast over all outputs (RawGAT-ST's first block)
                out = F.conv2d(hidden, self.w2, self.b2, padding=(0, 1))
                return _max_pool_time3(out.add_(x), out=dest)
            return _max_pool_time3(_conv_add_(residual, hidden, self.w2, self.b2, 1), out=dest)
        lo, hi = start - 2, end + 2
        xs = x[..., max(lo, 0) : min(hi, length)]
        if lo < 0 or hi > length:
            xs = F.pad(xs, (max(0, -lo), max(0, hi - length)))
        xs = _as_channels_last(xs)
        hidden = F.selu_(F.conv2d(xs, self.w1, self.b1, padding=(1, 0)))
        if start == 0:
            hidden[..., 0] = 0.0  # position -1 is conv2's zero padding
        if end + 1 > length:
            hidden[..., length - start + 1 :] = 0.0  # positions >= T likewise
        core = xs[..., 1:-1]  # input positions [start - 1, end + 1)
        if self.project:
            residual = F.conv2d(core, self.ws, self.bs)
        elif xs.shape[1] == self.w2.shape[0]:
            residual = xs[..., 2:-2].contiguous(memory_format=_CL)
        else:
            out = F.conv2d(hidden, self.w2, self.b2)
            return _max_pool_time3(out.add_(xs[..., 2:-2]), out=dest)
        return _max_pool_time3(_conv_add_(residual, hidden, self.w2, self.b2, 0), out=dest)


def _conv_add_(residual: Tensor, x: Tensor, weight: Tensor, bias: Tensor, pad: int) -> Tensor:
    """``residual += conv2d(x, weight, bias, padding=(0, pad))``, fused when oneDNN allows.

    The fused oneDNN kernel adds the residual while the convolution output is still in
    cache (bit-identical to the two-step version); without it, convolve then add in place.
    """
    if _FUSED_ADD[0] and residual.is_contiguous(memory_format=_CL):
        try:
            torch.ops.mkldnn._convolution_pointwise_.binary(
                residual, x, weight, bias, [0, pad], [1, 1], [1, 1], 1, "add", None, None, [], None
            )
            return residual
        except (AttributeError, RuntimeError, NotImplementedError):
            _FUSED_ADD[0] = False
    return residual.add_(F.conv2d(x, weight, bias, padding=(0, pad)))


_FUSED_ADD = [torch.backends.mkldnn.is_available()]


def _max_pool_time3(x: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``max_pool2d(x, (1, 3))`` of a channels-last map as a max over a strided view.

    With ``out`` (a channels-last map or a time slice of one) the result is written there
    directly, without an intermediate tensor.

    Shape:
        ``(batch, ch, freq, time) -> (batch, ch, freq, time // 3)``, channels-last.
    """
    frames = x.shape[-1] // 3
    # channels-last (B, C, H, T) is (B, H, T, C) in memory; split T into (frames, 3)
    nhwc = x.permute(0, 2, 3, 1)[:, :, : frames * 3].unflatten(2, (frames, 3))
    if out is None:
        return nhwc.amax(dim=3).permute(0, 3, 1, 2)
    torch.amax(nhwc, dim=3, out=out.permute(0, 2, 3, 1))
    return out


def _as_channels_last(x: Tensor) -> Tensor:
    """``x`` in channels-last layout; single-channel maps get explicit channels-last strides.

    A contiguous ``(B, 1, H, W)`` tensor is both NCHW and NHWC and PyTorch treats it as
    NCHW, so convolutions on it would produce NCHW outputs; the restrided view makes them
    produce channels-last outputs without copying anything.
    """
    if x.shape[1] == 1:
        x = x.contiguous()
        b, _, h, w = x.shape
        return x.as_strided((b, 1, h, w), (h * w, 1, w, 1))
    return x.contiguous(memory_format=_CL)


def polyphase_sinc_weight(filters: Tensor) -> Tensor:
    """The sinc filterbank rewritten as a stride-free convolution over 3 polyphase channels.

    Output channel ``9 g + 3 i + r`` is filter ``3 g + i`` at time offset ``r``, so one
    output frame ``q`` holds the filter outputs at times ``3q, 3q+1, 3q+2`` of the 3x3
    max-pool window of filter group ``g`` in 9 adjacent channels. Input channel ``c`` is the
    waveform's phase ``x[3m + c]``; tap ``k`` reads ``m = q + k``. Filters beyond the last
    whole group of three are dropped (the max-pool drops them too).

    Shape:
        ``(n_filters, taps) -> (9 * (n_filters // 3), 3, 1, ceil((taps + 2) / 3))``.
    """
    n_filters, taps = filters.shape
    groups = n_filters // 3
    k_taps = -(-(taps + 2) // 3)
    # shifted[f, r, j'] = filters[f, j' - r]: the filter delayed by r samples
    shifted = torch.zeros(groups * 3, 3, 3 * k_taps, dtype=filters.dtype)
    for r in range(3):
        shifted[:, r, r : r + taps] = filters[: groups * 3]
    # sample j' = 3k + c -> (c, k)
    weight = shifted.view(groups * 3 * 3, k_taps, 3).permute(0, 2, 1).unsqueeze(2)
    return weight.contiguous(memory_format=_CL)


class FastSincFront(nn.Module):
    """Sinc filterbank, ``|x|``, 3x3 max-pool, the scalar batch norm and SELU in few passes.

    The filterbank runs as one dense convolution over the waveform's three polyphase
    components (:func:`polyphase_sinc_weight`): 3 input channels and 9 output channels per
    pooling window instead of 1 input channel, which keeps it on oneDNN's fast path and
    turns the max-pool into a maximum over 9 adjacent channels.

    Shape:
        ``(batch, time) -> (batch, 1, n_filters // 3, (time - taps + 1) // 3)``.
    """

    def __init__(self, frontend: SincFilterbank, input_norm: nn.BatchNorm2d) -> None:
        super().__init__()
        filters = frontend.filters.detach().squeeze(1)
        self.taps = filters.shape[1]
        self.register_buffer("weight", polyphase_sinc_weight(filters))
        scale, shift = _bn_scale_shift(input_norm)
        self.register_buffer("norm_scale", scale.detach().clone().view(1, 1, 1, 1))
        self.register_buffer("norm_shift", shift.detach().clone().view(1, 1, 1, 1))

    def forward(self, waveform: Tensor, *, tile_bytes: int = 0) -> Tensor:
        """Shape: ``(batch, time) -> (batch, 1, n_filters // 3, frames)``.

        With ``tile_bytes > 0`` the filter outputs of one utterance are computed in time
        tiles of about that many bytes (whole 3x3 pooling windows per tile), but never
        fewer than :data:`MIN_FRONT_TILE` frames: oneDNN picks a kernel about 1.7x slower
        for this convolution below ~7,500 output frames.
        """
        batch, length = waveform.shape
        channels, _, _, k_taps = self.weight.shape
        groups = channels // 9
        frames = (length - self.taps + 1) // 3
        per_frame = channels * 4
        tile = max(MIN_FRONT_TILE, tile_bytes // per_frame) if tile_bytes > 0 else frames
        n_tiles = max(1, frames // tile)
        tile = -(-frames // n_tiles)  # balanced: every tile at least `tile` frames long
        need = 3 * (frames + k_taps - 1)
        if need > length:
            waveform = F.pad(waveform, (0, need - length))
        # (batch, 3, 1, m): phase c of sample 3m + c, channels-last (phases adjacent)
        phases = waveform[:, :need].reshape(batch, need // 3, 3).permute(0, 2, 1).unsqueeze(2)
        phases = phases.contiguous(memory_format=_CL)
        pooled = torch.empty((batch, frames, groups), dtype=waveform.dtype, device=waveform.device)
        for b in range(batch):  # one utterance per call: big tiles at a bounded size
            item = slice(b, b + 1)
            for f0 in range(0, frames, tile):
                f1 = min(frames, f0 + tile)
                bands = F.conv2d(phases[item, ..., f0 : f1 + k_taps - 1], self.weight).abs_()
                # channels-last (b, 9 * groups, 1, f) is (b, f, groups, 9) in memory
                window = bands.permute(0, 2, 3, 1).unflatten(3, (groups, 9))[:, 0]
                pooled[item, f0:f1] = window.amax(dim=3)
        # BatchNorm2d(1) in eval mode is the affine map x * scale + shift
        maps = torch.addcmul(self.norm_shift, pooled.transpose(1, 2).unsqueeze(1), self.norm_scale)
        return F.selu_(maps.contiguous())


# Fewest output frames per call of the polyphase sinc convolution (see FastSincFront).
MIN_FRONT_TILE = 8192
# Largest hidden map per residual-block call (see the module docstring).
ENCODER_TILE_BYTES = 24 << 20


class FastEncoder(nn.Module):
    """A sequence of :class:`FoldedResidualBlock` run in channels-last layout.

    Shape:
        ``(batch, 1, freq, time) -> (batch, channels, freq, frames)`` (contiguous NCHW).
    """

    def __init__(self, encoder: nn.Sequential, *, tile_bytes: int | None = None) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(FoldedResidualBlock(b) for b in encoder)
        self.tile_bytes = ENCODER_TILE_BYTES if tile_bytes is None else tile_bytes

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, 1, freq, time) -> (batch, channels, freq, frames)``."""
        x = _as_channels_last(x)
        first = True
        for block in self.blocks:
            if first and not block.project and block.w2.shape[0] == x.shape[1]:
                x = x.clone(memory_format=_CL)  # the caller's tensor must not be overwritten
            first = False
            x = block(x, tile_bytes=self.tile_bytes)
        return x.contiguous()


class FastAASIST(nn.Module):
    """Inference-only AASIST computing the same logits as the wrapped model, faster.

    Shape:
        ``(batch, time) -> (batch, 2)`` logits ``[spoof, bona fide]``.
    """

    def __init__(self, model: AASIST) -> None:
        super().__init__()
        model = copy.deepcopy(model).eval()
        self.config = model.config
        self.front = FastSincFront(model.frontend, model.input_norm)
        self.encoder = FastEncoder(model.encoder)
        self.graph = model  # graph layers are reused; its encoder is never called
        self.graph.encoder = nn.Sequential()
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> FastAASIST:  # noqa: D102 - eval-only module
        return super().train(False)

    @torch.inference_mode()
    def forward(self, waveform: Tensor) -> Tensor:
        """Shape: ``(batch, time) -> (batch, 2)``."""
        features = self.encoder(self.front(waveform, tile_bytes=self.encoder.tile_bytes))
        return self.graph.classifier(self.graph.graph_embed(features))


class FastRawGATST(nn.Module):
    """Inference-only RawGAT-ST computing the same logits as the wrapped model, faster.

    Shape:
        ``(batch, num_samples) -> (batch, 2)`` logits ``[spoof, bona fide]``.
    """

    def __init__(self, model: RawGATST) -> None:
        super().__init__()
        model = copy.deepcopy(model).eval()
        self.config = model.config
        self.front = FastSincFront(model.frontend, model.input_norm)
        self.spectral_encoder = FastEncoder(model.spectral_encoder)
        self.temporal_encoder = FastEncoder(model.temporal_encoder)
        self.graph = model
        self.graph.spectral_encoder = nn.Sequential()
        self.graph.temporal_encoder = nn.Sequential()
        self.requires_grad_(False)
        self.eval()

    @property
    def fixed_input_samples(self) -> int:
        """The one input length the network accepts (``voxlab.detection`` reads this)."""
        return self.config.num_samples

    def train(self, mode: bool = True) -> FastRawGATST:  # noqa: D102 - eval-only module
        return super().train(False)

    @torch.inference_mode()
    def forward(self, waveform: Tensor) -> Tensor:
        """Shape: ``(batch, num_samples) -> (batch, 2)``."""
        self.graph.check_input(waveform)
        x = self.front(waveform, tile_bytes=self.spectral_encoder.tile_bytes)
        return self.graph.classify(self.spectral_encoder(x), self.temporal_encoder(x))


def optimize_for_inference(model: nn.Module) -> nn.Module:
    """An eval-only module computing ``model``'s outputs faster on CPU.

    Args:
        model: An :class:`AASIST` or :class:`RawGATST` (any config), with its weights.
            Other modules are returned unchanged, in eval mode.

    Returns:
        A new module (the input is not modified) whose outputs match ``model.eval()`` up to
        float32 rounding. It runs under ``torch.inference_mode`` and cannot be trained.
    """
    if isinstance(model, (FastAASIST, FastRawGATST)):
        return model
    if isinstance(model, AASIST):
        return FastAASIST(model)
    if isinstance(model, RawGATST):
        return FastRawGATST(model)
    return model.eval()
