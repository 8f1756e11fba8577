"""Shared pytest fixtures: the shared fixture folder, generated audio, env isolation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURES = Path(os.environ.get("VOXLAB_FIXTURES", REPO_ROOT.parent / "shared" / "fixtures"))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``../shared/fixtures`` (published checkpoints, references, protocols); skips if absent."""
    if not SHARED_FIXTURES.is_dir():
        pytest.skip(
            f"shared fixtures not found at {SHARED_FIXTURES} (needs ../shared beside the repo)"
        )
    return SHARED_FIXTURES


@pytest.fixture(autouse=True)
def _isolated_voxlab_home(tmp_path_factory, monkeypatch):
    """Never touch the user's cache: each test gets its own VOXLAB_HOME."""
    monkeypatch.setenv("VOXLAB_HOME", str(tmp_path_factory.mktemp("voxlab_home")))


@pytest.fixture(scope="session")
def espeak():
    """Skips the test when espeak-ng is missing (``make install`` installs it)."""
    from voxlab.testing import espeak_available

    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install -y espeak-ng)")
    return True


@pytest.fixture
def one_torch_thread():
    """One intra-op torch thread for the test (restored after).

    Small models on a 2-core machine run several times faster without intra-op threads,
    and much faster still when other processes share the cores. Use it with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
