"""RVC speed on CPU: voxlab's synthesizer against the official way of running it, and the
conversion pipeline's stages.

1. Synthesizer ``infer`` at the published sizes (random weights, seeded), 2 s of content:
   voxlab's default (weight norm folded once at load; decoder on channels-last maps with
   fused activations and additions) against the official inference path's structure
   (weight norm recomputed as g * v / ||v|| at every call, plain unfused convolutions:
   ``load_rvc(fold_weight_norm=False)`` with ``dec.fast_inference = False``), same
   inputs, same process. Medians; ratio = official-style / voxlab (> 1: voxlab faster).
2. ``voxlab convert`` stages on a 3 s input with a HuBERT-base-sized network (768-d, 12
   layers; random weights): F0 (Harvest, DIO), content features, synthesis; real-time
   factor of the whole conversion.

    python benchmarks/rvc.py
    python benchmarks/rvc.py --repeats 7 --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "generation"


def median_time(fn, repeats: int) -> float:
    """Median wall time (s) of ``fn()`` after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def random_export(name: str, values: list) -> dict:
    """An export dict of the published size with seeded random fp16 weights."""
    from voxlab.generation.neural.rvc import RVCConfig, build_synthesizer

    version, f0, _ = name.split("_")
    torch.manual_seed(0)
    model = build_synthesizer(RVCConfig.from_list(values, version=version, f0=f0 == "f0"))
    weight = {k: v.half() for k, v in model.state_dict().items()}
    return {"weight": weight, "config": values, "f0": int(f0 == "f0"), "version": version}


def bench_synthesizer(repeats: int) -> None:
    from voxlab.generation.neural.rvc import load_rvc

    configs = json.loads((FIXTURES / "manifest_rvc_configs.json").read_text())
    print("synthesizer infer, 2 s of content (200 frames), published sizes, median s")
    print(f"{'model':<12} {'voxlab':>8} {'official-style':>15} {'ratio':>6} {'RTF':>6}")
    for name in ("v2_f0_40k", "v1_f0_48k", "v2_nono_40k"):
        export = random_export(name, configs[name])
        fast = load_rvc(export)
        slow = load_rvc(export, fold_weight_norm=False)
        slow.dec.fast_inference = False  # the official decoder: plain convs, unfused
        dim = fast.config.content_dim
        g = torch.Generator().manual_seed(1)
        phone = torch.randn(1, 200, dim, generator=g)
        lengths = torch.tensor([200])
        sid = torch.tensor([0])
        pitchf = 120 + 40 * torch.rand(1, 200, generator=g)
        pitch = torch.randint(1, 256, (1, 200), generator=g)
        args = (phone, lengths, pitch, pitchf, sid) if fast.f0 else (phone, lengths, sid)
        t_fast = median_time(lambda m=fast, a=args: m.infer(*a, deterministic=True), repeats)
        t_slow = median_time(lambda m=slow, a=args: m.infer(*a, deterministic=True), repeats)
        a = fast.infer(*args, deterministic=True)[0]
        b = slow.infer(*args, deterministic=True)[0]
        diff = float((a - b).abs().max())
        print(f"{name:<12} {t_fast:>8.3f} {t_slow:>15.3f} {t_slow / t_fast:>6.2f} "
              f"{t_fast / 2.0:>6.3f}   (max |diff| {diff:.1e})")  # fmt: skip


def bench_pipeline(repeats: int) -> None:
    from transformers import HubertConfig, HubertModel

    from voxlab.generation.neural.rvc import load_rvc
    from voxlab.generation.neural.rvc.f0 import extract_f0
    from voxlab.generation.neural.rvc.hubert import ContentEncoder
    from voxlab.generation.neural.rvc.pipeline import ConvertOptions, RVCConverter

    torch.manual_seed(0)
    hubert = HubertModel(HubertConfig()).eval()  # HuBERT base size: 768-d, 12 layers
    configs = json.loads((FIXTURES / "manifest_rvc_configs.json").read_text())
    model = load_rvc(random_export("v2_f0_40k", configs["v2_f0_40k"]))
    converter = RVCConverter(model, ContentEncoder(hubert), name="bench")
    sr, seconds = 16000, 3.0
    t = np.arange(int(seconds * sr)) / sr
    audio = (0.2 * np.sin(2 * np.pi * 140 * t * (1 + 0.02 * np.sin(2 * np.pi * 3 * t)))).astype(
        np.float32
    )
    padded = np.pad(audio, sr)
    wav = torch.from_numpy(padded)[None]
    rows = {
        "F0 harvest": lambda: extract_f0(padded, method="harvest"),
        "F0 dio": lambda: extract_f0(padded, method="dio"),
        "HuBERT layer 12": lambda: converter.content.features(wav, version="v2"),
        "convert (harvest)": lambda: converter.convert(audio, sr, ConvertOptions()),
        "convert (dio)": lambda: converter.convert(audio, sr, ConvertOptions(f0_method="dio")),
    }
    print(f"\nvoxlab convert stages, {seconds:g} s input (+1 s padding each side), median s")
    for label, fn in rows.items():
        spent = median_time(fn, repeats)
        print(f"{label:<20} {spent:>7.3f}   RTF {spent / seconds:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-pipeline", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s)")
    bench_synthesizer(args.repeats)
    if not args.skip_pipeline:
        bench_pipeline(args.repeats)


if __name__ == "__main__":
    main()
