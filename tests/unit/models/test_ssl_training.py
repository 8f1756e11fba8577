"""The debug SSL-AASIST recipe trains a few steps on CPU (tiny random front end, RawBoost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("transformers")

from voxlab.models.checkpoints import load_checkpoint
from voxlab.models.detectors.ssl_aasist import SSLAASIST
from voxlab.testing import make_toy_corpus
from voxlab.training.config import load_recipe
from voxlab.training.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_torch_thread")
RECIPES = Path(__file__).resolve().parents[3] / "recipes"


def test_every_ssl_recipe_parses():
    for path in sorted((RECIPES / "ssl").glob("*.yaml")):
        recipe = load_recipe(path)
        assert recipe.model.name in {"ssl-aasist", "xlsr-sls"}
        assert recipe.augment.rawboost.algo in (3, 5), path
        assert recipe.train.class_weights == (0.1, 0.9)


@pytest.mark.slow
def test_debug_recipe_trains_and_reloads(tmp_path):
    manifest = make_toy_corpus(
        tmp_path / "toy", per_split={"train": 8, "dev": 4, "eval": 4}, seconds=0.6
    )
    recipe = load_recipe(
        RECIPES / "debug" / "ssl_aasist_tiny.yaml",
        overrides=["data.num_samples=8000", "model.overrides.num_samples=8000"],
    )
    result = Trainer(recipe, tmp_path / "run", data_root=str(manifest), progress=False).fit()
    assert result.epochs_done == 1
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["train_loss"] > 0
    model = load_checkpoint(tmp_path / "run" / "best.safetensors")
    assert isinstance(model, SSLAASIST) and model.config.frontend.hidden_size == 32
    lines = (tmp_path / "run" / "scores" / "eval_scores.txt").read_text().splitlines()
    assert len(lines) == 4
