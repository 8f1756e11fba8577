"""Grad-CAM hooks the documented layer of each architecture (small random-weight models)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from voxlab.explain import cam_layers, explain, grad_cam
from voxlab.explain.attribution import sinc_band_edges
from voxlab.models.detectors.aasist import AASIST, AASISTConfig
from voxlab.models.detectors.lcnn import LCNN
from voxlab.models.detectors.rawgat_st import RawGATST, RawGATSTConfig

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _wave(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (0.1 * rng.standard_normal(n)).astype(np.float32)


def _names(model, layers):
    names = {id(m): n for n, m in model.named_modules()}
    return [names[id(layer.module)] for layer in layers]


def test_aasist_hooks_the_last_encoder_block_with_sinc_rows():
    torch.manual_seed(0)
    cfg = AASISTConfig(n_filters=24, sinc_kernel_size=32, encoder_channels=(4, 4, 8, 8),
                       gat_dims=(8, 8))  # fmt: skip
    model = AASIST(cfg).eval()
    assert _names(model, cam_layers(model)) == ["encoder.3"]
    cam, _, _ = grad_cam(model, _wave(8000))
    assert cam.shape[0] == 24 // 3 and cam.shape[1] > 1
    edges = sinc_band_edges(model)
    assert len(edges) == 24 // 3 + 1 and edges[0] == 0 and edges[-1] == pytest.approx(8000)
    # an earlier block: a finer time axis; the explanation still lands on the grid
    assert _names(model, cam_layers(model, block=1)) == ["encoder.1"]
    early, _, _ = grad_cam(model, _wave(8000), block=1)
    assert early.shape[1] > cam.shape[1]
    expl = explain(model, _wave(8000), methods=("gradcam",), cam_block=1)
    assert expl.gradcam.shape == expl.spectrogram_db.shape and expl.gradcam_layers == ["encoder.1"]


def test_rawgat_st_hooks_both_encoders():
    torch.manual_seed(0)
    cfg = RawGATSTConfig(n_filters=24, sinc_kernel_size=32, num_samples=8000,
                         encoder_channels=(4, 4, 8, 8))  # fmt: skip
    model = RawGATST(cfg).eval()
    assert _names(model, cam_layers(model)) == ["spectral_encoder.3", "temporal_encoder.3"]
    expl = explain(model, _wave(12_000), methods=("gradcam",))  # two 8000-sample windows
    assert expl.gradcam.shape == expl.spectrogram_db.shape
    assert expl.info["chunks"] == [[0.0, 0.5], [0.25, 0.75]]


def test_lcnn_map_is_time_only():
    torch.manual_seed(0)
    model = LCNN().eval()
    assert _names(model, cam_layers(model)) == ["m_transform.27"]
    cam, _, layers = grad_cam(model, _wave(8000))
    assert layers[0].freq_axis is None and cam.shape[0] == 1
    expl = explain(model, _wave(8000), methods=("gradcam",))
    # no frequency axis: every frequency row of a frame carries the same value
    assert np.allclose(expl.gradcam, expl.gradcam[:1])
