"""Turn a package-shipped speech source into checked, trimmed 16 kHz FLAC and a manifest.

Output, under ``out/<source>/``::

    audio/<speaker>/<file>.flac   kept recordings: silences trimmed, 16 kHz mono
    manifest.jsonl                one bona fide Utterance per kept recording
    skipped.jsonl                 one Utterance per skipped file (its package path) with
                                  ``extra.reason``: silence, too_short, clipped, tone,
                                  duplicate, unreadable
    summary.json                  package, version, licence, counts, minutes

Every record's ``extra`` holds the provenance: source, package, package version,
registry, language, licence, original path, original sample rate and duration, trimmed
duration, content hash, transcript (None when the package has none). A prepared source is
reused when its summary matches the installed package version and the settings.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from voxlab.data.manifest import Utterance, read_manifest, write_manifest
from voxlab.data.sources._base import RawFile, SpeechSource, get_source
from voxlab.data.sources.checks import check_speech, content_hash, trim_silence
from voxlab.errors import ConfigError, VoxlabError

SAMPLE_RATE = 16_000
#: Version of the preparation recipe (bump when checks or trimming change).
RECIPE = 2


@dataclass
class PreparedSource:
    """A prepared source.

    Attributes:
        name: Source id.
        folder: Its output folder.
        kept: Manifest records of the kept recordings.
        skipped: Records of the skipped files (``extra.reason`` says why).
        summary: What ``summary.json`` holds.
        reused: Whether an earlier preparation was reused.
    """

    name: str
    folder: Path
    kept: list[Utterance]
    skipped: list[Utterance]
    summary: dict[str, Any]
    reused: bool = False


def default_sources_dir() -> Path:
    """``$VOXLAB_HOME/sources`` (default ``~/.cache/voxlab/sources``)."""
    home = os.environ.get("VOXLAB_HOME") or Path.home() / ".cache" / "voxlab"
    return Path(home).expanduser() / "sources"


def _clean(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]+", "_", text).strip("_") or "x"


def decode(raw: RawFile) -> tuple[np.ndarray, int]:
    """Native-rate mono samples of a recording (headerless PCM read with numpy).

    Raises:
        AudioError: The file cannot be decoded (the message names it).
    """
    from voxlab.audio import load
    from voxlab.errors import CorruptAudioError, SilentAudioWarning

    if raw.raw_rate is not None:
        data = np.fromfile(raw.path, dtype="<i2")
        if data.size == 0:
            raise CorruptAudioError(f"{raw.path}: empty headerless PCM file")
        return (data.astype(np.float32) / 32768.0), raw.raw_rate
    with warnings.catch_warnings():  # silence is checked (and reported) by check_speech
        warnings.simplefilter("ignore", SilentAudioWarning)
        samples, meta = load(raw.path, sr=None)
    return samples, meta.sample_rate


def prepare_source(
    name: str | SpeechSource,
    out: str | os.PathLike | None = None,
    *,
    root: str | os.PathLike | None = None,
    per_speaker: int | None = None,
    progress: bool = False,
) -> PreparedSource:
    """Checks, trims and converts one source; writes its manifests (see the module doc).

    Args:
        name: Source id (``voxlab sources list``) or the source itself.
        out: Folder holding one subfolder per source (:func:`default_sources_dir` if None).
        root: Read the recordings from here instead of the package's folder.
        per_speaker: Keep at most this many recordings per speaker (a small slice for
            tests and demos); all when None.
        progress: Show a progress bar.

    Returns:
        The kept and skipped records and the summary.

    Raises:
        MissingSourceError: The package is not installed (one line saying how to install).
    """
    from tqdm.auto import tqdm

    from voxlab.audio.resample import resample

    if per_speaker is not None and per_speaker < 1:
        raise ConfigError(f"per_speaker must be at least 1 (or None for all), got {per_speaker}")
    source = name if isinstance(name, SpeechSource) else get_source(name)
    files = source.files(root)
    where = Path(root) if root is not None else source.root
    folder = Path(out).expanduser() if out is not None else default_sources_dir()
    folder = folder / source.name
    settings = {
        "recipe": RECIPE,
        "version": source.version(),
        "per_speaker": per_speaker,
        "root": os.fspath(Path(root).resolve()) if root is not None else None,
        "files_found": len(files),
    }
    reused = _reuse(source, folder, settings)
    if reused is not None:
        return reused
    base = {
        "source": source.name,
        "package": source.package,
        "package_version": settings["version"],
        "registry": source.registry,
        "language": source.language,
        "licence": source.licence,
        "copyright": source.copyright,
    }
    kept: list[Utterance] = []
    skipped: list[Utterance] = []
    seen: dict[str, str] = {}
    per: Counter = Counter()
    used_ids: set[str] = set()
    found_s = 0.0
    for raw in tqdm(files, desc=source.name, unit="file", disable=not progress, leave=False):
        if per_speaker is not None and per[raw.speaker] >= per_speaker:
            continue
        utt_id = _unique(f"{_clean(raw.speaker)}-{_clean(_stem(raw, where))}", used_ids)
        extra: dict[str, Any] = {
            **base,
            "original_path": os.fspath(raw.path),
            "transcript": raw.transcript,
        }
        try:
            samples, rate = decode(raw)
        except VoxlabError as exc:
            skipped.append(_skip(utt_id, raw, extra, "unreadable", str(exc)))
            continue
        found_s += samples.size / rate
        extra.update({"original_sample_rate": rate, "original_duration": samples.size / rate})
        check = check_speech(samples, rate)
        digest = content_hash(samples)
        extra.update({"sha256": digest, "active_s": round(check.active_s, 3)})
        if not check.ok:
            skipped.append(_skip(utt_id, raw, extra, check.reason, _detail(check)))
            continue
        if digest in seen:
            skipped.append(_skip(utt_id, raw, extra, "duplicate", f"same audio as {seen[digest]}"))
            continue
        seen[digest] = utt_id
        audio = resample(trim_silence(samples, rate), orig_sr=rate, target_sr=SAMPLE_RATE)
        peak = float(np.max(np.abs(audio)))
        if peak > 0.999:  # resampling can overshoot full scale: scale down instead of clipping
            audio = audio * (0.999 / peak)
        rel = f"audio/{_clean(raw.speaker)}/{utt_id}.flac"
        _write_flac(folder / rel, audio)
        extra["duration"] = round(audio.size / SAMPLE_RATE, 4)
        kept.append(Utterance(utt_id, rel, raw.speaker, "-", "bonafide", source.name, extra))
        per[raw.speaker] += 1
    summary = {
        **base,
        "description": source.description,
        "settings": settings,
        "files_found": len(files),
        "files_checked": len(kept) + len(skipped),
        "kept": len(kept),
        "skipped": dict(sorted(Counter(u.extra["reason"] for u in skipped).items())),
        "speakers": dict(sorted(Counter(u.speaker for u in kept).items())),
        "minutes_checked": round(found_s / 60.0, 2),
        "minutes_kept": round(sum(u.extra["duration"] for u in kept) / 60.0, 2),
    }
    write_manifest(kept, folder / "manifest.jsonl")
    write_manifest(skipped, folder / "skipped.jsonl")
    tmp = folder / ".summary.json.partial"
    tmp.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, folder / "summary.json")
    # Callers get absolute paths, as read_manifest gives them.
    kept = [replace(u, path=os.fspath((folder / u.path).resolve())) for u in kept]
    return PreparedSource(source.name, folder, kept, skipped, summary)


def _stem(raw: RawFile, root: Path) -> str:
    """The file's path below the source folder, without suffix (unique within a source)."""
    try:
        rel = raw.path.relative_to(root)
    except ValueError:
        rel = Path(raw.path.name)
    return "-".join((*rel.parent.parts, rel.stem))


