"""Published countermeasure checkpoints: lookup, download, cache and loading.

The entries themselves (names, URLs, checksums, licences, results, thresholds) are the
data of :mod:`voxlab.catalogue`, re-exported here.

**Lookup order** (:func:`resolve_checkpoint`): an explicit path; ``$VOXLAB_MODEL_DIR/<file>``;
the cache ``$VOXLAB_HOME/models/<file>`` (default ``~/.cache/voxlab``); else a download
from the public URL (streamed to a temporary file, sha256-verified, renamed atomically).
``$VOXLAB_DOWNLOAD_BASE`` replaces the URL's ``https://github.com`` origin (mirrors, tests).
Entries without a published checksum (the SSL models, shared as Google Drive folders) are
never downloaded: the error says where to get the file and where to put it.

**Local entries.** ``voxlab models add NAME --checkpoint FILE --arch ARCH`` (:func:`add_local`)
registers a file of your own under a name, in ``$VOXLAB_HOME/models/local.json``; it is then
listed and used like a published entry (its sha256 is recorded when it is added).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path

from torch import nn

from voxlab.catalogue import DEFAULT_MODEL, PACKAGE_SCHEME, PRETRAINED, PretrainedEntry
from voxlab.catalogue import GITHUB as _GITHUB
from voxlab.errors import CheckpointError, ConfigError

__all__ = ["DEFAULT_MODEL", "PACKAGE_SCHEME", "PRETRAINED", "PretrainedEntry"]

_CHUNK = 1 << 16
DEFAULT_TIMEOUT_S = 30.0
LOCAL_INDEX = "local.json"


def _local_index() -> Path:
    return cache_dir() / LOCAL_INDEX


def _local_entries() -> dict[str, PretrainedEntry]:
    path = _local_index()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {name: PretrainedEntry(**fields) for name, fields in data.items()}
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"cannot read the local model index {path}: {exc}. Fix or delete the file and "
            "add the models again with `voxlab models add`."
        ) from exc


def add_local(
    name: str,
    checkpoint: str | os.PathLike,
    *,
    arch: str,
    ssl_config: str | os.PathLike | None = None,
    threshold: float = 0.0,
    check: bool = True,
) -> PretrainedEntry:
    """Register a local checkpoint file under ``name`` (``voxlab models add``).

    Args:
        name: New catalogue name (must not shadow a published entry).
        checkpoint: The checkpoint file (official layout or voxlab's).
        arch: Registry architecture of the file (``voxlab models list`` shows them).
        ssl_config: Front-end config JSON for SSL models whose size the shapes don't fix.
        threshold: Verdict threshold on the score.
        check: Load the file once to make sure it fits ``arch``.

    Returns:
        The new entry (the index file records its absolute path and sha256).

    Raises:
        ConfigError: Name taken by a published entry, unknown architecture.
        CheckpointError: Missing file, or a file that does not load as ``arch``.
    """
    from voxlab.models.registry import available_models

    if name in PRETRAINED:
        raise ConfigError(f"{name!r} is a published model; choose another name")
    if arch not in available_models():
        raise ConfigError(f"unknown architecture {arch!r}; known: {', '.join(available_models())}")
    path = Path(checkpoint).expanduser().resolve()
    if not path.is_file():
        raise CheckpointError(f"checkpoint file not found: {path}; pass an existing file")
    config = str(Path(ssl_config).expanduser().resolve()) if ssl_config is not None else None
    entry = PretrainedEntry(
        name=name,
        model=arch,
        filename=path.name,
        url=path.as_uri(),
        sha256=sha256_of(path),
        license="unknown (local file)",
        training_data="unknown (local file)",
        reported="",
        eer_percent=None,
        min_tdcf=None,
        threshold=float(threshold),
        threshold_source="given when the file was added",
        source=str(path),
        size=f"{path.stat().st_size} bytes",
        ssl_config=config,
    )
    if check:
        _load_entry(entry, path)
    local = {n: asdict(e) for n, e in _local_entries().items()}
    local[name] = asdict(entry)
    index = _local_index()
    index.parent.mkdir(parents=True, exist_ok=True)
    tmp = index.with_suffix(".tmp")
    tmp.write_text(json.dumps(local, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, index)
    return entry


def names() -> list[str]:
    """Catalogue names, in catalogue order (published, then local ones)."""
    return [*PRETRAINED, *(n for n in _local_entries() if n not in PRETRAINED)]


def list_entries() -> list[PretrainedEntry]:
    """All catalogue entries, in catalogue order (published, then local ones)."""
    return [get_entry(n) for n in names()]


def get_entry(name: str) -> PretrainedEntry:
    """The entry called ``name``.

    Raises:
        ConfigError: Unknown name; the message lists the known ones.
    """
    if name in PRETRAINED:
        return PRETRAINED[name]
    local = _local_entries()
    if name in local:
        return local[name]
    raise ConfigError(f"unknown pretrained model {name!r}; known: {', '.join(names())}")


def voxlab_home() -> Path:
    """``$VOXLAB_HOME`` or ``~/.cache/voxlab``."""
    return Path(os.environ.get("VOXLAB_HOME") or Path.home() / ".cache" / "voxlab").expanduser()


def cache_dir() -> Path:
    """Where downloaded checkpoints are kept: ``<voxlab_home>/models``."""
    return voxlab_home() / "models"


def download_url(entry: PretrainedEntry, *, base_url: str | None = None) -> str:
    """The URL to fetch ``entry`` from, with ``base_url``/``$VOXLAB_DOWNLOAD_BASE`` applied."""
    base = base_url or os.environ.get("VOXLAB_DOWNLOAD_BASE")
    if base and entry.url.startswith(_GITHUB):
        return base.rstrip("/") + entry.url[len(_GITHUB) :]
    return entry.url


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _candidates(entry: PretrainedEntry) -> list[Path]:
    paths = []
    model_dir = os.environ.get("VOXLAB_MODEL_DIR")
    if model_dir:
        paths.append(Path(model_dir).expanduser() / entry.filename)
    paths.append(cache_dir() / entry.filename)
    return paths


def resolve_checkpoint(
    name: str,
    *,
    checkpoint: str | os.PathLike | None = None,
    download: bool = True,
    base_url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    progress: bool = True,
) -> Path:
    """Find (or fetch) the checkpoint file of catalogue entry ``name``.

    Args:
        name: Catalogue name.
        checkpoint: Explicit file; used as is (it must exist).
        download: Allow downloading when no local copy exists.
        base_url: Replaces ``https://github.com`` in the entry's URL.
        timeout: Socket timeout of the download, in seconds.
        progress: Show a tqdm progress bar while downloading.

    Returns:
        Path of a local checkpoint file.

    Raises:
        ConfigError: Unknown name.
        CheckpointError: Explicit file missing; no local copy and downloading disabled or
            failed (the message says where to put the file and the URL to get it from).
    """
    entry = get_entry(name)
    if checkpoint is not None:
        path = Path(checkpoint).expanduser()
        if not path.is_file():
            raise CheckpointError(f"checkpoint file for {name!r} not found: {path}")
        return path
    if entry.is_packaged:
        return packaged_path(entry)
    if entry.is_local:
        path = Path(urllib.request.url2pathname(entry.url[len("file://") :]))
        if not path.is_file():
            raise CheckpointError(
                f"the file registered as {name!r} is gone: {path}. Register it again with "
                f"`voxlab models add {name} --checkpoint FILE --arch {entry.model}`."
            )
        return path
    candidates = _candidates(entry)
    for path in candidates:
        if path.is_file():
            return path
    url = download_url(entry, base_url=base_url)
    where = " or ".join(str(p) for p in candidates)
    if not entry.sha256:
        raise CheckpointError(
            f"no local copy of {name!r}, and its authors publish it only as a shared folder "
            f"(no checksum, no direct link): download {entry.filename} by hand from {url}, "
            f"then put it at {where}, pass --checkpoint FILE, or register it with "
            f"`voxlab models add NAME --checkpoint FILE --arch {entry.model}`"
        )
    hint = (
        f"run `voxlab models pull {name}` (downloads into {cache_dir()}), "
        f"or set VOXLAB_MODEL_DIR to a folder holding {entry.filename}"
    )
    if not download:
        raise CheckpointError(
            f"no local copy of {name!r}: put {entry.filename} at {where} "
            f"(download it from {url}, sha256 {entry.sha256}), {hint}, or allow downloading"
        )
    try:
        return _download(entry, url, cache_dir() / entry.filename, timeout, progress)
    except CheckpointError as exc:
        raise CheckpointError(
            f"{exc}. Without network access, download {url} elsewhere and put it at {where}, "
            f"or set VOXLAB_MODEL_DIR to a folder holding {entry.filename}"
        ) from exc


def packaged_path(entry: PretrainedEntry) -> Path:
    """The file of a packaged entry (``package:voxlab.models/weights/x.pth``), inside the install.

    Raises:
        CheckpointError: The file is missing from this install (a broken or partial install).
    """
    from importlib.resources import files

    module, _, inner = entry.url[len(PACKAGE_SCHEME) :].partition("/")
    path = Path(str(files(module).joinpath(inner)))
    if not path.is_file():
        raise CheckpointError(
            f"the weights of {entry.name!r} ship inside voxlab, but {path} is missing from this "
            "install; reinstall voxlab (`make install` or `pip install -e .`)"
        )
    return path


def _download(
    entry: PretrainedEntry, url: str, target: Path, timeout: float, progress: bool
) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{entry.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        received = 0
        expected = None
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "voxlab"})
            with urllib.request.urlopen(request, timeout=timeout) as response:
                expected = int(response.headers.get("Content-Length") or 0) or None
                bar = _progress_bar(entry.filename, expected, progress)
                try:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        received += len(chunk)
                        if bar is not None:
                            bar.update(len(chunk))
                finally:
                    if bar is not None:
                        bar.close()
        if expected is not None and received != expected:
            raise CheckpointError(
                f"download of {url} was cut off: got {received} of {expected} bytes"
            )
        if digest.hexdigest() != entry.sha256:
            raise CheckpointError(
                f"download of {url} has sha256 {digest.hexdigest()}, expected {entry.sha256} "
                "(corrupt transfer or a changed file upstream); nothing was cached"
            )
        os.replace(tmp, target)
        return target
    except CheckpointError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        if isinstance(exc, http.client.IncompleteRead):
            reason = f"the transfer was cut off ({exc!r})"
        elif isinstance(exc, urllib.error.HTTPError):
            reason = f"HTTP {exc.code} {exc.reason}"
        else:
            reason = getattr(exc, "reason", None) or exc
        raise CheckpointError(f"cannot download {url}: {reason}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _progress_bar(name: str, total: int | None, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {name}", leave=False)


def pull(name: str, **kwargs) -> Path:
    """Make sure ``name`` is available locally (downloading if needed); return its path.

    Keyword arguments are those of :func:`resolve_checkpoint`.
    """
    return resolve_checkpoint(name, **kwargs)


def load_pretrained(
    name: str,
    *,
    checkpoint: str | os.PathLike | None = None,
    download: bool = True,
    verify: bool = False,
    **kwargs,
) -> nn.Module:
    """Build catalogue model ``name`` with its published weights, in eval mode.

    Args:
        name: Catalogue name.
        checkpoint: Explicit checkpoint file (official layout or voxlab's).
        download: Allow downloading when no local copy exists.
        verify: Also check the local file's sha256 against the catalogue.
        **kwargs: Passed to :func:`resolve_checkpoint` (``base_url``, ``timeout``, ...).

    Raises:
        CheckpointError: Missing, unsafe, corrupt or mismatching checkpoint.
    """
    entry = get_entry(name)
    path = resolve_checkpoint(name, checkpoint=checkpoint, download=download, **kwargs)
    if verify and entry.sha256 and sha256_of(path) != entry.sha256:
        raise CheckpointError(
            f"{path} has sha256 {sha256_of(path)}, not the published {entry.sha256} of "
            f"{name!r}; delete it and download it again from {entry.url}"
        )
    return _load_entry(entry, path)


def _load_entry(entry: PretrainedEntry, path: Path) -> nn.Module:
    from voxlab.models.checkpoints import load_checkpoint_into
    from voxlab.models.registry import build_model, get_spec

    loader = get_spec(entry.model).checkpoint_loader
    if loader is not None:  # sized from the file (the SSL models)
        return loader(path, ssl_config=entry.ssl_config).eval()
    model = build_model(entry.model)
    load_checkpoint_into(model, path)
    return model.eval()
