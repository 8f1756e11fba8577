"""Landmark face swap speed at 640x480 (target >= 10 frames/s on 2 CPU cores).

Frames: Debian opencv-doc's messi5.jpg (BSD-3-Clause) face, posed (rotation/zoom/shift)
into 640x480 frames. Baseline in the same process: decoding-free "pass-through" tracking
only (landmarks, no warp/blend), so the ratio shows what the swap itself costs.

    python benchmarks/face_swap.py [--frames 60] [--repeats 3] [--blend poisson|alpha]
        [--stabilise flow|ema|none]

Jitter of the stabilisation modes and their swap speed on held-out faces:
``python benchmarks/face_detect.py --section stabilise``.

The machine is shared: run it on an idle machine for the real figure.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--blend", default="poisson")
    ap.add_argument("--stabilise", default="flow", choices=["flow", "ema", "none"])
    args = ap.parse_args()
    import cv2

    from voxlab.face.boundary import random_pose, source_variant, training_faces
    from voxlab.face.landmarks import FaceTracker, Landmarker
    from voxlab.face.swap import FaceSwapper

    face = training_faces()[0]
    rng = np.random.default_rng(0)
    canvas = np.zeros((480, 640, 3), np.uint8) + 40
    frames = []
    for _ in range(args.frames):
        f = canvas.copy()
        f[80:400, 160:480] = random_pose(face, rng)
        frames.append(f)
    lm = Landmarker()
    source = source_variant(face, rng)
    swap_t, track_t = [], []
    for _ in range(args.repeats):
        tr = FaceTracker(lm, stabilise=args.stabilise)
        t0 = time.perf_counter()
        for f in frames:
            tr.update(f)
        track_t.append(time.perf_counter() - t0)
        sw = FaceSwapper(source, landmarker=lm, blend=args.blend, stabilise=args.stabilise)
        t0 = time.perf_counter()
        for f in frames:
            sw.swap_frame(f)
        swap_t.append(time.perf_counter() - t0)
    fps = args.frames / statistics.median(swap_t)
    base = args.frames / statistics.median(track_t)
    print(f"cv2 threads {cv2.getNumThreads()}; frames 640x480 x {args.frames}; blend {args.blend}; "
          f"stabilise {args.stabilise}")  # fmt: skip
    print(f"tracking only (baseline): median {base:.1f} frames/s")
    print(f"swap (track + warp + colour + blend): median {fps:.1f} frames/s "
          f"(ratio swap/baseline {fps / base:.2f}); target >= 10 -> "
          f"{'met' if fps >= 10 else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
