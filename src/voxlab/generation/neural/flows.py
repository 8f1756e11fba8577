"""Normalising flows of VITS/RVC: coupling layers, flips, affine and spline flows.

* :class:`ResidualCouplingLayer` / :class:`ResidualCouplingBlock` — the prior flow
  (``flow.flows.<0,2,4,6>`` with parameter-free :class:`Flip` at the odd indices);
* :class:`ElementwiseAffine`, :class:`DDSConv`, :class:`ConvFlow` and
  :func:`rational_quadratic_spline` — the pieces of VITS's stochastic duration predictor.

Every flow is called as ``flow(x, x_mask, g=None, reverse=False)``; forward returns
``(y, logdet)``, reverse returns ``x`` only (the official convention). State-dict names
follow jaywalnut310/vits ``modules.py``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.generation.neural.commons import LayerNorm
from voxlab.generation.neural.wavenet import WN

MIN_BIN_WIDTH = 1e-3
MIN_BIN_HEIGHT = 1e-3
MIN_DERIVATIVE = 1e-3


class Flip(nn.Module):
    """Reverses the channel order (its own inverse).

    Shape:
        ``(B, C, T)`` -> ``(B, C, T)``.
    """

    def forward(self, x: Tensor, *args, reverse: bool = False, **kwargs):
        """Flip channels; forward also returns a zero log-determinant per item."""
        x = torch.flip(x, [1])
        if reverse:
            return x
        return x, torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)


class ElementwiseAffine(nn.Module):
    """``y = m + exp(logs) * x`` per channel (parameters ``m``, ``logs`` of shape (C, 1)).

    Shape:
        ``(B, C, T)`` -> ``(B, C, T)``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.m = nn.Parameter(torch.zeros(channels, 1))
        self.logs = nn.Parameter(torch.zeros(channels, 1))

    def forward(self, x: Tensor, x_mask: Tensor, reverse: bool = False, **kwargs):
        """Apply (or invert) the affine map inside the mask."""
        if reverse:
            return (x - self.m) * torch.exp(-self.logs) * x_mask
        y = (self.m + torch.exp(self.logs) * x) * x_mask
        return y, torch.sum(self.logs * x_mask, [1, 2])


class ResidualCouplingLayer(nn.Module):
    """Affine coupling: the second half of the channels is shifted by a WN of the first.

    Args:
        channels: Even number of channels.
        hidden_channels: WN width.
        kernel_size: WN kernel.
        dilation_rate: WN dilation base.
        n_layers: WN layers.
        p_dropout: WN dropout (training only).
        gin_channels: Global conditioning channels (0: none).
        mean_only: Shift only (VITS and RVC); otherwise shift and log-scale.

    Shape:
        ``x`` ``(B, C, T)``, ``x_mask`` ``(B, 1, T)``, ``g`` ``(B, gin, 1)`` -> ``(B, C, T)``.
    """

    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        p_dropout: float = 0.0,
        gin_channels: int = 0,
        mean_only: bool = False,
    ) -> None:
        super().__init__()
        if channels % 2:
            raise ValueError(f"coupling needs an even channel count, got {channels}")
        self.half_channels = channels // 2
        self.mean_only = mean_only
        self.pre = nn.Conv1d(self.half_channels, hidden_channels, 1)
        self.enc = WN(
            hidden_channels,
            kernel_size,
            dilation_rate,
            n_layers,
            gin_channels=gin_channels,
            p_dropout=p_dropout,
        )
        self.post = nn.Conv1d(hidden_channels, self.half_channels * (2 - mean_only), 1)
        nn.init.zeros_(self.post.weight)
        nn.init.zeros_(self.post.bias)

    def forward(self, x: Tensor, x_mask: Tensor, g: Tensor | None = None, reverse: bool = False):
        """Couple (or uncouple) the halves."""
        x0, x1 = x[:, : self.half_channels], x[:, self.half_channels :]
        h = self.pre(x0) * x_mask
        h = self.enc(h, x_mask, g=g)
        stats = self.post(h) * x_mask
        if self.mean_only:
            m, logs = stats, None
        else:
            m, logs = stats[:, : self.half_channels], stats[:, self.half_channels :]
        if reverse:
            x1 = x1 - m if logs is None else (x1 - m) * torch.exp(-logs)
            return torch.cat([x0, x1 * x_mask], 1)
        if logs is None:
            x1 = m + x1 * x_mask
            logdet = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        else:
            x1 = m + x1 * torch.exp(logs) * x_mask
            logdet = torch.sum(logs, [1, 2])
        return torch.cat([x0, x1], 1), logdet


