"""Parallel-data voice conversion with a joint-density GMM (Kain & Macon; Toda et al.).

Training: WORLD analysis of parallel utterances (the same sentences by a source and a
target speaker) -> mel-cepstra -> DTW alignment -> a full-covariance GMM on the joint
vectors ``z = [x; y]`` fitted by EM. Conversion: the minimum mean-square error estimate
``E[y | x] = sum_k P(k | x) (mu_y,k + S_yx,k S_xx,k^-1 (x - mu_x,k))``, applied frame by
frame to the source mel-cepstra (without the energy coefficient, which is kept); F0 is
mapped with log-F0 statistics and the aperiodicity is kept. Everything is numpy, seeded,
and trains in seconds on a CPU from a few minutes of speech.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular

from voxlab.errors import ConfigError, DataError
from voxlab.generation import world
from voxlab.generation.base import Generated, finish_audio, one_blas_thread
from voxlab.generation.vc.world_vc import LogF0Stats, map_f0

#: Frames quieter than the utterance's loudest by this many dB are left out of training.
SILENCE_DB = 40.0


def dtw_path(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dynamic time warping with Euclidean frame distances and steps (1,0), (0,1), (1,1).

    Vectorised along anti-diagonals, so it costs ``N + M`` numpy steps.

    Args:
        x: First sequence. Shape: ``(N, dim)``.
        y: Second sequence. Shape: ``(M, dim)``.

    Returns:
        ``(ix, iy)``: aligned frame indices, monotone, from ``(0, 0)`` to ``(N-1, M-1)``.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, m = len(x), len(y)
    if n == 0 or m == 0:
        raise DataError("DTW needs two non-empty sequences")
    sq = (x * x).sum(1)[:, None] + (y * y).sum(1)[None, :] - 2.0 * np.einsum("id,jd->ij", x, y)
    cost = np.sqrt(np.maximum(sq, 0.0))
    acc = np.full((n + 1, m + 1), np.inf)
    acc[0, 0] = 0.0
    for s in range(n + m - 1):
        i = np.arange(max(0, s - m + 1), min(n - 1, s) + 1)
        j = s - i
        best = np.minimum(np.minimum(acc[i, j + 1], acc[i + 1, j]), acc[i, j])
        acc[i + 1, j + 1] = cost[i, j] + best
    i, j = n, m
    path = [(n - 1, m - 1)]
    while (i, j) != (1, 1):
        steps = ((i - 1, j - 1), (i - 1, j), (i, j - 1))
        i, j = min(steps, key=lambda ij: acc[ij])
        path.append((i - 1, j - 1))
    ix, iy = np.asarray(path[::-1]).T
    return ix, iy


@dataclass(frozen=True)
class JointGMM:
    """A full-covariance Gaussian mixture.

    Attributes:
        weights: Mixture weights. Shape: ``(K,)``.
        means: Shape: ``(K, dim)``.
        covariances: Shape: ``(K, dim, dim)``.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @property
    def n_components(self) -> int:
        """Number of components."""
        return len(self.weights)

    @staticmethod
    def _log_gauss(z: np.ndarray, means: np.ndarray, covs: np.ndarray) -> np.ndarray:
        out = np.empty((len(z), len(means)))
        dim = z.shape[1]
        for k in range(len(means)):
            chol = np.linalg.cholesky(covs[k])
            whiten = solve_triangular(chol, np.eye(dim), lower=True)
            sol = (z - means[k]) @ whiten.T
            log_det = 2.0 * np.log(np.diag(chol)).sum()
            out[:, k] = -0.5 * ((sol * sol).sum(1) + log_det + dim * math.log(2.0 * math.pi))
        return out

    def log_likelihood(self, z: np.ndarray) -> float:
        """Mean log-likelihood per frame. Shape: ``(frames, dim) -> scalar``."""
        joint = self._log_gauss(z, self.means, self.covariances) + np.log(self.weights)
        return float(np.mean(_logsumexp(joint)))

    @classmethod
    def fit(
        cls,
        z: np.ndarray,
        *,
        n_components: int = 8,
        n_iter: int = 30,
        reg: float = 1e-3,
        seed: int = 0,
        tol: float = 1e-4,
    ) -> JointGMM:
        """EM from a k-means++ start.

        Args:
            z: Training vectors. Shape: ``(frames, dim)``.
            n_components: Number of mixture components.
            n_iter: Most EM iterations.
            reg: Covariance floor, as a fraction of each dimension's global variance.
            seed: Seed of the k-means++ initialisation.
            tol: Stop when the mean log-likelihood improves by less than this.
        """
        with one_blas_thread():
            return cls._fit(z, n_components, n_iter, reg, seed, tol)

    @classmethod
    def _fit(cls, z, n_components, n_iter, reg, seed, tol) -> JointGMM:
        z = np.asarray(z, dtype=np.float64)
        n, dim = z.shape
        if n < 2 * n_components:
            raise DataError(
                f"GMM training needs more frames than components: {n} frames for "
                f"{n_components} components; give more (or longer) parallel utterances"
            )
        floor = reg * np.diag(np.var(z, axis=0) + 1e-12)
        labels = _kmeans(z, n_components, seed=seed)
        resp = np.zeros((n, n_components))
        resp[np.arange(n), labels] = 1.0
        previous = -np.inf
        gmm = None
        for _ in range(n_iter):
            counts = resp.sum(0) + 1e-10
            means = (resp.T @ z) / counts[:, None]
            covs = np.empty((n_components, dim, dim))
            for k in range(n_components):
                centred = z - means[k]
                covs[k] = (resp[:, k, None] * centred).T @ centred / counts[k] + floor
            gmm = cls(weights=counts / n, means=means, covariances=covs)
            joint = cls._log_gauss(z, means, covs) + np.log(gmm.weights)
            norm = _logsumexp(joint)
            resp = np.exp(joint - norm[:, None])
            current = float(norm.mean())
            if current - previous < tol:
                break
            previous = current
        return gmm


