"""Watermark benchmark: robustness, quality, false positives, localisation and speed.

Robustness is measured per attack x clip length, for the masking-model mark (the default)
and, in the same run, the fixed-strength mark of earlier versions (``masking=False``), and
for the 128-bit payload format; quality as SNR, PESQ-WB and STOI on speech and on
music-like hosts; the trade-off curve SNR vs 1-s detection rate over strengths; the
unmarked score's mean and sd on >= 1,000 unmarked clips (with the TPR at 1e-3 and 1e-6);
each figure is printed beside its target (MET / MISS).

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

Targets: SNR >= 30 dB on speech and music-like hosts at robustness no worse than the
fixed-strength mark; STOI >= 0.98 on music-like hosts; unmarked score mean within +-0.1
and sd 0.9-1.1; detection of clean 1-s excerpts >= 0.99; payload exact after every attack
on 60 s; localisation within +-1 s; embed >= 200x and detect >= 20x real time.
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
PAYLOAD_128 = 0x5EED1234_0123456789ABCDEF_C0FFEE42
LONG = 60.0
#: Variants compared in the robustness table: the masking-model mark (default), the
#: fixed-strength mark of earlier versions, the 128-bit payload format, and the quiet mark
#: (the masking model at ``--strength 0.35``, where the trade-off curve crosses 30 dB SNR,
#: audiowmark's operating point).
VARIANTS = ("masking", "fixed", "bits128", "quiet")
QUIET_STRENGTH = 0.35


@dataclass(frozen=True)
class Job:
    """One robustness cell: a host clip, an attack, an excerpt length, a trial."""

    host: str
    seed: int
    attack: str
    length: float
    trial: int
    variant: str = "masking"


def host_audio(kind: str, seed: int, seconds: float = LONG) -> np.ndarray:
    """A host clip of ``seconds`` (speech or music-like)."""
    return speech(seconds, seed=seed) if kind == "speech" else music_like(seconds, seed=seed)


_CACHE: dict[tuple[str, int, str], np.ndarray] = {}


def expected_payload(variant: str) -> str:
    return f"{PAYLOAD_128:032x}" if variant == "bits128" else f"{PAYLOAD:08x}"


def marked_host(kind: str, seed: int, variant: str = "masking") -> np.ndarray:
    """The 60 s host, watermarked at the default strength (cached per process)."""
    if (kind, seed, variant) not in _CACHE:
        x = host_audio(kind, seed)
        if variant == "bits128":
            y = embed(x, SR, KEY, PAYLOAD_128, bits=128)
        elif variant == "quiet":
            y = embed(x, SR, KEY, PAYLOAD, strength=QUIET_STRENGTH)
        else:
            y = embed(x, SR, KEY, PAYLOAD, masking=variant == "masking")
        _CACHE[(kind, seed, variant)] = y
    return _CACHE[(kind, seed, variant)]


def run_job(job: Job) -> dict:
    """Cut, attack and detect one excerpt."""
    marked = marked_host(job.host, job.seed, job.variant)
    rng = np.random.default_rng(hash((job.seed, job.attack, job.length, job.trial)) % 2**32)
    n = int(job.length * SR)
    start = int(rng.integers(0, max(1, marked.size - n)))
    clip = marked[start : start + n]
    attacked = get_attack(job.attack)(clip, SR)
    result = detect(attacked, SR, KEY)
    want = expected_payload(job.variant)
    return {
        "variant": job.variant,
        "host": job.host,
        "attack": job.attack,
        "length": job.length,
        "marked": bool(result.marked),
        "payload_ok": result.payload == want,
        "wrong_payload": bool(result.crc_ok and result.payload != want),
        "score": result.score,
    }


def robustness(
    hosts: list[tuple[str, int]],
    attacks: list[str],
    lengths: list[float],
    trials: int,
    workers: int,
    variant: str = "masking",
):
    jobs = [
        Job(h, s, a, length, t, variant)
        for h, s in hosts
        for a in attacks
        for length in lengths
        for t in range(trials if length < LONG else 1)
    ]
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            return list(pool.map(run_job, jobs, chunksize=4))
    return [run_job(j) for j in jobs]


def _snr(x: np.ndarray, y: np.ndarray) -> float:
    noise = float(np.sum((y - x).astype(np.float64) ** 2))
    return 10 * math.log10(float(np.sum(x.astype(np.float64) ** 2)) / noise)


def quality(n: int) -> dict:
    """SNR, PESQ-WB and STOI on speech and music-like clips: masking mark vs fixed mark."""
    try:
        from pesq import pesq
        from pystoi import stoi
    except ImportError:
        pesq = stoi = None
    out: dict = {}
    for kind in ("speech", "music"):
        hosts = [
            speech(10.0, seed=100 + i) if kind == "speech" else music_like(10.0, seed=100 + i)
            for i in range(n)
        ]
        for variant in ("masking", "fixed", "quiet"):
            snr, pq, st = [], [], []
            for x in hosts:
                strength = QUIET_STRENGTH if variant == "quiet" else DEFAULT_STRENGTH
                y = embed(x, SR, KEY, PAYLOAD, strength=strength, masking=variant != "fixed")
                snr.append(_snr(x, y))
                if pesq is not None:
                    pq.append(float(pesq(SR, x, y, "wb")))
                    st.append(float(stoi(x, y, SR, extended=False)))
            row = {"clips": n, "snr_db": float(np.mean(snr)), "snr_min": float(np.min(snr))}
            if pq:
                row.update(
                    pesq_wb=float(np.mean(pq)),
                    pesq_min=float(np.min(pq)),
                    stoi=float(np.mean(st)),
                    stoi_min=float(np.min(st)),
                )
            out[f"{kind}/{variant}"] = row
    return out


def tradeoff(strengths: list[float], trials: int) -> list[dict]:
    """SNR vs detection rate of 1-s excerpts (clean and after MP3 64k) over strengths.

    Hosts: 20 s of speech and of music-like signal; each point embeds them at one strength
    (masking model; the fixed-strength mark at strength 1 for comparison).
    """
    hosts = [speech(20.0, seed=31), music_like(20.0, seed=32)]
    points = [("masking", s) for s in strengths] + [("fixed", 1.0)]
    rows = []
    for variant, strength in points:
        marked = [
            embed(x, SR, KEY, PAYLOAD, strength=strength, masking=variant == "masking")
            for x in hosts
        ]
        snr = [_snr(x, y) for x, y in zip(hosts, marked)]
        rng = np.random.default_rng(7)
        hits = {"none": [], "mp3_64k": []}
        for t in range(trials):
            y = marked[t % 2]
            start = int(rng.integers(0, y.size - SR))
            clip = y[start : start + SR]
            for attack in hits:
                hits[attack].append(detect(get_attack(attack)(clip, SR), SR, KEY).marked)
        rows.append(
            {
                "variant": variant,
                "strength": strength,
                "snr_speech": snr[0],
                "snr_music": snr[1],
                "det_1s": float(np.mean(hits["none"])),
                "det_1s_mp3": float(np.mean(hits["mp3_64k"])),
            }
        )
    return rows


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
    # digital silence has no evidence at all: its score is 0 by definition, not a draw
    # from the null, so the null's mean and sd are taken over the clips with a signal
    live = np.array([r[1] for r in rows if r[0] != "digital_silence"])
    kinds = sorted({r[0] for r in rows})
    return {
        "clips": n,
        "false_positives": int(sum(r[2] for r in rows)),
        "crc_false_accepts": int(sum(r[3] for r in rows)),
        "score_mean": float(live.mean()),
        "score_std": float(live.std()),
        "clips_with_signal": int(live.size),
        "score_mean_all": float(scores.mean()),
        "score_std_all": float(scores.std()),
        "per_kind_mean": {
            k: round(float(np.mean([r[1] for r in rows if r[0] == k])), 3) for k in kinds
        },
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


def print_quality(q: dict) -> None:
    print(f"\nquality (10-s clips; default strength, quiet = {QUIET_STRENGTH}):", flush=True)
    for name, row in q.items():
        print(
            f"  {name:<16}",
            json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}),
            flush=True,
        )


def print_tradeoff(rows: list[dict]) -> None:
    print("\ntrade-off: SNR (dB) vs detection rate of 1-s excerpts (clean / after MP3 64k)")
    print(
        f"  {'mark':<8}{'strength':>9}{'SNR speech':>12}{'SNR music':>11}"
        f"{'det 1 s':>9}{'det mp3':>9}"
    )
    for r in rows:
        print(
            f"  {r['variant']:<8}{r['strength']:>9.2f}{r['snr_speech']:>12.1f}"
            f"{r['snr_music']:>11.1f}{r['det_1s']:>9.2f}{r['det_1s_mp3']:>9.2f}",
            flush=True,
        )


SECTIONS = ("quality", "tradeoff", "robustness", "null")


def partial(args: argparse.Namespace, report: dict, sizes: dict) -> int:
    """Run only the sections named in ``--sections``, printing each as soon as it is done.

    For a busy machine: the full run needs ~700 CPU-s. The targets are only checked by a
    full run.
    """
    for name in args.sections.split(","):
        if name not in SECTIONS:
            raise SystemExit(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}")
    t0 = time.process_time()
    for name in args.sections.split(","):
        if name == "quality":
            report["quality"] = quality(sizes["n_quality"])
            print_quality(report["quality"])
        elif name == "tradeoff":
            report["tradeoff"] = tradeoff([0.35, 0.5, 0.7, 1.0, 1.4], sizes["curve_trials"])
            print_tradeoff(report["tradeoff"])
        elif name == "null":
            report["fpr"] = false_positives(sizes["n_fpr"], args.workers)
            print("\nunmarked scores:", json.dumps(report["fpr"]), flush=True)
        elif name == "robustness":
            rows = []
            for variant in ("masking", "fixed", "quiet"):
                rows += robustness(
                    [("speech", 1), ("music", 2)],
                    ["none", "mp3_64k", "opus_32k", "white_20db"],
                    [1.0, 2.0, 3.0, 5.0],
                    sizes["short_trials"],
                    args.workers,
                    variant,
                )
            report["robustness"] = rows
            for variant in ("masking", "fixed", "quiet"):
                print(f"\n{variant} mark: detection / payload-exact rate")
                print(
                    table(
                        [r for r in rows if r["variant"] == variant],
                        ["none", "mp3_64k", "opus_32k", "white_20db"],
                        [1.0, 2.0, 3.0, 5.0],
                    ),
                    flush=True,
                )
        print(
            f"({name} done; {time.process_time() - t0:.0f} CPU-s so far, load average "
            f"{os.getloadavg()[0]:.2f})",
            flush=True,
        )
    print("\npartial run (--sections): targets are checked by a full run only")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1, default=float)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--workers", type=int, default=1, help="processes for the sweeps")
    parser.add_argument("--out", help="write all numbers to this JSON file")
    parser.add_argument(
        "--fpr-clips", type=int, help="unmarked clips for the null (default 200 quick, 1000)"
    )
    parser.add_argument(
        "--sections",
        help=f"run only these, comma-separated ({', '.join(SECTIONS)}): for a busy machine",
    )
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
        short_trials, n_fpr, tpr_trials, loc_trials, n_quality, curve_trials = 4, 200, 12, 4, 3, 24
    else:
        hosts = [("speech", 1), ("speech", 3), ("music", 2)]
        long_attacks = [
            a.label for a in STANDARD_ATTACKS if a.label not in ("opus_8k", "white_5db")
        ]
        short_trials, n_fpr, tpr_trials, loc_trials, n_quality, curve_trials = (
            8,
            1000,
            45,
            20,
            8,
            60,
        )
    n_fpr = args.fpr_clips or n_fpr
    if args.sections:
        sizes = {
            "n_quality": n_quality,
            "curve_trials": curve_trials,
            "n_fpr": n_fpr,
            "short_trials": short_trials,
        }
        return partial(args, report, sizes)
    short_attacks = ["none", "mp3_64k", "opus_32k", "white_20db"]
    lengths = [1.0, 2.0, 3.0, 5.0, 10.0]

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    log(f"quality ({n_quality} speech + {n_quality} music-like clips) ...")
    report["quality"] = quality(n_quality)
    log("trade-off curve (SNR vs 1-s detection) ...")
    report["tradeoff"] = tradeoff([0.35, 0.5, 0.7, 1.0, 1.4], curve_trials)
    log("speed ...")
    report["speed"] = speed()
    rows: list[dict] = []
    for variant in ("masking", "fixed", "quiet"):
        log(f"robustness ({variant}): 60 s clips ...")
        rows += robustness(hosts, long_attacks, [LONG], 1, args.workers, variant)
        log(f"robustness ({variant}): short clips ...")
        rows += robustness(hosts, short_attacks, lengths, short_trials, args.workers, variant)
    log("robustness (128-bit payload) ...")
    rows += robustness(
        hosts,
        ["none", "mp3_64k", "opus_32k"],
        [3.0, 5.0, 10.0, LONG],
        short_trials,
        args.workers,
        "bits128",
    )
    report["robustness"] = rows
    log(f"false positives ({n_fpr} unmarked clips) ...")
    report["fpr"] = false_positives(n_fpr, args.workers)
    log("TPR ...")
    report["tpr"] = tpr([1.0, 2.0, 3.0, 5.0], tpr_trials)
    log("localisation ...")
    report["localisation"] = localisation(loc_trials)

    attacks_all = list(dict.fromkeys([*long_attacks, *short_attacks]))
    print(
        f"\nvoxlab watermark benchmark (strength {DEFAULT_STRENGTH}, hosts {hosts}, "
        f"{'quick' if quick else 'full'})"
    )
    by = {v: [r for r in rows if r["variant"] == v] for v in VARIANTS}
    titles = {
        "masking": "masking-model mark (default, now)",
        "fixed": "fixed-strength mark (masking=False: the mark before the masking model)",
        "bits128": "128-bit payload (masking model)",
        "quiet": f"quiet mark (--strength {QUIET_STRENGTH}: SNR >= 30 dB, audiowmark's level)",
    }
    for variant in VARIANTS:
        print(f"\n{titles[variant]}: detection rate / payload-exact rate per attack and length\n")
        attacks = attacks_all if variant != "bits128" else ["none", "mp3_64k", "opus_32k"]
        print(table(by[variant], attacks, [*lengths, LONG]))
    worse = []
    for attack in attacks_all:
        for length in [*lengths, LONG]:
            cells = []
            for variant in ("masking", "fixed"):
                sel = [r for r in by[variant] if r["attack"] == attack and r["length"] == length]
                if sel:
                    cells.append(
                        (
                            np.mean([r["marked"] for r in sel]),
                            np.mean([r["payload_ok"] for r in sel]),
                        )
                    )
            if len(cells) == 2 and (cells[0][0] < cells[1][0] or cells[0][1] < cells[1][1]):
                worse.append(
                    f"{attack}@{length:g}s {cells[0][0]:.2f}/{cells[0][1]:.2f} "
                    f"vs {cells[1][0]:.2f}/{cells[1][1]:.2f}"
                )
    q, f, sp = report["quality"], report["fpr"], report["speed"]
    print_quality(q)
    print_tradeoff(report["tradeoff"])
    print("\nunmarked scores:", json.dumps(f))
    print("TPR (clean):", json.dumps(report["tpr"]))
    print("localisation:", json.dumps(report["localisation"]))
    print(
        "speed (x realtime, one core):",
        json.dumps({k: {kk: round(vv, 1) for kk, vv in v.items()} for k, v in sp.items()}),
    )

    nan = float("nan")
    s16, s44 = sp["16000"], sp["44100"]
    main_rows = by["masking"]
    long_rows = [r for r in main_rows if r["length"] == LONG]
    failed_long = sorted({r["attack"] + "/" + r["host"] for r in long_rows if not r["payload_ok"]})

    def first_length(attack: str, key: str, need: float, variant: str = "masking") -> float | None:
        for length in (1.0, 2.0, 3.0, 5.0, 10.0, LONG):
            sel = [r[key] for r in by[variant] if r["attack"] == attack and r["length"] == length]
            if sel and np.mean(sel) >= need:
                return length
        return None

    qs, qm = q["speech/masking"], q["music/masking"]
    checks = [
        (
            "quality: SNR >= 30 dB on speech and music-like hosts",
            qs["snr_db"] >= 30 and qm["snr_db"] >= 30,
            f"speech {qs['snr_db']:.1f} dB (fixed mark {q['speech/fixed']['snr_db']:.1f}), "
            f"music-like {qm['snr_db']:.1f} dB (fixed mark {q['music/fixed']['snr_db']:.1f})",
        ),
        (
            "quality: STOI >= 0.98 on music-like hosts",
            qm.get("stoi", 0) >= 0.98,
            f"STOI {qm.get('stoi', nan):.4f} (fixed mark {q['music/fixed'].get('stoi', nan):.4f}); "
            f"PESQ-WB speech {qs.get('pesq_wb', nan):.3f} (fixed "
            f"{q['speech/fixed'].get('pesq_wb', nan):.3f}), music "
            f"{qm.get('pesq_wb', nan):.3f} (fixed {q['music/fixed'].get('pesq_wb', nan):.3f})",
        ),
        (
            "robustness no worse than the fixed-strength mark in any table cell",
            not worse,
            "worse cells (masking vs fixed, det/pay): " + ("; ".join(worse) or "none"),
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
        (
            "128-bit payload: exact from <=10 s (clean)",
            (first_length("none", "payload_ok", 0.99, "bits128") or 99) <= 10,
            f"clean from {first_length('none', 'payload_ok', 0.99, 'bits128')} s, "
            f"mp3_64k from {first_length('mp3_64k', 'payload_ok', 0.99, 'bits128')} s",
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
            "unmarked score: mean within +-0.1, sd 0.9-1.1",
            abs(f["score_mean"]) <= 0.1 and 0.9 <= f["score_std"] <= 1.1,
            f"mean {f['score_mean']:.3f}, sd {f['score_std']:.3f} over {f['clips_with_signal']} "
            f"clips with a signal (digital silence scores 0: no evidence)",
        ),
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
    print(f"\n(wall time {time.time() - t_start:.0f} s; load average {os.getloadavg()})")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(report, handle, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())
