import numpy as np
import pytest

from voxlab.errors import ConfigError, DataError
from voxlab.generation import world
from voxlab.generation.vc import (
    GMMVoiceConverter,
    JointGMM,
    LogF0Stats,
    dtw_path,
    map_f0,
    scale_aperiodicity,
    warp_frequency,
    world_voice_conversion,
)
from voxlab.generation.vc.gmm_vc import _speech_frames

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "A large size in stockings is hard to sell.",
]
SOURCE = {"voice": "en-us", "variant": None, "pitch": 35}
TARGET = {"voice": "en-us", "variant": "f3", "pitch": 75}


def _geo_f0(x):
    f0 = world.extract_f0(x, 16_000)
    return float(np.exp(np.log(f0[f0 > 0]).mean()))


def _centroid(x):
    feats = world.analyze(x, 16_000)
    amp = np.sqrt(feats.sp[feats.f0 > 0])  # amplitude-weighted: formants count, not just F1
    freqs = np.linspace(0, 8000, amp.shape[1])
    return float(np.mean((amp * freqs).sum(1) / amp.sum(1)))


def test_log_f0_stats_and_mapping():
    f0 = np.array([0, 100, 110, 121, 0, 133.1])
    stats = LogF0Stats.from_f0(f0)
    assert stats.mean == pytest.approx(np.log([100, 110, 121, 133.1]).mean())
    target = LogF0Stats(mean=np.log(220.0), std=stats.std * 2)
    mapped = map_f0(f0, stats, target)
    assert (mapped[f0 == 0] == 0).all()
    assert LogF0Stats.from_f0(mapped).mean == pytest.approx(np.log(220.0))
    assert LogF0Stats.from_f0(mapped).std == pytest.approx(stats.std * 2)
    with pytest.raises(DataError, match="voiced"):
        LogF0Stats.from_f0(np.zeros(10))


def test_warp_and_aperiodicity():
    spec = np.zeros((1, 513))
    spec[0, 100] = 1.0
    up = warp_frequency(spec, 1.2)
    assert np.argmax(up[0]) == 120
    np.testing.assert_allclose(warp_frequency(spec, 1.0), spec)
    with pytest.raises(ConfigError):
        warp_frequency(spec, 3.0)
    ap = np.full((2, 5), 0.1)
    assert (scale_aperiodicity(ap, 6.0) > ap).all() and scale_aperiodicity(ap, 40).max() == 1.0


def test_world_vc_moves_f0_to_target_and_formants_up(speech):
    x = speech(**SOURCE)
    target = LogF0Stats(mean=float(np.log(230.0)), std=0.1)
    out = world_voice_conversion(x, 16_000, target_f0=target, warp_factor=1.15)
    assert _geo_f0(out.audio) == pytest.approx(230.0, rel=0.04)
    same = _centroid(world_voice_conversion(x, 16_000).audio)
    up = world_voice_conversion(x, 16_000, warp_factor=1.15)
    assert _centroid(up.audio) > 1.07 * same
    down = world_voice_conversion(x, 16_000, warp_factor=0.87)
    assert _centroid(down.audio) < 0.93 * same
    again = world_voice_conversion(x, 16_000, target_f0=target, warp_factor=1.15)
    np.testing.assert_array_equal(out.audio, again.audio)
    assert out.params["warp_factor"] == 1.15 and out.params["target_f0"]["mean"] == target.mean


def test_dtw_aligns_a_time_stretched_copy():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.standard_normal((60, 3)), axis=0)
    y = np.repeat(x, 2, axis=0)  # every frame twice
    ix, iy = dtw_path(x, y)
    assert (ix[0], iy[0]) == (0, 0) and (ix[-1], iy[-1]) == (59, 119)
    assert (np.diff(ix) >= 0).all() and (np.diff(iy) >= 0).all()
    np.testing.assert_array_equal(x[ix], y[iy])  # zero-cost path found


def test_joint_gmm_recovers_two_clusters():
    rng = np.random.default_rng(1)
    a = rng.multivariate_normal([0, 0], [[1, 0.8], [0.8, 1]], 400)
    b = rng.multivariate_normal([6, -4], [[0.5, 0], [0, 0.2]], 200)
    gmm = JointGMM.fit(np.vstack([a, b]), n_components=2, seed=0)
    order = np.argsort(gmm.means[:, 0])
    np.testing.assert_allclose(gmm.weights[order], [2 / 3, 1 / 3], atol=0.02)
    np.testing.assert_allclose(gmm.means[order], [[0, 0], [6, -4]], atol=0.2)
    assert gmm.covariances[order[0]][0, 1] == pytest.approx(0.8, abs=0.15)
    with pytest.raises(DataError, match="frames"):
        JointGMM.fit(a[:3], n_components=2)


@pytest.fixture(scope="module")
def converter(speech):
    pairs = [(speech(s, **SOURCE), speech(s, **TARGET)) for s in SENTENCES[:6]]
    return GMMVoiceConverter.train(pairs, 16_000, n_components=4, seed=0)


def test_gmm_vc_moves_mel_cepstra_toward_the_target(speech, converter):
    # Held-out sentence: MCD against the target falls, and the conversion leaves the source.
    src = world.analyze(speech(SENTENCES[6], **SOURCE), 16_000)
    tgt = world.analyze(speech(SENTENCES[6], **TARGET), 16_000)
    mc_s, mc_t = world.sp_to_mcep(src.sp), world.sp_to_mcep(tgt.sp)
    mc_c = converter.convert_mcep(mc_s)
    np.testing.assert_array_equal(mc_c[:, 0], mc_s[:, 0])
    ix, iy = dtw_path(mc_s[:, 1:], mc_t[:, 1:])
    keep = _speech_frames(mc_s)[ix] & _speech_frames(mc_t)[iy]
    ix, iy = ix[keep], iy[keep]
    before = world.mel_cepstral_distortion(mc_s[ix], mc_t[iy])
    after = world.mel_cepstral_distortion(mc_c[ix], mc_t[iy])
    from_source = world.mel_cepstral_distortion(mc_c[ix], mc_s[ix])
    assert after < 0.6 * before  # dB
    assert from_source > after


def test_gmm_vc_audio_f0_and_determinism(speech, converter, tmp_path):
    x = speech(SENTENCES[6], **SOURCE)
    out = converter.convert(x, 16_000)
    assert _geo_f0(out.audio) == pytest.approx(converter.target_f0.hz, rel=0.05)
    np.testing.assert_array_equal(out.audio, converter.convert(x, 16_000).audio)
    path = converter.save(tmp_path / "conv.npz")
    loaded = GMMVoiceConverter.load(path)
    np.testing.assert_array_equal(loaded.convert(x, 16_000).audio, out.audio)
    with pytest.raises(DataError):
        GMMVoiceConverter.load(tmp_path / "missing.npz")
    with pytest.raises(ConfigError, match="trained at"):
        converter.convert(x, 8000)


def test_gmm_training_is_deterministic_whatever_the_blas_threads(speech):
    from threadpoolctl import threadpool_limits

    pairs = [(speech(s, **SOURCE), speech(s, **TARGET)) for s in SENTENCES[:2]]
    with threadpool_limits(limits=2, user_api="blas"):
        a = GMMVoiceConverter.train(pairs, 16_000, n_components=2, n_iter=5, seed=3)
    with threadpool_limits(limits=1, user_api="blas"):
        b = GMMVoiceConverter.train(pairs, 16_000, n_components=2, n_iter=5, seed=3)
    np.testing.assert_array_equal(a.gmm.means, b.gmm.means)
    np.testing.assert_array_equal(a.gmm.covariances, b.gmm.covariances)
