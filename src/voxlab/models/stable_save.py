"""safetensors files whose bytes depend only on their contents.

``safetensors.torch.save_file`` passes the metadata through a hash map, so a file with two
or more metadata entries is written with those entries in a different order from one
process to the next: the same weights, retrained bit for bit by ``voxlab train``, got
another sha256 (seen with voxlab-wild: all 204 tensors equal, the header's
``{"format", "model"}`` swapped). :func:`save_safetensors` writes the file, then rewrites
the header with the metadata keys sorted. The header keeps its length (the same JSON with
its keys reordered), so the tensor data is not moved, and any safetensors reader loads the
file as before.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import torch

_META = "__metadata__"


def canonicalise_header(path: str | os.PathLike) -> None:
    """Sort the ``__metadata__`` entries of a safetensors file's header, in place.

    Raises:
        ValueError: The file is not a safetensors file.
    """
    path = Path(path)
    with open(path, "r+b") as handle:
        prefix = handle.read(8)
        if len(prefix) != 8:
            raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (length,) = struct.unpack("<Q", prefix)
        raw = handle.read(length)
        if len(raw) != length:
            raise ValueError(f"{path}: not a safetensors file (truncated header)")
        header = json.loads(raw)
        if not isinstance(header, dict) or _META not in header:
            return
        header[_META] = dict(sorted(header[_META].items()))
        header = {_META: header.pop(_META), **header}
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
        if len(text) > length:  # cannot happen for a reordering; never move the data
            raise ValueError(f"{path}: canonical header longer than the original")
        handle.seek(8)
        handle.write(text + b" " * (length - len(text)))


def save_safetensors(
    tensors: Mapping[str, torch.Tensor],
    path: str | os.PathLike,
    *,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """``safetensors.torch.save_file`` with a deterministic header (sorted metadata).

    Args:
        tensors: Name -> contiguous CPU tensor.
        path: Target file.
        metadata: String -> string facts stored in the header.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.
    """
    from safetensors.torch import save_file

    path = Path(path)
    save_file(dict(tensors), str(path), metadata=dict(metadata) if metadata else None)
    canonicalise_header(path)
    return path
