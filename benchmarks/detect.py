"""Countermeasure inference speed: CPU-seconds per utterance, utterances/s and files/s.

For each model and batch size, in one process:
  * model-only throughput of the plain network (the official computation, the baseline) and
    of voxlab's inference-optimised equivalent, on 4.04 s inputs;
  * a folder scan through ``Detector.score_files`` of N four-second FLAC files (decoding
    overlapped with inference), reported as files/s and as a fraction of the model-only rate;
  * the parity error of the optimised model against the official reference logits
    (``../shared/fixtures/parity``) when the fixtures are present.

Medians over --repeats runs. CPU-seconds are process CPU time (all threads) per utterance.

    python benchmarks/detect.py                     # aasist, aasist-l, rawgat-st; batch 1, 16
    python benchmarks/detect.py --models aasist --batch-sizes 16 --files 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from voxlab.audio import save
from voxlab.detection import Detector
from voxlab.models.checkpoints import load_checkpoint_into
from voxlab.models.registry import build_model

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
CHECKPOINTS = {
    "aasist": "aasist.pth",
    "aasist-l": "aasist_l.pth",
    "rawgat-st": "rawgat_st_mul.pth",
    "rawgat-st-add": "rawgat_st_add.pth",
}
EXPECTED = {
    "aasist": "expected_aasist.npy",
    "aasist-l": "expected_aasist_l.npy",
    "rawgat-st": "expected_rawgat_st_mul.npy",
    "rawgat-st-add": "expected_rawgat_st_add.npy",
}


def plain_model(name: str) -> torch.nn.Module:
    model = build_model(name)
    ckpt = FIXTURES / "pretrained" / CHECKPOINTS[name]
    if ckpt.is_file():
        load_checkpoint_into(model, ckpt)
    return model.eval()


def optimised(model: torch.nn.Module) -> torch.nn.Module:
    try:
        from voxlab.models.fast import optimize_for_inference
    except ImportError:
        return model
    return optimize_for_inference(model)


def model_only(model, batch: np.ndarray, repeats: int) -> tuple[float, float]:
    """Median (CPU-s per utterance, utterances/s) of forward passes on ``batch``."""
    det = Detector(model, batch_size=len(batch))
    det.logits(batch)  # warm-up
    cpu, rate = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        det.logits(batch)
        c1, w1 = time.process_time(), time.perf_counter()
        cpu.append((c1 - c0) / len(batch))
        rate.append(len(batch) / (w1 - w0))
    return statistics.median(cpu), statistics.median(rate)


def folder_scan(model, files: list[str], batch_size: int, repeats: int) -> float:
    """Median files/s of ``Detector.score_files`` over ``files``."""
    det = Detector(model, batch_size=batch_size)
    rates = []
    for _ in range(repeats):
        w0 = time.perf_counter()
        results = list(det.score_files(files, workers=2))
        rates.append(len(files) / (time.perf_counter() - w0))
        assert all(r.status == "ok" for r in results)
    return statistics.median(rates)


def parity(model, name: str) -> float | None:
    inputs, expected = FIXTURES / "parity" / "inputs.npy", FIXTURES / "parity" / EXPECTED[name]
    if not (inputs.is_file() and expected.is_file()):
        return None
    logits = Detector(model, batch_size=8).logits(np.load(inputs))
    return float(np.abs(logits - np.load(expected)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["aasist", "aasist-l", "rawgat-st"])
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[1, 16])
    parser.add_argument("--files", type=int, default=200, help="FLAC files in the folder scan")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"fixtures {'found' if FIXTURES.is_dir() else 'absent (random weights)'}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(args.files):
            t = np.arange(64_600) / 16_000
            wave = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 300) * t) + 0.02 * rng.standard_normal(
                t.size
            )
            files.append(str(save(Path(tmp) / f"{i:04d}.flac", wave.astype(np.float32), 16_000)))
        header = (
            f"{'model':<14}{'batch':>6}{'plain cpu-s/utt':>17}{'fast cpu-s/utt':>16}"
            f"{'speed-up':>10}{'fast utt/s':>12}{'files/s':>9}{'files/model':>13}{'parity':>10}"
        )
        print(header)
        print("-" * len(header))
        for name in args.models:
            plain = plain_model(name)
            fast = optimised(plain_model(name))
            err = parity(fast, name)
            for bs in args.batch_sizes:
                batch = rng.standard_normal((bs, 64_600)).astype(np.float32) * 0.1
                p_cpu, _ = model_only(plain, batch, args.repeats)
                f_cpu, f_rate = model_only(fast, batch, args.repeats)
                n_files = min(args.files, max(bs * 4, 32)) if bs == 1 else args.files
                fps = folder_scan(fast, files[:n_files], bs, max(1, args.repeats - 1))
                print(
                    f"{name:<14}{bs:>6}{p_cpu:>17.3f}{f_cpu:>16.3f}{p_cpu / f_cpu:>9.2f}x"
                    f"{f_rate:>12.2f}{fps:>9.2f}{fps / f_rate:>12.0%}"
                    f"{'n/a' if err is None else f'{err:.1e}':>10}"
                )


if __name__ == "__main__":
    main()
