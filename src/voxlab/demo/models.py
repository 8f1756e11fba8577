"""The demo's countermeasures: trained here, published, and voxlab's shipped ``voxlab-wild``.

Two are trained here, the published ones are those found locally, and ``voxlab-wild`` is
voxlab's own model, shipped inside the package with its calibration.

Every system ends as a :class:`SystemScores`: its eval scores, where it comes from, and
the decision rule its verdicts use: a calibration (``score -> LLR``, Bayes threshold at the
ASVspoof 5 prior) when the model has one (shipped beside its checkpoint, or fitted here on
the corpus's dev split for the models trained here), else the catalogue's default
threshold, which is an ASVspoof operating point and not calibrated for other data.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voxlab.data.manifest import Utterance
from voxlab.errors import ConfigError, VoxlabError

WILD_MODEL = "voxlab-wild"
#: The ASVspoof 5 cost model of every calibrated verdict in the report.
P_SPOOF, C_MISS, C_FA = 0.05, 1.0, 10.0

GMM_RECIPE = {
    "name": "lfcc-gmm",
    "seed": 1,
    "model": {"name": "lfcc-gmm", "overrides": {"n_components": 32, "n_iter": 10}},
    "data": {"corpus": "manifest"},
}
AASIST_L_RECIPE = {
    "name": "aasist-l-short",
    "seed": 1,
    "model": {"name": "aasist-l", "overrides": {"max_masked_bands": 10}},
    "data": {"corpus": "manifest", "num_samples": 32000},
    "optim": {"lr": 0.0005, "min_lr": 0.00005, "epochs": 2, "batch_size": 16,
              "weight_decay": 0.0001},
    "train": {"class_weights": [0.15, 0.85], "swa": False, "num_workers": 0},
}  # fmt: skip


@dataclass
class SystemScores:
    """One countermeasure's eval scores and how its verdicts are decided.

    Attributes:
        name: Row label.
        origin: ``published``, ``shipped`` (voxlab-wild) or ``trained here``.
        note: Where it comes from, in words.
        parameters: Parameter count (buffers for the GMM).
        utterances: The eval trials scored.
        scores: Their scores (higher = more bona fide). Shape: ``(n,)``.
        score_label: What the score is (axis label).
        threshold: Default score threshold (``score >= threshold``: bona fide), or None.
        calibration: ``(slope, offset)`` of the score -> LLR map, or None.
        calibration_source: Where the calibration comes from.
        trained_on: Utt ids the model was trained on.
    """

    name: str
    origin: str
    note: str
    parameters: int | None
    utterances: list[Utterance]
    scores: np.ndarray
    score_label: str = "score (bona fide logit)"
    threshold: float | None = None
    calibration: tuple[float, float] | None = None
    calibration_source: str = ""
    trained_on: frozenset[str] = field(default_factory=frozenset)

    @property
    def keys(self) -> np.ndarray:
        """``bonafide``/``spoof`` per trial. Shape: ``(n,)``."""
        return np.array([u.key for u in self.utterances])

    @property
    def attacks(self) -> np.ndarray:
        """Attack id per trial (``-`` for bona fide). Shape: ``(n,)``."""
        return np.array([u.attack for u in self.utterances])

    def llr(self) -> np.ndarray | None:
        """Calibrated LLRs of the scores, or None without a calibration. Shape: ``(n,)``."""
        if self.calibration is None:
            return None
        slope, offset = self.calibration
        return slope * self.scores + offset


def _recipe(base: dict, manifest: Path, **changes):
    from voxlab.training.config import recipe_from_dict

    data = json.loads(json.dumps(base))
    data["data"]["manifest"] = str(manifest)
    for path, value in changes.items():
        section, _, key = path.partition("__")
        data.setdefault(section, {})[key] = value
    return recipe_from_dict(data)


def aasist_l_recipe(
    manifest: Path, epochs: int, *, crop_seconds: float = 1.0, train_steps: int = 0
) -> tuple[object, str]:
    """The short AASIST-L recipe: fine-tune the published AASIST-L when it is on disk.

    Returns:
        The recipe and a note saying how it was trained.
    """
    from voxlab import pretrained
    from voxlab.errors import CheckpointError

    base = json.loads(json.dumps(AASIST_L_RECIPE))
    base["optim"]["epochs"] = epochs
    base["data"]["num_samples"] = int(round(16000 * crop_seconds))
    base["train"]["max_steps_per_epoch"] = train_steps
    steps = f" of at most {train_steps} batches" if train_steps else ""
    crops = f"{crop_seconds:g}-s crops"
    try:
        pretrained.resolve_checkpoint("aasist-l", download=False)
    except CheckpointError:
        base["optim"]["lr"] = 0.001
        note = f"trained here from scratch, {epochs} short epoch(s){steps} on {crops}"
        note += " (no published AASIST-L weights found to start from)"
        return _recipe(base, manifest), note
    base["model"]["init_from"] = "aasist-l"
    base["name"] = "aasist-l-finetuned"
    note = f"published AASIST-L fine-tuned here for {epochs} epoch(s){steps} on {crops}"
    return _recipe(base, manifest), note


def train_systems(
    manifest: Path,
    runs: Path,
    *,
    epochs: int,
    gmm_components: int,
    crop_seconds: float,
    train_steps: int,
    progress: bool,
    on_stage: Callable[[str, str], None],
    on_done: Callable[[str, str], None],
) -> list[tuple[str, Path, Path, str]]:
    """Train LFCC-GMM and the short AASIST-L on the corpus's train split.

    Returns:
        ``(name, run folder, weights, note)`` of each trained model.
    """
    from voxlab.training.trainer import Trainer

    out = []
    gmm = json.loads(json.dumps(GMM_RECIPE))
    gmm["model"]["overrides"]["n_components"] = gmm_components
    recipes = [
        (
            "train lfcc-gmm",
            _recipe(gmm, manifest),
            f"trained here by EM (2 x {gmm_components} components)",
        ),
        (
            "train aasist-l",
            *aasist_l_recipe(manifest, epochs, crop_seconds=crop_seconds, train_steps=train_steps),
        ),
    ]
    for stage, recipe, note in recipes:
        on_stage(stage, f"training {recipe.name} on the train split ({note})")
        result = Trainer(recipe, runs / recipe.name, progress=progress).fit()
        dev_eer = result.best_dev_eer
        on_done(stage, f"dev EER {100 * dev_eer:.1f} %" if np.isfinite(dev_eer) else "")
        out.append((recipe.name, Path(result.run_dir), Path(result.final_weights), note))
    return out


def _score(detector, utts: list[Utterance], progress: bool) -> np.ndarray:
    from voxlab.training.scoring import score_utterances

    return score_utterances(detector, utts, workers=2, progress=progress)


def trained_system(
    name: str,
    run_dir: Path,
    weights: Path,
    note: str,
    *,
    splits: dict[str, list[Utterance]],
    progress: bool,
) -> SystemScores:
    """Calibrate a model trained here on dev; take its eval scores from its run.

    The eval scores are the ones the training run wrote (``scores/eval_scores.txt``),
    scored again only if some are missing.
    """
    from voxlab.detection import Detector
    from voxlab.evaluation.calibration import calibrate
    from voxlab.models.checkpoints import load_checkpoint
    from voxlab.models.registry import count_parameters

    detector = Detector.from_checkpoint(weights, batch_size=16)
    dev = splits["dev"]
    dev_scores = _score(detector, dev, progress)
    keys = np.array([u.key for u in dev])
    cal = calibrate(dev_scores[keys == "bonafide"], dev_scores[keys == "spoof"],
                    p_spoof=P_SPOOF, c_miss=C_MISS, c_fa=C_FA)  # fmt: skip
    eval_scores = _run_scores(run_dir, splits["eval"])
    if eval_scores is None:
        eval_scores = _score(detector, splits["eval"], progress)
    gmm = "gmm" in name
    return SystemScores(
        name=name,
        origin="trained here",
        note=note,
        parameters=count_parameters(load_checkpoint(weights)),
        utterances=splits["eval"],
        scores=eval_scores,
        score_label="score: log-likelihood ratio (LLR)" if gmm else "score (bona fide logit)",
        threshold=None,
        calibration=(cal.slope, cal.offset),
        calibration_source=f"fitted here on the dev split ({len(dev)} trials)",
        trained_on=frozenset(u.utt_id for u in splits["train"]),
    )


def _run_scores(run_dir: Path, utts: list[Utterance]) -> np.ndarray | None:
    """The training run's eval scores in the order of ``utts`` (None if any is missing)."""
    from voxlab.data.scores import read_scores

    path = run_dir / "scores" / "eval_scores.txt"
    if not path.is_file():
        return None
    table = read_scores(path)
    have = dict(zip(table.utt_ids.tolist(), table.scores.tolist()))
    if any(u.utt_id not in have for u in utts):
        return None
    return np.array([have[u.utt_id] for u in utts], dtype=np.float64)


