"""Running a batch's pictures for `python -m inference`: one after another in this process, or (--jobs J) in a
pool of J processes that each load the model once. The command line (inference/__main__.py) decides what to
run and reports; this module only turns a picture into files or a Failed with the artist's message.

A module of its own (not __main__) because the pool's processes must import what they run."""
from __future__ import annotations

import errno
import signal
import time
from pathlib import Path

from . import batch, contract
from .errors import MeshFromImageError

# What the JSON report carries from Reconstruction.info besides sizes and timings.
REPORTED_INFO = contract.ResultInfo.REPORTED


def _disk_message(target: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)):
        why = "the disk is full (or a file-size or quota limit was reached)"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder is not writable"
    else:
        why = exc.strerror or str(exc)
    return (f"could not write '{target}': {why}. Nothing was written for this picture and an older file of "
            f"that name is kept; free some disk space or choose another --output-dir.")


class Failed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def reconstruct_one(image: Path, target: Path, mask: Path | None, options: contract.ReconstructionOptions) -> dict:
    """One picture, start to file: the report entry's fields (files, sizes, timings, info). Every way it can
    fail becomes Failed with the message for the artist. Top-level so that --jobs can run it in a pool."""
    from .export import export
    from .pipeline import reconstruct
    from .silhouette import iou, mesh_silhouette
    start = time.perf_counter()
    try:
        recon = reconstruct(image, options, mask=mask)
    except MeshFromImageError as exc:
        raise Failed(str(exc)) from None
    except MemoryError:
        raise Failed("ran out of memory. Use fewer vertices (--vertices), fewer --jobs, or close other "
                      "programs.") from None
    except Exception as exc:   # noqa: BLE001 - a bug met by one picture must not stop the batch
        raise Failed(f"internal error while reconstructing ({type(exc).__name__}: {exc}); the other "
                      f"pictures still run. Please report this with the picture.") from None
    t = time.perf_counter()
    try:
        files = export(recon, target)
    except OSError as exc:
        raise Failed(_disk_message(target, exc)) from None
    except Exception as exc:   # noqa: BLE001
        raise Failed(f"internal error while writing '{target}' ({type(exc).__name__}: {exc}); nothing "
                      f"was written for this picture.") from None
    recon.timings["export"] = time.perf_counter() - t
    try:
        fit_iou = round(iou(mesh_silhouette(recon.vertices, recon.faces, recon.mask_grid.shape[0]),
                            recon.mask_grid), 4)
    except Exception:   # noqa: BLE001 - a statistic, not worth failing a written mesh for
        fit_iou = None
    return dict(files=[str(f) for f in files], vertices=len(recon.vertices), faces=len(recon.faces),
                device=recon.device, silhouette_iou=fit_iou, timings={k: round(v, 4) for k, v in recon.timings.items()},
                seconds=round(time.perf_counter() - start, 3),
                **{k: v for k, v in recon.info.items() if k in REPORTED_INFO or k == "frame_note"})


def _pool_start(threads: int) -> None:
    """A --jobs worker: Ctrl+C is the batch's to handle (it lets running pictures finish), and the cores are
    shared out rather than every worker's torch taking all of them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch
    torch.set_num_threads(threads)


def run_here(todo, mask, options, report, finished, interrupt) -> None:
    for i, item, entry, _why in todo:
        if interrupt.requested:
            break
        batch.forget_record(item)
        entry["status"] = "running"
        report.write()
        try:
            outcome = reconstruct_one(item.path, item.output, mask, options)
        except Failed as exc:
            outcome = exc
        finished(i, item, entry, outcome)


def run_pool(todo, mask, options, report, finished, interrupt, jobs: int) -> None:
    """--jobs J: J processes, each loading the model once and taking the next picture when it is free. Pictures
    are handed out one at a time (not all queued), so a Ctrl+C stops handing out and lets running ones finish.
    A process that dies (the out-of-memory killer) fails the pictures it was running; a new pool takes the rest."""
    import multiprocessing
    import os
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool
    threads = max(1, (os.cpu_count() or 1) // jobs)

    def new_pool():
        # spawn: a forked child would inherit this process's threads and torch state half-initialised.
        return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_pool_start, initargs=(threads,))

    pool = new_pool()
    pending = list(todo)
    running = {}
    try:
        while pending or running:
            while pending and len(running) < jobs and not interrupt.requested:
                i, item, entry, _why = pending[0]
                try:
                    future = pool.submit(reconstruct_one, item.path, item.output, mask, options)
                except BrokenProcessPool:
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = new_pool()
                    continue
                pending.pop(0)
                batch.forget_record(item)
                entry["status"] = "running"
                running[future] = (i, item, entry)
            report.write()
            if not running:
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                i, item, entry = running.pop(future)
                try:
                    outcome = future.result()
                except Failed as exc:
                    outcome = exc
                except BrokenProcessPool:
                    outcome = Failed("the worker process running this picture stopped (out of memory, or "
                                     "killed); try fewer --jobs or fewer --vertices")
                except Exception as exc:   # noqa: BLE001 - a bug that escaped reconstruct_one
                    outcome = Failed(f"internal error ({type(exc).__name__}: {exc}); the other pictures still run")
                finished(i, item, entry, outcome)
    except KeyboardInterrupt:
        for process in list((getattr(pool, "_processes", None) or {}).values()):   # stop now means now
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
