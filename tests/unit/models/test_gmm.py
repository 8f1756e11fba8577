"""Tests of the GMM countermeasures (ASVspoof 2021 LFCC-GMM B02 and CQCC-GMM B01)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import norm

from voxlab.errors import CheckpointError, ConfigError, DataError
from voxlab.models.detectors.gmm import (
    DiagonalGMM,
    GMMConfig,
    GMMCountermeasure,
    load_gmm_countermeasure,
)
from voxlab.models.registry import available_models, build_model, get_spec

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _mixture(n: int, *, seed: int) -> torch.Tensor:
    """70 % N([3, 1], 1) and 30 % N([-3, 0], 0.7^2), shuffled."""
    g = torch.Generator().manual_seed(seed)
    n_a = int(0.3 * n)
    a = torch.randn(n_a, 2, generator=g, dtype=torch.float64) * 0.7 + torch.tensor([-3.0, 0.0])
    b = torch.randn(n - n_a, 2, generator=g, dtype=torch.float64) + torch.tensor([3.0, 1.0])
    x = torch.cat([a, b])
    return x[torch.randperm(n, generator=g)]


def _waves(kind: str, n: int, *, seed: int, length: int = 8000) -> list[torch.Tensor]:
    """'bona': harmonic tones of varying pitch; 'spoof': white noise."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length, dtype=torch.float64) / 16000.0
    out = []
    for _ in range(n):
        noise = torch.randn(length, generator=g, dtype=torch.float64)
        if kind == "bona":
            f0 = 120.0 + 100.0 * float(torch.rand(1, generator=g))
            tone = sum(torch.sin(2 * math.pi * f0 * h * t) / h for h in range(1, 6))
            out.append(0.3 * tone + 0.005 * noise)
        else:
            out.append(0.05 * noise)
    return out


def test_registered_with_official_defaults() -> None:
    names = available_models()
    assert "lfcc-gmm" in names and "cqcc-gmm" in names
    lfcc_cfg = get_spec("lfcc-gmm").default_config
    cqcc_cfg = get_spec("cqcc-gmm").default_config
    assert lfcc_cfg.n_components == cqcc_cfg.n_components == 512
    assert lfcc_cfg.n_iter == cqcc_cfg.n_iter == 10
    assert lfcc_cfg.feature_dim == 57  # 19 LFCC incl. c0 + deltas + double deltas
    assert cqcc_cfg.feature_dim == 60  # 19 CQCC + c0 ('ZsdD')
    model = build_model("cqcc-gmm")
    assert model.bonafide.means.shape == (512, 60)
    dims = {"asvspoof2019_lfcc": 60, "asvspoof2019_cqcc": 90, "asvspoof2021_pa_cqcc": 60}
    for front_end, dim in dims.items():
        assert GMMConfig(front_end=front_end).feature_dim == dim
        feats = GMMCountermeasure(GMMConfig(front_end=front_end, n_components=2)).extract_features(
            torch.randn(8000, dtype=torch.float64)
        )
        assert feats.shape[1] == dim
    assert not model.is_fitted


def test_log_likelihood_matches_scipy() -> None:
    gmm = DiagonalGMM(3, 2)
    w = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    mu = torch.tensor([[0.0, 1.0], [2.0, -1.0], [-1.5, 0.5]], dtype=torch.float64)
    var = torch.tensor([[1.0, 0.5], [0.3, 2.0], [0.8, 0.8]], dtype=torch.float64)
    gmm.set_parameters(weights=w, means=mu, variances=var)
    x = _mixture(50, seed=0)
    got = gmm.log_likelihood(x).numpy()
    comp = np.stack(
        [
            np.log(w[k].item())
            + norm.logpdf(x.numpy(), mu[k].numpy(), np.sqrt(var[k].numpy())).sum(axis=1)
            for k in range(3)
        ],
        axis=1,
    )
    np.testing.assert_allclose(got, logsumexp(comp, axis=1), rtol=0, atol=1e-10)
    torch.testing.assert_close(gmm.log_likelihood(x, chunk_size=7), gmm.log_likelihood(x))


def test_em_log_likelihood_never_decreases() -> None:
    x = torch.cat([_mixture(3000, seed=1), _mixture(1000, seed=2) * 0.5 + 5.0])
    history = DiagonalGMM(6, 2).fit(x, n_iter=15, seed=0, kmeans_iter=1)
    assert len(history) == 16
    diffs = np.diff(history)
    assert diffs.min() > -1e-9, history
    assert history[-1] > history[0] + 1e-3  # EM did improve on the k-means start


def test_em_recovers_two_component_mixture() -> None:
    gmm = DiagonalGMM(2, 2)
    gmm.fit(_mixture(10000, seed=3), n_iter=20, seed=0)
    order = torch.argsort(gmm.means[:, 0])
    torch.testing.assert_close(
        gmm.means[order],
        torch.tensor([[-3.0, 0.0], [3.0, 1.0]], dtype=torch.float64),
        atol=0.06,
        rtol=0,
    )
    torch.testing.assert_close(
        gmm.weights[order], torch.tensor([0.3, 0.7], dtype=torch.float64), atol=0.01, rtol=0
    )
    torch.testing.assert_close(
        gmm.variances[order],
        torch.tensor([[0.49, 0.49], [1.0, 1.0]], dtype=torch.float64),
        atol=0.06,
        rtol=0,
    )


def test_fit_is_deterministic_given_seed() -> None:
    x = _mixture(2000, seed=4)
    a, b, c = DiagonalGMM(5, 2), DiagonalGMM(5, 2), DiagonalGMM(5, 2)
    a.fit(x, n_iter=3, seed=7)
    b.fit(x, n_iter=3, seed=7)
    c.fit(x, n_iter=3, seed=8)
    assert torch.equal(a.means, b.means) and torch.equal(a.variances, b.variances)
    assert not torch.equal(a.means, c.means)


