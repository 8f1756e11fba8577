"""Why did the countermeasure say spoof? Window timelines, scans, occlusion, IG, Grad-CAM.

Example:
    >>> from voxlab import pretrained
    >>> from voxlab.explain import explain, draw
    >>> model = pretrained.load_pretrained("aasist")
    >>> expl = explain(model, wave, methods=("windows", "scan", "ig", "gradcam"))
    >>> draw(expl, "why.png"); expl.save_npz("why.npz")
"""

from voxlab.explain.attribution import (
    Attribution,
    cam_layers,
    grad_cam,
    integrated_gradients,
    project_cam,
    spoof_margin,
)
from voxlab.explain.baselines import BASELINES, expected_gradients, ig_baseline
from voxlab.explain.core import (
    DEFAULT_METHODS,
    METHODS,
    PROFILES,
    Explanation,
    explain,
    mass_fraction,
    spectrogram,
)
from voxlab.explain.figure import draw
from voxlab.explain.scan import ScanResult, occlusion, window_scan

__all__ = [
    "BASELINES",
    "DEFAULT_METHODS",
    "METHODS",
    "PROFILES",
    "Attribution",
    "Explanation",
    "ScanResult",
    "cam_layers",
    "draw",
    "expected_gradients",
    "explain",
    "grad_cam",
    "ig_baseline",
    "integrated_gradients",
    "mass_fraction",
    "occlusion",
    "project_cam",
    "spectrogram",
    "spoof_margin",
    "window_scan",
]
