"""Building blocks shared by the countermeasure architectures."""

from voxlab.models.layers.graph import GraphAttention, GraphPool, HeteroGraphAttention
from voxlab.models.layers.residual import ResidualBlock2d
from voxlab.models.layers.sinc import SincFilterbank, mel_sinc_filters

__all__ = [
    "GraphAttention",
    "GraphPool",
    "HeteroGraphAttention",
    "ResidualBlock2d",
    "SincFilterbank",
    "mel_sinc_filters",
]
