"""SSL catalogue entries: published facts, download path (local HTTP server), local entries."""

from __future__ import annotations

import dataclasses
import http.server
import threading

import numpy as np
import pytest
import torch

pytest.importorskip("transformers")

from voxlab import pretrained
from voxlab.detection import Detector
from voxlab.errors import CheckpointError, ConfigError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Files(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}  # noqa: RUF012

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_published_ssl_entries_state_their_sources():
    la, df, sls = (
        pretrained.get_entry(n) for n in ("ssl-aasist-la", "ssl-aasist-df", "xlsr-sls-df")
    )
    assert (la.model, df.model, sls.model) == ("ssl-aasist", "ssl-aasist", "xlsr-sls")
    assert la.eer_percent == 0.82 and "0.2066" in la.reported
    assert df.eer_percent == 2.85 and sls.eer_percent == 1.92 and "7.46" in sls.reported
    for entry in (la, df, sls):
        assert entry.url.startswith("https://drive.google.com/drive/folders/")
        assert entry.sha256 == "" and entry.size and "Apache-2.0" in entry.license
    assert sls.threshold == pytest.approx(np.log(0.5))


def test_ssl_entry_without_checksum_is_never_downloaded():
    with pytest.raises(CheckpointError, match="by hand") as info:
        pretrained.resolve_checkpoint("ssl-aasist-df", download=True)
    assert str(pretrained.cache_dir() / "best_SSL_model_DF.pth") in str(info.value)


def test_download_path_for_an_ssl_checkpoint(server, fixtures_dir, monkeypatch):
    """The catalogue's download path (mirror, sha256, cache) with an SSL architecture."""
    ssl = fixtures_dir / "ssl"
    body = (ssl / "tiny_official_layout.pth").read_bytes()
    _Files.files = {"/tiny/raw/main/tiny.pth": body}
    entry = dataclasses.replace(
        pretrained.get_entry("ssl-aasist-la"),
        name="tiny-ssl-aasist",
        filename="tiny_ssl.pth",
        url="https://github.com/tiny/raw/main/tiny.pth",
        sha256=pretrained.sha256_of(ssl / "tiny_official_layout.pth"),
        ssl_config=str(ssl / "tiny_config.json"),
    )
    monkeypatch.setitem(pretrained.PRETRAINED, entry.name, entry)
    monkeypatch.setenv("VOXLAB_DOWNLOAD_BASE", server)
    detector = Detector.from_pretrained(entry.name, batch_size=2, policy="full")
    assert (pretrained.cache_dir() / "tiny_ssl.pth").read_bytes() == body
    io = np.load(ssl / "tiny_io.npz")
    np.testing.assert_allclose(detector.logits(io["case1_wav"]), io["case1_logits"], atol=1e-5)
    model = pretrained.load_pretrained(entry.name, download=False, verify=True)
    assert not model.training and model.config.frontend.num_attention_heads == 4


def test_local_entries_are_recorded_checked_and_listed(fixtures_dir, tmp_path):
    ssl = fixtures_dir / "ssl"
    entry = pretrained.add_local(
        "mine", ssl / "tiny_official_layout.pth", arch="ssl-aasist",
        ssl_config=ssl / "tiny_config.json", threshold=0.25,
    )  # fmt: skip
    assert entry.is_local and entry.eer_percent is None
    assert "mine" in pretrained.names() and pretrained.get_entry("mine").threshold == 0.25
    assert pretrained.resolve_checkpoint("mine") == (ssl / "tiny_official_layout.pth").resolve()
    with pytest.raises(ConfigError, match="published"):
        pretrained.add_local("aasist", ssl / "tiny_official_layout.pth", arch="ssl-aasist")
    with pytest.raises(ConfigError, match="unknown architecture"):
        pretrained.add_local("x", ssl / "tiny_official_layout.pth", arch="wav2vec-magic")
    with pytest.raises(CheckpointError, match="no SSL front end"):
        pretrained.add_local("y", ssl / "backend_state_dict.pth", arch="ssl-aasist")
    assert "y" not in pretrained.names()  # a file that does not load is not registered
    moved = tmp_path / "gone.pth"
    moved.write_bytes(torch.zeros(1).numpy().tobytes())
    pretrained.add_local("gone", moved, arch="aasist", check=False)
    moved.unlink()
    with pytest.raises(CheckpointError, match="is gone"):
        pretrained.resolve_checkpoint("gone")
