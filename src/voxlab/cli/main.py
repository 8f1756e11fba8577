"""The ``voxlab`` command: one typer app, one module per command group.

Each command module exposes ``register(app)``; :data:`COMMAND_MODULES` lists them. Commands
stay thin: they parse arguments, call library functions and print. Every
:class:`~voxlab.errors.VoxlabError` becomes one clear line on stderr and exit code 2
(1 is reserved for "some items failed" in batch commands); ``--verbose`` shows the
traceback.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import sys

import typer

from voxlab._version import __version__
from voxlab.errors import VoxlabError

# OpenMP threads that wait for work spin by default; on a shared or busy machine that
# spinning costs more CPU than the inference itself (issue 15: ~2.0 -> 0.16-0.18 CPU-s per
# utterance at 2 threads). libgomp reads the policy once, when torch loads it, and every
# command imports torch lazily after this line, so setting it here is safe and covers the
# whole CLI. A value the user exported wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Modules under ``voxlab.cli`` that add commands; each defines ``register(app)``.
COMMAND_MODULES = [
    "info",
    "detect",
    "watermark",
    "train",
    "report",
    "eval",
    "features",
    "corpus",
    "generate",
    "convert",
    "voices",
    "demo",
    "models",
    "calibrate",
    "sources",
    "quality",
    "serve",
    "scan",
    "explain",
    "attack",
    "robustness",
    "face",
    "av",
]

app = typer.Typer(
    name="voxlab",
    help=(
        "voxlab: make synthetic speech, catch it, mark it, measure it.\n\n"
        "Run `voxlab COMMAND --help` for the options of each command."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Plain click help: paragraphs rewrapped to the terminal, flags without a <bool>
    # metavar, and "[spoof, bona fide]" not taken for Rich markup.
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"verbose": False}


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"voxlab {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show full tracebacks and debug logs on errors."
    ),
    version: bool = typer.Option(
        False,
        "--version",
        callback=_version_callback,
        is_eager=True,
        help="Print the voxlab version and exit.",
    ),
) -> None:
    _state["verbose"] = verbose
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING)


def is_verbose() -> bool:
    """Whether ``--verbose`` was given on the command line."""
    return _state["verbose"]


def keep_blocks(text: str) -> str:
    r"""Marks each paragraph that holds indented lines (examples, lists) for click.

    Click rewraps help paragraphs to the terminal width; a paragraph that starts with a
    line holding only ``\b`` keeps its line breaks. Docstrings stay plain: this adds the
    marker where a paragraph has an indented block, and drops hand-written ones.

    Args:
        text: A command's help text (a docstring).

    Returns:
        The text with ``\b`` before every paragraph that contains indented lines.
    """
    paragraphs = []
    for paragraph in inspect.cleandoc(text).split("\n\n"):
        lines = [line for line in paragraph.splitlines() if line.strip() not in ("\b", "\\b")]
        if any(line[:1].isspace() for line in lines):
            lines.insert(0, "\b")
        if lines:
            paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


def _keep_help_blocks(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        text = info.help or (info.callback and inspect.getdoc(info.callback))
        if text:
            info.help = keep_blocks(text)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _keep_help_blocks(group.typer_instance)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"voxlab.cli.{name}")
        module.register(app)
    _keep_help_blocks(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code instead of raising ``SystemExit``.

    Args:
        argv: Arguments without the program name; ``sys.argv[1:]`` when None.

    Returns:
        The process exit code: 0 success, 1 some items failed, 2 usage or user error.
    """
    args = sys.argv[1:] if argv is None else argv
    _state["verbose"] = False
    try:
        # Standalone mode prints usage errors itself and exits with click's codes (2).
        app(args=args, prog_name="voxlab", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except VoxlabError as exc:
        if _state["verbose"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except Exception as exc:
        if _state["verbose"]:
            raise
        typer.echo(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(rerun with --verbose for the traceback, and please report it)",
            err=True,
        )
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
