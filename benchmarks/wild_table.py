"""The voxlab-wild generalisation table (issue 10 §4): models x subsets -> EER, minDCF, Cllr.

Each model is scored on a voxlab-wild corpus (``voxlab corpus make --wild``) and evaluated on

* in-domain: the pooled eval split;
* each spoofing system of eval against all eval bona fide (``leave_one_system_out``);
* each human source, all of its utterances not used to train the model
  (``leave_one_source_out``);
* each channel condition of eval (``channels.txt``);

with trial counts beside every number and a ``seen`` column: only rows marked HELD OUT are
held-out results. The calibration (``voxlab.evaluation.calibration``: prior-weighted
logistic regression, ASVspoof 5 costs) is fitted on the dev split's scores; Cllr/actDCF are
given raw (scores read as LLRs) and calibrated, with the calibrated verdict's error rates.
Also printed: the per-class correlation of each model's eval scores with the shortcut
features (duration, silence, bandwidth, loudness).

A model is ``NAME=SPEC`` where SPEC is a catalogue name (``aasist-l``: the published
weights, never trained on the corpus), a ``voxlab train`` run folder (its SWA weights, else
best; trained on the corpus's train split) or a 4-column score file (``utt attack key
score``; treated as trained on the train split unless listed in ``--published``). Scores
are cached in ``OUT/scores/NAME.txt``; a rerun scores only what is missing.

    python benchmarks/wild_table.py --corpus voxlab-wild --model aasist-l=aasist-l \\
        --model lfcc-gmm=runs/lfcc-gmm --out runs/wild_table
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from voxlab.evaluation.wild_table import (
    SHORTCUT_FEATURES,
    table_text,
)


def main(argv: list[str] | None = None) -> None:
    """Score the models (cached), print the table and write Markdown/CSV/JSON and plots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="voxlab-wild folder (manifest.jsonl)")
    parser.add_argument("--model", action="append", required=True, help="NAME=SPEC, repeatable")
    parser.add_argument(
        "--published",
        action="append",
        default=[],
        help="score-file models not trained on the corpus (NAME, repeatable)",
    )
    parser.add_argument("--prior", type=float, default=0.05, help="Pspoof")
    parser.add_argument("--c-miss", type=float, default=1.0)
    parser.add_argument("--c-fa", type=float, default=10.0)
    parser.add_argument("--out", default="runs/wild_table", help="output and score cache folder")
    args = parser.parse_args(argv)
    from voxlab.evaluation.wild_report import build_wild_report

    out = Path(args.out)
    report = build_wild_report(
        args.corpus, args.model, out, published=args.published, prior=args.prior,
        c_miss=args.c_miss, c_fa=args.c_fa, log=lambda line: print(line, file=sys.stderr),
    )  # fmt: skip
    corpus, models, rows, extra = report.corpus, report.models, report.rows, report.extra
    print(
        f"corpus {corpus.root}: {len(corpus.utterances)} utterances; Pspoof {args.prior:g}, "
        f"Cmiss {args.c_miss:g}, Cfa {args.c_fa:g}; calibration fitted on dev"
    )
    print(table_text(rows))
    print("\nshortcut check: correlation of eval scores with each feature, within each class")
    print(f"{'model':22s} {'class':9s} " + " ".join(f"{f:>16s}" for f in SHORTCUT_FEATURES))
    for model in models:
        corr = extra[model.name]["shortcut_correlations"]
        for key in ("bonafide", "spoof"):
            cells = [c for c in corr if c["key"] == key]
            text = " ".join(
                f"{'–' if c['spearman'] is None else format(c['spearman'], '+.2f'):>8s}"
                f" (n={c['n']:>3d})"
                for c in cells
            )
            print(f"{model.name:22s} {key:9s} {text}")
    print(f"wrote {out}/wild_table.{{md,csv,json}} and DET plots det_*.png")


if __name__ == "__main__":
    main()
