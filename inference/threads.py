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


def wait_passively(environ=None) -> None:
    """Ask OpenMP (torch's CPU threads) to sleep instead of spinning while it waits, unless told otherwise."""
    (os.environ if environ is None else environ).setdefault("OMP_WAIT_POLICY", "PASSIVE")
