"""CPU cost of training augmentation per 4-s clip, against reading the clip itself.

For each RawBoost algorithm (1-8) and each channel condition of ``voxlab.training.augment``
it prints the median CPU milliseconds per 64,600-sample clip (``time.process_time``) and
the ratio to the baseline measured in the same process: decoding that clip from a FLAC
file and cropping it (what the training data pipeline does for every item anyway).

    python benchmarks/augment.py                  # 20 repeats
    python benchmarks/augment.py --repeats 50 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from voxlab.audio import load, save
from voxlab.data.dataset import fit_length
from voxlab.testing import chirp
from voxlab.training.augment import CONDITIONS, Augmenter, AugmentSection, ChannelSection
from voxlab.training.rawboost import ALGORITHMS, rawboost

SR = 16_000
N = 64_600


def clip(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    wave = chirp(80, 3000, seconds=N / SR) * (0.5 + 0.5 * np.sin(np.arange(N) / 900))
    return (wave + 0.01 * rng.standard_normal(N)).astype(np.float32)


def median_ms(fn, repeats: int) -> float:
    fn(0)  # warm-up
    times = []
    for i in range(repeats):
        t0 = time.process_time()
        fn(i + 1)
        times.append(time.process_time() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (unused by numpy)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    x = clip()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.flac"
        save(path, x, SR)

        def baseline(i: int) -> None:
            wave, _ = load(path, sr=SR)
            fit_length(wave, N, crop="random", rng=np.random.default_rng(i))

        base = median_ms(baseline, args.repeats)
    print(f"baseline: decode a 4.04-s FLAC clip + crop: {base:.2f} ms CPU (median)")
    print(f"{'augmentation':40s} {'ms/clip':>9s} {'x baseline':>11s}")
    for algo in range(1, 9):
        ms = median_ms(lambda i, a=algo: rawboost(x, a, rng=np.random.RandomState(i)), args.repeats)
        print(f"{'rawboost ' + str(algo) + ' ' + ALGORITHMS[algo]:40s} {ms:9.2f} {ms / base:11.2f}")
    for name in sorted(CONDITIONS):
        aug = Augmenter(
            AugmentSection(channel=ChannelSection(p=1.0, conditions={name: 1})), sample_rate=SR
        )
        ms = median_ms(lambda i, a=aug: a(x, np.random.default_rng(i)), args.repeats)
        print(f"{'channel ' + name:40s} {ms:9.2f} {ms / base:11.2f}")


if __name__ == "__main__":
    main()
