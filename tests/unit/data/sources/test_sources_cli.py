"""`voxlab sources list|prepare`."""

import dataclasses
import json

from voxlab.cli.main import main
from voxlab.data import sources


def test_list_json(capsys):
    code = main(["sources", "list", "--format", "json"])
    rows = json.loads(capsys.readouterr().out)
    assert code in (0, None)
    names = {r["source"] for r in rows}
    assert "festvox-ru" in names and "gcin-voice" in names
    for row in rows:
        assert row["installed"] in ("yes", "no") and row["licence"]
        if row["installed"] == "no":
            assert "make data" in row["install"]


def test_prepare_missing_package_is_one_line_and_exit_1(tmp_path, monkeypatch, capsys):
    fake = dataclasses.replace(sources.get_source("gcin-voice"), root=tmp_path / "absent")
    monkeypatch.setitem(sources.SOURCES, "gcin-voice", fake)
    code = main(
        ["sources", "prepare", "gcin-voice", "--out", str(tmp_path / "o"), "--format", "json"]
    )
    captured = capsys.readouterr()
    assert code == 1
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "apt-get install -y gcin-voice" in errors[0]


def test_prepare_a_slice(tmp_path, capsys):
    if not sources.get_source("pocketsphinx").available():
        import pytest

        pytest.skip("pocketsphinx-testdata not installed (make data)")
    args = ["sources", "prepare", "pocketsphinx", "--out", str(tmp_path), "--per-speaker", "1"]
    code = main([*args, "--format", "json", "--no-progress"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0
    assert rows[0]["source"] == "pocketsphinx" and rows[0]["kept"] >= 1
    assert (tmp_path / "pocketsphinx" / "manifest.jsonl").is_file()
