"""RawBoost: official numbers, draw order, each algorithm's signature, combinations.

``data/rawboost_official.npz`` holds a 1,000-sample float32 clip and the outputs of the
official functions (TakHemlata/SSL_Anti-spoofing ``RawBoost.py`` + ``process_Rawboost_feature``
of ``data_utils_SSL.py``, commit a16b068, run with the official argument defaults on
NumPy 2.4.6 / SciPy 1.17.1) for algorithms 1-8, each after ``np.random.seed(1234 + algo)``,
for the clip as float64 (``algoN_f64``) and as float32 (``algoN_f32``).
Only the numbers are stored, no code.
"""

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import freqz, welch

from voxlab.errors import ConfigError
from voxlab.training import rawboost as rb

GOLDEN = Path(__file__).parent / "data" / "rawboost_official.npz"
SR = 16_000


class CountingState(np.random.RandomState):
    """A legacy generator that records which draws are made, in order."""

    def __init__(self, seed):
        super().__init__(seed)
        self.calls: list[str] = []

    def uniform(self, *args, **kwargs):
        self.calls.append("uniform")
        return super().uniform(*args, **kwargs)

    def permutation(self, *args, **kwargs):
        self.calls.append("permutation")
        return super().permutation(*args, **kwargs)

    def rand(self, *args):
        self.calls.append("rand")
        return super().rand(*args)

    def normal(self, *args, **kwargs):
        self.calls.append("normal")
        return super().normal(*args, **kwargs)


