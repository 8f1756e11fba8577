"""voxlab's inference path against the official-style AASIST of the speed benchmark.

``benchmarks/detect_vs_official.py`` times :func:`optimize_for_inference` against
``benchmarks/_official_style_models.py``; both must give the official logits (the parity
fixtures, made with clovaai/aasist) within 1e-5 for the comparison to mean anything.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from voxlab import pretrained
from voxlab.models.checkpoints import load_checkpoint_into
from voxlab.models.fast import optimize_for_inference
from voxlab.models.registry import build_model

REPO = Path(__file__).resolve().parents[3]
FIXTURES = REPO.parent / "shared" / "fixtures"
TOLERANCE = 1e-5

pytestmark = pytest.mark.skipif(
    not (FIXTURES / "pretrained" / "aasist_l.pth").is_file(),
    reason="needs ../shared/fixtures/pretrained and parity (see OFFLINE-ASSETS.md)",
)


def _reference_module():
    path = REPO / "benchmarks" / "_official_style_models.py"
    spec = importlib.util.spec_from_file_location("_official_style_models", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_official_style_aasist_l_and_fast_path_match_the_official_logits():
    ckpt = FIXTURES / "pretrained" / "aasist_l.pth"
    reference = _reference_module().load_official_aasist(ckpt, light=True)
    plain = build_model(pretrained.get_entry("aasist-l").model).eval()
    load_checkpoint_into(plain, ckpt)
    fast = optimize_for_inference(plain)
    inputs = torch.from_numpy(np.load(FIXTURES / "parity" / "inputs.npy"))[:3]
    expected = np.load(FIXTURES / "parity" / "expected_aasist_l.npy")[:3]
    noise = torch.randn(2, 64600, generator=torch.Generator().manual_seed(3)) * 0.1
    with torch.inference_mode():
        assert np.abs(reference(inputs).numpy() - expected).max() < TOLERANCE
        assert np.abs(fast(inputs).numpy() - expected).max() < TOLERANCE
        # random inputs: the fast path equals the official-style computation
        assert (fast(noise) - reference(noise)).abs().max().item() < TOLERANCE


def _policy_after_cli_import(env: dict[str, str]) -> str:
    code = "import os, sys; import voxlab.cli.main; print(os.environ.get('OMP_WAIT_POLICY'))"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_cli_makes_openmp_threads_wait_passively_unless_the_user_chose():
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    assert _policy_after_cli_import(env) == "PASSIVE"
    assert _policy_after_cli_import({**env, "OMP_WAIT_POLICY": "ACTIVE"}) == "ACTIVE"


@pytest.mark.slow
def test_official_style_rawgat_st_and_fast_path_match_the_official_logits():
    ckpt = FIXTURES / "pretrained" / "rawgat_st_mul.pth"
    reference = _reference_module().load_official_rawgat_st(ckpt)  # strict official keys
    plain = build_model(pretrained.get_entry("rawgat-st").model).eval()
    load_checkpoint_into(plain, ckpt)
    fast = optimize_for_inference(plain)
    inputs = torch.from_numpy(np.load(FIXTURES / "parity" / "inputs.npy"))[:2]
    expected = np.load(FIXTURES / "parity" / "expected_rawgat_st_mul.npy")[:2]
    with torch.inference_mode():
        # the parity tests' bound: 1e-5 + 1e-6 |logit| (multiplicative fusion amplifies rounding)
        np.testing.assert_allclose(reference(inputs).numpy(), expected, atol=TOLERANCE, rtol=1e-6)
        np.testing.assert_allclose(fast(inputs).numpy(), expected, atol=TOLERANCE, rtol=1e-6)
