"""Voice conversion: WORLD parameter transforms and parallel-data joint-density GMM."""

from voxlab.generation.vc.gmm_vc import GMMVoiceConverter, JointGMM, dtw_path
from voxlab.generation.vc.world_vc import (
    LogF0Stats,
    convert_features,
    map_f0,
    scale_aperiodicity,
    warp_frequency,
    world_voice_conversion,
)

__all__ = [
    "GMMVoiceConverter",
    "JointGMM",
    "LogF0Stats",
    "convert_features",
    "dtw_path",
    "map_f0",
    "scale_aperiodicity",
    "warp_frequency",
    "world_voice_conversion",
]
