"""Video I/O and the text -> voice -> face -> labelled video pipeline.

:mod:`voxlab.av.video` streams frames in and out through PyAV (the same FFmpeg the audio
side uses) and muxes audio; :mod:`voxlab.av.make` joins TTS, the talking face, the optional
swap and the labels (watermark, container tag, visible caption).
"""

from voxlab.av.video import VideoError, VideoInfo, probe_video, read_frames, write_video

__all__ = ["VideoError", "VideoInfo", "probe_video", "read_frames", "write_video"]
