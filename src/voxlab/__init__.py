"""voxlab: make synthetic speech, catch it, mark it, measure it."""

from __future__ import annotations

from voxlab._version import __version__
from voxlab.errors import (
    AudioError,
    CheckpointError,
    ConfigError,
    DataError,
    VoxlabError,
)

__all__ = [
    "AudioError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "VoxlabError",
    "__version__",
]
