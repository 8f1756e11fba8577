"""``voxlab corpus make --wild``: the voxlab-wild corpus (real human speech vs its spoofs)."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.cli.output import write_rows


def _ids(spec: str | None) -> tuple[str, ...] | None:
    return None if spec is None else tuple(s.strip() for s in spec.split(",") if s.strip())


def make_wild_command(
    out: Path,
    *,
    attacks: str | None,
    eval_attacks: str | None,
    seed: int,
    per_speaker: int,
    per_language: int | None,
    sources: str | None,
    heldout_sources: str | None,
    channels: str | None,
    sources_dir: Path | None,
    prepare_per_speaker: int | None,
    n_parallel: int,
    workers: int,
    watermark: bool,
    progress: bool,
    fmt: str,
) -> int:
    """Builds voxlab-wild, prints counts and the shortcut EERs; returns the exit code."""
    from voxlab.generation.attacks import parse_attack_ids
    from voxlab.generation.wild import WildConfig, make_wild
    from voxlab.generation.wild_report import FEATURES

    defaults = WildConfig()
    config = WildConfig(
        sources=_ids(sources) or (),
        heldout_sources=_ids(heldout_sources) if heldout_sources is not None
        else defaults.heldout_sources,
        attacks=tuple(parse_attack_ids(attacks)) if attacks else defaults.attacks,
        eval_attacks=tuple(parse_attack_ids(eval_attacks)) if eval_attacks
        else defaults.eval_attacks,
        per_speaker=per_speaker,
        per_language=per_language,
        channels=_ids(channels) or defaults.channels,
        seed=seed,
        sources_dir=str(sources_dir) if sources_dir else None,
        prepare_per_speaker=prepare_per_speaker,
        n_parallel=n_parallel,
        watermark=watermark,
    )  # fmt: skip
    result = make_wild(config, out, workers=workers, progress=progress)
    rows = [
        {
            "split": split,
            "bonafide": result.counts[split].get("bonafide", 0),
            "spoof": result.counts[split].get("spoof", 0),
            **{
                name: round(100 * min(result.shortcuts["splits"][split][name].values()), 1)
                for name in FEATURES
                if split in result.shortcuts["splits"]
            },
        }
        for split in ("train", "dev", "eval")
    ]
    write_rows(
        rows, ["split", "bonafide", "spoof", *FEATURES], fmt, title=f"{out} (shortcut EER %)"
    )
    worst = result.shortcuts["worst"]
    typer.echo(
        f"{result.made} file(s) made, {result.kept} kept, {len(result.failed)} failed in "
        f"{result.seconds:.1f} s -> {out}; worst shortcut EER {100 * worst:.1f} % "
        f"({'meets' if result.shortcuts['ok'] else 'MISSES'} the 40 % target)",
        err=True,
    )
    for failure in result.failed:
        typer.echo(f"error: {failure['utt_id']}: {failure['error']}", err=True)
    return 1 if result.failed else 0
