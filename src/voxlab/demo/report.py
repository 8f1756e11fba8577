"""The demo's ``report.md``: tables, intervals, calibrated verdicts and figures.

Corpus and run as tables, results with trial counts and 95 % intervals, calibrated
verdicts, per-attack EERs, DET plot, histograms and a spectrogram gallery.

Images are kept small (palette PNGs at screen resolution; under 300 KB together).
"""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.demo.models import C_FA, C_MISS, P_SPOOF, SystemScores
from voxlab.demo.stats import Interval, bootstrap_eer, wilson_interval
from voxlab.evaluation.dcf import DcfCostModel, min_dcf
from voxlab.evaluation.metrics import cllr

COST = DcfCostModel(p_spoof=P_SPOOF, c_miss=C_MISS, c_fa=C_FA)
#: Bootstrap resamples of the pooled EER and of each per-attack EER.
N_BOOT, N_BOOT_ATTACK = 1000, 300


def _split(system: SystemScores) -> tuple[np.ndarray, np.ndarray]:
    keys = system.keys
    return system.scores[keys == "bonafide"], system.scores[keys == "spoof"]


def system_metrics(system: SystemScores) -> dict[str, Any]:
    """EER with its interval, minDCF, Cllr and the verdict error rates of one system."""
    bona, spoof = _split(system)
    out: dict[str, Any] = {
        "n_bonafide": int(bona.size),
        "n_spoof": int(spoof.size),
        "eer": bootstrap_eer(bona, spoof, n_boot=N_BOOT),
        "min_dcf": min_dcf(bona, spoof, cost=COST).dcf,
    }
    llr = system.llr()
    if llr is not None:
        keys = system.keys
        lb, ls = llr[keys == "bonafide"], llr[keys == "spoof"]
        thr = COST.bayes_threshold
        out["rule"] = f"calibrated, Bayes threshold at P(spoof) = {P_SPOOF}"
        out["cllr"] = cllr(lb, ls)
        called, missed = int(np.sum(lb < thr)), int(np.sum(ls >= thr))
    elif system.threshold is not None:
        out["rule"] = f"default threshold {system.threshold:g} (ASVspoof operating point)"
        out["cllr"] = None
        called = int(np.sum(bona < system.threshold))
        missed = int(np.sum(spoof >= system.threshold))
    else:
        return out
    out["called_spoof"] = wilson_interval(called, bona.size)
    out["missed"] = wilson_interval(missed, spoof.size)
    out["called_k"], out["missed_k"] = called, missed
    return out


def per_attack(system: SystemScores) -> dict[str, Interval]:
    """EER of all bona fide trials against each attack's trials, with intervals."""
    bona, _ = _split(system)
    attacks = system.attacks
    out = {}
    for attack in sorted(set(attacks[system.keys == "spoof"].tolist())):
        spoof = system.scores[(system.keys == "spoof") & (attacks == attack)]
        out[attack] = bootstrap_eer(bona, spoof, n_boot=N_BOOT_ATTACK)
    return out


def explain_eer(name: str, eer: Interval) -> str | None:
    """A sentence for an EER above 50 %, or None."""
    if eer.value <= 0.5:
        return None
    chance = (
        " (its interval includes 50 %: not distinguishable from chance)" if eer.low <= 0.5 else ""
    )
    return (
        f"**{name}: EER {100 * eer.value:.1f} % is above 50 %**{chance}. A detector that "
        "guesses scores 50 %; above it, the scores point the wrong way on this corpus: the "
        "model rates these spoofs as *more* bona fide than these human recordings (reading "
        f"its score with the opposite sign would give {100 * (1 - eer.value):.1f} %). That is "
        "systematic, not noise: the cues it learned from its training data (for the "
        "ASVspoof 2019 models, clean studio read speech as bona fide) do not hold for "
        "telephone prompts, game dialogue and codec/noise channels, where the human "
        "recordings look more 'unusual' to it than vocoded copies of themselves."
    )


def _table(header: list[str], rows: list[list[str]], align_right_from: int = 1) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append(
        "|" + "|".join("---" if i < align_right_from else "---:" for i in range(len(header))) + "|"
    )
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return [*lines, ""]


