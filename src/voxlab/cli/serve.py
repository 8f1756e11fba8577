"""``voxlab serve``: the REST API and web page; ``voxlab serve token``: API tokens."""

from __future__ import annotations

from pathlib import Path

import typer

serve_app = typer.Typer(invoke_without_command=True)
token_app = typer.Typer(help="Create, revoke and list API tokens.", no_args_is_help=True)
serve_app.add_typer(token_app, name="token")

DATA_DIR_HELP = "Holds the SQLite database, uploads and results (default $VOXLAB_HOME/serve)."


@serve_app.callback()
def serve_command(
    ctx: typer.Context,
    host: str | None = typer.Option(None, "--host", help="Bind address (default 127.0.0.1)."),
    port: int | None = typer.Option(None, "--port", "-p", help="Port (default 8000)."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    config: Path | None = typer.Option(
        None, "--config", "-c", help="YAML settings (see voxlab.service.config)."
    ),
    model: str | None = typer.Option(None, "--model", "-m", help="Default model."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL instead of SQLite in --data-dir."
    ),
    allow_folder: list[Path] | None = typer.Option(
        None, "--allow-folder", help="A server folder jobs may scan (repeatable)."
    ),
) -> None:
    r"""Serve detection, watermarking, TTS and batch jobs over HTTP, with a web page.

    Open http://HOST:PORT/ for the page, /docs for the API. Every /v1 request needs
    `Authorization: Bearer TOKEN`. Settings come from --config YAML, VOXLAB_SERVE_*
    environment variables (e.g. VOXLAB_SERVE_MAX_BATCH=32) and these flags. Ctrl-C (or
    SIGTERM) finishes queued requests and checkpoints the running job; a killed server
    resumes its jobs on the next start.

    Examples:
        voxlab serve token create --name pipeline      # last line: the token
        voxlab serve --port 8000 --data-dir /srv/voxlab
        curl -H "Authorization: Bearer $TOKEN" -F file=@call.wav localhost:8000/v1/detect
        curl -H "Authorization: Bearer $TOKEN" -F files=@a.wav -F files=@b.mp3 \
            localhost:8000/v1/jobs
    """
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from voxlab.service.app import create_app
    from voxlab.service.config import load_config
    from voxlab.service.logs import setup_logging

    settings = load_config(
        config, host=host, port=port, data_dir=data_dir, default_model=model,
        database_url=database_url, allowed_folders=allow_folder or None,
    )  # fmt: skip
    setup_logging(json_lines=settings.log_json)
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
    app = create_app(settings)
    typer.echo(
        f"voxlab serve: http://{settings.host}:{settings.port}/ (API docs at /docs), "
        f"data in {settings.data_dir}",
        err=True,
    )
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level="warning",
        timeout_graceful_shutdown=60,
    )  # fmt: skip


def _store(data_dir: Path | None, config: Path | None):
    from voxlab.service.config import load_config
    from voxlab.service.store import JobStore

    settings = load_config(config, data_dir=data_dir)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    return JobStore(settings.url)


@token_app.command("create")
def token_create(
    name: str = typer.Option(..., "--name", "-n", help="Who or what uses the token."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML settings."),
) -> None:
    """Make a token; it is printed once, as the last line (only its hash is stored).

    Examples:
        TOKEN=$(voxlab serve token create --name uploads --data-dir /srv/voxlab | tail -1)
    """
    store = _store(data_dir, config)
    token = store.create_token(name)
    store.close()
    typer.echo(f"created token {name!r}; keep it secret, it is not shown again:", err=True)
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(
    name: str | None = typer.Option(None, "--name", "-n", help="Revoke the tokens with this name."),
    token: str | None = typer.Option(None, "--token", help="Revoke this token."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML settings."),
) -> None:
    """Revoke tokens by name or value; requests with them get 403 from then on.

    Examples:
        voxlab serve token revoke --name uploads --data-dir /srv/voxlab
    """
    from voxlab.errors import VoxlabError

    store = _store(data_dir, config)
    count = store.revoke_token(name=name, token=token)
    store.close()
    if count == 0:
        raise VoxlabError(f"no live token matched {name or 'the given token'!r}")
    typer.echo(f"revoked {count} token(s)")


@token_app.command("list")
def token_list(
    data_dir: Path | None = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML settings."),
) -> None:
    """List token names, creation dates and whether they are revoked (never the tokens)."""
    import time

    store = _store(data_dir, config)
    for row in store.list_tokens():
        when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(row["created_at"]))
        typer.echo(f"{row['name']}\t{when}\t{'revoked' if row['revoked'] else 'live'}")
    store.close()


def register(app: typer.Typer) -> None:
    """Add ``voxlab serve`` to ``app``."""
    import inspect

    from voxlab.cli.main import keep_blocks  # main is importing us: it is defined by now

    app.add_typer(serve_app, name="serve", help=keep_blocks(inspect.getdoc(serve_command)))
