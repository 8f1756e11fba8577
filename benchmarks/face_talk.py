"""Text -> labelled talking-face video, end to end (target: a 10-s clip in <= 60 s).

Runs `voxlab.av.make.make_video` (espeak-ng TTS, watermark, talking face, caption, H.264 +
AAC mux) on a text of about 10 s. Baseline in the same process: TTS alone. Also measures
the synchrony detector on the made clip (aligned) and on the same frames with the audio
shifted by 0.3 and 0.5 s: the separation target.

    python benchmarks/face_talk.py [--repeats 2]

The machine is shared: run it on an idle machine for the real figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

TEXT = (
    "This talking face was made by voxlab from a single photo and a line of text. "
    "The voice is synthetic, the mouth follows the voice, and every frame is labelled."
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    import cv2

    from voxlab.av.make import PipelineConfig, make_video, speak
    from voxlab.av.video import read_audio_track, read_frames, write_video
    from voxlab.face.boundary import training_faces
    from voxlab.face.report import analyse_video

    tmp = Path(tempfile.mkdtemp())
    photo = tmp / "face.png"
    cv2.imwrite(str(photo), cv2.cvtColor(training_faces()[0], cv2.COLOR_RGB2BGR))
    cfg = PipelineConfig(text=TEXT, face=str(photo))
    tts, full = [], []
    for i in range(args.repeats):
        t0 = time.perf_counter()
        gen = speak(cfg)
        tts.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rec = make_video(cfg, tmp / f"out{i}.mp4")
        full.append(time.perf_counter() - t0)
    dur = rec["duration_s"]
    print(f"clip {dur:.1f} s ({rec['frames']} frames, 320x320); TTS {gen.system}")
    print(f"TTS only (baseline): median {statistics.median(tts):.2f} s")
    m = statistics.median(full)
    print(f"text -> labelled video: median {m:.2f} s (x{m / statistics.median(tts):.1f} the TTS); "
          f"per 10 s of clip {10 * m / dur:.1f} s; target <= 60 -> "
          f"{'met' if 10 * m / dur <= 60 else 'MISSED'}")  # fmt: skip
    out = tmp / "out0.mp4"
    audio = read_audio_track(out, sr=16_000)
    rows = [("aligned", 0.0)]
    for shift in (0.3, 0.5):
        p = tmp / f"shift{shift}.mp4"
        late = np.concatenate([np.zeros(int(shift * 16_000), np.float32), audio])[: audio.size]
        write_video(p, read_frames(out), fps=25, audio=late, sample_rate=16_000)
        rows.append((f"audio +{shift} s", shift))
    for name, shift in rows:
        p = out if shift == 0 else tmp / f"shift{shift}.mp4"
        s = analyse_video(p)["synchrony"]
        print(f"synchrony {name}: best lag {s['lag_s']} s, r={s['peak']}, flagged={s['flagged']}")


if __name__ == "__main__":
    main()