def corpus_tables(corpus: Path, attack_names: dict[str, tuple[str, str]], trained: set[str]):
    """Markdown lines describing the corpus: splits, human sources, spoofing systems."""
    from voxlab.data.manifest import read_manifest

    utts = read_manifest(corpus / "manifest.jsonl")
    lines = ["| split | speakers | bona fide | spoof | human sources |", "|---|---:|---:|---:|---|"]
    for split in ("train", "dev", "eval"):
        part = [u for u in utts if u.split == split]
        bona = [u for u in part if u.key == "bonafide"]
        sources = sorted({str(u.extra.get("source")) for u in bona})
        lines.append(
            f"| {split} | {len({u.speaker for u in bona})} | {len(bona)} | "
            f"{len(part) - len(bona)} | {', '.join(sources)} |"
        )
    lines += ["", "Human sources (bona fide): real recordings shipped by Debian packages.", ""]
    by_source: dict[str, dict[str, Any]] = {}
    for u in utts:
        if u.key != "bonafide":
            continue
        info = by_source.setdefault(
            str(u.extra.get("source")),
            {
                "package": u.extra.get("source_package", "?"),
                "language": u.extra.get("language", "?"),
                "licence": u.extra.get("source_licence", "?"),
                "splits": Counter(),
            },
        )
        info["splits"][u.split] += 1
    rows = []
    for source, info in sorted(by_source.items()):
        splits = ", ".join(f"{s} {n}" for s, n in sorted(info["splits"].items()))
        rows.append([source, str(info["package"]), str(info["language"]), str(info["licence"]),
                     splits])  # fmt: skip
    lines += _table(["source", "package (version)", "language", "licence", "utterances"], rows, 9)
    counts = Counter((u.split, u.attack) for u in utts if u.key == "spoof")
    rows = []
    for attack in sorted({a for _, a in counts}):
        name, kind = attack_names.get(attack, (attack, "?"))
        seen = "yes" if attack in trained else "no (unseen)"
        rows.append([attack, name, kind, seen, str(counts.get(("train", attack), 0)),
                     str(counts.get(("eval", attack), 0))])  # fmt: skip
    lines += ["Spoofing systems:", ""]
    lines += _table(["id", "system", "kind", "in training", "train files", "eval trials"], rows, 4)
    return lines


def results_lines(systems: list[SystemScores], metrics: dict[str, dict]) -> list[str]:
    """The results, verdict and per-attack tables with their notes."""
    rows = []
    for s in systems:
        m = metrics[s.name]
        rows.append([
            s.name, s.origin, "–" if s.parameters is None else f"{s.parameters:,}",
            f"{m['n_bonafide']} + {m['n_spoof']}", m["eer"].percent(), f"{m['min_dcf']:.3f}",
            "–" if m.get("cllr") is None else f"{m['cllr']:.3f}",
        ])  # fmt: skip
    lines = _table(
        ["model", "origin", "parameters", "eval trials (bona fide + spoof)",
         "EER % [95 % CI]", "minDCF", "Cllr (calibrated)"], rows, 2,
    )  # fmt: skip
    lines += [
        "EER intervals: stratified bootstrap (bona fide and spoof trials resampled "
        f"separately, {N_BOOT} resamples, percentile 95 %). minDCF and the verdicts use the "
        f"ASVspoof 5 costs (P(spoof) = {P_SPOOF}, C_miss = {C_MISS:g}, C_fa = {C_FA:g}). "
        "Cllr is given for calibrated scores only.",
        "",
    ]
    lines += [f"- **{s.name}**: {s.note}" for s in systems]
    lines += [""]
    notes = [explain_eer(s.name, metrics[s.name]["eer"]) for s in systems]
    lines += [n for note in notes if note for n in (note, "")]
    lines += ["## Verdicts: real speech called spoof, spoofs missed", ""]
    rows = []
    for s in systems:
        m = metrics[s.name]
        if "rule" not in m:
            continue
        rows.append([
            s.name, m["rule"] + (f"; {s.calibration_source}" if s.calibration_source else ""),
            f"{m['called_spoof'].percent()} ({m['called_k']}/{m['n_bonafide']})",
            f"{m['missed'].percent()} ({m['missed_k']}/{m['n_spoof']})",
        ])  # fmt: skip
    lines += _table(
        ["model", "decision rule", "bona fide called spoof % [95 % CI]",
         "spoof missed % [95 % CI]"], rows, 2,
    )  # fmt: skip
    lines += [
        "Intervals: Wilson score intervals of the two error proportions. The published "
        "models' default thresholds are their ASVspoof operating points, not a calibration "
        "for other recordings; a calibrated verdict uses the model's calibration "
        "(`voxlab calibrate`) at the Bayes threshold of the stated prior.",
        "",
    ]
    return lines


