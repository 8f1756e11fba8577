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
import time
from pathlib import Path

import numpy as np

from voxlab.data.scores import read_scores
from voxlab.evaluation.calibration import calibrate
from voxlab.evaluation.dcf import DcfCostModel
from voxlab.evaluation.metrics import det_curve
from voxlab.evaluation.wild_table import (
    SHORTCUT_FEATURES,
    ModelScores,
    WildCorpus,
    load_wild_corpus,
    model_rows,
    shortcut_correlations,
    table_csv,
    table_json,
    table_markdown,
    table_text,
)


def _detector(spec: str):
    from voxlab import pretrained
    from voxlab.detection import Detector

    path = Path(spec)
    if path.is_dir():
        for tag in ("swa", "best", "last"):
            weights = path / f"{tag}.safetensors"
            if weights.is_file():
                return Detector.from_checkpoint(weights)
        raise SystemExit(f"{path}: no swa/best/last.safetensors; has the run finished an epoch?")
    if path.suffix == ".safetensors":
        return Detector.from_checkpoint(path)
    if spec in pretrained.names():
        return Detector.from_pretrained(spec, download=False)
    raise SystemExit(f"{spec}: not a catalogue name, run folder, checkpoint or score file")


def cached_scores(
    name: str, spec: str, corpus: WildCorpus, needed: list[str], cache: Path
) -> dict[str, float]:
    """Scores of ``needed`` utterances: from a score file, the cache, or by scoring."""
    if Path(spec).is_file() and Path(spec).suffix == ".txt":
        table = read_scores(spec)
        return dict(zip(table.utt_ids.tolist(), table.scores.tolist()))
    have: dict[str, float] = {}
    run_scores = Path(spec) / "scores" / "eval_scores.txt"  # a run folder's eval scores
    for known in (run_scores, cache):
        if known.is_file():
            table = read_scores(known)
            have.update(zip(table.utt_ids.tolist(), table.scores.tolist()))
    todo = [corpus.utterances[k] for k in needed if k not in have]
    if todo:
        from voxlab.training.scoring import score_utterances, write_score_file

        start, cpu = time.perf_counter(), time.process_time()
        values = score_utterances(_detector(spec), todo, workers=1, progress=sys.stderr.isatty())
        print(
            f"  scored {len(todo)} utterances with {name} in {time.perf_counter() - start:.0f} s "
            f"wall, {time.process_time() - cpu:.0f} s CPU (shared machine: see the load)",
            file=sys.stderr,
        )
        have.update(zip((u.utt_id for u in todo), values.tolist()))
        ids = [k for k in corpus.utterances if k in have]
        write_score_file(cache, [corpus.utterances[k] for k in ids], [have[k] for k in ids])
    return have


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
    from voxlab import pretrained

    out = Path(args.out)
    (out / "scores").mkdir(parents=True, exist_ok=True)
    corpus = load_wild_corpus(args.corpus)
    cost = DcfCostModel(p_spoof=args.prior, c_miss=args.c_miss, c_fa=args.c_fa)
    train_ids = frozenset(corpus.split_ids("train"))
    dev_ids = corpus.split_ids("dev")
    rows, models, extra = [], [], {}
    for item in args.model:
        name, _, spec = item.partition("=")
        if not spec:
            name, spec = item, item
        published = spec in pretrained.names() or name in args.published
        trained_on = frozenset() if published else train_ids
        needed = sorted(
            ({k for ids in corpus.subsets.values() for k in ids} | set(dev_ids)) - trained_on
        )
        needed = [k for k in corpus.utterances if k in set(needed)]
        scores = cached_scores(name, spec, corpus, needed, out / "scores" / f"{name}.txt")
        dev = [k for k in dev_ids if k in scores and k not in trained_on]
        dev_bona = np.array([scores[k] for k in dev if corpus.utterances[k].key == "bonafide"])
        dev_spoof = np.array([scores[k] for k in dev if corpus.utterances[k].key == "spoof"])
        cal = calibrate(dev_bona, dev_spoof, p_spoof=args.prior, c_miss=args.c_miss, c_fa=args.c_fa)
        note = "published weights" if published else "trained on the train split"
        model = ModelScores(name, scores, trained_on, (cal.slope, cal.offset), note)
        models.append(model)
        rows.extend(model_rows(corpus, model, cost=cost))
        extra[name] = {
            "spec": spec,
            "note": note,
            "calibration_on_dev": {
                "slope": cal.slope,
                "offset": cal.offset,
                "n_bonafide": int(dev_bona.size),
                "n_spoof": int(dev_spoof.size),
                "metrics": cal.metrics,
            },
            "shortcut_correlations": [
                c.__dict__ for c in shortcut_correlations(corpus, model, split="eval")
            ],
        }
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
    (out / "wild_table.md").write_text(
        table_markdown(rows, title=f"voxlab-wild generalisation table ({corpus.root.name})")
    )
    (out / "wild_table.csv").write_text(table_csv(rows))
    (out / "wild_table.json").write_text(
        table_json(rows, corpus=str(corpus.root), prior=args.prior, models=extra)
    )
    _plots(models, corpus, rows, out)
    print(f"wrote {out}/wild_table.{{md,csv,json}} and DET plots det_*.png")


def _plots(models, corpus: WildCorpus, rows, out: Path) -> None:
    from voxlab.errors import MetricError
    from voxlab.evaluation.plots import plot_det

    def curve(model: ModelScores, ids):
        kept = [k for k in ids if k not in model.trained_on and k in model.scores]
        bona = [model.scores[k] for k in kept if corpus.utterances[k].key == "bonafide"]
        spoof = [model.scores[k] for k in kept if corpus.utterances[k].key == "spoof"]
        return det_curve(bona, spoof), len(bona), len(spoof)

    pooled = {}
    for model in models:
        det, nb, ns = curve(model, corpus.subsets[("in-domain", "eval")])
        pooled[f"{model.name} ({nb} bona fide, {ns} spoof)"] = det
        curves = {"pooled": det}
        for row in rows:
            if row.model == model.name and row.seen is False and row.eer is not None:
                try:
                    curves[f"{row.group} {row.value} ({row.n_bonafide}/{row.n_spoof})"] = curve(
                        model, corpus.subsets[(row.group, row.value)]
                    )[0]
                except MetricError:
                    continue
        plot_det(curves, out / f"det_{model.name}.png", title=f"{model.name}: eval and held out")
    plot_det(pooled, out / "det_in_domain.png", title="voxlab-wild eval (pooled)")


if __name__ == "__main__":
    main()
