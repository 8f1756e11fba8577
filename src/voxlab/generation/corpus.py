"""Build an ASVspoof 2019 LA-style bona fide/spoof corpus with voxlab's attack systems.

Output layout (``out`` is the corpus root, read back by
:func:`voxlab.data.corpora.asvspoof2019.prepare_asvspoof2019`)::

    ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.{train.trn,dev.trl,eval.trl}.txt
    ASVspoof2019_LA_{train,dev,eval}/flac/<utt_id>.flac
    ASVspoof2019_LA_asv_protocols/ASVspoof2019.LA.asv.{dev,eval}.gi.{trn,trl}.txt
    manifest.jsonl        one Utterance per file, provenance in ``extra``
    corpus.json           the settings (a resumed build must use the same)
    README.md             what was made

Speakers are split disjointly into train/dev/eval (half, a quarter, a quarter; at least
two each). Every CM bona fide utterance is spoofed once by each attack of its split
(``eval_attacks`` for eval, so eval may hold unseen attacks); conversion attacks imitate
the next speaker of the same split and are labelled with that speaker, as in ASVspoof.
Dev and eval speakers also get ASV enrollment utterances (not in the CM protocols).

The build is resumable (existing valid files are kept), parallel (``workers`` spawned
processes, one BLAS thread each) and deterministic: the same settings give the same
files, bit for bit.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.errors import ConfigError, DataError
from voxlab.generation import _corpus_tasks as tasks
from voxlab.generation._corpus_files import write_outputs
from voxlab.generation._sources import (
    LAYOUT,
    SourceSpeaker,
    espeak_speakers,
    folder_speakers,
    normalise_text,
    sentence,
)
from voxlab.generation.attacks import get_attack
from voxlab.generation.base import derive_seed, one_blas_thread

SPLITS = ("train", "dev", "eval")
SPLIT_LETTER = {"train": "T", "dev": "D", "eval": "E"}
DEFAULT_ATTACKS = ("V01", "V03", "V04", "V06")
DEFAULT_EVAL_ATTACKS = ("V01", "V02", "V03", "V04", "V05", "V06", "V07")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class CorpusConfig:
    """Settings of a corpus (stored in ``corpus.json``).

    Attributes:
        bonafide: ``"espeak"`` for stand-in speakers, or a folder of recordings.
        attacks: Attack ids of train and dev.
        eval_attacks: Attack ids of eval (``attacks`` when None).
        seed: Seed of every choice (speakers, splits, ids, attack randomness).
        n_speakers: Number of espeak stand-in speakers (ignored for a folder).
        n_utterances: CM bona fide utterances per speaker (a folder: at most this many).
        n_enroll: ASV enrollment utterances per dev/eval speaker.
        n_parallel: Parallel utterance pairs per GMM converter.
        watermark: Embed voxlab's watermark in generated audio (espeak bona fide and
            spoofs; real recordings never). Switch it off for countermeasure training
            corpora, where a watermark would be a shortcut; the AI-generated tag stays.
    """

    bonafide: str = "espeak"
    attacks: tuple[str, ...] = DEFAULT_ATTACKS
    eval_attacks: tuple[str, ...] | None = None
    seed: int = 0
    n_speakers: int = 8
    n_utterances: int = 10
    n_enroll: int = 2
    n_parallel: int = 6
    watermark: bool = True

    def __post_init__(self) -> None:
        for name in ("n_speakers", "n_utterances", "n_parallel"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.n_enroll < 0:
            raise ConfigError(f"n_enroll must be >= 0, got {self.n_enroll}")
        for attack_id in (*self.attacks, *(self.eval_attacks or ())):
            get_attack(attack_id)

    def split_attacks(self, split: str) -> tuple[str, ...]:
        """Attack ids used in a split."""
        if split == "eval" and self.eval_attacks is not None:
            return tuple(self.eval_attacks)
        return tuple(self.attacks)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what ``corpus.json`` holds)."""
        data = asdict(self)
        data["attacks"] = list(self.attacks)
        data["eval_attacks"] = list(self.split_attacks("eval"))
        if self.bonafide != "espeak":
            data["bonafide"] = os.fspath(Path(self.bonafide).expanduser().resolve())
        return data


