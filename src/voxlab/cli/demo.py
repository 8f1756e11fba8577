"""``voxlab demo``: real human speech vs today's spoofs, end to end, offline (`make demo`)."""

from __future__ import annotations

from pathlib import Path

import typer


def demo_command(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Output folder."),
    size: str = typer.Option(
        "auto",
        "--size",
        help="small, full, or auto: full with 8 or more CPU cores, else small. See the "
        "README for what each costs.",
    ),
    per_speaker: int = typer.Option(
        None, "--per-speaker", min=1, help="Utterances per human speaker (overrides --size)."
    ),
    epochs: int = typer.Option(
        None, "--epochs", min=1, help="AASIST-L training epochs (overrides --size)."
    ),
    gmm_components: int = typer.Option(
        None, "--gmm-components", min=1, help="Components of each LFCC-GMM (overrides --size)."
    ),
    train_steps: int = typer.Option(
        None,
        "--train-steps",
        min=0,
        help="AASIST-L batches per epoch at most, 0 for all (overrides --size).",
    ),
    prepare_per_speaker: int = typer.Option(
        None,
        "--prepare-per-speaker",
        min=4,
        help="Recordings prepared per speaker from each package (overrides --size).",
    ),
    sources_dir: Path = typer.Option(
        None,
        "--sources-dir",
        help="Prepared sources (default: OUT/sources for a slice, $VOXLAB_HOME/sources for "
        "whole packages).",
    ),
    workers: int = typer.Option(2, "--workers", "-j", min=1, help="Corpus build processes."),
    seed: int = typer.Option(0, "--seed", help="Seed of the corpus."),
    progress: bool = typer.Option(
        None,
        "--progress/--no-progress",
        help="Progress bars of the inner steps (default: only on a terminal). The stage "
        "lines with the overall progress and ETA are always printed.",
        show_default=False,
    ),
) -> None:
    """Real human speech against today's spoofs: build, train, score, report.

    Prepares the human recordings that Debian packages ship (first use; `make data`
    installs them), builds a small voxlab-wild corpus (spoofs: Piper and Kokoro neural
    TTS, festival and espeak-ng, copy-synthesis, voice conversion, all through the same
    channels), trains LFCC-GMM and a short AASIST-L on it, scores the eval split (held-out
    speakers, sources and systems) with them, the published models found locally and the
    shipped voxlab-wild model, and writes OUT/report.md with trial counts, confidence
    intervals, calibrated verdicts, a DET plot, histograms and a spectrogram gallery.
    No network. Prints its plan, then one line per stage with the overall progress and
    an ETA. Exit code 1 when some corpus files failed (the report lists them).

    Examples:
        voxlab demo                       # sized to this machine (small on 2 cores)
        voxlab demo --size full -o runs/demo-full
        voxlab demo --per-speaker 1 --epochs 1 --train-steps 1 --gmm-components 8   # a look
    """
    from voxlab.demo import run_demo
    from voxlab.errors import VoxlabError

    try:
        result = run_demo(
            out, size=size, per_speaker=per_speaker, epochs=epochs,
            gmm_components=gmm_components, train_steps=train_steps,
            prepare_per_speaker=prepare_per_speaker,
            sources_dir=sources_dir, workers=workers, seed=seed, progress=progress,
            log=lambda m: typer.echo(m, err=True),
        )  # fmt: skip
    except VoxlabError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"report: {result.report}")
    if result.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``voxlab demo`` to ``app``."""
    app.command("demo")(demo_command)
