"""Clean-room RVC (Retrieval-based Voice Conversion) v1/v2 that loads the official exports.

* :func:`load_rvc` reads an export ``.pth`` safely and strictly and returns the eval-mode
  synthesizer with the official ``infer`` signature;
* :mod:`.pipeline` converts audio end to end (HuBERT/ContentVec content features, F0 by
  pyworld, coarse pitch, optional faiss ``.index`` retrieval) -- ``voxlab convert``.
"""

from voxlab.generation.neural.rvc.config import CONFIG_FIELDS, RVCConfig, config_from_export
from voxlab.generation.neural.rvc.loading import load_rvc, read_export
from voxlab.generation.neural.rvc.synthesizer import (
    RVCSynthesizer,
    RVCSynthesizerF0,
    RVCSynthesizerNoF0,
    build_synthesizer,
)

__all__ = [
    "CONFIG_FIELDS",
    "RVCConfig",
    "RVCSynthesizer",
    "RVCSynthesizerF0",
    "RVCSynthesizerNoF0",
    "build_synthesizer",
    "config_from_export",
    "load_rvc",
    "read_export",
]
