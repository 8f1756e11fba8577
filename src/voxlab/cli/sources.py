"""``voxlab sources``: real human speech shipped by Debian packages (list, prepare)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from voxlab.cli.output import check_format, report_failures, write_rows

sources_app = typer.Typer(
    help="Real human speech shipped by Debian packages: list the sources, prepare manifests.",
    no_args_is_help=True,
)


@sources_app.command("list")
def list_command(
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
) -> None:
    """List the speech sources: package, whether it is installed, language, licence.

    Examples:
        voxlab sources list
        voxlab sources list --format json
    """
    from voxlab.data.sources import SOURCES

    fmt = check_format(fmt)
    rows = []
    for source in SOURCES.values():
        installed = source.available()
        rows.append(
            {
                "source": source.name,
                "package": source.package,
                "installed": "yes" if installed else "no",
                "version": source.version() if installed else "-",
                "language": source.language,
                "licence": source.licence,
                "description": source.description,
                "install": "" if installed else source.install_hint(),
            }
        )
    columns = ["source", "package", "installed", "version", "language", "licence", "description"]
    write_rows(rows, columns, fmt)
    missing = [r for r in rows if r["installed"] == "no"]
    if missing and fmt == "table":
        typer.echo(
            f"{len(missing)} source(s) not installed: run `make data` "
            f"(or sudo apt-get install -y {' '.join(r['package'] for r in missing)})",
            err=True,
        )


@sources_app.command("prepare")
def prepare_command(
    names: list[str] = typer.Argument(None, help="Source ids (all installed ones if none)."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output folder (default $VOXLAB_HOME/sources)."
    ),
    per_speaker: int | None = typer.Option(
        None, "--per-speaker", min=1, help="Keep at most N recordings per speaker (a slice)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
) -> None:
    """Check, trim and convert sources to 16 kHz FLAC with a manifest each.

    Every file is checked to be speech (not silence, not a beep, not clipped, not a
    duplicate by content hash); skipped files are listed in skipped.jsonl with the reason.
    A prepared source is reused until its package version or the settings change. Exits 1
    when a named source is not installed (the others are still prepared).

    Examples:
        voxlab sources prepare                       # every installed source
        voxlab sources prepare festvox-ru gcin-voice --out data/sources
        voxlab sources prepare --per-speaker 5 --format json   # a small slice
    """
    from voxlab.data.sources import SOURCES, get_source, prepare_source
    from voxlab.errors import VoxlabError

    fmt = check_format(fmt)
    wanted = list(names) if names else [n for n, s in SOURCES.items() if s.available()]
    if not names and not wanted:
        typer.echo("no speech source is installed: run `make data`", err=True)
        raise typer.Exit(1)
    rows = []
    for name in wanted:
        try:
            prepared = prepare_source(
                get_source(name),
                out,
                per_speaker=per_speaker,
                progress=progress and sys.stderr.isatty(),
            )
        except VoxlabError as exc:
            rows.append({"source": name, "status": "error", "error": str(exc)})
            continue
        s = prepared.summary
        rows.append(
            {
                "source": name,
                "status": "reused" if prepared.reused else "prepared",
                "version": s["package_version"],
                "kept": s["kept"],
                "skipped": ", ".join(f"{k} {v}" for k, v in s["skipped"].items()) or "-",
                "speakers": len(s["speakers"]),
                "minutes": s["minutes_kept"],
                "folder": str(prepared.folder),
            }
        )
    columns = ["source", "status", "version", "kept", "skipped", "speakers", "minutes", "folder"]
    write_rows([r for r in rows if r["status"] != "error"], columns, fmt)
    raise typer.Exit(report_failures(rows, what="source"))


def register(app: typer.Typer) -> None:
    """Add ``voxlab sources`` to ``app``."""
    app.add_typer(sources_app, name="sources")
