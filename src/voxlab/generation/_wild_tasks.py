"""Worker-side steps of the voxlab-wild builder (picklable arguments, per-item reports).

A *segment* is one bona fide utterance: one or more prepared recordings of one speaker
(short prompts and syllables are joined with 0.2 s pauses), cropped to the corpus's
maximum length. Each segment's job writes the bona fide file and every spoof made from
it, all through the same finishing chain (:mod:`._wild_channel`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

# wild_tts registers the W attacks: spawned workers import only this module.
from voxlab.generation import wild_tts  # noqa: F401
from voxlab.generation._corpus_tasks import _failure, _write, is_valid
from voxlab.generation._wild_channel import SAMPLE_RATE, finish
from voxlab.generation.base import Generated, derive_seed, finish_audio

GAP_S = 0.2


def segment_audio(segment: dict[str, Any]) -> np.ndarray:
    """The clean bona fide audio of a segment (16 kHz). Shape: ``(time,)``."""
    from voxlab.audio import load

    parts = []
    gap = np.zeros(round(GAP_S * SAMPLE_RATE), dtype=np.float32)
    for i, clip in enumerate(segment["clips"]):
        samples, _ = load(clip, sr=SAMPLE_RATE)
        parts += [gap, samples] if i else [samples]
    audio = np.concatenate(parts)
    return audio[: round(segment["max_seconds"] * SAMPLE_RATE)]


def segment_f0(out: str, segment: dict[str, Any]) -> dict[str, Any]:
    """Log-F0 sums ``(count, sum, sum of squares)`` of a segment (for WORLD VC targets).

    The sums are kept in ``.voxlab/f0/<utt_id>.json``, so a resumed build reuses them.
    """
    import json
    import os

    from voxlab.generation import world

    report: dict[str, Any] = {"made": 0, "kept": 0, "failed": [], "f0": (0, 0.0, 0.0)}
    cache = Path(out) / ".voxlab" / "f0" / f"{segment['bonafide']['utt_id']}.json"
    try:
        report["f0"] = tuple(json.loads(cache.read_text(encoding="utf-8")))
        return report
    except (OSError, ValueError):
        pass
    try:
        f0 = world.extract_f0(segment_audio(segment), SAMPLE_RATE)
        logs = np.log(f0[f0 > 0])
        report["f0"] = (int(logs.size), float(logs.sum()), float((logs * logs).sum()))
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.partial")
        tmp.write_text(json.dumps(report["f0"]), encoding="utf-8")
        os.replace(tmp, cache)
    except Exception as exc:  # reported by the builder, which goes on
        report["failed"].append(_failure(segment["bonafide"], exc))
    return report


def f0_stats(sums: tuple[int, float, float]):
    """:class:`LogF0Stats` from log-F0 sums (None with fewer than two voiced frames)."""
    from voxlab.generation.vc.world_vc import LogF0Stats

    count, total, total_sq = sums
    if count < 2:
        return None
    mean = total / count
    std = math.sqrt(max(total_sq / count - mean * mean, 0.0))
    return LogF0Stats(mean=mean, std=max(std, 1e-3))


def train_tts_converter(out: str, spec: dict[str, Any]) -> dict[str, Any]:
    """Trains (or keeps) one V07 converter: espeak-ng TTS of transcripts -> a speaker.

    Args:
        out: Corpus folder.
        spec: ``cache`` (file relative to ``out``), ``voice`` (espeak-ng voice dict),
            ``pairs`` (``{"text", "target_file"}``) and ``seed``.
    """
    from voxlab.audio import load
    from voxlab.errors import VoxlabError
    from voxlab.generation.tts import EspeakVoice, synthesize
    from voxlab.generation.vc.gmm_vc import GMMVoiceConverter

    path = Path(out) / spec["cache"]
    report: dict[str, Any] = {"made": 0, "kept": 0, "failed": []}
    try:
        GMMVoiceConverter.load(path)
        return report
    except VoxlabError:
        pass
    try:
        voice = EspeakVoice(**spec["voice"])
        pairs = [
            (synthesize(pair["text"], voice, sample_rate=SAMPLE_RATE).audio,
             load(pair["target_file"], sr=SAMPLE_RATE)[0])
            for pair in spec["pairs"]
        ]  # fmt: skip
        GMMVoiceConverter.train(pairs, SAMPLE_RATE, seed=spec["seed"]).save(path)
    except Exception as exc:  # reported by the builder, which goes on
        report["failed"].append(_failure({"utt_id": spec["cache"]}, exc))
    return report


def _tts_then_convert(root: Path, item: dict[str, Any], seed: int):
    """V07: espeak-ng speaks the transcript, the speaker's GMM converter converts it."""
    from voxlab.generation.attacks import AttackInput, TargetSpeaker, get_attack
    from voxlab.generation.tts import EspeakVoice, synthesize
    from voxlab.generation.vc.gmm_vc import GMMVoiceConverter

    spec = item["target"]
    tts = synthesize(item["text"], EspeakVoice(**spec["voice"]), sample_rate=SAMPLE_RATE)
    converter = GMMVoiceConverter.load(root / spec["converter"])
    return get_attack("V07")(
        AttackInput(
            audio=tts.audio,
            sample_rate=SAMPLE_RATE,
            speaker=spec["speaker"],
            seed=derive_seed(seed, item["utt_id"], "V07"),
            text=item["text"],
            target=TargetSpeaker(speaker=spec["speaker"], converter=converter),
        )
    )