def speechlike(n=8000, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    x = scale * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return (x + 0.02 * rng.standard_normal(n)).astype(np.float32)


@pytest.mark.parametrize("algo", range(1, 9))
@pytest.mark.parametrize("dtype", ["f64", "f32"])
def test_matches_the_official_outputs(algo, dtype):
    golden = np.load(GOLDEN)
    x = golden["x"].astype(np.float64) if dtype == "f64" else golden["x"]
    np.random.seed(1234 + algo)  # noqa: NPY002 - the official scripts draw from the global state
    got = rb.rawboost(x, algo)
    expected = golden[f"algo{algo}_{dtype}"]
    # A float64 input agrees to 1e-12. With a float32 input (what loaders return) the
    # official code raises x to powers and runs ISD in float32, while voxlab works in
    # float64 throughout: agreement to float32 rounding, 1e-6.
    atol = 1e-12 if dtype == "f64" else 1e-6
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    assert got.dtype == np.float64 and got.shape == x.shape


def test_global_state_equals_an_explicit_generator():
    x = speechlike()
    np.random.seed(99)  # noqa: NPY002
    from_global = rb.rawboost(x, 4)
    explicit = rb.rawboost(x, 4, rng=np.random.RandomState(99))
    np.testing.assert_array_equal(from_global, explicit)


@pytest.mark.parametrize(
    ("algo", "expected"),
    [
        (0, Counter()),
        (1, Counter(uniform=80)),
        (2, Counter(uniform=1, permutation=1, rand=2)),
        (3, Counter(normal=1, uniform=17)),
        (4, Counter(uniform=98, permutation=1, rand=2, normal=1)),
        (5, Counter(uniform=81, permutation=1, rand=2)),
        (6, Counter(uniform=97, normal=1)),
        (7, Counter(uniform=18, permutation=1, rand=2, normal=1)),
        (8, Counter(uniform=81, permutation=1, rand=2)),
    ],
)
def test_draw_counts(algo, expected):
    state = CountingState(5)
    rb.rawboost(speechlike(), algo, rng=state)
    assert Counter(state.calls) == expected


def test_draw_order_of_ssi_and_isd():
    state = CountingState(5)
    rb.rawboost(speechlike(), 7, rng=state)
    # ISD: beta, permutation, u1, u2; then SSI: noise first, 16 notch draws, the SNR.
    assert state.calls == ["uniform", "permutation", "rand", "rand", "normal"] + ["uniform"] * 17


def test_deterministic_for_a_seed_and_different_across_seeds():
    x = speechlike()
    for algo in range(1, 9):
        a = rb.rawboost(x, algo, rng=np.random.RandomState(3))
        b = rb.rawboost(x, algo, rng=np.random.RandomState(3))
        c = rb.rawboost(x, algo, rng=np.random.RandomState(4))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        assert a.dtype == np.float64 and a.shape == x.shape


def test_notch_design_draws_and_edges():
    state = CountingState(11)
    b = rb.notch_filter(sample_rate=SR, rng=state)
    assert state.calls == ["uniform"] * 16
    assert len(b) % 2 == 1
    # The cascade is scaled to a peak response of 10^(G/20) = 1 (G ~ U(0, 0)).
    _, h = freqz(b, 1, fs=SR)
    assert np.max(np.abs(h)) == pytest.approx(1.0, abs=1e-12)
    # Replaying the draws gives the band layout: each band's tap count is odd.
    replay = np.random.RandomState(11)
    taps = []
    for _ in range(5):
        replay.uniform(20, 8000, 1)
        replay.uniform(100, 1000, 1)
        c = int(replay.uniform(10, 100, 1)[0])
        taps.append(c + 1 if c % 2 == 0 else c)
    assert len(b) == sum(taps) - 4  # a cascade of odd FIRs: lengths add, minus one each


def test_fir_filter_compensates_the_delay():
    x = np.zeros(101)
    x[50] = 1.0
    b = np.zeros(21)
    b[10] = 1.0  # a pure delay of (len(b) - 1) / 2 = 10 samples
    y = rb.fir_filter(x, b)
    assert y.shape == x.shape
    # Trimming (len(b) + 1) / 2 = 11 samples leaves the impulse one sample early.
    assert int(np.argmax(y)) == 49


def test_isd_touches_only_beta_percent_of_samples():
    x = 0.1 * speechlike(16_000) / 0.3 + 0.01  # no zero samples, peak well below 1
    y = rb.isd_additive_noise(x, rng=np.random.RandomState(21))
    beta = np.random.RandomState(21).uniform(0, 10, 1)[0]
    changed = np.count_nonzero(y != x.astype(np.float64))
    assert changed == int(len(x) * beta / 100)
    assert changed <= 0.10 * len(x)
    # each touched sample moves by at most g_sd = 2 times itself
    moved = np.abs(y - x) / np.abs(x)
    assert moved.max() <= 2.0 + 1e-9


def test_ssi_hits_the_drawn_snr():
    x = speechlike(16_000)
    y = rb.ssi_additive_noise(x, rng=np.random.RandomState(8))
    replay = np.random.RandomState(8)
    replay.normal(0, 1, len(x))
    replay.uniform(0, 1, 16)  # the notch cascade's 16 draws
    snr = replay.uniform(10, 40, 1)[0]
    noise = y - x.astype(np.float64)
    measured = 10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum(noise**2))
    assert measured == pytest.approx(snr, abs=1e-9)
    assert 10 <= measured <= 40


def test_ssi_noise_is_coloured_by_the_notch_cascade():
    x = np.full(32_000, 0.2)  # DC input: the added noise is all there is above DC
    y = rb.ssi_additive_noise(x, rng=np.random.RandomState(2))
    replay = np.random.RandomState(2)
    replay.normal(0, 1, len(x))
    b = rb.notch_filter(sample_rate=SR, rng=replay)
    freqs, psd = welch(y - x, fs=SR, nperseg=1024)
    _, h = freqz(b, 1, worN=freqs, fs=SR)
    mask = freqs > 50
    corr = np.corrcoef(10 * np.log10(psd[mask]), 20 * np.log10(np.abs(h[mask]) + 1e-12))[0, 1]
    assert corr > 0.9


