"""Video I/O through PyAV: round trip, tags, audio, and each bad input."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.av.video import VideoError, probe_video, read_audio_track, read_frames, write_video


def _frames(n=10, h=64, w=96):
    for i in range(n):
        f = np.zeros((h, w, 3), np.uint8)
        f[:, : (i + 1) * 8] = (200, 40, 40)
        yield f


def test_round_trip_with_audio_and_tags(tmp_path):
    sr = 16_000
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    out = write_video(tmp_path / "a.mp4", _frames(), fps=10, audio=tone, sample_rate=sr,
                      metadata={"comment": "AI-generated test"})  # fmt: skip
    info = probe_video(out)
    assert (info.width, info.height, info.has_audio) == (96, 64, True)
    assert info.metadata["comment"] == "AI-generated test"
    frames = list(read_frames(out))
    assert len(frames) == 10 and frames[0].shape == (64, 96, 3)
    assert frames[4][:, :30, 0].mean() > 150 and frames[4][:, 60:, 0].mean() < 30
    audio = read_audio_track(out)
    assert 0.9 < len(audio) / 16_000 < 1.2 and np.abs(audio).max() > 0.2


def test_video_without_audio_and_audio_without_video(tmp_path):
    from voxlab.audio import save

    silent = write_video(tmp_path / "v.mp4", _frames(3), fps=5)
    with pytest.raises(VideoError, match="no audio track"):
        read_audio_track(silent)
    wav = tmp_path / "s.wav"
    save(wav, np.zeros(1600, np.float32), 16_000)
    with pytest.raises(VideoError, match="no video stream"):
        next(read_frames(wav))


def test_corrupt_empty_missing(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x01garbage" * 100)
    with pytest.raises(VideoError, match=r"bad\.mp4"):
        list(read_frames(bad))
    empty = tmp_path / "e.mp4"
    empty.touch()
    with pytest.raises(VideoError, match="empty"):
        probe_video(empty)
    with pytest.raises(VideoError, match="no such file"):
        probe_video(tmp_path / "nope.mp4")


def test_tiny_huge_and_mixed_frames(tmp_path):
    with pytest.raises(VideoError, match="too small"):
        write_video(tmp_path / "t.mp4", [np.zeros((16, 16, 3), np.uint8)], fps=5)
    with pytest.raises(VideoError, match="too large"):
        write_video(tmp_path / "h.mp4", [np.zeros((40, 9000, 3), np.uint8)], fps=5)
    mixed = [np.zeros((64, 64, 3), np.uint8), np.zeros((80, 64, 3), np.uint8)]
    with pytest.raises(VideoError, match="one size"):
        write_video(tmp_path / "m.mp4", mixed, fps=5)
    assert not (tmp_path / "m.mp4").exists()
