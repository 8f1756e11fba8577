"""A live app (TestClient, lifespan running) with AASIST-L and a token, shared by the tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="voxlab serve needs the serve extra (pip install .[serve])")
pytest.importorskip("sqlalchemy", reason="voxlab serve needs the serve extra")

FIXTURES = Path(
    os.environ.get("VOXLAB_FIXTURES", Path(__file__).parents[3].parent / "shared" / "fixtures")
)
PARITY = FIXTURES / "parity"
CHECKPOINT = FIXTURES / "pretrained" / "aasist_l.pth"


def make_app(tmp: Path, **settings):
    """A configured app (not started) plus a function that makes tokens in its store."""
    from voxlab.service.app import create_app
    from voxlab.service.config import ServiceConfig
    from voxlab.watermark import WatermarkKey

    key = tmp / "server.key"
    if not key.exists():
        WatermarkKey.generate().save(key)
    base = dict(
        data_dir=tmp / "data", models=("aasist-l",), default_model="aasist-l",
        checkpoints={"aasist-l": str(CHECKPOINT)}, download=False, watermark_key=key,
        max_batch=8, max_wait_ms=5.0, queue_size=16, job_chunk=4, log_json=True,
    )  # fmt: skip
    preload = settings.pop("preload", True)
    base.update(settings)
    return create_app(ServiceConfig(**base), preload=preload)


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    """``(client, token, app)`` for a running app with the default settings."""
    from fastapi.testclient import TestClient

    if not CHECKPOINT.is_file():
        pytest.skip(f"AASIST-L checkpoint not found at {CHECKPOINT} (needs ../shared/fixtures)")
    tmp = tmp_path_factory.mktemp("service")
    allowed = tmp / "allowed"
    allowed.mkdir()
    app = make_app(tmp, allowed_folders=(allowed,), max_upload_mb=1.0, max_seconds=12.0)
    with TestClient(app) as client:
        token = app.state.voxlab.store.create_token("tests")
        yield client, token, app


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
