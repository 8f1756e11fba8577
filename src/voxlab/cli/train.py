"""``voxlab train`` and ``voxlab score``: recipes into run directories, models into score files."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.errors import ConfigError


def train_command(
    recipe: Path | None = typer.Argument(
        None, help="Recipe YAML (see recipes/). Not needed with --resume."
    ),
    data: str | None = typer.Option(
        None, "--data", help="Corpus root (ASVspoof 2019: the LA folder) or manifest JSONL."
    ),
    overrides: list[str] = typer.Option(
        [], "--set", help="Override a recipe value: --set optim.epochs=10 (repeatable)."
    ),
    run_dir: Path | None = typer.Option(
        None, "--run-dir", help="Output folder (default runs/<recipe name>)."
    ),
    resume: Path | None = typer.Option(
        None, "--resume", help="Continue the run in this folder from its last finished epoch."
    ),
    stop_after_epoch: int | None = typer.Option(
        None,
        "--stop-after-epoch",
        min=1,
        help="Stop once this many epochs are done, as if killed (the learning-rate schedule "
        "stays that of the whole recipe); the run stays resumable with --resume.",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
) -> None:
    """Train a countermeasure from a recipe; the run folder holds everything it made.

    The run folder gets the resolved config, git revision and seed, metrics per epoch
    (train loss, dev EER, dev min t-DCF) as JSONL and TensorBoard events, best/last (and
    SWA) weights as safetensors with a JSON config, and the eval split's official score
    file. Kill it at any time and continue with --resume RUN_DIR. Under
    `torchrun --nproc_per_node N` the same command trains with DDP.

    Examples:
        voxlab train recipes/asvspoof2019_la/aasist.yaml --data /data/LA
        voxlab train recipes/asvspoof2019_la/aasist-l.yaml --data /data/LA --set optim.epochs=50
        voxlab train --resume runs/aasist-asvspoof2019-la
        voxlab train recipes/wild/aasist-l.yaml --data wild/manifest.jsonl --stop-after-epoch 3
    """
    from voxlab.training.config import load_recipe
    from voxlab.training.trainer import Trainer

    if resume is not None:
        if recipe is not None or overrides:
            raise ConfigError("--resume continues a run as it was configured; drop RECIPE/--set")
        trainer = Trainer(None, resume, data_root=data, resume=True, progress=progress)
    else:
        if recipe is None:
            raise ConfigError("give a RECIPE.yaml (or --resume RUN_DIR)")
        loaded = load_recipe(recipe, overrides=overrides)
        target = run_dir or Path("runs") / loaded.name
        trainer = Trainer(loaded, target, data_root=data, progress=progress)
    result = trainer.fit(stop_after_epoch=stop_after_epoch)
    if trainer.rank == 0 and result.eval_eer is None and stop_after_epoch is not None:
        typer.echo(f"stopped after epoch {stop_after_epoch} as asked; continue with --resume")
    if trainer.rank == 0:
        typer.echo(f"run folder: {result.run_dir}")
        typer.echo(f"best dev EER {100 * result.best_dev_eer:.3f}% at epoch {result.best_epoch}")
        if result.eval_eer is not None:
            tdcf = (
                "n/a (no ASV scores)"
                if result.eval_min_tdcf is None
                else (f"{result.eval_min_tdcf:.4f}")
            )
            typer.echo(f"eval EER {100 * result.eval_eer:.3f}%, min t-DCF {tdcf}")
            typer.echo(f"eval scores: {result.run_dir / 'scores' / 'eval_scores.txt'}")


def score_command(
    corpus: Path = typer.Option(
        ..., "--corpus", help="Manifest JSONL, or an ASVspoof 2019 LA folder as distributed."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Score file to write."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Published model name, or architecture for --checkpoint."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Checkpoint file (a run's best/swa .safetensors or a .pth)."
    ),
    subset: str = typer.Option("eval", "--subset", help="Split to score (train, dev, eval)."),
    batch_size: int = typer.Option(32, "--batch-size", "-b", min=1),
    workers: int = typer.Option(2, "--workers", "-j", min=1, help="Decoding threads."),
    device: str = typer.Option("cpu", "--device"),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Write an official 4-column score file (utt_id attack key score) for a corpus split.

    The official evaluation policy is used (first 64,600 samples, short files tiled).
    Evaluate the result with `voxlab eval --scores FILE` (the file carries its keys).

    Examples:
        voxlab score --model aasist --corpus /data/LA --subset eval --out aasist_eval.txt
        voxlab score --checkpoint runs/x/swa.safetensors --corpus m.jsonl --out s.txt
    """
    from voxlab.detection import Detector
    from voxlab.training.scoring import score_utterances, write_score_file

    if model is None and checkpoint is None:
        raise ConfigError("give --model NAME or --checkpoint PATH")
    utterances = _corpus_split(corpus, subset)
    kwargs = dict(batch_size=batch_size, device=device)
    if checkpoint is not None:
        detector = Detector.from_checkpoint(checkpoint, model=model, **kwargs)
    else:
        detector = Detector.from_pretrained(model, **kwargs)
    scores = score_utterances(detector, utterances, workers=workers, progress=progress)
    write_score_file(out, utterances, scores)
    typer.echo(f"wrote {len(utterances)} scores to {out}")


def _corpus_split(corpus: Path, subset: str):
    if corpus.is_dir():
        from voxlab.data.corpora.asvspoof2019 import prepare_asvspoof2019

        return prepare_asvspoof2019(corpus, splits=(subset,))[subset]
    from voxlab.data.manifest import read_manifest

    utterances = [u for u in read_manifest(corpus) if u.split == subset]
    if not utterances:
        raise ConfigError(f"{corpus} has no utterances in split {subset!r}")
    return utterances


def register(app: typer.Typer) -> None:
    """Add ``voxlab train`` and ``voxlab score`` to ``app``."""
    app.command("train")(train_command)
    app.command("score")(score_command)
