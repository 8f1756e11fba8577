"""HiFi-GAN generator (V1/V2/V3) and its residual blocks; also VITS's and RVC's decoder.

Structure and state-dict names follow jik876/hifi-gan ``models.py`` (``conv_pre``,
``ups.<i>``, ``resblocks.<i*K+j>.convs1/convs2.<m>`` or ``.convs.<m>``, ``conv_post``) and
VITS's ``Generator`` (the same plus ``cond`` for speaker conditioning, with plain
``conv_pre`` and a bias-free ``conv_post``). Facts that matter numerically:

* leaky ReLU slope 0.1 before each upsampling and inside the residual blocks, but 0.01
  before ``conv_post``;
* the outputs of a stage's residual blocks are summed and divided by their count;
* transposed-convolution padding ``(k - u) // 2``; weight norm of the transposed
  convolutions is over their INPUT channel axis (dim 0).

:func:`load_hifigan` reads an official ``g_XXXXXXXX`` checkpoint (``{"generator": sd}``)
and its ``config.json``; :func:`mel_spectrogram` is HiFi-GAN's own mel analysis
(``meldataset.mel_spectrogram``) for copy-synthesis from audio.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from voxlab.errors import CheckpointError
from voxlab.generation.base import Generated
from voxlab.generation.neural.commons import (
    LRELU_SLOPE,
    WNConv1d,
    WNConvTranspose1d,
    conv_add_cl,
    conv_cl,
    conv_transpose_cl,
    from_channels_last,
    get_padding,
    read_json_config,
    remove_weight_norm,
    require_keys,
    to_channels_last,
    weight_norm_keys_to_official,
)

#: Keys of a jik876 config.json that shape the generator.
GENERATOR_KEYS = (
    "resblock",
    "upsample_rates",
    "upsample_kernel_sizes",
    "upsample_initial_channel",
    "resblock_kernel_sizes",
    "resblock_dilation_sizes",
)


class ResBlock1(nn.Module):
    """Three (dilated conv, conv) residual pairs with leaky ReLUs (HiFi-GAN V1/V2).

    Args:
        channels: Channels in and out.
        kernel_size: Kernel of every convolution.
        dilation: Dilations of the three first convolutions.

    Shape:
        ``x`` ``(B, C, T)``, optional ``x_mask`` ``(B, 1, T)`` -> ``(B, C, T)``.
    """

    def __init__(
        self, channels: int, kernel_size: int = 3, dilation: Sequence[int] = (1, 3, 5)
    ) -> None:
        super().__init__()
        dilation = tuple(dilation)[:3]  # upstream builds exactly three pairs
        if len(dilation) != 3:
            raise ValueError(f"ResBlock1 needs three dilations, got {dilation}")
        self.convs1 = nn.ModuleList(
            WNConv1d(
                channels, channels, kernel_size, 1, dilation=d, padding=get_padding(kernel_size, d)
            )
            for d in dilation
        )
        self.convs2 = nn.ModuleList(
            WNConv1d(
                channels, channels, kernel_size, 1, dilation=1, padding=get_padding(kernel_size, 1)
            )
            for _ in dilation
        )

    def forward(self, x: Tensor, x_mask: Tensor | None = None) -> Tensor:
        """Apply the residual pairs."""
        for c1, c2 in zip(self.convs1, self.convs2):
            xt = F.leaky_relu(x, LRELU_SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            xt = F.leaky_relu(c1(xt), LRELU_SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            x = c2(xt) + x
        if x_mask is not None:
            x = x * x_mask
        return x

    def forward_cl(self, x: Tensor) -> Tensor:
        """Inference on a channels-last ``(B, C, 1, T)`` map (``x`` is not modified).

        The second leaky ReLU and the residual addition are fused into the convolutions.
        """
        for n, (c1, c2) in enumerate(zip(self.convs1, self.convs2)):
            xt = conv_cl(F.leaky_relu(x, LRELU_SLOPE), c1, lrelu=LRELU_SLOPE)
            x = conv_add_cl(xt, c2, x, inplace=n > 0)
        return x


class ResBlock2(nn.Module):
    """Residual dilated convolutions, one per dilation (HiFi-GAN V3).

    Args:
        channels: Channels in and out.
        kernel_size: Kernel of every convolution.
        dilation: One dilation per convolution.

    Shape:
        ``x`` ``(B, C, T)``, optional ``x_mask`` ``(B, 1, T)`` -> ``(B, C, T)``.
    """

    def __init__(self, channels: int, kernel_size: int = 3, dilation: Sequence[int] = (1, 3)):
        super().__init__()
        dilation = tuple(dilation)[:2]  # upstream builds exactly two convolutions
        if len(dilation) != 2:
            raise ValueError(f"ResBlock2 needs two dilations, got {dilation}")
        self.convs = nn.ModuleList(
            WNConv1d(
                channels, channels, kernel_size, 1, dilation=d, padding=get_padding(kernel_size, d)
            )
            for d in dilation
        )

    def forward(self, x: Tensor, x_mask: Tensor | None = None) -> Tensor:
        """Apply the residual convolutions."""
        for conv in self.convs:
            xt = F.leaky_relu(x, LRELU_SLOPE)
            if x_mask is not None:
                xt = xt * x_mask
            x = conv(xt) + x
        if x_mask is not None:
            x = x * x_mask
        return x

    def forward_cl(self, x: Tensor) -> Tensor:
        """Inference on a channels-last ``(B, C, 1, T)`` map (``x`` is not modified)."""
        for n, conv in enumerate(self.convs):
            x = conv_add_cl(F.leaky_relu(x, LRELU_SLOPE), conv, x, inplace=n > 0)
        return x


def _resblock_class(kind: str | int) -> type[nn.Module]:
    kind = str(kind)
    if kind == "1":
        return ResBlock1
    if kind == "2":
        return ResBlock2
    raise ValueError(f"resblock must be '1' or '2', got {kind!r}")


class Generator(nn.Module):
    """HiFi-GAN generator: conv, (leaky ReLU, transposed conv, averaged resblocks) x N, conv.

    Args:
        initial_channel: Input channels (80 mel bands for HiFi-GAN; VITS: ``inter_channels``).
        resblock: ``"1"`` (:class:`ResBlock1`) or ``"2"`` (:class:`ResBlock2`).
        resblock_kernel_sizes: Kernel of each resblock in a stage.
        resblock_dilation_sizes: Dilations of each resblock in a stage.
        upsample_rates: Upsampling factor of each stage (product = hop size).
        upsample_initial_channel: Channels after ``conv_pre``; halved by every stage.
        upsample_kernel_sizes: Transposed-convolution kernel of each stage.
        gin_channels: Global (speaker) conditioning channels, added after ``conv_pre``
            through the 1x1 conv ``cond`` (VITS/RVC); 0 for none.
        weight_norm_io: ``conv_pre`` and ``conv_post`` are weight-normed and ``conv_post``
            has a bias (jik876 HiFi-GAN); False: both plain, ``conv_post`` without bias
            (VITS, RVC).

    Shape:
        ``x`` ``(B, initial_channel, T)``, ``g`` ``(B, gin, 1)`` ->
        ``(B, 1, T * prod(upsample_rates))`` in ``[-1, 1]``.
    """

    def __init__(
        self,
        initial_channel: int,
        resblock: str | int,
        resblock_kernel_sizes: Sequence[int],
        resblock_dilation_sizes: Sequence[Sequence[int]],
        upsample_rates: Sequence[int],
        upsample_initial_channel: int,
        upsample_kernel_sizes: Sequence[int],
        gin_channels: int = 0,
        *,
        weight_norm_io: bool = False,
    ) -> None:
        super().__init__()
        if len(upsample_rates) != len(upsample_kernel_sizes):
            raise ValueError("upsample_rates and upsample_kernel_sizes differ in length")
        if len(resblock_kernel_sizes) != len(resblock_dilation_sizes):
            raise ValueError("resblock_kernel_sizes and resblock_dilation_sizes differ in length")
        self.num_kernels = len(resblock_kernel_sizes)
        self.num_upsamples = len(upsample_rates)
        self.hop_length = int(torch.tensor(list(upsample_rates)).prod())
        conv_io = WNConv1d if weight_norm_io else nn.Conv1d
        self.conv_pre = conv_io(initial_channel, upsample_initial_channel, 7, 1, padding=3)
        block = _resblock_class(resblock)
        self.ups = nn.ModuleList()
        for i, (u, k) in enumerate(zip(upsample_rates, upsample_kernel_sizes)):
            self.ups.append(
                WNConvTranspose1d(
                    upsample_initial_channel // 2**i,
                    upsample_initial_channel // 2 ** (i + 1),
                    k,
                    u,
                    padding=(k - u) // 2,
                )
            )
        self.resblocks = nn.ModuleList()
        ch = upsample_initial_channel
        for i in range(self.num_upsamples):
            ch = upsample_initial_channel // 2 ** (i + 1)
            for k, d in zip(resblock_kernel_sizes, resblock_dilation_sizes):
                self.resblocks.append(block(ch, k, d))
        self.conv_post = conv_io(ch, 1, 7, 1, padding=3, bias=weight_norm_io)
        for up in self.ups:
            nn.init.normal_(up.weight_v, 0.0, 0.01)
        if gin_channels:
            self.cond = nn.Conv1d(gin_channels, upsample_initial_channel, 1)
        #: Use the channels-last inference path when no gradients are needed (CPU).
        self.fast_inference = True

    def stage(self, i: int, x: Tensor) -> Tensor:
        """The averaged outputs of stage ``i``'s residual blocks.

        Shape:
            ``(B, C_i, T_i)`` -> ``(B, C_i, T_i)``.
        """
        blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
        xs = blocks[0](x)
        for block in blocks[1:]:
            xs = xs + block(x)
        return xs / self.num_kernels

    def forward(self, x: Tensor, g: Tensor | None = None) -> Tensor:
        """Synthesise the waveform.

        Without gradients on the CPU (``torch.inference_mode()`` / ``no_grad``), and unless
        ``fast_inference`` is False, the same computation runs on channels-last maps with
        fused activations and residual additions (:meth:`forward_cl`): about twice as fast,
        equal up to float rounding. Tracing and ONNX export take the plain path; forward
        hooks on the layers only fire on the plain path.
        """
        if (
            self.fast_inference
            and not torch.is_grad_enabled()
            and x.device.type == "cpu"
            and not torch.jit.is_tracing()
            and not torch.onnx.is_in_onnx_export()
        ):
            return self.forward_cl(x, g)
        x = self.conv_pre(x)
        if g is not None:
            x = x + self.cond(g)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))
            x = self.stage(i, x)
        x = self.conv_post(F.leaky_relu(x))
        return torch.tanh(x)

    def forward_cl(self, x: Tensor, g: Tensor | None = None) -> Tensor:
        """Inference path of :meth:`forward` on channels-last ``(B, C, 1, T)`` maps.

        Shape:
            ``x`` ``(B, initial_channel, T)``, ``g`` ``(B, gin, 1)`` -> ``(B, 1, T * hop)``.
        """
        h = conv_cl(to_channels_last(x), self.conv_pre)
        if g is not None:
            h.add_(self.cond(g).unsqueeze(2))
        for i, up in enumerate(self.ups):
            h = conv_transpose_cl(F.leaky_relu_(h, LRELU_SLOPE), up)
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0].forward_cl(h)
            for block in blocks[1:]:
                xs.add_(block.forward_cl(h))
            h = xs.div_(self.num_kernels)
        h = conv_cl(F.leaky_relu_(h), self.conv_post)
        return from_channels_last(torch.tanh_(h))


# --------------------------------------------------------------------------- loading


def build_hifigan(config: str | os.PathLike | Mapping[str, Any]) -> Generator:
    """A randomly initialised jik876 HiFi-GAN generator for an official ``config.json``.

    The returned module has ``config`` (the dict), ``sample_rate`` and ``hop_length``.
    """
    h = read_json_config(config, what="HiFi-GAN")
    require_keys(h, GENERATOR_KEYS, what="HiFi-GAN")
    model = Generator(
        int(h.get("num_mels", 80)),
        h["resblock"],
        h["resblock_kernel_sizes"],
        h["resblock_dilation_sizes"],
        h["upsample_rates"],
        h["upsample_initial_channel"],
        h["upsample_kernel_sizes"],
        weight_norm_io=True,
    )
    model.config = h
    model.sample_rate = int(h.get("sampling_rate", 22050))
    hop = int(h.get("hop_size", model.hop_length))
    if hop != model.hop_length:
        raise CheckpointError(
            f"HiFi-GAN config: hop_size {hop} differs from prod(upsample_rates) = "
            f"{model.hop_length}; fix the config"
        )
    return model


def read_generator_state(checkpoint: str | os.PathLike | Mapping[str, Any]) -> dict:
    """The generator state dict of a jik876 checkpoint (``{"generator": sd}`` or plain sd).

    Reads files with ``torch.load(weights_only=True)`` (never executes pickled code).
    """
    from voxlab.models.checkpoints import load_state_dict_safely, unwrap_state_dict

    if isinstance(checkpoint, Mapping):
        state, source = checkpoint, "state dict"
    else:
        state, source = load_state_dict_safely(checkpoint, unwrap=False), str(checkpoint)
    inner = state.get("generator")
    if isinstance(inner, Mapping):
        state = inner
    elif "mpd" in state or "msd" in state:
        raise CheckpointError(
            f"{source} is a HiFi-GAN discriminator checkpoint (do_XXXXXXXX); pass the "
            "generator file g_XXXXXXXX instead"
        )
    return weight_norm_keys_to_official(unwrap_state_dict(state, source=source))


def load_state_strict(model: nn.Module, state: Mapping[str, Tensor], *, source: str, hint: str):
    """Strict key and shape matching (voxlab's checkpoint loader), naming ``source``.

    A state dict saved after weight-norm removal (``weight`` instead of ``weight_g`` /
    ``weight_v``) loads into a folded copy of the model.
    """
    from voxlab.models.checkpoints import load_checkpoint_into

    if not any(k.endswith(".weight_v") for k in state):
        remove_weight_norm(model)
    try:
        load_checkpoint_into(model, dict(state), adapter=None)
    except CheckpointError as exc:
        detail = str(exc).split(": ", 1)[-1].split(". Check that")[0]
        raise CheckpointError(
            f"{source} does not match {hint}: {detail}. Check that the config is the one "
            "the checkpoint was trained with."
        ) from exc
    return model


def load_hifigan(
    checkpoint: str | os.PathLike | Mapping[str, Any],
    config: str | os.PathLike | Mapping[str, Any],
    *,
    fold_weight_norm: bool = True,
) -> Generator:
    """Load an official jik876 HiFi-GAN generator (V1/V2/V3 or any config) for inference.

    Args:
        checkpoint: ``g_XXXXXXXX`` file (``{"generator": state_dict}``), a plain state dict
            file, or the dict itself.
        config: The ``config.json`` the checkpoint was trained with (or its dict).
        fold_weight_norm: Fold ``w = g * v / ||v||`` once, as the official
            ``inference.py`` does with ``remove_weight_norm()``.

    Returns:
        The generator in eval mode: ``model(mel)`` with mel ``(B, num_mels, T)`` (natural
        log magnitudes, :func:`mel_spectrogram`) returns audio ``(B, 1, T * hop)`` in
        ``[-1, 1]``. ``model.sample_rate`` and ``model.config`` say what it was trained on.

    Raises:
        CheckpointError: Missing, corrupt or unsafe file, or keys/shapes that do not match
            the config.
        ConfigError: Missing or incomplete config.
    """
    model = build_hifigan(config)
    source = str(checkpoint) if not isinstance(checkpoint, Mapping) else "state dict"
    state = read_generator_state(checkpoint)
    cfg = Path(config).name if not isinstance(config, Mapping) else "the given config"
    load_state_strict(model, state, source=source, hint=f"the HiFi-GAN generator of {cfg}")
    model.eval()
    if fold_weight_norm:
        remove_weight_norm(model)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def mel_spectrogram(
    audio: Tensor,
    *,
    n_fft: int = 1024,
    num_mels: int = 80,
    sampling_rate: int = 22050,
    hop_size: int = 256,
    win_size: int = 1024,
    fmin: float = 0.0,
    fmax: float | None = 8000.0,
) -> Tensor:
    """HiFi-GAN's mel analysis (jik876 ``meldataset.mel_spectrogram``, ``center=False``).

    Reflect-pads ``(n_fft - hop) / 2`` on both sides, takes an STFT with a periodic Hann
    window, the magnitude ``sqrt(re^2 + im^2 + 1e-9)``, a slaney mel filterbank (as
    librosa's) and ``log(max(x, 1e-5))``.

    Args:
        audio: Samples in ``[-1, 1]`` at ``sampling_rate``. Shape: ``(B, N)`` or ``(N,)``.
        n_fft: FFT size (config ``n_fft``).
        num_mels: Mel bands (``num_mels``).
        sampling_rate: Sample rate in Hz (``sampling_rate``).
        hop_size: Hop in samples (``hop_size``).
        win_size: Hann window length (``win_size``).
        fmin: Lowest filter edge in Hz (``fmin``).
        fmax: Highest filter edge in Hz (``fmax``; None = Nyquist).

    Returns:
        Log-mel spectrogram. Shape: ``(B, num_mels, N // hop_size)`` (``B = 1`` for 1-D).
    """
    from voxlab.features.functional import mel_filterbank

    if audio.dim() == 1:
        audio = audio.unsqueeze(0)
    pad = (n_fft - hop_size) // 2
    y = F.pad(audio.unsqueeze(1), (pad, pad), mode="reflect").squeeze(1)
    window = torch.hann_window(win_size, dtype=audio.dtype, device=audio.device)
    spec = torch.stft(
        y,
        n_fft,
        hop_length=hop_size,
        win_length=win_size,
        window=window,
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )
    mag = torch.sqrt(spec.real.pow(2) + spec.imag.pow(2) + 1e-9)
    fb = mel_filterbank(
        sample_rate=sampling_rate,
        n_fft=n_fft,
        n_mels=num_mels,
        fmin=fmin,
        fmax=fmax,
        dtype=mag.dtype,
        device=mag.device,
    )
    return torch.log(torch.clamp(torch.matmul(fb, mag), min=1e-5))


def vocode_file(
    source: str | os.PathLike,
    model: Generator,
    *,
    checkpoint_name: str = "hifigan",
) -> Generated:
    """Copy-synthesis: an audio file (or a ``.npy`` mel) through a loaded HiFi-GAN.

    Audio is decoded and resampled to the model's rate, then analysed with the config's
    own mel settings (:func:`mel_spectrogram`: ``n_fft``, ``hop_size``, ``win_size``,
    ``fmin``, ``fmax``, ``num_mels``); a ``.npy`` file is taken as the mel itself,
    shaped ``(num_mels, T)`` or ``(1, num_mels, T)`` (natural-log magnitudes).

    Args:
        source: Audio file or ``.npy`` mel.
        model: From :func:`load_hifigan`.
        checkpoint_name: Names the system (``hifigan:<name>``) in the provenance.

    Returns:
        The waveform at ``model.sample_rate`` with its provenance.

    Raises:
        AudioError: Unreadable audio.
        DataError: A ``.npy`` file that is not a mel of the model's shape.
    """
    import numpy as np

    from voxlab.audio import load
    from voxlab.errors import DataError

    h = getattr(model, "config", {})
    num_mels = int(h.get("num_mels", model.conv_pre.in_channels))
    path = Path(source)
    if path.suffix.lower() == ".npy":
        try:
            mel_np = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read mel {path}: {exc}; save it with numpy.save") from exc
        if mel_np.ndim == 3 and mel_np.shape[0] == 1:
            mel_np = mel_np[0]
        if mel_np.ndim != 2 or mel_np.shape[0] != num_mels or mel_np.shape[1] < 1:
            raise DataError(
                f"mel {path} has shape {mel_np.shape}; this HiFi-GAN needs ({num_mels}, T) "
                "natural-log mel magnitudes (HiFi-GAN's own analysis)"
            )
        if not np.isfinite(mel_np).all():
            raise DataError(f"mel {path} holds NaN or Inf values")
        mel = torch.from_numpy(mel_np.astype(np.float32)).unsqueeze(0)
        kind = "mel"
    else:
        audio, _ = load(path, sr=model.sample_rate)
        mel = mel_spectrogram(
            torch.from_numpy(audio),
            n_fft=int(h.get("n_fft", 1024)),
            num_mels=num_mels,
            sampling_rate=model.sample_rate,
            hop_size=int(h.get("hop_size", 256)),
            win_size=int(h.get("win_size", 1024)),
            fmin=float(h.get("fmin", 0)),
            fmax=h.get("fmax", 8000),
        )
        kind = "audio"
    with torch.inference_mode():
        wave = model(mel)[0, 0].float().numpy()
    params = {
        "vocoder": "hifigan",
        "checkpoint": checkpoint_name,
        "input": kind,
        "frames": int(mel.shape[-1]),
        "source": path.name,
    }
    return Generated(wave, model.sample_rate, f"hifigan:{checkpoint_name}", params)
