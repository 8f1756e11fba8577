"""Differentiable countermeasures by name or checkpoint (for attacks and explanations)."""

from __future__ import annotations

import os
from pathlib import Path

from torch import nn

from voxlab.errors import ConfigError


def load_model(
    name: str,
    *,
    checkpoint: str | os.PathLike | None = None,
    ssl_config: str | os.PathLike | None = None,
    download: bool = True,
) -> nn.Module:
    """The plain (not inference-optimised) model, in eval mode, gradients available.

    Args:
        name: Catalogue name (``aasist``, ``aasist-l``, ``rawgat-st`` ...; see
            ``voxlab models list``) or, with ``checkpoint``, a registry architecture.
        checkpoint: A checkpoint file instead of the published weights.
        ssl_config: Front-end config of an SSL model's checkpoint.
        download: Allow downloading published weights.

    Raises:
        ConfigError: A non-differentiable model (the GMM baselines).
        CheckpointError: Missing or mismatching weights.
    """
    from voxlab import pretrained
    from voxlab.detection import Detector

    if checkpoint is not None:
        model = Detector.from_checkpoint(
            Path(checkpoint), model=name, optimize=False, ssl_config=ssl_config
        ).model
    else:
        model = pretrained.load_pretrained(name, download=download)
    model.eval()
    if not any(True for _ in model.parameters()) or "gmm" in type(model).__name__.lower():
        raise ConfigError(
            f"{name}: gradients are needed and this model is not differentiable (GMM "
            "baselines); choose a neural countermeasure such as aasist or rawgat-st"
        )
    return model
