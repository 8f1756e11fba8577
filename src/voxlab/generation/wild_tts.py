"""TTS systems of voxlab-wild: which attack speaks which language, and which can run here.

voxlab-wild gives every bona fide utterance exactly one TTS spoof, spoken by a system
that can speak the utterance's language (so language never separates the classes). The
English engine voices registered in :mod:`voxlab.generation.attacks` (Piper, festival,
Kokoro ``a*``/``b*``) speak English only; espeak-ng (V08) speaks every language; this
module registers the non-English voices of the TTS engine registry as attack systems:

=====  ==================  =========================================================
id     language            system
=====  ==================  =========================================================
W01    ru                  festival unit selection (clunits) built from the festvox-ru
                           recordings themselves: the speaker's own voice, re-spliced
W02    es                  Kokoro-82M voice ef_dora
W03    fr                  Kokoro-82M voice ff_siwis
W04    it                  Kokoro-82M voice im_nicola
=====  ==================  =========================================================
"""

from __future__ import annotations

from collections.abc import Callable

from voxlab.generation.attacks import ATTACKS, AttackInput, get_attack, register_attack
from voxlab.generation.base import Generated

#: id -> (name, engine, voice, language, description)
WILD_TTS: dict[str, tuple[str, str, str, str, str]] = {
    "W01": ("festival-ru-nsh", "festival", "msu_ru_nsh_clunits", "ru",
            "festival cluster unit selection of the transcript, voice built from the "
            "festvox-ru speaker's own recordings"),
    "W02": ("kokoro-ef_dora", "kokoro", "ef_dora", "es",
            "Kokoro-82M v1.0 (StyleTTS 2, ONNX) TTS, Spanish voice ef_dora"),
    "W03": ("kokoro-ff_siwis", "kokoro", "ff_siwis", "fr",
            "Kokoro-82M v1.0 (StyleTTS 2, ONNX) TTS, French voice ff_siwis"),
    "W04": ("kokoro-im_nicola", "kokoro", "im_nicola", "it",
            "Kokoro-82M v1.0 (StyleTTS 2, ONNX) TTS, Italian voice im_nicola"),
}  # fmt: skip

#: Engines of the English-only attacks registered by attacks.py, by name prefix.
_ENGLISH_PREFIXES = {"piper-": "piper", "festival-": "festival", "kokoro-": "kokoro"}


def _runner(engine: str, voice: str) -> Callable[[AttackInput], Generated]:
    def run(item: AttackInput) -> Generated:
        from voxlab.generation.neural.engines import get_engine

        return get_engine(engine).synthesize(
            item.text, voice=voice, seed=item.seed, sample_rate=item.sample_rate
        )

    run.__name__ = f"_wild_{engine}_{voice}"
    return run


for _id, (_name, _engine, _voice, _lang, _desc) in WILD_TTS.items():
    if _id not in ATTACKS:
        register_attack(_id, _name, _desc, kind="tts", requires=("text",))(_runner(_engine, _voice))


def engine_of(attack_id: str) -> tuple[str, str | None, str | None]:
    """``(engine, voice, language)`` of a TTS attack; language None = any (espeak-ng).

    Raises:
        ConfigError: Unknown attack id.
    """
    if attack_id in WILD_TTS:
        _, engine, voice, language, _ = WILD_TTS[attack_id]
        return engine, voice, language
    system = get_attack(attack_id)
    if "voice" in system.requires:  # V08: the espeak-ng voice of the target's language
        return "espeak", None, None
    for prefix, engine in _ENGLISH_PREFIXES.items():
        if system.name.startswith(prefix):
            voice = system.name[len(prefix) :] if engine == "kokoro" else None
            return engine, voice, "en"
    return "unknown", None, "unknown"


def unavailable(attack_id: str) -> str | None:
    """None when the TTS attack can run here, else why not (the engine's install hint)."""
    from voxlab.errors import VoxlabError
    from voxlab.generation.neural.engines import get_engine

    engine, voice, language = engine_of(attack_id)
    if language == "unknown":
        return f"attack {attack_id}: voxlab-wild does not know the language it speaks"
    try:
        tts = get_engine(engine)
        missing = tts.missing()
        if missing is None and voice is not None and engine != "piper":
            ids = {v.id for v in tts.voices()}
            if voice not in ids and not any(i.startswith(voice) for i in ids):
                missing = f"voice {voice} of {engine} is not installed"
    except VoxlabError as exc:
        missing = str(exc)
    return missing
