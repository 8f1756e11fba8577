"""The run directory: everything a training run leaves behind, in one folder.

::

    RUN_DIR/
      config.yaml          resolved recipe
      run.json             git revision, seed, versions, world size, start time
      metrics.jsonl        one line per epoch: train loss, dev EER, dev min t-DCF, lr
      tensorboard/         the same curves as TensorBoard events
      state.pt             full training state after the last finished epoch (resume)
      best.safetensors     best dev-EER weights (+ best.json sidecar)
      last.safetensors     last epoch's weights (+ last.json)
      swa.safetensors      SWA average of the improving epochs (+ swa.json), when enabled
      scores/eval_scores.txt   official 4-column score file of the eval split
      eval_metrics.json    pooled and per-attack metrics of the eval split
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from voxlab._version import __version__
from voxlab.errors import ConfigError


def git_revision(cwd: str | os.PathLike | None = None) -> str:
    """The current git commit (with ``-dirty`` when there are changes), or ``unknown``."""
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
        if rev.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return rev.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class RunDir:
    """Reads and writes the files of one run directory."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    config = property(lambda self: self.path / "config.yaml")
    info = property(lambda self: self.path / "run.json")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    state = property(lambda self: self.path / "state.pt")
    tensorboard = property(lambda self: self.path / "tensorboard")
    scores = property(lambda self: self.path / "scores")
    eval_scores = property(lambda self: self.path / "scores" / "eval_scores.txt")
    eval_metrics = property(lambda self: self.path / "eval_metrics.json")

    def weights(self, tag: str) -> Path:
        """Path of the ``best``/``last``/``swa`` weights (safetensors)."""
        return self.path / f"{tag}.safetensors"

    def parameters(self) -> int | None:
        """Parameter count of the run's model (buffers for EM-fitted ones); None if no weights."""
        if not self.weights("best").is_file():
            return None
        from voxlab.models.checkpoints import load_checkpoint
        from voxlab.models.registry import count_parameters

        return count_parameters(load_checkpoint(self.weights("best")))

    def create(self, recipe_dict: dict[str, Any], *, seed: int, world_size: int) -> None:
        """Start a fresh run: refuse to overwrite another run's results."""
        if self.metrics.exists() or self.state.exists():
            raise ConfigError(
                f"{self.path} already holds a run; pass --resume to continue it or choose "
                "another --run-dir"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.config.write_text(yaml.safe_dump(recipe_dict, sort_keys=False))
        info = {
            "voxlab": __version__,
            "git_revision": git_revision(Path(__file__).parent),
            "seed": seed,
            "world_size": world_size,
            "python": platform.python_version(),
            "torch": _torch_version(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        self.info.write_text(json.dumps(info, indent=2) + "\n")

    def read_config(self) -> dict[str, Any]:
        """The resolved recipe of an existing run."""
        if not self.config.is_file():
            raise ConfigError(f"{self.path} is not a voxlab run directory (no config.yaml)")
        return yaml.safe_load(self.config.read_text())

    def append_metrics(self, row: dict[str, Any]) -> None:
        """Add one epoch's metrics (flushed immediately)."""
        with self.metrics.open("a") as handle:
            handle.write(json.dumps(row) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        """Every epoch's metrics so far."""
        if not self.metrics.exists():
            return []
        return [json.loads(line) for line in self.metrics.read_text().splitlines() if line]

    def truncate_metrics(self, epochs: int) -> None:
        """Keep the rows of the first ``epochs`` epochs (a resumed run rewrites later ones)."""
        rows = [r for r in self.read_metrics() if r["epoch"] < epochs]
        self.metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _torch_version() -> str:
    import torch

    return torch.__version__
