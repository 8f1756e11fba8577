"""RMVPE pitch estimation from a user-supplied ``rmvpe.pt`` (RVC's best F0 extractor).

RMVPE (Wei et al., 2023, "RMVPE: A Robust Model for Vocal Pitch Estimation in Polyphonic
Music") reads a 128-band log-mel spectrogram of 16 kHz audio (hop 160 = 10 ms) with a deep
residual U-Net, a 3-channel conv, a bidirectional GRU and a 360-bin sigmoid classifier
(20 cents per bin from about 31.7 Hz). F0 is the salience-weighted mean of the cents of
the 9 bins around the peak, 0 where the peak salience is at most 0.03.

Facts from RVC-Project/Retrieval-based-Voice-Conversion-WebUI ``infer/lib/rmvpe.py`` (the
checkpoint is a plain state dict of ``E2E(4, 1, (2, 2))``): mel 128 bands, n_fft = win =
1024, hop 160, 30..8000 Hz, HTK mel scale with Slaney area normalisation, magnitude (not
power) spectrum of a periodic Hann window with reflection padding, ``log(max(mel,
1e-5))``; the mel frames are reflection-padded to a multiple of 32 before the U-Net.
Module names equal the official ones, so the file loads with strict key matching. The
code is voxlab's own. voxlab ships no RMVPE weights (the user brings ``rmvpe.pt``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import CheckpointError

N_MELS, N_BINS = 128, 360
#: Cents of bin 0 (the official mapping: ``20 * i + 1997.3794084376191``).
CENTS_OFFSET = 1997.3794084376191
#: Peak salience at or below which a frame is unvoiced (official ``thred``).
THRESHOLD = 0.03
_BN_MOMENTUM = 0.01


class ConvBlockRes(nn.Module):
    """Two 3x3 conv + BN + ReLU layers with a residual (1x1 conv when widths differ)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout, momentum=_BN_MOMENTUM),
            nn.ReLU(),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False),
            nn.BatchNorm2d(cout, momentum=_BN_MOMENTUM),
            nn.ReLU(),
        )
        self.shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x: Tensor) -> Tensor:
        """Shape: ``(B, cin, T, F)`` -> ``(B, cout, T, F)``."""
        return self.conv(x) + (self.shortcut(x) if self.shortcut is not None else x)


class ResEncoderBlock(nn.Module):
    """``n_blocks`` residual blocks, optionally followed by 2x2 average pooling."""

    def __init__(self, cin: int, cout: int, n_blocks: int, *, pool: bool) -> None:
        super().__init__()
        self.conv = nn.ModuleList(
            ConvBlockRes(cin if i == 0 else cout, cout) for i in range(n_blocks)
        )
        self.pool = nn.AvgPool2d(2) if pool else None

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """The features, and their pooled version when pooling."""
        for block in self.conv:
            x = block(x)
        return x if self.pool is None else (x, self.pool(x))


class ResDecoderBlock(nn.Module):
    """2x transposed conv + BN + ReLU, concatenated with the skip, then residual blocks."""

    def __init__(self, cin: int, cout: int, n_blocks: int) -> None:
        super().__init__()
        self.conv1 = nn.Sequential(
            nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1, bias=False),
            nn.BatchNorm2d(cout, momentum=_BN_MOMENTUM),
            nn.ReLU(),
        )
        self.conv2 = nn.ModuleList(
            ConvBlockRes(cout * 2 if i == 0 else cout, cout) for i in range(n_blocks)
        )

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        """Upsample ``x`` to ``skip``'s size and merge."""
        x = torch.cat((self.conv1(x), skip), dim=1)
        for block in self.conv2:
            x = block(x)
        return x


