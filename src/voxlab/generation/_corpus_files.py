"""Protocol, manifest and README files of a built corpus (see :mod:`.corpus`)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voxlab.data.manifest import Utterance, write_manifest
from voxlab.generation._corpus_tasks import provenance_path
from voxlab.generation.attacks import get_attack

if TYPE_CHECKING:
    from voxlab.generation.corpus import Plan

CM_DIR = "ASVspoof2019_LA_cm_protocols"
ASV_DIR = "ASVspoof2019_LA_asv_protocols"
_SUFFIX = {"train": "train.trn", "dev": "dev.trl", "eval": "eval.trl"}


def cm_protocol_path(root: Path, split: str) -> Path:
    """The CM protocol file of a split."""
    return root / CM_DIR / f"ASVspoof2019.LA.cm.{_SUFFIX[split]}.txt"


def asv_protocol_paths(root: Path, split: str) -> tuple[Path, Path]:
    """``(enrollment, trials)`` ASV protocol files of ``dev`` or ``eval``."""
    base = root / ASV_DIR / f"ASVspoof2019.LA.asv.{split}.gi"
    return base.with_name(base.name + ".trn.txt"), base.with_name(base.name + ".trl.txt")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def asv_trials(items: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """ASV trials of one split: ``(claimed_speaker, utt_id, source, key)``.

    ``source`` is ``bonafide`` or the attack id; ``key`` is ``target`` (bona fide of the
    claimed speaker), ``nontarget`` (bona fide of another speaker of the split) or
    ``spoof`` (a spoof labelled with the claimed speaker).
    """
    cm = [item for item in items if item["role"] == "cm"]
    speakers = sorted({item["speaker"] for item in items if item["key"] == "bonafide"})
    trials = []
    for claimed in speakers:
        for item in cm:
            if item["key"] == "bonafide":
                key = "target" if item["speaker"] == claimed else "nontarget"
                trials.append((claimed, item["utt_id"], "bonafide", key))
            elif item["speaker"] == claimed:
                trials.append((claimed, item["utt_id"], item["attack"], "spoof"))
    return trials


def write_outputs(root: Path, plan: Plan, done: list[dict[str, Any]]) -> None:
    """Writes CM and ASV protocols, ``manifest.jsonl`` and ``README.md`` for ``done``."""
    from voxlab.generation.corpus import SPLITS

    utterances = []
    for split in SPLITS:
        items = sorted((i for i in done if i["split"] == split), key=lambda i: i["utt_id"])
        cm = [i for i in items if i["role"] == "cm"]
        lines = [f"{i['speaker']} {i['utt_id']} - {i['attack']} {i['key']}\n" for i in cm]
        _write_text(cm_protocol_path(root, split), "".join(lines))
        if split != "train":
            enroll_path, trial_path = asv_protocol_paths(root, split)
            enrolled: dict[str, list[str]] = {}
            for item in items:
                if item["role"] == "enroll":
                    enrolled.setdefault(item["speaker"], []).append(item["utt_id"])
            _write_text(
                enroll_path,
                "".join(f"{spk} {','.join(ids)}\n" for spk, ids in sorted(enrolled.items())),
            )
            _write_text(trial_path, "".join(" ".join(t) + "\n" for t in asv_trials(items)))
        for item in items:
            prov = json.loads(provenance_path(root, item["utt_id"]).read_text(encoding="utf-8"))
            extra = {"role": item["role"], "text": item["text"], "source": item["source"], **prov}
            utterances.append(
                Utterance(
                    utt_id=item["utt_id"],
                    path=item["path"],
                    speaker=item["speaker"],
                    attack=item["attack"],
                    key=item["key"],
                    split=split,
                    extra=extra,
                )
            )
    write_manifest(utterances, root / "manifest.jsonl")
    _write_text(root / "README.md", _readme(plan, done))


def _readme(plan: Plan, done: list[dict[str, Any]]) -> str:
    from voxlab.generation.corpus import SPLITS

    config = plan.config
    espeak = config.bonafide == "espeak"
    counts = Counter((i["split"], i["role"], i["key"]) for i in done)
    lines = [
        "# voxlab spoofing corpus",
        "",
        "Made by `voxlab corpus make` in the ASVspoof 2019 LA layout "
        "(CM protocols: `SPEAKER UTT_ID - ATTACK KEY`; audio: 16 kHz 16-bit FLAC).",
        "",
        "Bona fide side: "
        + (
            "**synthetic stand-in speech** made by espeak-ng (each speaker is a fixed "
            "voice/variant/pitch/speed). It is not human speech: detection results on this "
            "corpus say how well a model separates these vocoders from espeak-ng, not how it "
            "does on real recordings."
            if espeak
            else f"recordings from `{config.bonafide}` (converted to 16 kHz mono FLAC)."
        ),
        "",
        f"Seed: {config.seed}. The same settings (`corpus.json`) rebuild the same files bit "
        "for bit.",
        "",
        "## Splits",
        "",
        "| split | speakers | bona fide | spoof | ASV enrollment | attacks |",
        "|---|---|---|---|---|---|",
    ]
    for split in SPLITS:
        speakers = sorted(s for s, sp in plan.split_of.items() if sp == split)
        lines.append(
            f"| {split} | {len(speakers)} | {counts[(split, 'cm', 'bonafide')]} | "
            f"{counts[(split, 'cm', 'spoof')]} | {counts[(split, 'enroll', 'bonafide')]} | "
            f"{', '.join(config.split_attacks(split)) or '-'} |"
        )
    seen = set(config.split_attacks("train")) | set(config.split_attacks("dev"))
    lines += ["", "## Attack systems", "", "| id | name | in | description |", "|---|---|---|---|"]
    used = sorted({a for s in SPLITS for a in config.split_attacks(s)})
    for attack_id in used:
        system = get_attack(attack_id)
        where = "train/dev/eval" if attack_id in seen else "eval only (unseen)"
        lines.append(f"| {attack_id} | {system.name} | {where} | {system.description} |")
    lines += [
        "",
        "Conversion attacks imitate the next speaker of the same split and are labelled with "
        "that (target) speaker; the other attacks re-synthesise the speaker's own utterance.",
        "",
        "## Speakers",
        "",
        "| speaker | split | espeak-ng voice | variant | pitch | speed |",
        "|---|---|---|---|---|---|",
    ]
    for spk_id in sorted(plan.split_of):
        voice = plan.speakers[spk_id].voice
        lines.append(
            f"| {spk_id} | {plan.split_of[spk_id]} | {voice.voice} | {voice.variant or '-'} | "
            f"{voice.pitch} | {voice.speed} |"
        )
    if not espeak:
        lines += ["", "(For recordings, the espeak-ng voice is the stand-in used by TTS attacks.)"]
    lines += [
        "",
        "## Files",
        "",
        "- `ASVspoof2019_LA_cm_protocols/`: CM protocols of train, dev and eval.",
        "- `ASVspoof2019_LA_{train,dev,eval}/flac/`: the audio.",
        "- `ASVspoof2019_LA_asv_protocols/`: ASV enrollment (`*.gi.trn.txt`: `SPEAKER "
        "UTT,UTT,...`) and trials (`*.gi.trl.txt`: `CLAIMED_SPEAKER UTT SOURCE KEY`) of dev "
        "and eval; `voxlab corpus asv` scores them.",
        "- `manifest.jsonl`: one record per file (paths relative to this folder) with its "
        "role (`cm` or `enroll`), text, source and provenance (system and parameters).",
        "- `corpus.json`: the settings.",
        "",
    ]
    return "\n".join(lines)
