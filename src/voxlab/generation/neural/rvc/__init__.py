"""Clean-room RVC (Retrieval-based Voice Conversion) v1/v2 that loads the official exports.

* :func:`load_rvc` reads an export ``.pth`` safely and strictly and returns the eval-mode
  synthesizer with the official ``infer`` signature;
* :mod:`.pipeline` converts audio end to end (HuBERT/ContentVec content features, F0 by
  pyworld or the user's RMVPE, coarse pitch, optional faiss ``.index`` retrieval) --
  ``voxlab convert``;
* :mod:`.attack`: the corpus attack system ``R01``.

Imports are lazy: torch loads on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "CONFIG_FIELDS": "config",
    "RVCConfig": "config",
    "config_from_export": "config",
    "load_rvc": "loading",
    "read_export": "loading",
    "RVCSynthesizer": "synthesizer",
    "RVCSynthesizerF0": "synthesizer",
    "RVCSynthesizerNoF0": "synthesizer",
    "build_synthesizer": "synthesizer",
    "RVCConverter": "pipeline",
    "ConvertOptions": "pipeline",
    "load_content_encoder": "hubert",
    "load_rmvpe": "rmvpe",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
