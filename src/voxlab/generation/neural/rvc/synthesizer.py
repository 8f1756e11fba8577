"""RVC synthesizers: content encoder, speaker-conditioned flow and (NSF) HiFi-GAN decoder.

Four official classes (RVC-Project/Retrieval-based-Voice-Conversion-WebUI, branch
20240604) map onto two voxlab classes built from one :class:`~.config.RVCConfig`:

======================================  ===========================================
official                                voxlab
======================================  ===========================================
SynthesizerTrnMs256NSFsid (v1, F0)      :class:`RVCSynthesizerF0` (content_dim 256)
SynthesizerTrnMs768NSFsid (v2, F0)      :class:`RVCSynthesizerF0` (content_dim 768)
SynthesizerTrnMs256NSFsid_nono          :class:`RVCSynthesizerNoF0` (content_dim 256)
SynthesizerTrnMs768NSFsid_nono          :class:`RVCSynthesizerNoF0` (content_dim 768)
======================================  ===========================================

Only the inference parts are built: the posterior encoder ``enc_q`` (training only) is
absent, exactly as the export drops its keys. Module names equal the official ones, so
the export's ``weight`` dict loads with strict key matching and no renaming.

Inference (``infer``): ``m_p, logs_p = enc_p(phone, pitch)``; the prior sample
``z_p = (m_p + exp(logs_p) * eps * 0.66666) * x_mask``; the flow run backwards with the
speaker embedding; the decoder on ``z * x_mask`` (and on the F0 contour for the NSF
models). ``deterministic=True`` sets every random draw (``eps`` and the sine source's
noise) to zero, as the reference fixtures were made.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import Tensor, nn

from voxlab.generation.neural import commons
from voxlab.generation.neural.attention import Encoder
from voxlab.generation.neural.flows import ResidualCouplingBlock
from voxlab.generation.neural.hifigan import Generator
from voxlab.generation.neural.rvc.config import RVCConfig
from voxlab.generation.neural.rvc.nsf import GeneratorNSF

#: Scale of the prior sample's noise in the official ``infer``.
PRIOR_NOISE_SCALE = 0.66666

#: Relative-position window of RVC's attention layers (VITS uses 4).
WINDOW_SIZE = 10

#: Coarse pitch bins of the pitch embedding (1..255 used, 0 never produced).
PITCH_BINS = 256


class TextEncoder(nn.Module):
    """RVC's ``enc_p`` (official TextEncoder256/768): content (+ pitch) -> prior stats.

    ``x = LeakyReLU_0.1((emb_phone(phone) + emb_pitch(pitch)) * sqrt(hidden))``, then the
    relative-position Transformer encoder (window 10) and a 1x1 projection to
    ``2 * out_channels``, masked.

    Args:
        content_dim: Content feature width (256 for v1, 768 for v2).
        out_channels: Latent channels (``inter_channels``).
        hidden_channels: Encoder width.
        filter_channels: FFN width.
        n_heads: Attention heads.
        n_layers: Encoder layers.
        kernel_size: FFN kernel size.
        p_dropout: Dropout (training only).
        f0: Add the coarse-pitch embedding (``emb_pitch``, 256 x hidden).

    Shape:
        ``phone`` ``(B, T, content_dim)``, ``pitch`` ``(B, T)`` int, ``lengths`` ``(B,)`` ->
        ``m``, ``logs`` ``(B, out_channels, T)`` and ``x_mask`` ``(B, 1, T)``.
    """

    def __init__(
        self,
        content_dim: int,
        out_channels: int,
        hidden_channels: int,
        filter_channels: int,
        n_heads: int,
        n_layers: int,
        kernel_size: int,
        p_dropout: float = 0.0,
        *,
        f0: bool = True,
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.hidden_channels = hidden_channels
        self.emb_phone = nn.Linear(content_dim, hidden_channels)
        if f0:
            self.emb_pitch = nn.Embedding(PITCH_BINS, hidden_channels)
        self.encoder = Encoder(
            hidden_channels, filter_channels, n_heads, n_layers, kernel_size, p_dropout,
            window_size=WINDOW_SIZE,
        )  # fmt: skip
        self.proj = nn.Conv1d(hidden_channels, out_channels * 2, 1)

    def forward(
        self, phone: Tensor, pitch: Tensor | None, lengths: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Encode; ``pitch`` is None for the no-F0 models."""
        x = self.emb_phone(phone)
        if pitch is not None:
            x = x + self.emb_pitch(pitch)
        x = nn.functional.leaky_relu(x * math.sqrt(self.hidden_channels), 0.1)
        x = x.transpose(1, 2)  # (B, hidden, T)
        x_mask = commons.sequence_mask(lengths, x.size(2)).unsqueeze(1).to(x.dtype)
        x = self.encoder(x * x_mask, x_mask)
        stats = self.proj(x) * x_mask
        m, logs = torch.split(stats, self.out_channels, dim=1)
        return m, logs, x_mask


def _randomness(deterministic: bool) -> contextlib.AbstractContextManager:
    return commons.deterministic(True) if deterministic else contextlib.nullcontext()


