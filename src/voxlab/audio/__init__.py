"""Audio input/output: the only place voxlab touches soundfile, PyAV and soxr."""

from voxlab.audio.backends import AUDIO_EXTENSIONS
from voxlab.audio.io import AudioInfo, info, load, save
from voxlab.audio.resample import resample

__all__ = ["AUDIO_EXTENSIONS", "AudioInfo", "info", "load", "resample", "save"]
