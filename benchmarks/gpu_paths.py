"""voxlab's GPU paths, checked and timed on a CUDA device: parity, detection speed, training.

CI has no GPU, so this script is what checks the CUDA paths when a machine with one is at
hand. Everything runs in one process and prints one table per part:

1. **Parity on the device.** Each published checkpoint (``shared/fixtures/pretrained``) as
   ``voxlab detect`` runs it (the :class:`~voxlab.detection.Detector` model) and as the
   plain registry model, on the parity inputs of ``shared/fixtures/parity``, batched and
   one item at a time, against the official logits; the bound is the CPU tests' one
   (``1e-5 + 1e-6 |logit|``). Convolutions are run both with PyTorch's default cuDNN
   flags (TF32 allowed on Ampere and later) and in strict float32, to show what TF32
   costs in accuracy.
2. **Detector end to end.** ``Detector.from_pretrained(..., device="cuda")`` scores the
   fixture recordings; the scores are compared with the same detector on the CPU.
3. **Speed.** Utterances per second (4.04-s inputs) at batch 1 and 64 for the official-style
   computation (``benchmarks/_official_style_models.py``), voxlab's plain model and the
   detector's model, medians of 3 alternating rounds, with peak GPU memory.
4. **Training.** The voxlab-wild AASIST-L recipe (published weights, RawBoost; the channel
   augmentation off, because it needs the codecs of the CPU machine's PyAV) runs one
   epoch of :class:`~voxlab.training.trainer.Trainer` on a toy corpus on the device and
   on the CPU: the epoch's wall time (with the dev scoring) on each.

    python benchmarks/gpu_paths.py                          # needs a CUDA device
    python benchmarks/gpu_paths.py --device cpu --quick     # the same code on the CPU
    python benchmarks/gpu_paths.py --fixtures DIR --parts parity,speed
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _official_style_models import load_official_aasist, load_official_rawgat_st
from voxlab import pretrained
from voxlab.models.checkpoints import load_checkpoint_into
from voxlab.models.registry import build_model

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures"
ATOL, RTOL = 1e-5, 1e-6
MODELS = ["aasist", "aasist-l", "aasist-asvspoof5", "rawgat-st", "rawgat-st-add"]
OFFICIAL = {
    "aasist": lambda p: load_official_aasist(p),
    "aasist-l": lambda p: load_official_aasist(p, light=True),
    "rawgat-st": load_official_rawgat_st,
}


def strict_fp32():
    """cuDNN without TF32 (a no-op context on the CPU)."""
    if torch.cuda.is_available():
        return torch.backends.cudnn.flags(enabled=True, allow_tf32=False)
    return nullcontext()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def logits(model, inputs: torch.Tensor, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """Batched and item-by-item logits of ``inputs`` on ``device``. Shape: ``(n, 2)`` each."""
    with torch.inference_mode():
        batched = model(inputs.to(device)).float().cpu().numpy()
        single = np.concatenate(
            [model(inputs[i : i + 1].to(device)).float().cpu().numpy() for i in range(len(inputs))]
        )
    return batched, single


#: The rawgat_st_add fixture logits come from the official ``main.py``, which runs every
#: checkpoint through multiplicative fusion (see tests/unit/models/test_rawgat_st.py).
PARITY_ARCH = {"rawgat-st-add": "rawgat-st"}


def part_parity(fixtures: Path, device: torch.device, models: list[str]) -> None:
    from voxlab.detection.detector import Detector

    inputs = torch.from_numpy(np.load(fixtures / "parity" / "inputs.npy"))
    print(f"\n## 1. parity on {device}: max |logit error| vs the official logits")
    print(f"{'model':17} {'path':9} {'cuDNN flags':12} {'batched':>9} {'single':>9} {'ok':>3}")
    for name in models:
        entry = pretrained.get_entry(name)
        arch = PARITY_ARCH.get(name, entry.model)
        ckpt = fixtures / "pretrained" / entry.filename
        expected = np.load(fixtures / "parity" / f"expected_{Path(entry.filename).stem}.npy")
        plain = load_checkpoint_into(build_model(arch).eval(), ckpt)
        detector = Detector.from_checkpoint(ckpt, model=arch, device=device)
        for path, model in (("plain", plain.to(device)), ("detector", detector.model)):
            for flags, ctx in (("default", nullcontext), ("strict fp32", strict_fp32)):
                with ctx():
                    batched, single = logits(model, inputs, device)
                bound = ATOL + RTOL * np.abs(expected)
                eb, es = np.abs(batched - expected), np.abs(single - expected)
                ok = bool((eb <= bound).all() and (es <= bound).all())
                print(
                    f"{name:17} {path:9} {flags:12} {eb.max():9.1e} {es.max():9.1e} "
                    f"{'yes' if ok else 'NO':>3}",
                    flush=True,
                )
                if not ok and flags == "strict fp32":
                    per_item = " ".join(f"{e:.1e}" for e in np.maximum(eb, es).max(axis=1))
                    print(f"    per item: {per_item}")
        if not ok:  # float64 on both devices: precision, or a different computation?
            with torch.inference_mode():
                x64 = inputs.double()
                on_dev = plain.double().to(device)(x64.to(device)).cpu().numpy()
                on_cpu = plain.cpu()(x64).numpy()
            plain.float()
            diff = " ".join(f"{e:.1e}" for e in np.abs(on_dev - on_cpu).max(axis=1))
            print(f"    float64 {device} vs cpu per item: {diff}")


def part_detector(fixtures: Path, device: torch.device) -> None:
    from voxlab.detection.detector import Detector

    files = sorted((fixtures / "parity").glob("*.flac"))
    print(f"\n## 2. Detector end to end: {len(files)} fixture recordings, {device} vs cpu")
    print(f"{'model':17} {'max |score diff|':>16} {'verdicts equal':>15}")
    for name in ("aasist", "rawgat-st"):
        ckpt = fixtures / "pretrained" / pretrained.get_entry(name).filename
        scores = {}
        for dev in (device, torch.device("cpu")):
            det = Detector.from_pretrained(name, checkpoint=ckpt, device=dev)
            scores[dev.type] = list(det.score_files(files))
        a, b = scores[device.type], scores["cpu"]
        diff = max(abs(x.score - y.score) for x, y in zip(a, b))
        same = all(x.verdict == y.verdict for x, y in zip(a, b))
        if any(r.status != "ok" for r in a + b):
            raise SystemExit(f"{name}: scoring failed: {[r.error for r in a + b if r.error]}")
        print(f"{name:17} {diff:16.1e} {same!s:>15}", flush=True)


def utt_per_s(model, batch: torch.Tensor, device: torch.device, repeats: int) -> float:
    sync(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for _ in range(repeats):
            model(batch)
    sync(device)
    return repeats * batch.shape[0] / (time.perf_counter() - t0)


def part_speed(fixtures: Path, device: torch.device, quick: bool, models: list[str]) -> None:
    from voxlab.detection.detector import Detector

    inputs = torch.from_numpy(np.load(fixtures / "parity" / "inputs.npy"))
    batches = (1, 8) if quick else (1, 64)
    print(f"\n## 3. speed on {device}: utterances/s (4.04 s each), medians of 3 rounds")
    print(
        f"{'model':10} {'batch':>5} {'cuDNN':12} {'official':>9} {'plain':>9} {'detector':>9} "
        f"{'det/off':>7} {'peak GB off/det':>15}"
    )
    for name in [m for m in models if m in OFFICIAL]:
        entry = pretrained.get_entry(name)
        ckpt = fixtures / "pretrained" / entry.filename
        nets = {"official": OFFICIAL[name](ckpt).to(device).eval()}
        plain = build_model(entry.model).eval()
        load_checkpoint_into(plain, ckpt)
        nets["plain"] = plain.to(device)
        nets["detector"] = Detector.from_pretrained(name, checkpoint=ckpt, device=device).model
        for batch_size in batches:
            batch = inputs.repeat(-(-batch_size // len(inputs)), 1)[:batch_size].to(device)
            repeats = max(2, (16 if device.type == "cuda" else 2) // batch_size)
            for flags, ctx in (("default", nullcontext), ("strict fp32", strict_fp32)):
                with ctx():
                    rates, peaks = {k: [] for k in nets}, {}
                    for key, model in nets.items():  # warm-up (cuDNN plans, allocator)
                        if device.type == "cuda":
                            torch.cuda.reset_peak_memory_stats(device)
                        utt_per_s(model, batch, device, 1)
                        if device.type == "cuda":
                            peaks[key] = torch.cuda.max_memory_allocated(device) / 1e9
                    for _ in range(3):
                        for key, model in nets.items():
                            rates[key].append(utt_per_s(model, batch, device, repeats))
                med = {k: statistics.median(v) for k, v in rates.items()}
                peak = f"{peaks['official']:.2f}/{peaks['detector']:.2f}" if peaks else "-"
                print(
                    f"{name:10} {batch_size:>5} {flags:12} {med['official']:9.1f} "
                    f"{med['plain']:9.1f} {med['detector']:9.1f} "
                    f"{med['detector'] / med['official']:6.2f}x {peak:>15}",
                    flush=True,
                )


def part_training(fixtures: Path, device: torch.device, quick: bool) -> None:
    from voxlab.testing import make_toy_corpus
    from voxlab.training.config import load_recipe
    from voxlab.training.trainer import Trainer

    os.environ["VOXLAB_MODEL_DIR"] = str(fixtures / "pretrained")
    items = 32 if quick else 128
    print(f"\n## 4. training: recipes/wild/aasist-l.yaml, 1 epoch of {items} toy items")
    print(f"{'device':8} {'steps':>5} {'epoch s':>8} {'train loss':>10} {'dev EER':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        manifest = make_toy_corpus(
            Path(tmp) / "toy", per_split={"train": items, "dev": 16, "eval": 8}, seconds=2.0
        )
        for dev in (device, torch.device("cpu")) if device.type == "cuda" else (device,):
            overrides = [
                "optim.epochs=1",
                "augment.channel.p=0",
                f"train.device={dev.type}",
                "train.num_workers=2",
            ]
            recipe = load_recipe(REPO / "recipes" / "wild" / "aasist-l.yaml", overrides=overrides)
            run = Path(tmp) / f"run-{dev.type}"
            t0 = time.perf_counter()
            Trainer(recipe, run, data_root=str(manifest), progress=False).fit()
            seconds = time.perf_counter() - t0
            steps = -(-items // recipe.optim.batch_size)
            row = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
            print(
                f"{dev.type:8} {steps:>5} {seconds:8.1f} {row['train_loss']:10.3f} "
                f"{row['dev_eer']:8.3f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--parts", default="parity,detector,speed,training")
    parser.add_argument("--models", default=",".join(MODELS), help="catalogue names")
    parser.add_argument("--quick", action="store_true", help="small batches (a CPU dry run)")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --device cpu --quick for a dry run")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__}, device {device} ({name}), {os.cpu_count()} CPUs")
    parts = args.parts.split(",")
    if "parity" in parts:
        part_parity(args.fixtures, device, args.models.split(","))
    if "detector" in parts:
        part_detector(args.fixtures, device)
    if "speed" in parts:
        part_speed(args.fixtures, device, args.quick, args.models.split(","))
    if "training" in parts:
        part_training(args.fixtures, device, args.quick)


if __name__ == "__main__":
    main()
