"""Why did the countermeasure say spoof? Window timelines, integrated gradients, Grad-CAM.

Example:
    >>> from voxlab import pretrained
    >>> from voxlab.explain import explain, draw
    >>> model = pretrained.load_pretrained("aasist")
    >>> expl = explain(model, wave, methods=("windows", "ig", "gradcam"))
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
from voxlab.explain.core import METHODS, Explanation, explain, spectrogram
from voxlab.explain.figure import draw

__all__ = [
    "METHODS",
    "Attribution",
    "Explanation",
    "cam_layers",
    "draw",
    "explain",
    "grad_cam",
    "integrated_gradients",
    "project_cam",
    "spectrogram",
    "spoof_margin",
]
