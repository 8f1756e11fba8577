import numpy as np
import pytest
import torch

from voxlab.features.functional import log_mel
from voxlab.generation import vocoders, world


def _median_f0_ratio(a, b):
    fa = world.extract_f0(a, 16_000, method="harvest")
    fb = world.extract_f0(b, 16_000, method="harvest")
    n = min(len(fa), len(fb))
    both = (fa[:n] > 0) & (fb[:n] > 0)
    assert both.mean() > 0.3
    return float(np.median(fb[:n][both] / fa[:n][both]))


def _cepstral_detail(x):
    """Share of log-spectral energy at high quefrency (fine spectral detail), voiced frames."""
    feats = world.analyze(x, 16_000)
    logsp = np.log(feats.sp[feats.f0 > 0])
    cep = np.fft.irfft(logsp, axis=1)[:, : logsp.shape[1]]
    return float(np.sum(cep[:, 14:] ** 2) / np.sum(cep[:, 1:] ** 2))


def test_log_mel_matches_features_functional(speech):
    x = speech()
    ref = log_mel(
        torch.from_numpy(x.astype(np.float64)),
        sample_rate=16_000,
        n_fft=1024,
        hop_length=256,
        n_mels=80,
        top_db=None,
    ).numpy()
    np.testing.assert_allclose(vocoders.log_mel_spectrogram(x, 16_000), ref, atol=1e-5)  # dB


def test_mel_to_power_is_nonnegative_least_squares():
    basis = vocoders._mel_basis(16_000, 512, 40, 0.0, None)
    truth = np.zeros((257, 6))
    truth[::12] = 1.0  # a harmonic-like spectrum: the pseudo-inverse goes negative on it
    mel = basis @ truth
    pinv = np.linalg.pinv(basis) @ mel
    assert pinv.min() < 0
    power = vocoders.mel_to_power(mel, basis, n_iter=200)
    assert (power >= 0).all()
    residual = np.linalg.norm(basis @ power - mel)
    assert residual < np.linalg.norm(basis @ np.maximum(pinv, 0) - mel)
    assert residual < 0.05 * np.linalg.norm(mel)


def test_griffin_lim_mel_is_close_to_the_input(speech):
    x = speech()
    target = vocoders.log_mel_spectrogram(x, 16_000)
    out = vocoders.griffin_lim_copy_synthesis(x, 16_000, seed=3)
    assert len(out.audio) == len(x) and out.system == "griffin-lim"
    got = vocoders.log_mel_spectrogram(out.audio, 16_000)
    strong = target > target.max() - 50
    # Mean absolute log-mel error over bins within 50 dB of the peak, in dB.
    err = np.mean(np.abs(got - target)[strong])
    assert err < 2.5
    # More iterations reconstruct better than a single one.
    rough = vocoders.mel_to_audio(target, sample_rate=16_000, n_iter=1, length=len(x), seed=3)
    rough_err = np.mean(np.abs(vocoders.log_mel_spectrogram(rough, 16_000) - target)[strong])
    assert err < rough_err


def test_lpc_vocoder_keeps_f0_and_envelope(speech):
    x = speech()
    out = vocoders.lpc_copy_synthesis(x, 16_000, seed=1)
    assert len(out.audio) == len(x)
    assert _median_f0_ratio(x, out.audio) == pytest.approx(1.0, abs=0.03)
    # The per-frame LPC envelope makes the spectrum follow the source: log-mel correlation.
    a = vocoders.log_mel_spectrogram(x, 16_000)
    b = vocoders.log_mel_spectrogram(out.audio, 16_000)
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.8


def test_lpc_synthesis_makes_the_requested_f0():
    n_frames, hop = 200, 80
    a = np.tile([1.0, -0.9], (n_frames, 1))
    f0 = np.full(n_frames, 180.0)
    y = vocoders.lpc_synthesis(a, np.ones(n_frames), f0, sample_rate=16_000, hop_length=hop,
                               length=n_frames * hop)  # fmt: skip
    tracked = world.extract_f0(y, 16_000, method="harvest")
    assert np.median(tracked[tracked > 0]) == pytest.approx(180.0, rel=0.02)


def test_world_copy_synthesis_and_coarse_envelope(speech):
    x = speech()
    full = vocoders.world_copy_synthesis(x, 16_000)
    coarse = vocoders.world_copy_synthesis(x, 16_000, mcep_order=12, smooth_frames=5)
    assert len(full.audio) == len(coarse.audio) == len(x)
    assert _median_f0_ratio(x, full.audio) == pytest.approx(1.0, abs=0.02)
    # The coarse envelope has less fine spectral detail than the full one.
    assert _cepstral_detail(coarse.audio) < 0.8 * _cepstral_detail(full.audio)
    assert coarse.params["mcep_order"] == 12 and full.params["mcep_order"] is None


@pytest.mark.parametrize(
    "make",
    [
        lambda x, s: vocoders.world_copy_synthesis(x, 16_000),
        lambda x, s: vocoders.world_copy_synthesis(x, 16_000, f0_method="harvest"),
        lambda x, s: vocoders.griffin_lim_copy_synthesis(x, 16_000, n_iter=4, seed=s),
        lambda x, s: vocoders.lpc_copy_synthesis(x, 16_000, seed=s),
    ],
    ids=["world-dio", "world-harvest", "griffin-lim", "lpc"],
)
def test_vocoders_are_deterministic(speech, make):
    x = speech("Seeds make runs repeatable.")
    first, second = make(x, 7), make(x, 7)
    np.testing.assert_array_equal(first.audio, second.audio)
    assert first.audio.dtype == np.float32 and np.abs(first.audio).max() <= 0.95 + 1e-6


@pytest.mark.parametrize("name", ["griffin-lim", "lpc"])
def test_seed_changes_random_parts(speech, name):
    x = speech("Seeds make runs repeatable.")
    fn = {
        "griffin-lim": lambda s: vocoders.griffin_lim_copy_synthesis(x, 16_000, n_iter=4, seed=s),
        "lpc": lambda s: vocoders.lpc_copy_synthesis(x, 16_000, seed=s),
    }[name]
    assert not np.array_equal(fn(1).audio, fn(2).audio)
