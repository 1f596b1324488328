"""Train a learned shape prior (Pixel2Mesh- or AtlasNet-style) on rendered procedural shapes.

    python -m training.train --out training/runs/atlas1 --arch atlas --template inflation --minutes 110
    torchrun --nproc_per_node 2 -m training.train --out training/runs/ddp --minutes 5      # DDP (gloo/NCCL)
    python -m training.train --out training/runs/atlas1 --export [--default]                # ship fp16 weights

A run lives in its --out folder: config.json, checkpoint.pt (latest, written atomically every
--checkpoint-minutes and at the end), log.csv (one row per --log-every steps) and eval.jsonl (held-out
scores every --eval-minutes). Starting the same command again resumes from checkpoint.pt; --minutes is the
budget of this invocation. Stop a run at any time with SIGINT/SIGTERM: it saves a checkpoint first.

Data: training.dataset.ShapeViewDataset renders procedural shapes (or, with --mesh-folder, the user's own
OBJ/PLY/GLB meshes) on the fly. Templates are built from each view's (augmented) mask inside the data
loader's worker processes, exactly as inference builds them from the extracted mask."""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

from inference.networks import ModelConfig, build_model, build_templates, network_image
from inference.networks.graph import pack_templates
from training import distributed
from training.losses import LOSS_WEIGHTS, centre_points_depth, mesh_losses, total_loss
from training.replay import PrepareSamples, SamplePool

CHECKPOINT = "checkpoint.pt"
SNAPSHOTS = "snapshots"
EVAL_CACHE = Path(__file__).resolve().parent / "cache"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="run folder (created; resumed from when it holds a checkpoint)")
    p.add_argument("--arch", choices=("p2m", "atlas"), default="atlas")
    p.add_argument("--template", choices=("inflation", "sphere"), default="inflation")
    p.add_argument("--train-vertices", type=int, default=0,
                   help="finest template size during training (default: 1000 atlas, 2500 p2m)")
    p.add_argument("--hidden", type=int, default=0, help="network width (0 = architecture default)")
    p.add_argument("--no-local-features", action="store_true", help="AtlasNet-style: global code only")
    p.add_argument("--smoothing", type=int, default=4, help="AtlasNet-style: offset diffusion steps (see atlasnet.py)")
    p.add_argument("--minutes", type=float, default=60.0, help="wall-clock budget of this invocation")
    p.add_argument("--steps", type=int, default=0, help="stop after this many total steps (0 = no limit)")
    p.add_argument("--batch", type=int, default=16, help="batch size per process")
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--decay-after-minutes", type=float, default=0.0,
                   help="multiply the learning rate by 0.3 once the run's total training time passes this (0 = never)")
    p.add_argument("--size", type=int, default=128, help="image size (the network grid is 128)")
    p.add_argument("--points", type=int, default=4096, help="ground-truth surface points per view")
    p.add_argument("--families", default="", help="comma-separated shape families (default: all training families)")
    p.add_argument("--deform", type=float, default=0.0,
                   help="probability that a shape visit is stretched, tapered and bent first (training/shapes/deform.py)")
    p.add_argument("--mesh-folder", default="", help="also train on the OBJ/PLY/GLB meshes in this folder")
    p.add_argument("--mesh-up", choices=("y", "z"), default="y",
                   help="the mesh folder's up axis (z for Blender/PLY exports such as ../shared/realtrain)")
    p.add_argument("--mesh-share", type=float, default=0.5,
                   help="share of shapes drawn from the mesh folder when families are used too")
    p.add_argument("--loss-weights", default="",
                   help="override loss weights, e.g. laplacian=0,edge=0,normal=0 (see training/losses.py)")
    p.add_argument("--init-from", default="", help="start from these weights (a run folder, checkpoint.pt or shipped .pt)")
    p.add_argument("--workers", type=int, default=1, help="data loader processes per training process")
    p.add_argument("--pool", type=int, default=512, help="prepared samples kept for drawing batches (see training/replay.py)")
    p.add_argument("--min-echo", type=float, default=2.0,
                   help="with a full pool the loader pauses until samples were used this often on average")
    p.add_argument("--max-echo", type=float, default=4.0, help="most times a sample is used on average before steps wait")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = OMP_NUM_THREADS or 2)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--no-amp", action="store_true", help="disable bf16/fp16 autocast")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument("--eval-minutes", type=float, default=10.0, help="held-out scoring interval (0 = never)")
    p.add_argument("--eval-views", type=int, default=2, help="held-out views per family for the periodic scores")
    p.add_argument("--export", action="store_true", help="write the run's weights (fp16) + manifest entry and exit")
    p.add_argument("--export-name", default="", help="model name in the manifest (default ARCH-TEMPLATE)")
    p.add_argument("--default", action="store_true", help="with --export: make this the model 'auto' picks")
    p.add_argument("--weights-dir", default="", help="with --export: write here instead of inference/networks/weights")
    p.add_argument("--snapshots", action="store_true",
                   help="keep the weights of every checkpoint in OUT/snapshots/ (for --average-since-minutes)")
    p.add_argument("--average-since-minutes", type=float, default=-1.0,
                   help="with --export: export the mean of the snapshots taken at or after this many training "
                        "minutes and the final checkpoint (weight averaging, as in SWA)")
    args = p.parse_args(argv)
    args.loss_weight_overrides = parse_loss_weights(args.loss_weights)
    return args


