"""voxlab's main job end to end, offline: ``voxlab demo`` / ``make demo``.

Real human speech (Debian-packaged recordings, :mod:`voxlab.data.sources`) against
today's spoofs (neural and classic TTS, copy-synthesis, voice conversion) in a small
voxlab-wild corpus; two countermeasures trained here, the published ones found locally
and voxlab's shipped ``voxlab-wild`` model scored on held-out speakers, sources and
systems; a report with trial counts, confidence intervals and calibrated verdicts.

Example:
    >>> from voxlab.demo import run_demo
    >>> result = run_demo("runs/demo", size="small")
    >>> result.report
    PosixPath('runs/demo/report.md')
"""

from voxlab.demo.plan import SIZES, DemoSize, size_for
from voxlab.demo.run import DemoResult, installed_sources, run_demo

__all__ = ["SIZES", "DemoResult", "DemoSize", "installed_sources", "run_demo", "size_for"]
