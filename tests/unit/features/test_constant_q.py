"""CQT (CQT-toolbox definition) and CQCC (ASVspoof baseline)."""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest
import torch

from voxlab.errors import ConfigError
from voxlab.features import constant_q as C
from voxlab.testing import chirp, noise

SR = 16_000


def test_cqcc_frame_count_and_dims_match_the_official_baseline():
    # The ASVspoof GMM baselines call cqcc(x, 16000, 96, 8000, 15.625, 16, 29, 'ZsdD'); on
    # 4 s of audio (64,000 samples) the MATLAB code returns a 90 x 469 matrix.
    x = torch.from_numpy(noise(seconds=4.0))
    out = C.cqcc(x, sample_rate=SR, n_ceps=29)
    assert out.shape == (90, 469)
    assert C.cqcc(x, sample_rate=SR).shape == (60, 469)  # defaults: cf=19, 'ZsdD'
    assert C.cqcc(x, sample_rate=SR, include_c0=False, with_deltas=False).shape == (19, 469)
    # 863 constant-Q bins between 15.625 Hz and the highest bin that fits below Nyquist.
    freqs = C.cqt_frequencies(sample_rate=SR, gamma=C.cqcc_gamma(96))
    assert freqs.size == 863 and freqs[0] == pytest.approx(15.625)


def test_cqcc_is_deterministic_and_finite():
    x = torch.from_numpy(chirp(seconds=1.0))
    a, b = C.cqcc(x, sample_rate=SR), C.cqcc(x, sample_rate=SR)
    assert torch.equal(a, b) and torch.isfinite(a).all()


def test_cqcc_deltas_are_htk_regression_of_statics():
    x = torch.from_numpy(chirp(seconds=1.0).astype(np.float64))
    full = C.cqcc(x, sample_rate=SR)
    static = C.cqcc(x, sample_rate=SR, with_deltas=False)
    torch.testing.assert_close(full[:20], static)
    t = 50
    expected = sum(n * (static[:, t + n] - static[:, t - n]) for n in (1, 2, 3)) / 28
    torch.testing.assert_close(full[20:40, t], expected)


def test_cqcc_separates_tones_from_noise():
    # c0 follows the level: a louder copy has a larger c0 by ~log(gain^2) * sqrt(n)/... > 0.
    x = torch.from_numpy(noise(seconds=1.0))
    quiet = C.cqcc(x, sample_rate=SR, with_deltas=False)
    loud = C.cqcc(10 * x, sample_rate=SR, with_deltas=False)
    assert (loud[0] > quiet[0]).all()
    # Higher coefficients are gain-invariant (the log turns gain into an offset on c0 only).
    torch.testing.assert_close(loud[1:], quiet[1:], rtol=1e-3, atol=1e-3)


def test_cqt_sine_normalisation():
    # A sinusoid of amplitude A exactly on a bin centre gives |c| = A at that bin.
    n, fmin, bins = 32_000, 55.0, 24
    _, _, m = C._plan(n, float(SR), bins, fmin, SR / 2, 0.0)
    k = 60
    freqs = C.cqt_frequencies(sample_rate=SR, bins_per_octave=bins, fmin=fmin)
    posit = int(np.floor(freqs[k] * n / SR))
    t = np.arange(n) / SR
    x = 0.3 * np.cos(2 * np.pi * posit * SR / n * t)
    c = C.cqt(torch.from_numpy(x), sample_rate=SR, bins_per_octave=bins, fmin=fmin).abs()
    assert c.shape == (freqs.size, m)
    np.testing.assert_allclose(c[k].numpy(), 0.3, rtol=1e-6)
    assert c[k].mean() > 5 * c[k + 4].mean()


@pytest.mark.parametrize("freq", [110.0, 440.0, 1000.0, 3000.0])
def test_cqt_peak_bin_agrees_with_librosa(freq):
    # librosa's CQT is another definition (time-domain kernels of Q sr / f samples, recursive
    # downsampling) while the toolbox uses frequency-domain Hann windows one bandwidth wide,
    # so magnitudes differ. Where the definitions agree -- which bin a steady tone falls in
    # and on which side of it the tone lies -- the results must be identical.
    bins, fmin = 24, 55.0
    t = np.arange(SR) / SR
    y = 0.5 * np.sin(2 * np.pi * freq * t)
    ours = C.cqt(torch.from_numpy(y), sample_rate=SR, bins_per_octave=bins, fmin=fmin).abs()
    profile = ours[:, ours.shape[1] // 4 : -ours.shape[1] // 4].mean(1).numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa warns about its own short low octaves
        ref = np.abs(librosa.cqt(y, sr=SR, fmin=fmin, n_bins=profile.size, bins_per_octave=bins))
    ref_profile = ref[:, ref.shape[1] // 4 : -ref.shape[1] // 4].mean(1)
    k = int(profile.argmax())
    assert k == int(ref_profile.argmax())
    assert np.sign(profile[k + 1] - profile[k - 1]) == np.sign(
        ref_profile[k + 1] - ref_profile[k - 1]
    )
    assert k == int(round(bins * np.log2(freq / fmin)))


def test_cqt_bad_arguments():
    with pytest.raises(ConfigError, match="fmin"):
        C.cqt(torch.zeros(16000), sample_rate=SR, fmin=9000.0)
    with pytest.raises(ConfigError, match="sample_rate"):
        C.cqcc(torch.zeros(16000), sample_rate=0)
    with pytest.raises(ConfigError, match="too short"):
        C.cqcc(torch.zeros(200), sample_rate=SR)