def parse_loss_weights(text: str) -> dict[str, float]:
    """"laplacian=0,edge=0" -> {"laplacian": 0.0, "edge": 0.0}; unknown terms are refused."""
    weights = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        if name not in LOSS_WEIGHTS or not value:
            raise SystemExit(f"--loss-weights: {item!r} is not TERM=WEIGHT with TERM one of {sorted(LOSS_WEIGHTS)}")
        weights[name] = float(value)
    return weights


# ----------------------------------------------------------------------------------------------- data

def make_loader(args, config: ModelConfig, info: distributed.DistInfo):
    from training.dataset import ShapeViewDataset

    families = [f for f in args.families.split(",") if f] or None
    dataset = ShapeViewDataset(split="train", size=args.size, points=args.points,
                               seed=args.seed * 7919 + int(time.time()) % 100000, families=families,
                               mesh_folder=args.mesh_folder or None, deform=args.deform,
                               mesh_up=args.mesh_up, mesh_share=args.mesh_share)
    # Small chunks keep the pool's intake smooth; the training batch is drawn from the pool.
    return torch.utils.data.DataLoader(dataset, batch_size=8, collate_fn=PrepareSamples(config),
                                       num_workers=args.workers, persistent_workers=args.workers > 0,
                                       prefetch_factor=2 if args.workers > 0 else None)


# ----------------------------------------------------------------------------------------------- model

def load_initial_weights(model: torch.nn.Module, source: str) -> None:
    path = Path(source)
    if path.is_dir():
        path = path / CHECKPOINT
    state = torch.load(path, map_location="cpu", weights_only=False)
    state = state.get("model", state)
    model.load_state_dict({k: v.float() for k, v in state.items()})


def cpu_has_fast_bf16() -> bool:
    """Whether oneDNN has native bf16 kernels on this CPU (AVX-512 bf16 or AMX). Without them autocast emulates
    bf16: an AVX2-only AMD EPYC took 24 s for a layer's forward and backward that float32 does in 0.7 s, and a
    training step went from ~2 s to 19 s."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def autocast_context(device: torch.device, enabled: bool):
    """bf16 on CPUs with native bf16 (AVX-512 bf16 roughly halves a step) and on GPUs that support it, else fp16
    on GPUs and float32 on other CPUs."""
    if not enabled or device.type == "mps" or (device.type == "cpu" and not cpu_has_fast_bf16()):
        return torch.autocast("cpu", enabled=False)
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return torch.autocast("cpu", dtype=torch.bfloat16)


def stage_losses(outputs: list[torch.Tensor], batch: dict) -> list[dict]:
    """Loss terms for every stage; each stage's regularisers compare with the mesh it started from."""
    templates = batch["templates"]
    terms = []
    for k, (pred, level) in enumerate(zip(outputs, templates.levels)):
        if k == 0:
            start = level.vertices
        else:
            pair = templates.unpool[k - 1]
            prev = outputs[k - 1].detach()
            start = 0.5 * (prev[pair[:, 0]] + prev[pair[:, 1]])
        terms.append(mesh_losses(pred, start, level, batch["points"], batch["normals"], batch.get("outline"),
                                 batch.get("outside")))
    return terms


