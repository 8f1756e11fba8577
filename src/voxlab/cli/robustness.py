"""``voxlab robustness``: models x channel conditions x adversarial budgets -> EER table."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.errors import ConfigError


def robustness_command(
    models: str = typer.Option(
        "aasist,aasist-l,aasist-asvspoof5,rawgat-st,rawgat-st-add",
        "--models",
        help="Comma-separated published model names.",
    ),
    corpus: Path = typer.Option(
        ..., "--corpus", help="Manifest (JSONL) or folder (manifest.jsonl or bonafide/ spoof/)."
    ),
    conditions: str = typer.Option(
        "all", "--conditions", help="all, none, or comma-separated labels (mp3_64k,white_20db...)."
    ),
    budgets: str = typer.Option(
        "50,40,30", "--budgets", help="Adversarial PGD budgets, SNR in dB ('' for none)."
    ),
    pgd_steps: int = typer.Option(10, "--pgd-steps", min=1, help="PGD steps per utterance."),
    limit: int = typer.Option(0, "--limit", min=0, help="Use at most this many utterances."),
    out: Path = typer.Option(Path("robustness"), "--out", "-o", help="Output folder."),
    threads: int = typer.Option(0, "--threads", min=0, help="Torch threads (0 = default)."),
    no_download: bool = typer.Option(False, "--no-download", help="Never download weights."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    r"""Every model x every channel condition x adversarial budgets -> one EER table.

    Conditions are the standard configurations of voxlab.audio.effects (codecs at several
    bitrates, telephone band, white/pink noise at 40..5 dB SNR, reverberation, filters,
    resampling, tempo and speed changes, gain, echo, crops) and, per budget, a white-box
    PGD attack on each model pushing every utterance to the other class. OUT gets
    eer.md, eer.csv, eer.json and heatmap.png; each (model, condition) cell is saved
    under OUT/cells/ as soon as it is done, so rerunning the command resumes. Exit code 1
    when some items could not be scored (their errors are in the cell files).

    Examples:
        voxlab robustness --corpus wild/eval.jsonl --out report/
        voxlab robustness --models aasist-l --corpus clips/ --budgets 40 \
            --conditions mp3_64k,white_20db,telephone,reverb --out report/
    """
    from voxlab.adversarial.loading import load_model
    from voxlab.adversarial.robustness import conditions as make_conditions
    from voxlab.adversarial.robustness import load_corpus, run_report

    names = [m.strip() for m in models.split(",") if m.strip()]
    try:
        levels = [float(b) for b in budgets.split(",") if b.strip()]
    except ValueError:
        raise ConfigError(f"--budgets takes SNRs in dB like 50,40,30, got {budgets!r}") from None
    conds = make_conditions(conditions, levels)
    items = load_corpus(corpus)
    if limit:
        bona = [u for u in items if u.key == "bonafide"][: (limit + 1) // 2]
        spoof = [u for u in items if u.key == "spoof"][: limit // 2]
        items = bona + spoof
    if threads:
        import torch

        torch.set_num_threads(threads)
    rows = run_report(
        names, items, conds, out, pgd_steps=pgd_steps, progress=progress,
        load=lambda name: load_model(name, download=not no_download),
    )  # fmt: skip
    typer.echo((out / "eer.md").read_text(encoding="utf-8"))
    typer.echo(f"wrote {out / 'eer.csv'}, {out / 'eer.json'} and {out / 'heatmap.png'}", err=True)
    failed = sum(len(r["errors"]) for r in rows)
    if failed:
        typer.echo(f"{failed} item score(s) failed; see {out / 'cells'}", err=True)
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    """Add ``voxlab robustness`` to ``app``."""
    app.command("robustness")(robustness_command)
