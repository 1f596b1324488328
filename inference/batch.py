"""Batch work, shared by `python -m inference` and `blender -c mesh_from_image`: which pictures (files, folders,
a list file), which share of them (a farm task's `--chunk K/N`), which still need doing (`--resume`, a sidecar
record per output), and the `--report` JSON that says what happened to each.

Standard library only: Blender imports this without numpy or torch.

Determinism is the point of most of this module. Every farm task expands the same arguments itself, so the
expansion (folder walk, sort, output names) must come out the same on every machine, and the names are
given over the whole list *before* a share is taken: a chunk writes exactly the files the whole batch would."""
from __future__ import annotations

import fnmatch
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .atomic import write_atomic
from .digest import sha256_of
from .naming import unique_stems

RECORD_VERSION = 1
REPORT_VERSION = 2
# The sidecar beside each output: hidden, and named after the output, so an output folder holds only meshes.
RECORD_SUFFIX = ".mesh_from_image.json"

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class BatchError(ValueError):
    """Arguments that cannot make a batch (exit code 2); the message says what to change."""


@dataclass(frozen=True)
class BatchItem:
    """One picture of the batch and where its mesh goes."""
    index: int         # 1-based place in the whole sorted batch (the same in every farm task)
    path: Path         # the picture, as given or found
    output: Path       # the main output file (companions such as an OBJ's .mtl land beside it)


# ---- which pictures ----------------------------------------------------------------------------------------

# Worker processes side by side (--jobs): one by default; the farm's job type reads these too.
JOBS_DEFAULT, JOBS_MIN = 1, 1


def add_arguments(parser) -> None:
    """The batch flags, the same on both command lines (help included)."""
    group = parser.add_argument_group("batch")
    group.add_argument("--recursive", action="store_true",
                       help="also take the pictures in the folders' subfolders (outputs keep the subfolders)")
    group.add_argument("--pattern", default=None, metavar="GLOB",
                       help="only pictures in the folders whose file name matches, e.g. \"*.png\" "
                            "(case-insensitive; files named on the command line are always taken)")
    group.add_argument("--from-list", default=None, metavar="FILE",
                       help="a text file with one picture or folder per line (# comments; relative paths are "
                            "relative to the list's folder)")
    redo = group.add_mutually_exclusive_group()
    redo.add_argument("--resume", action="store_true",
                      help="skip pictures whose output is complete and was made from the same picture and "
                           "options; redo the rest")
    redo.add_argument("--overwrite", action="store_true", help="redo every picture, replacing its output")
    share = group.add_mutually_exclusive_group()
    share.add_argument("--chunk", default=None, metavar="K/N",
                       help="only the K-th of N equal shares of the sorted pictures (K = 1..N): N farm tasks "
                            "with the same arguments cover every picture exactly once")
    share.add_argument("--range", dest="index_range", default=None, metavar="A-B",
                       help="only pictures A to B (1-based, inclusive) of the sorted batch")
    group.add_argument("--jobs", type=int, default=JOBS_DEFAULT, metavar="J",
                       help=f"reconstruct J pictures side by side, one worker process each (default "
                            f"{JOBS_DEFAULT}; more than the CPU cores, or than the GPU's memory allows, is slower, "
                            "not faster)")


def check_arguments(args) -> None:
    """BatchError for flag values no batch can run with (before any work)."""
    if args.jobs < JOBS_MIN:
        raise BatchError(f"--jobs must be at least {JOBS_MIN}")
    if getattr(args, "chunk", None) is not None:
        parse_chunk(args.chunk)
    if getattr(args, "index_range", None) is not None:
        parse_range(args.index_range)


def expand(items, *, suffixes, recursive: bool = False, pattern: str | None = None,
           from_list: str | os.PathLike | None = None, exclude: str | os.PathLike | None = None
           ) -> list[tuple[Path, PurePosixPath]]:
    """The pictures named by `items` (files and folders) and by the list file, each with the path its output
    takes under the output folder (subfolders kept; the suffix still the picture's).

    Files named directly are taken whatever their suffix (the reader says what is wrong with a bad one) and
    even when missing (that picture fails with its message, the others run). Folders give every file with one
    of `suffixes`, sorted by their path inside the folder; hidden files and folders and `exclude` (the output
    folder, when it sits inside an input folder: its OBJ textures are pictures too) are left out. A picture
    reached twice is taken once, where it was first named."""
    entries: list[tuple[Path, PurePosixPath]] = []
    for item in items:
        entries.extend(_expand_one(Path(item), None, suffixes, recursive, pattern, exclude))
    if from_list is not None:
        entries.extend(_expand_list(Path(from_list), suffixes, recursive, pattern, exclude))
    seen, unique = set(), []
    for path, relative in entries:
        key = os.path.normcase(os.path.abspath(path))
        if key not in seen:
            seen.add(key)
            unique.append((path, relative))
    return unique


