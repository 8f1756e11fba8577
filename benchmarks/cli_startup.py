"""CLI start-up: wall time of `voxlab --help`, of every `voxlab CMD --help`, and of
`voxlab watermark detect` on a 5-s file beside the in-process detection time.

Each command runs as a fresh process (what a script calling voxlab pays); medians over
--repeats runs. Targets: every --help under 0.3 s; `watermark detect` of a 5-s file
under 1 s.

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --repeats 7 --commands detect,serve
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VOXLAB = [sys.executable, "-m", "voxlab"]


def wall(args: list[str], repeats: int) -> float:
    """Median wall time (s) of running ``voxlab ARGS`` as a new process."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([*VOXLAB, *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def command_paths() -> list[list[str]]:
    """Every command and sub-command of the CLI, as argument lists."""
    import click
    import typer

    from voxlab.cli.main import app

    def walk(group, prefix: list[str]):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            yield [*prefix, name]
            if hasattr(command, "list_commands"):  # a group (typer vendors its own click)
                yield from walk(command, [*prefix, name])

    return list(walk(typer.main.get_command(app), []))


def watermark_case(repeats: int) -> tuple[float, float]:
    """(CLI wall time, in-process wall time) of detecting the watermark in a 5-s file."""
    from voxlab.audio import save
    from voxlab.watermark import WatermarkKey, detect, embed
    from voxlab.watermark.signals import speech

    key = WatermarkKey.from_passphrase("cli start-up benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        audio = embed(speech(5.0, seed=1), 16_000, key, payload=0x1234ABCD)
        path = save(Path(tmp) / "marked.flac", audio, 16_000)
        key_file = Path(tmp) / "bench.key"
        key.save(key_file)
        cli = wall(["watermark", "detect", str(path), "--key", str(key_file)], repeats)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            detect(audio, 16_000, key)
            times.append(time.perf_counter() - start)
    return cli, statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--commands", help="comma-separated top-level commands (default: all)")
    args = parser.parse_args()
    paths = command_paths()
    if args.commands:
        keep = set(args.commands.split(","))
        paths = [p for p in paths if p[0] in keep]
    python = statistics.median(_time([sys.executable, "-c", "pass"]) for _ in range(args.repeats))
    print(f"python -c pass (interpreter floor): {python:.3f} s")
    rows = [("voxlab --help", wall(["--help"], args.repeats))]
    rows += [(f"voxlab {' '.join(p)} --help", wall([*p, "--help"], args.repeats)) for p in paths]
    width = max(len(name) for name, _ in rows)
    for name, seconds in rows:
        flag = "MET " if seconds < 0.3 else "MISS"
        print(f"  [{flag}] {name:<{width}}  {seconds:.3f} s")
    worst = max(rows, key=lambda r: r[1])
    print(f"slowest --help: {worst[0]} {worst[1]:.3f} s (target < 0.3 s)")
    cli, inproc = watermark_case(args.repeats)
    flag = "MET " if cli < 1.0 else "MISS"
    print(
        f"[{flag}] voxlab watermark detect, 5-s file: {cli:.3f} s wall (target < 1 s); "
        f"in-process detect {inproc:.3f} s; start-up overhead {cli - inproc:.3f} s "
        f"({cli / inproc:.1f}x the in-process time)"
    )
    return 0


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
