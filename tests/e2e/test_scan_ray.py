"""``voxlab scan``: the local engine, and Ray Data on a local cluster the test starts, agree.

The cluster is ``ray start --head --block`` in its own process group
(:func:`voxlab.scale.cluster.local_cluster`), which the test ends: only the processes it
started.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _scan(args, capsys):
    from voxlab.cli.main import main

    code = main(["scan", *map(str, args), "--model", "aasist-l", "--no-progress"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _rows(folder):
    lines = (folder / "results.jsonl").read_text().splitlines()
    return {row["path"]: row for row in map(json.loads, lines)}


@pytest.fixture
def corpus(fixtures_dir, tmp_path, monkeypatch):
    if not (fixtures_dir / "pretrained" / "aasist_l.pth").is_file():
        pytest.skip("AASIST-L checkpoint missing in ../shared/fixtures/pretrained")
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    folder = tmp_path / "in"
    folder.mkdir()
    for index, source in enumerate(sorted((fixtures_dir / "parity").glob("*.flac"))):
        shutil.copy(source, folder / f"clip{index}.flac")
    (folder / "broken.wav").write_bytes(b"RIFF....WAVEnot really")
    return folder


def test_local_scan_writes_jsonl_parquet_error_rows_and_resumes(corpus, tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow (scale extra) writes Parquet")
    out = tmp_path / "local"
    code, summary = _scan([corpus, "--out", out], capsys)
    assert code == 1 and (summary["ok"], summary["errors"]) == (4, 1)
    rows = _rows(out)
    assert rows[str(corpus / "broken.wav")]["status"] == "error"
    table = pq.read_table(out / "results.parquet").to_pylist()
    assert len(table) == 5 and {r["path"] for r in table} == set(rows)
    code, again = _scan([corpus, "--out", out], capsys)
    assert (again["skipped"], again["ok"], again["errors"]) == (4, 0, 1)  # only the error retried


@pytest.fixture
def ray_cluster():
    pytest.importorskip("ray", reason="the ray engine needs ray (pip install 'voxlab[scale]')")
    from voxlab.scale.cluster import local_cluster

    with local_cluster(num_cpus=2) as address:
        yield address


def test_ray_scan_on_a_local_cluster_matches_the_local_engine(
    corpus, tmp_path, capsys, ray_cluster
):
    local_out, ray_out = tmp_path / "local", tmp_path / "ray"
    _scan([corpus, "--out", local_out], capsys)
    code, summary = _scan(
        [corpus, "--out", ray_out, "--engine", "ray", "--address", ray_cluster, "--actors", "2"],
        capsys,
    )
    assert code == 1 and summary["engine"] == "ray"
    assert (summary["ok"], summary["errors"]) == (4, 1)
    local, remote = _rows(local_out), _rows(ray_out)
    assert set(local) == set(remote)
    for path, row in local.items():
        other = remote[path]
        assert other["status"] == row["status"]
        if row["status"] == "ok":
            assert set(other) == set(row)
            assert (other["verdict"], other["duration"]) == (row["verdict"], row["duration"])
            np.testing.assert_allclose(other["logits"], row["logits"], atol=1e-4)
        else:
            assert "broken.wav" in other["error"]
    # Resuming is the same ScanOutput for both engines: tested on the local engine above.
