"""``voxlab av make``, ``voxlab face talk|swap|detect`` as a user runs them.

Faces: Debian opencv-doc's messi5.jpg (BSD-3-Clause), cropped and upscaled.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from voxlab.cli.main import main

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed (face extra)")
    pytest.importorskip("dlib", reason="dlib-bin is not installed (face extra)")
    import cv2

    from voxlab.face.boundary import training_faces
    from voxlab.face.errors import FaceModelMissingError

    try:
        face = training_faces()[0]
        from voxlab.face.landmarks import landmark_model_path

        landmark_model_path()
    except (FaceModelMissingError, Exception) as exc:
        pytest.skip(f"face assets missing: {exc}")
    path = tmp_path_factory.mktemp("face") / "face.png"
    cv2.imwrite(str(path), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
    return path


def run(args):
    try:
        return main(args)
    except SystemExit as exc:
        return exc.code


def test_av_make_labels_everything_and_detect_reads_them(photo, tmp_path, espeak, capsys):
    out = tmp_path / "hello.mp4"
    text = "Hello there. I am not a real person, and this video says so."  # long enough to sync
    assert run(["av", "make", text, "--face", str(photo), "-o", str(out),
                "--no-progress"]) in (0, None)  # fmt: skip
    prov = json.loads((tmp_path / "hello.mp4.run" / "provenance.json").read_text())
    assert prov["speech"]["system"].startswith("espeak") and prov["frames"] > 10
    assert (tmp_path / "hello.mp4.run" / "pipeline.yaml").is_file()
    if shutil.which("ffprobe"):
        tags = subprocess.run(
            ["ffprobe", "-v", "quiet", "-print_format", "json", "-show_format", str(out)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        comment = json.loads(tags.stdout)["format"]["tags"]["comment"]
        assert "AI-generated" in comment
    capsys.readouterr()
    from voxlab.watermark.provenance import default_key_path

    key = str(default_key_path())
    assert run(["watermark", "detect", str(out), "-k", key, "-f", "json"]) in (0, None)
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["marked"] is True
    # the caption is visible: the lower-left corner holds white text on black
    from voxlab.av.video import read_frames

    frame = next(read_frames(out))
    corner = frame[-30:, :120]
    assert (corner.min(-1) > 180).mean() > 0.005 and (corner.max(-1) < 40).mean() > 0.2

    report = tmp_path / "rep"
    capsys.readouterr()
    assert run(["face", "detect", str(out), "-o", str(report), "-f", "json", "--no-progress"]) in (
        0,
        None,
    )
    rep = json.loads(capsys.readouterr().out)
    assert rep["audio"]["watermark"]["found"] is True
    assert rep["synchrony"]["flagged"] is False, rep["synchrony"]
    assert (report / "report.png").stat().st_size > 1000


def test_talk_with_shifted_audio_is_flagged(photo, tmp_path, capsys):
    from voxlab.audio import save

    sr = 16_000
    rng = np.random.default_rng(0)
    t = np.arange(4 * sr) / sr
    bursts = (np.sin(2 * np.pi * 0.9 * t) > 0.2) * (np.sin(2 * np.pi * 2.3 * t) > -0.3)
    speech = (0.2 * rng.normal(size=t.size) * bursts).astype(np.float32)
    wav = tmp_path / "s.wav"
    save(wav, speech, sr)
    talk = tmp_path / "talk.mp4"
    assert run(["face", "talk", str(photo), str(wav), "-o", str(talk), "--no-progress"]) in (
        0,
        None,
    )
    from voxlab.av.video import read_frames, write_video

    shifted = tmp_path / "shifted.mp4"
    late = np.concatenate([np.zeros(int(0.5 * sr), np.float32), speech])[: speech.size]
    write_video(shifted, read_frames(talk), fps=25, audio=late, sample_rate=sr)
    from voxlab.face.report import analyse_video

    ok = analyse_video(talk)["synchrony"]
    bad = analyse_video(shifted)["synchrony"]
    assert not ok["flagged"] and abs(ok["lag_s"]) < 0.1
    assert bad["flagged"] and bad["lag_s"] == pytest.approx(0.5, abs=0.12)


def test_swap_and_bad_inputs(photo, tmp_path, capsys):
    from voxlab.av.video import read_image, write_video
    from voxlab.face.boundary import random_pose, source_variant

    face = read_image(photo)
    rng = np.random.default_rng(1)
    clip = tmp_path / "clip.mp4"
    write_video(clip, [random_pose(face, rng) for _ in range(6)], fps=10)
    src = tmp_path / "src.png"
    import cv2

    cv2.imwrite(str(src), cv2.cvtColor(source_variant(face, rng), cv2.COLOR_RGB2BGR))
    out = tmp_path / "swapped.mp4"
    assert run(["face", "swap", str(clip), "--source", str(src), "-o", str(out),
                "--no-progress"]) in (0, None)  # fmt: skip
    assert "6/6 frames swapped" in capsys.readouterr().err
    grey = tmp_path / "grey.png"
    cv2.imwrite(str(grey), np.full((200, 200, 3), 120, np.uint8))
    assert run(["face", "swap", str(clip), "--source", str(grey), "-o", str(out)]) == 2
    assert "no face found" in capsys.readouterr().err
    assert run(["face", "talk", str(photo), str(clip), "-o", str(out)]) == 2
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"nonsense" * 50)
    assert run(["face", "detect", str(bad)]) == 2
    assert "bad.mp4" in capsys.readouterr().err
