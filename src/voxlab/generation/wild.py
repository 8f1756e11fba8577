"""voxlab-wild: an ASVspoof 2019 LA-style corpus of real human speech and today's spoofs.

Bona fide: the package-shipped human recordings of :mod:`voxlab.data.sources`. Spoofs of
every bona fide utterance: copy-synthesis with voxlab's vocoders (V01-V05), WORLD voice
conversion to another speaker of the split (V06), and one text-to-speech spoof of the
transcript (or, where the package has none, of a sentence of the speaker's language) by
a TTS system of the split that speaks that language (:mod:`.wild_tts`: espeak-ng,
festival, Piper, Kokoro), so every utterance has the same number of spoofs and language
never tells the classes apart. TTS systems whose engine is not installed are left out
(the README says which and why).

* Speakers are disjoint across train/dev/eval; the speakers of ``heldout_sources`` are
  all in eval, so eval holds human sources never seen in training, and ``eval_attacks``
  may hold systems never seen in training.
* Both classes pass through one finishing chain (:mod:`._wild_channel`): native band of
  the source recording, silence trimming, loudness, leading/trailing silence and a
  channel condition (telephone band, MP3, AAC, Opus, noise, reverberation), all drawn
  from the utterance id's seed, never from its class.
* Output: the layout of :mod:`.corpus` (protocols, ``ASVspoof2019_LA_<split>/flac``,
  ``manifest.jsonl`` with provenance, ``corpus.json``, ``README.md``) plus
  leave-one-system-out and leave-one-source-out protocols and the shortcut report
  (``shortcuts.json``; see :mod:`.wild_report`).

Resumable and deterministic like :func:`voxlab.generation.corpus.make_corpus`.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import ConfigError, DataError
from voxlab.generation import _wild_tasks as tasks
from voxlab.generation._wild_channel import CHANNELS, draw_finish
from voxlab.generation.attacks import get_attack
from voxlab.generation.base import derive_seed
from voxlab.generation.corpus import SPLIT_LETTER, SPLITS, _check_settings, _executor, _run_all
from voxlab.generation.wild_tts import engine_of, unavailable

DEFAULT_HELDOUT_SOURCES = ("asterisk-es-co", "gcin-voice")
DEFAULT_ATTACKS = ("V01", "V03", "V04", "V06", "V07", "V08", "V10", "W01")
#: Eval adds unseen vocoders (V02 Harvest, V05 LPC) and unseen neural TTS (Piper V09,
#: Kokoro V16 af_heart and W02-W04).
DEFAULT_EVAL_ATTACKS = (
    "V01", "V02", "V03", "V04", "V05", "V06", "V07", "V08", "V09", "V10", "V16",
    "W01", "W02", "W03", "W04",
)  # fmt: skip

#: espeak-ng voice of each source language (TTS target stand-ins).
ESPEAK_VOICE = {
    "ru": "ru",
    "it": "it",
    "fr": "fr-fr",
    "es": "es",
    "cs": "cs",
    "zh": "cmn",
    "en": "en-us",
}

#: Sentences for TTS where a source has no transcript (written for voxlab).
WILD_SENTENCES: dict[str, tuple[str, ...]] = {
    "ru": (
        "Поезд до Москвы отправляется через десять минут.",
        "Пожалуйста, оставьте сообщение после сигнала.",
        "Сегодня вечером будет тёплая и ясная погода.",
        "Мы встретимся у входа в старый парк.",
        "Ваш звонок очень важен для нас.",
        "Библиотека открыта с девяти утра до шести вечера.",
    ),
    "it": (
        "Il treno per Roma partirà tra dieci minuti.",
        "Per favore, lasci un messaggio dopo il segnale.",
        "Stasera il tempo sarà sereno e mite.",
        "Ci vediamo davanti alla vecchia stazione.",
        "La sua chiamata è molto importante per noi.",
        "Il negozio apre alle nove del mattino.",
    ),
    "cs": (
        "Vlak do Prahy odjíždí za deset minut.",
        "Prosím, zanechte vzkaz po zvukovém signálu.",
        "Dnes večer bude jasno a teplo.",
        "Sejdeme se u vchodu do starého parku.",
        "Ryba plave pomalu kolem potopené lodi.",
        "Knihovna je otevřená od devíti hodin ráno.",
    ),
    "zh": (
        "火车十分钟后出发。",
        "请在提示音后留言。",
        "今天晚上天气晴朗温暖。",
        "我们在老公园门口见面。",
        "您的电话对我们非常重要。",
        "图书馆早上九点开门。",
    ),
    "fr": (
        "Le train pour Lyon partira dans dix minutes.",
        "Veuillez laisser un message après le signal sonore.",
        "Ce soir, le temps sera clair et doux.",
        "Nous nous retrouverons devant le vieux parc.",
    ),
    "es": (
        "El tren a Bogotá sale en diez minutos.",
        "Por favor, deje su mensaje después de la señal.",
        "Esta noche el tiempo será claro y templado.",
        "Nos vemos en la entrada del parque viejo.",
    ),
    "en": (
        "The birch canoe slid on the smooth planks.",
        "Please leave a message after the tone.",
        "The train to the city leaves in ten minutes.",
        "Rice is often served in round bowls.",
    ),
}
#: TTS built from the bona fide recordings themselves (festival clunits of festvox-ru):
#: it speaks a sentence of the language, not the transcript, which it would re-splice.
SPLICING_TTS = frozenset({"W01"})
#: Characters per second assumed when choosing a sentence of about the right length.
_CHARS_PER_S = {"zh": 4.0}


@dataclass(frozen=True)
class WildConfig:
    """Settings of a voxlab-wild corpus (stored in ``corpus.json``).

    Attributes:
        sources: Speech source ids (all installed ones when empty).
        heldout_sources: Sources whose speakers are only in eval.
        attacks: Attack ids of train and dev.
        eval_attacks: Attack ids of eval (may hold unseen systems).
        per_speaker: Bona fide utterances per speaker at most (the size knob).
        min_seconds: Shorter recordings of a speaker are joined up to this length.
        max_seconds: Longer utterances are cut to this length.
        channels: Channel conditions drawn from (:data:`_wild_channel.CHANNELS`).
        seed: Seed of every choice.
        sources_dir: Prepared sources (``$VOXLAB_HOME/sources`` when None).
        prepare_per_speaker: Recordings per speaker when preparing a source (all if None).
        watermark: Watermark the spoofs (off by default: a shortcut for detectors).
        n_parallel: Parallel pairs (TTS of a transcript, the speaker's recording of it)
            of each V07 converter; speakers with fewer spare transcribed recordings get
            no V07 spoofs.
        per_language: Bona fide utterances per language at most, taken round-robin over
            the language's speakers (balances languages with many speakers); no cap if
            None.
    """

    sources: tuple[str, ...] = ()
    heldout_sources: tuple[str, ...] = DEFAULT_HELDOUT_SOURCES
    attacks: tuple[str, ...] = DEFAULT_ATTACKS
    eval_attacks: tuple[str, ...] = DEFAULT_EVAL_ATTACKS
    per_speaker: int = 40
    min_seconds: float = 1.5
    max_seconds: float = 6.0
    channels: tuple[str, ...] = tuple(CHANNELS)
    seed: int = 0
    sources_dir: str | None = None
    prepare_per_speaker: int | None = None
    watermark: bool = False
    n_parallel: int = 6
    per_language: int | None = None

    def __post_init__(self) -> None:
        if self.per_speaker < 1:
            raise ConfigError(f"per_speaker must be at least 1, got {self.per_speaker}")
        if not 0 < self.min_seconds < self.max_seconds:
            raise ConfigError(
                f"need 0 < min_seconds < max_seconds, got {self.min_seconds}, {self.max_seconds}"
            )
        for name in self.channels:
            if name not in CHANNELS:
                raise ConfigError(f"unknown channel {name!r}; known: {', '.join(CHANNELS)}")
        if self.per_language is not None and self.per_language < 1:
            raise ConfigError(f"per_language must be at least 1, got {self.per_language}")
        if self.n_parallel < 2:
            raise ConfigError(f"n_parallel must be at least 2, got {self.n_parallel}")
        for attack_id in (*self.attacks, *self.eval_attacks):
            system = get_attack(attack_id)
            if "converter" in system.requires and attack_id != "V07":
                raise ConfigError(
                    f"attack {attack_id} ({system.name}) needs parallel recordings, which "
                    "voxlab-wild builds for V07 only; leave it out"
                )

    def split_attacks(self, split: str) -> tuple[str, ...]:
        """Attack ids used in a split."""
        return tuple(self.eval_attacks) if split == "eval" else tuple(self.attacks)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what ``corpus.json`` holds)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, tuple):
                data[key] = list(value)
        data["corpus"] = "voxlab-wild"
        return data


@dataclass
class WildPlan:
    """Everything the build makes, decided before any audio is generated."""

    config: WildConfig
    sources: dict[str, dict[str, Any]]
    split_of: dict[str, str]
    speaker_source: dict[str, str]
    segments: list[dict[str, Any]] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    converters: dict[str, dict[str, Any]] = field(default_factory=dict)


def _segments_of(utts: list, config: WildConfig) -> list[list]:
    """Consecutive recordings of one speaker joined until ``min_seconds``."""
    groups, current, length = [], [], 0.0
    for utt in utts:
        current.append(utt)
        length += float(utt.extra["duration"]) + (tasks.GAP_S if len(current) > 1 else 0.0)
        if length >= config.min_seconds:
            groups.append(current)
            current, length = [], 0.0
    return groups


def _assign_splits(
    speakers: dict[str, int], heldout: set[str], rng: np.random.Generator
) -> dict[str, str]:
    """Speaker -> split: held-out ones to eval; the rest greedily toward 50/25/25 %."""
    split_of = {spk: "eval" for spk in speakers if spk in heldout}
    free = sorted(spk for spk in speakers if spk not in heldout)
    free = [free[i] for i in rng.permutation(len(free))]
    free.sort(key=lambda s: -speakers[s])  # stable: biggest first, ties in seeded order
    target = {"train": 0.5, "dev": 0.25, "eval": 0.25}
    total = max(1, sum(speakers[s] for s in free))
    have = dict.fromkeys(SPLITS, 0)
    for i, spk in enumerate(free):
        empty = [s for s in SPLITS if have[s] == 0 and not (s == "eval" and split_of)]
        left = len(free) - i
        if empty and left <= len(empty):
            split = empty[0]
        else:
            split = max(SPLITS, key=lambda s: target[s] - have[s] / total)
        split_of[spk] = split
        have[split] += speakers[spk]
    return split_of


def make_wild_plan(config: WildConfig) -> WildPlan:
    """Prepares the sources (reusing earlier preparations) and plans every item.

    Raises:
        DataError: No installed source, or too few speakers for three splits.
        MissingSourceError: A named source is not installed.
    """
    from voxlab.data.sources import SOURCES, get_source, prepare_source

    names = list(config.sources) or [n for n, s in SOURCES.items() if s.available()]
    if not names:
        raise DataError("no speech source is installed: run `make data`")
    rng = np.random.default_rng(config.seed)
    prepared, by_speaker, speaker_source = {}, {}, {}
    for name in names:
        source = get_source(name)
        result = prepare_source(source, config.sources_dir, per_speaker=config.prepare_per_speaker)
        prepared[name] = {
            "package": source.package,
            "version": result.summary["package_version"],
            "language": source.language,
            "licence": source.licence,
            "copyright": source.copyright,
            "description": source.description,
        }
        for utt in result.kept:
            by_speaker.setdefault(utt.speaker, []).append(utt)
            speaker_source[utt.speaker] = name
    chosen: dict[str, list[list]] = {}
    for speaker in sorted(by_speaker):
        groups = _segments_of(by_speaker[speaker], config)
        if not groups:
            continue
        pick = sorted(rng.permutation(len(groups))[: config.per_speaker])
        chosen[speaker] = [groups[i] for i in pick]
    if config.per_language is not None:
        _cap_languages(chosen, config.per_language, prepared, speaker_source)
    converters = _converter_specs(config, by_speaker, chosen, prepared, speaker_source)
    counts = {spk: len(groups) for spk, groups in chosen.items()}
    split_of = _assign_splits(counts, set(_heldout_speakers(config, speaker_source)), rng)
    missing = [s for s in SPLITS if s not in split_of.values()]
    if missing:
        raise DataError(
            f"voxlab-wild needs speakers in every split; {', '.join(missing)} got none from "
            f"sources {', '.join(names)}: add sources or hold fewer out"
        )
    plan = WildPlan(config, prepared, split_of, speaker_source, converters=converters)
    for attack_id in sorted({a for s in SPLITS for a in config.split_attacks(s)}):
        if get_attack(attack_id).kind == "tts":
            why = unavailable(attack_id)
            if why:
                plan.left_out[attack_id] = why
    members = {s: sorted(spk for spk, sp in split_of.items() if sp == s) for s in SPLITS}
    n_items = sum(
        len(groups) * (2 + len(config.split_attacks(split_of[spk])))
        for spk, groups in chosen.items()
    )  # an upper bound: ids are drawn without replacement
    numbers = iter(rng.choice(9_000_000, size=n_items, replace=False) + 1_000_000)
    for speaker in sorted(chosen):
        split = split_of[speaker]
        source = speaker_source[speaker]
        language = prepared[source]["language"]
        partners = [s for s in members[split] if s != speaker]
        for group in chosen[speaker]:
            plan.segments.append(
                _segment(config, split, speaker, source, language, group, partners, numbers,
                         plan.left_out, converters.get(speaker))
            )  # fmt: skip
    plan.items = [it for seg in plan.segments for it in (seg["bonafide"], *seg["spoofs"])]
    return plan


def _cap_languages(chosen, cap, prepared, speaker_source) -> None:
    """At most ``cap`` utterances per language, taken round-robin over its speakers."""
    by_language: dict[str, list[str]] = {}
    for speaker in sorted(chosen):
        by_language.setdefault(prepared[speaker_source[speaker]]["language"], []).append(speaker)
    for speakers in by_language.values():
        keep = dict.fromkeys(speakers, 0)
        left = cap
        while left > 0 and any(keep[s] < len(chosen[s]) for s in speakers):
            for s in speakers:
                if left > 0 and keep[s] < len(chosen[s]):
                    keep[s] += 1
                    left -= 1
        for s in speakers:
            chosen[s] = chosen[s][: keep[s]]
            if not chosen[s]:
                del chosen[s]


def _heldout_speakers(config: WildConfig, speaker_source: dict[str, str]) -> list[str]:
    return [spk for spk, src in speaker_source.items() if src in config.heldout_sources]


def _item(config, split, utt_id, speaker, key, attack, text, source) -> dict[str, Any]:
    return {
        "utt_id": utt_id,
        "split": split,
        "speaker": speaker,
        "key": key,
        "attack": attack,
        "role": "cm",
        "text": text,
        "source": source,
        "path": f"ASVspoof2019_LA_{split}/flac/{utt_id}.flac",
        "watermark": config.watermark,
        "finish": draw_finish(derive_seed(config.seed, utt_id, "finish"), channels=config.channels),
    }


def _tts_for(attacks: tuple[str, ...], language: str, left_out: dict[str, str]) -> list[str]:
    """The split's TTS attacks that can run here and speak ``language``."""
    out = []
    for attack_id in attacks:
        if get_attack(attack_id).kind != "tts" or attack_id in left_out:
            continue
        spoken = engine_of(attack_id)[2]
        if spoken is None or spoken == language:
            out.append(attack_id)
    return out


def _tts_voice(config: WildConfig, speaker: str, language: str) -> dict[str, Any]:
    variant = ("m3", "f2", "m1", "f4")[derive_seed(config.seed, speaker) % 4]
    return {"voice": ESPEAK_VOICE.get(language, "en-us"), "variant": variant}


def _converter_specs(config, by_speaker, chosen, prepared, speaker_source):
    """V07 converters: espeak-ng TTS of a speaker's transcripts -> the speaker's recordings.

    The parallel pairs come from transcribed recordings of the speaker that are in no
    utterance of the corpus; speakers without ``n_parallel`` of them get no converter.
    """
    wanted = {a for s in SPLITS for a in config.split_attacks(s)}
    specs: dict[str, dict[str, Any]] = {}
    if "V07" not in wanted:
        return specs
    for speaker, groups in chosen.items():
        language = prepared[speaker_source[speaker]]["language"]
        if language == "zh":  # Zhuyin syllables are not text espeak-ng reads
            continue
        used = {u.utt_id for group in groups for u in group}
        spare = [u for u in by_speaker[speaker]
                 if u.utt_id not in used and u.extra.get("transcript")]  # fmt: skip
        if len(spare) < config.n_parallel:
            continue
        specs[speaker] = {
            "cache": f".voxlab/converters/tts__{speaker}.npz",
            "voice": _tts_voice(config, speaker, language),
            "pairs": [
                {"text": u.extra["transcript"], "target_file": u.path}
                for u in spare[: config.n_parallel]
            ],
            "seed": derive_seed(config.seed, speaker, "gmm"),
        }
    return specs


def _segment(
    config, split, speaker, source, language, group, partners, numbers, left_out, converter
):
    texts = [u.extra.get("transcript") for u in group]
    transcript = " ".join(texts) if all(texts) and language != "zh" else None
    seconds = min(
        config.max_seconds,
        sum(float(u.extra["duration"]) for u in group) + tasks.GAP_S * (len(group) - 1),
    )
    letter = SPLIT_LETTER[split]
    bona = _item(
        config, split, f"LA_{letter}_{next(numbers)}", speaker, "bonafide", "-", transcript, source
    )
    bona["source_utts"] = [u.utt_id for u in group]
    spoofs = []
    attacks = config.split_attacks(split)
    chosen = [a for a in attacks if get_attack(a).kind != "tts"]
    if not (converter and transcript):  # V07 converts TTS of the transcript to the speaker
        chosen = [a for a in chosen if a != "V07"]
    tts = _tts_for(attacks, language, left_out)
    if tts:  # one TTS spoof per utterance, by a system that speaks its language
        chosen.append(tts[derive_seed(config.seed, bona["utt_id"], "tts") % len(tts)])
    for attack_id in chosen:
        system = get_attack(attack_id)
        utt_id = f"LA_{letter}_{next(numbers)}"
        target, text = None, transcript
        if attack_id == "V07":
            target = {"speaker": speaker, "voice": converter["voice"],
                      "converter": converter["cache"]}  # fmt: skip
        elif system.kind == "vc":
            if not partners:
                continue  # a split with one speaker has nobody to convert to
            target_speaker = partners[derive_seed(config.seed, utt_id) % len(partners)]
            target = {"speaker": target_speaker}
        elif system.kind == "tts":
            text = transcript or _sentence(language, seconds, derive_seed(config.seed, utt_id))
            if attack_id in SPLICING_TTS:  # never re-splice the recording of this very text
                text = _sentence(language, seconds, derive_seed(config.seed, utt_id))
            target = {"speaker": speaker, "voice": _tts_voice(config, speaker, language)}
        label = target["speaker"] if target else speaker
        spoof = _item(config, split, utt_id, label, "spoof", attack_id, text, source)
        spoof["target"] = target
        spoofs.append(spoof)
    return {
        "speaker": speaker,
        "source": source,
        "split": split,
        "clips": [u.path for u in group],
        "native_sr": int(min(u.extra["original_sample_rate"] for u in group)),
        "max_seconds": config.max_seconds,
        "seconds": seconds,
        "bonafide": bona,
        "spoofs": spoofs,
    }


def _sentence(language: str, seconds: float, seed: int) -> str:
    """A sentence of the language whose expected length is nearest ``seconds``."""
    bank = WILD_SENTENCES.get(language, WILD_SENTENCES["en"])
    rate = _CHARS_PER_S.get(language, 14.0)
    order = sorted(
        range(len(bank)), key=lambda i: (abs(len(bank[i]) / rate - seconds), (i + seed) % len(bank))
    )
    return bank[order[seed % min(2, len(order))]]


@dataclass
class WildResult:
    """What a build did: counts per split, made/kept files, failures, seconds, shortcuts."""

    out: Path
    counts: dict[str, dict[str, int]]
    made: int
    kept: int
    failed: list[dict[str, str]]
    seconds: float
    shortcuts: dict[str, Any]


def make_wild(
    config: WildConfig,
    out: str | os.PathLike,
    *,
    workers: int = 1,
    progress: bool = True,
) -> WildResult:
    """Builds (or resumes) a voxlab-wild corpus and its shortcut report.

    Args:
        config: What to build.
        out: Corpus folder (created; an existing one must hold the same settings).
        workers: Processes (1 = in this process).
        progress: Show a progress bar on stderr.

    Returns:
        Counts, made/kept numbers, per-item failures and the shortcut EERs.
    """
    from tqdm.auto import tqdm

    from voxlab.generation.wild_report import write_wild_outputs

    started = time.perf_counter()
    root = Path(out).expanduser()
    plan = make_wild_plan(config)
    _check_settings(root, config)
    bar = tqdm(
        total=len(plan.items) + len(plan.segments),
        desc="voxlab-wild",
        unit="file",
        disable=not progress,
        leave=False,
    )
    with contextlib.ExitStack() as stack:
        stack.callback(bar.close)
        pool = stack.enter_context(_executor(workers))
        jobs = [(tasks.segment_f0, (os.fspath(root), seg), 1) for seg in plan.segments]
        jobs += [
            (tasks.train_tts_converter, (os.fspath(root), spec), 0)
            for spec in plan.converters.values()
        ]
        first = _run_all(jobs, pool, bar.update)
        sums: dict[str, list[float]] = {}
        for seg, report in zip(plan.segments, first, strict=False):
            acc = sums.setdefault(seg["speaker"], [0, 0.0, 0.0])
            for i in range(3):
                acc[i] += report["f0"][i]
        f0 = {spk: tasks.f0_stats(tuple(acc)) for spk, acc in sums.items()}
        f0 = {spk: asdict(stats) for spk, stats in f0.items() if stats is not None}
        jobs = [
            (
                tasks.make_segment,
                (os.fspath(root), seg, seg["spoofs"], config.seed, f0),
                1 + len(seg["spoofs"]),
            )
            for seg in plan.segments
        ]
        reports = first + _run_all(jobs, pool, bar.update)
    failed = [f for report in reports for f in report["failed"]]
    bad = {f["utt_id"] for f in failed}
    done = [item for item in plan.items if item["utt_id"] not in bad]
    shortcuts = write_wild_outputs(root, plan, done)
    counts: dict[str, Counter] = {}
    for item in done:
        counts.setdefault(item["split"], Counter())[item["key"]] += 1
    return WildResult(
        out=root,
        counts={split: dict(counts.get(split, {})) for split in SPLITS},
        made=sum(r["made"] for r in reports),
        kept=sum(r["kept"] for r in reports),
        failed=failed,
        seconds=time.perf_counter() - started,
        shortcuts=shortcuts,
    )
