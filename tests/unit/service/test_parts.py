"""The service's parts on their own: batcher, store, config, sniffing, folders, metrics."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voxlab.errors import ConfigError


def test_batcher_merges_concurrent_requests_and_keeps_rows_apart():
    from voxlab.service.batching import DynamicBatcher

    sizes = []

    def forward(x):
        sizes.append(len(x))
        return np.stack([x.sum(axis=1), x.max(axis=1)], axis=1)

    batcher = DynamicBatcher(forward, max_batch=8, max_wait_ms=200, queue_size=32)
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((n, 100)).astype(np.float32) for n in (1, 2, 1, 3)]
    futures = [batcher.submit(x) for x in inputs]
    outputs = [f.result(10) for f in futures]
    batcher.close()
    assert sizes == [7]  # one forward for all four requests
    for x, out in zip(inputs, outputs):
        np.testing.assert_allclose(out, np.stack([x.sum(1), x.max(1)], 1), rtol=1e-6)


def test_batcher_respects_max_batch_and_input_length():
    from voxlab.service.batching import DynamicBatcher

    sizes = []
    batcher = DynamicBatcher(
        lambda x: (sizes.append(x.shape), x[:, :1])[1], max_batch=4, max_wait_ms=100
    )
    futures = [batcher.submit(np.ones((1, 10 if i % 2 else 20), np.float32)) for i in range(6)]
    for f in futures:
        f.result(10)
    batcher.close()
    assert all(n <= 4 for n, _ in sizes) and sum(n for n, _ in sizes) == 6
    assert {length for _, length in sizes} == {10, 20}


def test_batcher_full_queue_raises_with_retry_after_and_errors_reach_callers():
    from voxlab.service.batching import DynamicBatcher, QueueFullError

    gate = threading.Event()

    def forward(x):
        gate.wait(10)
        if x.shape[1] == 3:
            raise RuntimeError("boom")
        return x

    batcher = DynamicBatcher(forward, max_batch=2, max_wait_ms=0, queue_size=2)
    first = batcher.submit(np.ones((1, 5), np.float32))
    time.sleep(0.1)  # now inside the blocked forward
    queued = batcher.submit(np.ones((2, 3), np.float32))
    with pytest.raises(QueueFullError) as info:
        batcher.submit(np.ones((1, 5), np.float32))
    assert info.value.retry_after >= 1
    gate.set()
    assert first.result(10).shape == (1, 5)
    with pytest.raises(RuntimeError, match="boom"):
        queued.result(10)
    batcher.close()
    with pytest.raises(RuntimeError, match="shut down"):
        batcher.submit(np.ones((1, 5), np.float32))


def test_store_keeps_exactly_one_result_per_file_and_idempotency(tmp_path):
    from voxlab.service.store import JobStore

    store = JobStore(f"sqlite:///{tmp_path / 'jobs.db'}")
    files = [(f"/x/{i}.wav", f"{i}.wav") for i in range(5)]
    job, created = store.create_job(
        files, model="m", policy=None, segments=False, source={"kind": "upload"},
        token_id=None, idempotency_key="k",
    )  # fmt: skip
    assert created
    again, created = store.create_job(
        files[:1], model="m", policy=None, segments=False, source={}, token_id=None,
        idempotency_key="k",
    )  # fmt: skip
    assert (again, created) == (job, False)
    assert [i.idx for i in store.pending_items(job, limit=3)] == [0, 1, 2]
    assert store.add_results(job, [(0, {"status": "ok"}), (1, {"status": "error"})]) == 2
    # A resumed worker scores 1 and 2 again: 1 is kept as it was, 2 is new.
    assert store.add_results(job, [(1, {"status": "ok"}), (2, {"status": "ok"})]) == 1
    assert [i.idx for i in store.pending_items(job, limit=10)] == [3, 4]
    state = store.job(job)
    assert (state["done"], state["errors"], state["total"]) == (3, 1, 5)
    assert [r["path"] for r in store.iter_results(job)] == ["0.wav", "1.wav", "2.wav"]
    with store.engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert store.unfinished_jobs() == [job]
    store.set_status(job, "done")
    assert store.unfinished_jobs() == []


def test_config_from_yaml_env_and_overrides(tmp_path):
    from voxlab.service.config import load_config

    path = tmp_path / "serve.yaml"
    path.write_text(
        "max_batch: 4\nmodels: [aasist, aasist-l]\ndefault_model: aasist\n"
        "allowed_folders: [/srv/a]\n"
    )
    config = load_config(path, env={"VOXLAB_SERVE_MAX_BATCH": "12"}, port=9000, host=None)
    assert config.max_batch == 12 and config.port == 9000 and config.host == "127.0.0.1"
    assert config.models == ("aasist", "aasist-l") and config.allowed_folders == (Path("/srv/a"),)
    assert config.url.startswith("sqlite:///") and config.url.endswith("voxlab.db")
    path.write_text("max_bach: 4\n")
    with pytest.raises(ConfigError, match=r"unknown setting.*max_bach"):
        load_config(path, env={})
    with pytest.raises(ConfigError, match="VOXLAB_SERVE_QUEUE_SIZE"):
        load_config(env={"VOXLAB_SERVE_QUEUE_SIZE": "many"})
    with pytest.raises(ConfigError, match="default_model"):
        load_config(env={}, models=["aasist-l"])


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"RIFF\x00\x00\x00\x00WAVEfmt ", "wav"), (b"fLaC\x00\x00\x00\x22", "flac"),
     (b"OggS\x00\x02", "ogg"), (b"ID3\x04\x00", "mp3"), (b"\xff\xfb\x90\x00", "mp3"),
     (b"\x00\x00\x00\x20ftypM4A ", "m4a"), (b"\x1a\x45\xdf\xa3\x9f", "webm")],
)  # fmt: skip
def test_sniffing_recognises_audio_containers(head, kind):
    from voxlab.service.uploads import sniff_audio

    assert sniff_audio(head) == kind


def test_sniffing_refuses_other_content_with_a_reason():
    from voxlab.service.uploads import UnsupportedMediaError, sniff_audio

    for head, reason in [(b"%PDF-1.7", "PDF"), (b"RIFF\x00\x00\x00\x00AVI ", "not WAVE"),
                         (b'{"a": 1}', "JSON"), (b"", "empty")]:  # fmt: skip
        with pytest.raises(UnsupportedMediaError, match=reason):
            sniff_audio(head)


def test_folder_allow_list_resolves_links_and_dots(tmp_path):
    from voxlab.service.uploads import ForbiddenPathError, resolve_allowed_folder, safe_filename

    root = tmp_path / "root"
    (root / "a" / "b").mkdir(parents=True)
    (root / "link").symlink_to(tmp_path)
    assert resolve_allowed_folder("a/b", [root]) == (root / "a" / "b").resolve()
    assert resolve_allowed_folder(str(root / "a"), [root]) == (root / "a").resolve()
    for bad in ("..", "a/../../", "link", str(tmp_path)):
        with pytest.raises(ForbiddenPathError):
            resolve_allowed_folder(bad, [root])
    with pytest.raises(ForbiddenPathError, match="disabled"):
        resolve_allowed_folder("a", [])
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\x\\my call (1).wav") == "my_call_1_.wav"


def test_metrics_render_histogram_buckets_cumulatively():
    from voxlab.service.metrics import Histogram

    hist = Histogram("t_seconds", "test", ("route",), buckets=(0.1, 1.0))
    for value in (0.05, 0.5, 5.0):
        hist.observe(value, route="/x")
    lines = hist.render()
    assert 't_seconds_bucket{route="/x",le="0.1"} 1' in lines
    assert 't_seconds_bucket{route="/x",le="1"} 2' in lines
    assert 't_seconds_bucket{route="/x",le="+Inf"} 3' in lines
    assert 't_seconds_count{route="/x"} 3' in lines


def test_a_microphone_recording_webm_opus_is_sniffed_and_decoded(tmp_path):
    """The page's recorder (MediaRecorder in Chromium) uploads WebM/Opus."""
    from voxlab.audio import load, save
    from voxlab.service.uploads import sniff_audio
    from voxlab.testing import tone

    data = save(tmp_path / "microphone.webm", tone(seconds=1.0), 16_000).read_bytes()
    assert sniff_audio(data[:64]) == "webm"
    samples, _ = load(data, sr=16_000)
    assert abs(len(samples) - 16_000) < 400
