"""The shipped network weights: fp16 state dicts under weights/ plus a JSON manifest.

manifest.json: {"format": 1, "default": NAME | null, "models": {NAME: {"file", "sha256", "bytes",
"config": ModelConfig fields, "training": free-form provenance, optional "elevation": {"file", "sha256",
"bytes", "training"} for the camera-elevation head trained on that model's encoder}}}. Every file is checked against its
sha256 before torch reads it, so a truncated download or an edited file is reported as such instead of
producing a silently wrong mesh. Any problem raises DependencyError; the pipeline then falls back to the
training-free reconstruction."""
from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_atomic
from ..digest import sha256_of
from ..errors import DependencyError
from . import ModelConfig, build_model

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
MANIFEST_NAME = "manifest.json"
FORMAT = 1


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
    path = _verified(folder, entry, f"the model '{name}'")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model = build_model(ModelConfig.from_dict(entry["config"]))
        model.load_state_dict({k: v.float() for k, v in state.items()})
    except Exception as exc:   # a file that hashes right but does not fit this code: report, don't crash
        raise DependencyError(f"The weights file '{path}' does not fit this version of the model '{name}' ({exc}).") from None
    model.config = ModelConfig.from_dict(entry["config"])
    model.elevation_head = _load_elevation_head(folder, name, entry, model.config)
    return model.to(device or "cpu").eval()


def _verified(folder: Path, entry: dict, what: str) -> Path:
    if not isinstance(entry, dict) or not entry.get("file") or not entry.get("sha256"):
        raise DependencyError(f"The network weights manifest in '{folder}' names no file (or no checksum) for "
                              f"{what}. Reinstall the extension, or choose the model 'none'.")
    path = folder / entry["file"]
    if not path.exists():
        raise DependencyError(f"The weights file '{path}' for {what} is missing. Reinstall the "
                              "extension, or choose the model 'none'.")
    try:
        digest = sha256_of(path)
    except OSError as exc:   # permission denied, a folder in its place: a weights problem, not an output one
        raise DependencyError(f"The weights file '{path}' for {what} cannot be read ({exc.strerror or exc}). "
                              "Reinstall the extension, or choose the model 'none'.") from None
    if digest != entry["sha256"]:
        raise DependencyError(f"The weights file '{path}' for {what} is damaged (checksum "
                              f"{digest[:12]}... does not match {entry['sha256'][:12]}...). Reinstall the extension.")
    return path


def _load_elevation_head(folder: Path, name: str, entry: dict, config: ModelConfig):
    """The model's camera-elevation head, or None when none was trained for it."""
    import torch

    from .elevation import ElevationHead

    head_entry = entry.get("elevation")
    if not head_entry:
        return None
    path = _verified(folder, head_entry, f"the elevation head of '{name}'")
    try:
        head = ElevationHead(code_dim=config.code_dim)
        head.load_state_dict({k: v.float() for k, v in torch.load(path, map_location="cpu", weights_only=True).items()})
    except Exception as exc:
        raise DependencyError(f"The weights file '{path}' does not fit this version of the elevation head ({exc}).") from None
    return head.eval()


def _fp16_bytes(module) -> bytes:
    import io

    import torch

    state = {k: (v.detach().cpu().half() if v.is_floating_point() else v.detach().cpu())
             for k, v in module.state_dict().items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


def _write_manifest(folder: Path, manifest: dict) -> None:
    write_atomic(folder / MANIFEST_NAME, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())


def save_elevation_head(head, model_name: str, training: dict | None = None, folder: Path | None = None) -> Path:
    """Write an elevation head (fp16) beside the shipped model it was trained on, and record it in its entry."""
    folder = _folder(folder)
    manifest = read_manifest(folder)
    if model_name not in manifest["models"]:
        raise DependencyError(f"No model '{model_name}' in the manifest to attach an elevation head to.")
    path = folder / f"{model_name}.elevation.pt"
    write_atomic(path, _fp16_bytes(head))
    manifest["models"][model_name]["elevation"] = {"file": path.name, "sha256": sha256_of(path),
                                                   "bytes": path.stat().st_size, "training": training or {}}
    _write_manifest(folder, manifest)
    return path


def save_weights(model, config: ModelConfig, name: str | None = None, training: dict | None = None,
                 make_default: bool = False, folder: Path | None = None) -> Path:
    """Write the model as an fp16 state dict and record it (with its checksum) in the manifest."""
    folder = _folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = name or config.name
    path = folder / f"{name}.pt"
    write_atomic(path, _fp16_bytes(model))
    manifest = read_manifest(folder)
    manifest["models"][name] = {"file": path.name, "sha256": sha256_of(path), "bytes": path.stat().st_size,
                                "config": config.to_dict(), "training": training or {}}
    if make_default or not manifest.get("default"):
        manifest["default"] = name
    _write_manifest(folder, manifest)
    return path
