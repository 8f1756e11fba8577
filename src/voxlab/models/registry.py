"""Name -> model builder registry.

Every architecture registers a builder under one or more names with :func:`register_model`;
:func:`build_model` turns a name plus keyword overrides of its config dataclass into an
``nn.Module``. Nothing here knows about files or checkpoints.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from voxlab.errors import ConfigError


@dataclass(frozen=True)
class ModelSpec:
    """A registered architecture.

    Attributes:
        name: Registry name (lower case, dashes), e.g. ``"aasist-l"``.
        config_cls: Frozen dataclass holding the architecture's hyper-parameters.
        builder: Callable turning a ``config_cls`` instance into an ``nn.Module``.
        default_config: The config the name stands for (e.g. AASIST-L's small sizes).
        description: One line for ``voxlab models list``.
        checkpoint_loader: For architectures whose size must be read off a checkpoint
            (the SSL models): ``loader(path, **options) -> nn.Module`` building the model
            from a file; ``None`` when ``build_model`` + strict loading suffice.
    """

    name: str
    config_cls: type
    builder: Callable[[Any], nn.Module]
    default_config: Any
    description: str = ""
    checkpoint_loader: Callable[..., nn.Module] | None = None


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(
    name: str,
    *,
    config: Any,
    description: str = "",
    checkpoint_loader: Callable[..., nn.Module] | None = None,
) -> Callable[[Callable[[Any], nn.Module]], Callable[[Any], nn.Module]]:
    """Decorator registering ``builder(config) -> nn.Module`` under ``name``.

    Args:
        name: Registry name; must be unique.
        config: Default config instance (a frozen dataclass) for this name.
        description: One line shown by ``voxlab models list``.
        checkpoint_loader: Optional ``loader(path, **options)`` building the model from a
            checkpoint file (see :attr:`ModelSpec.checkpoint_loader`).

    Returns:
        The decorator, which returns the builder unchanged.
    """

    def decorator(builder: Callable[[Any], nn.Module]) -> Callable[[Any], nn.Module]:
        if name in _REGISTRY:
            raise ConfigError(f"model name {name!r} is registered twice")
        _REGISTRY[name] = ModelSpec(
            name=name,
            config_cls=type(config),
            builder=builder,
            default_config=config,
            description=description,
            checkpoint_loader=checkpoint_loader,
        )
        return builder

    return decorator


def _ensure_loaded() -> None:
    # Importing the detectors package runs every @register_model decorator.
    import voxlab.models.detectors  # noqa: F401


def available_models() -> list[str]:
    """Sorted names of every registered architecture."""
    _ensure_loaded()
    return sorted(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` registered under ``name``.

    Raises:
        ConfigError: If no model has that name; the message lists the known names.
    """
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "(none)"
        raise ConfigError(f"unknown model {name!r}; known models: {known}") from None


def build_model(name: str, **overrides: Any) -> nn.Module:
    """Build the architecture ``name`` with optional config overrides.

    Args:
        name: A registered model name.
        **overrides: Fields of the model's config dataclass to change.

    Returns:
        A freshly initialised ``nn.Module``.

    Raises:
        ConfigError: Unknown name or unknown config field.
    """
    spec = get_spec(name)
    fields = {f.name for f in dataclasses.fields(spec.config_cls)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(
            f"model {name!r} has no config field(s) {unknown}; valid fields: {sorted(fields)}"
        )
    # YAML and JSON give lists where the config dataclasses hold tuples.
    overrides = {k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()}
    config = dataclasses.replace(spec.default_config, **overrides)
    return spec.builder(config)


def count_parameters(model: nn.Module) -> int:
    """Size of a model as papers report it: its parameters, or its buffers when it has none.

    EM-fitted models (the GMM baselines) keep everything they learned in buffers.
    """
    count = sum(p.numel() for p in model.parameters())
    return count or sum(b.numel() for b in model.buffers())
