"""``voxlab attack``: FGSM/PGD adversarial examples against a countermeasure."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from voxlab.cli.output import report_failures, write_rows
from voxlab.errors import ConfigError, VoxlabError

COLUMNS = [
    "path", "status", "model", "method", "target", "snr_db", "measured_snr_db", "epsilon",
    "score_before", "score_after", "success", "transfer_model", "transfer_before",
    "transfer_after", "output", "error",
]  # fmt: skip


def attack_command(
    files: list[Path] = typer.Argument(..., help="Audio files and/or folders."),
    model: str = typer.Option("aasist", "--model", "-m", help="Attacked (white-box) model."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", help="Its checkpoint file."),
    target: str = typer.Option(
        "bonafide", "--target", help="bonafide (spoof -> bona fide) or spoof (the reverse)."
    ),
    method: str = typer.Option("pgd", "--method", help="pgd or fgsm."),
    snr: float = typer.Option(40.0, "--snr", help="Budget: signal-to-perturbation ratio (dB)."),
    steps: int = typer.Option(10, "--steps", min=1, help="PGD steps."),
    policy: str | None = typer.Option(
        None, "--policy", help="official (first 4.04 s, tiled) or full; default per model."
    ),
    transfer: str | None = typer.Option(
        None, "--transfer", help="Also score the adversarial audio with this model."
    ),
    out: Path = typer.Option(Path("adversarial"), "--out", "-o", help="Output folder."),
    seed: int = typer.Option(0, "--seed", help="PGD random start seed."),
    threads: int = typer.Option(0, "--threads", min=0, help="Torch threads (0 = default)."),
    no_download: bool = typer.Option(False, "--no-download", help="Never download weights."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Craft adversarial audio with an L-infinity budget stated as SNR in dB.

    The bound is eps = rms(x) * 10^(-SNR/20), so the perturbation's SNR is at least
    --snr. Scores are bona fide logits (higher = more bona fide); "after" is measured on
    the written file (16-bit WAV), exactly as a user would score it. With --transfer the
    same audio is also scored by a second model (a black-box transfer attack). OUT gets
    NAME.adv.wav (tagged AI-generated in its metadata; no watermark), results.json and
    results.csv. Files that fail are recorded and the rest go on; exit code 1 if any
    failed.

    Examples:
        voxlab attack spoof.flac --model aasist --target bonafide --method pgd --snr 40 -o adv/
        voxlab attack clips/ --model aasist-l --target spoof --method fgsm --snr 30 -o adv/
        voxlab attack spoof.flac --model aasist --transfer rawgat-st --snr 50 -o adv/
    """
    from tqdm import tqdm

    from voxlab.adversarial import fgsm, pgd
    from voxlab.adversarial.loading import load_model
    from voxlab.audio.discovery import find_audio_files

    if method not in ("pgd", "fgsm"):
        raise typer.BadParameter(f"--method must be pgd or fgsm, got {method!r}")
    if target not in ("bonafide", "spoof"):
        raise typer.BadParameter(f"--target must be bonafide or spoof, got {target!r}")
    paths = find_audio_files(files)
    if not paths:
        raise VoxlabError(f"no audio files found in {', '.join(map(str, files))}")
    if threads:
        import torch

        torch.set_num_threads(threads)
    net = load_model(model, checkpoint=checkpoint, download=not no_download)
    other = load_model(transfer, download=not no_download) if transfer else None
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in tqdm(paths, unit="file", disable=not progress or None, file=sys.stderr):
        row = {"path": str(path), "status": "ok", "model": model, "method": method,
               "target": target, "snr_db": snr}  # fmt: skip
        try:
            kwargs = {"target": target, "snr_db": snr, "policy": policy}
            if method == "pgd":
                result = pgd(net, _read(path), steps=steps, seed=seed, **kwargs)
            else:
                result = fgsm(net, _read(path), **kwargs)
            written = _write(result, path, out, model=model, method=method)
            adv = _read(written)
            row.update(
                measured_snr_db=round(result.measured_snr_db, 3),
                epsilon=result.epsilon,
                score_before=result.logits_before[1],
                output=str(written),
            )
            after = _logits(net, adv, policy)
            row["score_after"] = after[1]
            row["success"] = _success(after[1] - after[0], target)
            if other is not None:
                row.update(
                    transfer_model=transfer,
                    transfer_before=_score(other, _read(path), None),
                    transfer_after=_score(other, adv, None),
                )
        except VoxlabError as exc:
            row.update(status="error", error=str(exc))
        except (RuntimeError, ValueError) as exc:  # e.g. audio too short for the model
            row.update(status="error", error=f"{path}: {type(exc).__name__}: {exc}")
        rows.append(row)
    (out / "results.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    with (out / "results.csv").open("w", encoding="utf-8", newline="") as handle:
        import csv

        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    write_rows(rows, ["path", "status", "score_before", "score_after", "success",
                      "transfer_before", "transfer_after"], "table",
               title=f"voxlab attack ({model}, {method}, {snr:g} dB)")  # fmt: skip
    raise typer.Exit(report_failures(rows))


def _read(path):
    from voxlab.audio import load

    wave, _ = load(path, sr=16_000, mono=True)
    return wave


def _write(result, path: Path, out: Path, *, model: str, method: str) -> Path:
    from voxlab.generation.base import Generated, write_generated

    system = f"voxlab-attack-{method}-{model}"
    gen = Generated(result.adversarial, 16_000, system,
                    {"target": result.target, "snr_db": result.snr_db})  # fmt: skip
    meta = {"comment": f"adversarial ({method} on {model}, target {result.target}, "
                       f"{result.snr_db:g} dB SNR budget)"}  # fmt: skip
    return write_generated(gen, out / f"{Path(path).stem}.adv.wav", metadata=meta,
                           watermark=False)  # fmt: skip


def _logits(model, wave, policy) -> list[float]:
    import torch

    from voxlab.adversarial.attacks import default_policy, model_input

    with torch.no_grad():
        x = torch.as_tensor(wave)
        return [float(v) for v in model(model_input(x, policy=policy or default_policy(model)))[0]]


def _score(model, wave, policy) -> float:
    return _logits(model, wave, policy)[1]


def _success(bonafide_minus_spoof: float, target: str) -> bool:
    if target not in ("bonafide", "spoof"):
        raise ConfigError(target)
    return bonafide_minus_spoof > 0 if target == "bonafide" else bonafide_minus_spoof < 0


def register(app: typer.Typer) -> None:
    """Add ``voxlab attack`` to ``app``."""
    app.command("attack")(attack_command)
