"""HTTP tests of voxlab serve: auth, detection rows, 415/413/429, jobs, results, metrics."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tests.unit.service.conftest import PARITY, auth, make_app

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SHORT = PARITY / "espeak_en_short_16k.flac"
TINY = PARITY / "espeak_de_tiny_16k.flac"


def _post_file(client, token, path, url="/v1/detect", **kwargs):
    with open(path, "rb") as handle:
        return client.post(url, files={"file": (path.name, handle)}, headers=auth(token), **kwargs)


def test_health_docs_and_openapi(service):
    client, _, _ = service
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["models_loaded"] == ["aasist-l"]
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for route in ("/v1/detect", "/v1/jobs", "/v1/jobs/{job_id}/results", "/v1/tts", "/metrics"):
        assert route in paths
    page = client.get("/ui/index.html")
    assert page.status_code == 200 and "microphone" in page.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/ui/"


def test_missing_unknown_and_revoked_tokens(service):
    client, token, app = service
    assert client.get("/v1/models").status_code == 401
    assert client.get("/v1/models", headers=auth("vxl_not-a-token")).status_code == 401
    assert client.get("/v1/models", headers={"Authorization": token}).status_code == 401
    store = app.state.voxlab.store
    doomed = store.create_token("doomed")
    assert client.get("/v1/models", headers=auth(doomed)).status_code == 200
    assert store.revoke_token(name="doomed") == 1
    refused = client.get("/v1/models", headers=auth(doomed))
    assert refused.status_code == 403 and "revoked" in refused.json()["detail"]
    # Only the hash is stored: the token text appears nowhere in the database.
    with store.engine.connect() as conn:
        from sqlalchemy import text

        dump = " ".join(str(r) for r in conn.execute(text("SELECT * FROM tokens")).all())
    assert doomed not in dump and token not in dump


def test_detect_returns_the_row_voxlab_detect_prints(service, fixtures_dir, monkeypatch, capsys):
    from voxlab.cli.main import main

    client, token, _ = service
    long = PARITY / "espeak_enus_long_16k.flac"  # 9.7 s: the default (auto) judges windows
    rows = {}
    for path in (SHORT, long):
        response = _post_file(client, token, path)
        assert response.status_code == 200
        rows[path.name] = response.json()
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    args = ["detect", str(SHORT), str(long), "--model", "aasist-l", "--format", "json"]
    assert main([*args, "--no-progress"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in printed] == ["official", "windows"]
    for expected in printed:
        row = rows[Path(expected["path"]).name]
        assert set(row) == set(expected)
        for key in ("status", "verdict", "threshold", "duration", "model", "policy"):
            assert row[key] == expected[key], key
        # Same model and input; batched forwards may differ in the last float bits (tol 1e-4).
        np.testing.assert_allclose(row["logits"], expected["logits"], atol=1e-4)
        assert row["p_spoof"] == pytest.approx(expected["p_spoof"], abs=1e-4)


def test_detect_raw_body_windows_and_segments(service):
    client, token, _ = service
    body = (PARITY / "espeak_enus_long_16k.flac").read_bytes()
    response = client.post(
        "/v1/detect?policy=windows&segments=true&hop=2&filename=call.flac",
        content=body, headers={**auth(token), "Content-Type": "audio/flac"},
    )  # fmt: skip
    assert response.status_code == 200
    row = response.json()
    assert row["path"] == "call.flac" and row["policy"] == "windows"
    assert len(row["segments"]) >= 3
    assert row["score_min"] == pytest.approx(min(s["score"] for s in row["segments"]), abs=1e-5)


def test_not_audio_is_415_with_the_reason(service, tmp_path):
    client, token, _ = service
    cases = {
        "notes.wav": b"just some text, not audio\n" * 10,
        "weights.wav": b"\x80\x04\x95" + b"\x00" * 200,  # a pickle
        "image.mp3": b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        response = _post_file(client, token, path)
        assert response.status_code == 415, name
        assert "not an audio file" in response.json()["detail"]
    assert "PNG" in response.json()["detail"]
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x07" * 64)
    response = _post_file(client, token, corrupt)
    assert response.status_code == 415 and "corrupt.wav" in response.json()["detail"]
    assert _post_file(client, token, _empty(tmp_path)).status_code == 415


def _empty(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    return path


def test_too_large_and_too_long_are_413(service, tmp_path):
    from voxlab.audio import save
    from voxlab.testing import noise

    client, token, _ = service
    big = tmp_path / "big.wav"  # 1.5 MiB > the 1 MiB limit of this app
    save(big, noise(seconds=50.0, sr=16_000), 16_000)
    response = _post_file(client, token, big)
    assert response.status_code == 413 and "MiB" in response.json()["detail"]
    blob = big.read_bytes()
    pieces = iter([blob[i : i + 65536] for i in range(0, len(blob), 65536)])
    chunked = client.post(  # no Content-Length: the server stops reading at the limit
        "/v1/detect", content=pieces, headers={**auth(token), "Content-Type": "audio/wav"}
    )
    assert chunked.status_code == 413
    long = tmp_path / "long.flac"  # 15 s > max_seconds 12, small enough in FLAC
    save(long, np.zeros(15 * 8000, np.float32), 8000)
    response = _post_file(client, token, long)
    assert response.status_code == 413 and "longer than" in response.json()["detail"]


def test_full_queue_is_429_with_retry_after(service):
    client, token, app = service
    loaded = app.state.voxlab.pool.get("aasist-l")
    gate = threading.Event()
    forward = loaded.batcher.forward
    # Hold the worker in a stand-in forward so that the queue stays full.
    loaded.batcher.forward = lambda x: (gate.wait(30), np.zeros((len(x), 2), np.float32))[1]
    try:
        blocker = loaded.batcher.submit(np.zeros((1, 64600), np.float32))
        time.sleep(0.1)  # the worker holds it in the (blocked) forward
        filler = loaded.batcher.submit(np.zeros((16, 64600), np.float32))  # fills the queue
        response = _post_file(client, token, TINY)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
    finally:
        gate.set()
    blocker.result(60), filler.result(60)
    loaded.batcher.forward = forward
    assert _post_file(client, token, TINY).status_code == 200
    metrics = client.get("/metrics").text
    assert 'voxlab_rejected_total{reason="queue_full"} 1' in metrics


def test_rate_limit_per_token_is_429(tmp_path):
    from fastapi.testclient import TestClient

    app = make_app(tmp_path, rate_limit_per_minute=3, preload=False)
    with TestClient(app) as client:
        first = app.state.voxlab.store.create_token("a")
        second = app.state.voxlab.store.create_token("b")
        codes = [client.get("/v1/models", headers=auth(first)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/v1/models", headers=auth(first))
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        assert client.get("/v1/models", headers=auth(second)).status_code == 200


def _wait_done(client, token, job_id, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=auth(token)).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def test_job_of_uploads_one_row_per_file_jsonl_and_csv(service, tmp_path):
    client, token, app = service
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(SHORT.read_bytes()[:300])
    names = [SHORT, TINY, truncated]
    files = [("files", (p.name, p.read_bytes())) for p in names]
    response = client.post(
        "/v1/jobs", files=files, data={"model": "aasist-l"},
        headers={**auth(token), "Idempotency-Key": "batch-1"},
    )  # fmt: skip
    assert response.status_code == 202
    job_id = response.json()["id"]
    again = client.post(
        "/v1/jobs", files=files[:1], headers={**auth(token), "Idempotency-Key": "batch-1"}
    )
    assert again.status_code == 200 and again.json()["id"] == job_id
    job = _wait_done(client, token, job_id)
    assert (job["status"], job["done"], job["total"], job["errors"]) == ("done", 3, 3, 1)
    lines = client.get(f"/v1/jobs/{job_id}/results", headers=auth(token)).text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["path"] for r in rows] == [p.name for p in names]
    assert [r["status"] for r in rows] == ["ok", "ok", "error"]
    assert "truncated.flac" in rows[2]["error"]
    single = _post_file(client, token, SHORT).json()
    np.testing.assert_allclose(rows[0]["logits"], single["logits"], atol=1e-4)
    table = client.get(f"/v1/jobs/{job_id}/results?format=csv", headers=auth(token)).text
    header, *csv_rows = table.strip().splitlines()
    assert header.startswith("path,status,score,p_spoof,verdict") and len(csv_rows) == 3
    other = app.state.voxlab.store.create_token("someone-else")
    assert client.get(f"/v1/jobs/{job_id}", headers=auth(other)).status_code == 404
    assert any(j["id"] == job_id for j in client.get("/v1/jobs", headers=auth(token)).json())


def test_server_folders_only_from_the_allow_list(service, tmp_path):
    client, token, app = service
    allowed = app.state.voxlab.config.allowed_folders[0]
    (allowed / "calls").mkdir(exist_ok=True)
    (allowed / "calls" / "a.flac").write_bytes(TINY.read_bytes())
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "b.flac").write_bytes(TINY.read_bytes())
    (allowed / "escape").symlink_to(outside)
    for folder in ("../", str(outside), "calls/../../", "escape", "/etc"):
        response = client.post("/v1/jobs", data={"folder": folder}, headers=auth(token))
        assert response.status_code == 403, folder
        assert "outside the allowed folders" in response.json()["detail"]
    response = client.post("/v1/jobs", data={"folder": "calls"}, headers=auth(token))
    assert response.status_code == 202
    job = _wait_done(client, token, response.json()["id"])
    assert job["done"] == 1 and job["source"] == {"kind": "folder", "folder": "calls"}
    rows = client.get(f"/v1/jobs/{job['id']}/results", headers=auth(token)).text.splitlines()
    assert json.loads(rows[0])["path"] == "a.flac"  # relative: no server paths leak


def test_metrics_are_prometheus_text(service):
    client, token, _ = service
    client.get("/v1/models", headers=auth(token))
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE voxlab_http_requests_total counter" in text
    assert 'voxlab_http_requests_total{route="/v1/models",method="GET",status="200"}' in text
    assert "# TYPE voxlab_http_request_duration_seconds histogram" in text
    assert 'voxlab_http_request_duration_seconds_bucket{route="/v1/detect",le="+Inf"}' in text
    assert 'voxlab_queue_depth{model="aasist-l"} 0' in text
    assert 'voxlab_model_load_seconds{model="aasist-l"}' in text
    assert "voxlab_models_loaded 1" in text
