"""Acoustic features in PyTorch, batched over leading dims, on the input's device and dtype.

``functional`` holds pure functions (STFT, mel, MFCC, deltas, LFCC, CQT/CQCC), ``prosody``
F0 / energy / zero-crossing rate, ``lpc`` LPC / LPCC / formants, ``modules`` thin
``nn.Module`` wrappers holding windows and filterbanks as buffers.
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

__all__ = [
    "LFCC_PRESETS",
    "cqcc",
    "cqt",
    "deltas",
    "htk_deltas",
    "lfcc",
    "linear_filterbank",
    "log_mel",
    "mel_filterbank",
    "mel_spectrogram",
    "mfcc",
    "power_to_db",
    "spectrogram",
    "stft",
]
