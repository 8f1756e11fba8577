"""nn.Module wrappers equal the functional API and carry their buffers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voxlab import features as vf
from voxlab.testing import chirp

SR = 16_000


@pytest.fixture(scope="module")
def batch() -> torch.Tensor:
    return torch.from_numpy(np.stack([chirp(seconds=0.5), chirp(200, 3000, seconds=0.5)]))


CASES = [
    (
        vf.Spectrogram(n_fft=512, hop_length=160),
        lambda x: vf.spectrogram(x, n_fft=512, hop_length=160),
    ),
    (
        vf.MelSpectrogram(sample_rate=SR, n_fft=512, hop_length=160, n_mels=40),
        lambda x: vf.mel_spectrogram(x, sample_rate=SR, n_fft=512, hop_length=160, n_mels=40),
    ),
    (
        vf.LogMel(sample_rate=SR, n_fft=512, hop_length=160, n_mels=40),
        lambda x: vf.log_mel(x, sample_rate=SR, n_fft=512, hop_length=160, n_mels=40),
    ),
    (
        vf.MFCC(sample_rate=SR, n_mfcc=13, lifter=22, n_fft=512, hop_length=160, n_mels=40),
        lambda x: vf.mfcc(
            x, sample_rate=SR, n_mfcc=13, lifter=22, n_fft=512, hop_length=160, n_mels=40
        ),
    ),
    (vf.LFCC(sample_rate=SR), lambda x: vf.lfcc(x, sample_rate=SR)),
    (
        vf.LFCC(sample_rate=SR, **vf.LFCC_PRESETS["asvspoof2021_la_gmm"]),
        lambda x: vf.lfcc(x, sample_rate=SR, **vf.LFCC_PRESETS["asvspoof2021_la_gmm"]),
    ),
    (vf.CQCC(sample_rate=SR, n_ceps=29), lambda x: vf.cqcc(x, sample_rate=SR, n_ceps=29)),
    (vf.Deltas(width=5), lambda x: vf.deltas(x, width=5)),
]


@pytest.mark.parametrize(("module", "fn"), CASES, ids=lambda c: type(c).__name__)
def test_module_equals_functional(module, fn, batch):
    # float64 buffers cast to float32 differ from windows built in float32 by an ulp, which
    # the logs amplify in near-silent bins: float32 within 1e-3 relative / 1e-2 absolute,
    # float64 within 1e-9.
    torch.testing.assert_close(module(batch), fn(batch), rtol=1e-3, atol=1e-2)
    torch.testing.assert_close(
        module.double()(batch.double()), fn(batch.double()), rtol=1e-9, atol=1e-9
    )


def test_buffers_are_not_persistent_and_follow_dtype():
    m = vf.MFCC(sample_rate=SR, n_fft=512, n_mels=40)
    assert m.state_dict() == {}
    names = {n for n, _ in m.named_buffers()}
    assert {"window", "filterbank", "dct"} <= names
    assert m.double().filterbank.dtype == torch.float64
