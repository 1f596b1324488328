"""A pool of prepared training samples that the training step draws from while the loader refills it.

On this machine rendering a view and building its template costs more CPU than a training step spends
on it (about 0.25 s of one core per sample against ~0.1 s), so a step that waited for fresh data would leave
the model idle most of the time. Instead a background thread moves every fresh sample from the DataLoader
into a fixed-size pool (oldest out) and each step draws a random batch from the pool, mirrored left-right
at random. Fresh data flows in as fast as it can be made and every sample is used a few times ("data
echoing", Choi et al. 2019), which beats both waiting and re-using one batch verbatim. `echo` in the log
is how many times each sample is used on average, kept between min_echo (the loader pauses) and max_echo
(training waits); on a GPU machine with enough loader workers it settles at min_echo."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch

from inference.errors import InputError
from inference.networks import ModelConfig, build_templates, network_image
from inference.networks.graph import pack_templates
from inference.networks.templates import TemplateLevels
from training.losses import centre_points_depth


OUTLINE_POINTS = 256


@dataclass
class Prepared:
    image: np.ndarray        # (4, S, S) network input
    template: TemplateLevels
    points: np.ndarray       # (P, 3), depth-centred
    normals: np.ndarray      # (P, 3)
    outline: np.ndarray      # (K, 2) frame (x, y) points on the true silhouette's outline
    outside: np.ndarray      # (S, S) distance (frame units) to the true silhouette, 0 inside


def silhouette_targets(mask_true: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outline points (a fixed number, so batches stack) and the outside distance field of the true mask."""
    from scipy import ndimage

    from inference.fit import outline_points
    from inference.frame import FRAME_HALF_EXTENT

    mask = np.asarray(mask_true, bool)
    pts = outline_points(mask, max_points=4 * OUTLINE_POINTS)
    outline = pts[np.linspace(0, len(pts) - 1, OUTLINE_POINTS).astype(int)]
    cell = 2 * FRAME_HALF_EXTENT / mask.shape[0]
    return outline.astype(np.float32), (ndimage.distance_transform_edt(~mask) * cell).astype(np.float32)


class PrepareSamples:
    """DataLoader collate function: dataset dicts -> Prepared samples (runs in the worker processes)."""

    def __init__(self, config: ModelConfig):
        self.config = config
        self.skipped = 0

    def __call__(self, samples: list[dict]) -> list[Prepared]:
        out = []
        for s in samples:
            mask = np.asarray(s["mask"], np.float32).reshape(s["mask"].shape[-2:]) > 0.5
            rgb = np.asarray(s["image"], np.float32).transpose(1, 2, 0)
            try:
                template = build_templates(self.config, mask)
            except (ValueError, RuntimeError, InputError) as exc:
                # A rare augmented mask (a few stray pixels, a sliver, a rod seen end-on) has no meshable
                # inflation. Skipping it costs one sample; failing would cost the run.
                self.skipped += 1
                print(f"skipped a sample whose mask gives no template ({exc}); {self.skipped} so far", flush=True)
                continue
            outline, outside = silhouette_targets(np.asarray(s["mask_true"], bool))
            out.append(Prepared(network_image(rgb, mask), template,
                                centre_points_depth(np.asarray(s["points"], np.float32)),
                                np.asarray(s["normals"], np.float32), outline, outside))
        return out


def mirror(p: Prepared) -> Prepared:
    """The same sample seen in a mirror (x -> -x): image columns reversed, faces re-wound to stay outward."""
    flip = np.array([-1.0, 1.0, 1.0], np.float32)
    t = p.template
    template = TemplateLevels([v * flip for v in t.vertices], [f[:, ::-1].copy() for f in t.faces], t.parents)
    return Prepared(p.image[:, :, ::-1].copy(), template, p.points * flip, p.normals * flip,
                    p.outline * flip[:2], p.outside[:, ::-1].copy())


def collate(samples: list[Prepared]) -> dict:
    return {"image": torch.from_numpy(np.stack([s.image for s in samples])),
            "templates": pack_templates([s.template for s in samples]),
            "points": torch.from_numpy(np.stack([s.points for s in samples])),
            "normals": torch.from_numpy(np.stack([s.normals for s in samples])),
            "outline": torch.from_numpy(np.stack([s.outline for s in samples])),
            "outside": torch.from_numpy(np.stack([s.outside for s in samples]))[:, None]}


class SamplePool:
    def __init__(self, loader, capacity: int, min_fill: int, min_echo: float = 1.0, max_echo: float = 4.0,
                 seed: int = 0):
        self.capacity, self.min_fill = capacity, min_fill
        self.min_echo, self.max_echo = min_echo, max_echo
        self.items: list[Prepared] = []
        self.fresh = 0          # samples that entered the pool so far
        self.drawn = 0          # samples handed to training steps so far
        self.error: BaseException | None = None
        self._next = 0
        self._lock = threading.Condition()
        self._rng = np.random.default_rng(seed)
        self._stop = False
        self._thread = threading.Thread(target=self._fill, args=(loader,), daemon=True)
        self._thread.start()

    def _fill(self, loader):
        try:
            for chunk in loader:
                with self._lock:
                    for item in chunk:
                        if len(self.items) < self.capacity:
                            self.items.append(item)
                        else:                       # ring buffer: replace the oldest
                            self.items[self._next] = item
                            self._next = (self._next + 1) % self.capacity
                        self.fresh += 1
                    self._lock.notify_all()
                    # With a full pool, pause intake until samples have been used min_echo times on average:
                    # on a shared CPU the loader's processes would otherwise take cores from the training step
                    # to make samples that are replaced before they are ever drawn. (The loader's workers stop
                    # after their prefetch, so the pause frees their CPU too.)
                    self._lock.wait_for(lambda: self._stop or len(self.items) < self.capacity
                                        or self.drawn >= self.min_echo * self.fresh)
                if self._stop:
                    return
        except BaseException as exc:   # surface loader failures in the training thread
            with self._lock:
                self.error = exc
                self._lock.notify_all()

    def batch(self, size: int, mirror_probability: float = 0.5) -> dict:
        with self._lock:
            # Wait for the first fill, and whenever samples would be used more than max_echo times on average
            # (a starved loader must slow training down rather than let it overfit the pool).
            self._lock.wait_for(lambda: self.error is not None or (
                len(self.items) >= self.min_fill and self.drawn + size <= self.max_echo * self.fresh))
            if self.error is not None:
                raise RuntimeError("the training data loader failed") from self.error
            picks = [self.items[i] for i in self._rng.integers(len(self.items), size=size)]
            self.drawn += size
            self._lock.notify_all()
        picks = [mirror(p) if self._rng.random() < mirror_probability else p for p in picks]
        return collate(picks)

    @property
    def echo(self) -> float:
        return self.drawn / max(self.fresh, 1)

    def close(self, timeout: float = 120.0):
        with self._lock:
            self._stop = True
            self._lock.notify_all()
        # Wait for the filler to finish its current chunk: a daemon thread still inside the loader (torch ops,
        # DataLoader workers) when the interpreter finalises can break the process's exit (CI saw exit code 120).
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)
