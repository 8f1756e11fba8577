"""The countermeasure trainer: recipe in, run directory out; resumable; DDP-ready.

One epoch = a pass over the training split with random 64,600-sample crops, weighted
cross-entropy (bona fide = class 1), a per-step cosine schedule, then a dev evaluation
(EER, min t-DCF). The best dev-EER weights are kept; with SWA on, the weights of every
improving epoch are averaged (``torch.optim.swa_utils``) and batch-norm statistics are
recomputed at the end, as the official AASIST recipe does.

Exact resumption: each epoch reseeds torch and the data order from ``(seed, epoch)``, and
``state.pt`` holds model, optimiser, scheduler and SWA state after the last finished epoch,
so an interrupted run continued with ``--resume`` ends with the same weights as an
uninterrupted one (bit for bit on CPU).

Distributed: under ``torchrun`` (``WORLD_SIZE > 1``) the model is wrapped in
``DistributedDataParallel`` (gloo on CPU, NCCL on GPU), each rank reads its shard through a
``DistributedSampler``, and rank 0 alone evaluates and writes.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from voxlab.data.dataset import WaveformDataset, collate
from voxlab.data.manifest import Utterance
from voxlab.errors import ConfigError, DataError
from voxlab.models.registry import build_model
from voxlab.training.augment import build_augmenter
from voxlab.training.config import Recipe, recipe_from_dict
from voxlab.training.rundir import RunDir
from voxlab.training.scoring import score_utterances, write_score_file


@dataclass(frozen=True)
class TrainResult:
    """What :meth:`Trainer.fit` leaves: the run directory and headline numbers."""

    run_dir: Path
    epochs_done: int
    best_epoch: int
    best_dev_eer: float
    final_weights: Path
    eval_eer: float | None = None
    eval_min_tdcf: float | None = None


def _dist_info() -> tuple[int, int]:
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def load_splits(recipe: Recipe, *, data_root: str | None = None) -> dict[str, list[Utterance]]:
    """The train/dev/eval utterances a recipe names, subsampled when ``max_items`` is set."""
    data = recipe.data
    splits = (data.train_split, data.dev_split, data.eval_split)
    if data.corpus == "asvspoof2019":
        from voxlab.data.corpora.asvspoof2019 import prepare_asvspoof2019

        root = data_root or data.root
        if not root:
            raise ConfigError(
                "the recipe needs data.root or --data DIR (the ASVspoof 2019 LA folder)"
            )
        found = prepare_asvspoof2019(root, track=data.track, splits=tuple(dict.fromkeys(splits)))
    else:
        from voxlab.data.manifest import read_manifest

        manifest = data_root or data.manifest
        if not manifest:
            raise ConfigError("the recipe needs data.manifest or --data MANIFEST.jsonl")
        found = {}
        for utt in read_manifest(manifest):
            found.setdefault(utt.split, []).append(utt)
    out = {}
    for split in dict.fromkeys(splits):
        items = found.get(split, [])
        if not items:
            raise DataError(f"split {split!r} is empty or missing in the corpus")
        out[split] = _subsample(items, data.max_items, seed=recipe.seed)
    return out


def _with_data(recipe: Recipe, data_root: str) -> Recipe:
    """``recipe`` with ``--data`` written in (as an absolute path).

    The run folder's ``config.yaml`` then records where the corpus is, so ``voxlab train
    --resume RUN_DIR`` finds it without ``--data`` (which still overrides it).
    """
    field = "manifest" if recipe.data.corpus == "manifest" else "root"
    where = str(Path(data_root).expanduser().resolve())
    return dataclasses.replace(recipe, data=dataclasses.replace(recipe.data, **{field: where}))


def _subsample(items: Sequence[Utterance], limit: int, *, seed: int) -> list[Utterance]:
    """Keep ``limit`` items (both classes kept, in proportion), deterministically."""
    if not limit or len(items) <= limit:
        return list(items)
    rng = np.random.default_rng(seed)
    bona = [u for u in items if u.is_bonafide]
    spoof = [u for u in items if not u.is_bonafide]
    n_bona = min(len(bona), max(1, round(limit * len(bona) / len(items))))
    n_spoof = min(len(spoof), max(1, limit - n_bona))
    keep = {id(bona[i]) for i in rng.choice(len(bona), n_bona, replace=False)}
    keep |= {id(spoof[i]) for i in rng.choice(len(spoof), n_spoof, replace=False)}
    return [u for u in items if id(u) in keep]


def cosine_factor(step: int, total: int, floor: float) -> float:
    """Cosine annealing from 1 to ``floor`` over ``total`` steps (AASIST's schedule)."""
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


class Trainer:
    """Trains one recipe into one run directory.

    Args:
        recipe: The experiment (``None`` with ``resume``: read from the run folder).
        run_dir: Output folder.
        data_root: Overrides ``data.root`` (or ``data.manifest``).
        resume: Continue the run in ``run_dir`` from its last finished epoch.
        progress: Show progress bars.
    """

    def __init__(
        self,
        recipe: Recipe | None,
        run_dir: str | os.PathLike,
        *,
        data_root: str | None = None,
        resume: bool = False,
        progress: bool = True,
    ) -> None:
        self.rank, self.world_size = _dist_info()
        self.run = RunDir(run_dir)
        if resume:
            if not self.run.state.exists():
                raise ConfigError(
                    f"{self.run.path} has no finished epoch to resume from (no state.pt)"
                )
            recipe = recipe_from_dict(self.run.read_config())
        elif recipe is None:
            raise ConfigError("a recipe is needed to start a new run")
        elif data_root:
            recipe = _with_data(recipe, data_root)
        self.recipe = recipe
        self.resume = resume
        self.progress = progress and self.rank == 0
        self.device = torch.device(recipe.train.device)
        self.splits = load_splits(recipe, data_root=data_root)
        self.data_root = data_root or recipe.data.root or recipe.data.manifest
        self._asv_cache: dict = {}
        for split in (recipe.data.dev_split, recipe.data.eval_split):
            self._asv_scores(split)  # fail before training, not after it

    # ------------------------------------------------------------------ building blocks

    def _loader(self, epoch: int) -> DataLoader:
        r = self.recipe
        self.train_set.set_epoch(epoch)
        generator = torch.Generator().manual_seed(r.seed * 1000 + epoch)
        sampler = None
        if self.world_size > 1:
            from torch.utils.data.distributed import DistributedSampler

            sampler = DistributedSampler(self.train_set, seed=r.seed, drop_last=True)
            sampler.set_epoch(epoch)
        return DataLoader(
            self.train_set,
            batch_size=r.optim.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            generator=generator if sampler is None else None,
            num_workers=r.train.num_workers,
            collate_fn=collate,
            drop_last=True,
        )

    def _steps_per_epoch(self) -> int:
        per_rank = len(self.train_set) // self.world_size
        steps = per_rank // self.recipe.optim.batch_size
        if self.recipe.train.max_steps_per_epoch:
            steps = min(steps, self.recipe.train.max_steps_per_epoch)
        if steps < 1:
            raise ConfigError(
                f"the training split ({len(self.train_set)} items over {self.world_size} "
                f"rank(s)) is smaller than one batch of {self.recipe.optim.batch_size}"
            )
        return steps

    def _optimizer(self, model: nn.Module) -> torch.optim.Optimizer:
        o = self.recipe.optim
        params = [p for p in model.parameters() if p.requires_grad]
        if o.optimizer == "sgd":
            return torch.optim.SGD(params, lr=o.lr, momentum=0.9, weight_decay=o.weight_decay)
        cls = torch.optim.AdamW if o.optimizer == "adamw" else torch.optim.Adam
        return cls(params, lr=o.lr, betas=o.betas, weight_decay=o.weight_decay, amsgrad=o.amsgrad)

    # ------------------------------------------------------------------ the loop

    def fit(self, *, stop_after_epoch: int | None = None) -> TrainResult:
        """Train (or continue training) and evaluate.

        Args:
            stop_after_epoch: Stop once this many epochs are done, as if killed (for tests
                and for splitting long runs); the run stays resumable.

        Returns:
            The run's headline numbers.
        """
        from torch.optim.swa_utils import AveragedModel

        r = self.recipe
        distributed = self.world_size > 1
        if distributed and not torch.distributed.is_initialized():
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            torch.distributed.init_process_group(backend=backend)
        torch.manual_seed(r.seed)
        model = build_model(r.model.name, **r.model.overrides).to(self.device)
        if not any(p.requires_grad for p in model.parameters()):
            return self._fit_by_em(model)
        if r.model.init_from and not self.resume:
            self._initialise(model, r.model.init_from)
        self.train_set = WaveformDataset(
            self.splits[r.data.train_split],
            num_samples=r.data.num_samples,
            crop="random",
            seed=r.seed,
            sample_rate=r.data.sample_rate,
            augment=build_augmenter(r.augment, sample_rate=r.data.sample_rate),
        )
        steps = self._steps_per_epoch()
        total_steps = steps * r.optim.epochs
        optimizer = self._optimizer(model)
        floor = r.optim.min_lr / r.optim.lr if r.optim.scheduler == "cosine" else 1.0
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: cosine_factor(step, total_steps, floor)
        )
        swa = AveragedModel(model) if r.train.swa else None
        start_epoch, best_eer, best_epoch, swa_updates = 0, math.inf, -1, 0
        if self.resume:
            state = torch.load(self.run.state, map_location=self.device, weights_only=True)
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if swa is not None:
                swa.load_state_dict(state["swa"])
            start_epoch = int(state["epoch"]) + 1
            best_eer, best_epoch = float(state["best_eer"]), int(state["best_epoch"])
            swa_updates = int(state["swa_updates"])
            if self.rank == 0:
                self.run.truncate_metrics(start_epoch)
        elif self.rank == 0:
            self.run.create(r.to_dict(), seed=r.seed, world_size=self.world_size)
        net = model
        if distributed:
            net = nn.parallel.DistributedDataParallel(model)
        criterion = nn.CrossEntropyLoss(weight=torch.tensor(r.train.class_weights)).to(self.device)
        writer = self._tensorboard()
        last_epoch = (
            r.optim.epochs if stop_after_epoch is None else min(r.optim.epochs, stop_after_epoch)
        )
        for epoch in range(start_epoch, last_epoch):
            started = time.time()
            torch.manual_seed(r.seed * 1000 + epoch)
            loss = self._train_epoch(
                net, self._loader(epoch), optimizer, scheduler, criterion, steps, epoch
            )
            if self.rank == 0:
                dev = self._evaluate(model, r.data.dev_split)
                improved = dev["eer"] <= best_eer
                if improved:
                    best_eer, best_epoch = dev["eer"], epoch
                    self._save_weights(model, "best")
                    if swa is not None:
                        swa.update_parameters(model)
                        swa_updates += 1
                row = {
                    "epoch": epoch,
                    "train_loss": loss,
                    "dev_eer": dev["eer"],
                    "dev_min_tdcf": dev["min_tdcf"],
                    "dev_min_dcf": dev["min_dcf"],
                    "lr": optimizer.param_groups[0]["lr"],
                    "best": improved,
                    "seconds": round(time.time() - started, 2),
                }
                self.run.append_metrics(row)
                if writer is not None:
                    for key in ("train_loss", "dev_eer", "dev_min_tdcf", "dev_min_dcf", "lr"):
                        if row[key] is not None:
                            writer.add_scalar(key, row[key], epoch)
                    writer.flush()
                self._save_weights(model, "last")
                torch.save(
                    {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "swa": swa.state_dict() if swa is not None else {},
                        "epoch": epoch,
                        "best_eer": best_eer,
                        "best_epoch": best_epoch,
                        "swa_updates": swa_updates,
                    },
                    self.run.state,
                )
            if distributed:
                torch.distributed.barrier()
        if writer is not None:
            writer.close()
        done = last_epoch
        if done < r.optim.epochs or self.rank != 0:
            return TrainResult(self.run.path, done, best_epoch, best_eer, self.run.weights("last"))
        final = self._finalise(model, swa, swa_updates)
        return self._final_eval(final, done, best_epoch, best_eer)

    def _initialise(self, model: nn.Module, source: str) -> None:
        """Load starting weights (fine-tuning) from a published name or a checkpoint file."""
        from voxlab import pretrained
        from voxlab.models.checkpoints import load_checkpoint_into

        if source in pretrained.names():
            path = pretrained.resolve_checkpoint(source, progress=self.progress)
        else:
            path = Path(source).expanduser()
            if not path.is_file():
                raise ConfigError(
                    f"model.init_from {source!r} is neither a published model "
                    f"({', '.join(pretrained.names())}) nor a checkpoint file"
                )
        load_checkpoint_into(model, path)

    def _fit_by_em(self, model: nn.Module) -> TrainResult:
        """Models with no gradient-trained parameters (the GMM baselines) are fitted by EM."""
        from voxlab.training.gmm import fit_gmm_run

        if self.world_size > 1:
            raise ConfigError(f"{self.recipe.model.name} trains by EM on one process only")
        if self.resume:
            raise ConfigError("EM-trained models finish in one pass; start a new run instead")
        self.run.create(self.recipe.to_dict(), seed=self.recipe.seed, world_size=1)
        row = fit_gmm_run(self, model)
        return self._final_eval(model, 1, 0, row["dev_eer"])

    def _train_epoch(self, net, loader, optimizer, scheduler, criterion, steps, epoch) -> float:
        from tqdm import tqdm

        net.train()
        losses = []
        bar = tqdm(total=steps, desc=f"epoch {epoch}", disable=not self.progress, leave=False)
        for step, (waves, labels, _) in enumerate(loader):
            if step >= steps:
                break
            waves, labels = waves.to(self.device), labels.to(self.device)
            if self.recipe.train.adversarial:  # train on the batch and its adversarial twin
                waves, labels = self._with_adversarial(net, waves, labels)
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(net(waves), labels)
            if not torch.isfinite(loss):
                raise ConfigError(
                    f"epoch {epoch} step {step}: the loss is {loss.item()}; "
                    "lower optim.lr or check the data"
                )
            loss.backward()
            if self.recipe.optim.grad_clip:
                nn.utils.clip_grad_norm_(net.parameters(), self.recipe.optim.grad_clip)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            bar.update(1)
            if step % self.recipe.train.log_every == 0:
                bar.set_postfix(loss=f"{np.mean(losses):.4f}")
        bar.close()
        return float(np.mean(losses))

    def _with_adversarial(self, net, waves, labels):
        from voxlab.adversarial.training import adversarial_batch

        t = self.recipe.train
        adv = adversarial_batch(net, waves, labels, method=t.adversarial,
                                snr_db=t.adversarial_snr_db, steps=t.adversarial_steps)  # fmt: skip
        return torch.cat([waves, adv]), torch.cat([labels, labels])

    def _evaluate(self, model: nn.Module, split: str) -> dict:
        from voxlab.evaluation import evaluate
        from voxlab.models.fast import optimize_for_inference

        utts = self.splits[split]
        model.eval()
        # An equivalent, faster copy for scoring (BN folded); the trained model is untouched.
        scorer = optimize_for_inference(model) if self.device.type == "cpu" else model
        scores = score_utterances(
            scorer, utts, batch_size=self.recipe.optim.batch_size, device=str(self.device)
        )
        asv = self._asv_scores(split)
        report = evaluate(
            scores, [u.key for u in utts], [u.attack for u in utts],
            asv=asv, metric_set="all",
        )  # fmt: skip
        return {
            "eer": report.eer,
            "min_tdcf": report.min_tdcf_2019,
            "min_dcf": report.min_dcf,
            "scores": scores,
            "report": report,
        }

    def _asv_scores(self, split: str):
        path = {
            self.recipe.data.dev_split: self.recipe.data.dev_asv_scores,
            self.recipe.data.eval_split: self.recipe.data.eval_asv_scores,
        }.get(split, "")
        if not path:
            return None
        if path in self._asv_cache:
            return self._asv_cache[path]
        from voxlab.data.scores import read_asv_scores

        path = Path(path.replace("{root}", self.data_root or ""))
        if not path.is_file():
            raise ConfigError(
                f"ASV score file {path} (for the {split} min t-DCF) not found; fix "
                "data.dev_asv_scores/eval_asv_scores or set them to '' to skip the t-DCF"
            )
        from voxlab.evaluation import AsvScores

        raw = read_asv_scores(path)
        self._asv_cache[str(path)] = AsvScores.from_keys(raw.keys, raw.scores, raw.sources)
        return self._asv_cache[str(path)]

    def _tensorboard(self):
        if self.rank != 0:
            return None
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(log_dir=str(self.run.tensorboard))

    def _save_weights(self, model: nn.Module, tag: str) -> None:
        from voxlab.models.checkpoints import save_checkpoint

        save_checkpoint(
            model,
            self.run.weights(tag),
            model_name=self.recipe.model.name,
            metadata={"recipe": self.recipe.name, "weights": tag},
        )

    def _finalise(self, model: nn.Module, swa, swa_updates: int) -> nn.Module:
        """The model to evaluate: SWA average (BN recomputed) or the best epoch's weights."""
        from voxlab.models.checkpoints import load_checkpoint_into

        if swa is not None and swa_updates > 0:
            from torch.optim.swa_utils import update_bn

            update_bn(self._loader(self.recipe.optim.epochs), swa, device=self.device)
            final = swa.module
            self._save_weights(final, "swa")
            return final
        return load_checkpoint_into(model, self.run.weights("best"), adapter=None)

    def _final_eval(self, model, done, best_epoch, best_eer) -> TrainResult:
        import json

        split = self.recipe.data.eval_split
        result = self._evaluate(model, split)
        write_score_file(self.run.eval_scores, self.splits[split], result["scores"])
        self.run.eval_metrics.write_text(json.dumps(result["report"].to_dict(), indent=2) + "\n")
        tag = "swa" if self.run.weights("swa").exists() else "best"
        return TrainResult(
            self.run.path,
            done,
            best_epoch,
            best_eer,
            self.run.weights(tag),
            eval_eer=result["eer"],
            eval_min_tdcf=result["min_tdcf"],
        )
