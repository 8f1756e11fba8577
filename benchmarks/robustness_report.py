"""The robustness report from a script: published models x channel conditions x PGD budgets.

Builds a small corpus (unless ``--corpus`` is given): bona fide = real human speech shipped
by Debian (``pocketsphinx-testdata``, US English, BSD-2), spoof = espeak-ng readings and
WORLD copy-syntheses of the same recordings (a TTS and a vocoder system). Then every model
x every condition x every budget is scored through
:func:`voxlab.adversarial.robustness.run_report` (the code behind ``voxlab robustness``),
the EER table is printed and ``OUT/heatmap.png`` drawn. Cells resume from ``OUT/cells``.
The baseline measured in the same run is the clean column: the table also prints each
condition's EER minus the clean EER (median over models) and the median seconds per cell.

    python benchmarks/robustness_report.py       # every local model, 12 conditions
    python benchmarks/robustness_report.py --conditions all --budgets 50,40,30
    python benchmarks/robustness_report.py --corpus wild/manifest.jsonl --split eval --limit 4

Needs the published checkpoints (VOXLAB_MODEL_DIR=../shared/fixtures/pretrained).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

SR = 16_000
DEFAULT_CONDITIONS = ("mp3_64k,aac_32k,opus_16k,telephone,white_20db,white_10db,pink_20db,"
                      "reverb,resample_16k,lowpass_4k,tempo_1.05,speed_0.95")  # fmt: skip
SENTENCES = [
    "the quick brown fox jumps over the lazy dog",
    "please call stella and ask her to bring these things",
    "ten of clubs and the queen of hearts",
    "we will meet at the station at half past nine",
    "my bank account number is four five six seven",
    "the weather today is cold with a chance of rain",
]


def build_corpus(folder: Path, per_class: int) -> Path:
    """bonafide/ and spoof/ folders of 16 kHz WAVs; returns ``folder``."""
    from voxlab.audio import resample, save
    from voxlab.data.sources import get_source
    from voxlab.data.sources.prepare import decode
    from voxlab.testing import speak

    (folder / "bonafide").mkdir(parents=True, exist_ok=True)
    (folder / "spoof").mkdir(parents=True, exist_ok=True)
    human = []
    for f in get_source("pocketsphinx").files()[:per_class]:
        data, rate = decode(f)
        data = data if data.ndim == 1 else data.mean(axis=0)
        human.append(resample(data, orig_sr=rate, target_sr=SR) if rate != SR else data)
    for i, wave in enumerate(human):
        save(folder / "bonafide" / f"human{i}.wav", wave.astype(np.float32), SR)
    n_tts = (per_class + 1) // 2
    for i in range(n_tts):
        tts = speak(SENTENCES[i % len(SENTENCES)], sr=SR)
        save(
            folder / "spoof" / f"espeak{i}.wav",
            (0.5 * tts / np.abs(tts).max()).astype(np.float32),
            SR,
        )
    from voxlab.generation.vocoders import world_copy_synthesis

    for i, wave in enumerate(human[: per_class - n_tts]):
        voc = world_copy_synthesis(wave, SR, mcep_order=24, smooth_frames=3).audio
        save(folder / "spoof" / f"world{i}.wav", voc.astype(np.float32), SR)
    return folder


def main() -> None:
    """Build or read the corpus, run the report, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="all", help="Names, or all (every local model).")
    parser.add_argument("--corpus", type=Path, default=None)
    parser.add_argument("--per-class", type=int, default=6)
    parser.add_argument("--limit", type=int, default=0, help="Per class, stratified.")
    parser.add_argument("--split", default=None)
    parser.add_argument("--conditions", default=DEFAULT_CONDITIONS)
    parser.add_argument("--budgets", default="50,40,30")
    parser.add_argument("--pgd-steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("robustness_report"))
    args = parser.parse_args()
    os.environ.setdefault(
        "VOXLAB_MODEL_DIR", str(Path(__file__).resolve().parents[2] / "shared/fixtures/pretrained")
    )
    import torch

    from voxlab.adversarial.loading import load_model
    from voxlab.adversarial.robustness import (
        conditions,
        load_corpus,
        resolve_models,
        run_report,
        select_subset,
    )

    if args.threads:
        torch.set_num_threads(args.threads)
    corpus = args.corpus or build_corpus(args.out / "corpus", args.per_class)
    items = select_subset(load_corpus(corpus), args.limit, split=args.split)
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    conds = conditions(args.conditions, budgets)
    models, skipped = resolve_models(args.models)
    for name in skipped:
        print(f"not scored (no local checkpoint): {name}")
    t0 = time.perf_counter()
    rows = run_report(models, items, conds, args.out, pgd_steps=args.pgd_steps, progress=True,
                      load=lambda n: load_model(n, download=False))  # fmt: skip
    elapsed = time.perf_counter() - t0
    print((args.out / "eer.md").read_text())
    clean = {r["model"]: r["eer"] for r in rows if r["condition"] == "clean"}
    print("| condition | median EER - clean EER (points) |")
    print("|---|---|")
    for cond in conds[1:]:
        deltas = [r["eer"] - clean[r["model"]] for r in rows if r["condition"] == cond.label]
        print(f"| {cond.label} | {statistics.median(deltas):+.2f} |")
    n = sum(1 for u in items)
    print(
        f"\n{len(models)} models x {len(conds)} conditions on {n} utterances "
        f"({sum(u.key == 'bonafide' for u in items)} bona fide); "
        f"{elapsed:.0f} s this run ({elapsed / max(len(rows), 1):.1f} s per cell incl. resumed)"
    )
    print(json.dumps({"out": str(args.out), "cells": len(rows)}))


if __name__ == "__main__":
    main()
