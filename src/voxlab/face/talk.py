"""Voice-driven talking face from one photo.

Mouth shapes come from the audio: per video frame, the opening is the speech-band
envelope (300-3000 Hz RMS, loudness-normalised, attack/release smoothed) and the lip
spread is the spectral centroid (bright /i/, /s/ -> wide; dark /o/, /u/ -> rounded).
When phoneme timings are known (the Piper, VITS and espeak-ng engines record them in
``Generated.params["phonemes"]``), :func:`visemes_from_phonemes` turns them into the same
two curves through the viseme table of :mod:`voxlab.face.visemes`. Both drive
displacements of the lower lip, the jaw and the lip corners, applied with a
piecewise-affine warp of the photo; blinks (seeded random, ~every 3-5 s, 150 ms) and a
slow small head motion are added.
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


def _smooth(
    x: np.ndarray, attack: float, release: float, hold: np.ndarray | None = None
) -> np.ndarray:
    """One-pole attack/release smoothing; where ``hold`` is True the output is ``x`` itself."""
    out = np.empty_like(x)
    y = 0.0
    for i, v in enumerate(x):
        k = attack if v > y else release
        y = v if hold is not None and hold[i] else k * y + (1.0 - k) * v
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


def _smooth_tau(
    x: np.ndarray, rate: float, attack_s: float, release_s: float, hold: np.ndarray | None = None
) -> np.ndarray:
    """Attack/release smoothing with time constants in seconds (``rate`` samples/s)."""
    return _smooth(x, float(np.exp(-1.0 / (rate * attack_s))),
                   float(np.exp(-1.0 / (rate * release_s))), hold)  # fmt: skip


#: The lips move ahead of the sound they shape (anticipatory coarticulation): viseme
#: targets start this much before their phoneme; bilabial closures keep their own times.
LEAD_S = 0.04


def visemes_from_phonemes(
    events: Sequence[tuple[float, float, str]], *, duration: float, fps: float = 25.0
) -> MouthTrack:
    """Mouth controls from timed phonemes ``(start_s, end_s, symbol)``.

    Symbols map to viseme classes through :mod:`voxlab.face.visemes` (espeak-ng mnemonics
    and IPA; stress marks and word gaps take the next phoneme's shape, length marks the
    previous one's, pauses close the mouth). The targets, :data:`LEAD_S` ahead of their
    phonemes (lips lead the sound: 0.04 s raised the envelope correlation at lag 0 from
    0.48 to 0.58 on Piper sentences in ``benchmarks/face_talk.py``), are laid out on a 5-ms grid and
    smoothed there (attack 25 ms, release 40 ms: the lips move, they do not jump), then
    read at each video frame's centre ``(i + 0.5) / fps``. Bilabials (p, b, m) are hard
    closures: the opening is 0 wherever one sounds, and the frame nearest the middle of a
    bilabial shorter than a frame is closed too, so no /p b m/ is lost between frames.

    Args:
        events: Timed phonemes in time order (e.g. ``Generated.params["phonemes"]``).
        duration: Length of the speech in seconds.
        fps: Video frame rate.

    Returns:
        ``ceil(duration * fps)`` frames, like :func:`mouth_from_audio`.
    """
    from voxlab.face.visemes import VISEME_CONTROLS, resolve_visemes

    n = int(np.ceil(duration * fps))
    rate = 200.0
    m = max(1, int(np.ceil(duration * rate)))
    opening, spread = np.zeros(m), np.zeros(m)
    closed = np.zeros(m, dtype=bool)
    resolved = resolve_visemes(events)
    for start, end, cls in resolved:
        a, b = max(0, int(round((start - LEAD_S) * rate))), int(round((end - LEAD_S) * rate))
        opening[a:b], spread[a:b] = VISEME_CONTROLS[cls]
        if cls == "closed":
            closed[int(np.floor(start * rate)) : int(np.ceil(end * rate))] = True
    opening[closed] = 0.0
    opening = _smooth_tau(opening, rate, 0.025, 0.040, hold=closed)
    spread = _smooth_tau(spread, rate, 0.040, 0.040)
    centres = (np.arange(n) + 0.5) / fps
    idx = np.clip(np.round(centres * rate).astype(int), 0, m - 1)
    open_f, spread_f = opening[idx], spread[idx]
    for start, end, cls in resolved:
        if cls != "closed" or not n:
            continue
        inside = (centres >= start) & (centres < end)
        open_f[inside] = 0.0
        if not inside.any():
            open_f[min(n - 1, int((start + end) / 2 * fps))] = 0.0
    return MouthTrack(opening=np.clip(open_f, 0, 1).astype(np.float32),
                      spread=np.clip(spread_f, -1, 1).astype(np.float32), fps=fps)  # fmt: skip


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