def catalogue_system(name: str, eval_utts: list[Utterance], *, progress: bool) -> SystemScores:
    """Score eval with a catalogue model found locally (never downloads).

    Raises:
        VoxlabError: The model is not in this install's catalogue or has no local copy
            (the message says why); its calibration belongs to another checkpoint.
    """
    from voxlab import pretrained
    from voxlab.detection import Detector
    from voxlab.detection.calibrated import find_calibration, load_for_model
    from voxlab.models.registry import build_model, count_parameters

    entry = pretrained.get_entry(name)  # ConfigError when unknown
    path = pretrained.resolve_checkpoint(name, download=False)
    detector = Detector.from_pretrained(name, download=False, batch_size=16)
    found = find_calibration(path)
    calibration, source = None, ""
    if found is not None:
        cal = load_for_model(found, name=name, checkpoint=path)
        calibration = (cal.slope, cal.offset)
        source = f"{found.name} (shipped beside the checkpoint)"
    origin = "shipped" if name == WILD_MODEL else "published"
    note = (
        f"voxlab's own model, weights inside the package ({entry.training_data})"
        if origin == "shipped"
        else f"published checkpoint ({entry.training_data}; licence {entry.license})"
    )
    return SystemScores(
        name=name,
        origin=origin,
        note=note,
        parameters=count_parameters(build_model(entry.model)),
        utterances=eval_utts,
        scores=_score(detector, eval_utts, progress),
        threshold=float(entry.threshold),
        calibration=calibration,
        calibration_source=source,
    )


def catalogue_names() -> list[str]:
    """Catalogue models to try: the published ones, then ``voxlab-wild``."""
    from voxlab import pretrained

    names = [n for n in pretrained.names() if n != WILD_MODEL]
    return [*names, WILD_MODEL]


def local_catalogue(names: list[str]) -> tuple[list[str], dict[str, str]]:
    """Which catalogue models can be used here, and why the others cannot (one line each)."""
    from voxlab import pretrained
    from voxlab.errors import CheckpointError

    found, skipped = [], {}
    for name in names:
        try:
            entry = pretrained.get_entry(name)
        except ConfigError:
            skipped[name] = (
                "not in this install's model catalogue (it ships with a newer voxlab: update it)"
            )
            continue
        try:
            pretrained.resolve_checkpoint(name, download=False, progress=False)
        except CheckpointError:
            skipped[name] = f"no local copy of {entry.filename}"
            continue
        except VoxlabError as exc:
            skipped[name] = str(exc).splitlines()[0]
            continue
        found.append(name)
    return found, skipped
