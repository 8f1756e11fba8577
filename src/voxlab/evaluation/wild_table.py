"""The voxlab-wild generalisation table: models x in-domain / held-out / channel subsets.

For one model's scores on a voxlab-wild corpus (``voxlab corpus make --wild``), the rows are

* ``in-domain``: the pooled eval split;
* ``system``: each spoofing system of the eval split against all eval bona fide trials (the
  ``leave_one_system_out/<id>/eval.txt`` trial list where the corpus has one);
* ``source``: every utterance of one human source, any split
  (``leave_one_source_out/<source>/eval.txt``);
* ``channel``: eval trials of one channel condition (``channels.txt``), both classes.

Trials the model was trained on are dropped from every row, and each row says whether its
system or source was seen in training (``seen``): a row is a *held-out* result only when
``seen`` is False. Metrics are voxlab's own (EER, minDCF, Cllr, actDCF of
:mod:`voxlab.evaluation`); Cllr and actDCF are given for the raw scores read as LLRs and,
when a calibration fitted on dev is supplied, for the calibrated LLRs. Trial counts stand
beside every number: voxlab-wild subsets are small.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from voxlab.data.manifest import Utterance, read_manifest
from voxlab.errors import DataError, MetricError
from voxlab.evaluation.dcf import DcfCostModel, act_dcf, min_dcf
from voxlab.evaluation.metrics import cllr, compute_eer

GROUPS = ("in-domain", "system", "source", "channel")
SHORTCUT_FEATURES = ("duration", "leading_silence", "trailing_silence", "bandwidth", "loudness")


@dataclass(frozen=True)
class WildCorpus:
    """The trials of a voxlab-wild corpus and its evaluation subsets.

    Attributes:
        root: Corpus folder (holds ``manifest.jsonl``).
        utterances: utt id -> utterance (from the manifest).
        subsets: ``(group, value)`` -> utt ids of that subset, in file order.
    """

    root: Path
    utterances: Mapping[str, Utterance]
    subsets: Mapping[tuple[str, str], tuple[str, ...]]

    def source_of(self, utt_id: str) -> str:
        """Human source the utterance comes from (``-`` when the manifest has none)."""
        return str(self.utterances[utt_id].extra.get("source") or "-")

    def channel_of(self, utt_id: str) -> str:
        """Channel condition of the utterance (``-`` when the manifest has none)."""
        return str(self.utterances[utt_id].extra.get("channel") or "-")

    def split_ids(self, split: str) -> list[str]:
        """Utt ids of one split, in manifest order."""
        return [k for k, u in self.utterances.items() if u.split == split]


def _protocol_ids(path: Path) -> list[str]:
    """Utt ids (second column) of an ASVspoof-style protocol file."""
    ids = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 2:
            raise DataError(f"{path}:{lineno}: expected 'SPEAKER UTT_ID ...', got {line!r}")
        ids.append(parts[1])
    return ids


def load_wild_corpus(root: str | os.PathLike) -> WildCorpus:
    """Read a voxlab-wild corpus folder into its evaluation subsets.

    Args:
        root: Folder made by ``voxlab corpus make --wild`` (``manifest.jsonl`` and, when
            present, ``voxlab_wild_protocols/``).

    Returns:
        The :class:`WildCorpus`.

    Raises:
        DataError: No manifest, no eval split, or a protocol naming unknown utterances.
    """
    root = Path(root)
    manifest = root / "manifest.jsonl" if root.is_dir() else root
    if not manifest.is_file():
        raise DataError(
            f"{root}: no manifest.jsonl; pass the folder made by `voxlab corpus make --wild`"
        )
    root = manifest.parent
    utts = {u.utt_id: u for u in read_manifest(manifest)}
    eval_ids = [k for k, u in utts.items() if u.split == "eval"]
    if not eval_ids:
        raise DataError(f"{manifest}: no utterance has split 'eval'")
    subsets: dict[tuple[str, str], tuple[str, ...]] = {("in-domain", "eval"): tuple(eval_ids)}
    protocols = root / "voxlab_wild_protocols"
    eval_bona = [k for k in eval_ids if utts[k].key == "bonafide"]
    for attack in sorted({utts[k].attack for k in eval_ids if utts[k].key == "spoof"}):
        listed = protocols / "leave_one_system_out" / attack / "eval.txt"
        ids = (
            _protocol_ids(listed)
            if listed.is_file()
            else eval_bona + [k for k in eval_ids if utts[k].attack == attack]
        )
        subsets[("system", attack)] = tuple(ids)
    sources = sorted({str(u.extra.get("source")) for u in utts.values() if u.extra.get("source")})
    for source in sources:
        listed = protocols / "leave_one_source_out" / source / "eval.txt"
        ids = (
            _protocol_ids(listed)
            if listed.is_file()
            else [k for k, u in utts.items() if u.extra.get("source") == source]
        )
        subsets[("source", source)] = tuple(ids)
    channels = sorted({str(utts[k].extra.get("channel")) for k in eval_ids})
    for channel in channels:
        ids = [k for k in eval_ids if str(utts[k].extra.get("channel")) == channel]
        subsets[("channel", channel)] = tuple(ids)
    for (group, value), ids in subsets.items():
        unknown = [k for k in ids if k not in utts]
        if unknown:
            raise DataError(
                f"{root}: the {group} subset {value!r} names {len(unknown)} utterance(s) missing "
                f"from the manifest (e.g. {unknown[0]}); rebuild the corpus protocols"
            )
    return WildCorpus(root=root, utterances=utts, subsets=subsets)


@dataclass(frozen=True)
class WildRow:
    """Metrics of one model on one subset.

    Attributes:
        model: Model name.
        group: ``in-domain``, ``system``, ``source`` or ``channel``.
        value: The subset (split, system id, source name or channel condition).
        n_bonafide: Bona fide trials scored in the subset (training trials dropped).
        n_spoof: Spoof trials scored in the subset.
        seen: Whether the model saw this system/source in training (None: not applicable).
        eer: EER (fraction), None when the subset cannot give one.
        min_dcf: ASVspoof 5 minDCF.
        cllr: Cllr of the raw scores read as LLRs.
        act_dcf: actDCF of the raw scores read as LLRs.
        cllr_cal: Cllr of the calibrated LLRs (None without a calibration).
        act_dcf_cal: actDCF of the calibrated LLRs.
        bonafide_called_spoof: Share of bona fide trials under the calibrated Bayes threshold.
        spoof_missed: Share of spoof trials at or above it.
        note: Why numbers are missing, or what to keep in mind.
    """

    model: str
    group: str
    value: str
    n_bonafide: int
    n_spoof: int
    seen: bool | None = None
    eer: float | None = None
    min_dcf: float | None = None
    cllr: float | None = None
    act_dcf: float | None = None
    cllr_cal: float | None = None
    act_dcf_cal: float | None = None
    bonafide_called_spoof: float | None = None
    spoof_missed: float | None = None
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        """Plain-dict form (JSON-ready)."""
        return asdict(self)


@dataclass(frozen=True)
class ModelScores:
    """One model's scores on the corpus.

    Attributes:
        name: Row label.
        scores: utt id -> score (higher = more bona fide).
        trained_on: Utt ids the model was trained on (dropped from every row).
        calibration: ``(slope, offset)`` of a score -> LLR map fitted on dev, or None.
        note: Free text (where the scores come from).
    """

    name: str
    scores: Mapping[str, float]
    trained_on: frozenset[str] = frozenset()
    calibration: tuple[float, float] | None = None
    note: str = ""

    def llr(self, values: np.ndarray) -> np.ndarray | None:
        """Calibrated LLRs of raw scores, None without a calibration."""
        if self.calibration is None:
            return None
        slope, offset = self.calibration
        return slope * values + offset


def _metrics(
    bona: np.ndarray, spoof: np.ndarray, llr: tuple[np.ndarray, np.ndarray] | None, cost
) -> dict[str, float]:
    out = {
        "eer": compute_eer(bona, spoof).eer,
        "min_dcf": min_dcf(bona, spoof, cost=cost).dcf,
        "cllr": cllr(bona, spoof),
        "act_dcf": act_dcf(bona, spoof, cost=cost).dcf,
    }
    if llr is not None:
        out["cllr_cal"] = cllr(*llr)
        out["act_dcf_cal"] = act_dcf(*llr, cost=cost).dcf
        out["bonafide_called_spoof"] = float(np.mean(llr[0] < cost.bayes_threshold))
        out["spoof_missed"] = float(np.mean(llr[1] >= cost.bayes_threshold))
    return out


def _seen(corpus: WildCorpus, group: str, value: str, trained: Iterable[str]) -> bool | None:
    if group == "system":
        return any(corpus.utterances[k].attack == value for k in trained)
    if group == "source":
        return any(corpus.source_of(k) == value for k in trained)
    return None


def model_rows(
    corpus: WildCorpus, model: ModelScores, *, cost: DcfCostModel = DcfCostModel()
) -> list[WildRow]:
    """Every row of the table for one model.

    Args:
        corpus: The corpus and its subsets.
        model: The model's scores (every trial of a subset that it was not trained on must
            have a score, else the row says how many are missing and gives no numbers).
        cost: DCF cost model (ASVspoof 5 defaults) for minDCF, actDCF and the verdict.

    Returns:
        Rows in the order of ``corpus.subsets``.
    """
    trained = model.trained_on
    rows = []
    for (group, value), ids in corpus.subsets.items():
        kept = [k for k in ids if k not in trained]
        dropped = len(ids) - len(kept)
        missing = [k for k in kept if k not in model.scores]
        is_bona = np.array([corpus.utterances[k].key == "bonafide" for k in kept], dtype=bool)
        base = {
            "model": model.name,
            "group": group,
            "value": value,
            "n_bonafide": int(is_bona.sum()),
            "n_spoof": int(is_bona.size - is_bona.sum()),
            "seen": _seen(corpus, group, value, trained),
        }
        notes = [f"{dropped} training trial(s) dropped"] if dropped else []
        if missing:
            notes.append(f"{len(missing)} trial(s) have no score (e.g. {missing[0]})")
            rows.append(WildRow(**base, note="; ".join(notes)))
            continue
        values = np.array([model.scores[k] for k in kept], dtype=np.float64)
        bona, spoof = values[is_bona], values[~is_bona]
        llr_all = model.llr(values)
        llr = None if llr_all is None else (llr_all[is_bona], llr_all[~is_bona])
        try:
            numbers = _metrics(bona, spoof, llr, cost)
        except MetricError as exc:
            notes.append(str(exc))
            numbers = {}
        rows.append(WildRow(**base, **numbers, note="; ".join(notes)))
    return rows


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}"


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


TABLE_HEADER = (
    "model",
    "group",
    "subset",
    "seen",
    "bona",
    "spoof",
    "EER %",
    "minDCF",
    "Cllr raw",
    "actDCF raw",
    "Cllr cal",
    "actDCF cal",
    "bona→spoof % (cal)",
    "spoof missed % (cal)",
    "note",
)


def _cells(row: WildRow) -> list[str]:
    seen = {None: "", True: "seen", False: "HELD OUT"}[row.seen]
    return [
        row.model,
        row.group,
        row.value,
        seen,
        str(row.n_bonafide),
        str(row.n_spoof),
        _pct(row.eer),
        _num(row.min_dcf),
        _num(row.cllr),
        _num(row.act_dcf),
        _num(row.cllr_cal),
        _num(row.act_dcf_cal),
        _pct(row.bonafide_called_spoof),
        _pct(row.spoof_missed),
        row.note,
    ]


def table_markdown(rows: Sequence[WildRow], *, title: str = "") -> str:
    """The table as Markdown (one line per model x subset)."""
    lines = [f"## {title}", ""] if title else []
    lines.append("| " + " | ".join(TABLE_HEADER) + " |")
    lines.append("|" + "---|" * len(TABLE_HEADER))
    lines.extend("| " + " | ".join(_cells(r)) + " |" for r in rows)
    return "\n".join(lines) + "\n"


def table_text(rows: Sequence[WildRow]) -> str:
    """The table as aligned plain text for a terminal (the note column last)."""
    body = [list(TABLE_HEADER)] + [_cells(r) for r in rows]
    widths = [max(len(line[i]) for line in body) for i in range(len(TABLE_HEADER) - 1)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line[:-1], widths)) + "  " + line[-1] for line in body
    )


def table_csv(rows: Sequence[WildRow]) -> str:
    """The table as CSV (full-precision numbers, fractions not percents)."""
    buffer = io.StringIO()
    fields = list(WildRow.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow(row.to_dict())
    return buffer.getvalue()


def table_json(rows: Sequence[WildRow], **extra: object) -> str:
    """The rows (and any extra top-level fields) as JSON."""
    return json.dumps({**extra, "rows": [r.to_dict() for r in rows]}, indent=2) + "\n"


@dataclass(frozen=True)
class ShortcutCorrelation:
    """Correlation of a model's scores with one shortcut feature within one class.

    Attributes:
        feature: Shortcut feature (manifest ``shortcut_features``).
        key: ``bonafide`` or ``spoof``.
        n: Trials used.
        pearson: Pearson correlation, None when a side is constant.
        spearman: Spearman rank correlation, None when a side is constant.
    """

    feature: str
    key: str
    n: int
    pearson: float | None
    spearman: float | None = field(default=None)


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="stable")
    ranks = np.empty(x.size, dtype=np.float64)
    ranks[order] = np.arange(x.size, dtype=np.float64)
    # average ranks of ties
    _, inverse = np.unique(x, return_inverse=True)
    sums = np.bincount(inverse, weights=ranks)
    counts = np.bincount(inverse)
    return (sums / counts)[inverse]


def _corr(x: np.ndarray, y: np.ndarray) -> float | None:
    if x.size < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(np.corrcoef(x, y)[0, 1])


def shortcut_correlations(
    corpus: WildCorpus, model: ModelScores, *, split: str = "eval"
) -> list[ShortcutCorrelation]:
    """Per-class correlation of a model's scores with each shortcut feature on a split.

    A model that separates the classes by duration, silence, bandwidth or loudness shows a
    strong correlation within a class; a value near 0 means the score does not follow it.
    """
    out = []
    ids = [k for k in corpus.split_ids(split) if k in model.scores and k not in model.trained_on]
    for key in ("bonafide", "spoof"):
        sel = [k for k in ids if corpus.utterances[k].key == key]
        scores = np.array([model.scores[k] for k in sel], dtype=np.float64)
        for feature in SHORTCUT_FEATURES:
            vals = [
                corpus.utterances[k].extra.get("shortcut_features", {}).get(feature) for k in sel
            ]
            keep = np.array([v is not None for v in vals], dtype=bool)
            x = np.array([v for v in vals if v is not None], dtype=np.float64)
            y = scores[keep]
            spearman = _corr(_ranks(x), _ranks(y)) if x.size else None
            out.append(ShortcutCorrelation(feature, key, int(x.size), _corr(x, y), spearman))
    return out
