"""The pipeline file, the visible caption and output-name checks of ``voxlab av make``."""

from __future__ import annotations

import numpy as np
import pytest

from voxlab.av.make import PipelineConfig, check_output_path
from voxlab.av.video import VideoError
from voxlab.errors import ConfigError


def test_yaml_pipeline_resolves_paths_and_overrides(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("text: Hello there.\nface: me.jpg\nengine: piper\nseed: 3\n")
    cfg = PipelineConfig.from_yaml(f, seed=7)
    assert cfg.face == str(tmp_path / "me.jpg") and cfg.engine == "piper" and cfg.seed == 7
    assert cfg.caption and cfg.watermark


def test_yaml_pipeline_errors(tmp_path):
    f = tmp_path / "run.yaml"
    f.write_text("text: Hi\nface: me.jpg\nvoices: x\n")
    with pytest.raises(ConfigError, match=r"unknown keys \['voices'\]"):
        PipelineConfig.from_yaml(f)
    f.write_text("face: me.jpg\n")
    with pytest.raises(ConfigError, match="`text:` is required"):
        PipelineConfig.from_yaml(f)
    f.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        PipelineConfig.from_yaml(f)


def test_caption_is_drawn_in_the_corner():
    pytest.importorskip("cv2", reason="opencv-python-headless is not installed (face extra)")
    from voxlab.av.make import draw_caption

    frame = np.full((240, 320, 3), 128, np.uint8)
    out = draw_caption(frame)
    assert np.array_equal(out[:100], frame[:100])
    corner = out[-30:, :120]
    assert (corner.min(-1) > 200).any() and (corner.max(-1) < 10).any()


def test_output_must_be_a_video_container(tmp_path):
    with pytest.raises(VideoError, match=r"\.mp4, \.mkv or \.mov"):
        check_output_path(tmp_path / "out.wav")
