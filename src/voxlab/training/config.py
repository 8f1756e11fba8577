"""Training recipes: YAML -> frozen dataclasses, validated, with ``--set key=value`` overrides.

No objects are built inside YAML: a recipe holds names and numbers, and
:mod:`voxlab.training.trainer` turns it into objects in one place.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

import yaml

from voxlab.errors import ConfigError
from voxlab.training.augment import AugmentSection, check_augment


@dataclass(frozen=True)
class ModelSection:
    """Which architecture, with overrides of its config dataclass fields.

    Attributes:
        name: Registry architecture name.
        overrides: Fields of the architecture's config dataclass to change.
        init_from: Start from these weights instead of a random initialisation (fine-tuning):
            a published checkpoint name (``aasist-l``), or a checkpoint file (a run's
            ``best.safetensors``, an official ``.pth``). Loaded with strict key matching.
    """

    name: str = "aasist"
    overrides: dict[str, Any] = field(default_factory=dict)
    init_from: str = ""


@dataclass(frozen=True)
class DataSection:
    """Where the corpus is and how items are cut.

    Attributes:
        corpus: ``"asvspoof2019"`` (reads ``root`` as distributed) or ``"manifest"``.
        root: Corpus root (ASVspoof 2019: the ``LA`` folder); ``--data`` sets it.
        manifest: JSONL manifest with a ``split`` field (corpus ``"manifest"``).
        track: ASVspoof 2019 track (``LA`` or ``PA``).
        train_split: Split used for training.
        dev_split: Split used for model selection.
        eval_split: Split scored at the end.
        num_samples: Crop length in samples (64,600 = 4.04 s, official).
        sample_rate: Rate to load at.
        max_items: Per split, keep at most this many utterances (debug runs); 0 = all.
        dev_asv_scores: ASV score file for the dev min t-DCF (optional).
        eval_asv_scores: ASV score file for the eval min t-DCF (optional).
    """

    corpus: str = "asvspoof2019"
    root: str = ""
    manifest: str = ""
    track: str = "LA"
    train_split: str = "train"
    dev_split: str = "dev"
    eval_split: str = "eval"
    num_samples: int = 64_600
    sample_rate: int = 16_000
    max_items: int = 0
    dev_asv_scores: str = ""
    eval_asv_scores: str = ""


@dataclass(frozen=True)
class OptimSection:
    """Optimiser and schedule (defaults: the official AASIST settings)."""

    optimizer: str = "adam"
    lr: float = 1e-4
    min_lr: float = 5e-6
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    amsgrad: bool = False
    scheduler: str = "cosine"
    epochs: int = 100
    batch_size: int = 24
    grad_clip: float = 0.0


@dataclass(frozen=True)
class TrainSection:
    """Loss, SWA and loop settings.

    Attributes:
        class_weights: Cross-entropy weights ``[spoof, bona fide]`` (official [0.1, 0.9]).
        swa: Average the weights of the epochs that improved the dev EER
            (``torch.optim.swa_utils``), then recompute batch-norm statistics.
        num_workers: DataLoader worker processes.
        device: ``cpu`` or ``cuda``.
        max_steps_per_epoch: Stop an epoch early (debug); 0 = full epoch.
        log_every: Steps between progress-bar loss updates.
        adversarial: Adversarial training: ``""`` (off), ``"fgsm"`` or ``"pgd"``; each
            batch is trained together with its adversarial twin
            (:mod:`voxlab.adversarial.training`).
        adversarial_snr_db: Budget of the adversarial twins (SNR in dB per item).
        adversarial_steps: PGD steps.
    """

    class_weights: tuple[float, float] = (0.1, 0.9)
    swa: bool = True
    num_workers: int = 0
    device: str = "cpu"
    max_steps_per_epoch: int = 0
    log_every: int = 10
    adversarial: str = ""
    adversarial_snr_db: float = 40.0
    adversarial_steps: int = 3


@dataclass(frozen=True)
class Recipe:
    """A whole experiment."""

    name: str = "experiment"
    seed: int = 1234
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    optim: OptimSection = field(default_factory=OptimSection)
    train: TrainSection = field(default_factory=TrainSection)
    augment: AugmentSection = field(default_factory=AugmentSection)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML/JSON-ready)."""
        return _plain(dataclasses.asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Check/convert a YAML value to the annotated type, with a clear error."""
    origin = get_origin(hint)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return _build(hint, value, where)
    if origin is tuple:
        args = get_args(hint)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" (no dot) as a string
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(f"{where}: expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return os.path.expandvars(value)
    return value


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    hints = get_type_hints(cls)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; valid keys: {sorted(names)}")
    values = {k: _coerce(v, hints[k], f"{where}.{k}" if where else k) for k, v in data.items()}
    return cls(**values)


def _validate(recipe: Recipe) -> Recipe:
    from voxlab.models.registry import available_models

    checks = [
        (recipe.model.name in available_models(), f"model.name {recipe.model.name!r} is not "
         f"one of {available_models()}"),
        (recipe.data.corpus in ("asvspoof2019", "manifest"),
         "data.corpus must be 'asvspoof2019' or 'manifest'"),
        (recipe.optim.optimizer in ("adam", "adamw", "sgd"),
         "optim.optimizer must be adam, adamw or sgd"),
        (recipe.optim.scheduler in ("cosine", "constant"),
         "optim.scheduler must be cosine or constant"),
        (recipe.optim.epochs >= 1, "optim.epochs must be >= 1"),
        (recipe.optim.batch_size >= 1, "optim.batch_size must be >= 1"),
        (recipe.optim.lr > 0, "optim.lr must be > 0"),
        (0 <= recipe.optim.min_lr <= recipe.optim.lr, "optim.min_lr must be in [0, lr]"),
        (recipe.data.num_samples > 0, "data.num_samples must be > 0"),
        (all(w > 0 for w in recipe.train.class_weights), "train.class_weights must be > 0"),
        (recipe.train.adversarial in ("", "fgsm", "pgd"),
         "train.adversarial must be '', 'fgsm' or 'pgd'"),
        (recipe.train.adversarial_steps >= 1, "train.adversarial_steps must be >= 1"),
        (math.isfinite(recipe.train.adversarial_snr_db),
         "train.adversarial_snr_db must be a finite SNR in dB"),
    ]  # fmt: skip
    for ok, message in checks:
        if not ok:
            raise ConfigError(f"recipe {recipe.name!r}: {message}")
    try:
        check_augment(recipe.augment)
    except ConfigError as exc:
        raise ConfigError(f"recipe {recipe.name!r}: {exc}") from None
    return recipe


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``a.b.c=value`` into a key path and a value (parsed as YAML when it is YAML)."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    if not key.strip():
        raise ConfigError(f"--set expects key=value, got {text!r}")
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw  # not YAML (e.g. "{root}/file.txt"): take it as a plain string
    return key.strip().split("."), value


def recipe_from_dict(data: dict[str, Any], *, overrides: list[str] | None = None) -> Recipe:
    """Build and validate a :class:`Recipe` from a nested dict plus ``key=value`` overrides."""
    data = _plain(dict(data))
    for text in overrides or []:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {text}: {part!r} is not a section")
        node[path[-1]] = value
    return _validate(_build(Recipe, data, ""))


def load_recipe(path: str | os.PathLike, *, overrides: list[str] | None = None) -> Recipe:
    """Read a YAML recipe file.

    Args:
        path: The recipe file.
        overrides: ``section.key=value`` strings applied on top (values parsed as YAML).

    Returns:
        The validated recipe.

    Raises:
        ConfigError: Unreadable YAML, unknown keys, wrong types, invalid values.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"recipe {path} not found")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"recipe {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"recipe {path} must be a mapping at the top level")
    try:
        return recipe_from_dict(data, overrides=overrides)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