def attack_lines(systems: list[SystemScores], by_attack: dict[str, dict[str, Interval]]):
    """Per-attack EER table (rows: attacks; columns: models) with trial counts."""
    attacks = sorted({a for d in by_attack.values() for a in d})
    rows = []
    for attack in attacks:
        n = next((d[attack].n for d in by_attack.values() if attack in d), 0)
        cells = [by_attack[s.name][attack].percent(0) if attack in by_attack[s.name] else "–"
                 for s in systems]  # fmt: skip
        rows.append([attack, str(n), *cells])
    n_bona = next(iter(by_attack.values()), {})
    lines = _table(["attack", "trials", *[f"{s.name} EER %" for s in systems]], rows, 1)
    first = next(iter(n_bona.values()), None)
    if first is not None:
        lines += [
            "Each row: every eval bona fide trial against that attack's trials (the trials "
            "column counts both); [95 % CI] from a stratified bootstrap of "
            f"{N_BOOT_ATTACK} resamples. With this few trials per attack the intervals are "
            "wide: read differences between rows with them.",
            "",
        ]
    return lines


def write_csv(path: Path, systems: list[SystemScores], metrics: dict[str, dict]) -> Path:
    """Machine-readable results (fractions, not percents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["model", "origin", "parameters", "n_bonafide", "n_spoof", "eer",
                     "eer_low", "eer_high", "min_dcf", "cllr_calibrated", "decision_rule",
                     "bonafide_called_spoof", "spoof_missed"])  # fmt: skip
    for s in systems:
        m = metrics[s.name]
        writer.writerow([
            s.name, s.origin, s.parameters, m["n_bonafide"], m["n_spoof"],
            round(m["eer"].value, 6), round(m["eer"].low, 6), round(m["eer"].high, 6),
            round(m["min_dcf"], 6), "" if m.get("cllr") is None else round(m["cllr"], 6),
            m.get("rule", ""),
            "" if "called_spoof" not in m else round(m["called_spoof"].value, 6),
            "" if "missed" not in m else round(m["missed"].value, 6),
        ])  # fmt: skip
    path.write_text(buffer.getvalue())
    return path


def shrink_png(path: Path, *, colours: int = 96) -> Path:
    """Re-save a PNG with a palette (a few times smaller; figures have few colours)."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    tmp = path.with_name(path.stem + ".part.png")
    small.save(tmp, optimize=True)
    os.replace(tmp, path)
    return path


def figures(out: Path, systems: list[SystemScores], corpus: Path) -> list[str]:
    """DET plot, score histograms and the gallery; Markdown lines that show them."""
    from voxlab.evaluation.comparison import plot_score_histograms, system_from_scores
    from voxlab.evaluation.metrics import det_curve
    from voxlab.evaluation.plots import plot_det

    curves = {}
    for s in systems:
        bona, spoof = _split(s)
        eer = 100 * bootstrap_eer(bona, spoof, n_boot=1).value
        curves[f"{s.name}: EER {eer:.1f} % ({bona.size} bona fide, {spoof.size} spoof)"] = (
            det_curve(bona, spoof)
        )
    plot_det(curves, out / "det.png", title="DET curves (eval split)", limits=(0.001, 0.99))
    results = [
        system_from_scores(s.name, s.scores, s.keys, s.attacks, score_label=s.score_label)
        for s in systems
    ]
    plot_score_histograms(results, out / "histograms.png")
    lines = [
        "![DET curves](det.png)",
        "",
        "DET curves on normal-deviate axes up to 99 % (a curve above the dotted diagonal is "
        "worse than chance). Legend: EER and trial counts.",
        "",
        "![Score histograms](histograms.png)",
        "",
        "Score histograms per model (y: density of trials; x: the model's score: the bona "
        "fide logit of the neural models, the log-likelihood ratio (LLR) of the GMM); the "
        "dashed line is the EER threshold.",
        "",
    ]
    gallery = spectrogram_gallery(corpus, out / "gallery.png")
    if gallery is not None:
        lines += ["## One human recording and its spoofs", "",
                  "![Spectrogram gallery](gallery.png)", "", gallery, ""]  # fmt: skip
    for name in ("det.png", "histograms.png", "gallery.png"):
        if (out / name).is_file():
            shrink_png(out / name)
    return lines


