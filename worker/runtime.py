"""Which Python the worker runs in, and which package folders it sees. Standard library only, no bpy.

Three runtimes, tried in this order (the first one that is there wins):

1. "interpreter": a Python chosen in the add-on preferences (a conda or venv interpreter with its own PyTorch).
   It brings its own packages; ours are not put in front of them (they could be built for another Python, and
   would hide that a package is missing there).
2. "gpu": a CUDA or ROCm build of PyTorch that the add-on installed into its user folder (runtime/), run with
   Blender's own Python. Its folder comes first, the bundled wheels after it for everything else.
3. "bundled": Blender's own Python with the wheels that came in the extension zip. Blender unpacks them into
   one site-packages shared by all extensions and adds it to sys.path at run time, which a child process does
   not inherit: the folder is passed on explicitly (PYTHONPATH).
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass, field

RUNTIME_STAMP = "runtime.json"        # written last by a completed GPU runtime install
RUNTIME_SITE = "site-packages"        # pip --target folder inside the runtime folder

KIND_LABELS = {
    "interpreter": "Python interpreter from the preferences",
    "gpu": "GPU runtime installed by the add-on",
    "bundled": "Blender's Python with the bundled wheels",
}


def resolve_python(python: str | None) -> str:
    """The interpreter to run: Blender's own (sys.executable) when none is set; a bare command name such as
    "python3" is looked up on PATH; quotes pasted around a path in the preferences are dropped."""
    python = (python or "").strip().strip('"').strip("'")
    if not python:
        return sys.executable
    python = os.path.expanduser(python)
    if os.sep not in python and (os.altsep is None or os.altsep not in python):
        return shutil.which(python) or python
    return os.path.abspath(python)


def same_interpreter(python: str) -> bool:
    # Symlinks are deliberately not resolved: a virtual environment's python links to the system one but has
    # other site-packages.
    return os.path.normcase(os.path.abspath(python)) == os.path.normcase(os.path.abspath(sys.executable))


def site_dirs_of_this_process() -> list[str]:
    """site-packages folders on our sys.path, in order (Blender's extension wheels folder among them)."""
    return [p for p in sys.path
            if p and os.path.basename(os.path.normpath(p)) in ("site-packages", "dist-packages") and os.path.isdir(p)]


def has_package(folder: str, package: str) -> bool:
    return os.path.isfile(os.path.join(folder, package, "__init__.py"))


@dataclass(frozen=True)
class Runtime:
    """An interpreter plus the folders put in front of its own packages (PYTHONPATH, highest priority first).
    ``skipped`` says why runtimes earlier in the order were not taken."""
    kind: str
    python: str
    paths: tuple[str, ...] = ()
    skipped: tuple[str, ...] = field(default=(), compare=False)

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def env(self, package_dir: str, base_env: dict | None = None) -> dict:
        """The environment the worker process starts with."""
        env = dict(os.environ if base_env is None else base_env)
        paths = [package_dir, *self.paths]
        ours = same_interpreter(self.python)
        if not ours:
            # Our PYTHONPATH/PYTHONHOME (Blender's) could be built for another Python version.
            env.pop("PYTHONHOME", None)
        elif env.get("PYTHONPATH"):
            paths.append(env["PYTHONPATH"])
        if self.kind != "interpreter":
            # Blender ignores the user's site-packages (~/.local); so does its worker, or a stray torch there
            # could be imported instead of ours.
            env["PYTHONNOUSERSITE"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in paths if p))
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONIOENCODING"] = "utf-8"
        return env


def for_python(python: str | None) -> Runtime:
    """The runtime of an explicitly named interpreter (the worker client's ``python=`` argument): this very
    interpreter with the site-packages this process sees, or another interpreter with its own packages."""
    python = resolve_python(python)
    if same_interpreter(python):
        return Runtime("bundled", python, tuple(site_dirs_of_this_process()))
    return Runtime("interpreter", python)


def gpu_runtime_state(runtime_dir: str | None) -> tuple[str | None, str]:
    """(site-packages folder, "") when a completed GPU runtime install is there, else (None, why not)."""
    if not runtime_dir or not os.path.isdir(runtime_dir):
        return None, "no GPU runtime is installed"
    stamp_path = os.path.join(runtime_dir, RUNTIME_STAMP)
    site = os.path.join(runtime_dir, RUNTIME_SITE)
    if not os.path.isfile(stamp_path):
        return None, f"the GPU runtime in {runtime_dir} is incomplete (its install did not finish); install it again"
    try:
        with open(stamp_path, encoding="utf-8") as f:
            stamp = json.load(f)
    except (OSError, ValueError) as exc:
        return None, f"the GPU runtime's record {stamp_path} is unreadable ({exc}); install it again"
    built_for = str(stamp.get("python", ""))
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if built_for and built_for != running:
        return None, (f"the GPU runtime was installed for Python {built_for} and Blender now runs Python {running}; "
                      f"install it again")
    if not has_package(site, "torch"):
        return None, f"the GPU runtime in {runtime_dir} has no PyTorch; install it again"
    return site, ""


def choose_runtime(preferred_python: str | None = None, gpu_runtime_dir: str | None = None,
                   bundled_site_dirs: list[str] | tuple[str, ...] = (), base_python: str | None = None) -> Runtime:
    """The runtime the worker uses, in the order of the module docstring.

    preferred_python: the interpreter set in the preferences (empty: none). gpu_runtime_dir: the add-on's
    runtime folder. bundled_site_dirs: where Blender unpacked the extensions' wheels. base_python: Blender's
    own Python (default: this process's interpreter)."""
    if (preferred_python or "").strip():
        return Runtime("interpreter", resolve_python(preferred_python))
    base = resolve_python(base_python)
    bundled = [d for d in bundled_site_dirs if d and os.path.isdir(d)]
    if same_interpreter(base):
        # Blender's own site-packages (its numpy, for one) and anything else on our path come after ours.
        bundled += site_dirs_of_this_process()
    bundled = list(dict.fromkeys(bundled))
    gpu_site, why_not = gpu_runtime_state(gpu_runtime_dir)
    if gpu_site:
        return Runtime("gpu", base, tuple(dict.fromkeys([gpu_site, *bundled])))
    skipped = (why_not,) if gpu_runtime_dir and os.path.isdir(gpu_runtime_dir) else ()
    return Runtime("bundled", base, tuple(bundled), skipped=skipped)
