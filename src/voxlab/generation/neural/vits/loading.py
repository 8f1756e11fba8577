"""Build VITS from an official config, load official checkpoints, speak text.

``load_vits(checkpoint, config)`` accepts the ``utils.save_checkpoint`` layout
(``{"model": sd, "iteration", "optimizer", "learning_rate"}``, e.g. ``G_<step>.pth`` or
the released ``pretrained_ljs.pth`` / ``pretrained_vctk.pth``) and plain state dicts,
reads them with ``torch.load(weights_only=True)`` and matches keys and shapes strictly.

Licence: the official VITS code is MIT (jaywalnut310/vits); the released LJ Speech and
VCTK checkpoints are trained on public-domain LJ Speech and CC-BY-4.0 VCTK data. voxlab
ships no weights; users bring their own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from voxlab.errors import CheckpointError
from voxlab.generation.neural.commons import (
    read_json_config,
    remove_weight_norm,
    require_keys,
    weight_norm_keys_to_official,
)
from voxlab.generation.neural.vits.models import SynthesizerTrn
from voxlab.generation.neural.vits.text import SYMBOLS, text_to_ids

MODEL_KEYS = (
    "inter_channels",
    "hidden_channels",
    "filter_channels",
    "n_heads",
    "n_layers",
    "kernel_size",
    "p_dropout",
    "resblock",
    "resblock_kernel_sizes",
    "resblock_dilation_sizes",
    "upsample_rates",
    "upsample_initial_channel",
    "upsample_kernel_sizes",
)


def build_vits(
    config: str | os.PathLike | Mapping[str, Any], *, n_vocab: int | None = None
) -> SynthesizerTrn:
    """A randomly initialised :class:`SynthesizerTrn` for an official VITS ``config.json``.

    Constructor arguments as the official demo: ``n_vocab = len(symbols)`` (178),
    ``spec_channels = filter_length // 2 + 1``, ``segment_size = train.segment_size //
    hop_length``, ``n_speakers = data.n_speakers``, the ``model`` section as keywords.

    Args:
        config: Path or parsed dict.
        n_vocab: Symbol count, for models trained with another symbol table.

    Raises:
        ConfigError: The config lacks a needed entry.
    """
    hps = read_json_config(config, what="VITS")
    require_keys(hps, ("data", "model"), what="VITS")
    data, model_cfg = hps["data"], dict(hps["model"])
    require_keys(data, ("filter_length", "hop_length", "sampling_rate"), what="VITS data")
    require_keys(model_cfg, MODEL_KEYS, what="VITS model")
    segment = int(hps.get("train", {}).get("segment_size", 8192)) // int(data["hop_length"])
    model = SynthesizerTrn(
        n_vocab or len(SYMBOLS),
        int(data["filter_length"]) // 2 + 1,
        segment,
        n_speakers=int(data.get("n_speakers", 0)),
        **model_cfg,
    )
    model.config = hps
    model.sample_rate = int(data["sampling_rate"])
    model.add_blank = bool(data.get("add_blank", True))
    model.text_cleaners = list(data.get("text_cleaners", ["english_cleaners2"]))
    return model


def read_model_state(checkpoint: str | os.PathLike | Mapping[str, Any]) -> dict:
    """The generator state dict of a VITS checkpoint (``{"model": sd, ...}`` or plain)."""
    from voxlab.models.checkpoints import load_state_dict_safely, unwrap_state_dict

    if isinstance(checkpoint, Mapping):
        state, source = unwrap_state_dict(checkpoint, source="state dict"), "state dict"
    else:
        state, source = load_state_dict_safely(checkpoint), str(checkpoint)
    if any(k.startswith("discriminators.") for k in state):
        raise CheckpointError(
            f"{source} is a VITS discriminator checkpoint (D_<step>.pth); pass the generator "
            "file G_<step>.pth instead"
        )
    return weight_norm_keys_to_official(state)


def load_vits(
    checkpoint: str | os.PathLike | Mapping[str, Any],
    config: str | os.PathLike | Mapping[str, Any],
    *,
    fold_weight_norm: bool = True,
    n_vocab: int | None = None,
) -> SynthesizerTrn:
    """Load an official VITS generator for inference.

    Args:
        checkpoint: ``G_<step>.pth`` / ``pretrained_*.pth`` (``{"model": sd, ...}``), a
            plain state-dict file, or the dict itself.
        config: The config.json it was trained with (``configs/ljs_base.json``, ...).
        fold_weight_norm: Fold weight norm once (faster). The official demo keeps
            recomputing ``g * v / ||v||`` at every call; results agree up to float rounding.
        n_vocab: Symbol count if the model uses another table than the official 178.

    Returns:
        The model in eval mode; ``model.infer(x, x_lengths, sid=None, noise_scale=0.667,
        length_scale=1, noise_scale_w=0.8, max_len=None, deterministic=None)`` returns
        ``(audio, attn, y_mask, (z, z_p, m_p, logs_p))`` as upstream. ``sample_rate``,
        ``add_blank``, ``text_cleaners`` and ``config`` come from the config.

    Raises:
        CheckpointError: Missing, corrupt or unsafe file, or keys/shapes that do not match.
        ConfigError: Missing or incomplete config.
    """
    from voxlab.generation.neural.hifigan import load_state_strict

    model = build_vits(config, n_vocab=n_vocab)
    source = "state dict" if isinstance(checkpoint, Mapping) else str(checkpoint)
    state = read_model_state(checkpoint)
    cfg = "the given config" if isinstance(config, Mapping) else Path(config).name
    kind = "multi-speaker" if model.n_speakers > 1 else "single-speaker"
    dp = "stochastic" if model.use_sdp else "deterministic"
    symbols = n_vocab or len(SYMBOLS)
    hint = f"the {kind} VITS of {cfg} ({dp} duration predictor, {symbols} symbols)"
    load_state_strict(model, state, source=source, hint=hint)
    model.eval()
    if fold_weight_norm:
        remove_weight_norm(model)
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def synthesize_text(
    model: SynthesizerTrn,
    text: str,
    *,
    speaker: int | None = None,
    noise_scale: float = 0.667,
    noise_scale_w: float = 0.8,
    length_scale: float = 1.0,
    language: str = "en-us",
    deterministic: bool | None = None,
    return_durations: bool = False,
):
    """Speak ``text`` with a loaded VITS model (the official demo's ``get_text`` + ``infer``).

    Args:
        model: From :func:`load_vits`.
        text: What to say.
        speaker: Speaker id (multi-speaker models; default 0).
        noise_scale: Prior noise scale.
        noise_scale_w: Duration noise scale.
        length_scale: > 1 speaks slower.
        language: espeak-ng voice used for the phonemes.
        deterministic: Zero every random draw.
        return_durations: Also return the symbol ids and the latent frames the duration
            predictor gave each (``w_ceil``; times = frames x ``model.hop_length`` /
            ``model.sample_rate``, see :mod:`voxlab.generation.neural.vits.durations`).

    Returns:
        float32 samples at ``model.sample_rate``. Shape: ``(N,)``. With
        ``return_durations``: ``(samples, ids, frames)``, ``ids`` and ``frames`` lists of
        the input's length.
    """
    ids = text_to_ids(
        text,
        cleaners=getattr(model, "text_cleaners", ["english_cleaners2"]),
        add_blank=getattr(model, "add_blank", True),
        language=language,
    )
    x = torch.tensor([ids], dtype=torch.long)
    x_lengths = torch.tensor([len(ids)], dtype=torch.long)
    sid = None
    if model.n_speakers > 0:
        sid = torch.tensor([0 if speaker is None else int(speaker)], dtype=torch.long)
    with torch.inference_mode():
        audio = model.infer(
            x,
            x_lengths,
            sid=sid,
            noise_scale=noise_scale,
            noise_scale_w=noise_scale_w,
            length_scale=length_scale,
            deterministic=deterministic,
            return_intermediates=return_durations,
        )
    samples = audio[0][0, 0].float()
    if not return_durations:
        return samples
    frames = audio[-1]["w_ceil"][0, 0].round().long().tolist()
    return samples, ids, frames
