"""Transformer encoder with windowed relative-position self-attention (VITS text encoder).

Layout and state-dict names follow jaywalnut310/vits ``attentions.py`` (``attn_layers``,
``norm_layers_1``, ``ffn_layers``, ``norm_layers_2``; ``conv_q/k/v/o``, ``emb_rel_k``,
``emb_rel_v``; ``conv_1`` / ``conv_2``) so official checkpoints load with strict keys.
RVC's content encoder uses the same blocks.

Relative positions: each head adds ``q_i . e_k[j - i]`` to its logits and
``sum_j p_ij e_v[j - i]`` to its output, for offsets ``|j - i| <= window_size`` (the
official tables hold ``2 * window_size + 1`` entries, shared by all heads). voxlab computes
these with a banded gather instead of the official pad-and-reshape trick; the result is
the same up to float rounding, and it does not materialise ``(T, 2T - 1)`` tables.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.generation.neural.commons import LayerNorm


def _band_index(length: int, window: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """Indices and validity of the ``2w+1`` band around the diagonal.

    Returns:
        ``(cols, valid)``: ``cols[i, r] = i + r - w`` clamped to ``[0, length)`` and
        ``valid[i, r]`` whether it was inside. Shape: ``(length, 2w+1)`` each.
    """
    rows = torch.arange(length, device=device).unsqueeze(1)
    offsets = torch.arange(-window, window + 1, device=device).unsqueeze(0)
    cols = rows + offsets
    valid = (cols >= 0) & (cols < length)
    return cols.clamp(0, length - 1), valid


class MultiHeadAttention(nn.Module):
    """Multi-head attention with 1x1-conv projections and relative position tables.

    Args:
        channels: Input (query) channels.
        out_channels: Output channels.
        n_heads: Heads; ``channels`` must be divisible by it.
        p_dropout: Dropout on the attention weights (training only).
        window_size: Relative-position window (VITS: 4); None disables relative terms.
        heads_share: One table for all heads (the official default).

    Shape:
        ``x`` (query side) ``(B, C, T_t)``, ``c`` (key/value side) ``(B, C, T_s)``,
        ``attn_mask`` ``(B, 1, T_t, T_s)`` -> ``(B, out_channels, T_t)``.
    """

    def __init__(
        self,
        channels: int,
        out_channels: int,
        n_heads: int,
        *,
        p_dropout: float = 0.0,
        window_size: int | None = None,
        heads_share: bool = True,
    ) -> None:
        super().__init__()
        if channels % n_heads:
            raise ValueError(f"channels ({channels}) must be divisible by n_heads ({n_heads})")
        self.channels = channels
        self.out_channels = out_channels
        self.n_heads = n_heads
        self.window_size = window_size
        self.k_channels = channels // n_heads
        self.conv_q = nn.Conv1d(channels, channels, 1)
        self.conv_k = nn.Conv1d(channels, channels, 1)
        self.conv_v = nn.Conv1d(channels, channels, 1)
        self.conv_o = nn.Conv1d(channels, out_channels, 1)
        self.drop = nn.Dropout(p_dropout)
        if window_size is not None:
            n_tables = 1 if heads_share else n_heads
            std = self.k_channels**-0.5
            shape = (n_tables, 2 * window_size + 1, self.k_channels)
            self.emb_rel_k = nn.Parameter(torch.randn(shape) * std)
            self.emb_rel_v = nn.Parameter(torch.randn(shape) * std)
        nn.init.xavier_uniform_(self.conv_q.weight)
        nn.init.xavier_uniform_(self.conv_k.weight)
        nn.init.xavier_uniform_(self.conv_v.weight)

    def forward(self, x: Tensor, c: Tensor, attn_mask: Tensor | None = None) -> Tensor:
        """Attend from ``x`` to ``c``."""
        q, k, v = self.conv_q(x), self.conv_k(c), self.conv_v(c)
        out = self.attention(q, k, v, mask=attn_mask)
        return self.conv_o(out)

    def attention(self, query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None) -> Tensor:
        """Scaled dot-product attention per head plus the relative-position terms.

        Shape:
            ``query`` ``(B, C, T_t)``, ``key``/``value`` ``(B, C, T_s)`` -> ``(B, C, T_t)``.
        """
        b, d, t_s = key.shape
        t_t = query.shape[2]
        h, kc = self.n_heads, self.k_channels
        q = query.view(b, h, kc, t_t).transpose(2, 3) / math.sqrt(kc)  # (B, H, T_t, kc)
        k = key.view(b, h, kc, t_s).transpose(2, 3)
        v = value.view(b, h, kc, t_s).transpose(2, 3)
        scores = torch.matmul(q, k.transpose(-2, -1))  # (B, H, T_t, T_s)
        band = None
        if self.window_size is not None:
            if t_s != t_t:
                raise ValueError("relative attention needs self-attention (equal lengths)")
            w = self.window_size
            cols, valid = _band_index(t_t, w, scores.device)
            rel = torch.matmul(q, self.emb_rel_k.unsqueeze(0).transpose(-2, -1))  # (B,H,T,2w+1)
            rel = rel * valid.to(rel.dtype)
            band = (cols, valid)
            # scatter the band into absolute positions: scores[i, cols[i, r]] += rel[i, r]
            local = torch.zeros_like(scores)
            local.scatter_add_(-1, cols.expand(b, h, t_t, 2 * w + 1), rel)
            scores = scores + local
        if mask is not None:
            scores = scores.masked_fill(mask == 0, -1e4)
        p_attn = self.drop(F.softmax(scores, dim=-1))
        output = torch.matmul(p_attn, v)  # (B, H, T_t, kc)
        if band is not None:
            cols, valid = band
            weights = torch.gather(p_attn, -1, cols.expand(b, h, t_t, cols.shape[1]))
            weights = weights * valid.to(weights.dtype)  # (B, H, T, 2w+1)
            output = output + torch.matmul(weights, self.emb_rel_v.unsqueeze(0))
        return output.transpose(2, 3).reshape(b, d, t_t)


class FFN(nn.Module):
    """Position-wise feed-forward block of two "same"-padded convolutions with ReLU.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        filter_channels: Hidden channels.
        kernel_size: Convolution width (VITS: 3; RVC: 3).
        p_dropout: Dropout between the convolutions (training only).
        activation: ``None`` for ReLU, ``"gelu"`` for the sigmoid-approximated GELU.
        causal: Left padding only.

    Shape:
        ``x`` ``(B, C_in, T)``, ``x_mask`` ``(B, 1, T)`` -> ``(B, C_out, T)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        filter_channels: int,
        kernel_size: int,
        *,
        p_dropout: float = 0.0,
        activation: str | None = None,
        causal: bool = False,
    ) -> None:
        super().__init__()
        self.activation = activation
        self.pad = (kernel_size - 1, 0) if causal else ((kernel_size - 1) // 2, kernel_size // 2)
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size)
        self.conv_2 = nn.Conv1d(filter_channels, out_channels, kernel_size)
        self.drop = nn.Dropout(p_dropout)

    def forward(self, x: Tensor, x_mask: Tensor) -> Tensor:
        """Two masked convolutions with the activation between them."""
        x = self.conv_1(F.pad(x * x_mask, self.pad))
        x = x * torch.sigmoid(1.702 * x) if self.activation == "gelu" else torch.relu(x)
        x = self.drop(x)
        x = self.conv_2(F.pad(x * x_mask, self.pad))
        return x * x_mask


