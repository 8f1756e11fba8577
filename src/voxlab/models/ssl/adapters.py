"""Key adapters between the official SSL countermeasure checkpoints and voxlab's modules.

The official SSL-AASIST back end uses clovaai AASIST's module names plus ``LL`` (the
1024 -> 128 projection), ``first_bn1`` (the norm after the encoder) and ``attention``
(same indices as voxlab's). XLSR-SLS keeps its names (``first_bn``, ``fc0``, ``fc1``,
``fc3``). Front-end keys live under ``ssl_model.model.`` in fairseq names and under
``frontend.model.`` in ``transformers`` names in voxlab (:mod:`voxlab.models.ssl.keys`).
"""

from __future__ import annotations

from voxlab.models.checkpoints import AASIST_OFFICIAL, KeyAdapter

SSL_AASIST_BACKEND = KeyAdapter(
    name="tak-ssl-aasist-backend",
    rules=(
        ("LL", "projection"),
        ("first_bn1", "encoder_norm"),
        ("attention", "attention"),
        *AASIST_OFFICIAL.rules,
    ),
    # Residual_block.bn1: computed, then discarded by the official forward.
    ignored=AASIST_OFFICIAL.ignored,
    signature="LL.weight",
    fill_ignored=AASIST_OFFICIAL.fill_ignored,
)

SLS_BACKEND = KeyAdapter(
    name="qishanzhang-xlsr-sls-backend",
    rules=(("first_bn", "norm"), ("fc0", "layer_score"), ("fc1", "fc1"), ("fc3", "fc3")),
    signature="fc0.weight",
)
