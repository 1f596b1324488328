"""Writing one object with Blender's own exporters, never leaving a half-written result behind.

Every export goes into a hidden staging folder inside the output folder first (same file system, so the
final move is a rename) and is read back there (`verify`): a file the disk cut short never replaces anything.
Companion files (an OBJ's .mtl, its texture, named after the output) move before the main file, so whoever
sees the main file also finds its companions; a failure removes the staging folder and nothing else."""
from __future__ import annotations

import json
import os
import shutil
import struct
import sys
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


# -- reading the written file back ------------------------------------------------------------------
# Blender's exporters report success for a file the disk cut short (a full disk, a quota): OBJ and STL with
# 0 triangles, a .blend with "Missing DNA block", USD "crate file corrupt". So every file is read back
# before it replaces anything: the triangle count for the mesh formats, the container's own structure for
# the others. Small parsers rather than trimesh or pxr: neither is there in every Blender.

def expected_triangles(objects) -> int:
    """Triangles of the objects as the exporters write them (modifiers applied)."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    total = 0
    for obj in objects:
        evaluated = obj.evaluated_get(depsgraph)
        mesh = evaluated.to_mesh()
        try:
            mesh.calc_loop_triangles()
            total += len(mesh.loop_triangles)
        finally:
            evaluated.to_mesh_clear()
    return total


def _obj_triangles(path: str) -> int:
    count = 0
    with open(path, "rb") as f:
        for line in f:
            if line.startswith(b"f "):
                count += len(line.split()) - 3
    return count


def _stl_triangles(path: str) -> int:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(84)
    if len(head) < 84:
        return 0
    count = struct.unpack("<I", head[80:84])[0]
    if head[:5] == b"solid" and size != 84 + 50 * count:   # an ASCII STL: complete when it ends its solid
        with open(path, "rb") as f:
            text = f.read()
        return text.count(b"endfacet") if b"endsolid" in text[-300:] else 0
    return count if size == 84 + 50 * count else 0


_PLY_SIZES = {"char": 1, "uchar": 1, "int8": 1, "uint8": 1, "short": 2, "ushort": 2, "int16": 2, "uint16": 2,
              "int": 4, "uint": 4, "int32": 4, "uint32": 4, "float": 4, "float32": 4, "double": 8, "float64": 8}
_PLY_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _ply_triangles(path: str) -> int:
    with open(path, "rb") as f:
        data = f.read()
    end = data.find(b"end_header\n")
    if not data.startswith(b"ply") or end < 0:
        return 0
    header = data[:end].decode("ascii", "replace").splitlines()
    body = data[end + len(b"end_header\n"):]
    fmt = next((line.split()[1] for line in header if line.startswith("format")), "")
    elements, current = [], None
    for line in header:
        parts = line.split()
        if parts and parts[0] == "element":
            current = [parts[1], int(parts[2]), []]
            elements.append(current)
        elif parts and parts[0] == "property" and current is not None:
            current[2].append(parts[1:])
    if fmt == "ascii":
        lines = body.split(b"\n")
        row, triangles = 0, 0
        for name, count, _props in elements:
            if row + count > len([x for x in lines if x.strip()]) and count:
                return 0
            if name == "face":
                triangles = sum(max(0, int(lines[row + i].split()[0]) - 2) for i in range(count))
            row += count
        return triangles
    little = fmt == "binary_little_endian"
    order = "<" if little else ">"
    offset, triangles = 0, 0
    for name, count, props in elements:
        if all(p[0] != "list" for p in props):
            offset += count * sum(_PLY_SIZES[p[0]] for p in props)
            continue
        for _ in range(count):
            for p in props:
                if p[0] == "list":
                    n_size, i_size = _PLY_SIZES[p[1]], _PLY_SIZES[p[2]]
                    if offset + n_size > len(body):
                        return 0
                    n = struct.unpack_from(order + _PLY_CODES[n_size], body, offset)[0]
                    offset += n_size + n * i_size
                    if name == "face":
                        triangles += max(0, n - 2)
                else:
                    offset += _PLY_SIZES[p[0]]
    return triangles if offset <= len(body) else 0


def _glb_triangles(path: str) -> int:
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 20 or data[:4] != b"glTF":
        return 0
    _version, length = struct.unpack_from("<II", data, 4)
    json_length, json_type = struct.unpack_from("<II", data, 12)
    if length != len(data) or json_type != 0x4E4F534A or 20 + json_length > len(data):
        return 0
    gltf = json.loads(data[20:20 + json_length])
    bin_length = struct.unpack_from("<I", data, 20 + json_length)[0] if len(data) >= 28 + json_length else 0
    for view in gltf.get("bufferViews", []):
        if view.get("byteOffset", 0) + view["byteLength"] > bin_length:
            return 0
    triangles = 0
    for mesh in gltf.get("meshes", []):
        for primitive in mesh.get("primitives", []):
            if primitive.get("mode", 4) == 4:
                accessor = primitive.get("indices")
                count = gltf["accessors"][accessor]["count"] if accessor is not None else \
                    gltf["accessors"][primitive["attributes"]["POSITION"]]["count"]
                triangles += count // 3
    return triangles


_FBX_FOOTER = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")


def _check_container(path: str, fmt: str) -> str | None:
    """What is wrong with a .blend, USD or FBX file, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if fmt == "fbx":
        if not data.startswith(b"Kaydara FBX Binary"):
            return "not an FBX file"
        return None if _FBX_FOOTER in data[-200:] else "its end is missing"
    if fmt == "usd":
        if not data.startswith(b"PXR-USDC") or len(data) < 24:
            return "not a USD crate file"
        toc = struct.unpack_from("<Q", data, 16)[0]
        if not 24 <= toc <= len(data) - 8:
            return "its table of contents is missing"
        sections = struct.unpack_from("<Q", data, toc)[0]
        if toc + 8 + sections * 32 > len(data):
            return "its table of contents is cut short"
        for i in range(sections):
            start, size = struct.unpack_from("<qq", data, toc + 8 + i * 32 + 16)
            if start < 0 or start + size > len(data):
                return "a section lies beyond the end of the file"
        return None
    if fmt == "blend":
        try:
            with bpy.data.libraries.load(path) as (source, _target):
                names = list(source.objects)
        except Exception as exc:   # noqa: BLE001 - Blender raises OSError or RuntimeError by version
            return f"Blender cannot read it back ({exc})"
        return None if names else "it holds no object"
    return None


