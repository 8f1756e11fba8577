"""voxlab.features.functional against librosa and the ASVspoof reference definitions."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import scipy.fft
import torch

from voxlab.errors import ConfigError
from voxlab.features import functional as Fn
from voxlab.testing import chirp, noise, tone

SR = 16_000


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    """1 s of tone + chirp + noise, float64."""
    return (tone(220.0, seconds=1.0) + chirp(seconds=1.0) + noise(seconds=1.0)).astype(np.float64)


# ----------------------------------------------------------------- librosa agreement


@pytest.mark.parametrize(("htk", "n_fft"), [(False, 512), (True, 512), (False, 321)])
def test_mel_filterbank_equals_librosa(htk, n_fft):
    # odd n_fft (DNSMOS uses 321): the bins are k * sr / n_fft, not a linspace to sr / 2
    ours = Fn.mel_filterbank(
        sample_rate=SR, n_fft=n_fft, n_mels=40, fmin=50, fmax=7000, htk=htk, dtype=torch.float64
    ).numpy()
    ref = librosa.filters.mel(
        sr=SR, n_fft=n_fft, n_mels=40, fmin=50, fmax=7000, htk=htk, dtype=np.float64
    )
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-12)


def test_spectrogram_equals_librosa(signal):
    ours = Fn.spectrogram(torch.from_numpy(signal), n_fft=512, hop_length=128, power=1.0)
    ref = np.abs(librosa.stft(signal, n_fft=512, hop_length=128))
    # float64 throughout: relative error ~1e-15.
    np.testing.assert_allclose(ours.numpy(), ref, rtol=0, atol=1e-10 * ref.max())


def test_stft_win_length_shorter_than_n_fft_equals_librosa(signal):
    ours = Fn.stft(
        torch.from_numpy(signal), n_fft=512, hop_length=160, win_length=400, window="hamming"
    )
    ref = librosa.stft(signal, n_fft=512, hop_length=160, win_length=400, window="hamming")
    np.testing.assert_allclose(np.abs(ours.numpy()), np.abs(ref), atol=1e-9)


def test_log_mel_and_mfcc_equal_librosa(signal):
    x = torch.from_numpy(signal)
    ref_mel = librosa.power_to_db(
        librosa.feature.melspectrogram(y=signal, sr=SR, n_fft=400, hop_length=160, n_mels=80)
    )
    ours_mel = Fn.log_mel(x, sample_rate=SR, n_fft=400, hop_length=160, n_mels=80).numpy()
    # librosa builds its mel basis in float32: 1e-4 dB covers that rounding.
    np.testing.assert_allclose(ours_mel, ref_mel, atol=1e-4)
    ref = librosa.feature.mfcc(y=signal, sr=SR, n_mfcc=13, lifter=22)
    ours = Fn.mfcc(x, sample_rate=SR, n_mfcc=13, lifter=22).numpy()
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_mfcc_float32_close_to_librosa(signal):
    y = signal.astype(np.float32)
    ours = Fn.mfcc(torch.from_numpy(y), sample_rate=SR).numpy()
    ref = librosa.feature.mfcc(y=y, sr=SR)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=5e-3)  # float32 log/DCT rounding


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("width", [3, 5, 9])
def test_deltas_equal_librosa_including_edges(order, width):
    data = np.random.default_rng(1).standard_normal((4, 13, 30)).cumsum(-1)
    ours = Fn.deltas(torch.from_numpy(data), width=width, order=order).numpy()
    ref = librosa.feature.delta(data, width=width, order=order)
    np.testing.assert_allclose(ours, ref, atol=1e-10)


def test_deltas_other_axis():
    data = np.random.default_rng(2).standard_normal((20, 7))
    ours = Fn.deltas(torch.from_numpy(data), width=5, dim=0).numpy()
    np.testing.assert_allclose(ours, librosa.feature.delta(data, width=5, axis=0), atol=1e-10)


# ----------------------------------------------------------------- LFCC reference definitions


def _trimf(f, a, b, c):
    return np.maximum(np.minimum((f - a) / (b - a), (c - f) / (c - b)), 0.0)


def _nii_lfcc_reference(x, sr=SR, fl=320, fs=160, fn=512, nf=20, max_freq=1.0):
    """The NII front-end written out frame by frame (numpy, float64)."""
    x = np.concatenate([x[:1], x[1:] - 0.97 * x[:-1]])
    pad = np.pad(x, fn // 2)
    win = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(fl) / fl)  # periodic Hamming
    win = np.pad(win, ((fn - fl) // 2, fn - fl - (fn - fl) // 2))
    n_frames = 1 + (pad.size - fn) // fs
    frames = np.stack([pad[i * fs : i * fs + fn] * win for i in range(n_frames)])
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (frames, bins)
    n_bins = int(max_freq * (fn // 2 + 1))  # NII keeps the first max_freq of the bins ...
    power = power[:, :n_bins]
    f = sr / 2 * np.linspace(0, max_freq, n_bins)  # ... on this frequency axis
    edges = np.linspace(f.min(), f.max(), nf + 2)
    fb = np.stack([_trimf(f, *edges[i : i + 3]) for i in range(nf)], axis=1)
    eps = np.finfo(np.float32).eps
    ceps = scipy.fft.dct(np.log10(power @ fb + eps), type=2, norm="ortho", axis=1)
    ceps[:, 0] = np.log10(power.sum(1) / fn + eps)
    padded = np.pad(ceps, ((1, 1), (0, 0)), mode="edge")
    d1 = padded[2:] - padded[:-2]
    padded = np.pad(d1, ((1, 1), (0, 0)), mode="edge")
    d2 = padded[2:] - padded[:-2]
    return np.concatenate([ceps, d1, d2], axis=1).T  # (60, frames)


def _matlab_lfcc_reference(
    x, sr=SR, win_ms=20, nfft=512, nf=20, nc=20, high=None, pre=0.97, delta_scale=1.0
):
    """extract_lfcc.m (2019) / lfcc_bp.m (2021) written out (buffer framing, hamming(N))."""
    if pre:
        x = np.concatenate([x[:1], x[1:] - pre * x[:-1]])
    L = sr * win_ms // 1000
    hop = L // 2
    n_frames = int(np.ceil((x.size - hop) / hop))
    x = np.pad(x, (0, (n_frames - 1) * hop + L - x.size))
    frames = np.stack([x[i * hop : i * hop + L] for i in range(n_frames)]) * np.hamming(L)
    power = np.abs(np.fft.fft(frames, nfft, axis=1)) ** 2
    f = sr / 2 * np.linspace(0, 1, nfft // 2 + 1)
    high = sr / 2 if high is None else high
    top = int(np.argmin(np.abs(f - high)))
    power, f = power[:, : top + 1], f[: top + 1]
    edges = np.linspace(0.0, high, nf + 2)
    fb = np.stack([_trimf(f, *edges[i : i + 3]) for i in range(nf)], axis=1)
    ceps = scipy.fft.dct(np.log10(power @ fb + np.finfo(float).eps), norm="ortho", axis=1)
    ceps = ceps[:, :nc]
    padded = np.pad(ceps, ((1, 1), (0, 0)), mode="edge")
    d1 = (padded[2:] - padded[:-2]) * delta_scale
    padded = np.pad(d1, ((1, 1), (0, 0)), mode="edge")
    d2 = (padded[2:] - padded[:-2]) * delta_scale
    return np.concatenate([ceps, d1, d2], axis=1).T


def test_lfcc_default_is_nii_lcnn_front_end(signal):
    ours = Fn.lfcc(torch.from_numpy(signal), sample_rate=SR).numpy()
    ref = _nii_lfcc_reference(signal)
    assert ours.shape == ref.shape == (60, 1 + signal.size // 160)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)
    preset = Fn.lfcc(
        torch.from_numpy(signal), sample_rate=SR, **Fn.LFCC_PRESETS["asvspoof2019_lcnn"]
    )
    np.testing.assert_allclose(preset.numpy(), ours, atol=0)


def test_lfcc_matlab_gmm_preset(signal):
    ours = Fn.lfcc(torch.from_numpy(signal), sample_rate=SR, **Fn.LFCC_PRESETS["asvspoof2019_gmm"])
    ref = _matlab_lfcc_reference(signal)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-9, atol=1e-9)


def test_lfcc_2021_presets_match_their_references(signal):
    x = torch.from_numpy(signal)
    ours = Fn.lfcc(x, sample_rate=SR, **Fn.LFCC_PRESETS["asvspoof2021_la_lcnn"]).numpy()
    ref = _nii_lfcc_reference(signal, fn=1024, max_freq=0.5)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)
    ours = Fn.lfcc(x, sample_rate=SR, **Fn.LFCC_PRESETS["asvspoof2021_la_gmm"]).numpy()
    ref = _matlab_lfcc_reference(signal, win_ms=30, nfft=1024, nf=70, nc=19, high=4000.0,
                                 pre=0.0, delta_scale=0.5)  # fmt: skip
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-9)


def test_lfcc_2021_presets_shapes(signal):
    x = torch.from_numpy(signal[:16000])
    assert Fn.lfcc(x, sample_rate=SR, **Fn.LFCC_PRESETS["asvspoof2021_la_lcnn"]).shape == (60, 101)
    # 30 ms windows with 50 % overlap; 19 coefficients + deltas + delta-deltas.
    assert Fn.lfcc(x, sample_rate=SR, **Fn.LFCC_PRESETS["asvspoof2021_la_gmm"]).shape == (57, 66)


def test_linear_filterbank_grids_agree_on_full_band():
    a = Fn.linear_filterbank(sample_rate=SR, n_fft=512, n_filters=20, grid="bins")
    b = Fn.linear_filterbank(sample_rate=SR, n_fft=512, n_filters=20, grid="nii")
    torch.testing.assert_close(a, b)
    assert a.shape == (20, 257)
    assert torch.all(a.amax(dim=1) > 0.9)
    band = Fn.linear_filterbank(sample_rate=SR, n_fft=1024, n_filters=20, fmax=4000, grid="nii")
    assert band[:, 256:].abs().sum() == 0 and band[:, :256].sum() > 0


def test_htk_deltas_normalised_and_raw():
    x = torch.arange(10.0).square()
    raw = Fn.htk_deltas(x, half_width=1, normalize=False)
    assert raw[5] == (36 - 16)
    assert raw[0] == 1 - 0  # replicated first frame
    htk = Fn.htk_deltas(x, half_width=3, normalize=True)
    expected = sum(n * (x[5 + n] - x[5 - n]) for n in (1, 2, 3)) / 28
    torch.testing.assert_close(htk[5], expected)


# ----------------------------------------------------------------- generic behaviour

FEATURES = {
    "spectrogram": lambda x: Fn.spectrogram(x, n_fft=512, hop_length=160),
    "log_mel": lambda x: Fn.log_mel(x, sample_rate=SR, n_fft=512, hop_length=160, n_mels=40),
    "mfcc": lambda x: Fn.mfcc(x, sample_rate=SR, n_fft=512, hop_length=160, n_mels=40),
    "lfcc": lambda x: Fn.lfcc(x, sample_rate=SR),
    "cqcc": lambda x: Fn.cqcc(x, sample_rate=SR),
}


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_batch_equals_item_by_item(name):
    fn = FEATURES[name]
    batch = torch.from_numpy(np.stack([noise(seed=s, seconds=0.5) for s in range(4)]))
    batch = batch.reshape(2, 2, -1)
    out = fn(batch)
    for i in range(2):
        for j in range(2):
            torch.testing.assert_close(out[i, j], fn(batch[i, j]), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", sorted(FEATURES))
def test_float64_and_gradient(name):
    fn = FEATURES[name]
    x = torch.from_numpy(noise(seconds=0.5).astype(np.float64)).requires_grad_(True)
    out = fn(x)
    assert out.dtype == torch.float64
    out.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_bad_arguments_raise_config_error():
    x = torch.zeros(100)
    with pytest.raises(ConfigError, match="n_fft=512 is longer than the signal"):
        Fn.spectrogram(x, n_fft=512, center=False)
    with pytest.raises(ConfigError, match="sample_rate"):
        Fn.mfcc(torch.zeros(4000), sample_rate=-16000)
    with pytest.raises(ConfigError, match="Nyquist"):
        Fn.mel_filterbank(sample_rate=SR, n_fft=512, fmax=9000)
    with pytest.raises(ConfigError, match="width"):
        Fn.deltas(torch.zeros(5, 4), width=9)
    with pytest.raises(ConfigError, match=r"torch\.Tensor"):
        Fn.lfcc(np.zeros(4000), sample_rate=SR)
    with pytest.raises(ConfigError, match="win_length"):
        Fn.stft(torch.zeros(4000), n_fft=256, win_length=400)
    with pytest.raises(ConfigError, match="n_mfcc"):
        Fn.mfcc(torch.zeros(4000), sample_rate=SR, n_mfcc=0)


def test_cpu_chunking_gives_the_same_result(monkeypatch):
    from voxlab.features import _common

    # float64, so that only the chunking (not float32 rounding of other FFT batch sizes) shows.
    batch = torch.from_numpy(np.stack([noise(seed=s, seconds=0.25) for s in range(5)])).double()
    whole = {name: fn(batch) for name, fn in FEATURES.items()}
    monkeypatch.setattr(_common, "CPU_CHUNK_SAMPLES", 4000)  # one clip per chunk
    for name, fn in FEATURES.items():
        torch.testing.assert_close(fn(batch), whole[name], rtol=1e-9, atol=1e-9)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", sorted(FEATURES))
def test_cuda_output_follows_input_device(name):
    fn = FEATURES[name]
    x = torch.from_numpy(noise(seconds=0.5).astype(np.float64))
    out = fn(x.cuda())
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), fn(x), rtol=1e-6, atol=1e-6)
