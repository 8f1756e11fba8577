"""``voxlab eval``: ASVspoof metrics of a score file, pooled and per attack."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from voxlab.cli.output import check_format

if TYPE_CHECKING:  # numpy, rich and the metrics load when the command runs, not at start-up
    import numpy as np
    from rich.table import Table

    from voxlab.evaluation import EvalReport


def _render(report: EvalReport, fmt: str) -> str | None:
    """The report as text for json/markdown; None for the Rich table (printed directly)."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2) + "\n"
    if fmt == "markdown":
        return report.to_markdown()
    return None


def _tables(report: EvalReport) -> list[Table]:
    from rich.table import Table

    summary = Table(title=f"Pooled metrics (metric set {report.metric_set})")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    for name, value in report.summary_rows():
        summary.add_row(name, value)
    tables = [summary]
    for title, rows in (("Per attack", report.per_attack), ("Per condition", report.per_condition)):
        if not rows:
            continue
        header, body = report.breakdown_table(rows)
        table = Table(title=title)
        for i, col in enumerate(header):
            table.add_column(col, justify="right" if i >= 2 else "left")
        for cells in body:
            table.add_row(*cells)
        tables.append(table)
    return tables


def _save_det_plot(
    scores: np.ndarray, keys: np.ndarray, attacks: np.ndarray | None, path: Path
) -> None:
    from voxlab.evaluation.metrics import BONAFIDE, det_curve
    from voxlab.evaluation.plots import plot_det

    bona = scores[keys == BONAFIDE]
    curves = {"pooled": det_curve(bona, scores[keys != BONAFIDE])}
    if attacks is not None:
        for attack in sorted(set(attacks[keys != BONAFIDE].tolist())):
            curves[attack] = det_curve(bona, scores[attacks == attack])
    plot_det(curves, path)


def eval_command(
    scores: Path = typer.Option(
        ..., "--scores", "-s", help="Score file: 'utt attack key score' or 'utt score'."
    ),
    protocol: Path | None = typer.Option(
        None,
        "--protocol",
        "-p",
        help="Protocol giving keys (needed for 2-column scores): ASVspoof 2019 CM protocol, "
        "2021 trial_metadata.txt, ASVspoof 5 .tsv, In-the-Wild meta.csv or a CSV list.",
    ),
    asv_scores: Path | None = typer.Option(
        None,
        "--asv-scores",
        "-a",
        help="Organizers' ASV scores ('source key score') for the t-DCF.",
    ),
    metric_set: str = typer.Option(
        "2019", "--metric-set", "-m", help="2019, 2021, asvspoof5 or all."
    ),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json or markdown."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the report to this file."),
    det_plot: Path | None = typer.Option(
        None, "--det-plot", help="Also save a DET plot (pooled and per attack) to this image."
    ),
) -> None:
    """Compute the official ASVspoof metrics of a countermeasure score file.

    Pooled EER plus, depending on --metric-set, the ASVspoof 2019 (legacy) or 2021
    (revised) min t-DCF (needs --asv-scores), or ASVspoof 5 minDCF, actDCF, Cllr and
    min Cllr; then EER and the primary cost per attack, and per codec/transmission
    condition when the protocol has them. Values equal the official implementations.

    Examples:
        voxlab eval -s scores.txt -a ASVspoof2019.LA.asv.eval.gi.trl.scores.txt
        voxlab eval -s score.txt -p keys/LA/CM/trial_metadata.txt -m 2021 -f json
    """
    from rich.console import Console

    from voxlab.data.scores import read_asv_scores, read_protocol, read_scores
    from voxlab.errors import DataError
    from voxlab.evaluation import METRIC_SETS, AsvScores, evaluate
    from voxlab.evaluation.metrics import BONAFIDE

    fmt = check_format(fmt, ("table", "json", "markdown"))
    if metric_set not in METRIC_SETS:
        raise typer.BadParameter(f"{metric_set!r} is not one of {', '.join(METRIC_SETS)}")
    utterances = read_protocol(protocol) if protocol is not None else None
    table = read_scores(scores, protocol=utterances)
    asv = None
    if asv_scores is not None:
        raw = read_asv_scores(asv_scores)
        asv = AsvScores.from_keys(raw.keys, raw.scores, raw.sources)
    if table.keys is None:  # read_scores raises before this; kept for type narrowing
        raise DataError(f"{scores} carries no keys; give --protocol")
    attacks = table.attacks
    if attacks is not None and (attacks[table.keys != BONAFIDE] == "-").all():
        attacks = None  # no attack ids: no per-attack table
    report = evaluate(
        table.scores,
        table.keys,
        attacks,
        asv=asv,
        metric_set=metric_set,
        conditions=dict(table.conditions) or None,
    )
    if det_plot is not None:
        _save_det_plot(table.scores, table.keys, attacks, det_plot)
        typer.echo(f"wrote {det_plot}", err=True)
    text = _render(report, fmt)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            with out.open("w", encoding="utf-8") as fh:
                console = Console(file=fh, width=120, soft_wrap=False)
                for rich_table in _tables(report):
                    console.print(rich_table)
        else:
            out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)
        return
    if text is not None:
        sys.stdout.write(text)
        return
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 120)
    for rich_table in _tables(report):
        console.print(rich_table)
    for note in report.notes:
        typer.echo(f"note: {note}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``voxlab eval`` to ``app``."""
    app.command("eval")(eval_command)
