"""The quality table of issue 11: every installed TTS engine on the same sentences.

Runs what `voxlab quality --systems` runs: each installed engine of the TTS registry (its
default English voice, plus the --voice ENGINE:VOICE extras) speaks the first N shared
sentences; Whisper tiny.en transcribes them (WER/CER, micro-averaged) and DNSMOS predicts
their MOS. The baseline, scored in the same process with the same models, is human read
speech: the LibriVox and "cards" utterances of Debian's pocketsphinx-testdata, with their
transcripts (BSD-2, CMU). Printed per system: WER, CER, DNSMOS SIG/BAK/OVRL and P.808
(means), the median per-utterance RTF (synthesis time / audio duration, one untimed
warm-up per voice), and OVRL and WER relative to the human baseline.

    python benchmarks/quality_table.py --sentences 24
    python benchmarks/quality_table.py --sentences 20 --voice kokoro:am_adam --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from voxlab.errors import VoxlabError
from voxlab.quality.batch import QualityItem, score_items
from voxlab.quality.evaluate import QualityEvaluator, QualityOptions, summarize
from voxlab.quality.sentences import shared_sentences
from voxlab.quality.systems import compare_systems, select_systems


def human_baseline(evaluator: QualityEvaluator) -> list[dict]:
    from voxlab.data.sources import get_source

    source = get_source("pocketsphinx")
    if not source.available():
        print("(no human baseline: apt-get install -y pocketsphinx-testdata)")
        return []
    files = [f for f in source.files() if f.transcript and f.raw_rate is None]
    items = [QualityItem(f.path, "human:pocketsphinx", f.transcript) for f in files]
    return score_items(items, evaluator, progress=False)


def fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=int, default=24)
    parser.add_argument("--engine", action="append", default=None)
    parser.add_argument(
        "--voice",
        action="append",
        default=None,
        help="Extra ENGINE:VOICE (repeatable); default: festival:kal_diphone (diphone "
        "concatenation beside the default HTS voice) and kokoro:am_adam (a male Kokoro voice).",
    )
    parser.add_argument("--all-voices", action="store_true")
    parser.add_argument("--json", default=None, help="Also write all rows here.")
    args = parser.parse_args()
    if args.voice is None:
        args.voice = ["festival:kal_diphone", "kokoro:am_adam"]
    evaluator = QualityEvaluator(QualityOptions(metrics=("wer", "dnsmos")))
    choices, notes = select_systems(engines=args.engine, all_voices=args.all_voices)
    for spec in args.voice or []:
        try:
            extra, _ = select_systems(voices=[spec])
        except VoxlabError as exc:  # engine not installed here: say so, go on
            notes.append(f"{spec}: skipped ({exc})")
            continue
        choices += [c for c in extra if c not in choices]
    for note in notes:
        print(f"note: {note}")
    start = time.perf_counter()
    human = human_baseline(evaluator)

    def log(row: dict) -> None:  # one line per finished system (stderr), for long runs
        if row["sentence"] == args.sentences - 1:
            print(f"  done {row['system']} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)

    rows = compare_systems(
        choices, shared_sentences(args.sentences), evaluator, progress=False, on_row=log
    )
    seconds = time.perf_counter() - start
    table = summarize(human + rows)
    base = table[0] if human else None
    header = (
        f"{'system':34} {'family':11} {'utts':>4} {'WER':>6} {'CER':>6} {'SIG':>5} {'BAK':>5} "
        f"{'OVRL':>5} {'P808':>5} {'RTF med':>8} {'OVRL/hum':>8} {'WER-hum':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in table:
        rtfs = [r["rtf"] for r in rows if r["system"] == row["system"] and r.get("rtf")]
        rtf = statistics.median(rtfs) if rtfs else None
        ratio = row["dnsmos_ovrl"] / base["dnsmos_ovrl"] if base and row["dnsmos_ovrl"] else None
        delta = row["wer"] - base["wer"] if base and row["wer"] is not None else None
        print(
            f"{row['system']:34} {row.get('family', 'human' if row is base else ''):11} "
            f"{row['files'] - row['failed']:>4} {fmt(row['wer'], '6.3f')} "
            f"{fmt(row['cer'], '6.3f')} {fmt(row['dnsmos_sig'], '5.2f')} "
            f"{fmt(row['dnsmos_bak'], '5.2f')} {fmt(row['dnsmos_ovrl'], '5.2f')} "
            f"{fmt(row['dnsmos_p808'], '5.2f')} {fmt(rtf, '8.4f')} {fmt(ratio, '8.2f')} "
            f"{fmt(delta, '+8.3f')}"
        )
    failed = [r for r in rows if r["status"] != "ok"]
    for row in failed:
        print(f"failed: {row['error']}")
    print(
        f"{len(choices)} systems x {args.sentences} sentences; baseline: "
        f"{len(human)} human utterances (pocketsphinx-testdata); Whisper tiny.en beam 5, "
        f"DNSMOS P.835; {seconds:.0f} s"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump({"systems": table, "files": human + rows}, fh, indent=2, default=str)


if __name__ == "__main__":
    main()