def _expand_one(path: Path, relative: PurePosixPath | None, suffixes, recursive, pattern, exclude):
    if not path.is_dir():
        return [(path, relative if relative is not None else PurePosixPath(path.name or "image"))]
    found = []
    skip = os.path.normcase(os.path.abspath(exclude)) if exclude is not None else None
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")
                   and os.path.normcase(os.path.abspath(os.path.join(root, d))) != skip]
        if not recursive:
            dirs[:] = []
        for name in files:
            if name.startswith(".") or os.path.splitext(name)[1].lower() not in suffixes:
                continue
            if pattern and not fnmatch.fnmatchcase(name.lower(), pattern.lower()):
                continue
            full = Path(root) / name
            inside = PurePosixPath(full.relative_to(path).as_posix())
            found.append((full, (relative / inside) if relative is not None else inside))
    # Sorted on the path inside the folder, as text: the same order on every OS and file system.
    found.sort(key=lambda entry: entry[1].as_posix())
    if not found:   # kept as an input of its own, so that it fails with a message rather than vanishing
        return [(path, relative if relative is not None else PurePosixPath(path.name or "folder"))]
    return found


def _expand_list(list_file: Path, suffixes, recursive, pattern, exclude):
    try:
        lines = list_file.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise BatchError(f"cannot read --from-list '{list_file}': {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BatchError(f"--from-list '{list_file}' is not a UTF-8 text file (one path per line)") from None
    entries = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        given = Path(line)
        path = given if given.is_absolute() else list_file.parent / given
        # A relative entry keeps its folders under the output folder; an absolute one (or one reaching
        # out with ..) lands at the top, like a file named on the command line.
        keep = not given.is_absolute() and ".." not in given.parts
        inside = PurePosixPath(given.as_posix()) if keep else None
        if path.is_dir():
            entries.extend(_expand_one(path, inside, suffixes, recursive, pattern, exclude))
        else:
            entries.append((path, inside if inside is not None else PurePosixPath(path.name or "image")))
    return entries


def plan(pictures: list[tuple[Path, PurePosixPath]], output_dir: str | os.PathLike, extension: str,
         stem=None) -> list[BatchItem]:
    """Output paths for the expanded pictures: each picture's stem (`stem(path)`) in its subfolder, made
    unique per output folder (inference/naming.py), over the whole batch."""
    from .naming import input_stem
    stem = stem or input_stem
    output_dir = Path(output_dir)
    folders: dict[str, list[int]] = {}
    for i, (_path, relative) in enumerate(pictures):
        folders.setdefault(relative.parent.as_posix().lower(), []).append(i)
    names = [""] * len(pictures)
    for indices in folders.values():
        for i, name in zip(indices, unique_stems([stem(pictures[i][1].name) for i in indices])):
            names[i] = name
    return [BatchItem(index=i + 1, path=path, output=output_dir.joinpath(*relative.parent.parts) / (names[i] + extension))
            for i, (path, relative) in enumerate(pictures)]


# ---- which share -------------------------------------------------------------------------------------------

def parse_chunk(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise BatchError(f"--chunk takes K/N with 1 <= K <= N (e.g. 2/5), not '{text}'")
    return int(match.group(1)), int(match.group(2))


def parse_range(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise BatchError(f"--range takes A-B with 1 <= A <= B (e.g. 1-50), not '{text}'")
    return int(match.group(1)), int(match.group(2))


def chunk_bounds(k: int, n: int, count: int) -> tuple[int, int]:
    """0-based [start, end) of share k (1..n) of `count` items: contiguous, sizes differing by at most one,
    together covering 0..count exactly once."""
    return (k - 1) * count // n, k * count // n


def select(items: list[BatchItem], chunk: str | None = None, index_range: str | None = None
           ) -> tuple[list[BatchItem], str]:
    """This run's share of the batch and how to name it in the report ("all", "2/5", "1-50")."""
    if chunk is not None:
        k, n = parse_chunk(chunk)
        start, end = chunk_bounds(k, n, len(items))
        return items[start:end], f"{k}/{n}"
    if index_range is not None:
        a, b = parse_range(index_range)
        return items[a - 1:b], f"{a}-{b}"
    return list(items), "all"


# ---- which still need doing --------------------------------------------------------------------------------

def record_path(output: Path) -> Path:
    return output.parent / f".{output.name}{RECORD_SUFFIX}"


def _input_facts(path: Path) -> dict:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256_of(path)}


def write_record(item: BatchItem, files: list, settings: dict) -> None:
    """Record that `item`'s output is complete: the picture's size, time and hash, the settings that made it
    and every file written with its size. Written last, after every file is in place, so a record means
    complete; a batch killed before it leaves no record and --resume redoes that picture."""
    outputs = []
    for f in files:
        f = Path(f)
        outputs.append({"file": os.path.relpath(f, item.output.parent).replace(os.sep, "/"),
                        "size": f.stat().st_size})
    data = {"version": RECORD_VERSION, "input": dict(_input_facts(item.path), path=str(item.path)),
            "settings": settings, "outputs": outputs, "written": _now()}
    write_atomic(record_path(item.output), json.dumps(data, indent=1, sort_keys=True).encode())


def forget_record(item: BatchItem) -> None:
    """Before an output is replaced: from here until its new record, it is not known complete."""
    try:
        record_path(item.output).unlink()
    except FileNotFoundError:
        pass


def up_to_date(item: BatchItem, settings: dict) -> str | None:
    """Why `item` must be redone under --resume, or None when its output is complete and current."""
    try:
        data = json.loads(record_path(item.output).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "no record of a finished run" if item.output.exists() else "not made yet"
    except (OSError, ValueError):
        return "its record is unreadable"
    if not isinstance(data, dict) or data.get("version") != RECORD_VERSION:
        return "its record is from another version"
    if data.get("settings") != settings:
        return "the options changed"
    for out in data.get("outputs") or [{}]:
        f = item.output.parent / str(out.get("file", ""))
        try:
            if f.stat().st_size != out.get("size"):
                return f"'{f.name}' changed since it was written"
        except OSError:
            return f"'{f.name}' is missing"
    before = data.get("input") or {}
    try:
        stat = item.path.stat()
    except OSError:
        return "the picture cannot be read"
    if stat.st_size != before.get("size"):
        return "the picture changed"
    if stat.st_mtime_ns != before.get("mtime_ns") and sha256_of(item.path) != before.get("sha256"):
        return "the picture changed"   # a copy with a new time but the same bytes is still done
    return None


def decide(item: BatchItem, settings: dict, resume: bool, overwrite: bool) -> tuple[bool, str]:
    """(run it, why) for one picture: --overwrite runs everything, --resume what is not up to date, and
    without either an existing output is kept and counted as skipped, never silently replaced."""
    if overwrite:
        return True, "--overwrite" if item.output.exists() else ""
    if resume:
        why = up_to_date(item, settings)
        return (True, why if item.output.exists() else "") if why else (False, "up to date")
    if item.output.exists():
        return False, "the output exists and was kept (--resume redoes only what changed, --overwrite redoes all)"
    return True, ""


# ---- what happened -----------------------------------------------------------------------------------------

def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


STATUSES = ("pending", "running", "done", "skipped", "failed", "not run")


@dataclass
class Report:
    """The --report JSON: every picture of this run's share with its status (done, skipped, failed with the
    message, not run), output, timings, and the run's options. Rewritten atomically after every change, so a
    killed batch leaves a truthful account (pictures it was on stay "running")."""
    path: Path | None
    items: list[BatchItem]
    options: dict
    total: int                 # pictures in the whole batch (before the share)
    share: str = "all"
    command: str = ""
    entries: list[dict] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    def __post_init__(self):
        self.entries = [{"index": item.index, "input": str(item.path), "output": str(item.output),
                         "status": "pending"} for item in self.items]

    def counts(self) -> dict:
        counts = {status: 0 for status in STATUSES}
        for entry in self.entries:
            counts[entry["status"]] += 1
        return counts

    def write(self, complete: bool = False, interrupted: bool = False) -> str | None:
        """Why the report could not be written, or None (also when no report was asked for)."""
        if self.path is None:
            return None
        counts = self.counts()
        data = {"version": REPORT_VERSION, "command": self.command, "share": self.share,
                "total_inputs": self.total, "inputs": self.entries, "counts": counts, "failed": counts["failed"],
                "complete": complete, "interrupted": interrupted, "options": self.options,
                "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
                "updated": _now(), "seconds": round(time.time() - self.started, 3)}
        try:
            write_atomic(self.path, json.dumps(data, indent=2, default=str).encode())
        except (OSError, TypeError, ValueError) as exc:
            return getattr(exc, "strerror", None) or str(exc)
        return None

    def summary(self) -> str:
        counts, seconds = self.counts(), time.time() - self.started
        done = counts["done"]
        parts = [f"{done} done", f"{counts['skipped']} skipped", f"{counts['failed']} failed"]
        if counts["not run"]:
            parts.append(f"{counts['not run']} not run")
        share = "" if self.share == "all" else f" (share {self.share} of {self.total})"
        rate = f", {done / seconds:.2f} pictures/s" if done and seconds > 0 else ""
        return f"{', '.join(parts)} of {len(self.entries)} picture(s){share} in {seconds:.1f} s{rate}"


def position(i: int, count: int) -> str:
    """`[17/240]`: the picture's place (0-based `i`) in this run's share, for a farm log read without the report."""
    return f"[{i + 1}/{count}]"


def exit_code(report: Report) -> int:
    """0 when every picture was done or skipped, 1 when any failed or was not run."""
    counts = report.counts()
    return EXIT_FAILED if counts["failed"] or counts["not run"] or counts["running"] or counts["pending"] else EXIT_OK
