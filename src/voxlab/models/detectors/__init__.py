"""Countermeasure architectures; importing this package registers them all.

Each module registers its builders with :func:`voxlab.models.registry.register_model`.
"""

from voxlab.models.detectors import (
    aasist,
    gmm,
    lcnn,
    rawgat_st,
    rawnet2,
    ssl_aasist,
    ssl_pool,
    xlsr_sls,
)

__all__ = [
    "aasist",
    "gmm",
    "lcnn",
    "rawgat_st",
    "rawnet2",
    "ssl_aasist",
    "ssl_pool",
    "xlsr_sls",
]
