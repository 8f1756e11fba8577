"""``voxlab models`` (the published checkpoints) and ``voxlab export`` (ONNX)."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.cli.output import check_format, write_rows

models_app = typer.Typer(
    help="Published countermeasure checkpoints: list them, download them.",
    no_args_is_help=True,
)


@models_app.command("list")
def list_command(
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
) -> None:
    """List the catalogue: model, training data, published results, licence, local copy.

    A checkpoint is found, in order, at --checkpoint PATH, in $VOXLAB_MODEL_DIR, in the
    cache $VOXLAB_HOME/models (default ~/.cache/voxlab/models), or downloaded from its URL
    (sha256-verified) by `voxlab models pull NAME` or on first use.

    Verdicts: a published model's threshold (0.0, or the EER threshold of the authors'
    scores) is the operating point of its ASVspoof training/evaluation data, not a
    calibrated decision for your audio. The calibration column shows a calibration stored
    beside the local checkpoint (<stem>.calibration.json, made by `voxlab calibrate`), which
    `voxlab detect` then uses for calibrated p_spoof and Bayes verdicts.
    """
    from voxlab import pretrained
    from voxlab.detection.calibrated import find_calibration
    from voxlab.errors import CheckpointError

    rows = []
    for entry in pretrained.list_entries():
        try:
            local = str(pretrained.resolve_checkpoint(entry.name, download=False))
        except CheckpointError:
            local = ""
        calibration = find_calibration(local) if local else None
        rows.append({
            "name": entry.name,
            "model": entry.model,
            "training_data": entry.training_data,
            "reported": entry.reported,
            "eer_percent": entry.eer_percent,
            "min_tdcf": entry.min_tdcf,
            "threshold": entry.threshold,
            "threshold_source": entry.threshold_source,
            "calibration": str(calibration) if calibration else None,
            "verdict": (
                "calibrated" if calibration
                else f"uncalibrated: score >= {entry.threshold:.3g}"
            ),
            "license": entry.license,
            "local": local or "not downloaded",
            "url": entry.url,
            "sha256": entry.sha256,
            "size": entry.size,
        })  # fmt: skip
    # The table shows the published result as a sentence naming its evaluation set (an
    # ASVspoof 5 dev EER is not an eval EER); machines get the numbers as well.
    columns = ["name", "model", "training_data", "reported", "verdict", "license", "local"]
    extra = ["eer_percent", "min_tdcf", "threshold", "threshold_source", "calibration"]
    extra += ["url", "sha256", "size"]
    fmt = check_format(fmt)
    write_rows(rows, columns if fmt == "table" else [*columns, *extra], fmt)
    if fmt == "table" and not all(r["calibration"] for r in rows):
        typer.echo(
            "note: an uncalibrated verdict is the model's ASVspoof operating point, not a "
            "calibrated decision for your audio; fit one with `voxlab calibrate` (see --help)",
            err=True,
        )


@models_app.command("pull")
def pull_command(
    names: list[str] = typer.Argument(..., help="Catalogue names (see `voxlab models list`)."),
    verify: bool = typer.Option(True, "--verify/--no-verify", help="Check the sha256."),
) -> None:
    """Download published checkpoints into the cache (verified by sha256).

    A checkpoint already in $VOXLAB_MODEL_DIR or the cache is not downloaded again.

    Examples:
        voxlab models pull aasist aasist-l
        VOXLAB_MODEL_DIR=/models voxlab models pull rawgat-st
    """
    from voxlab import pretrained
    from voxlab.errors import CheckpointError

    for name in names:
        path = pretrained.pull(name)
        if verify and pretrained.sha256_of(path) != pretrained.get_entry(name).sha256:
            raise CheckpointError(
                f"{path} does not match the published sha256 of {name!r}; delete it and pull again"
            )
        typer.echo(f"{name}: {path}")


@models_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="Name to register the checkpoint under."),
    checkpoint: Path = typer.Option(..., "--checkpoint", help="The checkpoint file."),
    arch: str = typer.Option(
        ..., "--arch", help="Its architecture: aasist, ssl-aasist, xlsr-sls, ssl-pool, ..."
    ),
    ssl_config: Path | None = typer.Option(
        None,
        "--ssl-config",
        help="SSL models only: the front end's config JSON when the checkpoint's shapes do "
        "not fix it (e.g. a non-standard number of attention heads).",
    ),
    threshold: float = typer.Option(0.0, "--threshold", help="Verdict threshold on the score."),
    check: bool = typer.Option(True, "--check/--no-check", help="Load the file once first."),
) -> None:
    """Register a local checkpoint under a name, to use like a published model.

    The file is loaded once to check that it fits the architecture (strict key matching);
    its absolute path and sha256 go to $VOXLAB_HOME/models/local.json. Then
    `voxlab detect --model NAME`, `voxlab models list` and the service know it.

    Examples:
        voxlab models add ssl-la --checkpoint ~/Downloads/LA_model.pth --arch ssl-aasist
        voxlab models add sls-df --checkpoint best_model.pth --arch xlsr-sls
        voxlab models add tiny --checkpoint tiny.pth --arch ssl-aasist --ssl-config tiny.json
    """
    from voxlab import pretrained

    entry = pretrained.add_local(
        name, checkpoint, arch=arch, ssl_config=ssl_config, threshold=threshold, check=check
    )
    typer.echo(f"{entry.name}: {arch} from {checkpoint} (sha256 {entry.sha256[:12]}...)")


def export_command(
    onnx: Path = typer.Option(..., "--onnx", help="Output .onnx file."),
    model: str = typer.Option("aasist", "--model", "-m", help="Published model name."),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="A voxlab .safetensors checkpoint instead of a published one."
    ),
    static: bool = typer.Option(False, "--static", help="Fixed 64,600-sample input."),
    check: bool = typer.Option(True, "--check/--no-check", help="Compare ONNX Runtime output."),
) -> None:
    """Export a countermeasure to ONNX (dynamic batch and time axes where the model allows).

    RawGAT-ST accepts exactly 64,600 samples and is exported with that fixed length. With
    --check (default) the ONNX Runtime output is compared with PyTorch's on a test input.

    Examples:
        voxlab export --model aasist --onnx aasist.onnx
        voxlab export --checkpoint runs/x/swa.safetensors --onnx mine.onnx
    """
    import numpy as np
    import torch

    from voxlab.errors import CheckpointError
    from voxlab.models.export import export_onnx, run_onnx

    if checkpoint is not None:
        from voxlab.models.checkpoints import load_checkpoint

        net = load_checkpoint(checkpoint)
    else:
        from voxlab import pretrained

        net = pretrained.load_pretrained(model)
    path = export_onnx(net, onnx, dynamic_time=not static)
    typer.echo(f"wrote {path}")
    if check:
        fixed = getattr(net, "fixed_input_samples", None)
        length = fixed or (64_600 if static else 48_000)
        wave = np.random.default_rng(0).standard_normal((2, length)).astype(np.float32) * 0.1
        with torch.inference_mode():
            expected = net.eval()(torch.from_numpy(wave)).numpy()
        error = float(np.abs(run_onnx(path, wave) - expected).max())
        typer.echo(f"ONNX Runtime vs PyTorch on a {length}-sample batch: max |diff| {error:.2e}")
        if error > 1e-4:
            raise CheckpointError(f"exported model differs from PyTorch by {error:.2e} (> 1e-4)")


def register(app: typer.Typer) -> None:
    """Add ``voxlab models`` and ``voxlab export`` to ``app``."""
    app.add_typer(models_app, name="models")
    app.command("export")(export_command)
