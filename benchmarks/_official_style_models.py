"""Official-style AASIST and RawGAT-ST: the published computations, as the CPU baseline.

``benchmarks/detect_vs_official.py`` times voxlab's inference path against this module.
:class:`OfficialAASIST` follows the official ``models/AASIST.py`` (clovaai/aasist, MIT
licence) layer by layer:
the same module names (so the published state dict loads with ``strict=True`` and no key
adapter), the same layer order and the same PyTorch ops — a plain ``Conv1d`` sinc front end,
``abs`` + ``max_pool2d``, un-folded batch norms, the discarded pre-activation
``bn1``/SELU of every non-first residual block (computed, then unused, exactly as
officially), ``MaxPool2d``, pairwise-product graph attention, the ``zeros_like`` attention
board of the heterogeneous layers and ``topk``/``gather`` graph pooling. It is voxlab's own
code written to mirror that computation (facts only, nothing pasted).

One deliberate difference, which makes the baseline *cheaper* and the reported ratio
conservative: the sinc filters are built once at construction (voxlab's
:func:`~voxlab.models.layers.sinc.mel_sinc_filters`, tested equal to the official
filters) and only cloned per call, as the official AASIST ``CONV.forward`` does.

:class:`OfficialRawGATST` follows ``model.py`` of eurecom-asp/RawGAT-ST-antispoofing (MIT
licence), the file whose forward made the published scores: its sinc layer rebuilds the 70
filters with a NumPy loop on every call, the first residual block adds its one-channel
input to all 32 channels, every later block computes and discards ``bn1``/SELU, there are
two full encoders (spectral and temporal), the graph layers have no temperature, and graph
pooling keeps ``max(2, int(k * nodes))`` nodes gathered item by item in a Python loop. Its
state dict (including the unused ``conv_1`` of blocks 1-5) loads with ``strict=True``.

Shape (whole model): ``(batch, time) -> (batch, 2)`` logits ``[spoof, bona fide]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.models.layers.sinc import mel_sinc_filters


class OfficialSincConv(nn.Module):
    """Fixed mel sinc filterbank applied with ``F.conv1d`` (no padding, stride 1).

    Shape:
        ``(batch, 1, time) -> (batch, n_filters, time - taps + 1)``.
    """

    def __init__(self, n_filters: int = 70, kernel_size: int = 128) -> None:
        super().__init__()
        self.band_pass = mel_sinc_filters(n_filters, kernel_size)
        self.n_filters = n_filters

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, 1, time) -> (batch, n_filters, frames)``."""
        filters = self.band_pass.clone().to(x.device).view(self.n_filters, 1, -1)
        return F.conv1d(x, filters)