def _unique(utt_id: str, used: set[str]) -> str:
    candidate, n = utt_id, 1
    while candidate in used:
        n += 1
        candidate = f"{utt_id}-{n}"
    used.add(candidate)
    return candidate


def _detail(check) -> str:
    return (
        f"active {check.active_s:.2f} s, clipped {check.clipped_fraction:.4f}, "
        f"peak stability {check.tone_stability:.2f}, drift {check.pitch_drift:.1f} cents"
    )


def _skip(utt_id: str, raw: RawFile, extra: dict, reason: str, detail: str) -> Utterance:
    return Utterance(
        utt_id,
        os.fspath(raw.path),
        raw.speaker,
        "-",
        "bonafide",
        extra["source"],
        {**extra, "reason": reason, "detail": detail},
    )


def _write_flac(path: Path, audio: np.ndarray) -> None:
    from voxlab.audio import save

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial.flac")
    save(tmp, audio, SAMPLE_RATE)
    os.replace(tmp, path)


def _reuse(source: SpeechSource, folder: Path, settings: dict) -> PreparedSource | None:
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        if summary.get("settings") != settings:
            return None
        kept = read_manifest(folder / "manifest.jsonl")
        skipped = read_manifest(folder / "skipped.jsonl")
    except (OSError, ValueError, VoxlabError):
        return None
    if not all((folder / u.path).is_file() for u in kept):
        return None
    return PreparedSource(source.name, folder, kept, skipped, summary, reused=True)


def load_prepared(name: str, out: str | os.PathLike | None = None) -> list[Utterance]:
    """Kept records of a prepared source, with absolute audio paths.

    Raises:
        DataError: The source was not prepared (the message says how to prepare it).
    """
    from voxlab.errors import DataError

    folder = (Path(out).expanduser() if out is not None else default_sources_dir()) / name
    if not (folder / "manifest.jsonl").is_file():
        raise DataError(
            f"speech source {name} is not prepared in {folder}; run `voxlab sources prepare "
            f"{name}` (or `make data`)"
        )
    return [
        Utterance(
            u.utt_id, os.fspath(folder / u.path), u.speaker, u.attack, u.key, u.split, u.extra
        )
        for u in read_manifest(folder / "manifest.jsonl")
    ]
