"""GMM countermeasures: the ASVspoof 2021 baselines LFCC-GMM (B02) and CQCC-GMM (B01).

Todisco et al./ASVspoof organisers, ``asvspoof-challenge/2021``: ``LA/Baseline-LFCC-GMM``
and ``LA/Baseline-CQCC-GMM`` (MATLAB, with Python ports). Two diagonal-covariance GMMs of
512 components are trained with EM (``vl_gmm``, at most 10 iterations), one on bona fide
and one on spoofed training frames; an utterance's score is the log-likelihood ratio

    llr = mean_t log p(x_t | bona fide) - mean_t log p(x_t | spoof)

(higher = more bona fide). Front-ends (``voxlab.features.functional``, settings in
:data:`FRONT_END_PRESETS`): LFCC for B02 (30 ms frames, 70 linear filters over 0-4 kHz,
19 cepstra with c0, deltas, double deltas: 57 dims), CQCC for B01 (12 bins per octave,
62.5 Hz-4 kHz, 19 cepstra plus c0, ``'ZsdD'``: 60 dims).

As an ``nn.Module`` the countermeasure takes a waveform batch and returns logits in the
official order ``[spoof, bona fide]`` as ``[0, llr]``: the bona fide logit (index 1) is the
official score, the logit difference is the LLR, and the softmax is the bona fide
posterior ``sigmoid(llr)`` at equal priors.

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

Parameters are buffers, so ``state_dict`` checkpoints hold the fitted models;
:meth:`GMMCountermeasure.save` / :func:`load_gmm_countermeasure` write and read one
safetensors file with the config as JSON metadata.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from voxlab.errors import CheckpointError, ConfigError, DataError, SmallDataWarning
from voxlab.models.registry import register_model

__all__ = [
    "FRONT_END_PRESETS",
    "DiagonalGMM",
    "GMMConfig",
    "GMMCountermeasure",
    "build_cqcc_gmm",
    "build_lfcc_gmm",
    "load_gmm_countermeasure",
]

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


# --------------------------------------------------------------------------- countermeasure

_CQCC_2021_LA = dict(
    bins_per_octave=12, fmin=62.5, fmax=4000.0, uniform_samples=16, n_ceps=19,
    include_c0=True, with_deltas=True, delta_half_width=3,
)  # fmt: skip

#: Front-end settings of the ASVspoof GMM baselines (16 kHz input).
FRONT_END_PRESETS: dict[str, tuple[str, dict]] = {
    # 2021 LA/DF: lfcc_bp(x, fs, 30, 1024, 70, 19, 0, 4000): 57 dims
    "asvspoof2021_la_lfcc": ("lfcc", {"preset": "asvspoof2021_la_gmm"}),
    # 2021 LA/DF: cqcc(x, fs, 12, 4000, 62.5, 16, 19, 'ZsdD'): 60 dims
    "asvspoof2021_la_cqcc": ("cqcc", _CQCC_2021_LA),
    # 2021 PA: the same CQCC up to 8 kHz
    "asvspoof2021_pa_cqcc": ("cqcc", {**_CQCC_2021_LA, "fmax": 8000.0}),
    # 2019 LA/PA: extract_lfcc(x, fs, 20, 512, 20): 60 dims
    "asvspoof2019_lfcc": ("lfcc", {"preset": "asvspoof2019_gmm"}),
    # 2019 LA/PA: cqcc(x, fs, 96, fs/2, fs/2^10, 16, 29, 'ZsdD'): 90 dims
    "asvspoof2019_cqcc": (
        "cqcc",
        {**_CQCC_2021_LA, "bins_per_octave": 96, "fmin": 15.625, "fmax": 8000.0, "n_ceps": 29},
    ),
}


def _front_end_kwargs(name: str) -> tuple[str, dict]:
    kind, kwargs = FRONT_END_PRESETS[name]
    if kind == "lfcc":
        from voxlab.features.functional import LFCC_PRESETS

        return kind, dict(LFCC_PRESETS[kwargs["preset"]])
    return kind, dict(kwargs)


@dataclass(frozen=True)
class GMMConfig:
    """Hyper-parameters of a GMM countermeasure (defaults: ASVspoof 2021 LA LFCC-GMM).

    Attributes:
        front_end: Key of :data:`FRONT_END_PRESETS`.
        sample_rate: Input sample rate in Hz.
        n_components: Components per GMM (official: 512).
        n_iter: Maximum EM iterations (official: 10).
        var_floor: Variance floor as a fraction of each feature dimension's variance.
    """

    front_end: str = "asvspoof2021_la_lfcc"
    sample_rate: int = 16000
    n_components: int = 512
    n_iter: int = 10
    var_floor: float = 1e-4

    def __post_init__(self) -> None:
        if self.front_end not in FRONT_END_PRESETS:
            raise ConfigError(
                f"GMMConfig.front_end {self.front_end!r} is unknown; "
                f"choose one of {sorted(FRONT_END_PRESETS)}"
            )
        for name in ("sample_rate", "n_components", "n_iter"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"GMMConfig.{name} must be a positive int, got {value!r}")
        if not 0.0 <= self.var_floor < 1.0:
            raise ConfigError(f"GMMConfig.var_floor must be in [0, 1), got {self.var_floor!r}")

    @property
    def feature_dim(self) -> int:
        """Dimension of the front-end features (57 for LFCC, 60 for CQCC)."""
        kind, kw = _front_end_kwargs(self.front_end)
        if kind == "lfcc":
            static = kw["n_lfcc"]
        else:
            static = kw["n_ceps"] + (1 if kw["include_c0"] else 0)
        return static * (3 if kw["with_deltas"] else 1)


class GMMCountermeasure(nn.Module):
    """Two-GMM countermeasure (bona fide vs spoof) with its front-end inside.

    Args:
        config: Hyper-parameters; see :class:`GMMConfig`.

    Submodules: ``bonafide`` and ``spoof`` (:class:`DiagonalGMM`); their parameters are
    buffers, so ``state_dict()`` holds the trained model.

    Shape:
        Input: ``(batch, time)`` float waveform at ``config.sample_rate`` (``(batch, 1,
        time)`` accepted), whole utterances (the baselines do not crop).
        Output: ``(batch, 2)`` logits ``[0, llr]`` in the order ``[spoof, bona fide]``.
    """

    #: The GMM baselines score whole utterances (voxlab.detection reads this).
    default_policy = "full"

    def __init__(self, config: GMMConfig | None = None) -> None:
        super().__init__()
        cfg = config if config is not None else GMMConfig()
        self.config = cfg
        self.feature_dim = cfg.feature_dim
        self.bonafide = DiagonalGMM(cfg.n_components, self.feature_dim)
        self.spoof = DiagonalGMM(cfg.n_components, self.feature_dim)

    @property
    def is_fitted(self) -> bool:
        """Whether both GMMs hold trained (or loaded) parameters."""
        return bool(self.bonafide.fitted) and bool(self.spoof.fitted)

    def extract_features(self, waveform: Tensor) -> Tensor:
        """Front-end features, computed in float64 like the official MATLAB code.

        Shape:
            Input: ``(time,)`` or ``(batch, time)``.
            Output: ``(frames, dim)`` or ``(batch, frames, dim)`` (float64).
        """
        from voxlab.features.functional import cqcc, lfcc

        kind, kwargs = _front_end_kwargs(self.config.front_end)
        x = waveform.detach().to(torch.float64)
        fn = lfcc if kind == "lfcc" else cqcc
        feats = fn(x, sample_rate=self.config.sample_rate, **kwargs)
        return feats.transpose(-1, -2)

    @torch.no_grad()
    def fit(
        self,
        bonafide_features: Tensor | Sequence[Tensor],
        spoof_features: Tensor | Sequence[Tensor],
        *,
        seed: int = 0,
        **em_options: float,
    ) -> dict[str, list[float]]:
        """Train both GMMs by EM on front-end features.

        Args:
            bonafide_features: ``(frames, dim)`` matrices of bona fide utterances (or one
                stacked matrix), e.g. from :meth:`extract_features`.
            spoof_features: The same for spoofed utterances.
            seed: Initialisation seed (the spoof GMM uses ``seed + 1``).
            **em_options: Extra :meth:`DiagonalGMM.fit` options (``tol``, ``init_frames``,
                ``kmeans_iter``, ``chunk_size``).

        Returns:
            ``{"bonafide": history, "spoof": history}`` of mean frame log-likelihoods.
        """
        common = {"n_iter": self.config.n_iter, "var_floor": self.config.var_floor}
        common.update(em_options)
        return {
            "bonafide": self.bonafide.fit(bonafide_features, seed=seed, **common),
            "spoof": self.spoof.fit(spoof_features, seed=seed + 1, **common),
        }

    def score_features(self, features: Tensor) -> Tensor:
        """Official score: mean frame log-likelihood ratio, bona fide minus spoof.

        Shape:
            Input: ``(batch, frames, dim)`` or ``(frames, dim)``.
            Output: ``(batch,)`` or ``()`` (float64).
        """
        if not self.is_fitted:
            raise CheckpointError(
                "this GMM countermeasure is untrained; call fit(bonafide, spoof) or load "
                "a trained model with load_gmm_countermeasure(path)"
            )
        single = features.dim() == 2
        feats = features.unsqueeze(0) if single else features
        if feats.dim() != 3 or feats.shape[-1] != self.feature_dim:
            raise DataError(
                f"expected features shaped (batch, frames, {self.feature_dim}), "
                f"got {tuple(features.shape)}"
            )
        batch, frames, dim = feats.shape
        flat = feats.reshape(batch * frames, dim)
        llr = self.bonafide.log_likelihood(flat) - self.spoof.log_likelihood(flat)
        scores = llr.reshape(batch, frames).mean(dim=1)
        return scores[0] if single else scores

    def forward(self, waveform: Tensor) -> Tensor:
        """Score a batch of waveforms.

        Returns:
            Logits ``[0, llr]`` per item (``[spoof, bona fide]``), in the input dtype.

        Shape:
            Input: ``(batch, time)`` or ``(batch, 1, time)``. Output: ``(batch, 2)``.
        """
        x = waveform
        if x.dim() == 3 and x.shape[1] == 1:
            x = x.squeeze(1)
        if x.dim() != 2:
            raise DataError(
                f"GMM countermeasure expects waveforms shaped (batch, time), got "
                f"{tuple(waveform.shape)}"
            )
        llr = self.score_features(self.extract_features(x)).to(waveform.dtype)
        return torch.stack([torch.zeros_like(llr), llr], dim=1)

    def save(self, path: str | Path) -> Path:
        """Write the trained GMMs and the config to one safetensors file.

        The config is stored as JSON in the file's metadata (``"voxlab_config"``).
        """
        from voxlab.models.stable_save import save_safetensors

        if not self.is_fitted:
            raise CheckpointError("refusing to save an untrained GMM countermeasure; fit it first")
        path = Path(path)
        tensors = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        meta = {
            "voxlab_model": "gmm",
            "voxlab_config": json.dumps(dataclasses.asdict(self.config), sort_keys=True),
        }
        save_safetensors(tensors, path, metadata=meta)
        return path


def load_gmm_countermeasure(path: str | Path) -> GMMCountermeasure:
    """Load a model written by :meth:`GMMCountermeasure.save`.

    Raises:
        CheckpointError: Missing or unreadable file, or contents that do not describe a
            GMM countermeasure.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"GMM model file {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = fh.metadata() or {}
        tensors = load_file(str(path))
    except Exception as exc:  # safetensors raises several unrelated types
        raise CheckpointError(f"{path} is not a readable safetensors file: {exc}") from exc
    if meta.get("voxlab_model") != "gmm" or "voxlab_config" not in meta:
        raise CheckpointError(
            f"{path} is not a voxlab GMM countermeasure (no 'voxlab_config' metadata); "
            "write it with GMMCountermeasure.save"
        )
    try:
        config = GMMConfig(**json.loads(meta["voxlab_config"]))
    except (TypeError, ValueError, ConfigError) as exc:
        raise CheckpointError(f"{path}: invalid stored config: {exc}") from exc
    model = GMMCountermeasure(config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: tensors do not match the stored config: {exc}") from exc
    return model


@register_model(
    "lfcc-gmm",
    config=GMMConfig(),
    description="LFCC-GMM (ASVspoof 2021 baseline B02): bona fide/spoof GMMs, trained by fit()",
)
def build_lfcc_gmm(config: GMMConfig) -> GMMCountermeasure:
    """Build an untrained LFCC-GMM countermeasure."""
    return GMMCountermeasure(config)


@register_model(
    "cqcc-gmm",
    config=GMMConfig(front_end="asvspoof2021_la_cqcc"),
    description="CQCC-GMM (ASVspoof 2021 baseline B01): bona fide/spoof GMMs, trained by fit()",
)
def build_cqcc_gmm(config: GMMConfig) -> GMMCountermeasure:
    """Build an untrained CQCC-GMM countermeasure."""
    return GMMCountermeasure(config)
