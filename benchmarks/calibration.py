"""Honest verdicts: published countermeasures on a corpus, default verdict vs calibrated.

For each model: score the dev and eval splits of a corpus (a JSONL manifest, e.g.
voxlab-wild), fit a calibration on dev (``voxlab.evaluation.calibration``: prior-weighted
logistic regression, Pspoof/Cmiss/Cfa of ASVspoof 5 unless changed), and report on eval:

* EER and minDCF (unchanged by a monotone calibration);
* at the model's **default verdict** (its catalogue threshold on the score): the share of
  bona fide recordings called spoof and of spoofs let through;
* at the **calibrated Bayes verdict** for the prior: the same two rates;
* Cllr and actDCF of the raw scores read as LLRs, and of the calibrated LLRs.

Scores are cached in ``--out`` (``<model>_<split>.txt``, 4-column), so a rerun only
recomputes the calibration.

    python benchmarks/calibration.py --corpus voxlab-wild/manifest.jsonl
    python benchmarks/calibration.py --corpus m.jsonl --models aasist-l --prior 0.05 --out cal_bench
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from voxlab import pretrained
from voxlab.data.manifest import read_manifest
from voxlab.data.scores import read_scores
from voxlab.evaluation.calibration import calibrate, calibration_metrics
from voxlab.evaluation.dcf import DcfCostModel


def split_scores(model: str, utts, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Bona fide and spoof scores of ``utts`` (cached in ``path``)."""
    if not path.exists():
        from voxlab.detection import Detector
        from voxlab.training.scoring import score_utterances, write_score_file

        detector = Detector.from_pretrained(model, download=False)
        write_score_file(path, utts, score_utterances(detector, utts, progress=True))
    table = read_scores(path)
    bona = table.keys == "bonafide"
    return table.scores[bona], table.scores[~bona]


def rates(bona: np.ndarray, spoof: np.ndarray, threshold: float) -> tuple[float, float]:
    """Bona fide called spoof and spoofs accepted at ``score >= threshold`` = bona fide."""
    return float(np.mean(bona < threshold)), float(np.mean(spoof >= threshold))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", required=True, help="JSONL manifest with dev and eval")
    parser.add_argument("--models", default="aasist,aasist-l", help="catalogue names")
    parser.add_argument("--prior", type=float, default=0.05, help="Pspoof")
    parser.add_argument("--c-miss", type=float, default=1.0)
    parser.add_argument("--c-fa", type=float, default=10.0)
    parser.add_argument("--out", default="runs/calibration_bench", help="score cache folder")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    utts = read_manifest(args.corpus)
    by_split = {s: [u for u in utts if u.split == s] for s in ("dev", "eval")}
    cost = DcfCostModel(p_spoof=args.prior, c_miss=args.c_miss, c_fa=args.c_fa)
    print(
        f"corpus {args.corpus}: dev {len(by_split['dev'])} trials, eval "
        f"{len(by_split['eval'])} trials; Pspoof {args.prior:g}, Cmiss {args.c_miss:g}, "
        f"Cfa {args.c_fa:g}"
    )
    header = (
        f"{'model':18s} {'EER%':>6s} {'minDCF':>7s} | default verdict: {'bona->spoof%':>12s} "
        f"{'spoof->bona%':>12s} | calibrated: {'bona->spoof%':>12s} {'spoof->bona%':>12s} | "
        f"{'Cllr raw':>8s} {'Cllr cal':>8s} {'actDCF raw':>10s} {'actDCF cal':>10s}"
    )
    print(header)
    results = {}
    for model in args.models.split(","):
        dev = split_scores(model, by_split["dev"], out / f"{model}_dev.txt")
        ev = split_scores(model, by_split["eval"], out / f"{model}_eval.txt")
        cal = calibrate(*dev, p_spoof=args.prior, c_miss=args.c_miss, c_fa=args.c_fa)
        raw = calibration_metrics(*ev, cost=cost)
        after = calibration_metrics(cal.llr(ev[0]), cal.llr(ev[1]), cost=cost)
        default = rates(*ev, pretrained.get_entry(model).threshold)
        calibrated = (after["bonafide_called_spoof"], after["spoof_missed"])
        print(
            f"{model:18s} {100 * raw['eer']:6.2f} {raw['min_dcf']:7.3f} | "
            f"{'':17s}{100 * default[0]:12.1f} {100 * default[1]:12.1f} | "
            f"{'':12s}{100 * calibrated[0]:12.1f} {100 * calibrated[1]:12.1f} | "
            f"{raw['cllr']:8.3f} {after['cllr']:8.3f} {raw['act_dcf']:10.3f} "
            f"{after['act_dcf']:10.3f}"
        )
        results[model] = {
            "calibration": {"slope": cal.slope, "offset": cal.offset},
            "dev_counts": [len(dev[0]), len(dev[1])],
            "eval_counts": [len(ev[0]), len(ev[1])],
            "eval_raw": raw,
            "eval_calibrated": after,
            "default_verdict": {"bonafide_called_spoof": default[0], "spoof_missed": default[1]},
        }
    (out / "calibration_bench.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / 'calibration_bench.json'}")


if __name__ == "__main__":
    main()
