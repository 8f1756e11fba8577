"""``voxlab quality --systems``: every installed TTS engine speaks the same sentences.

Each selected engine/voice of the TTS engine registry
(:mod:`voxlab.generation.neural.engines`) speaks the shared sentences
(:mod:`voxlab.quality.sentences`); every utterance is scored like a file (Whisper WER/CER
against the sentence, DNSMOS, and with a reference recording GE2E speaker similarity) and
timed: RTF = synthesis wall time / audio duration, measured around
``engine.synthesize`` at the voice's native rate, after one untimed warm-up sentence per
voice (so model loading is not counted), in this process with the engine's default thread
settings. The sentences are English (Whisper tiny.en is English-only), so by default each
engine speaks with its default voice, or its first English voice when the default is not
English.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import ConfigError, VoxlabError
from voxlab.quality.evaluate import SAMPLE_RATE, QualityEvaluator

_WARMUP = "Hello."


@dataclass(frozen=True)
class SystemChoice:
    """One engine/voice to compare.

    Attributes:
        engine: Registry name.
        voice: Voice id.
        family: The engine's method family (``formant``, ``vits``, ...).
    """

    engine: str
    voice: str
    family: str = ""

    @property
    def system(self) -> str:
        """``"engine:voice"``, the system id the engines give their audio."""
        return f"{self.engine}:{self.voice}"


def _english(language: str) -> bool:
    return language.lower().replace("_", "-").split("-")[0] == "en"


def select_systems(
    *,
    engines: Sequence[str] | None = None,
    voices: Sequence[str] | None = None,
    all_voices: bool = False,
) -> tuple[list[SystemChoice], list[str]]:
    """The engine/voice pairs to compare, and notes on installed engines left out.

    Args:
        engines: Registry names to use (default: every installed engine).
        voices: Explicit ``ENGINE:VOICE`` pairs. Without ``engines`` only these are
            compared; with ``engines`` they are added to those engines' voices.
        all_voices: Every English voice of each engine instead of one.

    Returns:
        ``(choices, notes)``; notes say which engines are missing (with the install hint)
        or have no English voice.

    Raises:
        ConfigError: A malformed ``ENGINE:VOICE`` or an unknown engine/voice.
    """
    from voxlab.generation.neural.engines import all_engines, get_engine

    chosen: list[SystemChoice] = []
    notes: list[str] = []
    pool = [get_engine(n) for n in engines] if engines else all_engines()
    for engine in pool if (engines or not voices) else []:
        reason = engine.missing()
        if reason is not None:
            notes.append(f"{engine.name}: not installed ({reason})")
            continue
        english = [v for v in engine.voices() if _english(v.language)]
        if not english:
            notes.append(f"{engine.name}: no English voice (the shared sentences are English)")
            continue
        if all_voices:
            picked = english
        else:
            default = [v for v in english if v.id == engine.default_voice]
            picked = default or english[:1]
        chosen += [SystemChoice(engine.name, v.id, engine.family) for v in picked]
    for spec in voices or ():
        name, sep, voice = spec.partition(":")
        if not sep or not name or not voice:
            raise ConfigError(f"--voice must be ENGINE:VOICE (e.g. espeak:en-us+f3), got {spec!r}")
        engine = get_engine(name)
        engine.voice(voice)  # raises with the known voices when unknown
        choice = SystemChoice(name, voice, engine.family)
        if choice not in chosen:
            chosen.append(choice)
    if not chosen:
        raise ConfigError(
            "no TTS engine to compare: "
            + ("; ".join(notes) or "none is registered")
            + " (see `voxlab voices`)"
        )
    return chosen, notes


def compare_systems(
    choices: Sequence[SystemChoice],
    sentences: Sequence[str],
    evaluator: QualityEvaluator,
    *,
    reference: np.ndarray | None = None,
    seed: int = 0,
    audio_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Synthesises every sentence with every choice and scores it.

    Args:
        choices: Engine/voice pairs (see :func:`select_systems`).
        sentences: What to say.
        evaluator: Holds the scoring models.
        reference: 16 kHz recording of a target speaker (speaker similarity), or None.
            Shape: ``(time,)``.
        seed: Seed passed to every engine.
        audio_dir: When given, each utterance is also written there (labelled, see
            :func:`voxlab.generation.base.write_generated`) as ``<engine>_<voice>/NN.wav``.
        progress: Progress bar on stderr when it is a terminal (False: never).
        on_row: Called with each row as soon as it is ready.

    Returns:
        One row per (system, sentence); failures are error rows.
    """
    from tqdm import tqdm

    from voxlab.audio import resample
    from voxlab.generation.neural.engines import get_engine

    if not sentences:
        raise ConfigError("no sentences to speak")
    evaluator.prepare(texts=True, reference=reference is not None)
    rows: list[dict[str, Any]] = []
    bar = tqdm(total=len(choices) * len(sentences), unit="utt", file=sys.stderr,
               disable=None if progress in (None, True) else True, desc="systems")  # fmt: skip
    for choice in choices:
        engine = get_engine(choice.engine)
        warm_error = None
        try:
            engine.synthesize(_WARMUP, voice=choice.voice, seed=seed)
        except VoxlabError as exc:
            warm_error = str(exc)
        for index, sentence in enumerate(sentences):
            row: dict[str, Any] = {
                "system": choice.system, "engine": choice.engine, "voice": choice.voice,
                "family": choice.family, "sentence": index, "path": f"{choice.system}#{index:02d}",
            }  # fmt: skip
            try:
                if warm_error is not None:
                    raise VoxlabError(warm_error)
                start = time.perf_counter()
                generated = engine.synthesize(sentence, voice=choice.voice, seed=seed)
                elapsed = time.perf_counter() - start
                audio = generated.audio
                if generated.sample_rate != SAMPLE_RATE:
                    audio = resample(audio, orig_sr=generated.sample_rate, target_sr=SAMPLE_RATE)
                if audio_dir is not None:
                    row["path"] = str(_write(generated, Path(audio_dir), choice, index))
                row.update(evaluator.score(audio, text=sentence, reference=reference))
                row.update(
                    native_rate=generated.sample_rate,
                    synthesis_s=elapsed,
                    rtf=elapsed / generated.duration,
                    status="ok",
                )
            except VoxlabError as exc:
                row.update(status="error", error=f"{choice.system} sentence {index}: {exc}")
            rows.append(row)
            bar.update(1)
            if on_row is not None:
                on_row(row)
    bar.close()
    return rows


def _write(generated, folder: Path, choice: SystemChoice, index: int) -> Path:
    from voxlab.generation.base import write_generated

    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in choice.system)
    return write_generated(generated, folder / safe / f"{index:02d}.wav")
