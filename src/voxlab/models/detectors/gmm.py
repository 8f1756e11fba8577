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

EM lives in :class:`~voxlab.models.layers.diagonal_gmm.DiagonalGMM` (re-exported here). The
official models were trained with VLFeat's ``vl_gmm`` and its own initialisation, so a model
trained here is equivalent, not bit-identical.

Parameters are buffers, so ``state_dict`` checkpoints hold the fitted models;
:meth:`GMMCountermeasure.save` / :func:`load_gmm_countermeasure` write and read one
safetensors file with the config as JSON metadata.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from voxlab.errors import CheckpointError, ConfigError, DataError
from voxlab.models.layers.diagonal_gmm import DiagonalGMM
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
