"""Shared output helpers for CLI commands: tables, JSON lines, CSV, error rows."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import typer

if TYPE_CHECKING:  # rich is imported where a table is drawn: `voxlab --help` stays fast
    from rich.console import Console
    from rich.table import Table

#: Output formats offered by batch commands.
FORMATS = ("table", "json", "jsonl", "csv")


def console(stderr: bool = False) -> Console:
    """A Rich console on stdout (or stderr for progress and messages)."""
    from rich.console import Console

    return Console(stderr=stderr, soft_wrap=False)


def check_format(fmt: str, allowed: Sequence[str] = FORMATS) -> str:
    """Validate a ``--format`` value.

    Raises:
        typer.BadParameter: ``fmt`` is not one of ``allowed``.
    """
    if fmt not in allowed:
        raise typer.BadParameter(f"{fmt!r} is not one of {', '.join(allowed)}")
    return fmt


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    return str(value)


def render_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], *, title: str = ""
) -> Table:
    """A Rich table of ``rows``; error rows are shown in red."""
    from rich.table import Table

    table = Table(title=title or None, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        style = "red" if row.get("status") == "error" else None
        table.add_row(*(_cell(row.get(c)) for c in columns), style=style)
    return table


def write_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    *,
    stream: TextIO | None = None,
    title: str = "",
) -> None:
    """Print rows as a table, a JSON array, JSON lines or CSV.

    Args:
        rows: Result dictionaries.
        columns: Columns for table/CSV (JSON keeps every key).
        fmt: One of :data:`FORMATS`.
        stream: Where to write (stdout by default).
        title: Table title.
    """
    out = stream or sys.stdout
    rows = list(rows)
    if fmt == "table":
        from rich.console import Console

        width = None if out.isatty() else 160
        Console(file=out, soft_wrap=False, width=width).print(
            render_table(rows, columns, title=title)
        )
    elif fmt == "json":
        json.dump(rows, out, indent=2, default=str)
        out.write("\n")
    elif fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, default=str) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: _cell(row.get(c)) for c in columns})
    else:
        raise typer.BadParameter(f"unknown format {fmt!r}")


def report_failures(rows: Sequence[dict[str, Any]], *, what: str = "file") -> int:
    """Print one line per failed row on stderr; return the exit code (1 if any failed)."""
    failed = [r for r in rows if r.get("status") == "error"]
    for row in failed:
        typer.echo(f"error: {row.get('error')}", err=True)
    if failed:
        typer.echo(f"{len(failed)} of {len(rows)} {what}(s) failed", err=True)
        return 1
    return 0
