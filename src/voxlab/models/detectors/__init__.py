"""Countermeasure architectures; importing this package registers them all.

Each module registers its builders with :func:`voxlab.models.registry.register_model`.
"""

from __future__ import annotations

import importlib

_MODULES = [
    "aasist",
    "rawgat_st",
    "rawnet2",
    "lcnn",
    "gmm",
]

for _name in _MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except ModuleNotFoundError as _exc:  # a module not written yet must not break the others
        if _exc.name != f"{__name__}.{_name}":
            raise
