"""Scanning many files: the local detect path or a Ray Data pipeline, same results.

``voxlab scan`` reads files or a manifest, runs :class:`~voxlab.detection.Detector`
(optionally watermark detection too) and writes JSONL and Parquet, resumably. With
``engine="ray"`` decoding runs as parallel Ray tasks and inference in an actor pool; the
scoring and the row format are the library's own (no scoring code here).
"""

from voxlab.scale.scan import ScanOptions, ScanSummary, scan

__all__ = ["ScanOptions", "ScanSummary", "scan"]