def save_checkpoint(out: Path, model, optimizer, state: dict, config: ModelConfig) -> None:
    tmp = out / (CHECKPOINT + ".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "state": state,
                "config": config.to_dict()}, tmp)
    os.replace(tmp, out / CHECKPOINT)


# ----------------------------------------------------------------------------------------------- evaluation

def heldout_scores(model, config: ModelConfig, views: list[dict], device) -> dict:
    """Mean held-out scores of the raw network output (no silhouette fit) at the training density."""
    from inference.metrics import score_mesh

    model.eval()
    rows = []
    with torch.no_grad():
        for view in views:
            mask = np.asarray(view["mask_true"], bool)
            rgb = np.asarray(view["image"], np.float32).transpose(1, 2, 0)
            template = build_templates(config, mask)
            image = torch.from_numpy(network_image(rgb, mask))[None].to(device)
            v = model(image, pack_templates([template]).to(device))[-1].float().cpu().numpy()
            rows.append(score_mesh(v, template.faces[-1], centre_points_depth(np.asarray(view["points"])),
                                   np.asarray(view["normals"]), mask))
    model.train()
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


# ----------------------------------------------------------------------------------------------- main

def averaged_weights(out: Path, since_minutes: float, final: dict) -> tuple[dict, list[int]]:
    """Mean of the model weights in OUT/snapshots/ taken at or after `since_minutes` of training, together
    with the final checkpoint's, and the steps they come from. Late in a run, at the decayed learning rate,
    successive weights scatter around a minimum; their mean sits nearer its middle and generalises better
    than any one of them (Izmailov et al. 2018, stochastic weight averaging)."""
    members = {final["state"]["step"]: final["model"]}
    for path in sorted((out / SNAPSHOTS).glob("*.pt")):
        snap = torch.load(path, map_location="cpu", weights_only=False)
        if snap["state"]["train_seconds"] / 60 >= since_minutes and snap["config"] == final["config"]:
            members.setdefault(snap["state"]["step"], snap["model"])
    steps = sorted(members)
    mean = {k: sum(members[s][k].double() for s in steps) / len(steps) for k in final["model"]}
    return {k: v.to(final["model"][k].dtype) for k, v in mean.items()}, steps


def export(args) -> None:
    from inference.networks.weights import save_weights

    out = Path(args.out)
    ckpt = torch.load(out / CHECKPOINT, map_location="cpu", weights_only=False)
    config = ModelConfig.from_dict(ckpt["config"])
    model = build_model(config)
    st = ckpt["state"]
    training = {"run": out.name, "steps": st["step"], "train_minutes": round(st["train_seconds"] / 60, 1),
                "samples_seen": st.get("samples", 0), "args": st.get("args", {})}
    if args.average_since_minutes >= 0:
        weights, steps = averaged_weights(out, args.average_since_minutes, ckpt)
        model.load_state_dict(weights)
        training["averaged_steps"] = steps
        print(f"averaging the weights of steps {', '.join(map(str, steps))}")
    else:
        model.load_state_dict(ckpt["model"])
    path = save_weights(model, config, args.export_name or None, training, make_default=args.default,
                        folder=args.weights_dir or None)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB) and its manifest entry")


LOG_FIELDS = ["step", "train_minutes", "wall_time", "samples", "lr", "sec_per_step", "data_wait", "echo", "loss",
              "chamfer", "chamfer_pred_to_gt", "chamfer_gt_to_pred", "silhouette", "laplacian", "edge", "normal", "move"]


