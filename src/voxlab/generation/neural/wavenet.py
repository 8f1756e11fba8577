"""WN: the non-causal WaveNet stack of VITS/RVC coupling layers and posterior encoders.

Gated dilated convolutions with residual and skip paths and optional global conditioning
(a speaker embedding ``g``). Names follow jaywalnut310/vits ``modules.WN`` (``in_layers``,
``res_skip_layers``, ``cond_layer``; all weight-normed, stored as ``weight_g`` /
``weight_v``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from voxlab.generation.neural.commons import WNConv1d, fused_add_tanh_sigmoid_multiply


class WN(nn.Module):
    """WaveNet-style stack: ``n_layers`` gated dilated convolutions, summed skip outputs.

    Args:
        hidden_channels: Channels of the residual stream.
        kernel_size: Odd kernel width.
        dilation_rate: Layer ``i`` uses dilation ``dilation_rate ** i``.
        n_layers: Number of gated layers.
        gin_channels: Channels of the global conditioning ``g`` (0: none).
        p_dropout: Dropout on the gated activations (training only).

    Shape:
        ``x`` ``(B, H, T)``, ``x_mask`` ``(B, 1, T)``, ``g`` ``(B, gin, 1)`` ->
        ``(B, H, T)`` (the sum of the skip outputs, masked).
    """

    def __init__(
        self,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
        p_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"WN needs an odd kernel_size, got {kernel_size}")
        self.hidden_channels = hidden_channels
        self.n_layers = n_layers
        self.gin_channels = gin_channels
        self.in_layers = nn.ModuleList()
        self.res_skip_layers = nn.ModuleList()
        self.drop = nn.Dropout(p_dropout)
        if gin_channels:
            self.cond_layer = WNConv1d(gin_channels, 2 * hidden_channels * n_layers, 1)
        for i in range(n_layers):
            dilation = dilation_rate**i
            padding = (kernel_size * dilation - dilation) // 2
            self.in_layers.append(
                WNConv1d(
                    hidden_channels,
                    2 * hidden_channels,
                    kernel_size,
                    dilation=dilation,
                    padding=padding,
                )
            )
            out = 2 * hidden_channels if i < n_layers - 1 else hidden_channels
            self.res_skip_layers.append(WNConv1d(hidden_channels, out, 1))

    def forward(self, x: Tensor, x_mask: Tensor, g: Tensor | None = None) -> Tensor:
        """Run the stack; ``g`` is added (per layer slice) before the gate."""
        h = self.hidden_channels
        output = torch.zeros_like(x)
        cond = self.cond_layer(g) if g is not None else None
        for i, (in_layer, res_skip) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            x_in = in_layer(x)
            g_l = cond[:, 2 * h * i : 2 * h * (i + 1)] if cond is not None else 0.0
            acts = self.drop(fused_add_tanh_sigmoid_multiply(x_in, g_l, h))
            rs = res_skip(acts)
            if i < self.n_layers - 1:
                x = (x + rs[:, :h]) * x_mask
                output = output + rs[:, h:]
            else:
                output = output + rs
        return output * x_mask
