"""Load test of ``voxlab serve`` and ``voxlab scan --engine ray`` (loopback only, bounded).

Parts (``--parts``, default all):

- model:      model-only rate of the ``voxlab detect`` path (Detector.score_files) in this
              process on 4-s clips, with torch's default threads and with one thread:
              files/s (median of --repeats runs); the faster one is the baseline.
- throughput: the real server (subprocess on 127.0.0.1), --clients concurrent clients
              posting the same clips to /v1/detect: files/s, ratio to the baseline,
              p50/p95/p99 latency.
- overload:   open-loop load at --overload x the measured sustainable rate for --seconds,
              plus batch jobs submitted meanwhile: counts of 200/429/other, Retry-After,
              server RSS (bounded?), server alive after, every accepted job complete.
- crash:      a --crash-files job (0.5-s clips, policy full), kill -9 mid-way, restart:
              rows, distinct files, duplicates.
- ray:        voxlab scan on the same clips, local engine vs Ray on a local cluster
              (started here, --num-cpus = this machine's cores): files/s side by side.

Example:
    python benchmarks/service_load.py --model aasist --files 32 --requests 64
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("VOXLAB_FIXTURES", REPO.parent / "shared" / "fixtures"))


def make_clips(folder: Path, n: int, seconds: float, *, seed: int = 0) -> list[Path]:
    """``n`` distinct clips of ``seconds`` cut from the parity speech (gain, offset vary)."""
    from voxlab.audio import load, save

    sources = [load(p, sr=16_000)[0] for p in sorted((FIXTURES / "parity").glob("*.flac"))]
    speech = np.concatenate(sources)
    rng = np.random.default_rng(seed)
    length = int(seconds * 16_000)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        start = int(rng.integers(0, len(speech) - length))
        clip = speech[start : start + length] * float(rng.uniform(0.5, 1.0))
        paths.append(save(folder / f"clip{i:04d}.wav", clip.astype(np.float32), 16_000))
    return paths


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values) * 1000
    return {f"p{q}": round(float(np.percentile(arr, q)), 1) for q in (50, 95, 99)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def part_model(args, clips) -> dict:
    """Model-only files/s of Detector.score_files (the voxlab detect path), per torch threads.

    ``voxlab detect`` runs with torch's default intra-op threads; on a shared, oversubscribed
    machine one thread can be much faster, so both are measured (the server's forward runs
    on a worker thread).
    """
    import torch

    from voxlab.detection import Detector

    detector = Detector.from_pretrained(args.model, download=False, batch_size=args.batch)
    default = torch.get_num_threads()
    out = {"files": len(clips), "batch_size": args.batch}
    for threads in sorted({default, 1}, reverse=True):
        torch.set_num_threads(threads)
        list(detector.score_files(clips[:2]))  # warm-up, as the server's first request is
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            rows = list(detector.score_files(clips))
            rates.append(len(rows) / (time.perf_counter() - start))
            assert all(r.status == "ok" for r in rows)
        out[f"threads_{threads}"] = {
            "files_per_s": round(statistics.median(rates), 3),
            "runs": [round(r, 3) for r in rates],
        }
    torch.set_num_threads(default)
    out["files_per_s"] = max(v["files_per_s"] for k, v in out.items() if k.startswith("threads"))
    return out


def server_env(args, **extra) -> dict[str, str]:
    env = {
        "VOXLAB_MODEL_DIR": str(FIXTURES / "pretrained"),
        "VOXLAB_SERVE_DEFAULT_MODEL": args.model,
        "VOXLAB_SERVE_DOWNLOAD": "false",
        "VOXLAB_SERVE_MAX_BATCH": str(args.batch),
        "VOXLAB_SERVE_MAX_WAIT_MS": str(args.max_wait_ms),
        "VOXLAB_SERVE_QUEUE_SIZE": str(args.queue_size),
        "VOXLAB_SERVE_RATE_LIMIT_PER_MINUTE": "0",  # measure the queue, not the rate limit
    }
    env.update(extra)
    return env


def post_detect(client, token, path: Path):
    start = time.perf_counter()
    response = client.post(
        "/v1/detect", files={"file": (path.name, path.read_bytes())},
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    return response, time.perf_counter() - start


def part_throughput(args, clips, token, server) -> dict:
    import httpx

    requests = [clips[i % len(clips)] for i in range(args.requests)]
    latencies: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    with httpx.Client(base_url=server.url, timeout=600) as warm:
        post_detect(warm, token, clips[0])  # the model is warm; the first batch is too

    def client_loop(index: int) -> None:
        with httpx.Client(base_url=server.url, timeout=600) as client:
            for path in requests[index :: args.clients]:
                response, seconds = post_detect(client, token, path)
                with lock:
                    codes[response.status_code] = codes.get(response.status_code, 0) + 1
                    if response.status_code == 200:
                        latencies.append(seconds)

    start = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(client_loop, range(args.clients)))
    wall = time.perf_counter() - start
    metrics = httpx.get(server.url + "/metrics").text
    count = _metric(metrics, "voxlab_batch_inputs_count")
    return {
        "mean_server_batch": round(_metric(metrics, "voxlab_batch_inputs_sum") / count, 2)
        if count
        else None,
        "clients": args.clients,
        "requests": len(requests),
        "codes": codes,
        "files_per_s": round(len(latencies) / wall, 3),
        "latency_ms": percentiles(latencies),
    }


def _metric(text: str, name: str) -> float:
    """Sum of a metric's series in Prometheus text."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name))


