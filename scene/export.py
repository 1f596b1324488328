"""Writing one object with Blender's own exporters, never leaving a half-written result behind.

Every export goes into a hidden staging folder inside the output folder first (same file system, so the
final move is a rename). Companion files (an OBJ's .mtl, copied textures) move before the main file, so
whoever sees the main file also finds its companions; a failure removes the staging folder and nothing
else."""
from __future__ import annotations

import os
import shutil
import tempfile

import bpy

FORMATS = ("glb", "obj", "fbx", "usd", "ply", "stl", "blend")
EXTENSIONS = {"glb": ".glb", "obj": ".obj", "fbx": ".fbx", "usd": ".usdc", "ply": ".ply", "stl": ".stl",
              "blend": ".blend"}


class ExportError(Exception):
    pass


def _call_exporter(operator, **kwargs) -> None:
    """Run an export operator with only the keywords this Blender version knows (they move between releases)."""
    known = {p.identifier for p in operator.get_rna_type().properties}
    result = operator(**{k: v for k, v in kwargs.items() if k in known})
    if 'FINISHED' not in result:
        raise ExportError(f"Blender's exporter returned {sorted(result)}")


def _write(obj, path: str, fmt: str) -> None:
    ops = bpy.ops
    if fmt == "glb":
        # glTF's +Y up / +Z front is exactly the evaluation frame, so the file reads back in that frame.
        _call_exporter(ops.export_scene.gltf, filepath=path, export_format='GLB', use_selection=True,
                       export_apply=True, export_yup=True)
    elif fmt == "obj":
        _call_exporter(ops.wm.obj_export, filepath=path, export_selected_objects=True, export_uv=True,
                       export_normals=True, export_materials=True, path_mode='COPY')
    elif fmt == "fbx":
        _call_exporter(ops.export_scene.fbx, filepath=path, use_selection=True, path_mode='COPY',
                       embed_textures=True)
    elif fmt == "usd":
        _call_exporter(ops.wm.usd_export, filepath=path, selected_objects_only=True, export_materials=True,
                       export_uvmaps=True, export_textures=True, export_textures_mode='NEW')
    elif fmt == "ply":
        _call_exporter(ops.wm.ply_export, filepath=path, export_selected_objects=True, export_uv=True)
    elif fmt == "stl":
        _call_exporter(ops.wm.stl_export, filepath=path, export_selected_objects=True)
    elif fmt == "blend":
        _write_blend(obj, path)
    else:
        raise ExportError(f"Unknown format '{fmt}'; choose one of {', '.join(FORMATS)}.")


def _write_blend(obj, path: str) -> None:
    """A .blend holding one scene with just this object (or these objects), textures packed inside."""
    objects = obj if isinstance(obj, (list, tuple)) else [obj]
    scene = bpy.data.scenes.new(objects[0].name)
    images = {n.image for o in objects for m in o.data.materials if m for n in m.node_tree.nodes
              if n.type == 'TEX_IMAGE' and n.image}
    try:
        for each in objects:
            scene.collection.objects.link(each)
        for image in images:
            if image.packed_file is None:
                image.pack()
        bpy.data.libraries.write(path, {scene}, path_remap='ABSOLUTE', compress=True)
    finally:
        bpy.data.scenes.remove(scene)


def export_object(obj, output_dir: str, name: str, fmt: str) -> str:
    """Write `obj` (selected, and the only selected object; or a list of objects, all of them selected and
    nothing else) as `output_dir/name.<ext>`; returns that path."""
    if fmt not in EXTENSIONS:
        raise ExportError(f"Unknown format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    final_path = os.path.join(output_dir, name + EXTENSIONS[fmt])
    staging = tempfile.mkdtemp(prefix=".mesh_from_image-", dir=output_dir)
    try:
        main_file = os.path.join(staging, os.path.basename(final_path))
        _write(obj, main_file, fmt)
        if not os.path.isfile(main_file):
            raise ExportError("Blender's exporter finished but wrote no file")
        for root, _dirs, files in os.walk(staging):
            for file_name in files:
                source = os.path.join(root, file_name)
                if source == main_file:
                    continue
                target = os.path.join(output_dir, os.path.relpath(source, staging))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(source, target)
        os.replace(main_file, final_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final_path
