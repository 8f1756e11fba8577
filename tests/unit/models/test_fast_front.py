"""The polyphase sinc front end of the fast path equals the plain front end.

:class:`voxlab.models.fast.FastSincFront` runs the sinc filterbank as one convolution over
the waveform's three polyphase components; it must give the plain model's
``SELU(BN(max_pool_3x3(|sinc(x)|)))`` for any filter count (whole groups of three or not),
any filter length, any input length and any tiling. Tolerance 1e-6 (float32 rounding of a
129-tap sum at the fixtures' signal levels).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from voxlab.models import fast
from voxlab.models.fast import FastSincFront, polyphase_sinc_weight
from voxlab.models.layers import SincFilterbank

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _plain(frontend: SincFilterbank, norm: torch.nn.BatchNorm2d, x: torch.Tensor) -> torch.Tensor:
    maps = F.max_pool2d(frontend(x).unsqueeze(1).abs(), (3, 3))
    return F.selu(norm(maps))


def _norm(seed: int) -> torch.nn.BatchNorm2d:
    g = torch.Generator().manual_seed(seed)
    norm = torch.nn.BatchNorm2d(1).eval()
    with torch.no_grad():
        norm.weight.fill_(0.5 + torch.rand(1, generator=g).item())
        norm.bias.fill_(torch.randn(1, generator=g).item())
        norm.running_mean.fill_(0.1)
        norm.running_var.fill_(0.02)
    return norm


@pytest.mark.parametrize(
    ("n_filters", "kernel_size", "length"),
    [
        pytest.param(70, 128, 26000, marks=pytest.mark.slow),
        (12, 32, 3001),
        (20, 15, 2000),
        (71, 129, 5003),
    ],
)
def test_polyphase_front_equals_plain_front(n_filters, kernel_size, length):
    frontend = SincFilterbank(n_filters, kernel_size).eval()
    norm = _norm(n_filters)
    x = torch.randn(2, length, generator=torch.Generator().manual_seed(length)) * 0.1
    expected = _plain(frontend, norm, x)
    front = FastSincFront(frontend, norm)
    with torch.inference_mode():
        got = front(x)
        single = front(x[1:])
    assert got.shape == expected.shape
    assert got.is_contiguous()
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(single, expected[1:], atol=1e-6, rtol=0)


def test_tiled_front_gives_the_untiled_result(monkeypatch):
    frontend = SincFilterbank(70, 128).eval()
    front = FastSincFront(frontend, _norm(1))
    x = torch.randn(2, 20000, generator=torch.Generator().manual_seed(2)) * 0.1
    with torch.inference_mode():
        whole = front(x)
        monkeypatch.setattr(fast, "MIN_FRONT_TILE", 500)  # 6,624 frames -> 13 tiles
        for tile_bytes in (1, 500 * 207 * 4, 2000 * 207 * 4):
            torch.testing.assert_close(front(x, tile_bytes=tile_bytes), whole, atol=0, rtol=0)


def test_polyphase_weight_layout():
    filters = torch.arange(1.0, 1 + 6 * 7).view(6, 7)  # 6 filters (2 groups), 7 taps
    weight = polyphase_sinc_weight(filters)
    assert weight.shape == (18, 3, 1, 3)  # ceil((7 + 2) / 3) = 3 polyphase taps
    assert weight.is_contiguous(memory_format=torch.channels_last)
    # channel 9g + 3i + r, input phase c, tap k holds filter 3g+i at sample 3k + c - r
    for g in range(2):
        for i in range(3):
            for r in range(3):
                for c in range(3):
                    for k in range(3):
                        j = 3 * k + c - r
                        want = filters[3 * g + i, j].item() if 0 <= j < 7 else 0.0
                        assert weight[9 * g + 3 * i + r, c, 0, k].item() == want