class OfficialResidualBlock(nn.Module):
    """The official residual block, including its discarded ``bn1``/SELU pass.

    Shape:
        ``(batch, c_in, freq, time) -> (batch, c_out, freq, time // 3)``.
    """

    def __init__(self, c_in: int, c_out: int, *, first: bool = False) -> None:
        super().__init__()
        self.first = first
        if not first:
            self.bn1 = nn.BatchNorm2d(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, kernel_size=(2, 3), padding=(1, 1))
        self.selu = nn.SELU(inplace=True)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, kernel_size=(2, 3), padding=(0, 1))
        self.downsample = c_in != c_out
        if self.downsample:
            self.conv_downsample = nn.Conv2d(c_in, c_out, kernel_size=(1, 3), padding=(0, 1))
        self.mp = nn.MaxPool2d((1, 3))

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, c_in, freq, time) -> (batch, c_out, freq, time // 3)``."""
        identity = x
        if not self.first:
            out = self.selu(self.bn1(x))  # computed and discarded, as in the official code
        out = self.conv1(x)
        out = self.selu(self.bn2(out))
        out = self.conv2(out)
        if self.downsample:
            identity = self.conv_downsample(identity)
        out += identity
        return self.mp(out)


def _pairwise(x: Tensor) -> Tensor:
    n = x.size(1)
    x = x.unsqueeze(2).expand(-1, -1, n, -1)
    return x * x.transpose(1, 2)


def _bn_nodes(bn: nn.BatchNorm1d, x: Tensor) -> Tensor:
    size = x.size()
    return bn(x.view(-1, size[-1])).view(size)


class OfficialGAT(nn.Module):
    """Official ``GraphAttentionLayer``. Shape: ``(batch, nodes, in) -> (batch, nodes, out)``."""

    def __init__(self, in_dim: int, out_dim: int, temperature: float = 1.0) -> None:
        super().__init__()
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_weight = nn.Parameter(torch.zeros(out_dim, 1))
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.input_drop = nn.Dropout(p=0.2)
        self.act = nn.SELU(inplace=True)
        self.temp = temperature

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, nodes, in) -> (batch, nodes, out)``."""
        x = self.input_drop(x)
        att = torch.tanh(self.att_proj(_pairwise(x)))
        att = F.softmax(torch.matmul(att, self.att_weight) / self.temp, dim=-2)
        x = self.proj_with_att(torch.matmul(att.squeeze(-1), x)) + self.proj_without_att(x)
        return self.act(_bn_nodes(self.bn, x))


class OfficialHtrgGAT(nn.Module):
    """Official ``HtrgGraphAttentionLayer`` (two node types and a master node).

    Shape:
        ``(batch, n1, in), (batch, n2, in), (1 or batch, 1, in)`` ->
        ``(batch, n1, out), (batch, n2, out), (batch, 1, out)``.
    """

    def __init__(self, in_dim: int, out_dim: int, temperature: float = 1.0) -> None:
        super().__init__()
        self.proj_type1 = nn.Linear(in_dim, in_dim)
        self.proj_type2 = nn.Linear(in_dim, in_dim)
        self.att_proj = nn.Linear(in_dim, out_dim)
        self.att_projM = nn.Linear(in_dim, out_dim)
        for name in ("att_weight11", "att_weight22", "att_weight12", "att_weightM"):
            setattr(self, name, nn.Parameter(torch.zeros(out_dim, 1)))
        self.proj_with_att = nn.Linear(in_dim, out_dim)
        self.proj_without_att = nn.Linear(in_dim, out_dim)
        self.proj_with_attM = nn.Linear(in_dim, out_dim)
        self.proj_without_attM = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)
        self.input_drop = nn.Dropout(p=0.2)
        self.act = nn.SELU(inplace=True)
        self.temp = temperature

    def forward(self, x1: Tensor, x2: Tensor, master: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Shape: see the class docstring."""
        n1, n2 = x1.size(1), x2.size(1)
        x = torch.cat([self.proj_type1(x1), self.proj_type2(x2)], dim=1)
        x = self.input_drop(x)
        # attention over all node pairs, one weight vector per pair type, on a zero board
        att = torch.tanh(self.att_proj(_pairwise(x)))
        board = torch.zeros_like(att[:, :, :, 0]).unsqueeze(-1)
        board[:, :n1, :n1, :] = torch.matmul(att[:, :n1, :n1, :], self.att_weight11)
        board[:, n1:, n1:, :] = torch.matmul(att[:, n1:, n1:, :], self.att_weight22)
        board[:, :n1, n1:, :] = torch.matmul(att[:, :n1, n1:, :], self.att_weight12)
        board[:, n1:, :n1, :] = torch.matmul(att[:, n1:, :n1, :], self.att_weight12)
        att = F.softmax(board / self.temp, dim=-2)
        # master node update
        att_m = torch.tanh(self.att_projM(x * master))
        att_m = F.softmax(torch.matmul(att_m, self.att_weightM) / self.temp, dim=-2)
        master = self.proj_with_attM(
            torch.matmul(att_m.squeeze(-1).unsqueeze(1), x)
        ) + self.proj_without_attM(master)
        x = self.proj_with_att(torch.matmul(att.squeeze(-1), x)) + self.proj_without_att(x)
        x = self.act(_bn_nodes(self.bn, x))
        return x.narrow(1, 0, n1), x.narrow(1, n1, n2), master