class Encoder(nn.Module):
    """Post-norm Transformer encoder: (relative attention, add & norm, FFN, add & norm) x N.

    Args:
        hidden_channels: Model width.
        filter_channels: FFN width.
        n_heads: Attention heads.
        n_layers: Layers.
        kernel_size: FFN convolution width.
        p_dropout: Dropout (training only).
        window_size: Relative-position window (VITS: 4).

    Shape:
        ``x`` ``(B, C, T)``, ``x_mask`` ``(B, 1, T)`` -> ``(B, C, T)`` (zero where masked).
    """

    def __init__(
        self,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int = 1,
        p_dropout: float = 0.0,
        window_size: int = 4,
    ) -> None:
        super().__init__()
        self.n_layers = n_layers
        self.drop = nn.Dropout(p_dropout)
        self.attn_layers = nn.ModuleList()
        self.norm_layers_1 = nn.ModuleList()
        self.ffn_layers = nn.ModuleList()
        self.norm_layers_2 = nn.ModuleList()
        for _ in range(n_layers):
            self.attn_layers.append(
                MultiHeadAttention(
                    hidden_channels,
                    hidden_channels,
                    n_heads,
                    p_dropout=p_dropout,
                    window_size=window_size,
                )
            )
            self.norm_layers_1.append(LayerNorm(hidden_channels))
            self.ffn_layers.append(
                FFN(
                    hidden_channels,
                    hidden_channels,
                    filter_channels,
                    kernel_size,
                    p_dropout=p_dropout,
                )
            )
            self.norm_layers_2.append(LayerNorm(hidden_channels))

    def forward(self, x: Tensor, x_mask: Tensor) -> Tensor:
        """Encode the masked sequence."""
        attn_mask = x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)
        x = x * x_mask
        for attn, norm_1, ffn, norm_2 in zip(
            self.attn_layers, self.norm_layers_1, self.ffn_layers, self.norm_layers_2
        ):
            x = norm_1(x + self.drop(attn(x, x, attn_mask)))
            x = norm_2(x + self.drop(ffn(x, x_mask)))
        return x * x_mask
