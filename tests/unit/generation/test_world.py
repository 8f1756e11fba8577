import numpy as np
import pytest

from voxlab.errors import AudioError, ConfigError
from voxlab.generation import world


def _freqt_reference(c, out_order, alpha):
    """SPTK's freqt recursion, written out as in the C code, for one vector."""
    beta = 1 - alpha * alpha
    d = np.zeros(out_order + 1)
    g = np.zeros(out_order + 1)
    for i in range(len(c) - 1, -1, -1):
        d[0] = g[0]
        g[0] = c[i] + alpha * d[0]
        if out_order >= 1:
            d[1] = g[1]
            g[1] = beta * d[0] + alpha * d[1]
        for j in range(2, out_order + 1):
            d[j] = g[j]
            g[j] = d[j - 1] + alpha * (d[j] - g[j - 1])
    return g


def _harmonic(f0=150.0, seconds=1.0, sr=16_000):
    t = np.arange(int(seconds * sr)) / sr
    return sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 20)).astype(np.float32) * 0.2


def test_mcep_alpha_matches_sptk_values():
    # pysptk.util.mcepalpha: 0.41 at 16 kHz, 0.455 at 22.05 kHz, 0.544 at 44.1 kHz.
    assert world.mcep_alpha(16_000) == pytest.approx(0.41)
    assert world.mcep_alpha(22_050) == pytest.approx(0.455)
    assert world.mcep_alpha(44_100) == pytest.approx(0.544)


def test_freqt_matrix_equals_the_recursion():
    rng = np.random.default_rng(0)
    c = rng.standard_normal((3, 40))
    got = world.freqt(c, 24, 0.41)
    for row, out in zip(c, got, strict=True):
        np.testing.assert_allclose(out, _freqt_reference(row, 24, 0.41), atol=1e-12)
    # alpha = 0 is the identity (truncation).
    np.testing.assert_allclose(world.freqt(c, 24, 0.0), c[:, :25], atol=1e-12)


def test_mcep_evaluates_to_the_log_spectrum_on_the_warped_axis():
    # A smooth envelope given by a few cepstral coefficients is represented exactly:
    # log|H(w)| = sum_m mc_m cos(m * warped(w)).
    fft_size, alpha = 1024, 0.41
    w = np.linspace(0, np.pi, fft_size // 2 + 1)
    log_amp = 0.5 + 0.8 * np.cos(w) - 0.3 * np.cos(2 * w) + 0.1 * np.cos(3 * w)
    sp = np.exp(2 * log_amp)[None]
    mc = world.sp_to_mcep(sp, order=60, alpha=alpha)[0]
    warped = w + 2 * np.arctan(alpha * np.sin(w) / (1 - alpha * np.cos(w)))
    rebuilt = np.cos(np.outer(warped, np.arange(61))) @ mc
    np.testing.assert_allclose(rebuilt, log_amp, atol=1e-3)
    back = world.mcep_to_sp(mc[None], fft_size=fft_size, alpha=alpha)
    np.testing.assert_allclose(10 * np.log10(back / sp), 0.0, atol=0.02)


def test_mcep_round_trip_on_speech(speech):
    feats = world.analyze(speech(), 16_000)
    sp = feats.sp[feats.f0 > 0]
    high = world.mcep_to_sp(world.sp_to_mcep(sp, order=120), fft_size=feats.fft_size)
    low = world.mcep_to_sp(world.sp_to_mcep(sp, order=12), fft_size=feats.fft_size)
    err_high = np.mean(np.abs(10 * np.log10(high / sp)))
    err_low = np.mean(np.abs(10 * np.log10(low / sp)))
    assert err_high < 1.0 and err_low > 2 * err_high  # dB: order 12 is only a sketch


def test_mcd_definition():
    a = np.zeros((5, 25))
    b = a.copy()
    b[:, 1] = 0.1
    b[:, 0] = 5.0  # the energy term is ignored
    expected = 10 / np.log(10) * np.sqrt(2 * 0.01)
    assert world.mel_cepstral_distortion(a, b) == pytest.approx(expected)
    assert world.mel_cepstral_distortion(a, a) == 0.0
    with pytest.raises(ConfigError):
        world.mel_cepstral_distortion(a, b[:, :10])


@pytest.mark.parametrize("method", ["dio", "harvest"])
def test_f0_trackers_find_the_pitch(method):
    f0 = world.extract_f0(_harmonic(150.0), 16_000, method=method)
    voiced = f0[f0 > 0]
    assert len(voiced) > 0.8 * len(f0)
    assert np.median(voiced) == pytest.approx(150.0, rel=0.02)


def test_analysis_synthesis_is_deterministic_and_faithful(speech):
    x = speech()
    feats = world.analyze(x, 16_000)
    assert feats.sp.shape == feats.ap.shape == (len(feats.f0), feats.fft_size // 2 + 1)
    assert feats.f0.shape[0] == pytest.approx(len(x) / 80, abs=2)
    y1, y2 = world.synthesize(feats), world.synthesize(feats)
    np.testing.assert_array_equal(y1, y2)
    assert abs(len(y1) - len(x)) < 200
    f0_back = world.extract_f0(y1[: len(x)], 16_000)
    both = (feats.f0 > 0) & (f0_back[: len(feats.f0)] > 0)
    assert np.median(f0_back[: len(feats.f0)][both] / feats.f0[both]) == pytest.approx(1, abs=0.02)


def test_errors():
    with pytest.raises(AudioError, match="50 ms"):
        world.analyze(np.zeros(100), 16_000)
    with pytest.raises(AudioError, match="NaN"):
        world.analyze(np.full(16_000, np.nan), 16_000)
    with pytest.raises(ConfigError, match="F0 method"):
        world.extract_f0(_harmonic(), 16_000, method="yin")


def test_smooth_time():
    x = np.arange(10.0)[:, None]
    np.testing.assert_allclose(world.smooth_time(x, 1), x)
    smoothed = world.smooth_time(x, 3)
    assert smoothed.shape == x.shape
    np.testing.assert_allclose(smoothed[1:-1, 0], x[1:-1, 0])  # linear ramps are kept
