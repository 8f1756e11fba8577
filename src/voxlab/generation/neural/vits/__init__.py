"""VITS (Kim et al., 2021) on voxlab's clean-room model, loading the official checkpoints.

* :mod:`.models`: ``SynthesizerTrn`` and its parts (official module and key names);
* :mod:`.loading`: :func:`load_vits` / :func:`build_vits` / :func:`synthesize_text`;
* :mod:`.text`: the official 178-symbol table, ``add_blank``, espeak-ng phonemes;
* :mod:`.attack`: HiFi-GAN (``H01``) and VITS (``T01``) corpus attack systems.

Names are imported lazily, so importing this package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "SynthesizerTrn": "voxlab.generation.neural.vits.models",
    "build_vits": "voxlab.generation.neural.vits.loading",
    "load_vits": "voxlab.generation.neural.vits.loading",
    "read_model_state": "voxlab.generation.neural.vits.loading",
    "synthesize_text": "voxlab.generation.neural.vits.loading",
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
