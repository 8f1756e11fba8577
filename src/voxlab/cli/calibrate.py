"""``voxlab calibrate``: fit a score -> log-likelihood-ratio calibration for one model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from voxlab.cli.output import check_format, write_rows


def _model_identity(model: str | None, checkpoint: Path | None):
    """Name and checkpoint sha256 of the model whose scores are calibrated (None: unnamed)."""
    from voxlab import pretrained
    from voxlab.errors import CheckpointError
    from voxlab.evaluation.calibration import ModelIdentity

    if checkpoint is not None:
        if not checkpoint.is_file():
            raise CheckpointError(f"checkpoint file not found: {checkpoint}")
        return ModelIdentity(
            name=model or checkpoint.stem,
            checkpoint_sha256=pretrained.sha256_of(checkpoint),
            checkpoint=str(checkpoint),
        )
    if model is None:
        return None
    entry = pretrained.get_entry(model)
    try:
        path = pretrained.resolve_checkpoint(model, download=False)
    except CheckpointError:  # not downloaded: the published file's checksum identifies it
        return ModelIdentity(name=model, checkpoint_sha256=entry.sha256, checkpoint="")
    where = entry.url if entry.is_packaged else str(path)  # no install-specific path
    return ModelIdentity(name=model, checkpoint_sha256=pretrained.sha256_of(path), checkpoint=where)


def calibrate_command(
    scores: Path = typer.Option(
        ..., "--scores", "-s", help="Development scores: 'utt attack key score' or 'utt score'."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Calibration JSON to write."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Published model that produced the scores."
    ),
    checkpoint: Path | None = typer.Option(
        None, "--checkpoint", help="Checkpoint file that produced the scores."
    ),
    protocol: Path | None = typer.Option(
        None, "--protocol", "-p", help="Protocol giving keys (needed for 2-column scores)."
    ),
    prior: float = typer.Option(
        0.05, "--prior", help="Spoof prior Pspoof (ASVspoof 5: 0.05); weights the fit."
    ),
    c_miss: float = typer.Option(1.0, "--c-miss", help="Cost of rejecting bona fide speech."),
    c_fa: float = typer.Option(10.0, "--c-fa", help="Cost of accepting a spoof."),
    fmt: str = typer.Option("table", "--format", "-f", help="table or json."),
) -> None:
    """Fit a logistic calibration of a model's scores to log-likelihood ratios.

    The map is linear, llr = slope * score + offset (natural-log likelihood ratio of bona
    fide vs spoof), fitted on labelled development scores by logistic regression weighted
    with the effective bona fide prior of (--prior, --c-miss, --c-fa), the BOSARIS / ASVspoof
    5 convention. Cllr, min Cllr, actDCF, minDCF and EER are printed before (raw scores
    read as LLRs) and after. The JSON file records the model's name and checkpoint sha256
    (from --model or --checkpoint): `voxlab detect --calibration` refuses it for any other
    model, and refuses a calibration that names no model. Stored beside a
    checkpoint as <stem>.calibration.json it is used automatically.

    Calibrate on audio like the audio you will judge (channel, language, kinds of
    speakers); a calibration fitted on ASVspoof is no truth about phone calls.

    Examples:
        voxlab score --model aasist --corpus corpus/manifest.jsonl --subset dev -o dev.txt
        voxlab calibrate --scores dev.txt --model aasist --out aasist.cal.json
        voxlab detect call.wav --model aasist --calibration aasist.cal.json
        voxlab calibrate -s s.txt --checkpoint run/swa.safetensors -o run/swa.calibration.json
        voxlab calibrate -s score.txt -p trial_metadata.txt --model aasist-l --prior 0.2 -o c.json
    """
    from voxlab import pretrained
    from voxlab.data.scores import read_protocol, read_scores
    from voxlab.errors import DataError
    from voxlab.evaluation.calibration import calibrate
    from voxlab.evaluation.metrics import BONAFIDE

    fmt = check_format(fmt, ("table", "json"))
    identity = _model_identity(model, checkpoint)
    if identity is None:
        typer.echo(
            "warning: no --model or --checkpoint: the calibration names no model, so "
            "`voxlab detect` will refuse it (the metrics below still hold). Say which model "
            "produced the scores (--model NAME or --checkpoint FILE) to use it for verdicts.",
            err=True,
        )
    utterances = read_protocol(protocol) if protocol is not None else None
    table = read_scores(scores, protocol=utterances)
    if table.keys is None:  # read_scores raises before this; kept for type narrowing
        raise DataError(f"{scores} carries no keys; give --protocol")
    is_bona = table.keys == BONAFIDE
    source = {
        "scores": str(scores),
        "sha256": pretrained.sha256_of(scores),
        "n_bonafide": int(is_bona.sum()),
        "n_spoof": int((~is_bona).sum()),
    }
    cal = calibrate(
        table.scores[is_bona],
        table.scores[~is_bona],
        p_spoof=prior,
        c_miss=c_miss,
        c_fa=c_fa,
        model=identity,
        source=source,
    )
    cal.save(out)
    if fmt == "json":
        json.dump(cal.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        rows = [
            {"metric": name, "before": cal.metrics["before"][name], "after": value}
            for name, value in cal.metrics["after"].items()
        ]
        title = identity.name if identity else "scores (no model named)"
        write_rows(rows, ["metric", "before", "after"], "table", title=title)
        typer.echo(
            f"llr = {cal.slope:.4g} * score + {cal.offset:.4g}; "
            f"Pspoof {prior:g}, Cmiss {c_miss:g}, Cfa {c_fa:g}: verdict bona fide when "
            f"score >= {cal.score_threshold():.4g} (llr >= {cal.llr_threshold():.4g}); "
            f"{source['n_bonafide']} bona fide, {source['n_spoof']} spoof trials"
        )
    typer.echo(f"wrote {out}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``voxlab calibrate`` to ``app``."""
    app.command("calibrate")(calibrate_command)
