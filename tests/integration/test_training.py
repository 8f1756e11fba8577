"""Tiny end-to-end training runs: YAML -> run folder, exact resume, CLI, DDP on 2 CPU ranks."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from voxlab.cli.main import main
from voxlab.errors import ConfigError
from voxlab.testing import make_toy_corpus
from voxlab.training.config import load_recipe
from voxlab.training.trainer import Trainer

pytestmark = pytest.mark.integration
RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "debug" / "aasist_tiny.yaml"
FAST = ["optim.epochs=2", "data.num_samples=8000", "model.overrides.num_samples=8000"]


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return make_toy_corpus(
        tmp_path_factory.mktemp("toy"), per_split={"train": 24, "dev": 8, "eval": 8}, seconds=0.6
    )


@pytest.fixture(scope="module")
def full_run(manifest, tmp_path_factory):
    run = tmp_path_factory.mktemp("runs") / "full"
    result = Trainer(
        load_recipe(RECIPE, overrides=FAST), run, data_root=str(manifest), progress=False
    ).fit()
    return run, result


def test_run_folder_holds_everything(full_run):
    run, result = full_run
    assert result.epochs_done == 2
    for name in (
        "config.yaml",
        "run.json",
        "metrics.jsonl",
        "state.pt",
        "best.safetensors",
        "best.json",
        "last.safetensors",
        "swa.safetensors",
        "eval_metrics.json",
    ):
        assert (run / name).is_file(), name
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [0, 1]
    assert all(r["train_loss"] > 0 and 0 <= r["dev_eer"] <= 1 for r in rows)
    assert rows[0]["lr"] > rows[1]["lr"]  # cosine schedule
    info = json.loads((run / "run.json").read_text())
    assert info["seed"] == 7 and info["git_revision"]
    assert list((run / "tensorboard").glob("events.out.tfevents.*"))
    lines = (run / "scores" / "eval_scores.txt").read_text().splitlines()
    assert len(lines) == 8
    _utt, _attack, key, score = lines[0].split()
    assert key in {"bonafide", "spoof"} and float(score) == float(score)
    assert json.loads((run / "eval_metrics.json").read_text())["n_bonafide"] == 4


def test_resume_after_a_kill_gives_identical_weights(full_run, manifest, tmp_path):
    run, _ = full_run
    recipe = load_recipe(RECIPE, overrides=FAST)
    split = tmp_path / "split"
    first = Trainer(recipe, split, data_root=str(manifest), progress=False)
    assert first.fit(stop_after_epoch=1).epochs_done == 1
    assert not (split / "swa.safetensors").exists()
    Trainer(None, split, data_root=str(manifest), resume=True, progress=False).fit()
    for tag in ("last", "swa"):
        a, b = load_file(run / f"{tag}.safetensors"), load_file(split / f"{tag}.safetensors")
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), f"{tag}:{key}"
    assert (run / "scores" / "eval_scores.txt").read_text() == (
        split / "scores" / "eval_scores.txt"
    ).read_text()


def test_cli_stop_after_epoch_then_resume_equals_the_full_run(full_run, manifest, tmp_path, capsys):
    run, _ = full_run
    split = tmp_path / "cli-split"
    args = ["train", str(RECIPE), "--data", str(manifest), "--run-dir", str(split), "--no-progress"]
    for item in FAST:
        args += ["--set", item]
    assert main([*args, "--stop-after-epoch", "1"]) == 0
    assert "stopped after epoch 1" in capsys.readouterr().out
    assert len((split / "metrics.jsonl").read_text().splitlines()) == 1
    assert not (split / "scores" / "eval_scores.txt").exists()
    # the run folder remembers --data: `voxlab train --resume RUN_DIR` as the docs show it
    assert main(["train", "--resume", str(split), "--no-progress"]) == 0
    a, b = load_file(run / "swa.safetensors"), load_file(split / "swa.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_refuses_to_overwrite_and_bad_recipes(full_run, manifest, tmp_path):
    run, _ = full_run
    with pytest.raises(ConfigError, match="already holds a run"):
        Trainer(load_recipe(RECIPE, overrides=FAST), run, data_root=str(manifest)).fit()
    with pytest.raises(ConfigError, match="no finished epoch"):
        Trainer(None, tmp_path / "empty", resume=True)
    with pytest.raises(ConfigError, match="unknown key"):
        load_recipe(RECIPE, overrides=["optim.learning_rate=1"])
    with pytest.raises(ConfigError, match="expected an integer"):
        load_recipe(RECIPE, overrides=["optim.epochs=ten"])
    with pytest.raises(ConfigError, match=r"model\.name"):
        load_recipe(RECIPE, overrides=["model.name=nope"])


def test_cli_train_then_score_and_eval(manifest, tmp_path, capsys):
    run = tmp_path / "cli"
    args = ["train", str(RECIPE), "--data", str(manifest), "--run-dir", str(run), "--no-progress"]
    for item in [*FAST, "optim.epochs=1", "train.swa=false"]:
        args += ["--set", item]
    assert main(args) == 0
    assert "eval EER" in capsys.readouterr().out
    scores = tmp_path / "dev_scores.txt"
    code = main(
        [
            "score",
            "--checkpoint",
            str(run / "best.safetensors"),
            "--corpus",
            str(manifest),
            "--subset",
            "dev",
            "--out",
            str(scores),
            "--no-progress",
        ]
    )
    assert code == 0 and len(scores.read_text().splitlines()) == 8
    assert "it/s" not in capsys.readouterr().err  # --no-progress: no bar
    assert main(["eval", "--scores", str(scores), "--format", "json"]) == 0


@pytest.mark.slow
def test_ddp_two_cpu_processes(manifest, tmp_path):
    run = tmp_path / "ddp"
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        "-m",
        "voxlab",
        "train",
        str(RECIPE),
        "--data",
        str(manifest),
        "--run-dir",
        str(run),
        "--no-progress",
    ]
    for item in [*FAST, "optim.epochs=1", "optim.batch_size=4"]:
        cmd += ["--set", item]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((run / "run.json").read_text())
    assert info["world_size"] == 2
    rows = (run / "metrics.jsonl").read_text().splitlines()
    assert len(rows) == 1  # only rank 0 writes
    assert (run / "scores" / "eval_scores.txt").is_file()


def test_gmm_baseline_trains_by_em(manifest, tmp_path):
    recipe = load_recipe(
        RECIPE.parents[1] / "asvspoof2019_la" / "lfcc-gmm.yaml",
        overrides=[
            "data.corpus=manifest",
            "data.dev_asv_scores=''",
            "data.eval_asv_scores=''",
            "model.overrides={n_components: 4, n_iter: 3}",
        ],
    )
    result = Trainer(recipe, tmp_path / "gmm", data_root=str(manifest), progress=False).fit()
    rows = [
        json.loads(line) for line in (tmp_path / "gmm" / "metrics.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 1 and len(rows[0]["em_log_likelihood"]["bonafide"]) >= 1
    assert result.final_weights.name == "best.safetensors" and result.eval_eer is not None
    assert len((tmp_path / "gmm" / "scores" / "eval_scores.txt").read_text().splitlines()) == 8


def test_recipes_parse_and_missing_asv_scores_fail_early(manifest, tmp_path):
    for path in sorted((RECIPE.parents[1] / "asvspoof2019_la").glob("*.yaml")):
        recipe = load_recipe(path)
        assert recipe.data.corpus == "asvspoof2019", path
    recipe = load_recipe(RECIPE, overrides=["data.dev_asv_scores={root}/nope.txt"])
    with pytest.raises(ConfigError, match="ASV score file"):
        Trainer(recipe, tmp_path / "x", data_root=str(manifest))


def test_report_compares_runs_and_score_files(full_run, tmp_path, capsys):
    run, _ = full_run
    extra = tmp_path / "other.txt"
    lines = (run / "scores" / "eval_scores.txt").read_text().splitlines()
    # a second "system": the same trials with scores negated
    extra.write_text(
        "".join(f"{u} {a} {k} {-float(s)!r}\n" for u, a, k, s in (line.split() for line in lines))
    )
    out = tmp_path / "report"
    assert main(["report", str(run), "--scores", f"flipped={extra}", "--out", str(out)]) == 0
    md = (out / "report.md").read_text()
    assert "| full |" in md and "| flipped |" in md
    assert "T1 EER (%)" in md and "T2 EER (%)" in md
    header, *rows = (out / "report.csv").read_text().splitlines()
    assert header.startswith("model,parameters,EER (%)") and len(rows) == 2
    import csv

    table = list(csv.DictReader((out / "report.csv").read_text().splitlines()))
    assert int(table[0]["parameters"].replace(",", "")) > 1000  # the tiny AASIST's count
    eer = json.loads((run / "eval_metrics.json").read_text())["eer_percent"]
    assert float(table[0]["EER (%)"]) == pytest.approx(eer, abs=0.005)
    assert (out / "det.png").stat().st_size > 5000 and (
        out / "histograms.png"
    ).stat().st_size > 5000
    assert main(["report", "--scores", "bad"]) == 2
    assert "NAME=FILE" in capsys.readouterr().err


def test_init_from_published_weights_fine_tunes(manifest, tmp_path, fixtures_dir, monkeypatch):
    from voxlab.models.checkpoints import load_checkpoint
    from voxlab.pretrained import load_pretrained

    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    recipe = load_recipe(RECIPE, overrides=[
        "model.name=aasist-l", "model.overrides={}", "model.init_from=aasist-l",
        "optim.epochs=1", "optim.lr=1e-9", "optim.min_lr=1e-9", "train.swa=false",
        "data.num_samples=8000",
    ])  # fmt: skip
    Trainer(recipe, tmp_path / "ft", data_root=str(manifest), progress=False).fit(
        stop_after_epoch=1
    )
    tuned = load_checkpoint(tmp_path / "ft" / "last.safetensors").state_dict()
    published = load_pretrained("aasist-l").state_dict()
    # a (near-)zero learning rate keeps the published weights: they were loaded
    key = (
        "encoder.0.conv1.weight" if "encoder.0.conv1.weight" in published else next(iter(published))
    )
    assert torch.allclose(tuned[key], published[key], atol=1e-5)
    with pytest.raises(ConfigError, match="init_from"):
        bad = load_recipe(RECIPE, overrides=["model.init_from=/nope.pth"])
        Trainer(bad, tmp_path / "bad", data_root=str(manifest), progress=False).fit()