def spectrogram_gallery(corpus: Path, path: Path, *, max_panels: int = 7) -> str | None:
    """Spectrograms of one eval bona fide utterance and its spoofs; returns a caption."""
    from voxlab.audio import load
    from voxlab.data.manifest import read_manifest
    from voxlab.plots import spectrogram_gallery as draw

    utts = [u for u in read_manifest(corpus / "manifest.jsonl") if u.split == "eval"]
    bona = {u.utt_id: u for u in utts if u.key == "bonafide"}
    spoofs: dict[str, list] = {}
    for u in utts:
        source = (u.extra.get("params") or {}).get("source_utt")
        if u.key == "spoof" and source in bona:
            spoofs.setdefault(source, []).append(u)
    if not spoofs:
        return None

    def rank(utt_id: str) -> tuple:
        kinds = {u.attack for u in spoofs[utt_id]}
        neural = any(a in kinds for a in ("V09", "V16", "W02", "W03", "W04"))
        return (neural, len(kinds), utt_id)

    chosen = max(spoofs, key=rank)
    items = sorted(spoofs[chosen], key=lambda u: u.attack)[: max_panels - 1]
    b = bona[chosen]
    panels = [(f"bona fide: {b.extra.get('source')} ({b.extra.get('channel')})",
               load(b.path)[0])]  # fmt: skip
    for u in items:
        panels.append((f"{u.attack} ({u.extra.get('channel')})", load(u.path)[0]))
    draw(panels, sample_rate=16000, path=path,
         title=f"Eval utterance {chosen} and its spoofs")  # fmt: skip
    return (
        f"Spectrograms (dB, one colour scale) of eval utterance {chosen} "
        f"({b.extra.get('source')}, a real recording) and of its spoofs; the channel "
        "condition of each file is in brackets (both classes pass through the same "
        "channels, so the channel does not tell them apart)."
    )


def _model_dirs() -> str:
    """Where catalogue checkpoints were looked up (``make`` sets ``VOXLAB_MODEL_DIR``)."""
    from voxlab.pretrained import cache_dir

    model_dir = os.environ.get("VOXLAB_MODEL_DIR")
    first = f"`$VOXLAB_MODEL_DIR` = `{model_dir}`, then " if model_dir else ""
    return (
        f"{first}the cache `{cache_dir()}` (a shell without `VOXLAB_MODEL_DIR` finds only the "
        "cache: export it, or `voxlab models pull NAME`)"
    )