class _Encoder(nn.Module):
    def __init__(self, n_layers: int, n_blocks: int, channels: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(1, momentum=_BN_MOMENTUM)
        widths = [1] + [channels * 2**i for i in range(n_layers)]
        self.layers = nn.ModuleList(
            ResEncoderBlock(widths[i], widths[i + 1], n_blocks, pool=True) for i in range(n_layers)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        skips = []
        x = self.bn(x)
        for layer in self.layers:
            skip, x = layer(x)
            skips.append(skip)
        return x, skips


class _Intermediate(nn.Module):
    def __init__(self, cin: int, n_layers: int, n_blocks: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            ResEncoderBlock(cin if i == 0 else cin * 2, cin * 2, n_blocks, pool=False)
            for i in range(n_layers)
        )

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


class _Decoder(nn.Module):
    def __init__(self, cin: int, n_layers: int, n_blocks: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            ResDecoderBlock(cin // 2**i, cin // 2 ** (i + 1), n_blocks) for i in range(n_layers)
        )

    def forward(self, x: Tensor, skips: list[Tensor]) -> Tensor:
        for layer, skip in zip(self.layers, reversed(skips)):
            x = layer(x, skip)
        return x


class _UNet(nn.Module):
    def __init__(self, n_layers: int, inter_layers: int, n_blocks: int, channels: int) -> None:
        super().__init__()
        deepest = channels * 2 ** (n_layers - 1)
        self.encoder = _Encoder(n_layers, n_blocks, channels)
        self.intermediate = _Intermediate(deepest, inter_layers, n_blocks)
        self.decoder = _Decoder(deepest * 2, n_layers, n_blocks)

    def forward(self, x: Tensor) -> Tensor:
        x, skips = self.encoder(x)
        return self.decoder(self.intermediate(x), skips)


class _BiGRU(nn.Module):
    def __init__(self, n_in: int, hidden: int, n_layers: int) -> None:
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, num_layers=n_layers, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.gru(x)[0]


class RMVPE(nn.Module):
    """The RMVPE network (official ``E2E(4, 1, (2, 2))`` by default) with its front end.

    Args:
        n_blocks: Residual blocks per U-Net stage (4).
        n_gru: BiGRU layers (1).
        n_layers: Encoder/decoder stages (5; frames are padded to a multiple of 2**n).
        inter_layers: Bottleneck stages (4).
        channels: Channels of the first stage (16).

    Shape:
        ``mel`` ``(B, 128, T)`` -> salience ``(B, T, 360)`` in [0, 1].
    """

    def __init__(
        self, n_blocks: int = 4, n_gru: int = 1, *, n_layers: int = 5, inter_layers: int = 4,
        channels: int = 16,
    ) -> None:  # fmt: skip
        super().__init__()
        self.multiple = 2**n_layers
        self.unet = _UNet(n_layers, inter_layers, n_blocks, channels)
        self.cnn = nn.Conv2d(channels, 3, 3, padding=1)
        self.fc = nn.Sequential(
            _BiGRU(3 * N_MELS, 256, n_gru), nn.Linear(512, N_BINS), nn.Dropout(0.25), nn.Sigmoid()
        )
        from voxlab.features.functional import mel_filterbank

        basis = mel_filterbank(sample_rate=16000, n_fft=1024, n_mels=N_MELS, fmin=30.0,
                               fmax=8000.0, htk=True, norm="slaney")  # fmt: skip
        self.register_buffer("mel_basis", basis, persistent=False)
        self.register_buffer("window", torch.hann_window(1024), persistent=False)

    def mel(self, audio: Tensor) -> Tensor:
        """Log-mel spectrogram. Shape: ``(B, N)`` 16 kHz -> ``(B, 128, N // 160 + 1)``."""
        spec = torch.stft(audio, 1024, hop_length=160, win_length=1024, window=self.window,
                          center=True, pad_mode="reflect", return_complex=True)  # fmt: skip
        return torch.log(torch.clamp(self.mel_basis @ spec.abs(), min=1e-5))

    def forward(self, mel: Tensor) -> Tensor:
        """Salience of the 360 pitch bins per frame."""
        frames = mel.shape[-1]
        pad = -frames % self.multiple
        if pad:
            mel = F.pad(mel, (0, pad), mode="reflect" if pad < frames else "replicate")
        x = self.cnn(self.unet(mel.transpose(-1, -2).unsqueeze(1)))
        x = self.fc(x.transpose(1, 2).flatten(-2))
        return x[:, :frames]

    @torch.no_grad()
    def f0(self, audio: np.ndarray, *, threshold: float = THRESHOLD) -> np.ndarray:
        """F0 of 16 kHz audio, one value per 10 ms (``len // 160 + 1`` frames), 0 = unvoiced."""
        wav = torch.as_tensor(np.asarray(audio, dtype=np.float32)).reshape(1, -1)
        salience = self(self.mel(wav))[0].numpy()
        return salience_to_f0(salience, threshold=threshold)


def salience_to_f0(salience: np.ndarray, *, threshold: float = THRESHOLD) -> np.ndarray:
    """Local weighted average of the cents around each frame's peak, as RMVPE decodes.

    Args:
        salience: Bin activations. Shape: ``(T, 360)``.
        threshold: Peak salience at or below which the frame is unvoiced.

    Returns:
        F0 in Hz (0 = unvoiced). Shape: ``(T,)``.
    """
    salience = np.asarray(salience, dtype=np.float64)
    cents = np.pad(20.0 * np.arange(N_BINS) + CENTS_OFFSET, (4, 4))
    padded = np.pad(salience, ((0, 0), (4, 4)))
    centre = np.argmax(salience, axis=1) + 4
    window = centre[:, None] + np.arange(-4, 5)[None, :]
    weights = np.take_along_axis(padded, window, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_cents = (weights * cents[window]).sum(1) / weights.sum(1)
    mean_cents[salience.max(axis=1) <= threshold] = 0.0
    f0 = 10.0 * 2.0 ** (mean_cents / 1200.0)
    f0[mean_cents == 0] = 0.0
    return f0


def load_rmvpe(path: str | Path) -> RMVPE:
    """Load ``rmvpe.pt`` (a plain state dict) strictly with ``weights_only=True``.

    The architecture sizes are read from the weights (the official file is
    ``E2E(4, 1, (2, 2))``: 5 stages, 4 bottleneck stages, 4 blocks each, 16 channels).

    Raises:
        CheckpointError: Missing, unsafe, corrupt or mismatched file.
    """
    from voxlab.generation.neural.rvc.loading import check_keys
    from voxlab.models.checkpoints import load_state_dict_safely

    state = load_state_dict_safely(path)
    try:
        sizes = {
            "n_layers": _count(state, "unet.encoder.layers."),
            "inter_layers": _count(state, "unet.intermediate.layers."),
            "n_blocks": _count(state, "unet.encoder.layers.0.conv."),
            "n_gru": _count(state, "fc.0.gru.weight_ih_l", sep="_"),
            "channels": int(state["unet.encoder.layers.0.conv.0.conv.0.weight"].shape[0]),
        }
    except (KeyError, ValueError):
        raise CheckpointError(
            f"{path} is not an RMVPE checkpoint (no unet.encoder / fc.0.gru weights). Pass "
            "the rmvpe.pt that RVC uses (assets/rmvpe/rmvpe.pt)."
        ) from None
    model = RMVPE(sizes.pop("n_blocks"), sizes.pop("n_gru"), **sizes)
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    check_keys(model, state, source=str(path))
    model.load_state_dict(state, strict=True)
    return model.eval()


def _count(state, prefix: str, sep: str = ".") -> int:
    found = {k[len(prefix) :].split(sep)[0].split(".")[0] for k in state if k.startswith(prefix)}
    numbers = [int(n) for n in found if n.isdigit()]
    if not numbers:
        raise ValueError(prefix)
    return max(numbers) + 1
