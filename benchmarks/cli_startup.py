"""CLI start-up: wall time of `voxlab --help`, of every `voxlab CMD --help`, and of
`voxlab watermark detect` on a 5-s file beside the in-process detection time.

Each command runs as a fresh process (what a script calling voxlab pays); medians over
--repeats runs, of wall time and of CPU time (user + system of the child: on a busy
machine wall time mostly measures the wait for a core, CPU time what the command costs).
Targets: every --help under 0.3 s; `watermark detect` of a 5-s file under 1 s (wall, on a
quiet machine). The load average is printed with the figures.

    python benchmarks/cli_startup.py
    python benchmarks/cli_startup.py --repeats 7 --commands detect,serve
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VOXLAB = [sys.executable, "-m", "voxlab"]


_CPU: dict[str, float] = {}


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall(args: list[str], repeats: int) -> float:
    """Median wall time (s) of running ``voxlab ARGS`` as a new process.

    The median CPU time (user + system) of the same runs goes to ``_CPU[" ".join(args)]``.
    """
    times, cpu = [], []
    for _ in range(repeats):
        c0 = _child_cpu()
        start = time.perf_counter()
        subprocess.run([*VOXLAB, *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        cpu.append(_child_cpu() - c0)
    _CPU[" ".join(args)] = statistics.median(cpu)
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


def watermark_case(repeats: int) -> tuple[float, float, float, float]:
    """CLI wall and CPU time, in-process wall and CPU time of detecting a 5-s file's mark."""
    from voxlab.audio import save
    from voxlab.watermark import WatermarkKey, detect, embed
    from voxlab.watermark.signals import speech

    key = WatermarkKey.from_passphrase("cli start-up benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        audio = embed(speech(5.0, seed=1), 16_000, key, payload=0x1234ABCD)
        path = save(Path(tmp) / "marked.flac", audio, 16_000)
        key_file = Path(tmp) / "bench.key"
        key.save(key_file)
        args = ["watermark", "detect", str(path), "--key", str(key_file)]
        cli = wall(args, repeats)
        detect(audio, 16_000, key)  # warm: the in-process rate is what a library user gets
        times, cpu = [], []
        for _ in range(repeats):
            start, c0 = time.perf_counter(), time.process_time()
            detect(audio, 16_000, key)
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time() - c0)
    return cli, _CPU[" ".join(args)], statistics.median(times), statistics.median(cpu)


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
    print(f"load average {os.getloadavg()}")
    for name, seconds in rows:
        flag = "MET " if seconds < 0.3 else "MISS"
        cpu = _CPU[name.removeprefix("voxlab ")]
        print(f"  [{flag}] {name:<{width}}  {seconds:.3f} s wall, {cpu:.3f} CPU-s")
    worst = max(rows, key=lambda r: r[1])
    print(f"slowest --help: {worst[0]} {worst[1]:.3f} s (target < 0.3 s)")
    cli, cli_cpu, inproc, inproc_cpu = watermark_case(args.repeats)
    flag = "MET " if cli < 1.0 else "MISS"
    print(
        f"[{flag}] voxlab watermark detect, 5-s file: {cli:.3f} s wall, {cli_cpu:.3f} CPU-s "
        f"(target < 1 s wall); in-process detect {inproc:.3f} s wall, {inproc_cpu:.3f} CPU-s; "
        f"the CLI costs {cli_cpu / inproc_cpu:.1f}x the in-process CPU "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    return 0


def _time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - start


if __name__ == "__main__":
    sys.exit(main())
