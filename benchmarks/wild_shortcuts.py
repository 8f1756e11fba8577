"""voxlab-wild shortcut report: can duration, silence, bandwidth or loudness alone tell
real human speech from its spoofs?

Builds (or resumes) a voxlab-wild corpus and prints, per split and feature, the EER of
two one-feature classifiers: the best threshold on the split (an oracle) and a histogram
likelihood ratio fitted on train, and the build time. Target: every EER >= 40 %.
Exits 1 when one misses it.

    python benchmarks/wild_shortcuts.py --out runs/wild --per-speaker 12 --workers 2
    python benchmarks/wild_shortcuts.py --out runs/wild-tiny --per-speaker 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/wild"))
    parser.add_argument("--per-speaker", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sources-dir", type=Path, default=None)
    args = parser.parse_args()

    from voxlab.generation.wild import WildConfig, make_wild
    from voxlab.generation.wild_report import FEATURES, TARGET_EER

    config = WildConfig(
        per_speaker=args.per_speaker,
        seed=args.seed,
        sources_dir=str(args.sources_dir) if args.sources_dir else None,
    )
    start = time.perf_counter()
    result = make_wild(config, args.out, workers=args.workers, progress=sys.stderr.isatty())
    seconds = time.perf_counter() - start
    counts = {s: result.counts[s] for s in ("train", "dev", "eval")}
    print(f"voxlab-wild at {args.out}: {json.dumps(counts)}")
    print(f"build: {result.made} made, {result.kept} kept, {len(result.failed)} failed, "
          f"{seconds:.0f} s")  # fmt: skip
    print()
    print("shortcut EER % (oracle threshold on the split / histogram LLR fitted on train)")
    print(f"{'split':6} " + " ".join(f"{f:>18}" for f in FEATURES))
    for split, res in result.shortcuts["splits"].items():
        cells = [
            f"{100 * res[f]['threshold']:7.1f} / {100 * res[f].get('trained', float('nan')):6.1f}"
            for f in FEATURES
        ]
        print(f"{split:6} " + " ".join(f"{c:>18}" for c in cells))
    worst = result.shortcuts["worst"]
    verdict = "meets" if worst >= TARGET_EER else "MISSES"
    print(
        f"\nworst shortcut EER: {100 * worst:.1f} % ({verdict} the {100 * TARGET_EER:.0f} % target)"
    )
    return 0 if worst >= TARGET_EER and not result.failed else 1


if __name__ == "__main__":
    sys.exit(main())