def _logsumexp(a: np.ndarray) -> np.ndarray:
    peak = a.max(axis=1)
    return peak + np.log(np.exp(a - peak[:, None]).sum(axis=1))


def _kmeans(z: np.ndarray, k: int, *, seed: int, n_iter: int = 10) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = [z[rng.integers(len(z))]]
    dist = ((z - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        centres.append(z[rng.choice(len(z), p=dist / dist.sum())])
        dist = np.minimum(dist, ((z - centres[-1]) ** 2).sum(1))
    centres = np.asarray(centres)
    labels = np.zeros(len(z), dtype=int)
    for _ in range(n_iter):
        d = (z * z).sum(1)[:, None] + (centres * centres).sum(1)[None] - 2 * z @ centres.T
        labels = d.argmin(1)
        for c in range(k):
            members = z[labels == c]
            if len(members):
                centres[c] = members.mean(0)
    return labels


def _speech_frames(mc: np.ndarray) -> np.ndarray:
    db = 20.0 / math.log(10.0) * mc[:, 0]
    return db > db.max() - SILENCE_DB


@dataclass(frozen=True)
class GMMVoiceConverter:
    """A trained joint-density GMM converter with its F0 statistics.

    Attributes:
        gmm: Joint GMM over ``[x; y]`` mel-cepstra (without c0), ``dim = 2 * order``.
        order: Mel-cepstral order.
        alpha: All-pass constant of the mel-cepstra.
        source_f0: Source speaker's log-F0 statistics.
        target_f0: Target speaker's log-F0 statistics.
        sample_rate: Sample rate the converter was trained at.
        frame_period: WORLD frame shift in ms.
        f0_method: F0 tracker used.
    """

    gmm: JointGMM
    order: int
    alpha: float
    source_f0: LogF0Stats
    target_f0: LogF0Stats
    sample_rate: int
    frame_period: float = 5.0
    f0_method: str = "dio"

    @classmethod
    def train(
        cls,
        pairs: Sequence[tuple[np.ndarray, np.ndarray]],
        sample_rate: int,
        *,
        order: int = 24,
        n_components: int = 8,
        n_iter: int = 20,
        seed: int = 0,
        f0_method: str = "dio",
        frame_period: float = 5.0,
    ) -> GMMVoiceConverter:
        """Trains on parallel utterances.

        Args:
            pairs: ``(source_audio, target_audio)`` with the same text, at ``sample_rate``.
            sample_rate: Sample rate in Hz.
            order: Mel-cepstral order.
            n_components: GMM components.
            n_iter: EM iterations.
            seed: Seed of the initialisation.
            f0_method: ``"dio"`` or ``"harvest"``.
            frame_period: WORLD frame shift in ms.
        """
        if not pairs:
            raise DataError("GMM voice conversion needs at least one parallel utterance pair")
        alpha = world.mcep_alpha(sample_rate)
        joint, src_f0, tgt_f0 = [], [], []
        with one_blas_thread():
            for src, tgt in pairs:
                cls._add_pair(src, tgt, sample_rate, order, alpha, f0_method, frame_period,
                              joint, src_f0, tgt_f0)  # fmt: skip
        gmm = JointGMM.fit(np.vstack(joint), n_components=n_components, n_iter=n_iter, seed=seed)
        return cls(
            gmm=gmm,
            order=order,
            alpha=alpha,
            source_f0=LogF0Stats.from_f0(*src_f0),
            target_f0=LogF0Stats.from_f0(*tgt_f0),
            sample_rate=sample_rate,
            frame_period=frame_period,
            f0_method=f0_method,
        )

    @staticmethod
    def _add_pair(src, tgt, sample_rate, order, alpha, f0_method, frame_period, joint, src_f0,
                  tgt_f0) -> None:  # fmt: skip
        """Analyses one parallel pair, aligns it by DTW and appends its joint speech frames."""
        feats = []
        for audio in (src, tgt):
            f0 = world.extract_f0(audio, sample_rate, method=f0_method, frame_period=frame_period)
            sp = world.spectral_envelope(audio, sample_rate, f0, frame_period=frame_period)
            feats.append((f0, world.sp_to_mcep(sp, order=order, alpha=alpha)))
        (f0_x, mc_x), (f0_y, mc_y) = feats
        src_f0.append(f0_x)
        tgt_f0.append(f0_y)
        ix, iy = dtw_path(mc_x[:, 1:], mc_y[:, 1:])
        keep = _speech_frames(mc_x)[ix] & _speech_frames(mc_y)[iy]
        joint.append(np.hstack([mc_x[ix[keep], 1:], mc_y[iy[keep], 1:]]))

    def save(self, path: str | os.PathLike) -> Path:
        """Writes the converter to an ``.npz`` file (atomically; arrays and numbers only)."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.stem}.partial.npz")
        np.savez(
            tmp,
            weights=self.gmm.weights,
            means=self.gmm.means,
            covariances=self.gmm.covariances,
            scalars=np.array(
                [
                    self.order,
                    self.alpha,
                    self.source_f0.mean,
                    self.source_f0.std,
                    self.target_f0.mean,
                    self.target_f0.std,
                    self.sample_rate,
                    self.frame_period,
                ]
            ),
            f0_method=np.array(self.f0_method),
        )
        os.replace(tmp, out)
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> GMMVoiceConverter:
        """Reads a converter written by :meth:`save` (no pickle).

        Raises:
            DataError: The file is missing or not a converter.
        """
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                s = data["scalars"]
                gmm = JointGMM(data["weights"], data["means"], data["covariances"])
                method = str(data["f0_method"])
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(f"not a GMM voice converter file: {path} ({exc})") from exc
        return cls(
            gmm=gmm,
            order=int(s[0]),
            alpha=float(s[1]),
            source_f0=LogF0Stats(float(s[2]), float(s[3])),
            target_f0=LogF0Stats(float(s[4]), float(s[5])),
            sample_rate=int(s[6]),
            frame_period=float(s[7]),
            f0_method=method,
        )

    def convert_mcep(self, mc: np.ndarray) -> np.ndarray:
        """MMSE conversion of mel-cepstra; the 0th (energy) coefficient is kept.

        Shape:
            ``(frames, order + 1) -> (frames, order + 1)``
        """
        mc = np.asarray(mc, dtype=np.float64)
        if mc.shape[-1] != self.order + 1:
            raise ConfigError(f"expected order-{self.order} mel-cepstra, got {mc.shape[-1] - 1}")
        with one_blas_thread():
            return self._convert_mcep(mc)

    def _convert_mcep(self, mc: np.ndarray) -> np.ndarray:
        d = self.order
        x = mc[:, 1:]
        mu_x, mu_y = self.gmm.means[:, :d], self.gmm.means[:, d:]
        s_xx = self.gmm.covariances[:, :d, :d]
        s_yx = self.gmm.covariances[:, d:, :d]
        joint = JointGMM._log_gauss(x, mu_x, s_xx) + np.log(self.gmm.weights)
        post = np.exp(joint - _logsumexp(joint)[:, None])
        out = np.zeros_like(x)
        for k in range(self.gmm.n_components):
            factor = cho_factor(s_xx[k])
            regress = cho_solve(factor, (x - mu_x[k]).T).T @ s_yx[k].T
            out += post[:, k : k + 1] * (mu_y[k] + regress)
        return np.hstack([mc[:, :1], out])

    def convert(
        self,
        audio: np.ndarray,
        sample_rate: int,
        *,
        features: world.WorldFeatures | None = None,
        system: str = "gmm-vc",
    ) -> Generated:
        """Converts source speech to the target voice (envelope by GMM, F0 by statistics)."""
        if sample_rate != self.sample_rate:
            raise ConfigError(
                f"the converter was trained at {self.sample_rate} Hz, got audio at {sample_rate}"
            )
        feats = features or world.analyze(
            audio, sample_rate, f0_method=self.f0_method, frame_period=self.frame_period
        )
        mc = world.sp_to_mcep(feats.sp, order=self.order, alpha=self.alpha)
        sp = world.mcep_to_sp(self.convert_mcep(mc), fft_size=feats.fft_size, alpha=self.alpha)
        f0 = map_f0(feats.f0, self.source_f0, self.target_f0)
        out = world.synthesize(feats.replace(f0=f0, sp=sp))[: len(audio)]
        return Generated(
            audio=finish_audio(out, name=system),
            sample_rate=sample_rate,
            system=system,
            params={
                "vc": "joint-density-gmm-mmse",
                "order": self.order,
                "alpha": self.alpha,
                "n_components": self.gmm.n_components,
                "source_f0": self.source_f0.to_dict(),
                "target_f0": self.target_f0.to_dict(),
                "f0_method": self.f0_method,
            },
        )
