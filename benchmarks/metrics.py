"""Time the full ASVspoof evaluation report on the 71,237 RawGAT-ST eval trials.

Prints the median wall time of ``voxlab.evaluation.evaluate(..., metric_set="all")`` -
pooled EER, 2019 and 2021 min t-DCF, minDCF, actDCF, Cllr, min Cllr, plus per attack EER,
both min t-DCFs and minDCF - and of a straightforward official-style implementation of the
same numbers (the ASVspoof packages' way: a fresh DET curve per metric and per attack, ASV
error rates with Python ``sum``, the minDCF loop), measured in the same process on the same
arrays, with the ratio. The baseline leaves out min Cllr (no official code), so it does
slightly less work than voxlab. Also checks both give the same numbers.

Usage: python benchmarks/metrics.py [--repeats 7] [--fixtures ../shared/fixtures]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from voxlab.evaluation import AsvScores, evaluate


# ---------------------------------------------------------------- official-style baseline
def _det(tar, non):
    n = tar.size + non.size
    scores = np.concatenate((tar, non))
    labels = np.concatenate((np.ones(tar.size), np.zeros(non.size)))
    idx = np.argsort(scores, kind="mergesort")
    labels = labels[idx]
    tar_sums = np.cumsum(labels)
    non_sums = non.size - (np.arange(1, n + 1) - tar_sums)
    frr = np.concatenate((np.atleast_1d(0), tar_sums / tar.size))
    far = np.concatenate((np.atleast_1d(1), non_sums / non.size))
    thr = np.concatenate((np.atleast_1d(scores[idx[0]] - 0.001), scores[idx]))
    return frr, far, thr


def _eer(tar, non):
    frr, far, thr = _det(tar, non)
    i = np.argmin(np.abs(frr - far))
    return np.mean((frr[i], far[i])), thr[i]


def _asv_rates(tar, non, spf, thr):
    pfa = sum(non >= thr) / non.size
    pmiss = sum(tar < thr) / tar.size
    pmiss_spf = np.sum(spf < thr) / spf.size
    pfa_spf = np.sum(spf >= thr) / spf.size
    return pfa, pmiss, pmiss_spf, pfa_spf


def _tdcf_legacy(bona, spoof, pfa, pmiss, pmiss_spf, cost):
    if np.unique(np.concatenate((bona, spoof))).size < 3:
        raise ValueError("decisions")
    pm, pf, _ = _det(bona, spoof)
    c1 = (
        cost["Ptar"] * (cost["Cmiss_cm"] - cost["Cmiss_asv"] * pmiss)
        - cost["Pnon"] * cost["Cfa_asv"] * pfa
    )
    c2 = cost["Cfa_cm"] * cost["Pspoof"] * (1 - pmiss_spf)
    return np.min((c1 * pm + c2 * pf) / np.minimum(c1, c2))


def _tdcf_revised(bona, spoof, pfa, pmiss, pfa_spf, cost):
    if np.unique(np.concatenate((bona, spoof))).size < 3:
        raise ValueError("decisions")
    pm, pf, _ = _det(bona, spoof)
    c0 = cost["Ptar"] * cost["Cmiss"] * pmiss + cost["Pnon"] * cost["Cfa"] * pfa
    c1 = cost["Ptar"] * cost["Cmiss"] - c0
    c2 = cost["Pspoof"] * cost["Cfa_spoof"] * pfa_spf
    return np.min((c0 + c1 * pm + c2 * pf) / (c0 + np.minimum(c1, c2)))


def _min_dcf(bona, spoof, p_spoof=0.05, c_miss=1, c_fa=10):
    frr, far, _ = _det(bona, spoof)
    best = float("inf")
    p_t = 1 - p_spoof
    for i in range(len(frr)):
        c = c_miss * frr[i] * p_t + c_fa * far[i] * (1 - p_t)
        if c < best:
            best = c
    return best / min(c_miss * p_t, c_fa * (1 - p_t))


def baseline_report(scores, keys, attacks, asv_keys, asv_scores, asv_src):
    p_spoof = 0.05
    legacy = {
        "Pspoof": p_spoof, "Ptar": (1 - p_spoof) * 0.99, "Pnon": (1 - p_spoof) * 0.01,
        "Cmiss_asv": 1, "Cfa_asv": 10, "Cmiss_cm": 1, "Cfa_cm": 10,
    }  # fmt: skip
    revised = {
        "Pspoof": p_spoof, "Ptar": (1 - p_spoof) * 0.99, "Pnon": (1 - p_spoof) * 0.01,
        "Cmiss": 1, "Cfa": 10, "Cfa_spoof": 10,
    }  # fmt: skip
    bona, spoof = scores[keys == "bonafide"], scores[keys == "spoof"]
    tar, non = asv_scores[asv_keys == "target"], asv_scores[asv_keys == "nontarget"]
    out = {}

    def block(spf_cm, spf_asv):
        _, thr = _eer(tar, non)
        pfa, pmiss, pmiss_spf, pfa_spf = _asv_rates(tar, non, spf_asv, thr)
        return {
            "eer": _eer(bona, spf_cm)[0],
            "t19": _tdcf_legacy(bona, spf_cm, pfa, pmiss, pmiss_spf, legacy),
            "t21": _tdcf_revised(bona, spf_cm, pfa, pmiss, pfa_spf, revised),
            "min_dcf": _min_dcf(bona, spf_cm),
        }

    out["pooled"] = block(spoof, asv_scores[asv_keys == "spoof"])
    thr_act = -np.log(1 * (1 - p_spoof) / (10 * p_spoof))
    miss = np.sum(bona < thr_act) / bona.size
    fa = np.sum(spoof >= thr_act) / spoof.size
    out["act_dcf"] = (0.95 * miss + 0.5 * fa) / min(0.5, 0.95)
    out["cllr"] = (
        0.5 * (np.mean(np.log1p(np.exp(-bona))) + np.mean(np.log1p(np.exp(spoof)))) / np.log(2)
    )
    for attack in sorted(set(attacks[keys == "spoof"])):
        spf_asv = asv_scores[(asv_keys == "spoof") & (asv_src == attack)]
        out[attack] = block(scores[attacks == attack], spf_asv)
    return out


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--fixtures",
        type=Path,
        default=Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures",
    )
    args = parser.parse_args()
    cm = np.genfromtxt(args.fixtures / "metrics" / "rawgat_st_add_eval_scores.txt", dtype=str)
    asv_raw = np.genfromtxt(
        args.fixtures / "asvspoof2019_la" / "ASVspoof2019.LA.asv.eval.gi.trl.scores.txt", dtype=str
    )
    scores, keys, attacks = cm[:, 3].astype(float), cm[:, 2], cm[:, 1]
    asv_keys, asv_scores, asv_src = asv_raw[:, 1], asv_raw[:, 2].astype(float), asv_raw[:, 0]
    asv = AsvScores.from_keys(asv_keys, asv_scores, asv_src)

    def ours():
        return evaluate(scores, keys, attacks, asv=asv, metric_set="all")

    def theirs():
        return baseline_report(scores, keys, attacks, asv_keys, asv_scores, asv_src)

    report, base = ours(), theirs()  # warm-up and agreement check
    worst = 0.0
    for row in report.per_attack:
        ref = base[row.value]
        for ours_v, ref_v in (
            (row.eer, ref["eer"]), (row.min_tdcf_2019, ref["t19"]),
            (row.min_tdcf_2021, ref["t21"]), (row.min_dcf, ref["min_dcf"]),
        ):  # fmt: skip
            worst = max(worst, abs(ours_v - ref_v) / abs(ref_v))
    for ours_v, ref_v in (
        (report.eer, base["pooled"]["eer"]), (report.min_tdcf_2019, base["pooled"]["t19"]),
        (report.min_tdcf_2021, base["pooled"]["t21"]), (report.min_dcf, base["pooled"]["min_dcf"]),
        (report.act_dcf, base["act_dcf"]), (report.cllr, base["cllr"]),
    ):  # fmt: skip
        worst = max(worst, abs(ours_v - ref_v) / abs(ref_v))

    t_ours = _median_time(ours, args.repeats)
    t_base = _median_time(theirs, args.repeats)
    print(f"trials: {scores.size} ({int((keys == 'bonafide').sum())} bona fide), "
          f"attacks: {len(report.per_attack)}, repeats: {args.repeats}")  # fmt: skip
    print(f"voxlab evaluate(metric_set='all'): median {t_ours * 1e3:.1f} ms")
    print(f"official-style baseline:          median {t_base * 1e3:.1f} ms")
    print(f"speed-up: {t_base / t_ours:.1f}x   max relative difference: {worst:.2e}")


if __name__ == "__main__":
    main()
