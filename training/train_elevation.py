"""Train the camera-elevation head (inference/networks/elevation.py) on a shipped model's frozen encoder.

    python -m training.train_elevation --model atlas-inflation --out training/runs/elevation-1 --minutes 15
    python -m training.train_elevation --model atlas-inflation --out training/runs/elevation-1 --export

The shape model is loaded exactly as the product loads it (fp16 weights, checksum verified) and stays
frozen, so the head learns the code the product will compute. Views come from the same procedural
training families and renderer as the shape model's, with their true elevation (-10 to 50 degrees).
Starting the command again resumes from the run folder's checkpoint. Scores on the held-out views are the
mean absolute error in degrees, beside the error of always answering the training range's middle (20
degrees); `--export` refuses a head whose error is not at most 3/4 of that constant's (a head that is barely
better than a constant tilts about as many objects the wrong way as it stands up)."""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from inference.networks import network_image
from inference.networks.elevation import ElevationHead, image_code
from inference.networks.weights import load_model, save_elevation_head
from training.distributed import select_training_device
from training.train import EVAL_CACHE, autocast_context

CHECKPOINT = "elevation.pt"
CONSTANT_GUESS = math.radians(20.0)   # the middle of the rendered range: what a head must beat
REQUIRED_GAIN = 0.75                  # ship only when the error is at most this share of the constant's


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="shipped shape model whose encoder the head reads")
    p.add_argument("--out", required=True, help="run folder (resumed from when it holds a checkpoint)")
    p.add_argument("--minutes", type=float, default=15.0, help="wall-clock budget of this invocation")
    p.add_argument("--steps", type=int, default=0, help="stop after this many total steps (0 = no limit)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument("--eval-views", type=int, default=2, help="held-out views per family for the score")
    p.add_argument("--export", action="store_true", help="write the head beside the model in the manifest and exit")
    p.add_argument("--force", action="store_true", help="with --export: even if it does not clearly beat the constant")
    return p.parse_args(argv)


def _network_images(samples: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
    images = [network_image(np.asarray(s["image"], np.float32).transpose(1, 2, 0),
                            np.asarray(s["mask"], np.float32).reshape(s["mask"].shape[-2:]) > 0.5) for s in samples]
    return torch.from_numpy(np.stack(images)), torch.tensor([float(s["elevation"]) for s in samples])


def _codes(model, images: torch.Tensor) -> torch.Tensor:
    device = next(model.parameters()).device
    with torch.no_grad(), autocast_context(device, True):
        return image_code(model, images.to(device)).float()


def heldout_error(model, head, views_per_family: int) -> dict:
    from training.dataset import heldout_views
    views = heldout_views(n_per_family=views_per_family, size=128, cache_dir=str(EVAL_CACHE))
    samples = [dict(v, mask=np.asarray(v["mask_true"], np.float32)[None]) for v in views]
    images, truth = _network_images(samples)
    with torch.no_grad():
        guess = head(_codes(model, images)).cpu()
    return {"mae_deg": math.degrees(float((guess - truth).abs().mean())),
            "constant_mae_deg": math.degrees(float((CONSTANT_GUESS - truth).abs().mean())), "views": len(views)}


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = select_training_device(args.device)
    model = load_model(args.model, device)
    for p in model.parameters():
        p.requires_grad_(False)
    head = ElevationHead(code_dim=model.config.code_dim).to(device)
    optimizer = torch.optim.AdamW(head.parameters(), lr=args.lr, weight_decay=1e-4)
    state = {"step": 0, "samples": 0, "train_seconds": 0.0}
    if (out / CHECKPOINT).exists():
        ckpt = torch.load(out / CHECKPOINT, map_location=device, weights_only=False)
        head.load_state_dict(ckpt["head"])
        optimizer.load_state_dict(ckpt["optimizer"])
        state = ckpt["state"]
        print(f"resuming at step {state['step']}", flush=True)

    if args.export:
        scores = heldout_error(model, head.eval(), args.eval_views)
        print(json.dumps(scores), flush=True)
        if scores["mae_deg"] > REQUIRED_GAIN * scores["constant_mae_deg"] and not args.force:
            raise SystemExit(f"the head's {scores['mae_deg']:.1f} degrees mean error is not clearly better than a "
                             f"constant 20-degree guess ({scores['constant_mae_deg']:.1f}): not exported "
                             "(--force exports it anyway)")
        path = save_elevation_head(head, args.model, {"run": out.name, **state, "heldout": scores})
        print(f"wrote {path} and its manifest entry")
        return scores

    from training.dataset import ShapeViewDataset
    dataset = ShapeViewDataset(split="train", size=128, points=64, seed=args.seed * 7919 + int(time.time()) % 100000)
    loader = torch.utils.data.DataLoader(dataset, batch_size=args.batch, collate_fn=_network_images,
                                         num_workers=args.workers, prefetch_factor=2 if args.workers else None)

    def save() -> None:
        tmp = out / (CHECKPOINT + ".tmp")
        torch.save({"head": head.state_dict(), "optimizer": optimizer.state_dict(), "state": state}, tmp)
        tmp.replace(out / CHECKPOINT)

    started = time.time()
    last_save, window = started, []
    head.train()
    for images, truth in loader:
        t = time.time()
        loss = torch.nn.functional.smooth_l1_loss(head(_codes(model, images)), truth.to(device), beta=math.radians(2.0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        state["step"] += 1
        state["samples"] += len(truth)
        state["train_seconds"] += time.time() - t
        window.append(float(loss.detach()))
        if state["step"] % 20 == 0:
            print(f"step {state['step']:5d}  loss {np.mean(window):.4f}  samples {state['samples']}", flush=True)
            window = []
        if time.time() - last_save > 240:
            save()
            last_save = time.time()
        if time.time() - started > 60 * args.minutes or (args.steps and state["step"] >= args.steps):
            break
    save()
    scores = heldout_error(model, head.eval(), args.eval_views)
    (out / "eval.json").write_text(json.dumps(dict(scores, **state), indent=1))
    print(f"held-out: {scores['mae_deg']:.1f} degrees mean error (a constant 20 degrees: "
          f"{scores['constant_mae_deg']:.1f}) on {scores['views']} views", flush=True)
    return scores


if __name__ == "__main__":
    main()
