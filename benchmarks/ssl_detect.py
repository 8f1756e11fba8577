"""SSL-AASIST inference speed at real size (XLS-R 300M + graph back end), on CPU or a GPU.

Random weights (speed does not depend on them). Per 4.04-s utterance (64,600 samples):
wall time and process CPU time per utterance, utterances/s, for the whole model and for
its two parts (XLS-R front end, graph back end), against a baseline run in the same
process: voxlab's inference-optimised AASIST on the same inputs. Medians over --repeats.

    python benchmarks/ssl_detect.py                           # batch 1 and 8, CPU
    python benchmarks/ssl_detect.py --batch-sizes 1 --repeats 3 --threads 2
    python benchmarks/ssl_detect.py --device cuda --batch-sizes 1 16
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from voxlab.models.registry import build_model, count_parameters

SAMPLES = 64_600


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(fn, x: torch.Tensor, *, repeats: int, device: torch.device) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn(x)`` (one warm-up call first)."""
    with torch.inference_mode():
        fn(x)
        _sync(device)
        walls, cpus = [], []
        for _ in range(repeats):
            w0, c0 = time.perf_counter(), time.process_time()
            fn(x)
            _sync(device)
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    torch.manual_seed(0)
    t0 = time.perf_counter()
    ssl = build_model("ssl-aasist").eval().to(device=device, dtype=dtype)
    build_s = time.perf_counter() - t0
    baseline = build_model("aasist").eval()
    try:
        from voxlab.models.fast import optimize_for_inference

        baseline = optimize_for_inference(baseline)
    except ImportError:
        pass
    baseline = baseline.to(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"device {name}, torch threads {torch.get_num_threads()}, dtype {args.dtype}; "
        f"ssl-aasist {count_parameters(ssl) / 1e6:.1f}M parameters (built in {build_s:.1f} s), "
        f"baseline aasist {count_parameters(baseline) / 1e3:.0f}k; medians of {args.repeats}"
    )
    header = (
        f"{'batch':>5} {'model':<22} {'wall s/utt':>10} {'CPU s/utt':>10} {'utt/s':>8} "
        f"{'x baseline':>10}"
    )
    print(header)
    rng = np.random.default_rng(0)
    for batch in args.batch_sizes:
        wave = torch.from_numpy(rng.standard_normal((batch, SAMPLES)).astype(np.float32) * 0.1)
        x = wave.to(device)
        base_wall, base_cpu = measure(baseline, x, repeats=args.repeats, device=device)
        xs = x.to(dtype)
        rows = [("aasist (baseline)", base_wall, base_cpu)]
        rows.append(("ssl-aasist", *measure(ssl, xs, repeats=args.repeats, device=device)))
        rows.append(
            ("  xls-r front end", *measure(ssl.frontend, xs, repeats=args.repeats, device=device))
        )
        with torch.inference_mode():
            feats = ssl.frontend(xs)
        rows.append(
            ("  graph back end", *measure(ssl.backend, feats, repeats=args.repeats, device=device))
        )
        for label, wall, cpu in rows:
            print(
                f"{batch:>5} {label:<22} {wall / batch:>10.4f} {cpu / batch:>10.4f} "
                f"{batch / wall:>8.2f} {wall / base_wall:>10.2f}"
            )


if __name__ == "__main__":
    main()
