"""Engine name -> engine class, filled by :func:`register_engine` (lhotse-style decorator).

Built-in engines live in modules listed in :data:`ENGINE_MODULES`; they are imported the
first time the registry is read, so ``import voxlab`` and ``voxlab --help`` never pay for
them (and the modules themselves import onnxruntime & co. only inside methods). An engine
defined elsewhere registers itself with the decorator; add its module to
:data:`ENGINE_MODULES` so that "every installed engine" includes it.

Example:
    >>> from voxlab.generation.neural.engines import get_engine, installed_engines
    >>> piper = get_engine("piper")
    >>> out = piper.synthesize("Hello there.", seed=0)          # Generated, 22.05 kHz
    >>> [e.name for e in installed_engines()]                   # what runs on this machine
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from voxlab.errors import ConfigError
from voxlab.generation.neural.engines.base import TTSEngine, UnknownEngineError

#: Modules that define built-in engines (imported lazily, in this order).
ENGINE_MODULES: list[str] = [
    "voxlab.generation.neural.engines.espeak",
    "voxlab.generation.neural.engines.piper",
    "voxlab.generation.neural.engines.kokoro",
    "voxlab.generation.neural.engines.festival",
    "voxlab.generation.neural.engines.vits",
]

_ENGINES: dict[str, type[TTSEngine]] = {}
_INSTANCES: dict[str, TTSEngine] = {}
_loaded = False


def register_engine(cls: type[TTSEngine]) -> type[TTSEngine]:
    """Class decorator adding a :class:`TTSEngine` subclass under its ``name``.

    Raises:
        UnknownEngineError: The class has no name, or the name is taken by another class.
    """
    if not cls.name:
        raise UnknownEngineError(f"{cls.__qualname__} must set a `name` to be registered")
    other = _ENGINES.get(cls.name)
    if other is not None and other.__qualname__ != cls.__qualname__:
        raise UnknownEngineError(f"TTS engine name {cls.name!r} is already registered")
    _ENGINES[cls.name] = cls
    return cls


def _load_builtin() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in ENGINE_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a real import error inside an existing module
                raise


def engine_names() -> list[str]:
    """Names of all registered engines (installed or not), in registration order."""
    _load_builtin()
    return list(_ENGINES)


def engine_class(name: str) -> type[TTSEngine]:
    """The class registered under ``name``.

    Raises:
        UnknownEngineError: Unknown name (the message lists the known ones).
    """
    _load_builtin()
    try:
        return _ENGINES[name]
    except KeyError:
        raise UnknownEngineError(
            f"unknown TTS engine {name!r}; known: {', '.join(_ENGINES)} (see `voxlab voices`)"
        ) from None


def get_engine(name: str, **options: Any) -> TTSEngine:
    """The engine registered under ``name``.

    Without options the instance is shared (engines cache their loaded models); with
    options (e.g. ``checkpoint=...`` for engines that load user files) a new one is built.

    Raises:
        UnknownEngineError: Unknown name.
        ConfigError: The engine does not take these options.
    """
    cls = engine_class(name)
    if options:
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            accepted = [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY]
            unknown = sorted(set(options) - set(accepted))
            if unknown:
                raise ConfigError(
                    f"TTS engine {name!r} does not take {', '.join(unknown)}; it takes "
                    f"{', '.join(accepted) or 'no options'}"
                )
        return cls(**options)
    if name not in _INSTANCES:
        _INSTANCES[name] = cls()
    return _INSTANCES[name]


def all_engines() -> list[TTSEngine]:
    """One shared instance of every registered engine that needs no options."""
    out = []
    for name in engine_names():
        try:
            out.append(get_engine(name))
        except UnknownEngineError:
            raise
        except ConfigError:  # engines that need options (user checkpoints) are skipped
            continue
    return out


def installed_engines(*, where: Callable[[TTSEngine], bool] | None = None) -> list[TTSEngine]:
    """Every registered engine that is available here (optionally filtered by ``where``)."""
    return [e for e in all_engines() if e.available() and (where is None or where(e))]
