"""Service configuration: a frozen dataclass read from YAML, environment and CLI flags.

Precedence (highest first): explicit overrides (CLI flags), ``VOXLAB_SERVE_*`` environment
variables, the YAML file, the defaults below. Every value is validated with a message
that names the setting and the fix.

Example ``serve.yaml``::

    data_dir: /srv/voxlab
    database_url: postgresql+psycopg://voxlab@db/voxlab   # default: SQLite in data_dir
    models: [aasist, aasist-l]
    default_model: aasist          # default voxlab-wild; must be one of models
    max_batch: 16
    max_wait_ms: 10
    queue_size: 64
    rate_limit_per_minute: 600
    max_upload_mb: 50
    max_seconds: 600
    allowed_folders: [/srv/archive]
    watermark_key: /etc/voxlab/watermark.key
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxlab.catalogue import DEFAULT_MODEL
from voxlab.errors import ConfigError

ENV_PREFIX = "VOXLAB_SERVE_"


def default_data_dir() -> Path:
    """``$VOXLAB_HOME/serve`` (``~/.cache/voxlab/serve`` by default)."""
    home = os.environ.get("VOXLAB_HOME") or Path.home() / ".cache" / "voxlab"
    return Path(home).expanduser() / "serve"


@dataclass(frozen=True)
class ServiceConfig:
    """Everything ``voxlab serve`` can be told.

    Attributes:
        data_dir: Holds the SQLite database, uploads and results.
        database_url: Any SQLAlchemy URL; ``None`` means ``sqlite:///<data_dir>/voxlab.db``.
        host: Bind address.
        port: Bind port.
        models: Catalogue names the service may load (``None``: the whole catalogue).
        default_model: Model used when a request names none.
        checkpoints: Model name -> checkpoint file (instead of the catalogue lookup).
        calibrations: Model name -> calibration JSON (``voxlab calibrate``); by default the
            one beside the checkpoint is used, as ``voxlab detect`` does.
        download: Allow downloading published weights on first use.
        max_batch: Largest number of model inputs in one dynamically batched forward.
        max_wait_ms: How long the batcher waits for more requests before running.
        queue_size: Model inputs that may wait; beyond it requests get 429.
        torch_threads: Intra-op threads of the inference worker (``None``: torch default).
        rate_limit_per_minute: Requests per token and minute (0: unlimited).
        max_upload_mb: Largest upload in MiB (413 beyond).
        max_seconds: Longest audio in seconds (413 beyond).
        max_job_files: Most files in one job.
        allowed_folders: Server-side folders jobs may scan (and their sub-folders).
        watermark_key: Server-side key file for watermark detection, embedding and TTS
            labelling; ``None``: voxlab's generation key (``$VOXLAB_WATERMARK_KEY`` or
            ``$VOXLAB_HOME/watermark.key``).
        job_chunk: Files a job worker scores (and commits) at a time.
        log_json: Structured (JSON lines) logs on stderr.
    """

    data_dir: Path = field(default_factory=default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    models: tuple[str, ...] | None = None
    default_model: str = DEFAULT_MODEL
    checkpoints: dict[str, str] = field(default_factory=dict)
    calibrations: dict[str, str] = field(default_factory=dict)
    download: bool = True
    max_batch: int = 16
    max_wait_ms: float = 10.0
    queue_size: int = 64
    torch_threads: int | None = None
    rate_limit_per_minute: int = 600
    max_upload_mb: float = 50.0
    max_seconds: float = 600.0
    max_job_files: int = 100_000
    allowed_folders: tuple[Path, ...] = ()
    watermark_key: Path | None = None
    job_chunk: int = 16
    log_json: bool = True

    def __post_init__(self) -> None:
        checks = [
            (self.port >= 0 and self.port < 65536, "port must be 0-65535"),
            (self.max_batch >= 1, "max_batch must be >= 1"),
            (self.max_wait_ms >= 0, "max_wait_ms must be >= 0"),
            (self.queue_size >= 1, "queue_size must be >= 1"),
            (self.rate_limit_per_minute >= 0, "rate_limit_per_minute must be >= 0 (0: off)"),
            (self.max_upload_mb > 0, "max_upload_mb must be > 0"),
            (self.max_seconds > 0, "max_seconds must be > 0"),
            (self.max_job_files >= 1, "max_job_files must be >= 1"),
            (self.job_chunk >= 1, "job_chunk must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(f"serve config: {message}")
        if self.models is not None and self.default_model not in self.models:
            raise ConfigError(
                f"serve config: default_model {self.default_model!r} is not in models "
                f"{list(self.models)}; add it or pick one of them"
            )

    @property
    def url(self) -> str:
        """The database URL in effect."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'voxlab.db'}"

    @property
    def max_upload_bytes(self) -> int:
        """:attr:`max_upload_mb` in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def public(self) -> dict[str, Any]:
        """Settings safe to show to clients (no paths to keys, no database URL)."""
        return {
            "models": list(self.models) if self.models else None,
            "default_model": self.default_model,
            "max_batch": self.max_batch,
            "max_wait_ms": self.max_wait_ms,
            "queue_size": self.queue_size,
            "rate_limit_per_minute": self.rate_limit_per_minute,
            "max_upload_mb": self.max_upload_mb,
            "max_seconds": self.max_seconds,
        }


_FIELDS = {f.name: f for f in dataclasses.fields(ServiceConfig)}


def _coerce(name: str, value: Any, source: str) -> Any:
    kind = str(_FIELDS[name].type)
    try:
        if value is None:
            return None
        if name in ("data_dir", "watermark_key"):
            return Path(str(value)).expanduser()
        if name == "allowed_folders":
            items = value.split(os.pathsep) if isinstance(value, str) else list(value)
            return tuple(Path(str(v)).expanduser() for v in items if str(v))
        if name == "models":
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if name in ("checkpoints", "calibrations"):
            if not isinstance(value, dict):
                raise TypeError("expected a mapping name -> file")
            return {str(k): str(v) for k, v in value.items()}
        if kind.startswith("bool"):
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes", "on")
            return bool(value)
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{source}: bad value {value!r} for {name} ({exc}); expected {kind}"
        ) from None


def load_config(
    path: str | os.PathLike | None = None,
    *,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> ServiceConfig:
    """Build the configuration from a YAML file, the environment and overrides.

    Args:
        path: YAML file (optional).
        env: Environment to read ``VOXLAB_SERVE_*`` from (``os.environ`` when None).
        **overrides: Values that win over everything (``None`` values are ignored).

    Returns:
        The validated :class:`ServiceConfig`.

    Raises:
        ConfigError: Unreadable file, unknown key or bad value.
    """
    values: dict[str, Any] = {}
    if path is not None:
        import yaml

        file = Path(path)
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"{file}: cannot read the serve config ({exc})") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{file}: not valid YAML ({exc})") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"{file}: the serve config must be a mapping of settings")
        unknown = sorted(set(loaded) - set(_FIELDS))
        if unknown:
            raise ConfigError(
                f"{file}: unknown setting(s) {unknown}; known: {', '.join(sorted(_FIELDS))}"
            )
        values.update({k: _coerce(k, v, str(file)) for k, v in loaded.items()})
    environ = os.environ if env is None else env
    for name in _FIELDS:
        key = ENV_PREFIX + name.upper()
        if key in environ:
            values[name] = _coerce(name, environ[key], f"${key}")
    for name, value in overrides.items():
        if name not in _FIELDS:
            raise ConfigError(f"unknown serve setting {name!r}")
        if value is not None:
            values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    return ServiceConfig(**values)
