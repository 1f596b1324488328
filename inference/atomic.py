"""Atomic file writes: a file is either its old self or complete, never half written.

Written to a temporary file beside the target (same folder, so the rename cannot cross file systems),
flushed to disk, then renamed over the target. A full disk or a killed process leaves the old file untouched
and no partial file under the target's name."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            # A full disk may only show on flush to the device; the rename must not happen before that.
            os.fsync(f.fileno())
        # mkstemp creates the file private (0600); give it the permissions a normal file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
