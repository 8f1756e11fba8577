"""Package-shipped speech sources: readers, preparation, manifests, missing packages."""

import dataclasses
import json

import numpy as np
import pytest

from voxlab.audio import save
from voxlab.data.manifest import read_manifest
from voxlab.data.sources import (
    SOURCES,
    MissingSourceError,
    get_source,
    load_prepared,
    prepare_source,
)
from voxlab.data.sources.festvox_ru import read_prompts
from voxlab.data.sources.fillets_cs import speaker_of
from voxlab.data.sources.pocketsphinx import read_transcription
from voxlab.errors import ConfigError, DataError
from voxlab.testing import speak, tone

SR = 16_000


@pytest.fixture
def fake_festvox(tmp_path, espeak):
    """A festvox-ru-shaped folder: 2 utterances, a silent file, a beep, a duplicate, junk."""
    root = tmp_path / "msu_ru_nsh_clunits"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "txt.done.data").write_text(
        '( ru_0001 "Пр+ивет, как дел+а?" )\n( ru_0002 "Второе предложение." )\n',
        encoding="utf-8",
    )
    one = speak("Hello there, how are you today?", sr=SR)
    two = speak("A second sentence for the test.", sr=SR)
    wav = root / "wav"
    save(wav / "ru_0001.wav", np.concatenate([np.zeros(SR, np.float32), one]), SR)
    save(wav / "ru_0002.wav", two, SR)
    save(wav / "ru_0003.wav", np.zeros(SR, np.float32), SR)
    save(wav / "ru_0004.wav", tone(1000.0, seconds=0.6), SR)
    save(wav / "ru_0005.wav", two, SR)  # same audio as ru_0002
    (wav / "ru_0006.wav").write_bytes(b"RIFF not really audio")
    return root


def test_registry_lists_every_issue_source():
    names = set(SOURCES)
    assert {
        "festvox-ru",
        "asterisk-it",
        "asterisk-ru",
        "asterisk-fr-armelle",
        "asterisk-es-co",
        "fillets-cs",
        "gcin-voice",
        "pocketsphinx",
    } <= names
    for source in SOURCES.values():
        assert source.licence and source.package and source.language
    with pytest.raises(ConfigError, match="voxlab sources list"):
        get_source("no-such-source")


def test_missing_package_says_how_to_install(tmp_path):
    source = dataclasses.replace(get_source("festvox-ru"), root=tmp_path / "nowhere")
    with pytest.raises(MissingSourceError) as info:
        prepare_source(source, tmp_path / "out")
    message = str(info.value)
    assert "make data" in message and "apt-get install -y festvox-ru" in message
    assert "\n" not in message
    assert not source.available()


def test_prepare_keeps_speech_and_lists_skips(fake_festvox, tmp_path):
    out = tmp_path / "sources"
    prepared = prepare_source("festvox-ru", out, root=fake_festvox)
    assert not prepared.reused
    kept = {u.extra["original_path"].rsplit("/", 1)[1]: u for u in prepared.kept}
    assert sorted(kept) == ["ru_0001.wav", "ru_0002.wav"]
    reasons = {u.path.rsplit("/", 1)[1]: u.extra["reason"] for u in prepared.skipped}
    assert reasons == {
        "ru_0003.wav": "silence",
        "ru_0004.wav": "tone",
        "ru_0005.wav": "duplicate",
        "ru_0006.wav": "unreadable",
    }
    first = kept["ru_0001.wav"]
    assert first.extra["transcript"] == "Привет, как дела?"  # stress marks removed
    assert first.extra["licence"] == "BSD-like" and first.extra["package"] == "festvox-ru"
    assert first.extra["original_sample_rate"] == SR
    # the 1 s of leading silence is trimmed to the 0.1 s margin
    assert first.extra["duration"] < first.extra["original_duration"] - 0.8
    assert first.speaker == "festvox-ru-nsh" and first.key == "bonafide"
    # files on disk: manifest (relative paths), skipped list, summary
    folder = out / "festvox-ru"
    assert [u.utt_id for u in read_manifest(folder / "manifest.jsonl")] == [
        u.utt_id for u in prepared.kept
    ]
    assert len(read_manifest(folder / "skipped.jsonl")) == 4
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["kept"] == 2 and summary["skipped"]["tone"] == 1
    assert summary["minutes_kept"] > 0
    # a second run reuses it; load_prepared gives absolute, existing paths
    again = prepare_source("festvox-ru", out, root=fake_festvox)
    assert again.reused and [u.utt_id for u in again.kept] == [u.utt_id for u in prepared.kept]
    for utt in load_prepared("festvox-ru", out):
        assert (folder / utt.path).is_file()


def test_per_speaker_slice(fake_festvox, tmp_path):
    prepared = prepare_source("festvox-ru", tmp_path / "s", root=fake_festvox, per_speaker=1)
    assert len(prepared.kept) == 1


def test_load_prepared_of_an_unprepared_source(tmp_path):
    with pytest.raises(DataError, match="voxlab sources prepare gcin-voice"):
        load_prepared("gcin-voice", tmp_path)


def test_parsers(tmp_path):
    (tmp_path / "t.data").write_text('( a_1 "x +y" )\nnoise\n( a_2 "z" )\n', encoding="utf-8")
    assert read_prompts(tmp_path / "t.data") == {"a_1": "x y", "a_2": "z"}
    (tmp_path / "t.tr").write_text("<s> he was not </s> (f-0880)\n", encoding="utf-8")
    assert read_transcription(tmp_path / "t.tr") == {"f-0880": "he was not"}
    from pathlib import Path

    assert speaker_of(Path("vit-m-hlava.ogg")) == "fillets-cs-small-fish"
    assert speaker_of(Path("vit-v-proc.ogg")) == "fillets-cs-big-fish"
    assert speaker_of(Path("bar-x-foo.ogg")) == "fillets-cs-other"


INSTALLED = [name for name, source in SOURCES.items() if source.available()]


@pytest.mark.parametrize("name", INSTALLED or ["none"])
def test_installed_sources_prepare_a_slice(name, tmp_path):
    if name == "none":
        pytest.skip("no speech source package installed (make data)")
    prepared = prepare_source(name, tmp_path, per_speaker=2)
    assert prepared.kept, prepared.summary
    source = get_source(name)
    for utt in prepared.kept:
        assert utt.extra["language"] == source.language
        assert utt.extra["package_version"] not in ("", "unknown")
        assert 0.1 < utt.extra["duration"] < 60
        assert utt.extra["original_sample_rate"] in (8_000, 16_000, 22_050, 44_100, 48_000)
    if name in ("festvox-ru", "pocketsphinx"):
        assert any(u.extra["transcript"] for u in prepared.kept)
