"""The learned (DFL-style) face swap: speed, held-out reconstruction, boundary-CNN detection.

Faces: voxlab.face.samples' ``hopper`` (A) and ``astronaut`` (B), both public domain.
Model: the shipped ``dfl_hopper_astronaut.pt`` (or ``--model``).

1. Speed at 640x480: A's face posed into 640x480 frames, swapped to B by the learned path
   and, in the same run, by the landmark path (B's photo as source): medians of
   ``--repeats`` passes, frames/s and the ratio learned/landmark. OpenCV uses
   ``--threads`` threads; the learned swapper decodes on 1 torch thread (its default: the
   64-px model gains nothing from threads and loses a lot to hand-offs on a busy machine).
2. Reconstruction L1 (pixel values in [0, 1], inside the face mask) on held-out crops
   (seed 1: other expressions and poses than training's seed 0), untrained vs trained.
3. Does the blending-boundary CNN (trained on landmark swaps of messi only) catch learned
   swaps? AUC of its logits on aligned crops of swapped vs original held-out posed frames
   (A->B and B->A), next to the same figure for landmark swaps.

    python benchmarks/face_learned.py [--frames 40] [--repeats 3] [--pairs 40] [--json]

The machine is shared: report CPU-seconds and same-run ratios with the load it ran under.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np


def speed(model, a, b, lm, *, frames: int, repeats: int) -> dict:
    """Frames/s of the learned and the landmark swap on the same 640x480 frames."""
    from voxlab.face.boundary import random_pose
    from voxlab.face.learned_swap import LearnedSwapper
    from voxlab.face.swap import FaceSwapper

    rng = np.random.default_rng(0)
    clip = []
    for _ in range(frames):
        f = np.full((480, 640, 3), 40, np.uint8)
        f[80:400, 160:480] = random_pose(a, rng)
        clip.append(f)
    out: dict[str, list[float]] = {"learned": [], "landmark": []}
    cpu: dict[str, list[float]] = {"learned": [], "landmark": []}
    for _ in range(repeats):
        for name in out:
            if name == "learned":
                sw = LearnedSwapper(model, to="b", landmarker=lm)
            else:
                sw = FaceSwapper(b, landmarker=lm)
            t0, c0 = time.perf_counter(), time.process_time()
            for f in clip:
                sw.swap_frame(f)
            out[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    res = {k: frames / statistics.median(v) for k, v in out.items()}
    res_cpu = {k: statistics.median(v) / frames for k, v in cpu.items()}
    return {"fps": res, "cpu_s_per_frame": res_cpu, "ratio": res["learned"] / res["landmark"]}


def reconstruction(model, cfg, lm, n: int) -> dict:
    """Held-out L1 before (same-seed untrained model) and after training."""
    import torch

    from voxlab.face.learned import DFLAutoencoder, reconstruction_l1
    from voxlab.face.learned_swap import identity_crops

    torch.manual_seed(cfg.seed)
    untrained = DFLAutoencoder(cfg)
    res = {}
    for ident, name in (("a", "hopper"), ("b", "astronaut")):
        crops, masks = identity_crops(name, n, size=cfg.resolution, seed=cfg.seed + 1,
                                      landmarker=lm)  # fmt: skip
        res[name] = {"untrained": reconstruction_l1(untrained, crops, masks, ident),
                     "trained": reconstruction_l1(model, crops, masks, ident)}  # fmt: skip
    return res


def detection(model, a, b, lm, pairs: int) -> dict:
    """Boundary-CNN AUC, learned swaps and landmark swaps vs the original frames."""
    from voxlab.face.boundary import (
        CROP,
        auc,
        load_boundary,
        random_pose,
        score_crops,
        source_variant,
    )
    from voxlab.face.landmarks import align_crop
    from voxlab.face.learned_swap import LearnedSwapper
    from voxlab.face.swap import FaceSwapper

    cnn = load_boundary()
    rng = np.random.default_rng(5)
    crops: dict[str, list[np.ndarray]] = {"original": [], "learned": [], "landmark": []}
    jobs = [(a, b, "b"), (b, a, "a")]
    for i in range(pairs):
        face, other, to = jobs[i % 2]
        frame = random_pose(face, rng)
        found = lm.faces(frame)
        if not found:
            continue
        pts = found[0].points
        learned = LearnedSwapper(model, to=to, landmarker=lm, smoothing=0.0)
        landmark = FaceSwapper(source_variant(other, rng), landmarker=lm, smoothing=0.0)
        crops["original"].append(align_crop(frame, pts, size=CROP))
        crops["learned"].append(align_crop(learned.swap_points(frame, pts), pts, size=CROP))
        crops["landmark"].append(align_crop(landmark.swap_points(frame, pts), pts, size=CROP))
    scores = {k: score_crops(cnn, np.stack(v)) for k, v in crops.items()}
    return {
        "pairs": len(crops["original"]),
        "auc_learned": auc(scores["learned"], scores["original"]),
        "auc_landmark": auc(scores["landmark"], scores["original"]),
        "mean_logit": {k: float(v.mean()) for k, v in scores.items()},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--model", default=None, help="a train-swap model (shipped one by default)")
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--held-out", type=int, default=40)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    import cv2
    import torch

    from voxlab.face.landmarks import Landmarker
    from voxlab.face.learned_io import load_swap_model
    from voxlab.face.samples import load_face

    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    model = load_swap_model(args.model)
    lm = Landmarker()
    a, b = load_face("hopper"), load_face("astronaut")
    res = {
        "load": os.getloadavg()[0],
        "threads": args.threads,
        "speed": speed(model, a, b, lm, frames=args.frames, repeats=args.repeats),
        "reconstruction_l1": reconstruction(model, model.cfg, lm, args.held_out),
        "boundary_cnn": detection(model, a, b, lm, args.pairs),
    }
    if args.json:
        print(json.dumps(res, indent=2))
        return
    s, r, d = res["speed"], res["reconstruction_l1"], res["boundary_cnn"]
    print(
        f"load {res['load']:.2f}; torch/cv2 threads {args.threads}; 640x480 x {args.frames} frames"
    )
    print(f"learned swap:  median {s['fps']['learned']:.1f} frames/s "
          f"({s['cpu_s_per_frame']['learned'] * 1000:.0f} CPU-ms/frame)")  # fmt: skip
    print(f"landmark swap: median {s['fps']['landmark']:.1f} frames/s "
          f"({s['cpu_s_per_frame']['landmark'] * 1000:.0f} CPU-ms/frame); "
          f"ratio learned/landmark {s['ratio']:.2f}")  # fmt: skip
    for name, v in r.items():
        print(f"held-out L1 {name}: untrained {v['untrained']:.4f} -> trained {v['trained']:.4f}")
    print(f"boundary CNN on {d['pairs']} held-out posed frames: AUC learned swaps vs originals "
          f"{d['auc_learned']:.3f}; landmark swaps vs originals {d['auc_landmark']:.3f}; "
          f"mean logits {d['mean_logit']}")  # fmt: skip


if __name__ == "__main__":
    main()
