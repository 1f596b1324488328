"""Write a contact sheet of training (or held-out) samples, to look at the data.

    .venv/bin/python training/preview_samples.py -o /tmp/sheet.png [-n 24] [--split train] [--families chair mug]
    (or: .venv/bin/python -m training.preview_samples ...)

Each sample shows three panels: the image the network sees; the masks (green = true mask, red =
the augmented mask's disagreements); the ground-truth points that face the viewer, projected
into the same frame and coloured by their normals (a smooth colour field means consistent normals).
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

if __package__ in (None, ""):   # run as a file (python training/preview_samples.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from training.dataset import ShapeViewDataset, heldout_views
from training.render import FRAME_HALF_EXTENT


def _points_panel(points: np.ndarray, normals: np.ndarray, size: int) -> np.ndarray:
    panel = np.full((size, size, 3), 255, dtype=np.uint8)
    front = normals[:, 2] > 0                           # back-facing samples would show through as speckle
    order = np.argsort(points[front, 2])                 # far first, near last
    p, n = points[front][order], normals[front][order]
    cols = ((p[:, 0] + FRAME_HALF_EXTENT) / (2 * FRAME_HALF_EXTENT) * size).astype(int)
    rows = ((FRAME_HALF_EXTENT - p[:, 1]) / (2 * FRAME_HALF_EXTENT) * size).astype(int)
    ok = (cols >= 0) & (cols < size) & (rows >= 0) & (rows < size)
    panel[rows[ok], cols[ok]] = ((n[ok] * 0.5 + 0.5) * 255).astype(np.uint8)
    return panel


def _mask_panel(mask: np.ndarray, mask_true: np.ndarray) -> np.ndarray:
    panel = np.full(mask.shape + (3,), 255, dtype=np.uint8)
    panel[mask_true] = (90, 190, 90)
    panel[(mask > 0.5) & ~mask_true] = (230, 60, 60)
    panel[(mask <= 0.5) & mask_true] = (120, 30, 30)
    return panel


def contact_sheet(samples: list[dict], columns: int = 4) -> Image.Image:
    size = samples[0]["image"].shape[-1]
    tile_w, tile_h = 3 * size + 8, size + 14
    rows = (len(samples) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tile_w, rows * tile_h), (40, 40, 40))
    draw = ImageDraw.Draw(sheet)
    for i, s in enumerate(samples):
        image = (s["image"].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        tile = np.concatenate([image, _mask_panel(s["mask"][0].numpy(), s["mask_true"].numpy()),
                               _points_panel(s["points"].numpy(), s["normals"].numpy(), size)], axis=1)
        x, y = (i % columns) * tile_w, (i // columns) * tile_h
        sheet.paste(Image.fromarray(tile), (x, y + 14))
        label = f"{s['family']} {s['seed']} el {np.degrees(float(s['elevation'])):.0f}"
        draw.text((x + 2, y + 1), label, fill=(255, 255, 255))
    return sheet


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.add_argument("-n", "--count", type=int, default=24)
    parser.add_argument("--split", default="train", choices=["train", "heldout", "heldout-set"],
                        help="heldout-set shows the fixed evaluation set of heldout_views()")
    parser.add_argument("--families", nargs="*", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--no-augment", action="store_true")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.split == "heldout-set":
        samples = heldout_views(n_per_family=1, size=args.size, seed=1234 + args.seed, points=4096)[: args.count]
    else:
        ds = ShapeViewDataset(args.split, size=args.size, seed=args.seed, families=args.families,
                              augment=not args.no_augment, views_per_shape=2, shuffle_buffer=1, reuse=0.0)
        samples = list(itertools.islice(iter(ds), args.count))
    contact_sheet(samples).save(args.output)
    print(f"wrote {len(samples)} samples to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
