"""LPC (vs librosa and the Yule-Walker solution), LPCC and formants."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.linalg
import scipy.signal
import torch

from voxlab.errors import ConfigError
from voxlab.features import lpc as L

SR = 16_000


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    e = np.random.default_rng(0).standard_normal(4000)
    y = scipy.signal.lfilter([1.0], [1.0, -1.3, 0.8, -0.2], e)
    return np.stack([y[i * 200 : i * 200 + 800] for i in range(12)])


def test_burg_equals_librosa(frames):
    ours = L.lpc(torch.from_numpy(frames), order=10, method="burg").numpy()
    np.testing.assert_allclose(ours, librosa.lpc(frames, order=10), atol=1e-10)


def test_autocorrelation_is_yule_walker_and_close_to_librosa(frames):
    windowed = frames * np.hanning(frames.shape[1])
    ours = L.lpc(torch.from_numpy(windowed), order=8).numpy()
    r = np.stack([np.correlate(f, f, "full")[f.size - 1 : f.size + 8] for f in windowed])
    yw = np.stack([np.r_[1.0, scipy.linalg.solve_toeplitz(ri[:8], -ri[1:9])] for ri in r])
    np.testing.assert_allclose(ours, yw, atol=1e-10)
    # librosa.lpc is Burg's method; on Hann-windowed frames it and the autocorrelation
    # method agree to 1e-6, on rectangular frames of this AR(3) process to 0.05.
    np.testing.assert_allclose(ours, librosa.lpc(windowed, order=8), atol=1e-6)
    raw = L.lpc(torch.from_numpy(frames), order=8).numpy()
    np.testing.assert_allclose(raw, librosa.lpc(frames, order=8), atol=0.05)


def test_lpc_batched_float32_and_gradient(frames):
    x = torch.from_numpy(frames.reshape(3, 4, -1)).float()
    a = L.lpc(x, order=6)
    assert a.shape == (3, 4, 7) and a.dtype == torch.float32
    torch.testing.assert_close(a[1, 2], L.lpc(x[1, 2], order=6), rtol=1e-4, atol=1e-5)
    xd = torch.from_numpy(frames[0]).requires_grad_(True)
    L.lpc(xd, order=4).sum().backward()
    assert torch.isfinite(xd.grad).all() and xd.grad.abs().sum() > 0


def test_lpcc_is_cepstrum_of_all_pole_model(frames):
    a, err = L.lpc(torch.from_numpy(frames[:3]), order=8, return_error=True)
    c = L.lpcc(a, n_ceps=20, error=err).numpy()
    for i in range(3):
        spectrum = np.sqrt(err[i].item()) / np.fft.fft(a[i].numpy(), 8192)
        real_cep = np.fft.ifft(np.log(np.abs(spectrum))).real
        # Minimum-phase model: complex cepstrum = 2 x real cepstrum for n >= 1.
        np.testing.assert_allclose(c[i, 1:], 2 * real_cep[1:20], atol=1e-9)
        assert c[i, 0] == pytest.approx(real_cep[0], abs=1e-9)


def _vowel(formants, f0=120, seconds=0.5):
    n = int(SR * seconds)
    sig = np.zeros(n)
    sig[:: SR // f0] = 1.0
    for freq, bw in formants:
        r = np.exp(-np.pi * bw / SR)
        sig = scipy.signal.lfilter([1.0], [1.0, -2 * r * np.cos(2 * np.pi * freq / SR), r * r], sig)
    return sig


@pytest.mark.parametrize("f0", [100, 150])
@pytest.mark.parametrize(
    "vowel", [[(700, 80), (1220, 90), (2600, 120)], [(500, 70), (1500, 90), (2500, 120)]]
)
def test_formants_of_a_synthetic_vowel(vowel, f0):
    freqs, bws = L.formants(torch.from_numpy(_vowel(vowel, f0)), sample_rate=SR, n_formants=3)
    assert freqs.shape == bws.shape and freqs.shape[0] == 3
    est = np.nanmedian(freqs.numpy(), axis=1)
    true = np.array([f for f, _ in vowel])
    assert abs(est[0] / true[0] - 1) < 0.10  # F1 within 10 %
    assert abs(est[1] / true[1] - 1) < 0.05  # F2 within 5 %
    assert np.all(np.nanmedian(bws.numpy(), axis=1)[:2] < 400)


def test_formants_from_lpc_of_known_resonator():
    r, freq = 0.98, 1000.0
    theta = 2 * np.pi * freq / SR
    a = torch.tensor([1.0, -2 * r * np.cos(theta), r * r], dtype=torch.float64)
    f, bw = L.formants_from_lpc(a, sample_rate=SR, n_formants=2)
    assert f[0].item() == pytest.approx(freq, rel=1e-9)
    assert bw[0].item() == pytest.approx(-np.log(r) * SR / np.pi, rel=1e-9)
    assert torch.isnan(f[1]) and torch.isnan(bw[1])


def test_bad_arguments():
    with pytest.raises(ConfigError, match="order"):
        L.lpc(torch.zeros(10), order=12)
    with pytest.raises(ConfigError, match="method"):
        L.lpc(torch.zeros(100), order=4, method="covariance")
    with pytest.raises(ConfigError, match="sample_rate"):
        L.formants(torch.zeros(1000), sample_rate=0)
