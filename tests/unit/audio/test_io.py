import io
import warnings

import numpy as np
import pytest
import soundfile as sf

from voxlab import errors
from voxlab.audio import info, load, save
from voxlab.testing import chirp, tone, write_bad_files


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return write_bad_files(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3", "m4a", "opus", "webm"])
def test_round_trip_every_format(tmp_path, ext):
    x = chirp(200, 2000, seconds=2.0, sr=22_050)
    path = save(tmp_path / f"x.{ext}", x, 22_050)
    y, meta = load(path, sr=16_000)
    assert y.dtype == np.float32 and y.ndim == 1
    assert meta.channels == 1
    assert meta.duration == pytest.approx(2.0, abs=0.06)
    assert abs(len(y) - 32_000) < 1200
    assert meta.loaded_sample_rate == 16_000 and meta.resampled
    assert meta.backend == ("soundfile" if ext in {"wav", "flac", "ogg"} else "pyav")


def test_lossless_is_exact_and_native_rate_kept(tmp_path):
    x = tone(440, seconds=0.5, sr=16_000)
    path = save(tmp_path / "x.flac", x, 16_000, subtype="PCM_24")
    y, meta = load(path, sr=None)
    assert meta.sample_rate == 16_000 and not meta.resampled
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_resampling_preserves_the_tone(tmp_path):
    x = tone(1000, seconds=1.0, sr=44_100)
    y, meta = load(save(tmp_path / "x.wav", x, 44_100), sr=16_000)
    assert meta.sample_rate == 44_100
    spectrum = np.abs(np.fft.rfft(y))
    assert np.argmax(spectrum) == pytest.approx(1000, abs=2)  # 1 Hz bins over 1 s


def test_multichannel_mix_pick_and_keep(tmp_path):
    left, right = tone(300, seconds=0.5), tone(700, seconds=0.5, amplitude=0.25)
    path = save(tmp_path / "st.wav", np.stack([left, right]), 16_000, subtype="FLOAT")
    mixed, meta = load(path)
    assert meta.channels == 2 and meta.mixed_down
    np.testing.assert_allclose(mixed, (left + right) / 2, atol=1e-6)
    picked, meta = load(path, channel=1)
    np.testing.assert_allclose(picked, right, atol=1e-6)
    assert meta.channel == 1 and not meta.mixed_down
    both, _ = load(path, mono=False)
    assert both.shape == (2, 8000)
    with pytest.raises(errors.AudioError, match="channel 5"):
        load(path, channel=5)


def test_bytes_and_file_objects(tmp_path):
    x = tone(440, seconds=0.5)
    for ext in ("wav", "mp3"):
        path = save(tmp_path / f"x.{ext}", x, 16_000)
        blob = path.read_bytes()
        from_bytes, m1 = load(blob)
        from_file, m2 = load(io.BytesIO(blob))
        np.testing.assert_array_equal(from_bytes, from_file)
        assert m1.path == "<bytes>" and m1.container == m2.container


def test_info_does_not_decode_and_matches_load(tmp_path):
    path = save(tmp_path / "x.flac", np.zeros((3, 4800), np.float32) + 0.1, 48_000)
    meta = info(path)
    assert (meta.sample_rate, meta.channels, meta.frames) == (48_000, 3, 4800)
    assert meta.duration == pytest.approx(0.1)
    assert meta.loaded_sample_rate is None


def test_offset_and_duration(tmp_path):
    x = np.arange(16_000, dtype=np.float32) / 16_000
    path = save(tmp_path / "ramp.wav", x, 16_000, subtype="FLOAT")
    y, _ = load(path, offset=0.25, duration=0.5)
    np.testing.assert_allclose(y, x[4000:12000])


@pytest.mark.parametrize(
    ("kind", "error", "words"),
    [
        ("empty", errors.EmptyAudioError, "empty"),
        ("random_wav", errors.CorruptAudioError, "not decodable"),
        ("random_mp3", errors.CorruptAudioError, "not decodable"),
        ("text_as_flac", errors.CorruptAudioError, "not decodable"),
        ("truncated_flac", errors.CorruptAudioError, "truncated"),
        ("truncated_mp3", errors.CorruptAudioError, "truncated"),
        ("truncated_wav", errors.CorruptAudioError, "truncated"),
        ("nan_wav", errors.InvalidSamplesError, "NaN or Inf"),
        ("inf_wav", errors.InvalidSamplesError, "NaN or Inf"),
        ("zero_samples", errors.EmptyAudioError, "zero samples"),
        ("absurd_rate", errors.SampleRateError, "1 Hz"),
        ("directory", errors.NotAFileError, "directory"),
    ],
)
def test_bad_inputs_raise_named_errors(bad, kind, error, words):
    path = bad[kind]
    with pytest.raises(error, match=words) as excinfo:
        load(path)
    assert str(path) in str(excinfo.value)
    assert isinstance(excinfo.value, errors.AudioError)


def test_missing_file(tmp_path):
    with pytest.raises(errors.AudioFileNotFoundError, match="no such file"):
        load(tmp_path / "nope.wav")


def test_silence_warns_but_loads(tmp_path):
    path = save(tmp_path / "silence.wav", np.zeros(1600, np.float32), 16_000)
    with pytest.warns(errors.SilentAudioWarning, match="silent"):
        y, _ = load(path)
    assert len(y) == 1600


def test_max_seconds_checked_before_decoding(tmp_path):
    path = save(tmp_path / "long.flac", tone(200, seconds=5.0), 16_000)
    with pytest.raises(errors.DurationError, match="longer than the limit of 2 s"):
        load(path, max_seconds=2)
    y, _ = load(path, max_seconds=10)
    assert len(y) == 80_000


def test_absurd_requested_rate_and_unknown_output(tmp_path):
    path = save(tmp_path / "x.wav", tone(), 16_000)
    with pytest.raises(errors.SampleRateError):
        load(path, sr=10)
    with pytest.raises(errors.UnsupportedFormatError, match="cannot write"):
        save(tmp_path / "x.xyz", tone(), 16_000)
    with pytest.raises(errors.InvalidSamplesError):
        save(tmp_path / "nan.wav", np.full(10, np.nan, np.float32), 16_000)


def test_save_clips_pcm_with_warning_and_writes_tags(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = save(tmp_path / "loud.flac", tone(amplitude=1.5), 16_000, metadata={"comment": "hi"})
    assert any("clipped" in str(w.message) for w in caught)
    with sf.SoundFile(path) as handle:
        assert handle.comment == "hi"
    y, _ = load(path)
    assert np.abs(y).max() <= 1.0


def test_video_container_with_audio_stream(tmp_path):
    import av

    path = tmp_path / "clip.mp4"
    x = tone(500, seconds=1.0)
    with av.open(str(path), "w") as container:
        video = container.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = container.add_stream("aac", rate=16_000)
        audio.layout = "mono"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(
                np.full((32, 32, 3), i * 20, np.uint8), format="rgb24"
            )
            for packet in video.encode(frame):
                container.mux(packet)
        frame = av.AudioFrame.from_ndarray(x[None], format="fltp", layout="mono")
        frame.sample_rate = 16_000
        fifo = av.AudioFifo()
        fifo.write(frame)
        for chunk in fifo.read_many(1024, partial=True):
            chunk.pts = None
            for packet in audio.encode(chunk):
                container.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                container.mux(packet)
    y, meta = load(path)
    assert meta.backend == "pyav" and meta.codec == "aac"
    assert abs(len(y) - 16_000) < 2048
