"""The real server as a subprocess: a job survives ``kill -9`` with exactly one row per file."""

from __future__ import annotations

import json
import time

import pytest

pytest.importorskip("fastapi", reason="voxlab serve needs the serve extra (pip install .[serve])")
httpx = pytest.importorskip("httpx", reason="the HTTP client of the tests (dev extra)")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

N_FILES = 12


def _wait(client, url, token, predicate, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(url, headers={"Authorization": f"Bearer {token}"}).json()
        if predicate(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting on {url}: {job}")


def test_kill_9_mid_job_then_restart_gives_one_row_per_file(fixtures_dir, tmp_path):
    from voxlab.service.testing import ServerProcess, create_token

    checkpoint = fixtures_dir / "pretrained" / "aasist_l.pth"
    if not checkpoint.is_file():
        pytest.skip(f"AASIST-L checkpoint missing at {checkpoint}")
    data_dir = tmp_path / "data"
    env = {
        "VOXLAB_MODEL_DIR": str(fixtures_dir / "pretrained"),
        "VOXLAB_SERVE_DEFAULT_MODEL": "aasist-l",
        "VOXLAB_SERVE_DOWNLOAD": "false",
        "VOXLAB_SERVE_JOB_CHUNK": "2",  # commit every 2 files: kill -9 lands mid-job
        "VOXLAB_SERVE_MAX_BATCH": "2",
        "VOXLAB_SERVE_TORCH_THREADS": "1",
    }
    token = create_token(data_dir, "e2e")
    assert token.startswith("vxl_")
    sources = sorted((fixtures_dir / "parity").glob("*.flac"))
    files = [
        ("files", (f"clip{i:02d}.flac", sources[i % len(sources)].read_bytes()))
        for i in range(N_FILES)
    ]
    headers = {"Authorization": f"Bearer {token}"}
    server = ServerProcess(data_dir, env=env)
    with server, httpx.Client(base_url=server.url, timeout=60) as client:
        response = client.post("/v1/jobs", files=files, headers=headers)
        assert response.status_code == 202
        job_id = response.json()["id"]
        url = f"/v1/jobs/{job_id}"
        before = _wait(client, url, token, lambda j: j["done"] >= 2)
        server.kill()
    assert before["status"] == "running" and before["done"] < N_FILES, before

    with ServerProcess(data_dir, env=env) as again, httpx.Client(base_url=again.url) as client:
        job = _wait(client, url, token, lambda j: j["status"] == "done")
        assert (job["done"], job["total"], job["errors"]) == (N_FILES, N_FILES, 0)
        text = client.get(f"{url}/results", headers=headers, timeout=60).text
        rows = [json.loads(line) for line in text.splitlines()]
        # Unauthenticated and revoked callers are refused by the real server too.
        assert client.get(url).status_code == 401
    paths = [row["path"] for row in rows]
    assert paths == [f"clip{i:02d}.flac" for i in range(N_FILES)]  # one row each, in order
    assert all(row["status"] == "ok" and row["model"] == "aasist-l" for row in rows)
    log = (data_dir / "server.log").read_text()
    assert '"msg": "job resumed"' in log
    assert not any((data_dir / "uploads").iterdir())  # uploads removed once the job is done