def _finished(audio: np.ndarray, item: dict[str, Any], segment: dict[str, Any]) -> np.ndarray:
    out = finish(audio, native_sr=segment["native_sr"], spec=item["finish"])
    return finish_audio(out, name=item["utt_id"])


def make_segment(
    out: str, segment: dict[str, Any], spoofs: list[dict[str, Any]], seed: int, f0: dict
) -> dict[str, Any]:
    """Writes a segment's bona fide file and its spoofs (existing valid files are kept).

    Args:
        out: Corpus folder.
        segment: ``clips``, ``native_sr``, ``max_seconds`` and the ``bonafide`` item.
        spoofs: Items with ``attack``, ``text`` and ``target`` (``speaker``, ``voice``).
        seed: Corpus seed.
        f0: ``{speaker: LogF0Stats dict}`` of the split's speakers (for WORLD VC).

    Returns:
        ``{"made", "kept", "failed"}``.
    """
    from voxlab.generation.attacks import AttackInput, TargetSpeaker, get_attack
    from voxlab.generation.tts import EspeakVoice
    from voxlab.generation.vc.world_vc import LogF0Stats

    root = Path(out)
    report: dict[str, Any] = {"made": 0, "kept": 0, "failed": []}
    items = [segment["bonafide"], *spoofs]
    todo = [item for item in items if not is_valid(root, item)]
    report["kept"] = len(items) - len(todo)
    if not todo:
        return report
    try:
        clean = segment_audio(segment)
    except Exception as exc:
        report["failed"] = [_failure(item, exc) for item in todo]
        return report
    shared: dict = {}
    for item in todo:
        try:
            if item["key"] == "bonafide":
                params = {"source_files": segment["clips"], "source": segment["source"]}
                generated = Generated(clean, SAMPLE_RATE, "bonafide", params)
            elif item["attack"] == "V07":
                generated = _tts_then_convert(root, item, seed)
            else:
                spec = item.get("target") or {}
                target = None
                if spec:
                    speaker = spec["speaker"]
                    target = TargetSpeaker(
                        speaker=speaker,
                        f0=LogF0Stats(**f0[speaker]) if f0.get(speaker) else None,
                        source_f0=LogF0Stats(**f0[segment["speaker"]])
                        if f0.get(segment["speaker"])
                        else None,
                        voice=EspeakVoice(**spec["voice"]) if spec.get("voice") else None,
                    )
                generated = get_attack(item["attack"])(
                    AttackInput(
                        audio=clean,
                        sample_rate=SAMPLE_RATE,
                        speaker=segment["speaker"],
                        seed=derive_seed(seed, item["utt_id"], item["attack"]),
                        text=item.get("text"),
                        target=target,
                        _world=shared,
                    )
                )
                if generated.sample_rate != SAMPLE_RATE:
                    from voxlab.audio.resample import resample

                    generated = Generated(
                        resample(
                            generated.audio, orig_sr=generated.sample_rate, target_sr=SAMPLE_RATE
                        ),
                        SAMPLE_RATE,
                        generated.system,
                        generated.params,
                    )
            audio = generated.audio[: round(segment["max_seconds"] * SAMPLE_RATE)]
            params = {**generated.params, "finish": item["finish"], "source": segment["source"]}
            if item["key"] == "spoof":
                params["source_utt"] = segment["bonafide"]["utt_id"]
            final = Generated(
                _finished(audio, item, segment), SAMPLE_RATE, generated.system, params
            )
            _write(root, item, final)
            report["made"] += 1
        except Exception as exc:  # one bad item must not stop the batch
            report["failed"].append(_failure(item, exc))
    return report
