"""The recipes' adversarial-training option: validated, and a debug run trains with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from voxlab.adversarial.training import adversarial_batch
from voxlab.errors import ConfigError
from voxlab.testing import make_toy_corpus
from voxlab.training.config import load_recipe

RECIPE = Path(__file__).resolve().parents[3] / "recipes" / "debug" / "aasist_tiny.yaml"


def test_adversarial_batch_raises_the_true_label_loss_within_each_items_ball():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(400, 16), nn.Tanh(), nn.Linear(16, 2))
    model.train()
    waves = torch.tanh(torch.randn(6, 400)) * torch.linspace(0.05, 0.5, 6)[:, None]
    labels = torch.tensor([0, 1, 0, 1, 0, 1])
    adv = adversarial_batch(model, waves, labels, method="pgd", snr_db=20, steps=4)
    eps = waves.pow(2).mean(dim=1).sqrt() * 0.1
    assert torch.all((adv - waves).abs().amax(dim=1) <= eps * (1 + 1e-5))
    ce = nn.functional.cross_entropy
    assert ce(model(adv), labels) > ce(model(waves), labels)
    assert model.training  # mode restored
    with pytest.raises(ConfigError, match="adversarial method"):
        adversarial_batch(model, waves, labels, method="cw")


def test_recipe_validates_the_option():
    with pytest.raises(ConfigError, match=r"train\.adversarial must be"):
        load_recipe(RECIPE, overrides=["train.adversarial=cw"])
    with pytest.raises(ConfigError, match="adversarial_steps"):
        load_recipe(RECIPE, overrides=["train.adversarial=pgd", "train.adversarial_steps=0"])


@pytest.mark.slow
def test_debug_run_with_adversarial_training(tmp_path):
    from voxlab.training.trainer import Trainer

    manifest = make_toy_corpus(tmp_path / "toy", per_split={"train": 8, "dev": 4, "eval": 4},
                               seconds=0.5)  # fmt: skip
    fast = ["optim.epochs=1", "data.num_samples=8000", "model.overrides.num_samples=8000",
            "train.adversarial=pgd", "train.adversarial_snr_db=30", "train.adversarial_steps=2",
            "train.swa=false"]  # fmt: skip
    recipe = load_recipe(RECIPE, overrides=fast)
    assert recipe.train.adversarial == "pgd"
    result = Trainer(recipe, tmp_path / "run", data_root=str(manifest), progress=False).fit()
    assert result.epochs_done == 1
    rows = [
        json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    ]
    assert rows[0]["train_loss"] > 0
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "adversarial: pgd" in config
