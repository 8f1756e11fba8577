"""``voxlab corpus``: build ASVspoof-style spoofing corpora and score them with an ASV system."""

from __future__ import annotations

from pathlib import Path

import typer

from voxlab.cli.output import check_format, write_rows

corpus_app = typer.Typer(
    help="Build ASVspoof 2019 LA-style bona fide/spoof corpora with voxlab's attack systems.",
    no_args_is_help=True,
)


@corpus_app.command("make")
def make_command(
    out: Path = typer.Option(..., "--out", "-o", help="Corpus folder (created; resumable)."),
    bonafide: str = typer.Option(
        "espeak",
        "--bonafide",
        help="`espeak` for synthetic stand-in speakers, or a folder of recordings "
        "(one subfolder per speaker, or metadata.csv with path,speaker[,text]).",
    ),
    attacks: str | None = typer.Option(
        None,
        "--attacks",
        help="Attack ids of train and dev (e.g. V01,V03-V05); default V01,V03,V04,V06 "
        "(--wild: V01,V03,V04,V06,V08,V10,W01).",
    ),
    eval_attacks: str | None = typer.Option(
        None,
        "--eval-attacks",
        help="Attack ids of eval (may add unseen ones); --attacks if unset "
        "(--wild: V01-V06,V08-V10,V16,W01-W04).",
    ),
    wild: bool = typer.Option(
        False,
        "--wild",
        help="Build voxlab-wild: real human speech from `voxlab sources` (prepared on first "
        "use) against copy-synthesis, voice conversion and TTS of it, one channel chain for "
        "both classes, held-out sources and systems, and a shortcut-classifier report.",
    ),
    per_speaker: int = typer.Option(
        40, "--per-speaker", min=1, help="--wild: bona fide utterances per speaker (size knob)."
    ),
    per_language: int | None = typer.Option(
        None, "--per-language", min=1, help="--wild: at most N bona fide per language."
    ),
    sources: str | None = typer.Option(
        None, "--sources", help="--wild: source ids (all installed ones if unset)."
    ),
    heldout_sources: str | None = typer.Option(
        None,
        "--heldout-sources",
        help="--wild: sources only in eval (default asterisk-es-co,gcin-voice; '' for none).",
    ),
    channels: str | None = typer.Option(
        None, "--channels", help="--wild: channel conditions drawn from (default: all eight)."
    ),
    sources_dir: Path | None = typer.Option(
        None, "--sources-dir", help="--wild: prepared sources (default $VOXLAB_HOME/sources)."
    ),
    prepare_per_speaker: int | None = typer.Option(
        None, "--prepare-per-speaker", min=1, help="--wild: prepare only N files per speaker."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed: the same seed gives the same corpus."),
    speakers: int = typer.Option(8, "--speakers", min=6, help="espeak stand-in speakers."),
    n_utterances: int = typer.Option(
        10, "--n-utterances", "-n", min=1, help="Bona fide utterances per speaker."
    ),
    n_enroll: int = typer.Option(
        2, "--n-enroll", min=0, help="ASV enrollment utterances per dev/eval speaker."
    ),
    n_parallel: int = typer.Option(
        6, "--n-parallel", min=2, help="Parallel utterance pairs per GMM converter (V07)."
    ),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Worker processes."),
    watermark: bool | None = typer.Option(
        None,
        "--watermark/--no-watermark",
        help="Watermark the generated audio (the generation key, payload = system id); on by "
        "default, off with --wild. Use "
        "--no-watermark for countermeasure training corpora: a watermark would be a shortcut. "
        "Generated files are tagged AI-generated either way; real recordings never are.",
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
) -> None:
    """Make a bona fide/spoof corpus in the ASVspoof 2019 LA layout.

    Writes FLAC audio, CM protocols for train/dev/eval (speaker-disjoint), ASV enrollment
    and trial lists for dev/eval, manifest.jsonl with provenance and a README. Rerunning
    the same command resumes: valid files are kept. Exits 1 when any item failed.

    Examples:
        voxlab corpus make --out corpus --eval-attacks V01-V07 --workers 2 --no-watermark
        voxlab corpus make --bonafide recordings/ --attacks V01,V04 --out corpus
        voxlab corpus make --wild --out wild --per-speaker 40 --workers 2   # voxlab-wild
        voxlab corpus make --wild --out wild-tiny --per-speaker 2           # a small slice
    """
    if wild:
        from voxlab.cli._corpus_wild import make_wild_command

        raise typer.Exit(
            make_wild_command(
                out, attacks=attacks, eval_attacks=eval_attacks, seed=seed,
                per_speaker=per_speaker, per_language=per_language, sources=sources,
                heldout_sources=heldout_sources,
                channels=channels, sources_dir=sources_dir,
                prepare_per_speaker=prepare_per_speaker, n_parallel=n_parallel, workers=workers,
                watermark=bool(watermark), progress=progress, fmt=fmt,
            )
        )  # fmt: skip
    from voxlab.generation.attacks import parse_attack_ids
    from voxlab.generation.corpus import SPLITS, CorpusConfig, make_corpus

    fmt = check_format(fmt)
    config = CorpusConfig(
        bonafide=bonafide,
        attacks=tuple(parse_attack_ids(attacks or "V01,V03,V04,V06")),
        eval_attacks=None if eval_attacks is None else tuple(parse_attack_ids(eval_attacks)),
        seed=seed,
        n_speakers=speakers,
        n_utterances=n_utterances,
        n_enroll=n_enroll,
        n_parallel=n_parallel,
        watermark=True if watermark is None else watermark,
    )
    result = make_corpus(config, out, workers=workers, progress=progress)
    rows = [
        {
            "split": split,
            "bonafide": result.counts[split].get("bonafide", 0),
            "spoof": result.counts[split].get("spoof", 0),
            "enroll": result.counts[split].get("enroll", 0),
            "attacks": ",".join(config.split_attacks(split)),
        }
        for split in SPLITS
    ]
    write_rows(rows, ["split", "bonafide", "spoof", "enroll", "attacks"], fmt, title=str(out))
    typer.echo(
        f"{result.made} file(s) made, {result.kept} kept, {len(result.failed)} failed in "
        f"{result.seconds:.1f} s -> {out}",
        err=True,
    )
    for failure in result.failed:
        typer.echo(f"error: {failure['utt_id']}: {failure['error']}", err=True)
    raise typer.Exit(1 if result.failed else 0)


@corpus_app.command("attacks")
def attacks_command(
    fmt: str = typer.Option("table", "--format", "-f", help="table, json, jsonl or csv."),
) -> None:
    """List the attack systems (ids, kinds and what they do)."""
    from voxlab.generation.attacks import ATTACKS

    fmt = check_format(fmt)
    rows = [
        {
            "id": a.id,
            "name": a.name,
            "kind": a.kind,
            "requires": ",".join(a.requires),
            "description": a.description,
        }
        for a in sorted(ATTACKS.values(), key=lambda a: a.id)
    ]
    write_rows(rows, ["id", "name", "kind", "requires", "description"], fmt)


@corpus_app.command("asv")
def asv_command(
    corpus: Path = typer.Argument(..., help="A corpus made by `voxlab corpus make`."),
    splits: str = typer.Option("dev,eval", "--splits", help="Splits to score."),
    encoder: str = typer.Option(
        "ge2e", "--encoder", help="ge2e (resemblyzer's weights) or mfcc (statistics baseline)."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Progress bar."),
) -> None:
    """Score the ASV trials of a corpus (for t-DCF) with an offline speaker-verification system.

    Writes ASVspoof2019_LA_asv_scores/ASVspoof2019.LA.asv.{split}.gi.trl.scores.txt in the
    official format (`SOURCE KEY SCORE`, SOURCE = bonafide or the attack id).
    """
    from voxlab.asv import score_corpus

    for split in [s.strip() for s in splits.split(",") if s.strip()]:
        path = score_corpus(corpus, split=split, encoder=encoder, progress=progress)
        typer.echo(str(path))


def register(app: typer.Typer) -> None:
    """Add ``voxlab corpus`` to ``app``."""
    app.add_typer(corpus_app, name="corpus")
