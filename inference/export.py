"""Writing a reconstruction to OBJ (+MTL +PNG), PLY or GLB with trimesh, atomically.

Files are written under temporary names in the target folder and renamed into place only when
complete, so an interrupted or failed export never leaves a half-written mesh behind, and an older
file of the same name survives until the new one is whole."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .atomic import write_atomic
from .result import Reconstruction

FORMATS = ("obj", "ply", "glb")
MAX_TEXTURE = 2048


def texture_crop(recon: Reconstruction) -> tuple[np.ndarray, np.ndarray]:
    """The part of the picture around the object (RGBA uint8) and UVs into it.

    Exporting the whole picture would waste space on background. Colours are bled outward into
    transparent pixels so texture filtering at the silhouette does not pull in a dark fringe."""
    from PIL import Image
    from scipy import ndimage

    img = recon.image
    h, w = img.shape[:2]
    # Pixel rectangle of the frame grid square, clipped to the picture.
    px = (recon.uvs[:, 0] * w, (1.0 - recon.uvs[:, 1]) * h)
    span = (px[0].max() - px[0].min(), px[1].max() - px[1].min())
    pad = 0.05 * max(span)
    x0 = int(max(0, np.floor(px[0].min() - pad)))
    x1 = int(min(w, np.ceil(px[0].max() + pad)))
    y0 = int(max(0, np.floor(px[1].min() - pad)))
    y1 = int(min(h, np.ceil(px[1].max() + pad)))
    crop = img[y0:y1, x0:x1].copy()
    opaque = crop[:, :, 3] > 127
    if opaque.any() and not opaque.all():
        _, (ri, ci) = ndimage.distance_transform_edt(~opaque, return_indices=True)
        crop[:, :, :3] = crop[ri, ci, :3]
    uv = np.stack([(px[0] - x0) / (x1 - x0), 1.0 - (px[1] - y0) / (y1 - y0)], axis=1).astype(np.float32)
    if max(crop.shape[:2]) > MAX_TEXTURE:
        s = MAX_TEXTURE / max(crop.shape[:2])
        crop = np.asarray(Image.fromarray(crop).resize((max(1, round(crop.shape[1] * s)), max(1, round(crop.shape[0] * s))),
                                                       Image.LANCZOS))
    return crop, uv


def _trimesh(recon: Reconstruction, textured: bool = True, material: str | None = None):
    import trimesh
    from PIL import Image

    mesh = trimesh.Trimesh(recon.vertices, recon.faces, process=False)
    if textured:
        tex, uv = texture_crop(recon)
        rgb = Image.fromarray(np.ascontiguousarray(tex[:, :, :3]))
        material = trimesh.visual.material.PBRMaterial(name=material or f"{recon.name}_material", baseColorTexture=rgb,
                                                       metallicFactor=0.0, roughnessFactor=0.8, doubleSided=False)
        mesh.visual = trimesh.visual.TextureVisuals(uv=uv, material=material)
    return mesh


def export(recon: Reconstruction, path: str | os.PathLike, fmt: str | None = None) -> list[Path]:
    """Write the mesh (and its texture where the format keeps one apart); returns the files written."""
    import trimesh

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ValueError(f"Unknown mesh format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "glb":
        data = trimesh.exchange.gltf.export_glb(trimesh.Scene(_trimesh(recon)))
        write_atomic(path, data)
        return [path]
    if fmt == "ply":
        # PLY readers disagree on texture coordinates; write the geometry and front-projection colours per vertex.
        mesh = _trimesh(recon, textured=False)
        mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=_vertex_colours(recon))
        write_atomic(path, trimesh.exchange.ply.export_ply(mesh, encoding="binary"))
        return [path]
    # The material (and so trimesh's texture file) is named after the output, not the input: two inputs
    # called good1.png in different folders must not share one good1_material.png.
    return write_obj(_trimesh(recon, material=f"{path.stem}_material"), path)


def write_obj(mesh, path: Path) -> list[Path]:
    """A textured trimesh as OBJ + MTL + texture beside it (named after `path`); returns the files written."""
    import trimesh
    text, files = trimesh.exchange.obj.export_obj(mesh, include_normals=True, include_texture=True,
                                                  return_texture=True, mtl_name=f"{path.stem}.mtl")
    written = []
    # Texture and material first, the .obj last: a reader that sees the .obj sees everything it names.
    for name, blob in files.items():
        target = path.parent / name
        write_atomic(target, blob if isinstance(blob, bytes) else blob.encode())
        written.append(target)
    write_atomic(path, text.encode())
    return written + [path]


def _vertex_colours(recon: Reconstruction) -> np.ndarray:
    """Front-projection colour per vertex, read from the bled texture so rim vertices never pick up the
    black of transparent pixels."""
    tex, uv = texture_crop(recon)
    h, w = tex.shape[:2]
    cols = np.clip((uv[:, 0] * w).astype(int), 0, w - 1)
    rows = np.clip(((1.0 - uv[:, 1]) * h).astype(int), 0, h - 1)
    rgba = tex[rows, cols].copy()
    rgba[:, 3] = 255
    return rgba


__all__ = ["export", "texture_crop", "FORMATS"]
