"""The shipped network weights: fp16 state dicts under weights/ plus a JSON manifest.

manifest.json: {"format": 1, "default": NAME | null, "models": {NAME: {"file", "sha256", "bytes",
"config": ModelConfig fields, "training": free-form provenance}}}. Every file is checked against its
sha256 before torch reads it, so a truncated download or an edited file is reported as such instead of
producing a silently wrong mesh. Any problem raises DependencyError; the pipeline then falls back to the
training-free reconstruction."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from ..errors import DependencyError
from . import ModelConfig, build_model

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST_NAME = "manifest.json"
FORMAT = 1


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _folder(folder) -> Path:
    # Resolved at call time so tests (and --weights-dir) can point the module elsewhere.
    return Path(folder) if folder is not None else WEIGHTS_DIR


def read_manifest(folder: Path | None = None) -> dict:
    """The manifest, or an empty one when no weights ship (a checkout without trained models)."""
    path = _folder(folder) / MANIFEST_NAME
    if not path.exists():
        return {"format": FORMAT, "default": None, "models": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DependencyError(f"The network weights manifest '{path}' cannot be read ({exc}). Reinstall the "
                              "extension, or choose the model 'none'.") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("models"), dict):
        raise DependencyError(f"The network weights manifest '{path}' has an unknown format. Reinstall the extension.")
    return manifest


def load_model(name: str, device=None, folder: Path | None = None):
    """The named model with its verified weights, in eval mode, fp32, on `device`."""
    import torch

    folder = _folder(folder)
    entry = read_manifest(folder)["models"].get(name)
    if entry is None:
        raise DependencyError(f"No weights for the model '{name}' ship with this installation.")
    path = folder / entry["file"]
    if not path.exists():
        raise DependencyError(f"The weights file '{path}' for the model '{name}' is missing. Reinstall the "
                              "extension, or choose the model 'none'.")
    digest = sha256_of(path)
    if digest != entry["sha256"]:
        raise DependencyError(f"The weights file '{path}' for the model '{name}' is damaged (checksum "
                              f"{digest[:12]}... does not match {entry['sha256'][:12]}...). Reinstall the extension.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(ModelConfig.from_dict(entry["config"]))
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except Exception as exc:   # a file that hashes right but does not fit this code: report, don't crash
        raise DependencyError(f"The weights file '{path}' does not fit this version of the model '{name}' ({exc}).") from None
    model.config = ModelConfig.from_dict(entry["config"])
    return model.to(device or "cpu").eval()


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_weights(model, config: ModelConfig, name: str | None = None, training: dict | None = None,
                 make_default: bool = False, folder: Path | None = None) -> Path:
    """Write the model as an fp16 state dict and record it (with its checksum) in the manifest."""
    import io

    import torch

    folder = _folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = name or config.name
    state = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
             for k, v in model.state_dict().items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    path = folder / f"{name}.pt"
    _write_atomic(path, buf.getvalue())
    manifest = read_manifest(folder)
    manifest["models"][name] = {"file": path.name, "sha256": sha256_of(path), "bytes": path.stat().st_size,
                                "config": config.to_dict(), "training": training or {}}
    if make_default or not manifest.get("default"):
        manifest["default"] = name
    _write_atomic(folder / MANIFEST_NAME, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return path