_TRIANGLE_READERS = {"obj": _obj_triangles, "stl": _stl_triangles, "ply": _ply_triangles, "glb": _glb_triangles}


def _check_companion(path: str) -> str | None:
    if os.path.getsize(path) == 0:
        return "it is empty"
    if path.lower().endswith(".png"):
        with open(path, "rb") as f:
            f.seek(-12, os.SEEK_END)
            if f.read(12)[4:8] != b"IEND":
                return "the picture is cut short"
    return None


def verify(path: str, fmt: str, expected: int | None) -> str | None:
    """Why the exported file at `path` is not the complete mesh, or None when it is."""
    if not os.path.isfile(path):
        return "Blender's exporter finished but wrote no file"
    if os.path.getsize(path) == 0:
        return "the file is empty"
    try:
        if fmt in _TRIANGLE_READERS:
            found = _TRIANGLE_READERS[fmt](path)
            if found == 0 or (expected and found != expected):
                return f"it reads back with {found} of {expected or 'its'} triangles"
            return None
        return _check_container(path, fmt)
    except (OSError, ValueError, KeyError, IndexError, TypeError, struct.error) as exc:
        return f"it cannot be read back ({exc})"


# The formats whose textures are files beside the mesh (the others embed or pack them).
_TEXTURE_FILES = ("obj", "usd")


class _OwnTextures:
    """Each output's textures under names of its own while it is exported: Blender's OBJ (path_mode COPY) and
    USD exporters copy a texture under the picture's file name, so x/good1.png and y/good1.png exported into
    one folder shared one good1.png. The picture is copied into the staging folder as NAME_texture.EXT and
    the image points there during the export; the exporter then writes (or keeps) that name. With
    `write_packed` (OBJ) a packed image the material shows as its base colour (a reference sheet's atlas, a
    bake) is written there too: the OBJ exporter names only images that are files."""

    def __init__(self, objects, staging: str, name: str, write_packed: bool = False):
        self.changed = []
        images, shown = [], set()
        for obj in objects:
            for material in (m for m in obj.data.materials if m and m.node_tree):
                for node in material.node_tree.nodes:
                    if node.type == 'TEX_IMAGE' and node.image and node.image not in images:
                        images.append(node.image)
                    if node.type == 'BSDF_PRINCIPLED' and node.inputs["Base Color"].is_linked:
                        source = node.inputs["Base Color"].links[0].from_node
                        if source.type == 'TEX_IMAGE' and source.image is not None:
                            shown.add(source.image.name)
        for i, image in enumerate(images):
            suffix = '' if i == 0 else f'_{i + 1}'
            if image.packed_file is not None or image.source != 'FILE':
                # Generated and not packed: nothing to write. Packed: written, if at all, under the
                # datablock's name, or here for OBJ.
                if write_packed and image.packed_file is not None and image.name in shown:
                    own = os.path.join(staging, f"{name}_texture{suffix}.png")
                    image.save(filepath=own, save_copy=True)
                    self.changed.append((image, image.filepath))
                    image.filepath = own
                continue
            source = bpy.path.abspath(image.filepath, library=image.library)
            if not os.path.isfile(source):
                continue
            own = os.path.join(staging, f"{name}_texture{suffix}{os.path.splitext(source)[1].lower()}")
            shutil.copyfile(source, own)
            self.changed.append((image, image.filepath))
            image.filepath = own

    def restore(self):
        for image, filepath in self.changed:
            try:
                image.filepath = filepath
            except ReferenceError:
                pass


