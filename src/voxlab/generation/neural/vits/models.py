"""VITS (Kim et al., 2021): text encoder, duration predictors, prior flow, HiFi-GAN decoder.

Module tree and state-dict names follow jaywalnut310/vits ``models.py`` (``enc_p``,
``enc_q``, ``dec``, ``flow``, ``dp``, ``emb_g``), so official ``G_<step>.pth`` files load with
strict key matching. The posterior encoder ``enc_q`` and the training-only ``dp.post_*``
layers exist so that those keys match; inference does not run them (``enc_q`` is used by
:meth:`SynthesizerTrn.voice_conversion`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from voxlab.generation.neural import commons
from voxlab.generation.neural.attention import Encoder
from voxlab.generation.neural.commons import LayerNorm, generate_path, sequence_mask
from voxlab.generation.neural.flows import (
    ConvFlow,
    DDSConv,
    ElementwiseAffine,
    Flip,
    ResidualCouplingBlock,
)
from voxlab.generation.neural.hifigan import Generator
from voxlab.generation.neural.wavenet import WN


class TextEncoder(nn.Module):
    """Symbol embedding + relative-attention Transformer -> prior mean and log-std per token.

    Shape:
        ``x`` ``(B, L)`` int, ``x_lengths`` ``(B,)`` -> ``(hidden (B, H, L), m (B, C, L),
        logs (B, C, L), x_mask (B, 1, L))``.
    """

    def __init__(
        self,
        n_vocab: int,
        out_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.emb = nn.Embedding(n_vocab, hidden_channels)
        nn.init.normal_(self.emb.weight, 0.0, hidden_channels**-0.5)
        self.encoder = Encoder(
            hidden_channels, filter_channels, n_heads, n_layers, kernel_size, p_dropout
        )
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(self, x: Tensor, x_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Encode symbol ids."""
        h = (self.emb(x) * math.sqrt(self.hidden_channels)).transpose(1, 2)  # (B, H, L)
        x_mask = sequence_mask(x_lengths, h.shape[2]).unsqueeze(1).to(h.dtype)
        h = self.encoder(h * x_mask, x_mask)
        stats = self.proj(h) * x_mask
        m, logs = stats[:, : self.out_channels], stats[:, self.out_channels :]
        return h, m, logs, x_mask