@dataclass
class Plan:
    """Everything the build will make, decided before any audio is generated."""

    config: CorpusConfig
    speakers: dict[str, SourceSpeaker]
    split_of: dict[str, str]
    partner: dict[str, str]
    items: list[dict[str, Any]] = field(default_factory=list)
    converters: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def by_key(self, key: str) -> list[dict[str, Any]]:
        """Items with key ``bonafide`` or ``spoof``."""
        return [item for item in self.items if item["key"] == key]


@dataclass
class CorpusResult:
    """What a build did.

    Attributes:
        out: Corpus folder.
        counts: ``{split: {"bonafide": n, "spoof": n, "enroll": n}}`` of written items.
        made: Files generated by this run.
        kept: Files already present and valid (resumed).
        failed: ``{"utt_id", "error"}`` per item that could not be made.
        seconds: Wall time of the build.
    """

    out: Path
    counts: dict[str, dict[str, int]]
    made: int
    kept: int
    failed: list[dict[str, str]]
    seconds: float


def _audio_path(split: str, utt_id: str) -> str:
    return f"ASVspoof2019_LA_{split}/flac/{utt_id}.flac"


def make_plan(config: CorpusConfig) -> Plan:
    """Decides speakers, splits, utterance ids, texts, sources and targets.

    Raises:
        DataError: Too few speakers or utterances, missing transcripts for TTS, no
            parallel data for GMM conversion, or espeak TTS asked for an espeak corpus.
    """
    rng = np.random.default_rng(config.seed)
    all_attacks = {a for s in SPLITS for a in config.split_attacks(s)}
    espeak = config.bonafide == "espeak"
    if espeak and "V08" in all_attacks:
        raise DataError(
            "attack V08 (espeak-ng TTS) cannot spoof an espeak stand-in corpus, whose bona fide "
            "side is espeak-ng speech already; use it with --bonafide DIR"
        )
    if espeak:
        pool = espeak_speakers(config.n_speakers, seed=config.seed)
    else:
        pool = folder_speakers(config.bonafide, seed=config.seed)
    if len(pool) < 6:
        raise DataError(
            f"a corpus needs at least 6 speakers (2 per split), got {len(pool)}"
            + ("; raise --speakers" if espeak else f" in {config.bonafide}: {LAYOUT}")
        )
    order = [pool[i] for i in rng.permutation(len(pool))]
    n_train = max(2, round(len(order) * 0.5))
    n_dev = max(2, round(len(order) * 0.25))
    n_train = min(n_train, len(order) - n_dev - 2)
    groups = {
        "train": order[:n_train],
        "dev": order[n_train : n_train + n_dev],
        "eval": order[n_train + n_dev :],
    }
    plan = Plan(config=config, speakers={s.id: s for s in pool}, split_of={}, partner={})
    for split, members in groups.items():
        for i, spk in enumerate(members):
            plan.split_of[spk.id] = split
            plan.partner[spk.id] = members[(i + 1) % len(members)].id

    bona = []  # (split, speaker, role, text, source)
    for split in SPLITS:
        n_enroll = config.n_enroll if split != "train" else 0
        for spk in groups[split]:
            if espeak:
                start = int(rng.integers(0, 1000))
                rows = [
                    (sentence(spk.language, start + i), "espeak")
                    for i in range(n_enroll + config.n_utterances)
                ]
            else:
                rows = [(text, path) for path, text in spk.files]
                if len(rows) < n_enroll + 1:
                    raise DataError(
                        f"speaker {spk.id} has {len(rows)} recording(s); {split} needs at least "
                        f"{n_enroll + 1} ({n_enroll} for ASV enrollment)"
                    )
                rows = rows[: n_enroll + config.n_utterances]
            for i, (text, source) in enumerate(rows):
                role = "enroll" if i < n_enroll else "cm"
                bona.append((split, spk.id, role, text, source))
    n_spoof = sum(len(config.split_attacks(split)) for split, _, role, _, _ in bona if role == "cm")
    numbers = iter(rng.choice(9_000_000, size=len(bona) + n_spoof, replace=False) + 1_000_000)
    for split, speaker, role, text, source in bona:
        utt_id = f"LA_{SPLIT_LETTER[split]}_{next(numbers)}"
        plan.items.append(
            {
                "utt_id": utt_id,
                "split": split,
                "speaker": speaker,
                "key": "bonafide",
                "attack": "-",
                "role": role,
                "text": text,
                "source": source,
                "path": _audio_path(split, utt_id),
            }
        )
    for src in [item for item in plan.items if item["role"] == "cm"]:
        for attack_id in config.split_attacks(src["split"]):
            system = get_attack(attack_id)
            if "text" in system.requires and not src["text"]:
                raise DataError(
                    f"attack {attack_id} needs transcripts, but {src['source']} has none "
                    "(add a text column to metadata.csv or a .txt beside the audio)"
                )
            target = plan.partner[src["speaker"]] if system.kind == "vc" else src["speaker"]
            utt_id = f"LA_{SPLIT_LETTER[src['split']]}_{next(numbers)}"
            plan.items.append(
                {
                    "utt_id": utt_id,
                    "split": src["split"],
                    "speaker": target,
                    "key": "spoof",
                    "attack": attack_id,
                    "role": "cm",
                    "text": src["text"],
                    "source": src["utt_id"],
                    "path": _audio_path(src["split"], utt_id),
                }
            )
            if attack_id == "V07":
                plan.converters.setdefault((src["speaker"], target), {})
    for source, target in plan.converters:
        plan.converters[(source, target)] = _converter_spec(plan, source, target)
    for item in plan.items:
        item["watermark"] = config.watermark
    return plan