class Trainer:
    """One training process: model, optimiser and run state, the sample pool, logging and checkpoints."""

    def __init__(self, args):
        self.args = args
        self.info = info = distributed.setup(args.device)
        torch.set_num_threads(args.threads or int(os.environ.get("OMP_NUM_THREADS", "2")))
        torch.manual_seed(args.seed + info.rank)
        self.out = Path(args.out)
        if info.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
        distributed.barrier(info)
        self.resumed = (self.out / CHECKPOINT).exists()
        ckpt = torch.load(self.out / CHECKPOINT, map_location="cpu", weights_only=False) if self.resumed else None
        self.config = ModelConfig.from_dict(ckpt["config"]) if ckpt else self._new_config()
        self.model = build_model(self.config)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=args.lr, weight_decay=1e-4)
        self.state = {"step": 0, "train_seconds": 0.0, "samples": 0, "args": vars(args)}
        if ckpt is not None:
            self.model.load_state_dict(ckpt["model"])
            self.optimizer.load_state_dict(ckpt["optimizer"])
            self.state = ckpt["state"]
        elif args.init_from:
            load_initial_weights(self.model, args.init_from)
        self.model.to(info.device)
        for moments in self.optimizer.state.values():   # optimiser moments follow the model's device
            for k, v in moments.items():
                if torch.is_tensor(v):
                    moments[k] = v.to(info.device)
        self.net = distributed.wrap(self.model, info)
        self.use_amp = not args.no_amp
        self.scaler = torch.amp.GradScaler("cuda") if (self.use_amp and info.device.type == "cuda"
                                                       and not torch.cuda.is_bf16_supported()) else None
        self.stop_requested = False
        self.eval_views = []
        if info.is_main and args.eval_minutes > 0:
            from training.dataset import heldout_views
            # Cached (training/cache is git-ignored): a resumed run scores the same views without re-rendering.
            self.eval_views = heldout_views(n_per_family=args.eval_views, size=args.size, cache_dir=str(EVAL_CACHE))
        self.log_path = self.out / "log.csv"
        if info.is_main:
            self._write_header()

    def _new_config(self) -> ModelConfig:
        a = self.args
        return ModelConfig(arch=a.arch, template=a.template,
                           final_vertices=a.train_vertices or (1000 if a.arch == "atlas" else 2500),
                           hidden=a.hidden, local_features=not a.no_local_features,
                           smoothing=a.smoothing if a.arch == "atlas" else 0)

    def _write_header(self) -> None:
        a_weights = self.args.loss_weight_overrides
        (self.out / "config.json").write_text(json.dumps({"model": self.config.to_dict(),
                                                          "loss_weights": dict(LOSS_WEIGHTS, **a_weights),
                                                          "args": vars(self.args)}, indent=2))
        if not self.log_path.exists():
            with open(self.log_path, "w", newline="") as f:
                csv.writer(f).writerow(LOG_FIELDS)
        elif self.resumed:
            self._forget_after(self.state["step"])
        print(f"{'resuming at step ' + str(self.state['step']) if self.resumed else 'starting'}: {self.config.name}, "
              f"{sum(p.numel() for p in self.model.parameters()) / 1e6:.2f} M parameters, device {self.info.device}, "
              f"{self.info.world_size} process(es), batch {self.args.batch} each", flush=True)

    def _forget_after(self, step: int) -> None:
        """Drop log and eval rows written after the checkpoint we resume from: those steps run again, and
        keeping both copies would draw the curves twice over the same steps."""
        with open(self.log_path, newline="") as f:
            rows = list(csv.reader(f))
        column = rows[0].index("step") if rows else 0
        kept = rows[:1] + [r for r in rows[1:] if r and int(r[column]) <= step]
        if len(kept) < len(rows):
            with open(self.log_path, "w", newline="") as f:
                csv.writer(f).writerows(kept)
        evals = self.out / "eval.jsonl"
        if evals.exists():
            lines = [l for l in evals.read_text().splitlines() if l.strip()]
            kept_lines = [l for l in lines if json.loads(l)["step"] <= step]
            if len(kept_lines) < len(lines):
                evals.write_text("".join(l + "\n" for l in kept_lines))

    def learning_rate(self) -> float:
        a = self.args
        if a.decay_after_minutes and self.state["train_seconds"] / 60 > a.decay_after_minutes:
            return a.lr * 0.3
        return a.lr * min(1.0, (self.state["step"] + 1) / 100)   # short warm-up

    def step(self, batch: dict) -> tuple[float, dict]:
        """One optimisation step; returns the learning rate and the final stage's loss terms."""
        lr = self.learning_rate()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        device = self.info.device
        batch["templates"] = batch["templates"].to(device)
        for key in ("image", "points", "normals", "outline", "outside"):
            batch[key] = batch[key].to(device)
        with autocast_context(device, self.use_amp):
            outputs = self.net(batch["image"], batch["templates"])
        terms = stage_losses(outputs, batch)
        loss = total_loss(terms, self.args.loss_weight_overrides)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        return lr, dict({k: float(v.detach()) for k, v in terms[-1].items()}, loss=float(loss.detach()))

    def log(self, window: list[dict], lr: float, seconds: float) -> None:
        means = {k: distributed.all_reduce_mean(float(np.mean([w[k] for w in window])), self.info) for k in window[0]}
        if not self.info.is_main:
            return
        st = self.state
        row = dict(means, step=st["step"], train_minutes=round(st["train_seconds"] / 60, 3), samples=st["samples"],
                   wall_time=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), lr=lr,
                   sec_per_step=round(seconds / len(window), 3))
        with open(self.log_path, "a", newline="") as f:
            csv.writer(f).writerow([row.get(k, "") for k in LOG_FIELDS])
        print(f"step {st['step']:6d}  loss {means['loss']:.5f}  chamfer {means['chamfer']:.5f}  {row['sec_per_step']:.2f} "
              f"s/step (data wait {means['data_wait']:.2f}, echo {means['echo']:.1f})", flush=True)

    def evaluate(self) -> None:
        scores = heldout_scores(self.model, self.config, self.eval_views, self.info.device)
        st = self.state
        with open(self.out / "eval.jsonl", "a") as f:
            f.write(json.dumps(dict(scores, step=st["step"], train_minutes=st["train_seconds"] / 60,
                                    wall_time=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()))) + "\n")
        print(f"held-out @ step {st['step']}: " + "  ".join(f"{k} {v:.4f}" for k, v in scores.items()), flush=True)

    def checkpoint(self) -> None:
        if self.info.is_main:
            save_checkpoint(self.out, self.model, self.optimizer, self.state, self.config)
            if self.args.snapshots:
                folder = self.out / SNAPSHOTS
                folder.mkdir(exist_ok=True)
                torch.save({"model": self.model.state_dict(), "state": dict(self.state), "config": self.config.to_dict()},
                           folder / f"step_{self.state['step']:07d}.pt")

    def run(self) -> torch.nn.Module:
        def request_stop(signum, frame):
            self.stop_requested = True

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        a = self.args
        pool = SamplePool(make_loader(a, self.config, self.info), capacity=max(a.pool, a.batch),
                          min_fill=min(max(a.pool, a.batch), 4 * a.batch), min_echo=a.min_echo, max_echo=a.max_echo,
                          seed=a.seed * 1000 + self.info.rank)
        if self.eval_views and self.state["step"] == 0:
            self.evaluate()   # the untrained model returns its template: the curve starts at the template's score
        try:
            self._loop(pool)
        finally:
            # Whatever ended the loop (time, signal, an exception), the progress so far is kept.
            pool.close()
            self.checkpoint()
            for sig, handler in previous.items():   # a caller (tests, a notebook) gets its own handlers back
                signal.signal(sig, handler)
        distributed.barrier(self.info)
        distributed.cleanup(self.info)
        return self.model

    def _loop(self, pool: SamplePool) -> None:
        a, st = self.args, self.state
        began = last_ckpt = last_eval = time.time()
        window, window_start = [], time.time()
        self.model.train()
        while True:
            t_data = time.time()
            batch = pool.batch(a.batch)
            data_wait = time.time() - t_data   # > 0 means data-bound even with echoing
            t_step = time.time()
            lr, terms = self.step(batch)
            st["step"] += 1
            st["samples"] += a.batch * self.info.world_size
            st["train_seconds"] += time.time() - t_step
            window.append(dict(terms, data_wait=data_wait, echo=pool.echo))
            if st["step"] % a.log_every == 0:
                self.log(window, lr, time.time() - window_start)
                window, window_start = [], time.time()
            now = time.time()
            out_of_time = now - began > a.minutes * 60 or (a.steps and st["step"] >= a.steps)
            finished = distributed.any_rank(bool(out_of_time or self.stop_requested), self.info)
            if finished:
                break   # run() writes the final checkpoint
            if now - last_ckpt > a.checkpoint_minutes * 60:
                self.checkpoint()
                last_ckpt = now
            if self.eval_views and now - last_eval > a.eval_minutes * 60:
                self.evaluate()
                last_eval = time.time()
        if self.eval_views:
            self.evaluate()


def train(args) -> torch.nn.Module:
    return Trainer(args).run()


def main(argv=None):
    """Run (or export) as the command line says; returns the trained model (unwrapped) when training."""
    args = parse_args(argv)
    if args.export:
        return export(args)
    return train(args)


if __name__ == "__main__":
    main(sys.argv[1:])
