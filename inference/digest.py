"""A file's SHA-256, read in blocks (standard library only: Blender's side uses it through inference/batch.py).
The shipped weights are checked with it, and a batch's resume records name each picture by it."""
from __future__ import annotations

import hashlib
import os


def sha256_of(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