def _converter_spec(plan: Plan, source: str, target: str) -> dict[str, Any]:
    config = plan.config
    src, tgt = plan.speakers[source], plan.speakers[target]
    if config.bonafide == "espeak":
        # Parallel data: the source's sentences read by the source voice and by the
        # target's variant, pitch and speed in the source's language.
        target_voice = {**src.voice.to_dict(), **{
            k: v for k, v in tgt.voice.to_dict().items() if k != "voice"
        }}  # fmt: skip
        start = derive_seed(config.seed, source, "parallel") % 1000
        pairs = [
            {
                "text": sentence(src.language, start + i),
                "source_voice": src.voice.to_dict(),
                "target_voice": target_voice,
            }
            for i in range(config.n_parallel)
        ]
    else:
        root = os.fspath(Path(config.bonafide).expanduser().resolve())
        by_text = {normalise_text(t): p for p, t in tgt.files if normalise_text(t)}
        pairs = [
            {"source_file": p, "target_file": by_text[normalise_text(t)], "root": root}
            for p, t in src.files
            if normalise_text(t) in by_text
        ][: config.n_parallel]
        if len(pairs) < 2:
            raise DataError(
                f"attack V07 (GMM VC) needs parallel recordings: speakers {source} and {target} "
                f"share {len(pairs)} transcript(s), at least 2 are needed; add transcripts "
                "(metadata.csv text column) or leave V07 out"
            )
    return {
        "cache": f".voxlab/converters/{source}__{target}.npz",
        "pairs": pairs,
        "seed": derive_seed(config.seed, source, target, "gmm"),
    }


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in _THREAD_VARS}
    os.environ.update({name: "1" for name in _THREAD_VARS})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _executor(workers: int) -> Iterator[ProcessPoolExecutor | None]:
    """A spawned process pool with one BLAS/OpenMP thread per worker (None when serial)."""
    if workers <= 1:
        with one_blas_thread():
            yield None
        return
    with (
        _single_threaded_children(),
        ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool,
    ):
        yield pool


def _run_all(
    jobs: list[tuple[Callable, tuple, int]],
    pool: ProcessPoolExecutor | None,
    progress: Callable[[int], None],
) -> list[dict[str, Any]]:
    """Runs ``(function, args, n_items)`` jobs (in order when serial); one report per job."""
    if pool is None:
        reports = []
        for fn, args, n in jobs:
            reports.append(fn(*args))
            progress(n)
        return reports
    reports: list[dict[str, Any] | None] = [None] * len(jobs)
    futures = {pool.submit(fn, *args): (i, n) for i, (fn, args, n) in enumerate(jobs)}
    for future in as_completed(futures):
        i, n = futures[future]
        reports[i] = future.result()
        progress(n)
    return reports