class ResidualCouplingBlock(nn.Module):
    """``n_flows`` mean-only coupling layers, each followed by a :class:`Flip`.

    Args:
        channels: Latent channels (VITS: ``inter_channels``).
        hidden_channels: WN width.
        kernel_size: WN kernel (VITS/RVC: 5).
        dilation_rate: WN dilation base (1).
        n_layers: WN layers per coupling (VITS: 4, RVC: 3).
        n_flows: Coupling layers (4).
        gin_channels: Speaker conditioning channels (0: none).

    Shape:
        ``x`` ``(B, C, T)``, ``x_mask`` ``(B, 1, T)``, ``g`` ``(B, gin, 1)`` -> ``(B, C, T)``.
    """

    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        n_flows: int = 4,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(n_flows):
            self.flows.append(
                ResidualCouplingLayer(
                    channels,
                    hidden_channels,
                    kernel_size,
                    dilation_rate,
                    n_layers,
                    gin_channels=gin_channels,
                    mean_only=True,
                )
            )
            self.flows.append(Flip())

    def forward(
        self, x: Tensor, x_mask: Tensor, g: Tensor | None = None, reverse: bool = False
    ) -> Tensor:
        """Run the flows forward (posterior -> prior) or in reverse (prior -> posterior)."""
        if reverse:
            for flow in reversed(self.flows):
                x = flow(x, x_mask, g=g, reverse=True)
        else:
            for flow in self.flows:
                x, _ = flow(x, x_mask, g=g, reverse=False)
        return x


