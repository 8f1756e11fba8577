"""Audio-visual synchrony, the learned (DFL-style) swap path and the boundary CNN."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_synchrony_finds_the_shift():
    from voxlab.face.sync import synchrony

    rng = np.random.default_rng(0)
    env = np.convolve(rng.normal(size=300), np.ones(4) / 4, mode="same")
    aligned = synchrony(env + 0.1 * rng.normal(size=300), env, 25)
    assert aligned.lag_s == 0.0 and not aligned.flagged and aligned.peak > 0.8
    late = np.concatenate([np.zeros(10), env[:-10]])  # audio 0.4 s late
    shifted = synchrony(env, late, 25)
    assert shifted.lag_s == pytest.approx(0.4) and shifted.flagged


def test_debug_swap_model_trains_and_round_trips(tmp_path):
    torch = pytest.importorskip("torch")
    from voxlab.face.learned import DEBUG, train_swap_model
    from voxlab.face.learned_io import load_swap_model, save_swap_model

    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    b = np.full((6, 32, 32, 3), 200, np.uint8)
    model, losses = train_swap_model(a, b, DEBUG)
    assert len(losses) == DEBUG.steps and np.isfinite(losses).all()
    assert losses[-1] < losses[0]
    x = torch.rand(2, 3, 32, 32)
    rgb, mask = model.swap(x)
    assert rgb.shape == (2, 3, 32, 32) and mask.shape == (2, 1, 32, 32)
    path = save_swap_model(model, tmp_path / "m.pt")
    again = load_swap_model(path)
    model.eval()
    assert torch.equal(again.swap(x)[0], model.swap(x)[0])


def test_gpu_recipe_parses_and_bad_sizes_are_refused(tmp_path):
    from pathlib import Path

    from voxlab.errors import ConfigError
    from voxlab.face.learned import DEBUG, config_from_yaml, train_swap_model

    recipe = Path(__file__).parents[3] / "recipes" / "face" / "dfl_sae.yaml"
    cfg = config_from_yaml(recipe)
    assert cfg.resolution == 256 and cfg.steps == 100_000
    with pytest.raises(ConfigError, match="power of two"):
        type(cfg)(resolution=48)
    with pytest.raises(ConfigError, match="crops_a"):
        train_swap_model(np.zeros((2, 16, 16, 3), np.uint8), np.zeros((2, 32, 32, 3)), DEBUG)


def test_shipped_boundary_weights_are_small_and_load():
    from voxlab.face.boundary import WEIGHTS, load_boundary

    if not WEIGHTS.is_file():
        pytest.skip("boundary weights not built (python -m voxlab.face.boundary)")
    assert WEIGHTS.stat().st_size < 1_000_000
    load_boundary()


def test_missing_boundary_weights_say_how_to_make_them(tmp_path):
    from voxlab.errors import CheckpointError
    from voxlab.face.boundary import load_boundary

    with pytest.raises(CheckpointError, match=r"python -m voxlab\.face\.boundary"):
        load_boundary(tmp_path / "none.pt")


@pytest.mark.slow
def test_boundary_cnn_separates_held_out_swaps(face_photo, landmarker):
    from voxlab.face.boundary import WEIGHTS, auc, load_boundary, make_swap_set, score_crops

    if not WEIGHTS.is_file():
        pytest.skip("boundary weights not built (python -m voxlab.face.boundary)")
    x, y = make_swap_set([face_photo], 16, seed=7, landmarker=landmarker)
    s = score_crops(load_boundary(), x)
    assert auc(s[y == 1], s[y == 0]) > 0.75