def _check_settings(out: Path, config: CorpusConfig) -> None:
    settings = out / "corpus.json"
    wanted = config.to_dict()
    if settings.is_file():
        try:
            found = json.loads(settings.read_text(encoding="utf-8"))
        except ValueError:
            found = None
        if found != wanted:
            raise ConfigError(
                f"{out} holds a corpus built with other settings ({settings}); use another "
                "--out, or delete the folder to rebuild"
            )
    else:
        out.mkdir(parents=True, exist_ok=True)
        tmp = settings.with_name(".corpus.json.partial")
        tmp.write_text(json.dumps(wanted, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, settings)


def make_corpus(
    config: CorpusConfig,
    out: str | os.PathLike,
    *,
    workers: int = 1,
    progress: bool = True,
) -> CorpusResult:
    """Builds (or resumes) a corpus.

    Args:
        config: What to build.
        out: Corpus folder (created; an existing one must hold the same settings).
        workers: Processes (1 = in this process).
        progress: Show a tqdm progress bar on stderr.

    Returns:
        Counts, made/kept numbers and per-item failures.

    Raises:
        DataError, ConfigError: The settings cannot make a corpus (nothing is written).
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    root = Path(out).expanduser()
    plan = make_plan(config)
    _check_settings(root, config)
    bonafide = plan.by_key("bonafide")
    spoofs = plan.by_key("spoof")
    espeak = config.bonafide == "espeak"
    source_root = None if espeak else os.fspath(Path(config.bonafide).expanduser().resolve())
    total = len(plan.items) + len(plan.converters)
    bar = tqdm(total=total, desc="corpus", unit="file", disable=not progress, leave=False)
    reports: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        stack.callback(bar.close)
        pool = stack.enter_context(_executor(workers))
        jobs = [
            (
                tasks.make_bonafide,
                (
                    os.fspath(root),
                    item,
                    plan.speakers[item["speaker"]].voice.to_dict() if espeak else None,
                    source_root,
                ),
                1,
            )
            for item in bonafide
        ]
        jobs += [
            (
                tasks.train_converter,
                (os.fspath(root), spec["cache"], spec["pairs"], spec["seed"]),
                1,
            )
            for spec in plan.converters.values()
        ]
        first = _run_all(jobs, pool, bar.update)
        reports += first
        sums: dict[str, list[float]] = {}
        for item, report in zip(bonafide, first, strict=False):
            acc = sums.setdefault(item["speaker"], [0, 0.0, 0.0])
            for i in range(3):
                acc[i] += report["f0"][i]
        f0 = {spk: tasks.f0_stats(tuple(acc)) for spk, acc in sums.items()}
        by_source: dict[str, list[dict[str, Any]]] = {}
        speaker_of = {item["utt_id"]: item["speaker"] for item in bonafide}
        for item in spoofs:
            spec = _with_target(plan, item, f0, speaker_of)
            by_source.setdefault(item["source"], []).append(spec)
        jobs = [
            (tasks.make_spoofs, (os.fspath(root), src, by_source[src["utt_id"]], config.seed),
             len(by_source[src["utt_id"]]))
            for src in bonafide
            if src["utt_id"] in by_source
        ]  # fmt: skip
        reports += _run_all(jobs, pool, bar.update)
    failed = [f for report in reports for f in report["failed"]]
    bad = {f["utt_id"] for f in failed}
    done = [item for item in plan.items if item["utt_id"] not in bad]
    write_outputs(root, plan, done)
    counts: dict[str, dict[str, int]] = {}
    for item in done:
        kind = "enroll" if item["role"] == "enroll" else item["key"]
        counts.setdefault(item["split"], Counter())[kind] += 1
    return CorpusResult(
        out=root,
        counts={split: dict(counts.get(split, {})) for split in SPLITS},
        made=sum(r["made"] for r in reports),
        kept=sum(r["kept"] for r in reports),
        failed=failed,
        seconds=time.perf_counter() - started,
    )


def _with_target(
    plan: Plan, item: dict[str, Any], f0: dict, speaker_of: dict[str, str]
) -> dict[str, Any]:
    system = get_attack(item["attack"])
    source_item_speaker = speaker_of[item["source"]]
    if system.kind == "vocoder":
        return {**item, "target": None}
    target = item["speaker"]
    spec: dict[str, Any] = {"speaker": target}
    if system.kind == "vc":
        t, s = f0.get(target), f0.get(source_item_speaker)
        spec["f0"] = asdict(t) if t else None
        spec["source_f0"] = asdict(s) if s else None
        conv = plan.converters.get((source_item_speaker, target))
        spec["converter"] = conv["cache"] if conv else None
    else:
        spec["voice"] = plan.speakers[target].voice.to_dict()
    return {**item, "target": spec}
