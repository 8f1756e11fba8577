"""``voxlab robustness``: models x channel conditions x adversarial budgets -> EER table."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.errors import ConfigError


def robustness_command(
    models: str = typer.Option(
        "all",
        "--models",
        help="Comma-separated catalogue names, or 'all' (every catalogue model whose "
        "checkpoint is on this machine, voxlab-wild and `voxlab models add` ones included).",
    ),
    corpus: Path = typer.Option(
        ..., "--corpus", help="Manifest (JSONL) or folder (manifest.jsonl or bonafide/ spoof/)."
    ),
    split: str | None = typer.Option(
        None, "--split", help="Use only this split of the manifest (e.g. eval)."
    ),
    conditions: str = typer.Option(
        "all", "--conditions", help="all, none, or comma-separated labels (mp3_64k,white_20db...)."
    ),
    budgets: str = typer.Option(
        "50,40,30", "--budgets", help="Adversarial PGD budgets, SNR in dB ('' for none)."
    ),
    pgd_steps: int = typer.Option(10, "--pgd-steps", min=1, help="PGD steps per utterance."),
    limit: int = typer.Option(
        0,
        "--limit",
        min=0,
        help="At most N bona fide and N spoof utterances, stratified (bona fide over "
        "speakers, spoof over attack systems); 0 = all.",
    ),
    pgd_limit: int = typer.Option(
        0,
        "--pgd-limit",
        min=0,
        help="At most N bona fide and N spoof utterances in the PGD columns (the first of "
        "the same stratified order, so a subset of --limit's); 0 = as --limit.",
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of the --limit subset."),
    out: Path = typer.Option(Path("robustness"), "--out", "-o", help="Output folder."),
    threads: int = typer.Option(0, "--threads", min=0, help="Torch threads (0 = default)."),
    no_download: bool = typer.Option(False, "--no-download", help="Never download weights."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    r"""Every model x every channel condition x adversarial budgets -> one EER table.

    Conditions are the standard configurations of voxlab.audio.effects (codecs at several
    bitrates, telephone band, white/pink noise at 40..5 dB SNR, reverberation, filters,
    resampling, tempo and speed changes, gain, echo, crops) and, per budget, a white-box
    PGD attack on each model pushing every utterance to the other class.

    OUT gets report.md (what was run, the EER table, the change against clean, the
    heatmap), eer.md, eer.csv, eer.json and heatmap.png. Each (model, condition) cell is
    saved under OUT/cells/ as soon as it is done, so rerunning the same command resumes
    (a cell computed on other utterances is recomputed). Cost grows with models x
    conditions x utterances, and PGD costs steps x (forward + backward) per utterance:
    use --limit for a stratified subset, and --pgd-limit for a smaller one in the PGD
    columns. Clean and effect columns run the inference-optimised models (same logits).
    Exit code 1 when some items could not be scored (their errors are in the cell files).

    Examples:
        voxlab robustness --corpus wild/manifest.jsonl --split eval --limit 8 -o report/
        voxlab robustness --models aasist,aasist-l,rawgat-st,voxlab-wild \
            --corpus wild/manifest.jsonl --split eval --limit 20 --pgd-limit 5 -o report/
        voxlab robustness --models aasist-l --corpus clips/ --budgets 40 \
            --conditions mp3_64k,white_20db,telephone,reverb --out report/
    """
    import shlex
    import sys

    from voxlab.adversarial.loading import load_model
    from voxlab.adversarial.robustness import conditions as make_conditions
    from voxlab.adversarial.robustness import (
        load_corpus,
        resolve_models,
        run_report,
        select_subset,
    )

    names, skipped = resolve_models(models)
    if skipped:
        typer.echo(f"not scored (no checkpoint on this machine; `voxlab models pull NAME` or "
                   f"VOXLAB_MODEL_DIR): {', '.join(skipped)}", err=True)  # fmt: skip
    try:
        levels = [float(b) for b in budgets.split(",") if b.strip()]
    except ValueError:
        raise ConfigError(f"--budgets takes SNRs in dB like 50,40,30, got {budgets!r}") from None
    conds = make_conditions(conditions, levels)
    everything = load_corpus(corpus)
    items = select_subset(everything, limit, split=split, seed=seed)
    adversarial = items
    if pgd_limit and (not limit or pgd_limit < limit) and levels:
        adversarial = select_subset(everything, pgd_limit, split=split, seed=seed)
    if threads:
        import torch

        torch.set_num_threads(threads)
    strata = "all utterances"
    if limit:
        systems = sorted({u.attack for u in items if u.key == "spoof"})
        speakers = sorted({u.speaker for u in items if u.key == "bonafide"})
        strata = (f"stratified --limit {limit} (seed {seed}): bona fide over "
                  f"{len(speakers)} speakers, spoof over {len(systems)} systems "
                  f"({', '.join(systems)})")  # fmt: skip
    meta = {
        "command": "voxlab " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
        "corpus": f"{corpus}" + (f" (split {split})" if split else ""),
        "n_bonafide": sum(u.key == "bonafide" for u in items),
        "n_spoof": sum(u.key == "spoof" for u in items),
        "strata": strata,
        "skipped": skipped,
    }
    if adversarial is not items:
        meta["pgd_subset"] = (
            f"{sum(u.key == 'bonafide' for u in adversarial)} bona fide + "
            f"{sum(u.key == 'spoof' for u in adversarial)} spoof (--pgd-limit {pgd_limit})"
        )
    rows = run_report(
        names, items, conds, out, pgd_steps=pgd_steps, adversarial_corpus=adversarial,
        progress=progress, meta=meta,
        load=lambda name: load_model(name, download=not no_download),
    )  # fmt: skip
    typer.echo((out / "eer.md").read_text(encoding="utf-8"))
    typer.echo(f"wrote {out / 'report.md'}, {out / 'eer.csv'}, {out / 'eer.json'} and "
               f"{out / 'heatmap.png'}", err=True)  # fmt: skip
    failed = sum(len(r["errors"]) for r in rows)
    if failed:
        typer.echo(f"{failed} item score(s) failed; see {out / 'cells'}", err=True)
    raise typer.Exit(1 if failed else 0)


def register(app: typer.Typer) -> None:
    """Add ``voxlab robustness`` to ``app``."""
    app.command("robustness")(robustness_command)
