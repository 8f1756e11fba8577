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
) -> None:
    """Compare systems: model, parameters, EER, min t-DCF and per-attack EER.

    Writes report.md and report.csv (the table), det.png (one DET curve per system) and
    histograms.png (bona fide vs spoof score distributions) into --out.

    Examples:
        voxlab report runs/aasist-asvspoof2019-la runs/aasist-l-asvspoof2019-la
            --asv-scores LA/ASVspoof2019_LA_asv_scores/ASVspoof2019.LA.asv.eval.gi.trl.scores.txt
        voxlab report --scores published-aasist=aasist_eval.txt --out cmp/
    """
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


def register(app: typer.Typer) -> None:
    """Add ``voxlab report`` to ``app``."""
    app.command("report")(report_command)
