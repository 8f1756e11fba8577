"""F0 (WORLD and YIN), RMS and zero-crossing rate."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch

from voxlab.errors import ConfigError
from voxlab.features import prosody as P
from voxlab.testing import noise, speak, tone

SR = 16_000


@pytest.fixture(scope="module")
def mixed() -> np.ndarray:
    y = tone(220.0, seconds=1.0) + noise(seconds=1.0)
    y[:3000] = 0.0  # exact zeros exercise the ZCR threshold and RMS of silence
    return y.astype(np.float32)


@pytest.mark.parametrize(("frame_length", "hop_length"), [(2048, 512), (400, 160)])
def test_rms_and_zcr_equal_librosa(mixed, frame_length, hop_length):
    x = torch.from_numpy(mixed)
    kw = dict(frame_length=frame_length, hop_length=hop_length)
    ours = P.rms(x, **kw).numpy()
    np.testing.assert_allclose(ours, librosa.feature.rms(y=mixed, **kw)[0], atol=1e-6)
    ours = P.zero_crossing_rate(x, **kw).numpy()
    ref = librosa.feature.zero_crossing_rate(mixed, **kw)[0]
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_rms_zcr_uncentred_and_batched(mixed):
    batch = torch.from_numpy(np.stack([mixed, mixed[::-1].copy()]))
    ours = P.rms(batch, frame_length=512, hop_length=256, center=False)
    ref = librosa.feature.rms(y=batch.numpy(), frame_length=512, hop_length=256, center=False)
    np.testing.assert_allclose(ours.numpy(), ref[:, 0], atol=1e-6)
    zcr = P.zero_crossing_rate(batch, frame_length=512, hop_length=256, center=False)
    ref = librosa.feature.zero_crossing_rate(
        batch.numpy(), frame_length=512, hop_length=256, center=False
    )
    np.testing.assert_allclose(zcr.numpy(), ref[:, 0], atol=1e-6)


def test_rms_gradient_and_float64(mixed):
    x = torch.from_numpy(mixed.astype(np.float64)).requires_grad_(True)
    out = P.rms(x, frame_length=400, hop_length=160)
    assert out.dtype == torch.float64
    out[5:].sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


@pytest.mark.parametrize("freq", [110.0, 220.0, 330.0])
def test_f0_of_a_tone(freq):
    # A whisper of noise: WORLD's harvest finds no F0 in a mathematically pure sine.
    x = torch.from_numpy(tone(freq, seconds=0.5) + noise(seconds=0.5, scale=1e-3))
    n_frames = 1 + x.shape[-1] // 160
    for f0, voiced in (
        P.f0_yin(x, sample_rate=SR),
        P.f0_world(x, sample_rate=SR, method="dio"),
        P.f0_world(x, sample_rate=SR, method="harvest"),
    ):
        assert f0.shape == voiced.shape == (n_frames,)
        assert voiced.float().mean() > 0.9
        assert f0[voiced].median().item() == pytest.approx(freq, rel=0.01)
        assert (f0[~voiced] == 0).all()


def test_yin_unvoiced_on_noise_and_silence():
    f0, voiced = P.f0_yin(torch.from_numpy(noise(seconds=0.5)), sample_rate=SR)
    assert voiced.float().mean() < 0.1
    f0, voiced = P.f0_yin(torch.zeros(8000), sample_rate=SR)
    assert not voiced.any() and (f0 == 0).all()


def test_yin_agrees_with_world_on_espeak_speech(espeak):
    x = torch.from_numpy(speak("Hello there, this is a test of pitch tracking.", sr=SR))
    fy, vy = P.f0_yin(x, sample_rate=SR)
    fh, vh = P.f0_world(x, sample_rate=SR, method="harvest")
    both = vy & vh
    assert both.sum() > 50
    rel = ((fy[both] - fh[both]).abs() / fh[both]).numpy()
    # Frame by frame within 5 % on at least 90 % of the frames both call voiced, and the
    # median F0 of the utterance within 3 %.
    assert np.mean(rel < 0.05) > 0.9
    assert fy[vy].median().item() == pytest.approx(fh[vh].median().item(), rel=0.03)


def test_yin_batch_equals_items_and_device_dtype():
    batch = torch.from_numpy(np.stack([tone(150.0, seconds=0.3), tone(250.0, seconds=0.3)]))
    f0, voiced = P.f0_yin(batch.double(), sample_rate=SR)
    assert f0.dtype == torch.float64
    for i in range(2):
        fi, vi = P.f0_yin(batch[i].double(), sample_rate=SR)
        torch.testing.assert_close(f0[i], fi)
        assert torch.equal(voiced[i], vi)
    fw, _ = P.f0_world(batch, sample_rate=SR)
    assert fw.shape == f0.shape and fw.dtype == torch.float32


def test_bad_arguments():
    with pytest.raises(ConfigError, match="fmin"):
        P.f0_yin(torch.zeros(8000), sample_rate=SR, fmin=600.0, fmax=500.0)
    with pytest.raises(ConfigError, match="sample_rate"):
        P.f0_world(torch.zeros(8000), sample_rate=-1)
    with pytest.raises(ConfigError, match="method"):
        P.f0_world(torch.zeros(8000), sample_rate=SR, method="crepe")
    with pytest.raises(ConfigError, match="frame_length=2048 is longer"):
        P.rms(torch.zeros(100), center=False)
