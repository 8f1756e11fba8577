import json

import pytest

from voxlab.audio import save
from voxlab.cli.main import main
from voxlab.testing import tone, write_bad_files


@pytest.fixture
def mixed_folder(tmp_path):
    folder = tmp_path / "corpus"
    bad = write_bad_files(folder / "bad")
    save(folder / "good" / "a.flac", tone(440, seconds=1.0), 16_000)
    save(folder / "good" / "b.mp3", tone(220, seconds=2.0, sr=44_100), 44_100)
    return folder, bad


def test_info_folder_reports_each_bad_file_and_exits_1(mixed_folder, capsys):
    folder, bad = mixed_folder
    code = main(["info", str(folder), "--json"])
    out, err = capsys.readouterr()
    rows = {r["path"]: r for r in json.loads(out)}
    assert code == 1
    good = [r for r in rows.values() if r["status"] == "ok"]
    assert sorted(r["sample_rate"] for r in good) == [16_000, 44_100]
    # every bad file (not the directory named like audio) is one error row and one stderr line
    bad_files = [p for k, p in bad.items() if k != "directory"]
    for path in bad_files:
        assert path.name in err
    error_rows = [r for r in rows.values() if r["status"] == "error"]
    assert err.count("error: ") == len(error_rows)
    assert "failed" in err


def test_info_good_files_exit_0_and_table(tmp_path, capsys):
    path = save(tmp_path / "x.wav", tone(), 16_000)
    assert main(["info", str(path)]) == 0
    out, _ = capsys.readouterr()
    assert "x.wav" in out and "16000" in out


def test_info_empty_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["info", str(tmp_path)]) == 2
    assert "no audio files found" in capsys.readouterr().err


def test_version_and_help(capsys):
    assert main(["--version"]) == 0
    assert "voxlab" in capsys.readouterr().out
    assert main(["info", "--help"]) == 0
    assert "Examples" in capsys.readouterr().out


def test_bad_option_is_a_usage_error(capsys):
    assert main(["info", "x.wav", "--format", "xml"]) == 2


def test_info_flags_silent_and_near_silent_files(tmp_path, capsys):
    import numpy as np

    zero = save(tmp_path / "zero.wav", np.zeros(16_000, np.float32), 16_000)
    quiet = save(tmp_path / "quiet.wav", tone(440) * 1e-4, 16_000)  # about -80 dBFS
    loud = save(tmp_path / "loud.wav", tone(440), 16_000)
    assert main(["info", str(zero), str(quiet), str(loud), "--json"]) == 0
    out, err = capsys.readouterr()
    rows = {r["path"]: r for r in json.loads(out)}
    assert rows[str(zero)]["status"] == "silent" and "silent" in rows[str(zero)]["error"]
    assert rows[str(quiet)]["status"] == "silent" and "dBFS" in rows[str(quiet)]["error"]
    assert rows[str(loud)]["status"] == "ok"
    assert err.count("warning: ") == 2