def write_report(
    out: Path,
    corpus: Path,
    systems: list[SystemScores],
    result,
    *,
    config,
    load: tuple[float, float],
    cores: int,
    missing: dict[str, str],
) -> Path:
    """Write ``report.md``, ``report.csv`` and the figures into ``out``."""
    from voxlab.generation.attacks import get_attack

    metrics = {s.name: system_metrics(s) for s in systems}
    by_attack = {s.name: per_attack(s) for s in systems}
    attack_ids = sorted({*config.attacks, *config.eval_attacks})
    names = {a: (get_attack(a).name, get_attack(a).kind) for a in attack_ids}
    n_bona = sum(metrics[s.name]["n_bonafide"] for s in systems[:1])
    size = result.size
    settings = [
        ["size", size.name],
        ["utterances per human speaker", str(size.per_speaker)],
        ["recordings prepared per speaker",
         "all" if size.prepare_per_speaker is None else str(size.prepare_per_speaker)],
        ["AASIST-L training", f"{size.epochs} epoch(s) of "
         + (f"at most {size.train_steps} batches of 16" if size.train_steps else "all files")
         + f", {size.crop_seconds:g}-s crops"],
        ["GMM components (per class)", str(size.gmm_components)],
        ["training systems", ", ".join(config.attacks)],
        ["eval systems", ", ".join(config.eval_attacks)],
        ["human sources held out (eval only)", ", ".join(config.heldout_sources) or "none"],
        ["channels (both classes)", ", ".join(config.channels)],
        ["seed", str(config.seed)],
        ["checkpoints looked up in", _model_dirs()],
        ["machine", f"{cores} CPU core(s); load average {load[0]:.1f} at start, "
                    f"{load[1]:.1f} before the report"],
        ["cost so far", f"{result.timings.get('total', 0) / 60:.1f} min wall, "
                        f"{result.cpu_seconds / 60:.1f} CPU-min"],
    ]  # fmt: skip
    lines = [
        "# voxlab demo report: real human speech against today's spoofs",
        "",
        f"**What was measured.** Bona fide = {n_bona} eval trials of *real human speech* "
        "(recordings shipped by Debian packages: read sentences, telephone prompts, game "
        "dialogue, Mandarin syllables; table below). Spoof = copies and imitations of them: "
        "copy-synthesis with WORLD, Griffin-Lim and LPC vocoders, WORLD voice conversion, "
        "and text-to-speech (neural: Piper VITS, Kokoro-82M; classic: festival; espeak-ng in "
        "training only). Both classes pass through the same channels (telephone band, MP3, "
        "AAC, Opus, noise, reverberation). The eval split holds speakers, human sources and "
        "spoofing systems never seen in training. The corpus is small, so every number "
        "comes with its trial counts and a 95 % interval.",
        "",
        "## Run",
        "",
        *_table(["setting", "value"], settings, 9),
        "## Corpus (voxlab-wild, built by `voxlab corpus make --wild`'s builder)",
        "",
        f"Folder: `{corpus}` (its `README.md` and `manifest.jsonl` give every file's provenance).",
        "",
        *corpus_tables(corpus, names, set(config.attacks)),
    ]
    if missing:
        lines += [
            "Sources not installed here (left out): "
            + ", ".join(f"{n} (`{p}`)" for n, p in sorted(missing.items()))
            + "; `make data` installs them.",
            "",
        ]
    if result.left_out:
        lines += ["Spoofing systems left out (their engine is not installed here):", ""]
        lines += [f"- {a}: {why}" for a, why in sorted(result.left_out.items())] + [""]
    if result.failed:
        lines += [f"**{len(result.failed)} corpus item(s) failed** and are not in it:", ""]
        lines += [f"- {f['utt_id']}: {f['error']}" for f in result.failed[:20]] + [""]
    lines += ["## Results on the eval split", ""]
    if systems:
        lines += results_lines(systems, metrics)
        lines += ["## EER per spoofing system", "", *attack_lines(systems, by_attack)]
        lines += ["## Figures", "", *figures(out, systems, corpus)]
        write_csv(out / "report.csv", systems, metrics)
    else:
        lines += ["No model could be scored (see below).", ""]
    if result.skipped:
        lines += ["## Models not scored", ""]
        lines += [f"- **{name}**: {why}" for name, why in result.skipped.items()]
        lines += [
            "",
            "Published checkpoints: put the files in `$VOXLAB_MODEL_DIR` or run "
            "`voxlab models pull NAME`; `voxlab models list` shows what is found.",
            "",
        ]
    timings = [
        [k, f"{v:.0f}", f"{result.cpu[k]:.0f}" if k in result.cpu else "–"]
        for k, v in result.timings.items()
        if k != "total"
    ]
    lines += [
        "## Time per stage",
        "",
        *_table(["stage", "wall s", "CPU s"], timings, 1),
        "CPU seconds count this process and its worker processes; on a shared machine wall "
        "time grows with the load (see the load average above), CPU time much less.",
        "",
    ]
    result.report.parent.mkdir(parents=True, exist_ok=True)
    result.report.write_text("\n".join(lines), encoding="utf-8")
    return result.report
