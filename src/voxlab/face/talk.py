"""Voice-driven talking face from one photo.

Mouth shapes come from the audio: per video frame, the opening is the speech-band
envelope (300-3000 Hz RMS, loudness-normalised, attack/release smoothed) and the lip
spread is the spectral centroid (bright /i/, /s/ -> wide; dark /o/, /u/ -> rounded).
When phoneme timings are known (espeak-ng phoneme events), :func:`visemes_from_phonemes`
turns them into the same two curves. Both drive displacements of the lower lip, the jaw and
the lip corners, applied with a piecewise-affine warp of the photo; blinks (seeded
random, ~every 3-5 s, 150 ms) and a slow small head motion are added.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from voxlab.face.errors import FaceError, need_cv2
from voxlab.face.landmarks import INNER_LIPS, Landmarker
from voxlab.face.warp import triangulate, warp_triangles


@dataclass(frozen=True)
class MouthTrack:
    """Per-frame mouth controls.

    Attributes:
        opening: Jaw/lip opening in ``[0, 1]``. Shape: ``(frames,)``.
        spread: Lip spread in ``[-1, 1]`` (negative = rounded). Shape: ``(frames,)``.
        fps: Frames per second.
    """

    opening: np.ndarray
    spread: np.ndarray
    fps: float


def _smooth(x: np.ndarray, attack: float, release: float) -> np.ndarray:
    out = np.empty_like(x)
    y = 0.0
    for i, v in enumerate(x):
        k = attack if v > y else release
        y = k * y + (1.0 - k) * v
        out[i] = y
    return out


def mouth_from_audio(audio: np.ndarray, sample_rate: int, *, fps: float = 25.0) -> MouthTrack:
    """Mouth opening and spread from envelope and spectral cues.

    Args:
        audio: Mono float samples. Shape: ``(time,)``.
        sample_rate: Rate in Hz.
        fps: Video frame rate.

    Returns:
        One value per video frame (``ceil(duration * fps)`` frames).
    """
    from scipy.signal import butter, sosfiltfilt

    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    if x.size < sample_rate * 0.05:
        raise FaceError("the speech is shorter than 50 ms; give longer audio")
    sos = butter(4, [300, min(3000, 0.45 * sample_rate)], btype="band", fs=sample_rate,
                 output="sos")  # fmt: skip
    band = sosfiltfilt(sos, x)
    n = int(np.ceil(len(x) / sample_rate * fps))
    hop = sample_rate / fps
    win = int(2 * hop)
    rms = np.zeros(n)
    cen = np.zeros(n)
    freqs = np.fft.rfftfreq(win, 1.0 / sample_rate)
    hann = np.hanning(win)
    for i in range(n):
        c = int(i * hop + hop / 2)
        seg = band[max(0, c - win // 2) : c + win // 2]
        if seg.size == 0:
            continue
        rms[i] = np.sqrt(np.mean(seg**2))
        raw = x[max(0, c - win // 2) : c + win // 2]
        if raw.size == win:
            spec = np.abs(np.fft.rfft(raw * hann))
            cen[i] = float((spec * freqs).sum() / (spec.sum() + 1e-9))
    db = 20 * np.log10(rms + 1e-6)
    top = np.percentile(db, 95) if n else 0.0
    opening = np.clip((db - (top - 35.0)) / 30.0, 0.0, 1.0)
    opening = _smooth(opening, attack=0.3, release=0.55)
    voiced = opening > 0.1
    spread = np.zeros(n)
    if voiced.any():
        ref = np.median(cen[voiced])
        spread = np.clip((cen - ref) / (ref + 1e-9), -1.0, 1.0) * voiced
    spread = _smooth(spread, 0.5, 0.5)
    return MouthTrack(opening=opening.astype(np.float32), spread=spread.astype(np.float32),
                      fps=fps)  # fmt: skip


#: Viseme controls (opening, spread) for espeak-ng phoneme symbols' first letters.
_VISEMES = {
    "a": (0.9, 0.1), "A": (1.0, 0.0), "e": (0.6, 0.6), "E": (0.7, 0.4), "i": (0.35, 0.9),
    "I": (0.4, 0.7), "o": (0.7, -0.7), "O": (0.8, -0.5), "u": (0.35, -1.0), "U": (0.4, -0.8),
    "@": (0.45, 0.0), "3": (0.5, 0.0), "V": (0.7, 0.0), "0": (0.8, -0.4), "w": (0.2, -0.9),
    "p": (0.0, 0.0), "b": (0.0, 0.0), "m": (0.0, 0.0), "f": (0.15, 0.2), "v": (0.15, 0.2),
    "s": (0.2, 0.6), "z": (0.2, 0.6), "S": (0.25, -0.4), "Z": (0.25, -0.4), "t": (0.25, 0.3),
    "d": (0.25, 0.3), "n": (0.25, 0.3), "l": (0.35, 0.2), "r": (0.3, -0.3), "k": (0.35, 0.0),
    "g": (0.35, 0.0), "h": (0.5, 0.0), "T": (0.2, 0.3), "D": (0.2, 0.3), "j": (0.3, 0.6),
}  # fmt: skip


def visemes_from_phonemes(
    events: Sequence[tuple[float, float, str]], *, duration: float, fps: float = 25.0
) -> MouthTrack:
    """Mouth controls from timed phonemes ``(start_s, end_s, symbol)``.

    Unknown symbols and pauses close the mouth; the curves are smoothed like the audio path.
    """
    n = int(np.ceil(duration * fps))
    opening = np.zeros(n)
    spread = np.zeros(n)
    for start, end, sym in events:
        ctl = _VISEMES.get(sym[:1], (0.3, 0.0)) if sym.strip() and sym[0] != "_" else (0, 0)
        a, b = int(start * fps), max(int(start * fps) + 1, int(np.ceil(end * fps)))
        opening[a:b] = ctl[0]
        spread[a:b] = ctl[1]
    return MouthTrack(opening=_smooth(opening, 0.3, 0.5).astype(np.float32),
                      spread=_smooth(spread, 0.4, 0.4).astype(np.float32), fps=fps)  # fmt: skip


def blink_curve(n: int, fps: float, *, seed: int = 0) -> np.ndarray:
    """Eyelid closure in ``[0, 1]`` per frame: blinks every 2.5-5 s, ~150 ms each."""
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=np.float32)
    t = rng.uniform(0.8, 2.5)
    while t * fps < n:
        c = t * fps
        half = max(1.0, 0.075 * fps)
        idx = np.arange(max(0, int(c - half) - 1), min(n, int(c + half) + 2))
        out[idx] = np.maximum(out[idx], np.clip(1.0 - np.abs(idx - c) / half, 0, 1))
        t += rng.uniform(2.5, 5.0)
    return out


class TalkingFace:
    """Animate one face photo with a :class:`MouthTrack`.

    Args:
        image: RGB uint8 photo. Shape: ``(h, w, 3)``.
        landmarker: Detector/predictor; a default one when None.
        face_index: Which face (0 = largest) when the photo shows several.
        seed: Seed of the blinks and head motion.
        head_motion: Amplitude of the head motion (1 = ~1.5 degrees, ~1 % shift).
        name: Name of the photo in error messages.

    Raises:
        NoFaceError: No face in the photo.
    """

    def __init__(
        self,
        image: np.ndarray,
        *,
        landmarker: Landmarker | None = None,
        face_index: int | None = None,
        seed: int = 0,
        head_motion: float = 1.0,
        name: str = "face image",
    ):
        self.cv2 = need_cv2()
        lm = landmarker or Landmarker()
        self.image = np.ascontiguousarray(image)
        h, w = image.shape[:2]
        self.h, self.w = h, w
        self.rest = lm.face(image, face_index=face_index, name=name).points.astype(np.float32)
        border = np.array(
            [[0, 0], [w / 2, 0], [w - 1, 0], [w - 1, h / 2], [w - 1, h - 1], [w / 2, h - 1],
             [0, h - 1], [0, h / 2]], dtype=np.float32)  # fmt: skip
        self.points = np.concatenate([self.rest, border])
        self.tris = triangulate(self.points)
        self.seed = seed
        self.head_motion = head_motion
        p = self.rest
        self.face_h = float(np.linalg.norm(p[8] - p[27]))
        self.mouth_w = float(np.linalg.norm(p[54] - p[48]))

    def shape(self, opening: float, spread: float, blink: float) -> np.ndarray:
        """Displaced landmarks (68 + 8 border points) for one frame's controls."""
        p = self.points.copy()
        drop = opening * 0.16 * self.face_h
        # lower outer lip 55-59 and inner 65-67 follow the jaw; the upper lip lifts a bit
        for i in (55, 56, 57, 58, 59, 65, 66, 67):
            p[i, 1] += drop
        for i in (49, 50, 51, 52, 53, 61, 62, 63):
            p[i, 1] -= 0.12 * drop
        for i, wgt in zip(range(4, 13), (0.2, 0.45, 0.7, 0.9, 1.0, 0.9, 0.7, 0.45, 0.2)):
            p[i, 1] += 0.8 * drop * wgt
        centre = (p[48] + p[54]) / 2
        for i in (48, 54, 60, 64):
            p[i, 0] = centre[0] + (p[i, 0] - centre[0]) * (1.0 + 0.12 * spread)
            p[i, 1] += 0.4 * drop
        for up, low in ((37, 41), (38, 40), (43, 47), (44, 46)):
            mid = (p[up, 1] + p[low, 1]) / 2
            p[up, 1] += (mid - p[up, 1]) * 0.9 * blink
            p[low, 1] += (mid - p[low, 1]) * 0.9 * blink
        return p

    def render(self, opening: float, spread: float, blink: float, t: float) -> np.ndarray:
        """One frame. Shape: ``(h, w, 3)`` uint8."""
        cv2 = self.cv2
        dst = self.shape(opening, spread, blink)
        frame = self.image.copy()
        warp_triangles(self.image, frame, self.points, dst, self.tris, only_moved=0.05)
        if opening > 0.08:
            inner = np.round(dst[INNER_LIPS]).astype(np.int32)
            shade = np.zeros(frame.shape[:2], np.uint8)
            cv2.fillPoly(shade, [inner], 255)
            shade = cv2.GaussianBlur(shade, (0, 0), 1.0)[..., None] / 255.0
            cavity = np.array([60, 20, 25], np.float32) * (1.0 - 0.3 * opening)
            frame = (frame * (1 - shade * 0.9) + cavity * shade * 0.9).astype(np.uint8)
        if self.head_motion > 0:
            rng = np.random.default_rng(self.seed + 1)
            ph = rng.uniform(0, 2 * np.pi, 3)
            ang = self.head_motion * 1.5 * np.sin(2 * np.pi * 0.23 * t + ph[0])
            dx = self.head_motion * 0.01 * self.w * np.sin(2 * np.pi * 0.17 * t + ph[1])
            dy = self.head_motion * 0.006 * self.h * np.sin(2 * np.pi * 0.29 * t + ph[2])
            c = tuple(float(v) for v in self.rest[30])
            m = cv2.getRotationMatrix2D(c, ang, 1.0)
            m[:, 2] += (dx, dy)
            frame = cv2.warpAffine(frame, m, (self.w, self.h), borderMode=cv2.BORDER_REFLECT)
        return frame

    def frames(self, track: MouthTrack) -> Iterator[np.ndarray]:
        """The animation, one frame at a time (bounded memory)."""
        n = len(track.opening)
        blinks = blink_curve(n, track.fps, seed=self.seed)
        for i in range(n):
            yield self.render(float(track.opening[i]), float(track.spread[i]),
                              float(blinks[i]), i / track.fps)  # fmt: skip
