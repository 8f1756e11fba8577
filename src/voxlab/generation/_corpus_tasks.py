"""Worker-side steps of the corpus builder (run in spawned processes or in-process).

Each function takes plain, picklable arguments, skips outputs that already exist and are
valid (audio readable and provenance present), writes atomically, and returns a small
report; failures of single items are reported, never raised, so a batch goes on.
"""

from __future__ import annotations

import json
import math
import os
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import VoxlabError
from voxlab.generation import world
from voxlab.generation.base import (
    Generated,
    derive_seed,
    finish_audio,
    save_atomic,
    write_generated,
)

PROVENANCE_DIR = Path(".voxlab") / "provenance"
SAMPLE_RATE = 16_000


def provenance_path(out: Path, utt_id: str) -> Path:
    """Where the provenance record of ``utt_id`` lives."""
    return out / PROVENANCE_DIR / f"{utt_id}.json"


def is_valid(out: Path, item: dict[str, Any]) -> bool:
    """Whether an item's audio decodes (header check) and its provenance exists."""
    import soundfile as sf

    audio = out / item["path"]
    prov = provenance_path(out, item["utt_id"])
    if not (audio.is_file() and prov.is_file()):
        return False
    try:
        meta = sf.info(os.fspath(audio))
        json.loads(prov.read_text(encoding="utf-8"))
    except (RuntimeError, ValueError, OSError):
        return False
    return meta.frames > 0 and meta.samplerate == SAMPLE_RATE


def _write(out: Path, item: dict[str, Any], generated: Generated) -> None:
    if generated.system == "bonafide":  # a real recording: neither generated nor labelled
        save_atomic(
            out / item["path"],
            generated.audio,
            generated.sample_rate,
            metadata={"comment": item["utt_id"]},
        )
    else:
        write_generated(
            generated,
            out / item["path"],
            metadata={"comment": item["utt_id"]},
            watermark=item.get("watermark", True),
        )
    prov = provenance_path(out, item["utt_id"])
    prov.parent.mkdir(parents=True, exist_ok=True)
    tmp = prov.with_name(f".{prov.name}.partial")
    tmp.write_text(json.dumps(generated.provenance(), sort_keys=True), encoding="utf-8")
    os.replace(tmp, prov)


def _failure(item: dict[str, Any], exc: BaseException) -> dict[str, str]:
    if isinstance(exc, VoxlabError):
        message = str(exc)
    else:
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        message = f"unexpected {last}"
    return {"utt_id": item["utt_id"], "error": message}


def _load(path: Path) -> np.ndarray:
    from voxlab.audio import load

    samples, _ = load(path, sr=SAMPLE_RATE)
    return samples


def make_bonafide(out: str, item: dict[str, Any], voice: dict | None, source_root: str | None):
    """Writes one bona fide utterance (espeak-ng stand-in or a converted recording).

    Returns:
        ``{"made": n, "kept": n, "failed": [...], "f0": (count, sum, sum_sq)}``; the log-F0
        sums come from the written file, so a resumed build gets the same statistics.
    """
    from voxlab.generation.tts import EspeakVoice, synthesize

    root = Path(out)
    report: dict[str, Any] = {"made": 0, "kept": 0, "failed": [], "f0": (0, 0.0, 0.0)}
    try:
        if is_valid(root, item):
            report["kept"] = 1
        else:
            if voice is not None:
                generated = synthesize(item["text"], EspeakVoice(**voice), sample_rate=SAMPLE_RATE)
            else:
                source = Path(source_root) / item["source"]
                # Resampling can overshoot full scale: scale down (only then) instead of clipping.
                audio = finish_audio(_load(source), name=str(source))
                generated = Generated(
                    audio, SAMPLE_RATE, "bonafide", {"source_file": item["source"]}
                )
            _write(root, item, generated)
            report["made"] = 1
        f0 = world.extract_f0(_load(root / item["path"]), SAMPLE_RATE)
        logs = np.log(f0[f0 > 0])
        report["f0"] = (int(logs.size), float(logs.sum()), float((logs * logs).sum()))
    except Exception as exc:  # one bad item must not stop the batch
        report["failed"].append(_failure(item, exc))
    return report


