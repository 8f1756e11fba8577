"""``voxlab face swap --stabilise``: each mode swaps every frame; a bad mode is a clear error."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.cli.main import main


def _run(args):
    try:
        return main(args)
    except SystemExit as exc:
        return exc.code


@pytest.fixture(scope="module")
def clip_and_source(face_photo, tmp_path_factory):
    import cv2

    from voxlab.av.video import write_video
    from voxlab.face.boundary import random_pose, source_variant

    tmp = tmp_path_factory.mktemp("stab")
    rng = np.random.default_rng(3)
    clip = tmp / "clip.mp4"
    write_video(clip, [random_pose(face_photo, rng) for _ in range(4)], fps=10)
    src = tmp / "src.png"
    cv2.imwrite(str(src), cv2.cvtColor(source_variant(face_photo, rng), cv2.COLOR_RGB2BGR))
    return clip, src


@pytest.mark.parametrize("mode", ["flow", "none"])
def test_swap_with_each_stabiliser(clip_and_source, tmp_path, capsys, mode):
    clip, src = clip_and_source
    out = tmp_path / f"{mode}.mp4"
    args = ["face", "swap", str(clip), "-s", str(src), "-o", str(out), "--stabilise", mode]
    assert _run([*args, "--no-progress"]) in (0, None)
    assert "4/4 frames swapped" in capsys.readouterr().err
    assert out.stat().st_size > 1000


def test_unknown_stabiliser_names_the_choices(clip_and_source, tmp_path, capsys):
    clip, src = clip_and_source
    out = tmp_path / "x.mp4"
    assert _run(["face", "swap", str(clip), "-s", str(src), "-o", str(out),
                 "--stabilise", "kalman"]) == 2  # fmt: skip
    assert "flow, ema or none" in capsys.readouterr().err
    assert not out.exists()