class OfficialGraphPool(nn.Module):
    """Official ``GraphPool``: sigmoid scores, ``topk`` nodes, scaled and gathered.

    Shape:
        ``(batch, nodes, dim) -> (batch, max(1, int(nodes * k)), dim)``.
    """

    def __init__(self, k: float, in_dim: int, p: float) -> None:
        super().__init__()
        self.k = k
        self.sigmoid = nn.Sigmoid()
        self.proj = nn.Linear(in_dim, 1)
        self.drop = nn.Dropout(p=p) if p > 0 else nn.Identity()

    def forward(self, h: Tensor) -> Tensor:
        """Shape: see the class docstring."""
        scores = self.sigmoid(self.proj(self.drop(h)))
        _, n_nodes, n_feat = h.size()
        keep = max(int(n_nodes * self.k), 1)
        _, idx = torch.topk(scores, keep, dim=1)
        return torch.gather(h * scores, 1, idx.expand(-1, -1, n_feat))


class OfficialAASIST(nn.Module):
    """AASIST as the official ``Model`` computes it (config of ``AASIST.conf``/``-L.conf``).

    Args:
        light: Use the AASIST-L configuration.

    Shape:
        ``(batch, time) -> (batch, 2)`` logits ``[spoof, bona fide]``.
    """

    def __init__(self, *, light: bool = False) -> None:
        super().__init__()
        if light:
            filts, gat_dims = [70, [1, 32], [32, 32], [32, 24], [24, 24]], [24, 32]
            ratios, temps = [0.4, 0.5, 0.7, 0.5], [2.0, 2.0, 100.0, 100.0]
        else:
            filts, gat_dims = [70, [1, 32], [32, 32], [32, 64], [64, 64]], [64, 32]
            ratios, temps = [0.5, 0.7, 0.5, 0.5], [2.0, 2.0, 100.0, 100.0]
        self.pos_S = nn.Parameter(torch.zeros(1, 23, filts[-1][-1]))
        self.master1 = nn.Parameter(torch.zeros(1, 1, gat_dims[0]))
        self.master2 = nn.Parameter(torch.zeros(1, 1, gat_dims[0]))
        self.conv_time = OfficialSincConv(filts[0], 128)
        self.first_bn = nn.BatchNorm2d(1)
        self.drop = nn.Dropout(0.5, inplace=True)
        self.drop_way = nn.Dropout(0.2, inplace=True)
        self.selu = nn.SELU(inplace=True)
        specs = [filts[1], filts[2], filts[3], filts[4], filts[4], filts[4]]
        self.encoder = nn.Sequential(
            *(
                nn.Sequential(OfficialResidualBlock(a, b, first=i == 0))
                for i, (a, b) in enumerate(specs)
            )
        )
        enc = filts[-1][-1]
        self.GAT_layer_S = OfficialGAT(enc, gat_dims[0], temps[0])
        self.GAT_layer_T = OfficialGAT(enc, gat_dims[0], temps[1])
        for name in ("11", "21"):
            setattr(self, f"HtrgGAT_layer_ST{name}", OfficialHtrgGAT(*gat_dims, temps[2]))
        for name in ("12", "22"):
            hetero = OfficialHtrgGAT(gat_dims[1], gat_dims[1], temps[2])
            setattr(self, f"HtrgGAT_layer_ST{name}", hetero)
        self.pool_S = OfficialGraphPool(ratios[0], gat_dims[0], 0.3)
        self.pool_T = OfficialGraphPool(ratios[1], gat_dims[0], 0.3)
        for name in ("hS1", "hT1", "hS2", "hT2"):
            setattr(self, f"pool_{name}", OfficialGraphPool(ratios[2], gat_dims[1], 0.3))
        self.out_layer = nn.Linear(5 * gat_dims[1], 2)

    def _branch(self, t, s, master, first, second, pool_s, pool_t):
        t1, s1, m1 = first(t, s, master=master)
        s1, t1 = pool_s(s1), pool_t(t1)
        t_aug, s_aug, m_aug = second(t1, s1, master=m1)
        return t1 + t_aug, s1 + s_aug, m1 + m_aug

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, time) -> (batch, 2)``."""
        x = self.conv_time(x.unsqueeze(1)).unsqueeze(dim=1)
        x = F.max_pool2d(torch.abs(x), (3, 3))
        x = self.selu(self.first_bn(x))
        e = self.encoder(x)
        e_s, _ = torch.max(torch.abs(e), dim=3)
        out_s = self.pool_S(self.GAT_layer_S(e_s.transpose(1, 2) + self.pos_S))
        e_t, _ = torch.max(torch.abs(e), dim=2)
        out_t = self.pool_T(self.GAT_layer_T(e_t.transpose(1, 2)))
        t1, s1, m1 = self._branch(
            out_t, out_s, self.master1, self.HtrgGAT_layer_ST11, self.HtrgGAT_layer_ST12,
            self.pool_hS1, self.pool_hT1,
        )  # fmt: skip
        t2, s2, m2 = self._branch(
            out_t, out_s, self.master2, self.HtrgGAT_layer_ST21, self.HtrgGAT_layer_ST22,
            self.pool_hS2, self.pool_hT2,
        )  # fmt: skip
        out_t = torch.max(self.drop_way(t1), self.drop_way(t2))
        out_s = torch.max(self.drop_way(s1), self.drop_way(s2))
        master = torch.max(self.drop_way(m1), self.drop_way(m2))
        t_max, _ = torch.max(torch.abs(out_t), dim=1)
        s_max, _ = torch.max(torch.abs(out_s), dim=1)
        hidden = torch.cat(
            [t_max, torch.mean(out_t, dim=1), s_max, torch.mean(out_s, dim=1), master.squeeze(1)],
            dim=1,
        )
        return self.out_layer(self.drop(hidden))


def load_official_aasist(path, *, light: bool = False) -> OfficialAASIST:
    """An :class:`OfficialAASIST` in eval mode with the published state dict at ``path``."""
    model = OfficialAASIST(light=light)
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()


class OfficialRawGATSincConv(nn.Module):
    """RawGAT-ST's sinc layer: the filters are rebuilt on every call, as officially.

    Shape:
        ``(batch, 1, time) -> (batch, n_filters, time - taps + 1)``.
    """

    def __init__(self, n_filters: int = 70, kernel_size: int = 128) -> None:
        super().__init__()
        self.n_filters, self.kernel_size = n_filters, kernel_size

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, 1, time) -> (batch, n_filters, frames)``."""
        # the official CONV.forward loops over the filters with np.sinc/np.hamming per call;
        # mel_sinc_filters is the same per-filter NumPy computation (tested equal)
        filters = mel_sinc_filters(self.n_filters, self.kernel_size)
        return F.conv1d(x, filters.to(x.device).view(self.n_filters, 1, -1))


