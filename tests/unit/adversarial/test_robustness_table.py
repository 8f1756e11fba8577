"""The robustness report on a tiny corpus: table shape, EERs, resume, per-item errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from voxlab.adversarial.robustness import conditions, load_corpus, run_report
from voxlab.audio import save
from voxlab.errors import ConfigError, DataError


class LoudnessDetector(nn.Module):
    """Bona fide logit = log energy above a fixed level: loud = bona fide (toy corpus)."""

    default_policy = "full"

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.scale * (torch.log(x.pow(2).mean(dim=1) + 1e-8) - np.log(0.01))
        return torch.stack([-s, s], dim=1)


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(8000) / 16000
    for key, level in (("bonafide", 0.2), ("spoof", 0.1)):
        (tmp_path / key).mkdir()
        for i in range(3):
            tone = np.sin(2 * np.pi * (200 + 50 * i) * t) + 0.1 * rng.standard_normal(t.size)
            save(tmp_path / key / f"{key}{i}.wav", (level * tone).astype(np.float32), 16000)
    return tmp_path


def test_conditions_cover_the_suite_and_budgets():
    conds = conditions("all", [50, 40, 30])
    labels = [c.label for c in conds]
    assert labels[0] == "clean" and labels[-3:] == ["pgd_50db", "pgd_40db", "pgd_30db"]
    for needed in ("mp3_64k", "opus_16k", "white_10db", "telephone", "reverb", "tempo_1.05",
                   "resample_16k"):  # fmt: skip
        assert needed in labels
    assert len(set(labels)) == len(labels)
    with pytest.raises(ConfigError, match="unknown attack"):
        conditions("mp3_7k")


def test_report_table_shape_eers_and_resume(corpus, tmp_path):
    items = load_corpus(corpus)
    assert sorted(u.key for u in items) == ["bonafide"] * 3 + ["spoof"] * 3
    conds = conditions("gain_0.5,white_5db", [6])
    calls = []

    def load(name):
        calls.append(name)
        return LoudnessDetector()

    out = tmp_path / "report"
    rows = run_report(["toy-a", "toy-b"], items, conds, out, load=load, pgd_steps=5)
    assert len(rows) == 2 * 4
    eer = {(r["model"], r["condition"]): r["eer"] for r in rows}
    assert eer[("toy-a", "clean")] == 0.0
    assert eer[("toy-a", "gain_0.5")] == 0.0  # a uniform gain keeps the ranking
    assert eer[("toy-a", "pgd_6db")] > eer[("toy-a", "clean")]  # the attack hurts
    table = (out / "eer.md").read_text()
    assert table.count("\n| toy-") == 2 and "pgd_6db" in table
    assert len((out / "eer.csv").read_text().strip().splitlines()) == 1 + 8
    assert (out / "heatmap.png").stat().st_size > 5000
    assert calls == ["toy-a", "toy-b"]
    cell = json.loads((out / "cells" / "toy-a" / "clean.json").read_text())
    assert len(cell["scores"]) == 6
    # resume: every cell is on disk, so no model is loaded again
    again = run_report(["toy-a", "toy-b"], items, conds, out, load=load, pgd_steps=5)
    assert calls == ["toy-a", "toy-b"] and [r["eer"] for r in again] == [r["eer"] for r in rows]


def test_pgd_columns_run_on_their_own_smaller_subset(corpus, tmp_path):
    items = load_corpus(corpus)
    small = [items[0], items[-1]]  # one bona fide, one spoof
    conds = conditions("gain_0.5", [6])
    rows = run_report(["toy"], items, conds, tmp_path / "r", load=lambda _: LoudnessDetector(),
                      pgd_steps=2, adversarial_corpus=small)  # fmt: skip
    n = {r["condition"]: r["n"] for r in rows}
    assert n == {"clean": 6, "gain_0.5": 6, "pgd_6db": 2}
    # resuming with the same subsets recomputes nothing; a different PGD subset recomputes
    cell = tmp_path / "r" / "cells" / "toy" / "pgd_6db.json"
    before = cell.stat().st_mtime_ns
    run_report(["toy"], items, conds, tmp_path / "r", load=lambda _: LoudnessDetector(),
               pgd_steps=2, adversarial_corpus=small)  # fmt: skip
    assert cell.stat().st_mtime_ns == before
    again = run_report(["toy"], items, conds, tmp_path / "r", load=lambda _: LoudnessDetector(),
                       pgd_steps=2)  # fmt: skip
    assert {r["condition"]: r["n"] for r in again}["pgd_6db"] == 6


def test_broken_item_is_recorded_and_the_rest_scored(corpus, tmp_path):
    (corpus / "spoof" / "broken.wav").write_bytes(b"not audio")
    rows = run_report(["toy"], load_corpus(corpus), conditions("none"), tmp_path / "r",
                      load=lambda _: LoudnessDetector())  # fmt: skip
    assert rows[0]["n"] == 6 and list(rows[0]["errors"]) == ["spoof/broken"]


def test_one_class_corpus_is_refused(corpus):
    import shutil

    shutil.rmtree(corpus / "spoof")
    with pytest.raises(DataError, match="both bona fide and spoof"):
        load_corpus(corpus)


def _utts(n_speakers=3, per_speaker=4, systems=("A01", "A02", "A03", "A04")):
    from voxlab.data.manifest import Utterance

    out = []
    for s in range(n_speakers):
        for i in range(per_speaker):
            split = "eval" if i % 2 == 0 else "train"
            out.append(Utterance(f"b{s}_{i}", f"b{s}_{i}.wav", f"spk{s}", "-", "bonafide", split))
            for a in systems:
                out.append(Utterance(f"{a}_{s}_{i}", f"{a}.wav", f"spk{s}", a, "spoof", split))
    return out


def test_subset_is_stratified_split_filtered_and_seeded():
    from voxlab.adversarial.robustness import select_subset

    items = _utts()
    sub = select_subset(items, 3, split="eval")
    assert all(u.split == "eval" for u in sub)
    bona = [u for u in sub if u.key == "bonafide"]
    spoof = [u for u in sub if u.key == "spoof"]
    assert len(bona) == 3 and len({u.speaker for u in bona}) == 3  # one per speaker first
    assert len(spoof) == 3 and len({u.attack for u in spoof}) == 3  # one per system first
    assert [u.utt_id for u in select_subset(items, 3, split="eval")] == [u.utt_id for u in sub]
    assert len(select_subset(items, 0, split="eval")) == 3 * 2 * 5  # 0 = everything
    fewer = select_subset(items, 2, split="eval")  # --pgd-limit: a subset of --limit's
    assert {u.utt_id for u in fewer} < {u.utt_id for u in sub}
    more = select_subset(items, 100)  # asks for more than there is: all of it
    assert len(more) == len(items)
    with pytest.raises(DataError, match=r"split 'dev'.*'eval', 'train'"):
        select_subset(items, 3, split="dev")


def test_models_are_checked_before_any_work(monkeypatch, tmp_path):
    from voxlab.adversarial.robustness import resolve_models

    monkeypatch.setenv("VOXLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VOXLAB_MODEL_DIR", str(tmp_path / "models"))
    (tmp_path / "models").mkdir()
    assert resolve_models("aasist, rawgat-st,aasist") == (["aasist", "rawgat-st"], {})
    with pytest.raises(ConfigError, match=r"unknown model.*rawnet9.*voxlab models add"):
        resolve_models("aasist,rawnet9")
    (tmp_path / "models" / "aasist_l.pth").write_bytes(b"x")  # only its presence counts
    names, skipped = resolve_models("all")  # (plus any entry shipped with the package)
    assert "aasist-l" in names and not {"aasist", "rawgat-st"} & set(names)
    assert "no local copy of 'aasist'" in skipped["aasist"]


def test_report_md_and_a_changed_subset_recomputes(corpus, tmp_path):
    items = load_corpus(corpus)
    conds = conditions("white_5db", [6])
    out = tmp_path / "report"
    calls = []

    def load(name):
        calls.append(name)
        return LoudnessDetector()

    rows = run_report(["toy"], items, conds, out, load=load, pgd_steps=2,
                      meta={"command": "voxlab robustness ...", "n_bonafide": 3, "n_spoof": 3,
                            "skipped": {"other": "no local copy; put it there"}})  # fmt: skip
    report = (out / "report.md").read_text()
    assert "voxlab robustness ..." in report and "3 bona fide + 3 spoof" in report
    assert "| toy |" in report and "| white_5db | effect |" in report
    assert "| pgd_6db | adversarial |" in report and "PGD, 2 steps" in report
    assert "not scored: other (no local copy)" in report and "heatmap.png" in report
    assert all(r["cpu_seconds"] >= 0 for r in rows)
    # same corpus: resumed; other PGD steps: the adversarial cell only is recomputed
    run_report(["toy"], items, conds, out, load=load, pgd_steps=2)
    assert calls == ["toy"]
    again = run_report(["toy"], items, conds, out, load=load, pgd_steps=3)
    assert calls == ["toy", "toy"]
    assert [r["cpu_seconds"] for r in again][:2] == [r["cpu_seconds"] for r in rows][:2]
    # a smaller corpus: the stored cells do not fit, recomputed
    calls.clear()
    fewer = [u for u in items if u.utt_id != "spoof/spoof2"]
    again = run_report(["toy"], fewer, conds, out, load=load)
    assert calls == ["toy"] and all(r["n"] == 5 for r in again)


def test_batched_scoring_matches_item_by_item(corpus):
    from voxlab.adversarial.robustness import run_cell
    from voxlab.audio import load as load_audio

    class Official(LoudnessDetector):
        default_policy = "official"

    items = load_corpus(corpus)
    (cond,) = conditions("none")

    def waves(u):
        return load_audio(u.path, sr=16000)[0]

    one = run_cell("t", Official(), cond, items, waves, batch_size=1)
    four = run_cell("t", Official(), cond, items, waves, batch_size=4)
    assert one["scores"].keys() == four["scores"].keys() and len(one["scores"]) == 6
    for u, v in one["scores"].items():
        assert four["scores"][u] == pytest.approx(v, abs=1e-5)
