"""CPU per 4-s utterance: voxlab's inference path vs the official-style models, same process.

The baselines are ``benchmarks/_official_style_models.py``: the clovaai/aasist computation
(AASIST, AASIST-L) and the eurecom RawGAT-ST computation, each loading the published state
dict with ``strict=True``; voxlab's side is what
``voxlab detect`` runs: the registry model with the converted checkpoint, passed through
:func:`voxlab.models.fast.optimize_for_inference`. Both must reproduce the official logits
in ``shared/fixtures/parity`` within 1e-5 + 1e-6 |logit| (the parity tests' bound; asserted
before anything is timed, and the largest absolute error is printed).

For 1 and 2 threads and batch 1 and 32 it prints the median CPU-seconds per utterance
(``time.process_time``: user + system time of all threads of this process, so page faults
count) of >= 3 alternating rounds (reference, voxlab, reference, ...), the ratio, the peak
extra resident memory of the batch-32 warm-up call, the parity error, and the load average
(``os.getloadavg()``) before each row and at the end, because on a shared machine the
figures depend on it.

OpenMP's wait policy is read once, when torch loads libgomp: this script sets
``OMP_WAIT_POLICY=PASSIVE`` (as the ``voxlab`` CLI does) before importing torch unless the
environment already sets it, and the policy applies to both implementations alike.

    python benchmarks/detect_vs_official.py
    python benchmarks/detect_vs_official.py --models aasist,rawgat-st,aasist-l --rounds 5
    OMP_WAIT_POLICY=ACTIVE python benchmarks/detect_vs_official.py   # spinning threads
    python benchmarks/detect_vs_official.py --roofline   # + the float32 floor of this CPU

``--roofline`` adds the work of one utterance (GFLOP, counted by PyTorch) and the float32
rate one thread of this CPU reaches (``benchmarks/_roofline.py``): their quotient is the
least CPU time any float32 forward of the official function can take, and the table says
what share of that peak a 5x ratio would need.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _official_style_models import load_official_aasist, load_official_rawgat_st
from _roofline import conv_gflops, flops_per_utterance, matmul_gflops
from voxlab import pretrained
from voxlab.models.checkpoints import load_checkpoint_into
from voxlab.models.fast import optimize_for_inference
from voxlab.models.registry import build_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures"
ATOL, RTOL = 1e-5, 1e-6  # as the parity tests: |err| <= ATOL + RTOL * |official logit|
_OFFICIAL = {  # catalogue name -> official-style reference loader
    "aasist": lambda path: load_official_aasist(path),
    "aasist-l": lambda path: load_official_aasist(path, light=True),
    "rawgat-st": load_official_rawgat_st,
}


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_extra_rss(model, batch: torch.Tensor) -> float:
    """Peak resident memory above the starting level during one call, in GB."""
    base, peak, done = _rss(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    with torch.inference_mode():
        model(batch)
    done.set()
    sampler.join()
    return max(0, max(peak[0], _rss()) - base) / 1e9


def cpu_per_utt(model, chunks: list[torch.Tensor]) -> float:
    """CPU-seconds per utterance of one pass over ``chunks``."""
    c0 = time.process_time()
    with torch.inference_mode():
        for chunk in chunks:
            model(chunk)
    return (time.process_time() - c0) / sum(c.shape[0] for c in chunks)


def parity_error(model, inputs: torch.Tensor, expected: np.ndarray) -> tuple[float, bool]:
    """Largest absolute logit error (item by item and batched) and whether it is in bounds."""
    with torch.inference_mode():
        single = np.concatenate([model(inputs[i : i + 1]).numpy() for i in range(len(inputs))])
        batched = model(inputs).numpy()
    errors = np.maximum(np.abs(single - expected), np.abs(batched - expected))
    return float(errors.max()), bool((errors <= ATOL + RTOL * np.abs(expected)).all())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--models", default="aasist,rawgat-st", help="comma list of: " + ", ".join(_OFFICIAL)
    )
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batches", default="1,32")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (>= 3)")
    parser.add_argument("--utterances", type=int, default=4, help="per round at batch 1")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument(
        "--roofline",
        action="store_true",
        help="also print FLOPs per utterance, the 1-thread float32 ceiling of this CPU and "
        "what a 5x ratio would need (uses the 1-thread batch-1 row)",
    )
    args = parser.parse_args()
    if args.rounds < 3:
        parser.error("--rounds must be >= 3")
    inputs = torch.from_numpy(np.load(args.fixtures / "parity" / "inputs.npy"))
    load_before = os.getloadavg()
    print(
        f"torch {torch.__version__}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, "
        f"{os.cpu_count()} CPUs, load average before: " + " ".join(f"{v:.1f}" for v in load_before)
    )
    print(f"medians of {args.rounds} alternating rounds; CPU-s per 4.04-s utterance")
    header = (
        f"{'model':9} {'thr':>3} {'batch':>5} {'official CPU-s':>14} {'voxlab CPU-s':>12} "
        f"{'ratio':>6} {'peak GB off/vox':>15} {'max |err| off/vox':>18} {'load':>5}"
    )
    print(header)
    print("-" * len(header))
    official_1t: dict[str, tuple[float, float]] = {}  # name -> (official, voxlab) CPU-s
    references = {}
    for name in args.models.split(","):
        entry = pretrained.get_entry(name)
        ckpt = args.fixtures / "pretrained" / entry.filename
        reference = references[name] = _OFFICIAL[name](ckpt)
        plain = build_model(entry.model).eval()
        load_checkpoint_into(plain, ckpt)
        voxlab = optimize_for_inference(plain)
        expected = np.load(args.fixtures / "parity" / f"expected_{Path(entry.filename).stem}.npy")
        err_ref, ok_ref = parity_error(reference, inputs, expected)
        err_vox, ok_vox = parity_error(voxlab, inputs, expected)
        if not (ok_ref and ok_vox):
            raise SystemExit(
                f"{name}: parity error {err_ref:.1e}/{err_vox:.1e} exceeds {ATOL} + {RTOL} |logit|"
            )
        errors = f"{err_ref:.1e}/{err_vox:.1e}"
        for threads in [int(t) for t in args.threads.split(",")]:
            torch.set_num_threads(threads)
            for batch in [int(b) for b in args.batches.split(",")]:
                if batch == 1:
                    chunks = [inputs[i % len(inputs)][None] for i in range(args.utterances)]
                else:
                    chunks = [inputs.repeat(-(-batch // len(inputs)), 1)[:batch]]
                load = os.getloadavg()[0]
                # warm-up (oneDNN primitives, allocator); the batch-32 one measures memory
                mem = "-"
                if batch >= 32:
                    mem = f"{peak_extra_rss(reference, chunks[0]):.2f}/"
                    mem += f"{peak_extra_rss(voxlab, chunks[0]):.2f}"
                else:
                    for model in (reference, voxlab):
                        cpu_per_utt(model, chunks[:1])
                ref_t, vox_t = [], []
                for _ in range(args.rounds):
                    ref_t.append(cpu_per_utt(reference, chunks))
                    vox_t.append(cpu_per_utt(voxlab, chunks))
                ref_m, vox_m = statistics.median(ref_t), statistics.median(vox_t)
                if threads == 1 and batch == 1:
                    official_1t[name] = (ref_m, vox_m)
                print(
                    f"{name:9} {threads:>3} {batch:>5} {ref_m:>14.3f} {vox_m:>12.3f} "
                    f"{ref_m / vox_m:>5.2f}x {mem:>15} {errors:>18} {load:>5.1f}",
                    flush=True,
                )
    if args.roofline:
        print_roofline(references, inputs, official_1t)
    print("load average after: " + " ".join(f"{v:.1f}" for v in os.getloadavg()))


def print_roofline(references: dict, inputs: torch.Tensor, measured: dict) -> None:
    """The float32 floor of one utterance's CPU time, against the measured figures."""
    torch.set_num_threads(1)
    peak, conv = matmul_gflops(), conv_gflops()
    print(
        f"\nroofline, 1 thread: float32 matrix product {peak:.0f} GFLOP/s, AASIST's hottest "
        f"convolution (oneDNN, channels-last) {conv:.0f} GFLOP/s"
    )
    print(
        f"{'model':9} {'GFLOP/utt':>9} {'floor CPU-s':>11} {'official':>8} {'voxlab':>7} "
        f"{'voxlab GFLOP/s':>14} {'5x needs CPU-s':>14} {'= GFLOP/s':>9} {'% of peak':>9}"
    )
    for name, reference in references.items():
        gflop = flops_per_utterance(reference, inputs[:1]) / 1e9
        official, voxlab = measured.get(name, (float("nan"), float("nan")))
        need = official / 5
        share = 100 * gflop / need / peak
        print(
            f"{name:9} {gflop:9.2f} {gflop / peak:11.3f} {official:8.3f} {voxlab:7.3f} "
            f"{gflop / voxlab:14.0f} {need:14.3f} {gflop / need:9.0f} {share:8.0f}%"
        )


if __name__ == "__main__":
    main()
