"""voxlab's error hierarchy.

Every failure a user can cause raises a :class:`VoxlabError` subclass whose message names
the offending file or value and says how to fix it. Library code never calls
``sys.exit``; the CLI turns these errors into one clear line and a non-zero exit code.
"""

from __future__ import annotations


class VoxlabError(Exception):
    """Base class of every error voxlab raises on purpose."""


class AudioError(VoxlabError):
    """Audio could not be read, written or is unusable."""


class AudioFileNotFoundError(AudioError, FileNotFoundError):
    """The path does not exist."""


class NotAFileError(AudioError):
    """The path is a directory or another non-regular file."""


class EmptyAudioError(AudioError):
    """The file is empty or decodes to zero samples."""


class CorruptAudioError(AudioError):
    """The bytes are not decodable audio (random bytes, truncated stream, bad header)."""


class InvalidSamplesError(AudioError):
    """The decoded samples contain NaN or Inf."""


class DurationError(AudioError):
    """The audio is longer than the caller allows."""


class SampleRateError(AudioError):
    """The sample rate is absurd or unsupported."""


class UnsupportedFormatError(AudioError):
    """The container or codec cannot be written or read."""


class CheckpointError(VoxlabError):
    """A checkpoint is missing, unsafe, corrupt or does not match its model."""


class DataError(VoxlabError):
    """A corpus, protocol or manifest is missing or malformed."""


class ConfigError(VoxlabError):
    """A configuration value is invalid."""


class MetricError(VoxlabError, ValueError):
    """Scores or labels cannot produce the requested metric (empty class, NaN, ...)."""


class NoSpeechError(AudioError):
    """The audio is silent or nearly so: there is nothing to judge, so no verdict is given."""


class SmallDataWarning(UserWarning):
    """A model is being fitted on too little data to be meaningful (it will over-fit)."""


class SilentAudioWarning(UserWarning):
    """The audio holds only silence (not an error: silence is valid audio)."""
