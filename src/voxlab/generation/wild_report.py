"""Protocols, manifest, README and the shortcut report of a voxlab-wild corpus.

The shortcut report answers: can a one-number classifier tell bona fide from spoof?
For every finished file it measures duration, leading silence, trailing silence,
bandwidth (99 % spectral roll-off of the active frames) and loudness (active RMS), and
for every split it gives the EER of two classifiers per feature: the best threshold on
that split (either direction: an oracle, the strictest test) and a histogram likelihood
ratio fitted on train (non-monotonic relations too; on train itself by two-fold
cross-validation). A corpus whose classes only a
countermeasure can separate keeps every EER near 50 %; the target is >= 40 %.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voxlab.data.manifest import Utterance, write_manifest
from voxlab.data.sources.checks import active_frames
from voxlab.generation._corpus_files import _write_text, cm_protocol_path
from voxlab.generation._corpus_tasks import provenance_path
from voxlab.generation._wild_channel import CHANNELS, SAMPLE_RATE, active_rms_db
from voxlab.generation.attacks import get_attack

if TYPE_CHECKING:
    from voxlab.generation.wild import WildPlan

FEATURES = ("duration", "leading_silence", "trailing_silence", "bandwidth", "loudness")
TARGET_EER = 0.40
WILD_DIR = "voxlab_wild_protocols"
_SPLITS = ("train", "dev", "eval")


def shortcut_features(audio: np.ndarray, sr: int = SAMPLE_RATE) -> dict[str, float]:
    """The five shortcut measures of one file.

    Shape:
        audio: ``(time,)``.
    """
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    active = active_frames(x, sr)
    idx = np.flatnonzero(active)
    hop, size = 0.010, 0.025
    duration = x.size / sr
    lead = idx[0] * hop if idx.size else duration
    trail = max(0.0, duration - (idx[-1] * hop + size)) if idx.size else duration
    n_fft = 512
    starts = (idx * round(hop * sr))[(idx * round(hop * sr)) + n_fft <= x.size]
    if starts.size:
        frames = x[starts[:, None] + np.arange(n_fft)[None, :]] * np.hanning(n_fft)
        power = np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0)
        cum = np.cumsum(power) / max(float(power.sum()), 1e-20)
        bandwidth = float(np.searchsorted(cum, 0.99)) * sr / n_fft
    else:
        bandwidth = 0.0
    return {
        "duration": float(duration),
        "leading_silence": float(lead),
        "trailing_silence": float(trail),
        "bandwidth": bandwidth,
        "loudness": float(active_rms_db(x, sr)),
    }


def threshold_eer(values: np.ndarray, is_spoof: np.ndarray) -> float:
    """EER of the best single threshold on one feature (either direction)."""
    from voxlab.evaluation.metrics import compute_eer

    bona, spoof = values[~is_spoof], values[is_spoof]
    if bona.size == 0 or spoof.size == 0:
        return float("nan")
    eer = compute_eer(bona, spoof).eer
    return float(min(eer, 1.0 - eer))


def histogram_llr(train: np.ndarray, train_spoof: np.ndarray, *, bins: int | None = None):
    """A likelihood-ratio scorer of one feature fitted on train (quantile bins, +1 smoothing).

    Args:
        train: Feature values. Shape: ``(n,)``.
        train_spoof: Whether each value is a spoof. Shape: ``(n,)``.
        bins: Quantile bins; one per 50 values (10 to 40) when None.

    Returns:
        A function from feature values to bona fide log-likelihood ratios.
    """
    if bins is None:
        bins = int(np.clip(train.size // 50, 10, 40))
    edges = np.unique(np.quantile(train, np.linspace(0, 1, bins + 1)[1:-1]))

    def counts(values: np.ndarray) -> np.ndarray:
        return np.bincount(np.searchsorted(edges, values), minlength=edges.size + 1) + 1.0

    bona = counts(train[~train_spoof])
    spoof = counts(train[train_spoof])
    llr = np.log(bona / bona.sum()) - np.log(spoof / spoof.sum())
    return lambda values: llr[np.searchsorted(edges, values)]


def shortcut_report(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """EERs of the shortcut classifiers per split.

    Args:
        rows: One dict per file: ``split``, ``key`` and the :data:`FEATURES`.

    Returns:
        ``{"target": 0.4, "splits": {split: {feature: {"threshold": eer, "trained": eer}}},
        "worst": eer, "ok": bool}`` (EERs as fractions).
    """
    from voxlab.evaluation.metrics import compute_eer

    report: dict[str, Any] = {"target": TARGET_EER, "features": list(FEATURES), "splits": {}}
    train = [r for r in rows if r["split"] == "train"]
    worst = float("nan") if not rows else 1.0
    for split in _SPLITS:
        part = [r for r in rows if r["split"] == split]
        if not part:
            continue
        is_spoof = np.array([r["key"] == "spoof" for r in part])
        result = {}
        for name in FEATURES:
            values = np.array([r[name] for r in part], dtype=np.float64)
            entry = {"threshold": threshold_eer(values, is_spoof)}
            if train and is_spoof.any() and (~is_spoof).any():
                tr = np.array([r[name] for r in train], dtype=np.float64)
                tr_spoof = np.array([r["key"] == "spoof" for r in train])
                if split == "train":  # two-fold cross-validation: never scored in-sample
                    fold = np.arange(tr.size) % 2 == 0
                    score = np.empty(tr.size)
                    for part_mask in (fold, ~fold):
                        fit = histogram_llr(tr[~part_mask], tr_spoof[~part_mask])
                        score[part_mask] = fit(tr[part_mask])
                else:
                    score = histogram_llr(tr, tr_spoof)(values)
                entry["trained"] = float(compute_eer(score[~is_spoof], score[is_spoof]).eer)
            result[name] = entry
            worst = min(worst, *(v for v in entry.values() if np.isfinite(v)))
        report["splits"][split] = result
    report["worst"] = worst
    report["ok"] = bool(np.isfinite(worst) and worst >= TARGET_EER)
    return report


def write_wild_outputs(root: Path, plan: WildPlan, done: list[dict[str, Any]]) -> dict[str, Any]:
    """Writes protocols, LOSO protocols, manifest, shortcuts.json and README; returns shortcuts."""
    from voxlab.audio import load

    rows, utterances = [], []
    for split in _SPLITS:
        items = sorted((i for i in done if i["split"] == split), key=lambda i: i["utt_id"])
        _write_text(cm_protocol_path(root, split), "".join(_line(i) for i in items))
        for item in items:
            audio, _ = load(root / item["path"], sr=SAMPLE_RATE)
            feats = shortcut_features(audio)
            rows.append({"split": split, "key": item["key"], **feats})
            prov = json.loads(provenance_path(root, item["utt_id"]).read_text(encoding="utf-8"))
            source = plan.sources[item["source"]]
            extra = {
                "role": "cm",
                "text": item["text"],
                "source": item["source"],
                "language": source["language"],
                "source_package": f"{source['package']} {source['version']}",
                "source_licence": source["licence"],
                "channel": item["finish"]["channel"],
                "source_utts": item.get("source_utts"),
                "shortcut_features": {k: round(v, 4) for k, v in feats.items()},
                **prov,
            }
            utterances.append(
                Utterance(
                    item["utt_id"],
                    item["path"],
                    item["speaker"],
                    item["attack"],
                    item["key"],
                    split,
                    extra,
                )
            )
    write_manifest(utterances, root / "manifest.jsonl")
    _write_loso(root, plan, done)
    shortcuts = shortcut_report(rows)
    _write_text(root / "shortcuts.json", json.dumps(shortcuts, indent=2) + "\n")
    _write_text(root / "README.md", _readme(plan, done, shortcuts))
    return shortcuts


def _line(item: dict[str, Any]) -> str:
    return f"{item['speaker']} {item['utt_id']} - {item['attack']} {item['key']}\n"


def _write_loso(root: Path, plan: WildPlan, done: list[dict[str, Any]]) -> None:
    base = root / WILD_DIR
    ordered = sorted(done, key=lambda i: i["utt_id"])
    by_split = {s: [i for i in ordered if i["split"] == s] for s in _SPLITS}
    trained = set(plan.config.split_attacks("train"))
    for attack in sorted(trained & set(plan.config.split_attacks("eval"))):
        folder = base / "leave_one_system_out" / attack
        for split in ("train", "dev"):
            keep = [i for i in by_split[split] if i["attack"] != attack]
            _write_text(folder / f"{split}.txt", "".join(_line(i) for i in keep))
        keep = [i for i in by_split["eval"] if i["attack"] in ("-", attack)]
        _write_text(folder / "eval.txt", "".join(_line(i) for i in keep))
    for source in sorted({i["source"] for i in done}):
        folder = base / "leave_one_source_out" / source
        for split in ("train", "dev"):
            keep = [i for i in by_split[split] if i["source"] != source]
            _write_text(folder / f"{split}.txt", "".join(_line(i) for i in keep))
        keep = [i for i in ordered if i["source"] == source]
        _write_text(folder / "eval.txt", "".join(_line(i) for i in keep))
    _write_text(
        base / "channels.txt",
        "".join(
            f"{i['utt_id']} {i['finish']['channel']} {i['source']} "
            f"{plan.sources[i['source']]['language']}\n"
            for i in ordered
        ),
    )


def _pct(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{100 * value:.1f}"


def _readme(plan: WildPlan, done: list[dict[str, Any]], shortcuts: dict[str, Any]) -> str:
    config = plan.config
    counts = Counter((i["split"], i["key"]) for i in done)
    lines = [
        "# voxlab-wild",
        "",
        "Real human speech (package-shipped recordings) against spoofs made from it, in the "
        "ASVspoof 2019 LA layout (CM protocols: `SPEAKER UTT_ID - ATTACK KEY`; audio: 16 kHz "
        "FLAC). Made by `voxlab corpus make --wild`; the same settings (`corpus.json`) "
        f"rebuild the same files. Seed {config.seed}.",
        "",
        "## Splits",
        "",
        "| split | speakers | bona fide | spoof | attacks |",
        "|---|---|---|---|---|",
    ]
    for split in _SPLITS:
        speakers = sorted(s for s, sp in plan.split_of.items() if sp == split)
        lines.append(
            f"| {split} | {', '.join(speakers)} | {counts[(split, 'bonafide')]} | "
            f"{counts[(split, 'spoof')]} | {', '.join(config.split_attacks(split))} |"
        )
    lines += [
        "",
        f"Speakers are disjoint across splits. Held-out sources (eval only): "
        f"{', '.join(config.heldout_sources) or 'none'}.",
        "",
        "## Human speech: sources and licences",
        "",
        "| source | package | version | language | licence | copyright | bona fide files |",
        "|---|---|---|---|---|---|---|",
    ]
    per_source = Counter(i["source"] for i in done if i["key"] == "bonafide")
    for name, src in sorted(plan.sources.items()):
        lines.append(
            f"| {name} | {src['package']} | {src['version']} | {src['language']} | "
            f"{src['licence']} | {src['copyright']} | {per_source[name]} |"
        )
    seen = set(config.split_attacks("train"))
    lines += [
        "",
        "Short recordings of one speaker are joined (0.2 s pauses) up to "
        f"{config.min_seconds} s; utterances are cut at {config.max_seconds} s.",
        "",
        "## Spoofing systems",
        "",
        "| id | name | kind | in | description |",
        "|---|---|---|---|---|",
    ]
    for attack_id in sorted(seen | set(config.split_attacks("eval"))):
        system = get_attack(attack_id)
        where = "train/dev/eval" if attack_id in seen else "eval only (unseen)"
        lines.append(
            f"| {attack_id} | {system.name} | {system.kind} | {where} | {system.description} |"
        )
    for attack_id, why in sorted(plan.left_out.items()):
        lines.append(f"| {attack_id} | {get_attack(attack_id).name} | tts | left out | {why} |")
    lines += [
        "",
        "Vocoder systems re-synthesise the bona fide utterance (copy-synthesis); conversion "
        "systems convert it to another speaker of the split (labelled with that speaker). Each "
        "utterance also gets one TTS spoof (labelled with its speaker): its transcript, or a "
        "sentence of its language where the package has no transcript, spoken by a TTS system "
        "of the split that speaks the language (espeak-ng with a voice of the language for "
        "all; festival, Piper and Kokoro voices for theirs). Licences: espeak-ng GPL-3; "
        "festival voices BSD-style (festvox-ru BSD-like); Piper joe voice MIT, data CC0; "
        "Kokoro-82M weights and voices Apache-2.0; voxlab's vocoders and converters are its "
        "own code with no weights. Generated audio carries the AI-generated metadata tag"
        + (" and voxlab's watermark." if config.watermark else "; it is not watermarked."),
        "",
        "## One finishing chain for both classes",
        "",
        "Every file passes, in order: the band of the recording it comes from (spoofs of 8 kHz "
        "prompts are band-limited like the prompts), silence trimming, loudness normalisation "
        "to a level drawn in [-32, -18] dBFS, leading and trailing silence drawn in [0, 0.4] s, "
        f"and one channel condition drawn from: {', '.join(config.channels)}. The draws come "
        "from the utterance id, never from its class. Channels: "
        + "; ".join(
            f"`{n}` = {CHANNELS[n][0] or 'none'} {CHANNELS[n][1] or ''}".strip()
            for n in config.channels
        )
        + ".",
        "",
        "## Shortcut classifiers (EER %, target >= 40)",
        "",
        "Per feature: best threshold on the split (either direction) / histogram "
        "likelihood ratio fitted on train.",
        "",
        "| split | " + " | ".join(FEATURES) + " |",
        "|---|" + "---|" * len(FEATURES),
    ]
    for split, result in shortcuts["splits"].items():
        cells = [
            f"{_pct(result[f]['threshold'])} / {_pct(result[f].get('trained', float('nan')))}"
            for f in FEATURES
        ]
        lines.append(f"| {split} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Worst: {_pct(shortcuts['worst'])} % ("
        + ("meets" if shortcuts["ok"] else "**misses**")
        + " the 40 % target). Full numbers: `shortcuts.json`.",
        "",
        "## Files",
        "",
        "- `ASVspoof2019_LA_cm_protocols/`: CM protocols of train, dev and eval.",
        "- `ASVspoof2019_LA_{train,dev,eval}/flac/`: the audio.",
        f"- `{WILD_DIR}/leave_one_system_out/<attack>/{{train,dev,eval}}.txt`: train/dev "
        "without the attack; eval = eval bona fide + that attack only.",
        f"- `{WILD_DIR}/leave_one_source_out/<source>/{{train,dev,eval}}.txt`: train/dev "
        "without the source; eval = every utterance of that source (any split folder; "
        "`manifest.jsonl` gives each path).",
        f"- `{WILD_DIR}/channels.txt`: `UTT_ID CHANNEL SOURCE LANGUAGE` per file.",
        "- `manifest.jsonl`: one record per file with source package, licence, channel, "
        "shortcut features and provenance (system, parameters, finishing settings).",
        "- `shortcuts.json`: the shortcut EERs; `corpus.json`: the settings.",
        "",
    ]
    return "\n".join(lines)
