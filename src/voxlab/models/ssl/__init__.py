"""Self-supervised speech front ends (wav2vec 2.0, XLS-R, WavLM, HuBERT) for countermeasures.

* :mod:`~voxlab.models.ssl.config`: the front end's architecture, read off a checkpoint's
  shapes or from a JSON config;
* :mod:`~voxlab.models.ssl.keys`: fairseq and Hugging Face key layouts -> ``transformers``;
* :mod:`~voxlab.models.ssl.frontend`: the encoder module (``transformers``, imported lazily);
* :mod:`~voxlab.models.ssl.loading`: official SSL-AASIST / XLSR-SLS checkpoints -> models.
"""

from voxlab.models.ssl.config import (
    XLSR_300M,
    SSLFrontendConfig,
    frontend_config_from_dict,
    infer_frontend_config,
    load_frontend_config,
)

__all__ = [
    "XLSR_300M",
    "SSLFrontendConfig",
    "frontend_config_from_dict",
    "infer_frontend_config",
    "load_frontend_config",
]