class DDSConv(nn.Module):
    """Dilated depth-separable convolutions with layer norm and GELU (residual).

    Layer ``i`` uses dilation ``kernel_size ** i``.

    Shape:
        ``x`` ``(B, C, T)``, ``x_mask`` ``(B, 1, T)``, ``g`` ``(B, C, T)`` or None ->
        ``(B, C, T)``.
    """

    def __init__(
        self, channels: int, kernel_size: int, n_layers: int, p_dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.drop = nn.Dropout(p_dropout)
        self.convs_sep = nn.ModuleList()
        self.convs_1x1 = nn.ModuleList()
        self.norms_1 = nn.ModuleList()
        self.norms_2 = nn.ModuleList()
        for i in range(n_layers):
            dilation = kernel_size**i
            padding = (kernel_size * dilation - dilation) // 2
            self.convs_sep.append(
                nn.Conv1d(
                    channels,
                    channels,
                    kernel_size,
                    groups=channels,
                    dilation=dilation,
                    padding=padding,
                )
            )
            self.convs_1x1.append(nn.Conv1d(channels, channels, 1))
            self.norms_1.append(LayerNorm(channels))
            self.norms_2.append(LayerNorm(channels))

    def forward(self, x: Tensor, x_mask: Tensor, g: Tensor | None = None) -> Tensor:
        """Residual DDS stack; ``g`` is added to the input first."""
        if g is not None:
            x = x + g
        for sep, pw, n1, n2 in zip(self.convs_sep, self.convs_1x1, self.norms_1, self.norms_2):
            y = F.gelu(n1(sep(x * x_mask)))
            y = F.gelu(n2(pw(y)))
            x = x + self.drop(y)
        return x * x_mask


def _bin_edges(unnormalized: Tensor, low: float, high: float, min_size: float) -> Tensor:
    """Knot positions from unnormalised bin sizes (softmax, floor ``min_size``)."""
    n_bins = unnormalized.shape[-1]
    sizes = min_size + (1 - min_size * n_bins) * F.softmax(unnormalized, dim=-1)
    edges = F.pad(torch.cumsum(sizes, dim=-1), (1, 0), value=0.0)
    edges = (high - low) * edges + low
    edges = torch.cat(
        [
            torch.full_like(edges[..., :1], low),
            edges[..., 1:-1],
            torch.full_like(edges[..., :1], high),
        ],
        dim=-1,
    )
    return edges


def rational_quadratic_spline(
    inputs: Tensor,
    unnormalized_widths: Tensor,
    unnormalized_heights: Tensor,
    unnormalized_derivatives: Tensor,
    *,
    inverse: bool = False,
    tail_bound: float = 5.0,
) -> tuple[Tensor, Tensor]:
    """Monotonic rational-quadratic spline on ``[-B, B]`` with identity ("linear") tails.

    The spline (Durkan et al., 2019, "Neural Spline Flows") has K bins whose widths and
    heights come from a softmax (minimum 1e-3 each) and K-1 inner knot derivatives from a
    softplus (+1e-3); the boundary derivatives are 1 so that it joins the identity tails.

    Args:
        inputs: Values to transform. Shape: ``(...)``.
        unnormalized_widths: Shape: ``(..., K)``.
        unnormalized_heights: Shape: ``(..., K)``.
        unnormalized_derivatives: Inner knots. Shape: ``(..., K - 1)``.
        inverse: Apply the inverse map.
        tail_bound: ``B``; outside ``[-B, B]`` the map is the identity.

    Returns:
        ``(outputs, logabsdet)`` of the map that was applied, each of ``inputs``' shape.
    """
    inside = (inputs >= -tail_bound) & (inputs <= tail_bound)
    x = inputs.clamp(-tail_bound, tail_bound)
    n_bins = unnormalized_widths.shape[-1]
    if unnormalized_derivatives.shape[-1] != n_bins - 1:
        raise ValueError(
            f"linear tails need K-1 = {n_bins - 1} inner derivatives, got "
            f"{unnormalized_derivatives.shape[-1]}"
        )
    cumwidths = _bin_edges(unnormalized_widths, -tail_bound, tail_bound, MIN_BIN_WIDTH)
    cumheights = _bin_edges(unnormalized_heights, -tail_bound, tail_bound, MIN_BIN_HEIGHT)
    widths = cumwidths[..., 1:] - cumwidths[..., :-1]
    heights = cumheights[..., 1:] - cumheights[..., :-1]
    inner = MIN_DERIVATIVE + F.softplus(unnormalized_derivatives)
    one = torch.ones_like(inner[..., :1])
    derivatives = torch.cat([one, inner, one], dim=-1)  # boundary derivative exactly 1

    knots = cumheights if inverse else cumwidths
    # bin index: number of inner+left knots <= x, minus one (last knot nudged by 1e-6)
    edges = torch.cat([knots[..., :-1], knots[..., -1:] + 1e-6], dim=-1)
    idx = (torch.sum(x.unsqueeze(-1) >= edges, dim=-1) - 1).clamp(0, n_bins - 1).unsqueeze(-1)

    def pick(t: Tensor) -> Tensor:
        return t.gather(-1, idx).squeeze(-1)

    x_k, w_k = pick(cumwidths), pick(widths)
    y_k, h_k = pick(cumheights), pick(heights)
    delta_k = pick(heights / widths)
    d_k, d_k1 = pick(derivatives[..., :-1]), pick(derivatives[..., 1:])
    slope_sum = d_k + d_k1 - 2 * delta_k

    if inverse:
        rel = x - y_k
        a = rel * slope_sum + h_k * (delta_k - d_k)
        b = h_k * d_k - rel * slope_sum
        c = -delta_k * rel
        disc = (b.pow(2) - 4 * a * c).clamp_min(0)
        theta = (2 * c) / (-b - torch.sqrt(disc))
        out = theta * w_k + x_k
    else:
        theta = (x - x_k) / w_k
    t1mt = theta * (1 - theta)
    denominator = delta_k + slope_sum * t1mt
    if not inverse:
        out = y_k + h_k * (delta_k * theta.pow(2) + d_k * t1mt) / denominator
    deriv_num = delta_k.pow(2) * (
        d_k1 * theta.pow(2) + 2 * delta_k * t1mt + d_k * (1 - theta).pow(2)
    )
    logabsdet = torch.log(deriv_num) - 2 * torch.log(denominator)
    if inverse:
        logabsdet = -logabsdet
    outputs = torch.where(inside, out, inputs)
    logabsdet = torch.where(inside, logabsdet, torch.zeros_like(logabsdet))
    return outputs, logabsdet


class ConvFlow(nn.Module):
    """Spline coupling layer of the stochastic duration predictor.

    Half the channels pass through a rational-quadratic spline whose parameters a DDSConv
    computes from the other half (and the conditioning ``g``).

    Args:
        in_channels: Channels (2 in the duration predictor).
        filter_channels: DDSConv width.
        kernel_size: DDSConv kernel.
        n_layers: DDSConv layers.
        num_bins: Spline bins K.
        tail_bound: Spline range ``[-B, B]``.

    Shape:
        ``x`` ``(B, C, T)``, ``x_mask`` ``(B, 1, T)``, ``g`` ``(B, F, T)`` -> ``(B, C, T)``.
    """

    def __init__(
        self,
        in_channels: int,
        filter_channels: int,
        kernel_size: int,
        n_layers: int,
        num_bins: int = 10,
        tail_bound: float = 5.0,
    ) -> None:
        super().__init__()
        self.filter_channels = filter_channels
        self.num_bins = num_bins
        self.tail_bound = tail_bound
        self.half_channels = in_channels // 2
        self.pre = nn.Conv1d(self.half_channels, filter_channels, 1)
        self.convs = DDSConv(filter_channels, kernel_size, n_layers, p_dropout=0.0)
        self.proj = nn.Conv1d(filter_channels, self.half_channels * (num_bins * 3 - 1), 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: Tensor, x_mask: Tensor, g: Tensor | None = None, reverse: bool = False):
        """Transform the second half of the channels (or invert it)."""
        x0, x1 = x[:, : self.half_channels], x[:, self.half_channels :]
        h = self.convs(self.pre(x0), x_mask, g=g)
        h = self.proj(h) * x_mask
        b, c, t = x0.shape
        h = h.reshape(b, c, -1, t).permute(0, 1, 3, 2)  # (B, c, T, 3K - 1)
        k = self.num_bins
        scale = math.sqrt(self.filter_channels)
        y1, logabsdet = rational_quadratic_spline(
            x1,
            h[..., :k] / scale,
            h[..., k : 2 * k] / scale,
            h[..., 2 * k :],
            inverse=reverse,
            tail_bound=self.tail_bound,
        )
        y = torch.cat([x0, y1], 1) * x_mask
        if reverse:
            return y
        return y, torch.sum(logabsdet * x_mask, [1, 2])