class OfficialRawGATBlock(nn.Module):
    """RawGAT-ST's ``Residual_block`` (``conv_1`` in every block; used only by the first).

    Shape:
        ``(batch, c_in, freq, time) -> (batch, c_out, freq, time // 3)``.
    """

    def __init__(self, c_in: int, c_out: int, *, first: bool = False) -> None:
        super().__init__()
        self.first = first
        if not first:
            self.bn1 = nn.BatchNorm2d(c_in)
            self.conv1 = nn.Conv2d(c_in, c_out, kernel_size=(2, 3), padding=(1, 1))
        self.selu = nn.SELU(inplace=True)
        self.conv_1 = nn.Conv2d(1, c_out, kernel_size=(2, 3), padding=(1, 1))
        self.bn2 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, kernel_size=(2, 3), padding=(0, 1))
        self.downsample = c_in != c_out
        if self.downsample:
            self.conv_downsample = nn.Conv2d(c_in, c_out, kernel_size=(1, 3), padding=(0, 1))
        self.mp = nn.MaxPool2d((1, 3))

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, c_in, freq, time) -> (batch, c_out, freq, time // 3)``."""
        identity = x
        if not self.first:
            out = self.selu(self.bn1(x))  # computed and discarded, as in the official code
            out = self.conv1(x)
        else:
            out = self.conv_1(x)
        out = self.conv2(self.selu(self.bn2(out)))
        if self.downsample:
            identity = self.conv_downsample(identity)
        out += identity  # the first block broadcasts its one input channel
        return self.mp(out)


class OfficialRawGATPool(nn.Module):
    """RawGAT-ST's ``Pool``: ``max(2, int(k * nodes))`` nodes, gathered item by item.

    Shape:
        ``(batch, nodes, dim) -> (batch, kept, 1, dim)`` (the official 4-D result).
    """

    def __init__(self, k: float, in_dim: int, p: float) -> None:
        super().__init__()
        self.k = k
        self.sigmoid = nn.Sigmoid()
        self.proj = nn.Linear(in_dim, 1)
        self.drop = nn.Dropout(p=p) if p > 0 else nn.Identity()

    def forward(self, h: Tensor) -> Tensor:
        """Shape: see the class docstring."""
        scores = self.sigmoid(self.proj(self.drop(h)))
        weighted = h * scores
        _, idx = torch.topk(scores, max(2, int(self.k * h.shape[1])), dim=1)
        return torch.stack([weighted[i, idx[i]] for i in range(h.shape[0])], dim=0)


class OfficialRawGATST(nn.Module):
    """RawGAT-ST as the official ``RawGAT_ST`` computes it (``model.py``, mul fusion).

    Shape:
        ``(batch, 64600) -> (batch, 2)`` logits ``[spoof, bona fide]``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv_time = OfficialRawGATSincConv(70, 128)
        self.first_bn = nn.BatchNorm2d(1)
        self.selu = nn.SELU(inplace=True)
        specs = [(32, 32), (32, 32), (32, 64), (64, 64), (64, 64), (64, 64)]
        for name in ("encoder1", "encoder2"):
            blocks = (
                nn.Sequential(OfficialRawGATBlock(a, b, first=i == 0))
                for i, (a, b) in enumerate(specs)
            )
            setattr(self, name, nn.Sequential(*blocks))
        self.GAT_layer1 = OfficialGAT(64, 32)
        self.pool1 = OfficialRawGATPool(0.64, 32, 0.3)
        self.GAT_layer2 = OfficialGAT(64, 32)
        self.pool2 = OfficialRawGATPool(0.81, 32, 0.3)
        self.GAT_layer3 = OfficialGAT(32, 16)
        self.pool3 = OfficialRawGATPool(0.64, 16, 0.3)
        self.proj1 = nn.Linear(14, 12)
        self.proj2 = nn.Linear(23, 12)
        self.proj = nn.Linear(16, 1)
        self.proj_node = nn.Linear(7, 2)

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(batch, 64600) -> (batch, 2)``."""
        x = self.conv_time(x.view(x.shape[0], 1, x.shape[1])).unsqueeze(dim=1)
        x = F.max_pool2d(torch.abs(x), (3, 3))
        x = self.selu(self.first_bn(x))
        e1 = self.encoder1(x)
        x_max, _ = torch.max(torch.abs(e1), dim=3)
        out1 = self.proj1(self.pool1(self.GAT_layer1(x_max.transpose(1, 2))).transpose(1, 3))
        out1 = out1.view(out1.shape[0], out1.shape[1], out1.shape[3])
        e2 = self.encoder2(x)
        x_max2, _ = torch.max(torch.abs(e2), dim=2)
        out2 = self.proj2(self.pool2(self.GAT_layer2(x_max2.transpose(1, 2))).transpose(1, 3))
        out2 = out2.view(out2.shape[0], out2.shape[1], out2.shape[3])
        x_gat3 = self.GAT_layer3(torch.mul(out1, out2).transpose(1, 2))
        return self.proj_node(self.proj(self.pool3(x_gat3)).flatten(1))


def load_official_rawgat_st(path) -> OfficialRawGATST:
    """An :class:`OfficialRawGATST` in eval mode with the published state dict at ``path``."""
    model = OfficialRawGATST()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)
    return model.eval()
