"""The voxlab-wild generalisation table on a tiny synthetic corpus and score set."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from voxlab.errors import DataError
from voxlab.evaluation.metrics import cllr, compute_eer
from voxlab.evaluation.wild_table import (
    ModelScores,
    load_wild_corpus,
    model_rows,
    shortcut_correlations,
    table_csv,
    table_markdown,
)

BENCH = Path(__file__).resolve().parents[3] / "benchmarks" / "wild_table.py"


def _record(utt, split, key, attack, source, channel, duration):
    return {
        "utt_id": utt,
        "path": f"{split}/{utt}.flac",
        "speaker": f"{source}-spk",
        "attack": attack,
        "key": key,
        "split": split,
        "extra": {
            "source": source,
            "channel": channel,
            "shortcut_features": {"duration": duration, "loudness": -25.0},
        },
    }


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """train: source A, system V01; dev: source B; eval: sources A and C, V01 and V02."""
    recs = []
    for i in range(4):
        recs.append(_record(f"T{i}b", "train", "bonafide", "-", "A", "clean", 1.0))
        recs.append(_record(f"T{i}s", "train", "spoof", "V01", "A", "clean", 1.0))
        recs.append(_record(f"D{i}b", "dev", "bonafide", "-", "B", "clean", 1.0))
        recs.append(_record(f"D{i}s", "dev", "spoof", "V01", "B", "clean", 1.0))
    for i in range(6):
        source = "A" if i < 3 else "C"
        channel = "clean" if i % 2 else "mp3"
        recs.append(_record(f"E{i}b", "eval", "bonafide", "-", source, channel, 1.0 + i))
        recs.append(_record(f"E{i}v1", "eval", "spoof", "V01", source, channel, 1.0 + i))
        recs.append(_record(f"E{i}v2", "eval", "spoof", "V02", source, channel, 1.0 + i))
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))
    # a leave-one-system-out list for V01 holding only part of eval: it must be used as is
    los = tmp_path / "voxlab_wild_protocols" / "leave_one_system_out" / "V01"
    los.mkdir(parents=True)
    lines = [f"A-spk E{i}b - - bonafide" for i in range(3)] + [
        f"A-spk E{i}v1 - V01 spoof" for i in range(3)
    ]
    (los / "eval.txt").write_text("\n".join(lines) + "\n")
    return tmp_path


def _scores(corpus_dir: Path) -> dict[str, float]:
    """V01 perfectly separated, V02 overlapping bona fide half the time."""
    scores = {}
    for line in (corpus_dir / "manifest.jsonl").read_text().splitlines():
        r = json.loads(line)
        i = int(r["utt_id"][1])
        if r["key"] == "bonafide":
            scores[r["utt_id"]] = 2.0 + 0.1 * i
        elif r["attack"] == "V01":
            scores[r["utt_id"]] = -3.0 - 0.1 * i
        else:  # V02: E0..E2 look bona fide, E3..E5 spoof
            scores[r["utt_id"]] = 2.05 + 0.1 * i if i < 3 else -1.0
    return scores


def test_subsets_follow_protocols_and_manifest(corpus_dir: Path) -> None:
    corpus = load_wild_corpus(corpus_dir)
    assert len(corpus.subsets[("in-domain", "eval")]) == 18
    assert corpus.subsets[("system", "V01")] == ("E0b", "E1b", "E2b", "E0v1", "E1v1", "E2v1")
    # no protocol for V02: all eval bona fide + its spoofs
    assert len(corpus.subsets[("system", "V02")]) == 12
    assert set(corpus.subsets[("source", "A")]) >= {"T0b", "E0b"}
    assert {v for g, v in corpus.subsets if g == "channel"} == {"clean", "mp3"}


def test_rows_numbers_seen_flags_and_training_trials(corpus_dir: Path) -> None:
    corpus = load_wild_corpus(corpus_dir)
    train = frozenset(corpus.split_ids("train"))
    model = ModelScores("m", _scores(corpus_dir), train, calibration=(1.0, -0.5))
    rows = {(r.group, r.value): r for r in model_rows(corpus, model)}
    v1, v2 = rows[("system", "V01")], rows[("system", "V02")]
    assert (v1.n_bonafide, v1.n_spoof, v1.eer, v1.seen) == (3, 3, 0.0, True)
    assert (v2.n_bonafide, v2.n_spoof, v2.seen) == (6, 6, False)
    s = _scores(corpus_dir)
    bona = [s[f"E{i}b"] for i in range(6)]
    v2s = [s[f"E{i}v2"] for i in range(6)]
    assert v2.eer == pytest.approx(compute_eer(bona, v2s).eer)
    assert 0.3 < v2.eer < 0.7
    assert v2.cllr == pytest.approx(cllr(bona, v2s))
    assert v2.cllr_cal == pytest.approx(cllr(np.array(bona) - 0.5, np.array(v2s) - 0.5))
    # source A: its 8 training trials are dropped and it counts as seen; C was never seen
    a, c = rows[("source", "A")], rows[("source", "C")]
    assert (a.n_bonafide, a.n_spoof, a.seen) == (3, 6, True)
    assert "8 training trial(s) dropped" in a.note
    assert (c.n_bonafide, c.n_spoof, c.seen) == (3, 6, False)
    # source C: V02 spoofs at -1 and V01 below it, bona fide at >= 2.3: separated
    assert c.eer == 0.0
    # calibrated verdict at the ASVspoof 5 Bayes threshold (about 0.64): bona fide at
    # 2.0..2.5 - 0.5 >= 1.5 are all accepted; the V02 spoofs near bona fide are missed
    assert rows[("in-domain", "eval")].bonafide_called_spoof == 0.0
    assert rows[("in-domain", "eval")].spoof_missed == pytest.approx(3 / 12)
    assert rows[("channel", "mp3")].n_bonafide + rows[("channel", "clean")].n_bonafide == 6


def test_missing_scores_are_reported_not_guessed(corpus_dir: Path) -> None:
    corpus = load_wild_corpus(corpus_dir)
    scores = _scores(corpus_dir)
    del scores["E4v2"]
    rows = {(r.group, r.value): r for r in model_rows(corpus, ModelScores("m", scores))}
    assert rows[("system", "V02")].eer is None
    assert "1 trial(s) have no score" in rows[("system", "V02")].note
    assert rows[("system", "V01")].eer == 0.0
    # one-class subset (source B has only dev trials, all present): still two classes
    assert rows[("source", "B")].eer == 0.0
    text = table_markdown(list(rows.values()), title="t")
    assert "| m | system | V02 |" in text and "HELD OUT" not in text.split("V01")[0]
    assert table_csv(list(rows.values())).count("\n") == len(rows) + 1


def test_shortcut_correlation_sees_a_duration_shortcut(corpus_dir: Path) -> None:
    corpus = load_wild_corpus(corpus_dir)
    by_duration = {
        k: u.extra["shortcut_features"]["duration"] * (1 if u.key == "bonafide" else -1)
        for k, u in corpus.utterances.items()
    }
    corr = shortcut_correlations(corpus, ModelScores("m", by_duration))
    dur = {c.key: c for c in corr if c.feature == "duration"}
    assert dur["bonafide"].spearman == pytest.approx(1.0)
    assert dur["spoof"].spearman == pytest.approx(-1.0)
    assert dur["spoof"].n == 12
    loud = [c for c in corr if c.feature == "loudness"]
    assert all(c.pearson is None for c in loud)  # constant feature: no correlation claimed


def test_bad_corpus_is_refused(tmp_path: Path, corpus_dir: Path) -> None:
    with pytest.raises(DataError, match=r"manifest\.jsonl"):
        load_wild_corpus(tmp_path / "nowhere")
    bad = corpus_dir / "voxlab_wild_protocols" / "leave_one_system_out" / "V01" / "eval.txt"
    bad.write_text("A-spk E99b - - bonafide\n")
    with pytest.raises(DataError, match="E99b"):
        load_wild_corpus(corpus_dir)


@pytest.mark.slow  # imports the model catalogue and matplotlib, draws two plots
def test_benchmark_script_end_to_end_from_score_files(
    corpus_dir: Path, tmp_path: Path, capsys
) -> None:
    pytest.importorskip("matplotlib")
    from voxlab.data.scores import write_scores

    scores = _scores(corpus_dir)
    recs = [json.loads(x) for x in (corpus_dir / "manifest.jsonl").read_text().splitlines()]
    path = tmp_path / "m.txt"
    write_scores(
        path,
        [r["utt_id"] for r in recs],
        [scores[r["utt_id"]] for r in recs],
        attacks=[r["attack"] for r in recs],
        keys=[r["key"] for r in recs],
    )
    out = tmp_path / "out"
    spec = importlib.util.spec_from_file_location("wild_table_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(
        [
            "--corpus",
            str(corpus_dir),
            "--model",
            f"pub={path}",
            "--published",
            "pub",
            "--out",
            str(out),
        ]
    )
    stdout = capsys.readouterr().out
    assert "HELD OUT" in stdout and "shortcut check" in stdout
    data = json.loads((out / "wild_table.json").read_text())
    assert data["models"]["pub"]["calibration_on_dev"]["n_bonafide"] == 4
    assert all(r["seen"] in (False, None) for r in data["rows"])  # never trained on it
    assert (out / "det_pub.png").stat().st_size > 1000
    assert (out / "det_in_domain.png").is_file()


@pytest.mark.slow  # imports matplotlib, draws the DET plots
def test_report_cli_writes_the_wild_table(corpus_dir: Path, tmp_path: Path) -> None:
    """`voxlab report --wild` writes the same table; a score file counts as trained on train."""
    pytest.importorskip("matplotlib")
    from typer.testing import CliRunner

    from voxlab.cli.main import app
    from voxlab.data.scores import write_scores

    scores = _scores(corpus_dir)
    recs = [json.loads(x) for x in (corpus_dir / "manifest.jsonl").read_text().splitlines()]
    path = tmp_path / "m.txt"
    write_scores(path, [r["utt_id"] for r in recs], [scores[r["utt_id"]] for r in recs],
                 attacks=[r["attack"] for r in recs], keys=[r["key"] for r in recs])  # fmt: skip
    out = tmp_path / "rep"
    result = CliRunner().invoke(
        app, ["report", "--wild", str(corpus_dir), "--model", f"mine={path}", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "HELD OUT" in result.output
    data = json.loads((out / "wild_table.json").read_text())
    assert data["models"]["mine"]["note"] == "trained on the train split"
    assert any(r["seen"] is True for r in data["rows"])  # in-domain system V01 was seen
    empty = CliRunner().invoke(app, ["report", "--wild", str(corpus_dir), "--out", str(out)])
    assert empty.exit_code != 0 and "needs models" in str(empty.output) + str(empty.exception)
