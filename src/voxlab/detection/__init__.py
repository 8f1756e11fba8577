"""Detection of synthetic speech: one inference API for arrays, files and folders."""

from voxlab.detection.detector import Detector
from voxlab.detection.policies import OFFICIAL_SAMPLES, InputPolicy
from voxlab.detection.results import DetectionResult, ResultWriter, Segment

__all__ = [
    "OFFICIAL_SAMPLES",
    "DetectionResult",
    "Detector",
    "InputPolicy",
    "ResultWriter",
    "Segment",
]