def test_fewer_frames_than_components_is_a_clear_error() -> None:
    with pytest.raises(DataError, match=r"8-component GMM on 5 frames.*reduce n_components"):
        DiagonalGMM(8, 2).fit(torch.randn(5, 2), n_iter=1)


def test_too_little_data_per_component_warns() -> None:
    from voxlab.errors import SmallDataWarning

    with pytest.warns(SmallDataWarning, match=r"64-component GMM on 1,000 frames.*over-fit"):
        DiagonalGMM(64, 20).fit(torch.randn(1000, 20), n_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallDataWarning)
        DiagonalGMM(2, 2).fit(torch.randn(1000, 2), n_iter=1)  # 500 frames per component


def test_bad_features_are_rejected() -> None:
    gmm = DiagonalGMM(2, 3)
    with pytest.raises(DataError, match="NaN"):
        gmm.fit(torch.full((10, 3), float("nan")))
    with pytest.raises(DataError, match="dim 2"):
        gmm.fit(torch.randn(10, 2))
    with pytest.raises(DataError, match="different dims"):
        gmm.fit([torch.randn(10, 3), torch.randn(10, 2)])
    with pytest.raises(CheckpointError, match="not been fitted"):
        gmm.log_likelihood(torch.randn(4, 3))
    with pytest.raises(CheckpointError, match="expected"):
        gmm.set_parameters(
            weights=torch.ones(2), means=torch.zeros(2, 2), variances=torch.ones(2, 2)
        )


def test_variance_floor_with_constant_dimension() -> None:
    x = _mixture(500, seed=5)
    x = torch.cat([x, torch.full((500, 1), 2.0, dtype=torch.float64)], dim=1)
    gmm = DiagonalGMM(4, 3)
    history = gmm.fit(x, n_iter=5, seed=0)
    assert all(math.isfinite(h) for h in history)
    assert (gmm.variances >= 1e-6).all()
    assert torch.isfinite(gmm.log_likelihood(x)).all()


def test_llr_separates_two_synthetic_classes() -> None:
    model = GMMCountermeasure(GMMConfig(n_components=4))
    g = torch.Generator().manual_seed(6)
    dim = model.feature_dim
    bona = [torch.randn(200, dim, generator=g, dtype=torch.float64) + 1.0 for _ in range(3)]
    spoof = [torch.randn(200, dim, generator=g, dtype=torch.float64) - 1.0 for _ in range(3)]
    model.fit(bona, spoof, seed=0, n_iter=3)
    test = torch.stack(
        [
            torch.randn(50, dim, generator=g, dtype=torch.float64) + 1.0,
            torch.randn(50, dim, generator=g, dtype=torch.float64) - 1.0,
        ]
    )
    scores = model.score_features(test)
    assert scores[0] > 10 and scores[1] < -10
    # Official definition: mean bona fide frame log-likelihood minus mean spoof one.
    expected = (
        model.bonafide.log_likelihood(test[0]).mean() - model.spoof.log_likelihood(test[0]).mean()
    )
    torch.testing.assert_close(scores[0], expected)


@pytest.mark.parametrize("name", ["lfcc-gmm", "cqcc-gmm"])
def test_waveform_model_end_to_end(name: str, tmp_path) -> None:
    model = build_model(name, n_components=4)
    with pytest.raises(CheckpointError, match="untrained"):
        model(torch.zeros(1, 8000))
    bona = [model.extract_features(w) for w in _waves("bona", 3, seed=1)]
    spoof = [model.extract_features(w) for w in _waves("spoof", 3, seed=2)]
    assert bona[0].shape[1] == model.feature_dim and bona[0].dtype == torch.float64
    model.fit(bona, spoof, seed=0)
    x = torch.stack(_waves("bona", 2, seed=3) + _waves("spoof", 2, seed=4)).float()
    logits = model(x)
    assert logits.shape == (4, 2) and logits.dtype == torch.float32
    assert torch.equal(logits[:, 0], torch.zeros(4))
    assert (logits[:2, 1] > 0).all() and (logits[2:, 1] < 0).all()
    # batch == item by item
    items = torch.cat([model(x[i : i + 1]) for i in range(4)])
    torch.testing.assert_close(logits, items, atol=1e-5, rtol=1e-6)
    assert model(x.unsqueeze(1)).shape == (4, 2)

    # save / load round trip (safetensors + JSON config)
    path = model.save(tmp_path / "cm.safetensors")
    loaded = load_gmm_countermeasure(path)
    assert loaded.config == model.config
    torch.testing.assert_close(loaded(x), logits, atol=0, rtol=0)
    # plain state_dict into a registry-built model (checkpoint machinery)
    fresh = build_model(name, n_components=4)
    fresh.load_state_dict(model.state_dict())
    torch.testing.assert_close(fresh(x), logits, atol=0, rtol=0)


def test_load_errors(tmp_path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_gmm_countermeasure(tmp_path / "missing.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable"):
        load_gmm_countermeasure(junk)
    from safetensors.torch import save_file

    other = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, str(other))
    with pytest.raises(CheckpointError, match="not a voxlab GMM"):
        load_gmm_countermeasure(other)
    with pytest.raises(CheckpointError, match="untrained"):
        GMMCountermeasure(GMMConfig(n_components=2)).save(tmp_path / "x.safetensors")


@pytest.mark.parametrize(
    ("field", "value"),
    [("front_end", "mfcc"), ("n_components", 0), ("n_iter", 1.5), ("var_floor", -0.1)],
)
def test_bad_config_raises(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        GMMConfig(**{field: value})
