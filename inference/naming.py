"""Output names for a batch, unique by construction; shared by `python -m inference` and `blender -c`.

Standard library only: Blender imports this without torch."""
from __future__ import annotations

import os


def unique_stems(stems: list[str]) -> list[str]:
    """One output stem per input, no two alike (compared case-insensitively: macOS and Windows folders are).

    A stem that only one input has is kept as it is, even when another input's suffixed name would have
    taken it: `x/good1.png, y/good1.png, good1_2.png` become good1, good1_3, good1_2. Each suffix is checked
    against every planned name, not just against the inputs seen so far."""
    counts: dict[str, int] = {}
    for stem in stems:
        counts[stem.lower()] = counts.get(stem.lower(), 0) + 1
    taken = {stem.lower() for stem in stems if counts[stem.lower()] == 1}
    names = []
    for stem in stems:
        key = stem.lower()
        if counts[key] == 1:
            names.append(stem)
            continue
        if key not in taken:            # the first of several keeps the plain name
            taken.add(key)
            names.append(stem)
            continue
        n = 2
        while f"{key}_{n}" in taken:
            n += 1
        taken.add(f"{key}_{n}")
        names.append(f"{stem}_{n}")
    return names


def input_stem(path: str | os.PathLike) -> str:
    return os.path.splitext(os.path.basename(os.fspath(path).rstrip("/\\")))[0] or "image"
