"""Text -> labelled talking-face video, end to end (target: a 10-s clip in <= 60 s).

Runs `voxlab.av.make.make_video` (espeak-ng TTS, watermark, talking face, caption, H.264 +
AAC mux) on a text of about 10 s. Baseline in the same process: TTS alone. Also measures
the synchrony detector on the made clip (aligned) and on the same frames with the audio
shifted by 0.3 and 0.5 s: the separation target.

    python benchmarks/face_talk.py [--repeats 2] [--mouth-only]

Mouth rows (``--mouth-only`` runs just these; no video): on a few Piper and espeak-ng
sentences, the phoneme-driven mouth (the engine's timed phonemes -> visemes) against the
audio-driven one (envelope + spectrum, the baseline): correlation at lag 0 with the
speech envelope the synchrony detector uses, the detector's best lag, the share of /p b m/
frames with the lips closed (opening < 0.1), and CPU time per track.

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


MOUTH_TEXTS = (
    "Bob may pay Mom.",
    "The quick brown fox jumps over the lazy dog.",
    "Please buy more maps before the summer break.",
    "We were wondering what you will bring tomorrow.",
)


def mouth_rows() -> None:
    """Phoneme-driven vs audio-driven mouth on Piper and espeak-ng sentences."""
    from voxlab.face.sync import speech_envelope, synchrony
    from voxlab.face.talk import mouth_from_audio, visemes_from_phonemes
    from voxlab.face.visemes import resolve_visemes
    from voxlab.generation.neural.engines import get_engine

    fps = 25.0
    print(f"mouth tracks at {fps:g} fps; r0 = correlation with the speech envelope at lag 0")
    print(f"{'engine':8} {'source':9} {'r0':>6} {'lag s':>6} {'p/b/m closed':>13} {'CPU ms':>7}")
    for name in ("piper", "espeak"):
        engine = get_engine(name)
        if engine.missing():
            print(f"{name}: skipped ({engine.missing()})")
            continue
        rows: dict[str, list] = {"phonemes": [], "audio": []}
        for text in MOUTH_TEXTS:
            gen = engine.synthesize(text, seed=0)
            events = gen.params["phonemes"]
            n = int(np.ceil(gen.duration * fps))
            env = speech_envelope(gen.audio, gen.sample_rate, n, fps)
            centres = (np.arange(n) + 0.5) / fps
            bilabial = np.zeros(n, bool)
            for start, end, cls in resolve_visemes(events):
                if cls == "closed" and end - start > 0:
                    bilabial |= (centres >= start) & (centres < end)
            for source in rows:
                t0 = time.process_time()
                if source == "phonemes":
                    track = visemes_from_phonemes(events, duration=gen.duration, fps=fps)
                else:
                    track = mouth_from_audio(gen.audio, gen.sample_rate, fps=fps)
                cpu = time.process_time() - t0
                sync = synchrony(track.opening, env, fps)
                closed = float((track.opening[bilabial] < 0.1).mean()) if bilabial.any() else 1.0
                rows[source].append((sync.at_zero, sync.lag_s, closed, cpu))
        for source, vals in rows.items():
            r0, lag, closed, cpu = (statistics.median(v) for v in zip(*vals, strict=True))
            print(f"{name:8} {source:9} {r0:6.3f} {lag:6.2f} {closed:13.2f} {1000 * cpu:7.1f}")
        ratio = statistics.median(v[3] for v in rows["phonemes"]) / max(
            1e-9, statistics.median(v[3] for v in rows["audio"])
        )
        print(f"{name}: phoneme track CPU x{ratio:.2f} the audio track (medians of "
              f"{len(MOUTH_TEXTS)} sentences)")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--mouth-only", action="store_true", help="only the mouth-source rows")
    args = ap.parse_args()
    mouth_rows()
    if args.mouth_only:
        return
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
