"""A diagonal-covariance Gaussian mixture trained with EM (the GMM countermeasures' model).

EM (:class:`DiagonalGMM`): k-means++ seeding and a few Lloyd iterations (on a random
subset of frames) give the initial means, variances and weights; each EM iteration
accumulates zeroth, first and second order statistics over chunks of frames with
log-sum-exp responsibilities, then updates the parameters; variances are floored at
``var_floor`` times the data variance of each dimension (at least 1e-6), which keeps EM
monotone (the floored update is the constrained maximiser). The official models were
trained with VLFeat's ``vl_gmm`` and its own initialisation, so a model trained here is
equivalent, not bit-identical. No official GMM parameters are available to this project;
the official ``.mat`` models (``m``, ``s``, ``w``: means, variances, weights, one column per
component) map onto :meth:`DiagonalGMM.set_parameters` after transposing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from voxlab.errors import CheckpointError, ConfigError, DataError, SmallDataWarning

_LOG_2PI = math.log(2.0 * math.pi)


def _as_frames(features: Tensor | Sequence[Tensor], *, name: str) -> Tensor:
    """Stack ``(frames, dim)`` tensors (or one such tensor) into one float64 matrix."""
    if isinstance(features, Tensor):
        parts = [features]
    else:
        parts = list(features)
        if not parts:
            raise DataError(f"{name}: no feature matrices given; pass at least one (frames, dim)")
    mats = []
    for i, part in enumerate(parts):
        if not isinstance(part, Tensor):
            raise DataError(f"{name}[{i}] must be a torch.Tensor, got {type(part).__name__}")
        if part.dim() != 2:
            raise DataError(f"{name}[{i}] must be shaped (frames, dim), got {tuple(part.shape)}")
        mats.append(part.detach().to(torch.float64))
    dims = {m.shape[1] for m in mats}
    if len(dims) != 1:
        raise DataError(f"{name}: feature matrices have different dims {sorted(dims)}")
    frames = torch.cat(mats) if len(mats) > 1 else mats[0]
    if not torch.isfinite(frames).all():
        raise DataError(f"{name}: features contain NaN or Inf; check the front-end input")
    return frames


def _kmeans_pp(points: Tensor, k: int, *, gen: torch.Generator) -> Tensor:
    """k-means++ seeding: each new centre is drawn with probability ~ squared distance.

    Shape:
        points ``(M, D)`` -> centres ``(k, D)``.
    """
    m = points.shape[0]
    centres = points.new_empty(k, points.shape[1])
    centres[0] = points[int(torch.randint(m, (1,), generator=gen))]
    dist = ((points - centres[0]) ** 2).sum(dim=1)
    for j in range(1, k):
        total = dist.sum()
        if total <= 0:  # fewer distinct points than components: pick any point
            pick = int(torch.randint(m, (1,), generator=gen))
        else:
            pick = int(torch.multinomial((dist / total).cpu(), 1, generator=gen))
        centres[j] = points[pick]
        dist = torch.minimum(dist, ((points - centres[j]) ** 2).sum(dim=1))
    return centres


class DiagonalGMM(nn.Module):
    """Diagonal-covariance Gaussian mixture with EM training.

    Args:
        n_components: Number of mixture components.
        dim: Feature dimension.

    Buffers (float64): ``weights`` ``(K,)``, ``means`` ``(K, D)``, ``variances``
    ``(K, D)``, ``fitted`` (scalar bool).
    """

    def __init__(self, n_components: int, dim: int) -> None:
        super().__init__()
        if n_components < 1 or dim < 1:
            raise ConfigError(
                f"DiagonalGMM needs n_components >= 1 and dim >= 1, got {n_components}, {dim}"
            )
        self.n_components = n_components
        self.dim = dim
        k, d = n_components, dim
        self.register_buffer("weights", torch.full((k,), 1.0 / k, dtype=torch.float64))
        self.register_buffer("means", torch.zeros(k, d, dtype=torch.float64))
        self.register_buffer("variances", torch.ones(k, d, dtype=torch.float64))
        self.register_buffer("fitted", torch.tensor(False))

    def _check_ready(self) -> None:
        if not bool(self.fitted):
            raise CheckpointError(
                "this GMM has not been fitted; call fit(...) or load fitted parameters"
            )

    def component_log_prob(self, frames: Tensor) -> Tensor:
        """``log w_k + log N(x | mu_k, diag(var_k))`` for every frame and component.

        Shape:
            Input: ``(N, D)``. Output: ``(N, K)`` (float64).
        """
        x = frames.to(device=self.means.device, dtype=torch.float64)
        means = self.means.double()
        prec = 1.0 / self.variances.double()
        # Expanded quadratic form, one matmul:
        #   log w_k N(x) = [x^2, x] . [-prec_k / 2, mu_k prec_k] + const_k
        const = torch.log(self.weights.double()) - 0.5 * (
            (means * means * prec).sum(dim=1) - torch.log(prec).sum(dim=1) + self.dim * _LOG_2PI
        )
        proj = torch.cat([-0.5 * prec, means * prec], dim=1).T  # (2D, K)
        return torch.addmm(const, torch.cat([x * x, x], dim=1), proj)

    def log_likelihood(self, frames: Tensor, *, chunk_size: int = 16_384) -> Tensor:
        """Per-frame log-likelihood ``log p(x_t)`` (log-sum-exp over components).

        Shape:
            Input: ``(N, D)``. Output: ``(N,)`` (float64).
        """
        self._check_ready()
        if frames.dim() != 2 or frames.shape[1] != self.dim:
            raise DataError(
                f"expected features shaped (frames, {self.dim}), got {tuple(frames.shape)}"
            )
        parts = [
            torch.logsumexp(self.component_log_prob(frames[i : i + chunk_size]), dim=1)
            for i in range(0, frames.shape[0], chunk_size)
        ]
        return torch.cat(parts) if parts else frames.new_zeros(0, dtype=torch.float64)

    @torch.no_grad()
    def set_parameters(self, *, weights: Tensor, means: Tensor, variances: Tensor) -> None:
        """Install parameters (e.g. converted from the official MATLAB ``w``, ``m'``, ``s'``).

        Shape:
            weights ``(K,)``, means ``(K, D)``, variances ``(K, D)``.
        """
        k, d = self.n_components, self.dim
        w = torch.as_tensor(weights, dtype=torch.float64).reshape(-1)
        m = torch.as_tensor(means, dtype=torch.float64)
        v = torch.as_tensor(variances, dtype=torch.float64)
        if w.shape != (k,) or m.shape != (k, d) or v.shape != (k, d):
            raise CheckpointError(
                f"GMM parameters have shapes {tuple(w.shape)}, {tuple(m.shape)}, "
                f"{tuple(v.shape)}; expected ({k},), ({k}, {d}), ({k}, {d})"
            )
        finite = torch.isfinite(torch.cat([w, m.ravel(), v.ravel()])).all()
        if (v <= 0).any() or (w < 0).any() or not finite:
            raise CheckpointError("GMM parameters need finite means, variances > 0, weights >= 0")
        self.weights.copy_(w / w.sum())
        self.means.copy_(m)
        self.variances.copy_(v)
        self.fitted.fill_(True)

    @torch.no_grad()
    def fit(
        self,
        features: Tensor | Sequence[Tensor],
        *,
        n_iter: int = 10,
        tol: float = 0.0,
        var_floor: float = 1e-4,
        seed: int = 0,
        init_frames: int = 100_000,
        kmeans_iter: int = 10,
        chunk_size: int = 16_384,
    ) -> list[float]:
        """Train by EM.

        Args:
            features: ``(frames, D)`` matrix or a sequence of them (one per utterance).
            n_iter: Maximum EM iterations (official: 10).
            tol: Stop early when the mean log-likelihood improves by less than this
                (0 runs all ``n_iter`` iterations).
            var_floor: Variance floor as a fraction of each dimension's data variance.
            seed: Seed of the initialisation (same seed and data -> same model).
            init_frames: Frames sampled for k-means++/k-means initialisation.
            kmeans_iter: Lloyd iterations after k-means++ seeding.
            chunk_size: Frames per E-step chunk (memory: ``chunk_size x K`` floats).

        Returns:
            Mean per-frame log-likelihood of the data before each M-step followed by the
            value after the last one (non-decreasing up to rounding).

        Raises:
            DataError: Fewer frames than components, NaN/Inf, inconsistent dims.
        """
        x = _as_frames(features, name="features").to(self.means.device)
        n, d = x.shape
        k = self.n_components
        if d != self.dim:
            raise DataError(f"features have dim {d}, this GMM expects {self.dim}")
        if n < k:
            raise DataError(
                f"cannot fit a {k}-component GMM on {n} frames: need at least one frame per "
                "component; add training data or reduce n_components"
            )
        per_component = 2 * d + 1  # a mean and a variance per dimension, and a weight
        if n < 2 * per_component * k:
            warnings.warn(
                f"fitting a {k}-component GMM on {n:,} frames ({n / k:.0f} per component, "
                f"{per_component} parameters each): it will over-fit and its scores mean little; "
                f"use at least {2 * per_component * k:,} frames or fewer components "
                "(n_components)",
                SmallDataWarning,
                stacklevel=2,
            )
        data_var = x.var(dim=0, unbiased=False)
        floor = torch.clamp(var_floor * data_var, min=1e-6)
        gen = torch.Generator(device="cpu").manual_seed(seed)
        self._init_kmeans(x, floor, gen=gen, init_frames=init_frames, kmeans_iter=kmeans_iter)
        history: list[float] = []
        for _ in range(n_iter):
            ll, nk, f1, f2 = self._accumulate(x, chunk_size)
            history.append(ll)
            self._m_step(nk, f1, f2, n, floor)
            if tol > 0 and len(history) > 1 and history[-1] - history[-2] < tol:
                break
        history.append(self._accumulate(x, chunk_size, stats=False)[0])
        return history

    def _accumulate(
        self, x: Tensor, chunk_size: int, *, stats: bool = True
    ) -> tuple[float, Tensor, Tensor, Tensor]:
        k, d = self.n_components, self.dim
        nk = x.new_zeros(k)
        f1 = x.new_zeros(k, d)
        f2 = x.new_zeros(k, d)
        total = 0.0
        for start in range(0, x.shape[0], chunk_size):
            chunk = x[start : start + chunk_size]
            logp = self.component_log_prob(chunk)
            norm = torch.logsumexp(logp, dim=1, keepdim=True)
            total += float(norm.sum())
            if stats:
                resp = torch.exp(logp - norm)
                nk += resp.sum(dim=0)
                f1 += resp.T @ chunk
                f2 += resp.T @ (chunk * chunk)
        return total / x.shape[0], nk, f1, f2

    def _m_step(self, nk: Tensor, f1: Tensor, f2: Tensor, n: int, floor: Tensor) -> None:
        # Components that lost (almost) all frames keep their previous mean/variance;
        # their weight becomes ~0, which cannot lower the likelihood.
        alive = nk > 1e-8 * n
        safe = torch.where(alive, nk, torch.ones_like(nk)).unsqueeze(1)
        means = f1 / safe
        variances = torch.maximum(f2 / safe - means * means, floor)
        self.means.copy_(torch.where(alive.unsqueeze(1), means, self.means))
        self.variances.copy_(torch.where(alive.unsqueeze(1), variances, self.variances))
        weights = torch.clamp(nk, min=1e-300)
        self.weights.copy_(weights / weights.sum())

    def _init_kmeans(
        self,
        x: Tensor,
        floor: Tensor,
        *,
        gen: torch.Generator,
        init_frames: int,
        kmeans_iter: int,
    ) -> None:
        n, k = x.shape[0], self.n_components
        if n > init_frames:
            idx = torch.randperm(n, generator=gen)[:init_frames].to(x.device)
            sample = x[idx]
        else:
            sample = x
        # k-means++ seeding on a random pool (sequential, so kept small), then Lloyd on all
        m = sample.shape[0]
        pool_size = min(m, max(20 * k, 2000))
        pool = sample[torch.randperm(m, generator=gen)[:pool_size].to(sample.device)]
        centres = _kmeans_pp(pool, k, gen=gen)
        # Lloyd iterations
        for _ in range(kmeans_iter + 1):
            d2 = (
                (sample * sample).sum(dim=1, keepdim=True)
                - 2.0 * sample @ centres.T
                + (centres * centres).sum(dim=1)
            )
            assign = d2.argmin(dim=1)
            counts = torch.bincount(assign, minlength=k).to(sample.dtype)
            sums = sample.new_zeros(k, sample.shape[1]).index_add_(0, assign, sample)
            has = counts > 0
            centres = torch.where(
                has.unsqueeze(1), sums / counts.clamp(min=1).unsqueeze(1), centres
            )
        sq = sample.new_zeros(k, sample.shape[1]).index_add_(0, assign, sample * sample)
        var = sq / counts.clamp(min=1).unsqueeze(1) - centres * centres
        global_var = sample.var(dim=0, unbiased=False)
        var = torch.where((counts > 1).unsqueeze(1), var, global_var.expand_as(var))
        self.means.copy_(centres)
        self.variances.copy_(torch.maximum(var, floor))
        weights = (counts + 1.0) / (counts.sum() + k)
        self.weights.copy_(weights)
        self.fitted.fill_(True)
