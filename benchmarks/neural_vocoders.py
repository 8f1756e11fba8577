"""CPU cost of voxlab's HiFi-GAN and VITS vs implementations in the official code's style.

The baselines below are written for this benchmark (not copied) and follow the structure
of the official inference paths: jik876/hifi-gan (weight norm removed after loading,
out-of-place activations, ``xs += ...`` then ``/ num_kernels``) and jaywalnut310/vits
(weight norm KEPT as ``torch.nn.utils.weight_norm`` hooks, recomputed at every call as the
official notebook does; relative attention through the pad-and-reshape trick; the spline
on boolean-indexed elements; the TorchScript gate of ``commons.py``; the path from
``sequence_mask`` of cumulative durations). Both load the same official-layout state
dicts, get the same inputs in the same process, and their outputs are compared (max abs
difference printed) before timing.

Timing: median CPU-seconds per call (``time.process_time``, all threads of this process;
robust to other load on a shared machine) over interleaved repeats, and the ratio
baseline / voxlab (> 1: voxlab faster).

    python benchmarks/neural_vocoders.py                      # published sizes, 1 s / 1 sentence
    python benchmarks/neural_vocoders.py --repeats 7 --threads 2 --seconds 2
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from voxlab.generation.neural.commons import remove_weight_norm
from voxlab.generation.neural.hifigan import build_hifigan
from voxlab.generation.neural.vits import build_vits

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures" / "generation"
SLOPE = 0.1


def _wn(layer: nn.Module, dim: int = 0) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nn.utils.weight_norm(layer, dim=dim)


def _pad_same(k: int, d: int = 1) -> int:
    return int((k * d - d) / 2)


# ============================================================== official-style HiFi-GAN


class RefResBlock1(nn.Module):
    def __init__(self, ch, k, dil):
        super().__init__()
        self.convs1 = nn.ModuleList(
            [_wn(nn.Conv1d(ch, ch, k, 1, dilation=d, padding=_pad_same(k, d))) for d in dil]
        )
        self.convs2 = nn.ModuleList(
            [_wn(nn.Conv1d(ch, ch, k, 1, dilation=1, padding=_pad_same(k))) for _ in dil]
        )

    def forward(self, x, x_mask=None):
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = F.leaky_relu(x, SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            xt = c1(xt)
            xt = F.leaky_relu(xt, SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            xt = c2(xt)
            x = xt + x
        if x_mask is not None:
            x = x * x_mask
        return x


class RefResBlock2(nn.Module):
    def __init__(self, ch, k, dil):
        super().__init__()
        self.convs = nn.ModuleList(
            [_wn(nn.Conv1d(ch, ch, k, 1, dilation=d, padding=_pad_same(k, d))) for d in dil]
        )

    def forward(self, x, x_mask=None):
        for c in self.convs:
            xt = F.leaky_relu(x, SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            x = c(xt) + x
        if x_mask is not None:
            x = x * x_mask
        return x


class RefGenerator(nn.Module):
    def __init__(self, c_in, resblock, rks, rds, rates, ch0, uks, gin=0, *, wn_io=True):
        super().__init__()
        self.num_kernels, self.num_upsamples = len(rks), len(rates)
        conv_pre = nn.Conv1d(c_in, ch0, 7, 1, padding=3)
        self.conv_pre = _wn(conv_pre) if wn_io else conv_pre
        block = RefResBlock1 if str(resblock) == "1" else RefResBlock2
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(rates, uks)):
            self.ups.append(
                _wn(
                    nn.ConvTranspose1d(ch0 // 2**i, ch0 // 2 ** (i + 1), k, u, padding=(k - u) // 2)
                )
            )
        self.resblocks = nn.ModuleList()
        for i in range(len(self.ups)):
            ch = ch0 // 2 ** (i + 1)
            for k, d in zip(rks, rds):
                self.resblocks.append(block(ch, k, d))
        conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3, bias=wn_io)
        self.conv_post = _wn(conv_post) if wn_io else conv_post
        if gin:
            self.cond = nn.Conv1d(gin, ch0, 1)

    def forward(self, x, g=None):
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i in range(self.num_upsamples):
            x = F.leaky_relu(x, SLOPE)
            x = self.ups[i](x)
            xs = None
            for j in range(self.num_kernels):
                if xs is None:
                    xs = self.resblocks[i * self.num_kernels + j](x)
                else:
                    xs += self.resblocks[i * self.num_kernels + j](x)
            x = xs / self.num_kernels
        x = F.leaky_relu(x)
        x = self.conv_post(x)
        return torch.tanh(x)


def ref_remove_weight_norm(module: nn.Module) -> None:
    for m in module.modules():
        if hasattr(m, "weight_g"):
            nn.utils.remove_weight_norm(m)


# ================================================================= official-style VITS


def sequence_mask(length, max_length=None):
    if max_length is None:
        max_length = length.max()
    x = torch.arange(max_length, dtype=length.dtype, device=length.device)
    return x.unsqueeze(0) < length.unsqueeze(1)


def generate_path(duration, mask):
    b, _, t_y, t_x = mask.shape
    cum = torch.cumsum(duration, -1).view(b * t_x)
    path = sequence_mask(cum, t_y).to(mask.dtype).view(b, t_x, t_y)
    path = path - F.pad(path, [0, 0, 1, 0, 0, 0])[:, :-1]
    return path.unsqueeze(1).transpose(2, 3) * mask


@torch.jit.script
def gate(input_a, input_b, n_channels):
    n = n_channels[0]
    acts = input_a + input_b
    return torch.tanh(acts[:, :n, :]) * torch.sigmoid(acts[:, n:, :])


class RefLayerNorm(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.channels = ch
        self.gamma = nn.Parameter(torch.ones(ch))
        self.beta = nn.Parameter(torch.zeros(ch))

    def forward(self, x):
        x = x.transpose(1, -1)
        x = F.layer_norm(x, (self.channels,), self.gamma, self.beta, 1e-5)
        return x.transpose(1, -1)


class RefMHA(nn.Module):
    def __init__(self, ch, out, heads, window=4):
        super().__init__()
        self.n_heads, self.k_channels, self.window_size = heads, ch // heads, window
        self.conv_q, self.conv_k = nn.Conv1d(ch, ch, 1), nn.Conv1d(ch, ch, 1)
        self.conv_v, self.conv_o = nn.Conv1d(ch, ch, 1), nn.Conv1d(ch, out, 1)
        shape = (1, window * 2 + 1, self.k_channels)
        self.emb_rel_k = nn.Parameter(torch.randn(shape) * self.k_channels**-0.5)
        self.emb_rel_v = nn.Parameter(torch.randn(shape) * self.k_channels**-0.5)

    def forward(self, x, c, mask):
        q, k, v = self.conv_q(x), self.conv_k(c), self.conv_v(c)
        b, d, t_s, t_t = (*k.size(), q.size(2))
        q = q.view(b, self.n_heads, self.k_channels, t_t).transpose(2, 3)
        k = k.view(b, self.n_heads, self.k_channels, t_s).transpose(2, 3)
        v = v.view(b, self.n_heads, self.k_channels, t_s).transpose(2, 3)
        scale = math.sqrt(self.k_channels)
        scores = torch.matmul(q / scale, k.transpose(-2, -1))
        rel_k = self._rel(self.emb_rel_k, t_s)
        rel_logits = torch.matmul(q / scale, rel_k.unsqueeze(0).transpose(-2, -1))
        scores = scores + self._rel_to_abs(rel_logits)
        scores = scores.masked_fill(mask == 0, -1e4)
        p = F.softmax(scores, dim=-1)
        out = torch.matmul(p, v)
        out = out + torch.matmul(self._abs_to_rel(p), self._rel(self.emb_rel_v, t_s).unsqueeze(0))
        return self.conv_o(out.transpose(2, 3).contiguous().view(b, d, t_t))

    def _rel(self, emb, length):
        pad = max(length - (self.window_size + 1), 0)
        start = max((self.window_size + 1) - length, 0)
        padded = F.pad(emb, [0, 0, pad, pad, 0, 0]) if pad > 0 else emb
        return padded[:, start : start + 2 * length - 1]

    @staticmethod
    def _rel_to_abs(x):
        b, h, n, _ = x.size()
        x = F.pad(x, [0, 1, 0, 0, 0, 0, 0, 0]).view(b, h, n * 2 * n)
        x = F.pad(x, [0, n - 1, 0, 0, 0, 0])
        return x.view(b, h, n + 1, 2 * n - 1)[:, :, :n, n - 1 :]

    @staticmethod
    def _abs_to_rel(x):
        b, h, n, _ = x.size()
        x = F.pad(x, [0, n - 1, 0, 0, 0, 0, 0, 0]).view(b, h, n**2 + n * (n - 1))
        x = F.pad(x, [n, 0, 0, 0, 0, 0])
        return x.view(b, h, n, 2 * n)[:, :, :, 1:]


class RefFFN(nn.Module):
    def __init__(self, cin, cout, filt, k):
        super().__init__()
        self.k = k
        self.conv_1, self.conv_2 = nn.Conv1d(cin, filt, k), nn.Conv1d(filt, cout, k)

    def _pad(self, x):
        return F.pad(x, [(self.k - 1) // 2, self.k // 2, 0, 0, 0, 0])

    def forward(self, x, x_mask):
        x = torch.relu(self.conv_1(self._pad(x * x_mask)))
        return self.conv_2(self._pad(x * x_mask)) * x_mask


class RefEncoder(nn.Module):
    def __init__(self, hidden, filt, heads, layers, k):
        super().__init__()
        self.attn_layers = nn.ModuleList([RefMHA(hidden, hidden, heads) for _ in range(layers)])
        self.norm_layers_1 = nn.ModuleList([RefLayerNorm(hidden) for _ in range(layers)])
        self.ffn_layers = nn.ModuleList([RefFFN(hidden, hidden, filt, k) for _ in range(layers)])
        self.norm_layers_2 = nn.ModuleList([RefLayerNorm(hidden) for _ in range(layers)])

    def forward(self, x, x_mask):
        attn_mask = x_mask.unsqueeze(2) * x_mask.unsqueeze(-1)
        x = x * x_mask
        for i in range(len(self.attn_layers)):
            x = self.norm_layers_1[i](x + self.attn_layers[i](x, x, attn_mask))
            x = self.norm_layers_2[i](x + self.ffn_layers[i](x, x_mask))
        return x * x_mask


class RefTextEncoder(nn.Module):
    def __init__(self, n_vocab, out, hidden, filt, heads, layers, k):
        super().__init__()
        self.out_channels, self.hidden_channels = out, hidden
        self.emb = nn.Embedding(n_vocab, hidden)
        self.encoder = RefEncoder(hidden, filt, heads, layers, k)
        self.proj = nn.Conv1d(hidden, out * 2, 1)

    def forward(self, x, x_lengths):
        x = torch.transpose(self.emb(x) * math.sqrt(self.hidden_channels), 1, -1)
        x_mask = torch.unsqueeze(sequence_mask(x_lengths, x.size(2)), 1).to(x.dtype)
        x = self.encoder(x * x_mask, x_mask)
        m, logs = torch.split(self.proj(x) * x_mask, self.out_channels, dim=1)
        return x, m, logs, x_mask


class RefWN(nn.Module):
    def __init__(self, hidden, k, rate, layers, gin=0):
        super().__init__()
        self.hidden_channels, self.n_layers = hidden, layers
        self.in_layers, self.res_skip_layers = nn.ModuleList(), nn.ModuleList()
        if gin:
            self.cond_layer = _wn(nn.Conv1d(gin, 2 * hidden * layers, 1))
        for i in range(layers):
            d = rate**i
            self.in_layers.append(
                _wn(nn.Conv1d(hidden, 2 * hidden, k, dilation=d, padding=_pad_same(k, d)))
            )
            rs = 2 * hidden if i < layers - 1 else hidden
            self.res_skip_layers.append(_wn(nn.Conv1d(hidden, rs, 1)))

    def forward(self, x, x_mask, g=None):
        output = torch.zeros_like(x)
        n_ch = torch.IntTensor([self.hidden_channels])
        if g is not None:
            g = self.cond_layer(g)
        for i in range(self.n_layers):
            x_in = self.in_layers[i](x)
            if g is not None:
                off = i * 2 * self.hidden_channels
                g_l = g[:, off : off + 2 * self.hidden_channels, :]
            else:
                g_l = torch.zeros_like(x_in)
            acts = gate(x_in, g_l, n_ch)
            rs = self.res_skip_layers[i](acts)
            if i < self.n_layers - 1:
                x = (x + rs[:, : self.hidden_channels, :]) * x_mask
                output = output + rs[:, self.hidden_channels :, :]
            else:
                output = output + rs
        return output * x_mask


class RefCoupling(nn.Module):
    def __init__(self, ch, hidden, k, rate, layers, gin=0):
        super().__init__()
        self.half = ch // 2
        self.pre = nn.Conv1d(self.half, hidden, 1)
        self.enc = RefWN(hidden, k, rate, layers, gin)
        self.post = nn.Conv1d(hidden, self.half, 1)

    def forward(self, x, x_mask, g=None, reverse=False):
        x0, x1 = torch.split(x, [self.half] * 2, 1)
        h = self.enc(self.pre(x0) * x_mask, x_mask, g=g)
        m = self.post(h) * x_mask
        logs = torch.zeros_like(m)
        x1 = (x1 - m) * torch.exp(-logs) * x_mask
        return torch.cat([x0, x1], 1)


class RefFlip(nn.Module):
    def forward(self, x, *args, **kwargs):
        return torch.flip(x, [1])


class RefFlowBlock(nn.Module):
    def __init__(self, ch, hidden, gin=0):
        super().__init__()
        self.flows = nn.ModuleList()
        for _ in range(4):
            self.flows.append(RefCoupling(ch, hidden, 5, 1, 4, gin))
            self.flows.append(RefFlip())

    def forward(self, x, x_mask, g=None, reverse=True):
        for flow in reversed(self.flows):
            x = flow(x, x_mask, g=g, reverse=True)
        return x


class RefDDSConv(nn.Module):
    def __init__(self, ch, k, layers):
        super().__init__()
        self.convs_sep, self.convs_1x1 = nn.ModuleList(), nn.ModuleList()
        self.norms_1, self.norms_2 = nn.ModuleList(), nn.ModuleList()
        for i in range(layers):
            d = k**i
            self.convs_sep.append(
                nn.Conv1d(ch, ch, k, groups=ch, dilation=d, padding=(k * d - d) // 2)
            )
            self.convs_1x1.append(nn.Conv1d(ch, ch, 1))
            self.norms_1.append(RefLayerNorm(ch))
            self.norms_2.append(RefLayerNorm(ch))

    def forward(self, x, x_mask, g=None):
        if g is not None:
            x = x + g
        for i in range(len(self.convs_sep)):
            y = F.gelu(self.norms_1[i](self.convs_sep[i](x * x_mask)))
            y = F.gelu(self.norms_2[i](self.convs_1x1[i](y)))
            x = x + y
        return x * x_mask


def ref_spline(inputs, uw, uh, ud, inverse, tail_bound, min_w=1e-3, min_h=1e-3, min_d=1e-3):
    inside = (inputs >= -tail_bound) & (inputs <= tail_bound)
    outputs = torch.zeros_like(inputs)
    logabsdet = torch.zeros_like(inputs)
    ud = F.pad(ud, pad=(1, 1))
    constant = np.log(np.exp(1 - min_d) - 1)
    ud[..., 0] = constant
    ud[..., -1] = constant
    outputs[~inside] = inputs[~inside]
    x, uw, uh, ud = inputs[inside], uw[inside, :], uh[inside, :], ud[inside, :]
    left, right, bottom, top = -tail_bound, tail_bound, -tail_bound, tail_bound
    nb = uw.shape[-1]
    widths = min_w + (1 - min_w * nb) * F.softmax(uw, dim=-1)
    cw = F.pad(torch.cumsum(widths, dim=-1), pad=(1, 0), mode="constant", value=0.0)
    cw = (right - left) * cw + left
    cw[..., 0], cw[..., -1] = left, right
    widths = cw[..., 1:] - cw[..., :-1]
    derivs = min_d + F.softplus(ud)
    heights = min_h + (1 - min_h * nb) * F.softmax(uh, dim=-1)
    ch = F.pad(torch.cumsum(heights, dim=-1), pad=(1, 0), mode="constant", value=0.0)
    ch = (top - bottom) * ch + bottom
    ch[..., 0], ch[..., -1] = bottom, top
    heights = ch[..., 1:] - ch[..., :-1]
    locs = (ch if inverse else cw).clone()
    locs[..., -1] += 1e-6
    idx = (torch.sum(x[..., None] >= locs, dim=-1) - 1)[..., None]
    icw, ibw = cw.gather(-1, idx)[..., 0], widths.gather(-1, idx)[..., 0]
    ich = ch.gather(-1, idx)[..., 0]
    delta = heights / widths
    idelta = delta.gather(-1, idx)[..., 0]
    id0, id1 = derivs.gather(-1, idx)[..., 0], derivs[..., 1:].gather(-1, idx)[..., 0]
    ih = heights.gather(-1, idx)[..., 0]
    a = (x - ich) * (id0 + id1 - 2 * idelta) + ih * (idelta - id0)
    b = ih * id0 - (x - ich) * (id0 + id1 - 2 * idelta)
    c = -idelta * (x - ich)
    root = (2 * c) / (-b - torch.sqrt(b.pow(2) - 4 * a * c))
    outputs[inside] = root * ibw + icw
    return outputs, logabsdet


class RefConvFlow(nn.Module):
    def __init__(self, cin, filt, k, layers, bins=10, tail=5.0):
        super().__init__()
        self.half, self.filt, self.bins, self.tail = cin // 2, filt, bins, tail
        self.pre = nn.Conv1d(self.half, filt, 1)
        self.convs = RefDDSConv(filt, k, layers)
        self.proj = nn.Conv1d(filt, self.half * (bins * 3 - 1), 1)

    def forward(self, x, x_mask, g=None, reverse=True):
        x0, x1 = torch.split(x, [self.half] * 2, 1)
        h = self.proj(self.convs(self.pre(x0), x_mask, g=g)) * x_mask
        b, c, t = x0.shape
        h = h.reshape(b, c, -1, t).permute(0, 1, 3, 2)
        s = math.sqrt(self.filt)
        x1, _ = ref_spline(
            x1,
            h[..., : self.bins] / s,
            h[..., self.bins : 2 * self.bins] / s,
            h[..., 2 * self.bins :],
            True,
            self.tail,
        )
        return torch.cat([x0, x1], 1) * x_mask


class RefAffine(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.m, self.logs = nn.Parameter(torch.zeros(ch, 1)), nn.Parameter(torch.zeros(ch, 1))

    def forward(self, x, x_mask, reverse=True, **kwargs):
        return (x - self.m) * torch.exp(-self.logs) * x_mask


class RefSDP(nn.Module):
    def __init__(self, cin, k=3, gin=0):
        super().__init__()
        filt = cin
        self.flows = nn.ModuleList([RefAffine(2)])
        for _ in range(4):
            self.flows.extend([RefConvFlow(2, filt, k, 3), RefFlip()])
        self.post_pre, self.post_proj = nn.Conv1d(1, filt, 1), nn.Conv1d(filt, filt, 1)
        self.post_convs = RefDDSConv(filt, k, 3)
        self.post_flows = nn.ModuleList([RefAffine(2)])
        for _ in range(4):
            self.post_flows.extend([RefConvFlow(2, filt, k, 3), RefFlip()])
        self.pre, self.proj = nn.Conv1d(cin, filt, 1), nn.Conv1d(filt, filt, 1)
        self.convs = RefDDSConv(filt, k, 3)
        if gin:
            self.cond = nn.Conv1d(gin, filt, 1)

    def forward(self, x, x_mask, g=None, noise_scale=1.0):
        x = self.pre(torch.detach(x))
        if g is not None:
            x = x + self.cond(torch.detach(g))
        x = self.proj(self.convs(x, x_mask)) * x_mask
        flows = list(reversed(self.flows))
        flows = [*flows[:-2], flows[-1]]
        z = torch.randn(x.size(0), 2, x.size(2)).to(device=x.device, dtype=x.dtype) * noise_scale
        for flow in flows:
            z = flow(z, x_mask, g=x, reverse=True)
        return torch.split(z, [1, 1], 1)[0]


class RefPosterior(nn.Module):
    def __init__(self, cin, out, hidden, gin=0):
        super().__init__()
        self.pre = nn.Conv1d(cin, hidden, 1)
        self.enc = RefWN(hidden, 5, 1, 16, gin)
        self.proj = nn.Conv1d(hidden, out * 2, 1)


class RefVITS(nn.Module):
    """SDP VITS in the official structure (inference only)."""

    def __init__(self, hps):
        super().__init__()
        m, d = hps["model"], hps["data"]
        self.n_speakers = int(d.get("n_speakers", 0))
        gin = m.get("gin_channels", 0)
        inter, hidden = m["inter_channels"], m["hidden_channels"]
        self.enc_p = RefTextEncoder(
            178, inter, hidden, m["filter_channels"], m["n_heads"], m["n_layers"], m["kernel_size"]
        )
        self.dec = RefGenerator(
            inter,
            m["resblock"],
            m["resblock_kernel_sizes"],
            m["resblock_dilation_sizes"],
            m["upsample_rates"],
            m["upsample_initial_channel"],
            m["upsample_kernel_sizes"],
            gin,
            wn_io=False,
        )
        self.enc_q = RefPosterior(d["filter_length"] // 2 + 1, inter, hidden, gin)
        self.flow = RefFlowBlock(inter, hidden, gin)
        self.dp = RefSDP(hidden, 3, gin)
        if self.n_speakers > 1:
            self.emb_g = nn.Embedding(self.n_speakers, gin)

    def infer(self, x, x_lengths, sid=None, noise_scale=1, length_scale=1, noise_scale_w=1.0):
        x, m_p, logs_p, x_mask = self.enc_p(x, x_lengths)
        g = self.emb_g(sid).unsqueeze(-1) if self.n_speakers > 0 else None
        logw = self.dp(x, x_mask, g=g, noise_scale=noise_scale_w)
        w_ceil = torch.ceil(torch.exp(logw) * x_mask * length_scale)
        y_lengths = torch.clamp_min(torch.sum(w_ceil, [1, 2]), 1).long()
        y_mask = torch.unsqueeze(sequence_mask(y_lengths, None), 1).to(x_mask.dtype)
        attn = generate_path(w_ceil, torch.unsqueeze(x_mask, 2) * torch.unsqueeze(y_mask, -1))
        m_p = torch.matmul(attn.squeeze(1), m_p.transpose(1, 2)).transpose(1, 2)
        logs_p = torch.matmul(attn.squeeze(1), logs_p.transpose(1, 2)).transpose(1, 2)
        z_p = m_p + torch.randn_like(m_p) * torch.exp(logs_p) * noise_scale
        z = self.flow(z_p, y_mask, g=g, reverse=True)
        return self.dec(z * y_mask, g=g), attn, y_mask


# ===================================================================== measurement


def cpu_seconds(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        out.append(time.process_time() - c0)
    return out


def compare(name: str, ours, theirs, repeats: int) -> dict:
    """Interleaved repeats; median CPU-s of each and the ratio."""
    ours(), theirs()  # warm-up (oneDNN primitives, allocations)
    a, b = [], []
    for _ in range(repeats):
        a += cpu_seconds(ours, 1)
        b += cpu_seconds(theirs, 1)
    mo, mt = statistics.median(a), statistics.median(b)
    print(
        f"{name:<34} voxlab {mo:8.3f} CPU-s   official-style {mt:8.3f} CPU-s   "
        f"ratio {mt / mo:5.2f}x"
    )
    return {"name": name, "voxlab_cpu_s": mo, "official_style_cpu_s": mt, "ratio": mt / mo}


def hifigan_case(variant: str, channels: int, seconds: float, repeats: int) -> dict:
    cfg = json.loads((FIXTURES / f"hifigan_{variant}_tiny.json").read_text())
    cfg["upsample_initial_channel"] = channels
    torch.manual_seed(0)
    ours = build_hifigan(cfg)
    state = ours.state_dict()
    ref = RefGenerator(
        80,
        cfg["resblock"],
        cfg["resblock_kernel_sizes"],
        cfg["resblock_dilation_sizes"],
        cfg["upsample_rates"],
        channels,
        cfg["upsample_kernel_sizes"],
    )
    ref.load_state_dict(state, strict=True)
    ref.eval()
    ref_remove_weight_norm(ref)  # as jik876 inference.py
    remove_weight_norm(ours.eval())  # as voxlab's load_hifigan
    mel = torch.randn(1, 80, int(seconds * 22050 / 256)) * 2 - 5
    with torch.inference_mode():
        err = float((ours(mel) - ref(mel)).abs().max())
        row = compare(
            f"HiFi-GAN {variant} ({channels} ch, {seconds:g} s)",
            lambda: ours(mel),
            lambda: ref(mel),
            repeats,
        )
    print(f"{'':34} max |voxlab - official-style| = {err:.2e}")
    return {**row, "max_abs_diff": err}


def vits_case(name: str, repeats: int, length: int) -> dict:
    hps = json.loads((FIXTURES / f"vits_{name}_tiny.json").read_text())
    hps["model"].update(
        inter_channels=192, hidden_channels=192, filter_channels=768, upsample_initial_channel=512
    )
    if name == "vctk":
        hps["model"]["gin_channels"] = 256
    torch.manual_seed(0)
    ours = build_vits(hps).eval()
    state = ours.state_dict()
    ref = RefVITS(hps).eval()
    ref.load_state_dict(state, strict=True)
    remove_weight_norm(ours)  # voxlab folds once; the official notebook keeps weight norm
    # give the duration path realistic values: about 4-6 frames per symbol
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 178, (1, length), generator=g)
    ids[:, 0::2] = 0
    x_len = torch.tensor([length])
    sid = torch.tensor([3]) if name == "vctk" else None
    with torch.no_grad():  # log-durations about 1.6 (5 frames per symbol)
        ours.dp.flows[0].m[0] = -1.6
        ref.dp.flows[0].m.copy_(ours.dp.flows[0].m)
    with torch.inference_mode():

        def run_ours():
            torch.manual_seed(0)
            return ours.infer(ids, x_len, sid=sid, noise_scale=0.667, noise_scale_w=0.8)[0]

        def run_ref():
            torch.manual_seed(0)
            return ref.infer(ids, x_len, sid=sid, noise_scale=0.667, noise_scale_w=0.8)[0]

        a, b = run_ours(), run_ref()
        err = float((a - b).abs().max()) if a.shape == b.shape else float("inf")
        frames = a.shape[-1] // 256
        row = compare(f"VITS {name} ({length} ids, {frames} frames)", run_ours, run_ref, repeats)
    print(f"{'':34} max |voxlab - official-style| = {err:.2e} (same seed)")
    return {**row, "max_abs_diff": err, "frames": frames}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=1.0, help="HiFi-GAN audio length")
    parser.add_argument("--ids", type=int, default=101, help="VITS input length (with blanks)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} threads, median of {args.repeats} "
        "interleaved repeats, CPU-seconds per call (ratio > 1: voxlab faster)"
    )
    rows = [
        hifigan_case("v1", 512, args.seconds, args.repeats),
        hifigan_case("v2", 128, args.seconds, args.repeats),
        hifigan_case("v3", 256, args.seconds, args.repeats),
        vits_case("ljs", args.repeats, args.ids),
        vits_case("vctk", args.repeats, args.ids),
    ]
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
