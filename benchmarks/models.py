"""CPU cost of the published countermeasures: plain PyTorch model vs optimize_for_inference.

For each model and batch size it prints the median CPU-seconds per 4-s utterance
(``time.process_time`` deltas, all threads of this process), utterances per wall second,
the speed-up of the optimised module measured in the same process, and the largest
absolute difference of either module from the official reference logits
(``shared/fixtures/parity/expected_*.npy``).

The baseline here is voxlab's own plain model, which is already leaner than the official
code (no discarded batch-norm passes, no per-call filter rebuild), so this speed-up is not
the figure against the official implementations: ``benchmarks/detect_vs_official.py``
measures that, against official-style AASIST and RawGAT-ST in the same process.

    python benchmarks/models.py                       # aasist, aasist-l, rawgat-st
    python benchmarks/models.py --models all --repeats 5 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from voxlab import pretrained
from voxlab.models.checkpoints import load_checkpoint_into
from voxlab.models.fast import optimize_for_inference
from voxlab.models.registry import build_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures"
DEFAULT_MODELS = ["aasist", "aasist-l", "rawgat-st"]


def measure(model, inputs: torch.Tensor, batch: int, repeats: int, n_utts: int):
    """Median CPU-s per utterance and utterances per wall second."""
    cpu, wall = [], []
    if batch == 1:
        chunks = [inputs[i % len(inputs)].unsqueeze(0) for i in range(n_utts)]
    else:
        chunks = [inputs.repeat((batch + len(inputs) - 1) // len(inputs), 1)[:batch]]
    with torch.inference_mode():
        model(chunks[0])  # warm-up (oneDNN primitive creation, allocations)
        for _ in range(repeats):
            c0, w0 = time.process_time(), time.perf_counter()
            done = 0
            for chunk in chunks:
                model(chunk)
                done += chunk.shape[0]
            cpu.append((time.process_time() - c0) / done)
            wall.append(done / (time.perf_counter() - w0))
    return statistics.median(cpu), statistics.median(wall)


def parity_error(model, inputs: torch.Tensor, expected: np.ndarray) -> float:
    with torch.inference_mode():
        single = np.concatenate([model(inputs[i : i + 1]).numpy() for i in range(len(inputs))])
        batched = model(inputs).numpy()
    return float(max(np.abs(single - expected).max(), np.abs(batched - expected).max()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="names or 'all'")
    parser.add_argument("--batches", default="1,16")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--utterances", type=int, default=4, help="per repeat at batch 1")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = pretrained.names() if args.models == "all" else args.models.split(",")
    batches = [int(b) for b in args.batches.split(",")]
    inputs = torch.from_numpy(np.load(args.fixtures / "parity" / "inputs.npy"))

    print(f"torch {torch.__version__}, {args.threads} thread(s), medians of {args.repeats}")
    header = (
        f"{'model':18} {'batch':>5} {'plain CPU-s/utt':>15} {'fast CPU-s/utt':>14} "
        f"{'ratio':>6} {'plain utt/s':>11} {'fast utt/s':>10} {'max |err| plain/fast':>21}"
    )
    print(header)
    print("-" * len(header))
    for name in names:
        entry = pretrained.get_entry(name)
        plain = build_model(entry.model).eval()
        load_checkpoint_into(plain, args.fixtures / "pretrained" / entry.filename)
        fast = optimize_for_inference(plain)
        expected = np.load(args.fixtures / "parity" / f"expected_{Path(entry.filename).stem}.npy")
        check_plain, check_fast = plain, fast
        if name == "rawgat-st-add":
            # the official reference was made by the repo's main.py, i.e. mul-fusion code
            check_plain = build_model("rawgat-st").eval()
            load_checkpoint_into(check_plain, args.fixtures / "pretrained" / entry.filename)
            check_fast = optimize_for_inference(check_plain)
        errors = (
            f"{parity_error(check_plain, inputs, expected):.1e}/"
            f"{parity_error(check_fast, inputs, expected):.1e}"
        )
        for batch in batches:
            p_cpu, p_rate = measure(plain, inputs, batch, args.repeats, args.utterances)
            f_cpu, f_rate = measure(fast, inputs, batch, args.repeats, args.utterances)
            print(
                f"{name:18} {batch:>5} {p_cpu:>15.3f} {f_cpu:>14.3f} {p_cpu / f_cpu:>5.2f}x "
                f"{p_rate:>11.2f} {f_rate:>10.2f} {errors:>21}",
                flush=True,
            )


if __name__ == "__main__":
    main()