def test_lnl_spectrum_shows_the_drawn_notches():
    rng = np.random.default_rng(0)
    x = 0.01 * rng.standard_normal(64_000)  # small: the non-linear terms are negligible
    y = rb.lnl_convolutive_noise(x, rng=np.random.RandomState(17))
    replay = np.random.RandomState(17)
    b_linear = rb.notch_filter(sample_rate=SR, rng=replay)  # the first cascade: x^1
    freqs, pxx = welch(x, fs=SR, nperseg=2048)
    _, pyy = welch(y, fs=SR, nperseg=2048)
    measured = 10 * np.log10(pyy / pxx)
    _, h = freqz(b_linear, 1, worN=freqs, fs=SR)
    expected = 20 * np.log10(np.abs(h) + 1e-12)
    inside = (freqs > 50) & (expected > -40)
    np.testing.assert_allclose(measured[inside], expected[inside], atol=1.5)
    # notches: the deepest point of the response is far below its median
    assert np.median(measured[inside]) - measured[inside].min() > 6


def test_lnl_first_power_alone_is_the_notch_filter():
    x = speechlike(4000).astype(np.float64)
    params = rb.RawBoostParams(n_f=1)
    y = rb.lnl_convolutive_noise(x, params=params, rng=np.random.RandomState(6))
    b = rb.notch_filter(sample_rate=SR, rng=np.random.RandomState(6))
    expected = rb.fir_filter(x, b)
    expected = expected - expected.mean()
    if np.abs(expected).max() > 1:
        expected = expected / np.abs(expected).max()
    np.testing.assert_allclose(y, expected, atol=1e-12)


@pytest.mark.parametrize(("algo", "steps"), [(4, (1, 2, 3)), (5, (1, 2)), (6, (1, 3)), (7, (2, 3))])
def test_series_is_the_composition(algo, steps):
    x = speechlike()
    got = rb.rawboost(x, algo, rng=np.random.RandomState(31))
    state = np.random.RandomState(31)
    y = x
    for step in steps:
        y = rb.rawboost(y, step, rng=state)
    np.testing.assert_array_equal(got, y)


def test_parallel_rule():
    x = speechlike(scale=0.8)
    got = rb.rawboost(x, 8, rng=np.random.RandomState(41))
    state = np.random.RandomState(41)
    lnl = rb.lnl_convolutive_noise(x, rng=state)  # LnL draws first
    isd = rb.isd_additive_noise(x, rng=state)  # ISD on the same (original) input
    total = lnl + isd
    peak = np.abs(total).max()
    expected = total / peak if peak > 1 else total
    np.testing.assert_array_equal(got, expected)
    assert peak > 1  # the case where the peak rule divides
    assert np.abs(got).max() == pytest.approx(1.0)


def test_parallel_keeps_the_sum_when_the_peak_is_small():
    x = 0.05 * speechlike() / 0.3
    got = rb.rawboost(x, 8, rng=np.random.RandomState(1))
    state = np.random.RandomState(1)
    total = rb.lnl_convolutive_noise(x, rng=state) + rb.isd_additive_noise(x, rng=state)
    assert np.abs(total).max() <= 1
    np.testing.assert_array_equal(got, total)


def test_defaults_are_the_published_ones():
    assert rb.LA_DEFAULT_ALGO == 5 and rb.DF_DEFAULT_ALGO == 3
    p = rb.RawBoostParams()
    assert (p.n_bands, p.min_f, p.max_f, p.min_bw, p.max_bw) == (5, 20, 8000, 100, 1000)
    assert (p.min_coeff, p.max_coeff, p.min_g, p.max_g, p.n_f) == (10, 100, 0, 0, 5)
    assert (p.min_bias_lin_nonlin, p.max_bias_lin_nonlin, p.p, p.g_sd) == (5, 20, 10, 2)
    assert (p.snr_min, p.snr_max) == (10, 40)


def test_bad_input_is_refused_clearly():
    with pytest.raises(ConfigError, match="algo must be one of 0-8"):
        rb.rawboost(speechlike(), 9)
    with pytest.raises(ConfigError, match="mono waveform"):
        rb.rawboost(np.zeros((2, 100)), 1)
    with pytest.raises(ConfigError, match="snr_min"):
        rb.RawBoostParams(snr_min=50)
