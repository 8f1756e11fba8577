"""Wall time of `voxlab corpus make` on an espeak stand-in corpus.

Prints the build time of a corpus with attacks against the baseline of the same corpus
with bona fide speech only (same speakers, utterances and workers), both measured here.

    python benchmarks/corpus_make.py --speakers 8 --utterances 10 --attacks V01-V07 --workers 2
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from voxlab.generation.attacks import parse_attack_ids
from voxlab.generation.corpus import CorpusConfig, make_corpus


def build(config: CorpusConfig, workers: int) -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="voxlab-bench-") as tmp:
        start = time.perf_counter()
        result = make_corpus(config, Path(tmp) / "corpus", workers=workers, progress=False)
        seconds = time.perf_counter() - start
        assert not result.failed, result.failed[:3]
        return seconds, result.made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--speakers", type=int, default=8)
    parser.add_argument("--utterances", type=int, default=10)
    parser.add_argument("--attacks", default="V01-V07")
    parser.add_argument("--eval-attacks", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    attacks = tuple(parse_attack_ids(args.attacks))
    eval_attacks = None if args.eval_attacks is None else tuple(parse_attack_ids(args.eval_attacks))
    common = {"n_speakers": args.speakers, "n_utterances": args.utterances}
    full = CorpusConfig(attacks=attacks, eval_attacks=eval_attacks, **common)
    base = CorpusConfig(attacks=(), eval_attacks=(), **common)
    base_times, full_times, made = [], [], 0
    for _ in range(args.repeats):
        base_times.append(build(base, args.workers)[0])
        seconds, made = build(full, args.workers)
        full_times.append(seconds)
    b, f = statistics.median(base_times), statistics.median(full_times)
    print(f"bona fide only   : median {b:7.1f} s")
    print(f"with attacks     : median {f:7.1f} s  ({made} files, attacks {','.join(attacks)}, "
          f"eval {','.join(full.split_attacks('eval'))}, workers {args.workers})")  # fmt: skip
    print(f"ratio            : {f / b:.2f} x the bona fide-only build")


if __name__ == "__main__":
    main()
