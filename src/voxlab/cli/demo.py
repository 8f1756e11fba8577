"""``voxlab demo``: the whole pipeline on embedded defaults, offline (what `make demo` runs)."""

from __future__ import annotations

from pathlib import Path

import typer


def demo_command(
    out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Output folder."),
    seed: int = typer.Option(0, "--seed", help="Seed of the corpus."),
    speakers: int = typer.Option(8, "--speakers", min=6, help="espeak-ng stand-in speakers."),
    utterances: int = typer.Option(10, "--utterances", min=2, help="Utterances per speaker."),
    workers: int = typer.Option(2, "--workers", "-j", min=1, help="Corpus build processes."),
    epochs: int = typer.Option(
        3, "--epochs", min=1, help="Training epochs of the short AASIST-L (the slowest stage)."
    ),
    gmm_components: int = typer.Option(
        64, "--gmm-components", min=1, help="Components of each LFCC-GMM class model."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bars."),
) -> None:
    r"""Make spoofs, train countermeasures, score, and write a Table-1-style report.

    Builds a small ASVspoof-2019-LA-style corpus (espeak-ng stand-in speakers; spoofs from
    WORLD, Griffin-Lim, LPC and voice-conversion attacks, eval holding unseen attacks),
    computes ASV scores with the offline GE2E encoder, trains LFCC-GMM and a short AASIST-L,
    scores the eval split with them and with every published checkpoint found locally
    ($VOXLAB_MODEL_DIR or the cache), and writes OUT/report.md with a results table, DET
    plot, score histograms and a spectrogram gallery. No network needed. A rerun reuses
    the corpus. The plan is printed first.

    \b
    Examples:
        voxlab demo                      # the full demo (long on a small machine)
        voxlab demo --speakers 6 --utterances 3 --epochs 1 --gmm-components 16   # quick look
    """
    from voxlab.demo import run_demo

    result = run_demo(
        out, seed=seed, speakers=speakers, utterances=utterances, workers=workers,
        epochs=epochs, gmm_components=gmm_components, progress=progress,
        log=lambda m: typer.echo(m, err=True),
    )  # fmt: skip
    typer.echo(f"report: {result.report}")


def register(app: typer.Typer) -> None:
    """Add ``voxlab demo`` to ``app``."""
    app.command("demo")(demo_command)
