"""Scan output: ``results.jsonl`` (streamed, crash-safe, resumable) and ``results.parquet``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from voxlab.detection.results import read_done

JSONL_NAME = "results.jsonl"
PARQUET_NAME = "results.parquet"


class ScanOutput:
    """The output folder of a scan.

    Rows are appended to ``results.jsonl`` and flushed one by one, so a crash keeps every
    finished row; on resume the files whose last row is ``ok`` are skipped and errors are
    retried. :meth:`finish` writes ``results.parquet`` with the last row of every file.

    Args:
        folder: Output folder (created).
        resume: Keep earlier rows and skip their files (else start afresh).
    """

    def __init__(self, folder: str | os.PathLike, *, resume: bool = True) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jsonl = self.folder / JSONL_NAME
        self.parquet = self.folder / PARQUET_NAME
        self.done: set[str] = read_done(self.jsonl, "jsonl") if resume else set()
        self._handle = open(self.jsonl, "a" if resume else "w", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        """Append one row and flush it."""
        self._handle.write(json.dumps(row) + "\n")
        self._handle.flush()

    def write_many(self, rows: Iterable[dict[str, Any]]) -> int:
        """Append rows; returns how many."""
        count = 0
        for row in rows:
            self._handle.write(json.dumps(row) + "\n")
            count += 1
        self._handle.flush()
        return count

    def close(self) -> None:
        """Close the JSONL file."""
        if not self._handle.closed:
            self._handle.close()

    def finish(self) -> Path:
        """Close and write ``results.parquet`` (last row per file, in first-seen order)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.close()
        last: dict[str, dict[str, Any]] = {}
        with open(self.jsonl, encoding="utf-8") as handle:
            for line in handle:
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by a crash
                    continue
                last[row["path"]] = row
        rows = [_flat(r) for r in last.values()]
        table = pa.Table.from_pylist(rows, schema=_schema(rows))
        tmp = self.parquet.with_suffix(".parquet.tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, self.parquet)
        return self.parquet


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Parquet-friendly row: logits split, nested values as JSON text."""
    out = dict(row)
    logits = out.pop("logits", None) or [None, None]
    out["logit_spoof"], out["logit_bonafide"] = logits
    for key in ("segments", "watermark"):
        if key in out:
            out[key] = None if out[key] is None else json.dumps(out[key])
    return out


def _schema(rows: list[dict[str, Any]]):
    import pyarrow as pa

    types = {
        "path": pa.string(), "status": pa.string(), "score": pa.float64(),
        "p_spoof": pa.float64(), "verdict": pa.string(), "threshold": pa.float64(),
        "duration": pa.float64(), "model": pa.string(), "policy": pa.string(),
        "score_min": pa.float64(), "logit_spoof": pa.float64(), "logit_bonafide": pa.float64(),
        "error": pa.string(), "segments": pa.string(), "watermark": pa.string(),
    }  # fmt: skip
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in names]
    for name in types:
        if name not in names and name in ("path", "status", "score", "error"):
            names.append(name)
    fields = []
    for name in names:
        kind = types.get(name)
        if kind is None:  # a field voxlab added later: let Arrow infer it
            kind = pa.array([row.get(name) for row in rows]).type
            kind = pa.string() if pa.types.is_null(kind) else kind
        fields.append((name, kind))
    return pa.schema(fields)
