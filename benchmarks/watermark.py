"""Watermark benchmark: robustness, quality, false positives, localisation and speed.

Robustness is measured per attack x clip length; quality as SNR, PESQ-WB and STOI; false
positives on >= 1,000 unmarked clips (with the TPR at 1e-3 and 1e-6); each figure is
printed beside its target (MET / MISS).

Everything it needs is generated here (espeak-ng speech with many voices, music-like
signals, noise, silence), so anyone can rerun it:

    python benchmarks/watermark.py --quick          # smoke run, a few minutes
    python benchmarks/watermark.py --workers 2      # the full run (tens of minutes)
    python benchmarks/watermark.py --out wm.json    # also write every number as JSON

Timings use ``time.process_time`` in one process (one core). Robustness: each clip is
watermarked whole (60 s) at the default strength, an excerpt of the given length is cut
at a random offset, then the attack is applied to the excerpt, then detection runs.
"detect" = marked at the default threshold (FPR <= 1e-3); "payload" = the exact payload
with a matching CRC.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from voxlab.audio import resample
from voxlab.audio.effects import STANDARD_ATTACKS, apply_effect, get_attack
from voxlab.watermark import DEFAULT_STRENGTH, WatermarkKey, detect, embed, threshold_for
from voxlab.watermark.signals import music_like, noise_clip, silence, speech

SR = 16_000
KEY = WatermarkKey.from_passphrase("voxlab watermark benchmark")
PAYLOAD = 0x5EED1234
LONG = 60.0


@dataclass(frozen=True)
class Job:
    """One robustness cell: a host clip, an attack, an excerpt length, a trial."""

    host: str
    seed: int
    attack: str
    length: float
    trial: int


def host_audio(kind: str, seed: int, seconds: float = LONG) -> np.ndarray:
    """A host clip of ``seconds`` (speech or music-like)."""
    return speech(seconds, seed=seed) if kind == "speech" else music_like(seconds, seed=seed)


_CACHE: dict[tuple[str, int], np.ndarray] = {}


def marked_host(kind: str, seed: int) -> np.ndarray:
    """The 60 s host, watermarked at the default strength (cached per process)."""
    if (kind, seed) not in _CACHE:
        _CACHE[(kind, seed)] = embed(host_audio(kind, seed), SR, KEY, PAYLOAD)
    return _CACHE[(kind, seed)]


def run_job(job: Job) -> dict:
    """Cut, attack and detect one excerpt."""
    marked = marked_host(job.host, job.seed)
    rng = np.random.default_rng(hash((job.seed, job.attack, job.length, job.trial)) % 2**32)
    n = int(job.length * SR)
    start = int(rng.integers(0, max(1, marked.size - n)))
    clip = marked[start : start + n]
    attacked = get_attack(job.attack)(clip, SR)
    result = detect(attacked, SR, KEY)
    return {
        "host": job.host,
        "attack": job.attack,
        "length": job.length,
        "marked": bool(result.marked),
        "payload_ok": result.payload == f"{PAYLOAD:08x}",
        "wrong_payload": bool(result.crc_ok and result.payload != f"{PAYLOAD:08x}"),
        "score": result.score,
    }


def robustness(
    hosts: list[tuple[str, int]],
    attacks: list[str],
    lengths: list[float],
    trials: int,
    workers: int,
):
    jobs = [
        Job(h, s, a, length, t)
        for h, s in hosts
        for a in attacks
        for length in lengths
        for t in range(trials if length < LONG else 1)
    ]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(run_job, jobs, chunksize=4))
    return [run_job(j) for j in jobs]


def quality(n: int) -> dict:
    """SNR, PESQ-WB and STOI of the default strength on speech clips."""
    try:
        from pesq import pesq
        from pystoi import stoi
    except ImportError:
        pesq = stoi = None
    snr, pq, st = [], [], []
    for seed in range(n):
        x = speech(10.0, seed=100 + seed)
        y = embed(x, SR, KEY, PAYLOAD)
        snr.append(
            10
            * math.log10(
                float(np.sum(x.astype(np.float64) ** 2) / np.sum((y - x).astype(np.float64) ** 2))
            )
        )
        if pesq is not None:
            pq.append(float(pesq(SR, x, y, "wb")))
            st.append(float(stoi(x, y, SR, extended=False)))
    out = {"clips": n, "snr_db": float(np.mean(snr)), "snr_min": float(np.min(snr))}
    if pq:
        out.update(
            pesq_wb=float(np.mean(pq)),
            pesq_min=float(np.min(pq)),
            stoi=float(np.mean(st)),
            stoi_min=float(np.min(st)),
        )
    return out


def unmarked_clip(i: int, seconds: float) -> tuple[str, np.ndarray]:
    kinds = (
        "speech",
        "speech",
        "speech",
        "music",
        "music",
        "white",
        "pink",
        "silence",
        "digital_silence",
        "tts_44k",
    )
    kind = kinds[i % len(kinds)]
    if kind == "speech":
        return kind, speech(seconds, seed=1000 + i)
    if kind == "music":
        return kind, music_like(seconds, seed=1000 + i)
    if kind in ("white", "pink"):
        return kind, noise_clip(seconds, seed=1000 + i, kind=kind)
    if kind == "silence":
        return kind, silence(seconds, seed=1000 + i)
    if kind == "digital_silence":
        return kind, np.zeros(int(seconds * SR), np.float32)
    # espeak speech resampled to 44.1 kHz and back through MP3: "TTS as distributed"
    x = resample(speech(seconds, seed=1000 + i), orig_sr=SR, target_sr=44_100)
    return kind, apply_effect("mp3", x, 44_100, bitrate=128)


def fpr_job(i: int) -> tuple[str, float, bool, bool]:
    seconds = (3.0, 5.0, 10.0)[i % 3]
    kind, clip = unmarked_clip(i, seconds)
    sr = 44_100 if kind == "tts_44k" else SR
    result = detect(clip, sr, KEY)
    return kind, float(result.score), bool(result.marked), bool(result.crc_ok)


def false_positives(n: int, workers: int) -> dict:
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            rows = list(pool.map(fpr_job, range(n), chunksize=8))
    else:
        rows = [fpr_job(i) for i in range(n)]
    scores = np.array([r[1] for r in rows])
    kinds = sorted({r[0] for r in rows})
    return {
        "clips": n,
        "false_positives": int(sum(r[2] for r in rows)),
        "crc_false_accepts": int(sum(r[3] for r in rows)),
        "score_mean": float(scores.mean()),
        "score_std": float(scores.std()),
        "score_max": float(scores.max()),
        "above_3.09(gauss 1e-3)": int((scores >= 3.09).sum()),
        "per_kind": {k: int(sum(1 for r in rows if r[0] == k)) for k in kinds},
    }


def tpr(lengths: list[float], trials: int) -> dict:
    """TPR at the thresholds for FPR 1e-3 and 1e-6, clean excerpts of speech and music."""
    out = {}
    hosts = [("speech", 11), ("speech", 12), ("music", 13)]
    for length in lengths:
        scores = []
        for t in range(trials):
            kind, seed = hosts[t % len(hosts)]
            marked = marked_host(kind, seed)
            rng = np.random.default_rng(t)
            n = int(length * SR)
            start = int(rng.integers(0, marked.size - n))
            scores.append(detect(marked[start : start + n], SR, KEY).score)
        s = np.array(scores)
        out[f"{length:g}s"] = {
            "tpr@1e-3": float((s >= threshold_for(1e-3)).mean()),
            "tpr@1e-6": float((s >= threshold_for(1e-6)).mean()),
            "median_score": float(np.median(s)),
        }
    return out


def localisation(trials: int) -> dict:
    """A 3 s marked segment spliced into 20 s of unmarked speech: found within +-1 s?"""
    ok = 0
    errors = []
    for t in range(trials):
        rng = np.random.default_rng(500 + t)
        background = speech(20.0, seed=600 + t)
        segment = embed(speech(3.0, seed=700 + t), SR, KEY, PAYLOAD)
        at = float(rng.uniform(1.0, 16.0))
        mixed = apply_effect("splice", segment, SR, at=at, other=background)
        result = detect(mixed, SR, KEY)
        segs = result.segments
        good = (
            result.marked
            and len(segs) >= 1
            and abs(segs[0][0] - at) <= 1.0
            and abs(segs[-1][1] - (at + 3.0)) <= 1.0
        )
        ok += good
        if segs:
            errors.append(max(abs(segs[0][0] - at), abs(segs[-1][1] - at - 3.0)))
    return {
        "trials": trials,
        "found_within_1s": ok / trials,
        "median_edge_error_s": float(np.median(errors)) if errors else None,
    }


def speed() -> dict:
    """Embed and detect speed (x realtime, one core, process time), median of 3."""
    out = {}
    x = speech(LONG, seed=21)
    for sr in (16_000, 44_100):
        audio = x if sr == SR else resample(x, orig_sr=SR, target_sr=sr)
        te, td, tu = [], [], []
        for _ in range(3):
            t0 = time.process_time()
            marked = embed(audio, sr, KEY, PAYLOAD)
            te.append(time.process_time() - t0)
            t0 = time.process_time()
            detect(marked, sr, KEY)
            td.append(time.process_time() - t0)
            t0 = time.process_time()
            detect(audio, sr, KEY)
            tu.append(time.process_time() - t0)
        out[f"{sr}"] = {
            "embed_xrt": LONG / float(np.median(te)),
            "detect_marked_xrt": LONG / float(np.median(td)),
            "detect_unmarked_xrt": LONG / float(np.median(tu)),
        }
    return out


def table(rows: list[dict], attacks: list[str], lengths: list[float]) -> str:
    head = f"{'attack':<14}" + "".join(f"{f'{length:g}s det/pay':>16}" for length in lengths)
    lines = [head, "-" * len(head)]
    for attack in attacks:
        cells = []
        for length in lengths:
            sel = [r for r in rows if r["attack"] == attack and r["length"] == length]
            if not sel:
                cells.append(f"{'-':>16}")
                continue
            det = np.mean([r["marked"] for r in sel])
            pay = np.mean([r["payload_ok"] for r in sel])
            cells.append(f"{f'{det:.2f}/{pay:.2f}':>16}")
        lines.append(f"{attack:<14}" + "".join(cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--workers", type=int, default=1, help="processes for the sweeps")
    parser.add_argument("--out", help="write all numbers to this JSON file")
    args = parser.parse_args()
    quick = args.quick
    t_start = time.time()
    report: dict = {"strength": DEFAULT_STRENGTH, "quick": quick}

    if quick:
        hosts = [("speech", 1), ("music", 2)]
        long_attacks = [
            "none",
            "mp3_64k",
            "opus_32k",
            "white_10db",
            "lowpass_4k",
            "highpass_1500",
            "tempo_0.95",
            "speed_1.05",
            "cut",
        ]
        short_trials, n_fpr, tpr_trials, loc_trials, n_quality = 4, 200, 12, 4, 3
    else:
        hosts = [("speech", 1), ("speech", 3), ("music", 2)]
        long_attacks = [
            a.label for a in STANDARD_ATTACKS if a.label not in ("opus_8k", "white_5db")
        ]
        short_trials, n_fpr, tpr_trials, loc_trials, n_quality = 8, 1000, 45, 20, 8
    short_attacks = ["none", "mp3_64k", "opus_32k", "white_20db"]

    print(f"quality ({n_quality} speech clips) ...", file=sys.stderr, flush=True)
    report["quality"] = quality(n_quality)
    print("speed ...", file=sys.stderr, flush=True)
    report["speed"] = speed()
    print("robustness: 60 s clips ...", file=sys.stderr, flush=True)
    rows = robustness(hosts, long_attacks, [LONG], 1, args.workers)
    print("robustness: short clips ...", file=sys.stderr, flush=True)
    rows += robustness(hosts, short_attacks, [1.0, 2.0, 3.0, 5.0, 10.0], short_trials, args.workers)
    report["robustness"] = rows
    print(f"false positives ({n_fpr} unmarked clips) ...", file=sys.stderr, flush=True)
    report["fpr"] = false_positives(n_fpr, args.workers)
    print("TPR ...", file=sys.stderr, flush=True)
    report["tpr"] = tpr([1.0, 2.0, 3.0, 5.0], tpr_trials)
    print("localisation ...", file=sys.stderr, flush=True)
    report["localisation"] = localisation(loc_trials)

    attacks_all = list(dict.fromkeys([*long_attacks, *short_attacks]))
    print(
        f"\nvoxlab watermark benchmark (strength {DEFAULT_STRENGTH}, hosts {hosts}, "
        f"{'quick' if quick else 'full'})"
    )
    print("detection rate / payload-exact rate per attack and excerpt length\n")
    print(table(rows, attacks_all, [1.0, 2.0, 3.0, 5.0, 10.0, LONG]))
    q, f, sp = report["quality"], report["fpr"], report["speed"]
    print(
        "\nquality:",
        json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in q.items()}),
    )
    print("false positives:", json.dumps(f))
    print("TPR (clean):", json.dumps(report["tpr"]))
    print("localisation:", json.dumps(report["localisation"]))
    print(
        "speed (x realtime, one core):",
        json.dumps({k: {kk: round(vv, 1) for kk, vv in v.items()} for k, v in sp.items()}),
    )

    nan = float("nan")
    s16, s44 = sp["16000"], sp["44100"]
    long_rows = [r for r in rows if r["length"] == LONG]
    failed_long = sorted({r["attack"] + "/" + r["host"] for r in long_rows if not r["payload_ok"]})

    def first_length(attack: str, key: str, need: float) -> float | None:
        for length in (1.0, 2.0, 3.0, 5.0, 10.0):
            sel = [r[key] for r in rows if r["attack"] == attack and r["length"] == length]
            if sel and np.mean(sel) >= need:
                return length
        return None

    checks = [
        (
            "quality: SNR>=30 dB or PESQ-WB>=4.4, STOI>=0.99",
            (q["snr_db"] >= 30 or q.get("pesq_wb", 0) >= 4.4) and q.get("stoi", 1) >= 0.99,
            f"SNR {q['snr_db']:.1f} dB, PESQ {q.get('pesq_wb', nan):.3f} "
            f"(min {q.get('pesq_min', nan):.2f}), STOI {q.get('stoi', nan):.4f}",
        ),
        (
            "60 s: payload exact after every attack",
            not failed_long,
            "failed: " + (", ".join(failed_long) or "none"),
        ),
        (
            "clean: detection (TPR>=0.99) from 1 s",
            report["tpr"]["1s"]["tpr@1e-3"] >= 0.99,
            "TPR@1e-3: " + ", ".join(f"{k} {v['tpr@1e-3']:.2f}" for k, v in report["tpr"].items()),
        ),
        (
            "clean: payload from <=2 s",
            (first_length("none", "payload_ok", 0.99) or 99) <= 2,
            f"payload >=0.99 from {first_length('none', 'payload_ok', 0.99)} s",
        ),
    ]
    for attack in ("mp3_64k", "opus_32k", "white_20db"):
        d, p = first_length(attack, "marked", 0.99), first_length(attack, "payload_ok", 0.99)
        checks.append(
            (
                f"{attack}: detection and payload from <=5 s",
                (d or 99) <= 5 and (p or 99) <= 5,
                f"detect from {d} s, payload from {p} s",
            )
        )
    checks += [
        (
            "empirical FPR <= 1e-3 at the default threshold",
            f["false_positives"] / f["clips"] <= 1e-3,
            f"{f['false_positives']}/{f['clips']} (bound: P(z>=3.72) <= exp(-z^2/2) = 1e-3)",
        ),
        (
            "localisation of 3 s in 20 s within +-1 s",
            report["localisation"]["found_within_1s"] >= 0.9,
            f"{report['localisation']['found_within_1s']:.2f} of {loc_trials}",
        ),
        (
            "speed: embed >=200x, detect >=20x (also unmarked)",
            sp["16000"]["embed_xrt"] >= 200
            and min(sp["16000"]["detect_marked_xrt"], sp["16000"]["detect_unmarked_xrt"]) >= 20,
            f"16 kHz: embed {s16['embed_xrt']:.0f}x, detect {s16['detect_marked_xrt']:.0f}x / "
            f"unmarked {s16['detect_unmarked_xrt']:.0f}x; 44.1 kHz: embed {s44['embed_xrt']:.0f}x, "
            f"detect {s44['detect_marked_xrt']:.0f}x",
        ),
    ]
    print("\ntargets:")
    for name, ok, detail in checks:
        print(f"  [{'MET ' if ok else 'MISS'}] {name}: {detail}")
    report["checks"] = [{"target": n, "met": bool(ok), "detail": d} for n, ok, d in checks]
    print(f"\n(wall time {time.time() - t_start:.0f} s)")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