class _ExporterOutput:
    """What an exporter prints (file descriptors 1 and 2) while it runs, kept aside: when the disk cuts a
    write short, Blender's exporters print a Python traceback of their own, and the artist should get one
    line that names the disk instead. A successful exporter's output is passed on unchanged."""

    def __enter__(self):
        self.text = ""
        self._saved = []
        try:
            self._file = tempfile.TemporaryFile()
        except OSError:
            self._file = None
            return self
        for fd, stream in ((1, sys.stdout), (2, sys.stderr)):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
            self._saved.append((fd, os.dup(fd)))
            os.dup2(self._file.fileno(), fd)
        return self

    def __exit__(self, *exc):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        for fd, saved in self._saved:
            os.dup2(saved, fd)
            os.close(saved)
        if self._file is not None:
            self._file.seek(0)
            self.text = self._file.read().decode("utf-8", "replace")
            self._file.close()
        return False

    def last_error(self) -> str:
        import re
        lines = [line.strip() for line in self.text.splitlines() if line.strip() and "Traceback" not in line]
        errors = [m.group(0) for line in lines for m in [re.search(r"\b[A-Z]\w*(Error|Exception): .*", line)] if m]
        return errors[-1] if errors else ""

    def pass_on(self) -> None:
        if self.text:
            sys.stdout.write(self.text)
            sys.stdout.flush()


def _disk_message(output_dir: str, name: str, why: str) -> str:
    try:
        free = f"{shutil.disk_usage(output_dir).free / 1e6:.0f} MB free"
    except OSError:
        free = "free space unknown"
    return (f"Exporting '{name}' failed: {why}. The disk holding '{output_dir}' may be full or not writable "
            f"({free}); nothing was written and an older file of that name was kept.")


def export_object(obj, output_dir: str, name: str, fmt: str) -> str:
    """Write `obj` (selected, and the only selected object; or a list of objects, all of them selected and
    nothing else) as `output_dir/name.<ext>`; returns that path (export_files: every file written)."""
    return export_files(obj, output_dir, name, fmt)[0]


def export_files(obj, output_dir: str, name: str, fmt: str) -> list[str]:
    """export_object's work; returns the main file, then its companions (an OBJ's .mtl and textures). The
    file and its companions are written into a staging folder, read back (verify), and only then renamed into
    place, companions first."""
    if fmt not in EXTENSIONS:
        raise ExportError(f"Unknown format '{fmt}'; choose one of {', '.join(FORMATS)}.")
    objects = obj if isinstance(obj, (list, tuple)) else [obj]
    final_path = os.path.join(output_dir, name + EXTENSIONS[fmt])
    try:
        os.makedirs(output_dir, exist_ok=True)   # a batch's subfolder (outputs keep the inputs' folders)
        staging = tempfile.mkdtemp(prefix=".mesh_from_image-", dir=output_dir)
    except OSError as exc:
        raise ExportError(_disk_message(output_dir, name, f"no staging folder ({exc.strerror or exc})")) from None
    textures = None
    try:
        main_file = os.path.join(staging, os.path.basename(final_path))
        output = _ExporterOutput()
        try:
            if fmt in _TEXTURE_FILES:
                textures = _OwnTextures(objects, staging, name, write_packed=fmt == "obj")
            expected = expected_triangles(objects) if fmt in _TRIANGLE_READERS else None
            with output:
                _write(obj, main_file, fmt)
        except OSError as exc:
            raise ExportError(_disk_message(output_dir, name, exc.strerror or str(exc))) from None
        except (RuntimeError, ExportError) as exc:   # an exporter's own failure (Blender raises RuntimeError)
            why = output.last_error() or str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            raise ExportError(_disk_message(output_dir, name, why or "Blender's exporter failed")) from None
        finally:
            if textures is not None:
                textures.restore()
        problem = verify(main_file, fmt, expected)
        if problem is not None:
            raise ExportError(_disk_message(output_dir, name, f"the written file is incomplete ({problem})"))
        output.pass_on()
        companions = []
        for root, _dirs, files in os.walk(staging):
            for file_name in files:
                source = os.path.join(root, file_name)
                if source == main_file:
                    continue
                problem = _check_companion(source)
                if problem is not None:
                    raise ExportError(_disk_message(output_dir, name, f"'{file_name}' is incomplete ({problem})"))
                companions.append(source)
        written = [final_path]
        try:
            for source in companions:
                target = os.path.join(output_dir, os.path.relpath(source, staging))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.replace(source, target)
                written.append(target)
            os.replace(main_file, final_path)
        except OSError as exc:
            raise ExportError(_disk_message(output_dir, name, exc.strerror or str(exc))) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
