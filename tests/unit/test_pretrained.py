"""The pretrained catalogue: lookup order, downloads (local HTTP server), checksums, loading."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch

from voxlab import pretrained
from voxlab.errors import CheckpointError, ConfigError
from voxlab.models.registry import available_models


@pytest.fixture(autouse=True)
def _no_model_dir(monkeypatch):
    monkeypatch.delenv("VOXLAB_MODEL_DIR", raising=False)
    monkeypatch.delenv("VOXLAB_DOWNLOAD_BASE", raising=False)


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    truncate: ClassVar[set[str]] = set()
    requests: ClassVar[list[str]] = []

    def do_GET(self):
        type(self).requests.append(self.path)
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path in self.truncate:
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(fixtures_dir):
    _Handler.files = {}
    _Handler.truncate = set()
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    finally:
        httpd.shutdown()
        httpd.server_close()


def _url_path(name: str) -> str:
    return pretrained.get_entry(name).url[len("https://github.com") :]


def test_catalogue_is_complete_and_consistent():
    assert pretrained.names() == [
        "aasist",
        "aasist-l",
        "aasist-asvspoof5",
        "rawgat-st",
        "rawgat-st-add",
        "ssl-aasist-la",
        "ssl-aasist-df",
        "xlsr-sls-df",
        "voxlab-wild",
    ]
    for entry in pretrained.list_entries():
        assert entry.model in available_models()
        if entry.is_packaged:  # voxlab's own weights (tests/unit/test_voxlab_wild.py)
            assert len(entry.sha256) == 64 and entry.license.startswith("MIT")
            continue
        if not entry.sha256:  # SSL models: Google Drive folders, fetched by hand
            assert entry.url.startswith("https://drive.google.com/") and entry.size
            continue
        assert entry.url.startswith("https://github.com/") and "/raw/main/" in entry.url
        assert len(entry.sha256) == 64 and entry.license == "MIT"
        assert entry.threshold_source
    assert pretrained.get_entry("rawgat-st").model == "rawgat-st"  # mul fusion
    with pytest.raises(ConfigError, match="known: aasist"):
        pretrained.get_entry("aasist-xxl")


def test_checksums_match_fixture_files(fixtures_dir):
    for entry in pretrained.list_entries():
        if entry.sha256 and not entry.is_packaged:
            assert (
                pretrained.sha256_of(fixtures_dir / "pretrained" / entry.filename) == entry.sha256
            )


def test_lookup_order_explicit_model_dir_cache(tmp_path, monkeypatch, fixtures_dir):
    source = fixtures_dir / "pretrained" / "aasist_l.pth"
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    cache = pretrained.cache_dir()
    cache.mkdir(parents=True)
    shutil.copy(source, cache / "aasist_l.pth")
    assert pretrained.resolve_checkpoint("aasist-l", download=False) == cache / "aasist_l.pth"
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(model_dir))
    shutil.copy(source, model_dir / "aasist_l.pth")
    assert pretrained.resolve_checkpoint("aasist-l", download=False) == model_dir / "aasist_l.pth"
    assert pretrained.resolve_checkpoint("aasist-l", checkpoint=source) == source
    with pytest.raises(CheckpointError, match="not found"):
        pretrained.resolve_checkpoint("aasist-l", checkpoint=tmp_path / "missing.pth")


def test_offline_without_copy_says_where_and_url():
    with pytest.raises(CheckpointError) as info:
        pretrained.resolve_checkpoint("aasist", download=False)
    msg = str(info.value)
    assert str(pretrained.cache_dir() / "aasist.pth") in msg
    assert "https://github.com/clovaai/aasist/raw/main/models/weights/AASIST.pth" in msg


def test_download_verifies_and_caches(server, fixtures_dir, monkeypatch):
    base, handler = server
    handler.files[_url_path("aasist-l")] = (
        fixtures_dir / "pretrained" / "aasist_l.pth"
    ).read_bytes()
    monkeypatch.setenv("VOXLAB_DOWNLOAD_BASE", base)
    path = pretrained.pull("aasist-l", progress=False)
    assert path == pretrained.cache_dir() / "aasist_l.pth"
    assert pretrained.sha256_of(path) == pretrained.get_entry("aasist-l").sha256
    assert list(path.parent.glob("*.part")) == []
    # second call uses the cache, no new request
    n = len(handler.requests)
    assert pretrained.resolve_checkpoint("aasist-l") == path
    assert len(handler.requests) == n


def test_wrong_checksum_is_not_cached(server, fixtures_dir, monkeypatch):
    base, handler = server
    handler.files[_url_path("aasist")] = (fixtures_dir / "pretrained" / "aasist_l.pth").read_bytes()
    with pytest.raises(CheckpointError, match="sha256") as info:
        pretrained.resolve_checkpoint("aasist", base_url=base, progress=False)
    assert "nothing was cached" in str(info.value)
    assert not (pretrained.cache_dir() / "aasist.pth").exists()
    assert list(pretrained.cache_dir().iterdir()) == []


def test_truncated_transfer_is_an_error(server, fixtures_dir):
    base, handler = server
    path = _url_path("aasist-l")
    handler.files[path] = (fixtures_dir / "pretrained" / "aasist_l.pth").read_bytes()
    handler.truncate.add(path)
    with pytest.raises(CheckpointError, match="cut off") as info:
        pretrained.resolve_checkpoint("aasist-l", base_url=base, progress=False, timeout=5)
    assert "put it at" in str(info.value)
    assert list(pretrained.cache_dir().iterdir()) == []


def test_http_error_and_unreachable_host(server):
    base, _ = server
    with pytest.raises(CheckpointError, match="404"):
        pretrained.resolve_checkpoint("aasist", base_url=base, progress=False)
    with pytest.raises(CheckpointError, match="cannot download"):
        pretrained.resolve_checkpoint(
            "aasist", base_url="http://127.0.0.1:9", progress=False, timeout=2
        )


def test_load_pretrained_gives_eval_model_with_published_weights(
    fixtures_dir, monkeypatch, one_torch_thread
):
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    model = pretrained.load_pretrained("aasist-l", download=False, verify=True)
    assert not model.training
    inputs = np.load(fixtures_dir / "parity" / "inputs.npy")[7:8]
    expected = np.load(fixtures_dir / "parity" / "expected_aasist_l.npy")[7:8]
    with torch.inference_mode():
        out = model(torch.from_numpy(inputs)).numpy()
    np.testing.assert_allclose(out, expected, atol=1e-5, rtol=1e-6)


def test_verify_detects_a_modified_file(tmp_path, fixtures_dir):
    path = tmp_path / "aasist_l.pth"
    path.write_bytes((fixtures_dir / "pretrained" / "aasist_l.pth").read_bytes())
    entry = pretrained.get_entry("aasist-l")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry.sha256
    with path.open("ab") as fh:
        fh.write(b"\0")
    with pytest.raises(CheckpointError, match="not the published"):
        pretrained.load_pretrained("aasist-l", checkpoint=path, verify=True)


def test_home_and_cache_follow_voxlab_home(tmp_path, monkeypatch):
    monkeypatch.setenv("VOXLAB_HOME", str(tmp_path / "vh"))
    assert pretrained.voxlab_home() == tmp_path / "vh"
    assert pretrained.cache_dir() == tmp_path / "vh" / "models"
    monkeypatch.delenv("VOXLAB_HOME")
    assert pretrained.voxlab_home() == Path.home() / ".cache" / "voxlab"