def f0_stats(sums: tuple[int, float, float]):
    """:class:`LogF0Stats` from ``(count, sum, sum of squares)`` of log F0."""
    from voxlab.generation.vc.world_vc import LogF0Stats

    count, total, total_sq = sums
    if count < 2:
        return None
    mean = total / count
    return LogF0Stats(mean=mean, std=max(math.sqrt(max(total_sq / count - mean * mean, 0.0)), 1e-3))


def train_converter(out: str, cache: str, pairs: list[dict[str, Any]], seed: int):
    """Trains (or keeps) one GMM converter from parallel espeak texts or recordings.

    Args:
        out: Corpus folder.
        cache: Converter file, relative to ``out``.
        pairs: ``{"text", "source_voice", "target_voice"}`` (espeak) or
            ``{"source_file", "target_file", "root"}`` (recordings).
        seed: Seed of the GMM initialisation.
    """
    from voxlab.generation.tts import EspeakVoice, synthesize
    from voxlab.generation.vc.gmm_vc import GMMVoiceConverter

    path = Path(out) / cache
    report: dict[str, Any] = {"made": 0, "kept": 0, "failed": []}
    try:
        GMMVoiceConverter.load(path)
        report["kept"] = 1
        return report
    except VoxlabError:
        pass
    try:
        audio = []
        for pair in pairs:
            if "text" in pair:
                audio.append(
                    tuple(
                        synthesize(pair["text"], EspeakVoice(**pair[side])).audio
                        for side in ("source_voice", "target_voice")
                    )
                )
            else:
                root = Path(pair["root"])
                audio.append((_load(root / pair["source_file"]), _load(root / pair["target_file"])))
        GMMVoiceConverter.train(audio, SAMPLE_RATE, seed=seed).save(path)
        report["made"] = 1
    except Exception as exc:  # reported by the builder, which goes on
        report["failed"].append(
            {"utt_id": cache, "error": _failure({"utt_id": cache}, exc)["error"]}
        )
    return report


@lru_cache(maxsize=16)
def _converter(path: str):
    from voxlab.generation.vc.gmm_vc import GMMVoiceConverter

    return GMMVoiceConverter.load(path)


def make_spoofs(out: str, source: dict[str, Any], spoofs: list[dict[str, Any]], seed: int):
    """Writes every spoof made from one bona fide utterance (sharing its WORLD analysis).

    Args:
        out: Corpus folder.
        source: The bona fide item.
        spoofs: Items with ``attack``, ``target`` (a dict of ``speaker``, ``f0``,
            ``source_f0``, ``voice``, ``converter`` or None) and ``text``.
        seed: Corpus seed (each spoof's seed derives from it, its id and its attack).
    """
    from voxlab.generation.attacks import AttackInput, TargetSpeaker, get_attack
    from voxlab.generation.tts import EspeakVoice
    from voxlab.generation.vc.world_vc import LogF0Stats

    root = Path(out)
    report: dict[str, Any] = {"made": 0, "kept": 0, "failed": []}
    todo = [item for item in spoofs if not is_valid(root, item)]
    report["kept"] = len(spoofs) - len(todo)
    if not todo:
        return report
    try:
        audio = _load(root / source["path"])
    except Exception as exc:
        report["failed"] = [_failure(item, exc) for item in todo]
        return report
    shared: dict = {}
    for item in todo:
        try:
            spec = item.get("target") or {}
            target = None
            if spec:
                target = TargetSpeaker(
                    speaker=spec["speaker"],
                    f0=LogF0Stats(**spec["f0"]) if spec.get("f0") else None,
                    source_f0=LogF0Stats(**spec["source_f0"]) if spec.get("source_f0") else None,
                    converter=_converter(str(root / spec["converter"]))
                    if spec.get("converter")
                    else None,
                    voice=EspeakVoice(**spec["voice"]) if spec.get("voice") else None,
                )
            attack_input = AttackInput(
                audio=audio,
                sample_rate=SAMPLE_RATE,
                speaker=source["speaker"],
                seed=derive_seed(seed, item["utt_id"], item["attack"]),
                text=item.get("text"),
                target=target,
                _world=shared,
            )
            generated = get_attack(item["attack"])(attack_input)
            params = {**generated.params, "source_utt": source["utt_id"]}
            _write(root, item, Generated(generated.audio, SAMPLE_RATE, generated.system, params))
            report["made"] += 1
        except Exception as exc:  # one bad item must not stop the batch
            report["failed"].append(_failure(item, exc))
    return report