class PosteriorEncoder(nn.Module):
    """Linear spectrogram -> posterior latent ``z`` (WN stack; used for voice conversion).

    Shape:
        ``y`` ``(B, spec, T)``, ``y_lengths`` ``(B,)``, ``g`` ``(B, gin, 1)`` ->
        ``(z, m, logs, y_mask)`` with ``(B, C, T)`` tensors and ``(B, 1, T)`` mask.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden_channels: int,
        kernel_size: int,
        dilation_rate: int,
        n_layers: int,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.pre = nn.Conv1d(in_channels, hidden_channels, 1)
        self.enc = WN(hidden_channels, kernel_size, dilation_rate, n_layers, gin_channels)
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(self, y: Tensor, y_lengths: Tensor, g: Tensor | None = None):
        """Sample ``z = m + eps * exp(logs)`` (``eps = 0`` in deterministic mode)."""
        y_mask = sequence_mask(y_lengths, y.shape[2]).unsqueeze(1).to(y.dtype)
        h = self.enc(self.pre(y) * y_mask, y_mask, g=g)
        stats = self.proj(h) * y_mask
        m, logs = stats[:, : self.out_channels], stats[:, self.out_channels :]
        z = (m + commons.randn_like(m) * torch.exp(logs)) * y_mask
        return z, m, logs, y_mask


class StochasticDurationPredictor(nn.Module):
    """Flow-based duration predictor; inference samples ``log w`` from its reverse flows.

    As in the official code, ``filter_channels`` is replaced by ``in_channels``, and the
    reverse pass skips the first ConvFlow (``flows.1``, a "useless vflow" upstream). The
    ``post_*`` layers serve training only; they exist so that checkpoints load strictly.

    Shape:
        ``x`` ``(B, H, L)``, ``x_mask`` ``(B, 1, L)``, ``g`` ``(B, gin, 1)`` ->
        ``logw`` ``(B, 1, L)``.
    """

    def __init__(
        self,
        in_channels: int,
        filter_channels: int,
        kernel_size: int,
        p_dropout: float,
        n_flows: int = 4,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        filter_channels = in_channels  # upstream overrides the argument
        self.flows = nn.ModuleList([ElementwiseAffine(2)])
        for _ in range(n_flows):
            self.flows.append(ConvFlow(2, filter_channels, kernel_size, n_layers=3))
            self.flows.append(Flip())
        self.post_pre = nn.Conv1d(1, filter_channels, 1)
        self.post_proj = nn.Conv1d(filter_channels, filter_channels, 1)
        self.post_convs = DDSConv(filter_channels, kernel_size, n_layers=3, p_dropout=p_dropout)
        self.post_flows = nn.ModuleList([ElementwiseAffine(2)])
        for _ in range(4):
            self.post_flows.append(ConvFlow(2, filter_channels, kernel_size, n_layers=3))
            self.post_flows.append(Flip())
        self.pre = nn.Conv1d(in_channels, filter_channels, 1)
        self.proj = nn.Conv1d(filter_channels, filter_channels, 1)
        self.convs = DDSConv(filter_channels, kernel_size, n_layers=3, p_dropout=p_dropout)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, filter_channels, 1)

    def forward(
        self, x: Tensor, x_mask: Tensor, g: Tensor | None = None, noise_scale: float = 1.0
    ) -> Tensor:
        """Sample log-durations (inference direction)."""
        h = self.pre(x.detach())
        if g is not None:
            h = h + self.cond(g.detach())
        h = self.convs(h, x_mask)
        h = self.proj(h) * x_mask
        # reversed flows without flows[1]: Flip, CF, Flip, CF, Flip, CF, Flip, EA
        reverse_flows = [*list(self.flows)[:1:-1], self.flows[0]]
        z = commons.randn(x.shape[0], 2, x.shape[2], like=x) * noise_scale
        for flow in reverse_flows:
            z = flow(z, x_mask, g=h, reverse=True)
        return z[:, :1]


class DurationPredictor(nn.Module):
    """Deterministic duration predictor (two conv + ReLU + LayerNorm blocks, projection).

    Shape:
        ``x`` ``(B, H, L)``, ``x_mask`` ``(B, 1, L)``, ``g`` ``(B, gin, 1)`` ->
        ``logw`` ``(B, 1, L)``.
    """

    def __init__(
        self,
        in_channels: int,
        filter_channels: int,
        kernel_size: int,
        p_dropout: float,
        gin_channels: int = 0,
    ) -> None:
        super().__init__()
        self.drop = nn.Dropout(p_dropout)
        self.conv_1 = nn.Conv1d(in_channels, filter_channels, kernel_size, padding=kernel_size // 2)
        self.norm_1 = LayerNorm(filter_channels)
        self.conv_2 = nn.Conv1d(
            filter_channels, filter_channels, kernel_size, padding=kernel_size // 2
        )
        self.norm_2 = LayerNorm(filter_channels)
        self.proj = nn.Conv1d(filter_channels, 1, 1)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, in_channels, 1)

    def forward(self, x: Tensor, x_mask: Tensor, g: Tensor | None = None) -> Tensor:
        """Predict log-durations."""
        x = x.detach()
        if g is not None:
            x = x + self.cond(g.detach())
        x = self.drop(self.norm_1(torch.relu(self.conv_1(x * x_mask))))
        x = self.drop(self.norm_2(torch.relu(self.conv_2(x * x_mask))))
        return self.proj(x * x_mask) * x_mask


class SynthesizerTrn(nn.Module):
    """The VITS generator (official class name and constructor arguments).

    Args:
        n_vocab: Number of text symbols (178 for the official English models).
        spec_channels: Linear-spectrogram bins (``filter_length // 2 + 1``).
        segment_size: Training segment in frames (unused at inference; kept for parity).
        inter_channels: Latent channels.
        hidden_channels: Text encoder width.
        filter_channels: Transformer FFN width.
        n_heads: Attention heads.
        n_layers: Transformer layers.
        kernel_size: FFN kernel.
        p_dropout: Dropout (training only).
        resblock: Decoder resblock kind (``"1"`` or ``"2"``).
        resblock_kernel_sizes: Decoder resblock kernels.
        resblock_dilation_sizes: Decoder resblock dilations.
        upsample_rates: Decoder upsampling factors (product = hop length).
        upsample_initial_channel: Decoder width.
        upsample_kernel_sizes: Decoder transposed-conv kernels.
        n_speakers: Speakers (0 or 1: single speaker, no ``emb_g``).
        gin_channels: Speaker embedding size.
        use_sdp: Stochastic (True) or deterministic duration predictor.
        **kwargs: Other config entries (``n_layers_q``, ``use_spectral_norm``), ignored as
            upstream does.
    """

    def __init__(
        self,
        n_vocab: int,
        spec_channels: int,
        segment_size: int,
        inter_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float,
        resblock: str,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        n_speakers: int = 0,
        gin_channels: int = 0,
        use_sdp: bool = True,
        **kwargs,
    ) -> None:
        super().__init__()
        self.n_vocab = n_vocab
        self.spec_channels = spec_channels
        self.segment_size = segment_size
        self.inter_channels = inter_channels
        self.n_speakers = n_speakers
        self.gin_channels = gin_channels
        self.use_sdp = use_sdp
        self.enc_p = TextEncoder(
            n_vocab,
            inter_channels,
            hidden_channels,
            filter_channels,
            n_heads,
            n_layers,
            kernel_size,
            p_dropout,
        )
        self.dec = Generator(
            inter_channels,
            resblock,
            resblock_kernel_sizes,
            resblock_dilation_sizes,
            upsample_rates,
            upsample_initial_channel,
            upsample_kernel_sizes,
            gin_channels=gin_channels,
        )
        self.enc_q = PosteriorEncoder(
            spec_channels, inter_channels, hidden_channels, 5, 1, 16, gin_channels=gin_channels
        )
        self.flow = ResidualCouplingBlock(
            inter_channels, hidden_channels, 5, 1, 4, gin_channels=gin_channels
        )
        if use_sdp:
            self.dp = StochasticDurationPredictor(
                hidden_channels, 192, 3, 0.5, 4, gin_channels=gin_channels
            )
        else:
            self.dp = DurationPredictor(hidden_channels, 256, 3, 0.5, gin_channels=gin_channels)
        if n_speakers > 1:
            self.emb_g = nn.Embedding(n_speakers, gin_channels)

    @property
    def hop_length(self) -> int:
        """Samples per latent frame (product of the decoder's upsampling rates)."""
        return self.dec.hop_length

    def _speaker(self, sid: Tensor | None) -> Tensor | None:
        if self.n_speakers > 0 and hasattr(self, "emb_g"):
            if sid is None:
                raise ValueError(
                    f"this VITS model has {self.n_speakers} speakers: pass sid (B,) speaker ids"
                )
            if int(sid.min()) < 0 or int(sid.max()) >= self.n_speakers:
                raise ValueError(f"sid must lie in [0, {self.n_speakers - 1}], got {sid.tolist()}")
            return self.emb_g(sid).unsqueeze(-1)  # (B, gin, 1)
        return None

    def infer(
        self,
        x: Tensor,
        x_lengths: Tensor,
        sid: Tensor | None = None,
        noise_scale: float = 0.667,
        length_scale: float = 1.0,
        noise_scale_w: float = 0.8,
        max_len: int | None = None,
        *,
        deterministic: bool | None = None,
        return_intermediates: bool = False,
    ):
        """Text to waveform (official signature and return value).

        Args:
            x: Symbol ids (with blanks when the config says ``add_blank``). Shape: ``(B, L)``.
            x_lengths: Valid lengths. Shape: ``(B,)``.
            sid: Speaker ids for multi-speaker models. Shape: ``(B,)``.
            noise_scale: Scale of the prior sample's noise (official demo: 0.667).
            length_scale: Duration multiplier (> 1 = slower).
            noise_scale_w: Scale of the duration predictor's noise (demo: 0.8).
            max_len: Decode at most this many frames.
            deterministic: True: every random draw is zero (as the reference fixtures
                were made); None: follow the surrounding :func:`commons.deterministic`.
            return_intermediates: Also return a dict of the text-side intermediates
                (``enc_hidden``, ``m_p_text``, ``logs_p_text``, ``x_mask``, ``logw``, ``w``,
                ``w_ceil``, ``y_lengths``, ``dec_input``).

        Returns:
            ``(audio (B, 1, T_y * hop), attn (B, 1, T_y, L), y_mask (B, 1, T_y),
            (z, z_p, m_p, logs_p))`` as upstream, plus the dict when asked.
        """
        if deterministic is None:
            return self._infer(
                x,
                x_lengths,
                sid,
                noise_scale,
                length_scale,
                noise_scale_w,
                max_len,
                return_intermediates,
            )
        with commons.deterministic(deterministic):
            return self._infer(
                x,
                x_lengths,
                sid,
                noise_scale,
                length_scale,
                noise_scale_w,
                max_len,
                return_intermediates,
            )

    def _infer(
        self,
        x,
        x_lengths,
        sid,
        noise_scale,
        length_scale,
        noise_scale_w,
        max_len,
        return_intermediates,
    ):
        enc_hidden, m_p, logs_p, x_mask = self.enc_p(x, x_lengths)
        g = self._speaker(sid)
        if self.use_sdp:
            logw = self.dp(enc_hidden, x_mask, g=g, noise_scale=noise_scale_w)
        else:
            logw = self.dp(enc_hidden, x_mask, g=g)
        w = torch.exp(logw) * x_mask * length_scale
        w_ceil = torch.ceil(w)
        y_lengths = torch.clamp_min(torch.sum(w_ceil, [1, 2]), 1).long()
        y_mask = sequence_mask(y_lengths).unsqueeze(1).to(x_mask.dtype)
        attn_mask = x_mask.unsqueeze(2) * y_mask.unsqueeze(-1)
        attn = generate_path(w_ceil, attn_mask)  # (B, 1, T_y, L)
        m_p_y = torch.matmul(attn.squeeze(1), m_p.transpose(1, 2)).transpose(1, 2)
        logs_p_y = torch.matmul(attn.squeeze(1), logs_p.transpose(1, 2)).transpose(1, 2)
        z_p = m_p_y + commons.randn_like(m_p_y) * torch.exp(logs_p_y) * noise_scale
        z = self.flow(z_p, y_mask, g=g, reverse=True)
        dec_input = (z * y_mask)[:, :, :max_len]
        o = self.dec(dec_input, g=g)
        out = (o, attn, y_mask, (z, z_p, m_p_y, logs_p_y))
        if not return_intermediates:
            return out
        extras = {
            "enc_hidden": enc_hidden,
            "m_p_text": m_p,
            "logs_p_text": logs_p,
            "x_mask": x_mask,
            "logw": logw,
            "w": w,
            "w_ceil": w_ceil,
            "y_lengths": y_lengths,
            "dec_input": dec_input,
        }
        return (*out, extras)

    def voice_conversion(self, y: Tensor, y_lengths: Tensor, sid_src: Tensor, sid_tgt: Tensor):
        """Convert a linear spectrogram from one training speaker to another (multi-speaker).

        Shape:
            ``y`` ``(B, spec_channels, T)``, ``y_lengths``/``sid_*`` ``(B,)`` ->
            ``(audio (B, 1, T * hop), y_mask, (z, z_p, z_hat))``.
        """
        if self.n_speakers <= 0:
            raise ValueError("voice conversion needs a multi-speaker VITS model")
        g_src = self._speaker(sid_src)
        g_tgt = self._speaker(sid_tgt)
        z, _, _, y_mask = self.enc_q(y, y_lengths, g=g_src)
        z_p = self.flow(z, y_mask, g=g_src)
        z_hat = self.flow(z_p, y_mask, g=g_tgt, reverse=True)
        o_hat = self.dec(z_hat * y_mask, g=g_tgt)
        return o_hat, y_mask, (z, z_p, z_hat)
