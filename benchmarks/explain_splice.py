"""Does `voxlab explain` point at the synthetic part of a partially spoofed recording?

Hosts are real human speech shipped by Debian (``pocketsphinx-testdata``: US English, BSD-2;
consecutive recordings joined to >= 5 s). In each host a segment (default 1.25 s, at a
seeded random position) is replaced by its WORLD copy-synthesis through a smoothed
24th-order mel-cepstral envelope (statistical-parametric-like vocoding, loudness matched;
Griffin-Lim when pyworld is missing). For each file AASIST is explained and the script
prints, per method, the fraction of the attribution mass inside the spliced segment:
integrated gradients (positive, spoof-evidence part, per 10 ms), |IG|, and Grad-CAM
(summed over frequency); whether the lowest-scoring window contains the segment's
centre; and, as the baseline measured in the same run, the chance fraction (segment
length / file length) and the ratio of the median mass to it.

    python benchmarks/explain_splice.py                      # 8 files, AASIST, 16 IG steps
    python benchmarks/explain_splice.py --files 4 --model aasist-l --ig-steps 8

Needs the published checkpoint (VOXLAB_MODEL_DIR=../shared/fixtures/pretrained).
Target (issue 12): >= 80 % of the attribution mass inside the segment for AASIST.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

SR = 16_000


def _vocode(segment: np.ndarray) -> np.ndarray:
    try:
        from voxlab.generation.vocoders import world_copy_synthesis

        out = world_copy_synthesis(segment, SR, mcep_order=24, smooth_frames=3).audio
    except ImportError:
        from voxlab.generation.vocoders import griffin_lim_copy_synthesis

        out = griffin_lim_copy_synthesis(segment, SR).audio
    out = np.resize(out, segment.shape)  # same length
    gain = np.sqrt(np.mean(segment**2) / max(np.mean(out**2), 1e-12))
    return (out * gain).astype(np.float32)


def make_spliced(
    n_files: int, seg_seconds: float, seed: int, host_seconds: float = 8.0
) -> list[tuple[np.ndarray, float, float]]:
    """``(wave, start_s, end_s)`` per spliced file."""
    from voxlab.audio import resample
    from voxlab.data.sources import get_source
    from voxlab.data.sources.prepare import decode

    raw = []
    for f in get_source("pocketsphinx").files():
        data, rate = decode(f)
        data = data if data.ndim == 1 else data.mean(axis=0)
        raw.append(resample(data, orig_sr=rate, target_sr=SR) if rate != SR else data)
    rng = np.random.default_rng(seed)
    out, i = [], 0
    while len(out) < n_files:
        host = raw[i % len(raw)]
        j = i + 1
        while len(host) < min(5.0, host_seconds) * SR:
            host = np.concatenate([host, raw[j % len(raw)]])
            j += 1
        host = host[: int(host_seconds * SR)]
        i = j
        n = int(seg_seconds * SR)
        start = int(rng.integers(int(0.5 * SR), len(host) - n - int(0.5 * SR)))
        wave = host.copy()
        wave[start : start + n] = _vocode(host[start : start + n])
        out.append((wave, start / SR, (start + n) / SR))
    return out


def main() -> None:
    """Run the benchmark and print the table and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--model", default="aasist")
    parser.add_argument("--ig-steps", type=int, default=16)
    parser.add_argument("--segment", type=float, default=1.25)
    parser.add_argument("--host-seconds", type=float, default=8.0)
    parser.add_argument("--hop", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--figures", type=Path, default=None, help="Write each figure here.")
    args = parser.parse_args()
    os.environ.setdefault(
        "VOXLAB_MODEL_DIR", str(Path(__file__).resolve().parents[2] / "shared/fixtures/pretrained")
    )
    import torch

    from voxlab.adversarial.loading import load_model
    from voxlab.explain import draw, explain

    if args.threads:
        torch.set_num_threads(args.threads)
    model = load_model(args.model, download=False)
    rows = []
    for k, (wave, a, b) in enumerate(
        make_spliced(args.files, args.segment, args.seed, args.host_seconds)
    ):
        t0 = time.perf_counter()
        expl = explain(model, wave, ig_steps=args.ig_steps, hop=args.hop, name=args.model)
        centre = (a + b) / 2
        worst = expl.window_spans[int(expl.window_scores.argmin())]
        abs_profile = np.abs(expl.ig_frames)
        inside = (expl.times >= a) & (expl.times < b)
        row = {
            "file": k,
            "duration": round(len(wave) / SR, 2),
            "segment": [round(a, 2), round(b, 2)],
            "chance": (b - a) / (len(wave) / SR),
            "ig_pos_mass": expl.mass_inside(a, b, what="ig"),
            "ig_abs_mass": float(abs_profile[inside].sum() / abs_profile.sum()),
            "gradcam_mass": expl.mass_inside(a, b, what="gradcam"),
            # with a single window (a host no longer than it) the question is moot
            "worst_window_has_segment": (
                bool(worst[0] <= centre <= worst[1]) if len(expl.window_scores) > 1 else None
            ),
            "completeness_error": expl.ig_completeness_error,
            "file_score": float(np.mean(expl.window_scores)),
            "seconds": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
        if args.figures:
            draw(
                expl,
                args.figures / f"splice_{k}.png",
                title=f"{args.model}: segment {a:.2f}-{b:.2f} s",
            )
    keys = ("chance", "ig_pos_mass", "ig_abs_mass", "gradcam_mass", "completeness_error")
    med = {k: statistics.median(r[k] for r in rows) for k in keys}
    judged = [
        r["worst_window_has_segment"] for r in rows if r["worst_window_has_segment"] is not None
    ]
    hit = f"{sum(judged) / len(judged):.2f}" if judged else "n/a (one window per file)"
    print(f"\n{args.model}, {len(rows)} spliced files, {args.ig_steps} IG steps (medians)")
    print("| measure | median | ratio to chance |")
    print("|---|---|---|")
    print(f"| chance (segment / file length) | {med['chance']:.3f} | 1.00 |")
    for key in ("ig_pos_mass", "ig_abs_mass", "gradcam_mass"):
        print(f"| {key} inside segment | {med[key]:.3f} | {med[key] / med['chance']:.2f} |")
    print(f"| lowest window contains the segment (fraction of files) | {hit} | |")
    print(f"| IG completeness error | {med['completeness_error']:.3g} | |")
    target = "met" if med["ig_pos_mass"] >= 0.8 or med["gradcam_mass"] >= 0.8 else "NOT met"
    print(f"target >= 0.80 of the mass inside: {target}")


if __name__ == "__main__":
    main()