def part_overload(args, clips, token, server, rate: float) -> dict:
    import httpx

    target = args.overload * rate
    interval = 1.0 / target
    codes: dict[int, int] = {}
    retry_after: list[int] = []
    accepted_latency: list[float] = []
    lock = threading.Lock()
    rss = [rss_mb(server.proc.pid)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss.append(rss_mb(server.proc.pid))
            time.sleep(0.5)

    client = httpx.Client(
        base_url=server.url, timeout=600, limits=httpx.Limits(max_connections=256)
    )

    def one(path: Path) -> None:
        try:
            response, seconds = post_detect(client, token, path)
            code = response.status_code
        except httpx.HTTPError:
            code, seconds = -1, 0.0
        with lock:
            codes[code] = codes.get(code, 0) + 1
            if code == 429:
                retry_after.append(int(response.headers.get("Retry-After", "0")))
            elif code == 200:
                accepted_latency.append(seconds)

    headers = {"Authorization": f"Bearer {token}"}
    jobs = []
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(256) as pool:
        n = 0
        while time.perf_counter() - start < args.seconds:
            pool.submit(one, clips[n % len(clips)])
            n += 1
            if n % max(1, int(target * args.seconds / 3)) == 0:  # three jobs meanwhile
                files = [("files", (p.name, p.read_bytes())) for p in clips[:4]]
                reply = client.post("/v1/jobs", files=files, headers=headers)
                jobs.append(reply.json()["id"] if reply.status_code == 202 else reply.status_code)
            time.sleep(max(0.0, start + n * interval - time.perf_counter()))
    sent_s = time.perf_counter() - start
    stop.set()
    alive = client.get("/healthz").status_code == 200
    complete = []
    for job in jobs:
        if not isinstance(job, str):
            complete.append(False)
            continue
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            state = client.get(f"/v1/jobs/{job}", headers=headers).json()
            if state["status"] in ("done", "failed"):
                break
            time.sleep(1)
        rows = client.get(f"/v1/jobs/{job}/results", headers=headers).text.splitlines()
        complete.append(state["status"] == "done" and len(rows) == 4)
    client.close()
    return {
        "target_rate": round(target, 3), "sent": n, "seconds_to_last_answer": round(sent_s, 1),
        "codes": codes, "retry_after_s": sorted(set(retry_after))[:10],
        "accepted_latency_ms": percentiles(accepted_latency) if accepted_latency else None,
        "server_rss_mb": {
            "before": round(rss[0]), "max": round(max(rss)),
            "after": round(rss_mb(server.proc.pid)),
        },
        "server_alive": alive, "jobs_submitted": len(jobs), "jobs_complete": sum(complete),
    }  # fmt: skip


def part_crash(args, workdir: Path) -> dict:
    import httpx

    from voxlab.service.testing import ServerProcess, create_token

    clips = make_clips(workdir / "short", args.crash_files, 0.5, seed=1)
    data = workdir / "crash-data"
    token = create_token(data, "bench")
    headers = {"Authorization": f"Bearer {token}"}
    env = server_env(args, VOXLAB_SERVE_JOB_CHUNK="16")
    server = ServerProcess(data, env=env)
    with server, httpx.Client(base_url=server.url, timeout=600) as client:
        files = [("files", (p.name, p.read_bytes())) for p in clips]
        start = time.perf_counter()
        job = client.post("/v1/jobs", files=files, data={"policy": "full"}, headers=headers)
        job_id = job.json()["id"]
        while True:
            state = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
            if state["done"] >= args.crash_files // 3 or state["status"] == "done":
                break
            time.sleep(0.2)
        server.kill()
    killed_at = state["done"]
    with ServerProcess(data, env=env) as again, httpx.Client(base_url=again.url, timeout=600) as c:
        while c.get(f"/v1/jobs/{job_id}", headers=headers).json()["status"] != "done":
            time.sleep(0.5)
        text = c.get(f"/v1/jobs/{job_id}/results", headers=headers).text
    rows = [json.loads(line) for line in text.splitlines()]
    paths = [r["path"] for r in rows]
    return {"files": args.crash_files, "killed_at_done": killed_at, "rows": len(rows),
            "distinct": len(set(paths)), "duplicates": len(paths) - len(set(paths)),
            "ok": sum(r["status"] == "ok" for r in rows),
            "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip


def part_ray(args, clips, workdir: Path) -> dict:
    from voxlab.scale import ScanOptions, scan
    from voxlab.scale.cluster import local_cluster

    options = ScanOptions(model=args.model, download=False, batch_size=args.batch)
    local = scan(clips, workdir / "scan-local", options=options, resume=False)
    cpus = os.cpu_count() or 2
    with local_cluster(workdir / "ray", num_cpus=cpus) as address:
        remote = scan(clips, workdir / "scan-ray", options=options, engine="ray",
                      address=address, resume=False)  # fmt: skip
    ratio = remote.files_per_s / local.files_per_s
    return {"files": len(clips), "local_files_per_s": round(local.files_per_s, 3),
            "ray_files_per_s": round(remote.files_per_s, 3), "ray_over_local": round(ratio, 3),
            "within_15_percent": abs(ratio - 1) <= 0.15}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="model,throughput,overload,crash,ray")
    parser.add_argument("--model", default="aasist")
    parser.add_argument("--files", type=int, default=32, help="distinct 4-s clips")
    parser.add_argument("--requests", type=int, default=64, help="throughput requests")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batch", type=int, default=16, help="detect batch = server max batch")
    parser.add_argument("--repeats", type=int, default=2, help="model-only runs (median)")
    parser.add_argument("--overload", type=float, default=4.0, help="x sustainable rate")
    parser.add_argument("--seconds", type=float, default=20.0, help="overload duration")
    parser.add_argument("--crash-files", type=int, default=500)
    parser.add_argument("--max-wait-ms", type=float, default=20.0)
    parser.add_argument("--queue-size", type=int, default=32)
    parser.add_argument(
        "--rate", type=float, default=None, help="sustainable files/s when throughput is skipped"
    )
    args = parser.parse_args()
    os.environ.setdefault("VOXLAB_MODEL_DIR", str(FIXTURES / "pretrained"))
    parts = set(args.parts.split(","))
    load = tuple(round(x, 1) for x in os.getloadavg())
    print(f"# service_load {vars(args)} · {os.cpu_count()} CPUs · load {load}", flush=True)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="voxlab-load-") as tmp:
        workdir = Path(tmp)
        clips = make_clips(workdir / "clips", args.files, 4.0)
        if "model" in parts:
            results["model"] = part_model(args, clips)
            print("model-only:", json.dumps(results["model"]), flush=True)
        if parts & {"throughput", "overload"}:
            from voxlab.service.testing import ServerProcess, create_token

            data = workdir / "data"
            token = create_token(data, "bench")
            with ServerProcess(data, env=server_env(args)) as server:
                if "throughput" in parts:
                    results["throughput"] = part_throughput(args, clips, token, server)
                    if "model" in results:
                        base = results["model"]["files_per_s"]
                        results["throughput"]["ratio_to_model_only"] = round(
                            results["throughput"]["files_per_s"] / base, 3
                        )
                    print("throughput:", json.dumps(results["throughput"]), flush=True)
                if "overload" in parts:
                    rate = args.rate or results.get("throughput", {}).get("files_per_s") or 1.0
                    results["overload"] = part_overload(args, clips, token, server, rate)
                    print("overload:", json.dumps(results["overload"]), flush=True)
        if "crash" in parts:
            results["crash"] = part_crash(args, workdir)
            print("crash:", json.dumps(results["crash"]), flush=True)
        if "ray" in parts:
            results["ray"] = part_ray(args, clips, workdir)
            print("ray vs local:", json.dumps(results["ray"]), flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
