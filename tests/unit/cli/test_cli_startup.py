"""The CLI starts fast (no heavy imports before a command runs) and every --help reads well."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
import typer

from voxlab.cli.main import app, keep_blocks

#: Packages that no command may import before it runs (each costs 0.05-3 s of start-up).
HEAVY = {
    "torch", "numpy", "scipy", "matplotlib", "transformers", "onnxruntime", "fastapi",
    "starlette", "uvicorn", "ray", "av", "soundfile", "soxr", "pyworld", "sqlalchemy",
    "faster_whisper", "ctranslate2", "tqdm", "pandas", "librosa", "selenium", "faiss",
}  # fmt: skip


def test_importing_the_cli_loads_no_heavy_package():
    code = (
        "import sys, voxlab.cli.main; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = sorted(set(out.split()) & HEAVY)
    assert not loaded, f"importing voxlab.cli.main loads {loaded}: import them inside commands"


def _commands(group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if hasattr(command, "list_commands"):  # a group (typer vendors its own click)
            yield from _commands(command, (*prefix, name))


ALL = sorted(path for path, _ in _commands(typer.main.get_command(app)))


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_every_help_reads_well(path, capsys, monkeypatch):
    from voxlab.cli.main import main

    monkeypatch.setenv("COLUMNS", "100")
    assert main([*path, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Usage: voxlab " + " ".join(path) in out
    assert "\\b" not in out and "\b" not in out  # click's no-rewrap marker never shows
    assert "<bool>" not in out  # flags take no value
    assert max(len(line) for line in out.splitlines()) <= 110  # wrapped, not ragged


def test_keep_blocks_marks_indented_paragraphs_only():
    text = "Title.\n\nProse that\nwraps.\n\nExamples:\n    voxlab a\n    voxlab b\n"
    got = keep_blocks(text).split("\n\n")
    assert got[1] == "Prose that\nwraps."
    assert got[2].startswith("\b\nExamples:")
    assert keep_blocks("A.\n\n\\b\n  x\n  y") == "A.\n\n\b\n  x\n  y"
