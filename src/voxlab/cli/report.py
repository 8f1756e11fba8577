"""``voxlab report``: a Table-1-style comparison of training runs and score files."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.errors import ConfigError


def report_command(
    runs: list[Path] = typer.Argument(None, help="Run folders made by `voxlab train`."),
    scores: list[str] = typer.Option(
        [], "--scores", help="Extra system as NAME=SCORE_FILE (4-column, with keys)."
    ),
    asv_scores: Path | None = typer.Option(
        None, "--asv-scores", help="ASV score file of the eval trials, for the min t-DCFs."
    ),
    out: Path = typer.Option(Path("report"), "--out", "-o", help="Output folder."),
    wild: Path | None = typer.Option(
        None,
        "--wild",
        help="A voxlab-wild corpus: write its generalisation table (every model x in-domain, "
        "each held-out system, source and channel) instead.",
    ),
    model: list[str] = typer.Option(
        [],
        "--model",
        help="--wild: a model as NAME=SPEC (SPEC: catalogue name, run folder, checkpoint or "
        "4-column score file) or a catalogue name; repeatable.",
    ),
    prior: float = typer.Option(0.05, "--prior", help="--wild: Pspoof of the DCF/calibration."),
) -> None:
    """Compare systems: model, parameters, EER, min t-DCF and per-attack EER.

    Writes report.md and report.csv (the table), det.png (one DET curve per system) and
    histograms.png (bona fide vs spoof score distributions) into --out.

    With --wild CORPUS it writes the voxlab-wild generalisation table instead
    (wild_table.md/.csv/.json, det_*.png): each model's EER, min DCF and Cllr/actDCF (raw
    and calibrated on the corpus's dev split) on the pooled eval split, each spoofing system,
    each human source and each channel condition, with trial counts and which rows are held
    out. Scores are cached in OUT/scores/, so a rerun scores only new models.

    Examples:
        voxlab report runs/aasist-asvspoof2019-la runs/aasist-l-asvspoof2019-la
            --asv-scores LA/ASVspoof2019_LA_asv_scores/ASVspoof2019.LA.asv.eval.gi.trl.scores.txt
        voxlab report --scores published-aasist=aasist_eval.txt --out cmp/
        voxlab report --wild voxlab-wild --model voxlab-wild --model aasist-l --out wild-report
        voxlab report --wild voxlab-wild runs/aasist-l-wild --model aasist --out wild-report
    """
    if wild is not None:
        _wild_report(wild, runs or [], model, scores, out, prior)
        return
    from voxlab.data.scores import read_asv_scores, read_scores
    from voxlab.evaluation import AsvScores
    from voxlab.evaluation.comparison import (
        comparison_csv,
        comparison_markdown,
        plot_det_comparison,
        plot_score_histograms,
        system_from_scores,
    )
    from voxlab.training.rundir import RunDir

    entries: list[tuple[str, Path, int | None]] = []
    for run in runs or []:
        path = run / "scores" / "eval_scores.txt"
        if not path.is_file():
            raise ConfigError(f"{run}: no scores/eval_scores.txt (has the run finished?)")
        entries.append((run.name, path, RunDir(run).parameters()))
    for item in scores:
        name, sep, file = item.partition("=")
        if not sep or not name or not file:
            raise ConfigError(f"--scores expects NAME=FILE, got {item!r}")
        entries.append((name, Path(file), None))
    if not entries:
        raise ConfigError("give run folders and/or --scores NAME=FILE")
    asv = None
    if asv_scores is not None:
        raw = read_asv_scores(asv_scores)
        asv = AsvScores.from_keys(raw.keys, raw.scores, raw.sources)
    systems = []
    for name, path, params in entries:
        table = read_scores(path)
        if table.keys is None:
            raise ConfigError(f"{path}: needs the 4-column format (utt_id attack key score)")
        systems.append(
            system_from_scores(name, table.scores, table.keys, table.attacks, asv=asv,
                               parameters=params)
        )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.md").write_text(comparison_markdown(systems, title="Evaluation results"))
    (out / "report.csv").write_text(comparison_csv(systems))
    plot_det_comparison(systems, out / "det.png")
    plot_score_histograms(systems, out / "histograms.png")
    typer.echo((out / "report.md").read_text())
    typer.echo(f"report written to {out}/ (report.md, report.csv, det.png, histograms.png)")


def _wild_report(corpus, runs, models, scores, out, prior) -> None:
    from voxlab.evaluation.wild_report import build_wild_report
    from voxlab.evaluation.wild_table import table_markdown

    specs = [f"{run.name}={run}" for run in runs] + list(models) + list(scores)
    if not specs:
        raise ConfigError("--wild needs models: --model NAME=SPEC, run folders or --scores")
    report = build_wild_report(corpus, specs, out, prior=prior, log=typer.echo)
    typer.echo(table_markdown(report.rows))
    typer.echo(f"report written to {out}/ (wild_table.md/.csv/.json, det_*.png, scores/)")


def register(app: typer.Typer) -> None:
    """Add ``voxlab report`` to ``app``."""
    app.command("report")(report_command)
