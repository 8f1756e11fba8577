"""Acoustic features in PyTorch, batched over leading dims, on the input's device and dtype.

``functional`` holds pure functions (STFT, mel, MFCC, deltas, LFCC, CQT/CQCC), ``prosody``
F0 / energy / zero-crossing rate, ``lpc`` LPC / LPCC / formants, ``modules`` thin
``nn.Module`` wrappers holding windows and filterbanks as buffers.

Layout: spectral features are ``(..., n_features, n_frames)`` (librosa/torchaudio order);
per-frame scalars (F0, RMS, ZCR) are ``(..., n_frames)``. The LPC function itself lives at
``voxlab.features.lpc.lpc`` (the package attribute ``lpc`` is that module).
"""

from voxlab.features.functional import (
    LFCC_PRESETS,
    cqcc,
    cqt,
    deltas,
    htk_deltas,
    lfcc,
    linear_filterbank,
    log_mel,
    mel_filterbank,
    mel_spectrogram,
    mfcc,
    power_to_db,
    spectrogram,
    stft,
)
from voxlab.features.lpc import formants, formants_from_lpc, frame_lpc, lpcc
from voxlab.features.modules import (
    CQCC,
    LFCC,
    MFCC,
    Deltas,
    LogMel,
    MelSpectrogram,
    Spectrogram,
)
from voxlab.features.prosody import f0_world, f0_yin, rms, zero_crossing_rate

__all__ = [
    "CQCC",
    "LFCC",
    "LFCC_PRESETS",
    "MFCC",
    "Deltas",
    "LogMel",
    "MelSpectrogram",
    "Spectrogram",
    "cqcc",
    "cqt",
    "deltas",
    "f0_world",
    "f0_yin",
    "formants",
    "formants_from_lpc",
    "frame_lpc",
    "htk_deltas",
    "lfcc",
    "linear_filterbank",
    "log_mel",
    "lpcc",
    "mel_filterbank",
    "mel_spectrogram",
    "mfcc",
    "power_to_db",
    "rms",
    "spectrogram",
    "stft",
    "zero_crossing_rate",
]
