"""How torch's CPU threads wait for each other (standard library only: it must run before torch is imported,
since OpenMP reads it once, when torch loads it).

OpenMP's default has a thread that finishes its share of an operation spin for a while before it sleeps. On a
machine whose cores are busy with other work that spinning takes the very core the late thread needs, and the
network stage (torch, two threads on the 2-core development machine) stalled: 1.2-1.9 s for the mug with other
jobs running, against 0.33-0.51 s with passive waiting, which also used less CPU in all; interleaved runs,
docs/speed.md. Waiting passively changes only how idle threads wait, not how the work is split: the meshes are
bit for bit the same. A value the user set (OMP_WAIT_POLICY in the environment) is kept."""
from __future__ import annotations

import os
from contextlib import contextmanager

# Torch threads for the network's forward pass on the CPU, whatever the machine has. Its convolutions split
# their sums over the threads, and a different split rounds differently: the mug's mesh with one thread differed
# from the mesh with two, so a laptop, a 16-core workstation and a `--jobs` worker (which gets a share of the
# cores) gave different meshes of one picture. Two is what the 2-core machines here always used (their meshes
# stay the same); the network is ~0.2 s of a second-long job, so more cores would buy little.
NETWORK_THREADS = 2


def wait_passively(environ=None) -> None:
    """Ask OpenMP (torch's CPU threads) to sleep instead of spinning while it waits, unless told otherwise."""
    (os.environ if environ is None else environ).setdefault("OMP_WAIT_POLICY", "PASSIVE")


@contextmanager
def torch_threads(n: int):
    """Run the block with torch on exactly `n` CPU threads, then restore the caller's count."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