class RVCSynthesizer(nn.Module):
    """Parts shared by the F0 and no-F0 synthesizers (``enc_p``, ``flow``, ``emb_g``).

    Args:
        config: The export's hyper-parameters.

    Attributes:
        config: The config the model was built from.
        sampling_rate: Output sample rate in Hz.
        hop_length: Output samples per content frame.
    """

    def __init__(self, config: RVCConfig) -> None:
        super().__init__()
        self.config = config
        self.sampling_rate = config.sampling_rate
        self.hop_length = config.hop_length
        self.enc_p = TextEncoder(
            config.content_dim, config.inter_channels, config.hidden_channels,
            config.filter_channels, config.n_heads, config.n_layers, config.kernel_size,
            config.p_dropout, f0=config.f0,
        )  # fmt: skip
        self.flow = ResidualCouplingBlock(
            config.inter_channels, config.hidden_channels, 5, 1, 3,
            gin_channels=config.gin_channels,
        )  # fmt: skip
        self.emb_g = nn.Embedding(config.spk_embed_dim, config.gin_channels)

    @property
    def f0(self) -> bool:
        """Whether the model takes a pitch contour."""
        return self.config.f0

    @property
    def version(self) -> str:
        """``"v1"`` or ``"v2"``."""
        return self.config.version

    def _prior(
        self, phone: Tensor, phone_lengths: Tensor, pitch: Tensor | None, sid: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        g = self.emb_g(sid).unsqueeze(-1)
        m_p, logs_p, x_mask = self.enc_p(phone, pitch, phone_lengths)
        noise = commons.randn_like(m_p) * PRIOR_NOISE_SCALE
        z_p = (m_p + torch.exp(logs_p) * noise) * x_mask
        z = self.flow(z_p, x_mask, g=g, reverse=True)
        return g, m_p, logs_p, x_mask, z_p, z


class RVCSynthesizerF0(RVCSynthesizer):
    """Pitch-conditioned RVC (``SynthesizerTrnMs256NSFsid`` / ``SynthesizerTrnMs768NSFsid``).

    ``model.infer(phone, phone_lengths, pitch, pitchf, sid)`` returns the official tuple
    ``(audio, x_mask, (z, z_p, m_p, logs_p))``.
    """

    def __init__(self, config: RVCConfig) -> None:
        super().__init__(config)
        if not config.f0:
            raise ValueError("RVCSynthesizerF0 needs a config with f0=True")
        self.dec = GeneratorNSF(
            config.inter_channels, config.resblock, config.resblock_kernel_sizes,
            config.resblock_dilation_sizes, config.upsample_rates,
            config.upsample_initial_channel, config.upsample_kernel_sizes,
            gin_channels=config.gin_channels, sampling_rate=config.sampling_rate,
        )  # fmt: skip

    @torch.no_grad()
    def infer(
        self,
        phone: Tensor,
        phone_lengths: Tensor,
        pitch: Tensor,
        pitchf: Tensor,
        sid: Tensor,
        *,
        deterministic: bool = False,
    ) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
        """Convert content features at a pitch contour to audio in the speaker's voice.

        Args:
            phone: Content features at 100 frames/s (HuBERT's 50 fps repeated x2).
                Shape: ``(B, T, content_dim)``.
            phone_lengths: Valid frames per item. Shape: ``(B,)``.
            pitch: Coarse pitch bins 1..255 (see :func:`~.f0.coarse_pitch`). Shape: ``(B, T)``.
            pitchf: F0 in Hz, 0 where unvoiced. Shape: ``(B, T)``.
            sid: Speaker ids. Shape: ``(B,)``.
            deterministic: Make every random draw zero (prior noise, sine noise).

        Returns:
            ``(audio, x_mask, (z, z_p, m_p, logs_p))``: audio ``(B, 1, T * hop)``, x_mask
            ``(B, 1, T)``, the latents ``(B, inter_channels, T)``.
        """
        with _randomness(deterministic):
            g, m_p, logs_p, x_mask, z_p, z = self._prior(phone, phone_lengths, pitch, sid)
            audio = self.dec(z * x_mask, pitchf, g=g)
        return audio, x_mask, (z, z_p, m_p, logs_p)


class RVCSynthesizerNoF0(RVCSynthesizer):
    """RVC without pitch (``SynthesizerTrnMs256NSFsid_nono`` / ``...768NSFsid_nono``).

    ``model.infer(phone, phone_lengths, sid)`` returns ``(audio, x_mask, (z, z_p, m_p,
    logs_p))``; the decoder is a plain HiFi-GAN generator with speaker conditioning.
    """

    def __init__(self, config: RVCConfig) -> None:
        super().__init__(config)
        if config.f0:
            raise ValueError("RVCSynthesizerNoF0 needs a config with f0=False")
        self.dec = Generator(
            config.inter_channels, config.resblock, config.resblock_kernel_sizes,
            config.resblock_dilation_sizes, config.upsample_rates,
            config.upsample_initial_channel, config.upsample_kernel_sizes,
            gin_channels=config.gin_channels,
        )  # fmt: skip

    @torch.no_grad()
    def infer(
        self,
        phone: Tensor,
        phone_lengths: Tensor,
        sid: Tensor,
        *,
        deterministic: bool = False,
    ) -> tuple[Tensor, Tensor, tuple[Tensor, Tensor, Tensor, Tensor]]:
        """Convert content features to audio in the speaker's voice (no pitch input).

        Args:
            phone: Content features at 100 frames/s. Shape: ``(B, T, content_dim)``.
            phone_lengths: Valid frames per item. Shape: ``(B,)``.
            sid: Speaker ids. Shape: ``(B,)``.
            deterministic: Make the prior sample's draw zero.

        Returns:
            ``(audio, x_mask, (z, z_p, m_p, logs_p))`` as for the F0 models.
        """
        with _randomness(deterministic):
            g, m_p, logs_p, x_mask, z_p, z = self._prior(phone, phone_lengths, None, sid)
            audio = self.dec(z * x_mask, g=g)
        return audio, x_mask, (z, z_p, m_p, logs_p)


def build_synthesizer(config: RVCConfig) -> RVCSynthesizer:
    """The synthesizer class the config's ``f0`` flag calls for (weights untrained)."""
    return RVCSynthesizerF0(config) if config.f0 else RVCSynthesizerNoF0(config)
