"""How close to the CPU's float32 ceiling a detector can get: FLOPs per utterance vs peak.

Used by ``detect_vs_official.py --roofline``. Two figures bound any float32 implementation
that computes the official function (the same convolutions, no reduced precision):

* the floating-point work of one 4.04-s utterance, counted by PyTorch's own
  :class:`~torch.utils.flop_counter.FlopCounterMode` (convolutions and matrix products,
  2 FLOPs per multiply-add) on the official-style model;
* the float32 rate one thread reaches on this CPU: a large matrix product (MKL/oneDNN at
  their best) and the encoder's own hottest convolution shape (oneDNN, channels-last).

Their quotient is the least CPU time a float32 forward can take; it says whether a target
such as "5x less CPU than the official code" is reachable at all.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode


def flops_per_utterance(model: torch.nn.Module, utterance: torch.Tensor) -> float:
    """FLOPs (2 per multiply-add) of one forward pass. ``utterance``: ``(1, time)``."""
    # the counter's module tracker hooks tensors that require grad, which fails under
    # inference mode: count with frozen parameters instead
    frozen = [p for p in model.parameters() if p.requires_grad]
    for p in frozen:
        p.requires_grad_(False)
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(utterance)
    finally:
        for p in frozen:
            p.requires_grad_(True)
    return float(counter.get_total_flops())


def _rate(fn, flops: float, repeats: int = 5) -> float:
    """Median GFLOP/s of ``fn`` (CPU time of this process, so waiting does not count)."""
    fn()  # warm-up: oneDNN primitive creation, page faults
    rates = []
    for _ in range(repeats):
        c0 = time.process_time()
        fn()
        rates.append(flops / (time.process_time() - c0) / 1e9)
    return statistics.median(rates)


def matmul_gflops(n: int = 2048) -> float:
    """float32 GFLOP/s of an ``n x n x n`` matrix product on the current thread count."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return _rate(lambda: a @ b, 2.0 * n**3)


def conv_gflops(channels: int = 32, freq: int = 23, time_steps: int = 21_490) -> float:
    """float32 GFLOP/s of AASIST's hottest convolution (first block's second conv).

    ``(1, channels, freq, time) -> (1, channels, freq - 1, time)``, kernel ``(2, 3)``,
    channels-last, as the inference path runs it.
    """
    x = torch.randn(1, channels, freq, time_steps).contiguous(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(channels, channels, (2, 3), padding=(0, 1)).eval()
    conv = conv.to(memory_format=torch.channels_last)
    flops = 2.0 * channels * channels * 2 * 3 * (freq - 1) * time_steps
    with torch.inference_mode():
        return _rate(lambda: conv(x), flops)
