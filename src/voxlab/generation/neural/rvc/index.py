"""RVC's feature retrieval: pull content features toward the target speaker's own.

An RVC voice may come with ``added_*.index``, a faiss index over the content features
of the training recordings. At conversion each frame's feature is replaced by the
inverse-square-distance weighted mean of its ``k = 8`` nearest training features and
blended with the original: ``index_rate * retrieved + (1 - index_rate) * feats``
(facts from the official pipeline). This reduces timbre leakage from the source speaker.

faiss (``faiss-cpu``) is optional: ``pip install 'voxlab[rvc]'``. Index files are faiss's
own binary format (no pickle).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from voxlab.errors import CheckpointError, ConfigError

#: Neighbours averaged per frame (official value).
NEIGHBOURS = 8


class FeatureIndex:
    """A faiss index with the training features it was built from.

    Args:
        index: A faiss index.
        source: What to call it in messages.

    Attributes:
        vectors: Every indexed feature. Shape: ``(N, C)``.
    """

    def __init__(self, index, *, source: str = "index") -> None:
        self.index = index
        self.source = source
        self.vectors = np.asarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)

    @property
    def dim(self) -> int:
        """Feature width (256 for v1 voices, 768 for v2)."""
        return int(self.index.d)

    @classmethod
    def load(cls, path: str | Path) -> FeatureIndex:
        """Read an ``.index`` file written by RVC (``faiss.write_index``).

        Raises:
            ConfigError: faiss is not installed.
            CheckpointError: The file is missing, not a faiss index, or empty.
        """
        try:
            import faiss
        except ImportError as exc:
            raise ConfigError(
                "using an .index file needs faiss: pip install faiss-cpu (or 'voxlab[rvc]')"
            ) from exc
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"index file not found: {path}. Check the path.")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else "unreadable"
            raise CheckpointError(
                f"{path} is not a faiss index ({detail}). Pass the added_*.index file that "
                "RVC's training wrote for this voice."
            ) from exc
        if index.ntotal == 0:
            raise CheckpointError(f"{path} is an empty faiss index; rebuild it in RVC.")
        try:
            return cls(index, source=str(path))
        except RuntimeError as exc:
            raise CheckpointError(
                f"{path}: the index cannot return its vectors ({exc}); RVC's indexes are "
                "IVF-Flat and can."
            ) from exc

    def retrieve(self, feats: np.ndarray, *, k: int = NEIGHBOURS) -> np.ndarray:
        """Weighted mean of each frame's ``k`` nearest indexed features.

        Args:
            feats: Content features. Shape: ``(T, C)``.
            k: Neighbours per frame.

        Returns:
            Retrieved features. Shape: ``(T, C)``.

        Raises:
            ConfigError: The widths differ (a v1 index with a v2 voice or vice versa).
        """
        feats = np.ascontiguousarray(feats, dtype=np.float32)
        if feats.ndim != 2 or feats.shape[1] != self.dim:
            raise ConfigError(
                f"{self.source} holds {self.dim}-d features but the voice uses "
                f"{feats.shape[-1]}-d ones: the index belongs to another RVC version/voice"
            )
        k = min(k, int(self.index.ntotal))
        distances, ids = self.index.search(feats, k)
        weight = np.square(1.0 / np.maximum(distances, 1e-12))
        weight /= weight.sum(axis=1, keepdims=True)
        return np.sum(self.vectors[ids] * weight[..., None], axis=1, dtype=np.float32)

    def blend(self, feats: np.ndarray, *, rate: float, k: int = NEIGHBOURS) -> np.ndarray:
        """``rate * retrieve(feats) + (1 - rate) * feats``.

        Shape:
            ``(T, C)`` -> ``(T, C)``.
        """
        if not 0.0 <= rate <= 1.0:
            raise ConfigError(f"index rate must be within [0, 1], got {rate}")
        if rate == 0:
            return np.asarray(feats, dtype=np.float32)
        return (rate * self.retrieve(feats, k=k) + (1.0 - rate) * feats).astype(np.float32)
