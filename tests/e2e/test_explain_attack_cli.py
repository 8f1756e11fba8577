"""`voxlab explain`, `voxlab attack` and `voxlab robustness` end to end with AASIST-L."""

from __future__ import annotations

import json

import numpy as np
import pytest

from voxlab.audio import load, save
from voxlab.cli.main import main

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("one_torch_thread")]


@pytest.fixture
def model_dir(fixtures_dir, monkeypatch):
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(fixtures_dir / "pretrained"))
    return fixtures_dir / "pretrained"


@pytest.fixture
def clip(fixtures_dir, tmp_path):
    """1.2 s of the espeak parity file (a spoof for AASIST-L)."""
    wave, _ = load(fixtures_dir / "parity" / "espeak_en_short_16k.flac", sr=16_000)
    path = tmp_path / "clip.wav"
    save(path, wave[:19_200], 16_000)
    return path


def test_explain_cli_writes_figure_arrays_and_summary(model_dir, clip, tmp_path, capsys):
    out = tmp_path / "why"
    args = ["explain", str(clip), "--model", "aasist-l", "--ig-steps", "4", "-o", str(out)]
    assert main([*args, "--no-progress"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["status"] == "ok" and row["gradcam_layers"] == ["encoder.5"]
    assert row["spoof_margin"] > 0  # AASIST-L calls espeak-ng speech spoof
    assert len(row["window_scores"]) == 1 and row["window_scores"][0] < 0
    with np.load(out / "clip.npz") as data:
        # completeness as reported: |sum(ig) - (m(x) - m(silence))|; AASIST-L's margin on
        # silence is close to its margin on speech, so 4 steps leave a gap (~1.5 logits)
        # that the unit tests show shrinking with more steps on smooth models
        gap = abs(data["ig"].sum() - (row["spoof_margin"] - row["baseline_margin"]))
        assert gap == pytest.approx(row["ig_completeness_gap"], abs=1e-3)
        assert data["gradcam"].shape == data["spectrogram_db"].shape == data["ig_tf"].shape
        assert data["ig"].shape == (19_200,)
        assert json.loads(str(data["info"]))["model"] == "aasist-l"
    assert (out / "clip.png").stat().st_size > 20_000
    assert json.loads((out / "summary.jsonl").read_text())["figure"].endswith("clip.png")


def test_attack_cli_pgd_flips_aasist_l_within_the_budget(model_dir, clip, tmp_path, capsys):
    out = tmp_path / "adv"
    args = ["attack", str(clip), "--model", "aasist-l", "--target", "bonafide", "--method",
            "pgd", "--snr", "30", "--steps", "3", "--policy", "full", "-o", str(out)]  # fmt: skip
    assert main([*args, "--no-progress"]) == 0
    (row,) = json.loads((out / "results.json").read_text())
    assert row["status"] == "ok" and row["measured_snr_db"] >= 30 - 0.05  # 16-bit file
    assert row["score_after"] > row["score_before"]
    assert (out / "results.csv").read_text().startswith("path,status,model")
    adv, _info = load(out / "clip.adv.wav", sr=None)
    assert adv.shape == (19_200,)
    from voxlab.audio.tags import read_tags

    assert "AI-generated" in " ".join(read_tags(out / "clip.adv.wav").values())


def test_attack_cli_records_a_bad_file_and_goes_on(model_dir, clip, tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF0000WAVEjunk")
    out = tmp_path / "adv"
    args = ["attack", str(clip), str(bad), "--model", "aasist-l", "--method", "fgsm",
            "--policy", "full", "--transfer", "aasist-l", "-o", str(out),
            "--no-progress"]  # fmt: skip
    assert main(args) == 1
    rows = {r["path"]: r for r in json.loads((out / "results.json").read_text())}
    assert rows[str(clip)]["status"] == "ok" and rows[str(bad)]["status"] == "error"
    ok = rows[str(clip)]
    # transfer: the same audio scored by a second model (official 4-s input, tiled)
    assert ok["transfer_model"] == "aasist-l"
    assert ok["transfer_before"] != ok["transfer_after"]
    assert "bad.wav" in rows[str(bad)]["error"]


@pytest.mark.slow
def test_robustness_cli_table_and_heatmap(model_dir, fixtures_dir, tmp_path, capsys):
    corpus = tmp_path / "corpus"
    files = sorted((fixtures_dir / "parity").glob("espeak_*_16k.flac"))[:2]
    rng = np.random.default_rng(0)
    for i, f in enumerate(files):  # spoof: espeak-ng; "bona fide": the same, reversed
        wave, _ = load(f, sr=16_000)
        for key, w in (
            ("spoof", wave),
            ("bonafide", wave[::-1] + 0.01 * rng.standard_normal(wave.size)),
        ):
            (corpus / key).mkdir(parents=True, exist_ok=True)
            save(corpus / key / f"{i}.wav", w[:24_000].astype(np.float32), 16_000)
    out = tmp_path / "report"
    args = ["robustness", "--models", "aasist-l", "--corpus", str(corpus), "--conditions",
            "mp3_64k,telephone", "--budgets", "40", "--pgd-steps", "1", "--pgd-limit", "1",
            "-o", str(out), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    table = (out / "eer.md").read_text()
    assert "| aasist-l |" in table and "pgd_40db" in table and "telephone" in table
    rows = json.loads((out / "eer.json").read_text())
    assert [r["condition"] for r in rows] == ["clean", "mp3_64k", "telephone", "pgd_40db"]
    assert all(0 <= r["eer"] <= 100 for r in rows)
    assert [r["n"] for r in rows] == [4, 4, 4, 2]  # --pgd-limit 1: one utterance per class
    assert "utterances of the PGD columns: 1 bona fide + 1 spoof" in (out / "report.md").read_text()
    assert (out / "heatmap.png").stat().st_size > 5000
