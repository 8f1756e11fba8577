"""Neural speech generation: HiFi-GAN, VITS, RVC and the offline TTS engines.

Drop-in loaders for the official checkpoint formats (voxlab's own clean-room code, strict
key matching, ``torch.load(weights_only=True)``)::

    from voxlab.generation.neural import load_hifigan, load_vits

    vocoder = load_hifigan("g_02500000", "config.json")  # model(mel) -> (B, 1, T * hop)
    vits = load_vits("pretrained_ljs.pth", "ljs_base.json")
    audio, attn, y_mask, (z, z_p, m_p, logs_p) = vits.infer(x, x_lengths, noise_scale=0.667)

``deterministic()`` (or ``infer(..., deterministic=True)``) makes every random draw zero, as
the reference fixtures were made. Imports are lazy: torch loads on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "load_hifigan": "voxlab.generation.neural.hifigan",
    "mel_spectrogram": "voxlab.generation.neural.hifigan",
    "load_vits": "voxlab.generation.neural.vits",
    "load_rvc": "voxlab.generation.neural.rvc",
    "deterministic": "voxlab.generation.neural.commons",
    "remove_weight_norm": "voxlab.generation.neural.commons",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
