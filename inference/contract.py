"""What crosses the boundaries between Blender, the headless commands, the worker and the engine, written once.

The reconstruction's options (each with its default, bounds and help), their worker-message form, the
protocol version, and the typed answer (mesh arrays, the picture transform, the info fields). The Blender
operator's properties, `blender -c mesh_from_image`, `python -m inference`, the worker on both ends and the
benchmark all take their options from here, so a default or a limit changes in one place.

Imports only the standard library and `.errors` at module level: Blender (scene/, worker/) imports this
without torch, and numpy is imported only by the functions that handle arrays. `inference/__init__.py`
keeps to cheap imports for the same reason (tests/engine/test_contract.py checks both)."""
from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    import numpy as np

# The worker's ready event and every request carry this. 2: options are validated (unknown names are
# refused) and the result carries the picture transform (`ImageFrame`) instead of leaving it to a fit of UVs.
# 3: the "reconstruct_views" job (reference sheets, `SheetRequest` / `SheetResult`); a worker of 2 would
# answer it "unknown command", so the client refuses it at start-up instead. 4: a sheet's answer carries a
# texture atlas and per-corner UVs (SHEET_ARRAYS, SheetViewInfo.crop/tile) and the job reports progress.
PROTOCOL_VERSION = 4

DEVICES = ("auto", "cpu", "cuda", "gpu", "mps")
MODEL_AUTO, MODEL_NONE = "auto", "none"

# One range for every entry point: the engine's own bounds. Everything `python -m inference` and the engine
# accepted keeps working; the operator's narrower 200-50,000 was a choice for the slider, which keeps its
# 200-20,000 soft range (an artist can still type more, and dense meshes are the remesher refining a fit of
# at most pipeline.NETWORK_MAX_VERTICES, 40k in about 13 s here); the headless command's ">= 100" had no
# ceiling, so a typo of 10^7 reached the engine before it was refused.
VERTICES_MIN, VERTICES_MAX = 100, 200_000
# The fit converges within its default 150 steps; a few thousand are useful to hold a job long enough to
# cancel it (the worker tests use 4,000), and beyond 10,000 it is a typo that would run for minutes.
STEPS_MIN, STEPS_MAX = 1, 10_000
# A millimetre (the operator's old floor); the headless command accepted anything above 0.
SIZE_MIN = 0.001


class OptionError(InputError, ValueError):
    """An option has the wrong type or lies outside its bounds. An InputError, so the worker answers it as
    kind "input", and a ValueError, so Blender's callers report it as they do other bad values."""


@dataclass(frozen=True)
class Spec:
    """How one option is shown and checked; the default is the dataclass field's."""
    help: str                               # one sentence, shown in --help and as the Blender tooltip
    label: str = ""                         # Blender property name
    minimum: float | None = None
    maximum: float | None = None
    soft_min: float | None = None           # Blender slider range only
    soft_max: float | None = None
    choices: tuple | None = None
    flags: tuple[str, ...] = ()             # command-line spellings (a True-by-default bool: its --no- flag)
    flag_help: str = ""                     # help of a --no- flag (what switching it off does)


def _option(default, help: str, **spec):
    return field(default=default, metadata={"spec": Spec(help=help, **spec)})


@dataclass
class ReconstructionOptions:
    """The options of one reconstruction: what the engine takes and what the worker message carries."""
    template_vertices: int = _option(
        2500, "Approximate number of vertices of the mesh", label="Density", minimum=VERTICES_MIN,
        maximum=VERTICES_MAX, soft_min=200, soft_max=20_000, flags=("--vertices",))
    refine: bool = _option(
        True, "Fit the surface to the silhouette after the first estimate", label="Refine",
        flags=("--no-refine",), flag_help="skip the silhouette fit")
    refine_steps: int = _option(
        150, "Silhouette fit (refinement) iterations", label="Steps", minimum=STEPS_MIN, maximum=STEPS_MAX,
        soft_max=2000, flags=("--refine-steps", "--steps"))
    device: str = _option(
        "auto", "Where the reconstruction computes (gpu: CUDA, else Apple MPS)", label="Device", choices=DEVICES,
        flags=("--device",))
    model: str = _option(
        MODEL_AUTO, "Shape prior: auto (the shipped learned model, the default), none (inflated silhouette, "
                    "training-free) or a model name", label="Shape Prior", flags=("--model",))
    object_index: int = _option(
        0, "Which separate object of the picture, largest first (info object_count says how many)",
        label="Object", minimum=0)
    untangle: bool = _option(True, "Smooth away self-intersections after the fit", label="Untangle")
    remesh: bool = _option(
        True, "Remesh the surface into even triangles of about the chosen density (off: keep the template's "
              "triangles, which a learned prior stretches)", label="Even Triangles",
        flags=("--no-remesh",), flag_help="keep the template's triangles instead of remeshing them evenly after the fit")
    # On by default: keeping holes lowered realval's F@0.05 by more than 0.01 on the torus, the chair and the
    # scissors (the learned prior flattens the depth around a hole; it was never trained on shapes with holes).
    fill_holes: bool = _option(
        True, "Fill the openings the picture shows through the object (a mug's handle, a ring): one closed "
              "surface without handles. Off: openings the background shows through stay holes", label="Fill Holes",
        flags=("--keep-holes",), flag_help="keep the openings the picture shows through the object as holes")

    # -- checking ------------------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every option that is wrong, each named with its bounds and the value given."""
        found = []
        for f in fields(self):
            found += _check(f.name, getattr(self, f.name))
        return found

    def validate(self) -> "ReconstructionOptions":
        found = self.problems()
        if found:
            raise OptionError("Invalid reconstruction option" + ("s" if len(found) > 1 else "") + ": "
                              + "; ".join(found) + ".")
        return self

    # -- the worker message ----------------------------------------------------------------------------
    def to_wire(self) -> dict:
        """Every option, always: a request that leaves one out would get the engine's default, which is how
        Inflated Silhouette once ran the network (model "none" was dropped and the engine took "auto")."""
        return asdict(self)

    @classmethod
    def from_wire(cls, message: dict | None) -> "ReconstructionOptions":
        """The options of a request, checked. Missing names take their defaults; unknown names are refused
        (a client from another version would otherwise have its choice ignored without a word)."""
        if message is None:
            return cls()
        if not isinstance(message, dict):
            raise OptionError(f"The options must be a mapping of names to values, not {type(message).__name__}.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(message) - known)
        if unknown:
            raise OptionError(f"Unknown reconstruction option(s): {', '.join(map(str, unknown))} "
                              f"(known: {', '.join(sorted(known))}).")
        return cls(**{name: _coerce(name, value) for name, value in message.items()}).validate()

    to_dict = to_wire                   # the JSON report and older callers
    from_dict = from_wire


_FIELDS = {f.name: f for f in fields(ReconstructionOptions)}

# Options of a run that stay on the Blender side (not sent to the worker) but are shared by the operator
# and the headless command.
BLENDER_SPECS: dict[str, tuple[Any, Spec]] = {
    "size": (1.0, Spec(help="Length of the silhouette's longer side in metres", label="Size", minimum=SIZE_MIN,
                       soft_max=100.0, flags=("--size",))),
}


def spec(name: str) -> Spec:
    return _FIELDS[name].metadata["spec"] if name in _FIELDS else BLENDER_SPECS[name][1]


def default(name: str):
    return _FIELDS[name].default if name in _FIELDS else BLENDER_SPECS[name][0]


def _range_text(s: Spec) -> str:
    if s.minimum is not None and s.maximum is not None:
        return f"between {s.minimum:g} and {s.maximum:g}"
    if s.minimum is not None:
        return f"at least {s.minimum:g}"
    return f"at most {s.maximum:g}"


def _check(name: str, value) -> list[str]:
    s, kind = spec(name), type(default(name))
    if kind is bool:
        return [] if isinstance(value, bool) else [f"{name} must be true or false (got {value!r})"]
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (kind is int and not float(value).is_integer()) or not math.isfinite(value):
            return [f"{name} must be {'a whole number' if kind is int else 'a number'} (got {value!r})"]
        if (s.minimum is not None and value < s.minimum) or (s.maximum is not None and value > s.maximum):
            return [f"{name} must be {_range_text(s)} (got {value:g})"]
        return []
    if not isinstance(value, str) or not value.strip():
        return [f"{name} must be a non-empty name (got {value!r})"]
    if s.choices is not None and value.lower() not in s.choices:
        return [f"{name} must be one of {', '.join(s.choices)} (got {value!r})"]
    return []


def _coerce(name: str, value):
    """A JSON value as the option's type where that loses nothing (2500.0 -> 2500); anything else is left
    for the check to name."""
    kind = type(default(name))
    if kind is int and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def check(name: str, value) -> None:
    """Raise OptionError when one option's value is wrong (for Blender-side options such as size)."""
    found = _check(name, value)
    if found:
        raise OptionError(f"Invalid option: {found[0]}.")


# -- command lines --------------------------------------------------------------------------------------
ENGINE_FLAGS = ("template_vertices", "refine", "refine_steps", "device", "model", "remesh", "fill_holes")


def _arg_type(name: str):
    kind = type(default(name))

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'a whole number' if kind is int else 'a number'}")
        found = _check(name, value)
        if found:
            raise argparse.ArgumentTypeError(found[0].split(" ", 1)[1])   # "must be between ..."
        return value
    parse.__name__ = kind.__name__   # argparse names the type in "invalid int value" messages
    return parse


def add_arguments(parser, names=ENGINE_FLAGS) -> None:
    """Add the named options' flags to an argparse parser (or group), with defaults, bounds and help from here.
    The values land under the option's own name (args.template_vertices, args.refine, ...)."""
    for name in names:
        s, value = spec(name), default(name)
        if isinstance(value, bool):
            parser.add_argument(*s.flags, dest=name, action="store_false" if value else "store_true",
                                help=s.flag_help or s.help)
        elif isinstance(value, (int, float)):
            parser.add_argument(*s.flags, dest=name, type=_arg_type(name), default=value,
                                metavar="N" if isinstance(value, int) else "X",
                                help=f"{s.help} ({_range_text(s)}; default {value:g})".replace("%", "%%"))
        else:
            parser.add_argument(*s.flags, dest=name, default=value, choices=s.choices,
                                help=f"{s.help} (default {value})".replace("%", "%%"))


def options_from_args(args, **overrides) -> ReconstructionOptions:
    """The ReconstructionOptions of parsed arguments (options without a flag keep their defaults)."""
    given = {name: getattr(args, name) for name in _FIELDS if hasattr(args, name)}
    return ReconstructionOptions(**dict(given, **overrides)).validate()


# -- Blender properties ---------------------------------------------------------------------------------
def blender_property(name: str, **extra) -> dict:
    """Keyword arguments for bpy.props.{Int,Float,Bool,String}Property: name, description, default and, for
    numbers, min/max/soft_min/soft_max. `extra` (subtype, unit, options...) is passed through."""
    s, value = spec(name), default(name)
    kwargs = {"name": s.label or name, "description": s.help, "default": value}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        for key, bound in (("min", s.minimum), ("max", s.maximum), ("soft_min", s.soft_min),
                           ("soft_max", s.soft_max)):
            if bound is not None:
                kwargs[key] = type(value)(bound)
    kwargs.update(extra)
    return kwargs


# -- the answer -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageFrame:
    """Where the evaluation frame lies in the whole picture: u = u_scale * x + u_offset and
    v = v_scale * y + v_offset (UVs, v up) for evaluation-frame (x, y). The engine knows it exactly; Blender
    uses it to place a reference camera, lay several objects out as in the picture, and recompute UVs after
    a remesher dropped them."""
    u_scale: float
    u_offset: float
    v_scale: float
    v_offset: float

    def __post_init__(self):
        if not all(math.isfinite(v) for v in (self.u_scale, self.u_offset, self.v_scale, self.v_offset)) \
                or self.u_scale <= 0 or self.v_scale <= 0:
            raise ValueError(f"Not a front projection into the picture: {self}.")

    def uvs(self, xy: "np.ndarray") -> "np.ndarray":
        import numpy as np
        xy = np.asarray(xy, dtype=np.float64)
        return np.stack([self.u_scale * xy[..., 0] + self.u_offset,
                         self.v_scale * xy[..., 1] + self.v_offset], axis=-1).astype(np.float32)

    def picture_extent(self) -> tuple[float, float]:
        """Width and height of the whole picture in this frame's units."""
        return 1.0 / self.u_scale, 1.0 / self.v_scale

    def picture_centre(self) -> tuple[float, float]:
        """Frame (x, y) of the picture's centre (u = v = 0.5)."""
        return (0.5 - self.u_offset) / self.u_scale, (0.5 - self.v_offset) / self.v_scale

    def to_wire(self) -> dict:
        return asdict(self)

    @classmethod
    def from_wire(cls, message: dict) -> "ImageFrame":
        return cls(**{f.name: float(message[f.name]) for f in fields(cls)})


@dataclass
class ResultInfo:
    """The facts the engine reports about one reconstruction. `extra` keeps whatever else it says, so a
    new engine fact reaches Blender's panels without a change here."""
    model: str = MODEL_NONE               # the prior that ran: a model name, or "none" (training-free)
    mask_source: str = ""                 # how the object was found: alpha, background colour, user mask
    object_count: int = 1                 # separate objects in the picture (largest first)
    vertices: int = 0
    faces: int = 0
    grid: int = 0                         # the fit's square grid
    network_vertices: int | None = None   # the template density the network ran at
    elevation: float | None = None        # radians, the model's estimate of the camera elevation
    warning: str | None = None            # e.g. the learned model could not load and the training-free path ran
    self_intersections: dict | None = None
    remeshed: bool | None = None
    remesh_rejected: str | None = None
    holes: int | None = None              # through-holes kept (the mesh's genus when all survive)
    hole_areas: list | None = None        # each kept hole's area as a share of the filled silhouette, largest first
    genus: int | None = None              # handles of the result mesh (from its Euler characteristic)
    extra: dict = field(default_factory=dict)

    # What `python -m inference --report` writes of it besides sizes and timings.
    REPORTED = ("model", "mask_source", "warning", "self_intersections", "remeshed", "remesh_rejected", "elevation",
                "holes", "hole_areas", "genus")

    def to_wire(self) -> dict:
        plain = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return dict(self.extra, **{k: v for k, v in plain.items() if v is not None})

    @classmethod
    def from_wire(cls, message: dict | None) -> "ResultInfo":
        message = dict(message or {})
        known = {f.name for f in fields(cls)} - {"extra"}
        info = cls(**{k: message.pop(k) for k in list(message) if k in known})
        info.extra = message
        return info

    def get(self, key: str, fallback=None):
        """Dict-style access for the panels and scripts that read facts by name."""
        if key in self.extra:
            return self.extra[key]
        value = getattr(self, key, None) if key in {f.name for f in fields(self)} - {"extra"} else None
        return fallback if value is None else value


MESH_ARRAYS = {"vertices": ("float32", 3), "faces": ("int32", 3), "uvs": ("float32", 2)}


def _load_arrays(arrays, spec: dict) -> dict:
    """The answer's arrays as `spec` (name -> (dtype, width)) types them; ValueError naming a misshapen one."""
    import numpy as np
    loaded = {}
    for key, (dtype, width) in spec.items():
        a = np.array(arrays[key], dtype=dtype)
        if a.ndim != 2 or a.shape[1] != width:
            raise ValueError(f"The worker's {key} have shape {a.shape}, not (n, {width}).")
        loaded[key] = a
    return loaded


@dataclass
class MeshResult:
    """The worker's answer: a closed triangle mesh in the evaluation frame (see inference.result), its UVs
    into the whole picture, the picture transform, and the facts. On the wire the arrays travel as an .npz
    (MESH_ARRAYS) and the rest as the result event's JSON `meta`."""
    vertices: "np.ndarray"      # (N, 3) float32
    faces: "np.ndarray"         # (M, 3) int32
    uvs: "np.ndarray"           # (N, 2) float32
    frame: ImageFrame
    name: str = "image"
    device: str = "cpu"
    timings: dict = field(default_factory=dict)
    info: ResultInfo = field(default_factory=ResultInfo)

    def meta_to_wire(self) -> dict:
        return {"name": self.name, "device": self.device, "timings": dict(self.timings),
                "info": self.info.to_wire(), "frame": self.frame.to_wire()}

    def save_arrays(self, path: str) -> None:
        import numpy as np
        with open(path, "wb") as f:   # a file object: np.savez would append .npz to a name without it
            np.savez(f, **{k: np.asarray(getattr(self, k), dtype=t) for k, (t, _) in MESH_ARRAYS.items()})

    @classmethod
    def from_wire(cls, meta: dict, arrays) -> "MeshResult":
        """From the result event's meta and the mapping of its arrays (an open .npz). Raises ValueError
        (with what is wrong) for an answer that does not hold together."""
        loaded = _load_arrays(arrays, MESH_ARRAYS)
        if len(loaded["uvs"]) != len(loaded["vertices"]):
            raise ValueError("The worker's UVs do not match its vertices.")
        if "frame" not in meta:
            raise ValueError("The worker's answer carries no picture transform (a worker of another version?).")
        return cls(**loaded, frame=ImageFrame.from_wire(meta["frame"]), name=str(meta.get("name") or "image"),
                   device=str(meta.get("device") or ""), timings=dict(meta.get("timings") or {}),
                   info=ResultInfo.from_wire(meta.get("info")))


# -- reference sheets (several views of one object) ------------------------------------------------------
# The view names of inference/sheets.py (which imports numpy and scipy, so it is not imported here), in the
# order Blender's sidebar shows them. Blender's numpad views: front looks along +Y, right along -X, back
# along -Y, left along +X, top down along -Z, bottom up along +Z.
SHEET_VIEWS = ("front", "back", "left", "right", "top", "bottom")


def sheet_problems(views) -> list[str]:
    """What is wrong with a set of view names before anything is read (the engine says the same, later)."""
    names = list(views)
    unknown = [n for n in names if n not in SHEET_VIEWS]
    if unknown:
        return [f"Unknown view name(s) {', '.join(map(repr, unknown))}: use {', '.join(SHEET_VIEWS)}."]
    if len(names) < 2:
        return [f"A reference sheet needs at least two views (got {len(names)}: {', '.join(names) or 'none'}); "
                f"for one picture use the single-picture reconstruction."]
    if "front" not in names and "back" not in names:
        return [f"A reference sheet needs a front or a back view to set the frame (got {', '.join(names)})."]
    return []


@dataclass
class SheetRequest:
    """The fields of a "reconstruct_views" request besides cmd/id/protocol/output_path: each view's picture
    as a file the engine reads (`views`) or as pixels in a .npy (`view_arrays`, float or uint8 RGBA, rows
    top-down), optional user masks per view, the options and the object's name."""
    views: dict = field(default_factory=dict)          # view name -> picture path
    view_arrays: dict = field(default_factory=dict)    # view name -> .npy path of the picture's pixels
    masks: dict = field(default_factory=dict)          # view name -> mask picture path
    options: ReconstructionOptions = field(default_factory=ReconstructionOptions)
    name: str | None = None

    def problems(self) -> list[str]:
        found = []
        both = sorted(set(self.views) & set(self.view_arrays))
        if both:
            found.append(f"View(s) given both as a file and as pixels: {', '.join(both)}.")
        found += sheet_problems(list(self.views) + [n for n in self.view_arrays if n not in self.views])
        stray = sorted(set(self.masks) - set(self.views) - set(self.view_arrays))
        if stray:
            found.append(f"Mask(s) given for view(s) without a picture: {', '.join(stray)}.")
        return found

    def validate(self) -> "SheetRequest":
        found = self.problems()
        if found:
            raise InputError(" ".join(found))
        self.options.validate()
        return self

    def to_wire(self) -> dict:
        return {"views": {str(k): str(v) for k, v in self.views.items()},
                "view_arrays": {str(k): str(v) for k, v in self.view_arrays.items()},
                "masks": {str(k): str(v) for k, v in self.masks.items()},
                "options": self.options.to_wire(), **({"name": self.name} if self.name else {})}

    @classmethod
    def from_wire(cls, message: dict) -> "SheetRequest":
        def mapping(key):
            value = message.get(key) or {}
            if not isinstance(value, dict):
                raise InputError(f"The request's {key} must map view names to paths, not {type(value).__name__}.")
            return {str(k): str(v) for k, v in value.items()}
        return cls(views=mapping("views"), view_arrays=mapping("view_arrays"), masks=mapping("masks"),
                   options=ReconstructionOptions.from_wire(message.get("options")),
                   name=message.get("name") or None).validate()


@dataclass(frozen=True)
class SheetViewInfo:
    """How the engine read one view: the silhouette's box (x0, y0, x1, y1) in pixels of a picture of
    `shape` (height, width) pixels (the engine's working copy, same proportions as the file), the frame
    units per pixel along the view's image right and image up, and the result's silhouette IoU there.
    Frame point (x, y) of the reference view lies at pixel (cx + x / scale[0], cy - y / scale[1]), (cx, cy)
    the box's centre; Blender uses this to line the object up with the reference images. The view's pixels
    `crop` (x0, y0, x1, y1) lie in the texture atlas at `tile` (x0, y0, x1, y1, atlas pixels, rows top-down)."""
    box: tuple
    shape: tuple
    scale: tuple
    mask_source: str = ""
    silhouette_iou: float | None = None
    crop: tuple | None = None
    tile: tuple | None = None

    def to_wire(self) -> dict:
        wire = {"box": [float(b) for b in self.box], "shape": [int(s) for s in self.shape],
                "scale": [float(s) for s in self.scale], "mask_source": self.mask_source,
                "silhouette_iou": None if self.silhouette_iou is None else float(self.silhouette_iou)}
        for key in ("crop", "tile"):
            if getattr(self, key) is not None:
                wire[key] = [int(c) for c in getattr(self, key)]
        return wire

    @classmethod
    def from_wire(cls, message: dict) -> "SheetViewInfo":
        box, shape, scale = (tuple(message[k]) for k in ("box", "shape", "scale"))
        if len(box) != 4 or len(shape) != 2 or len(scale) != 2 or min(shape) <= 0 or min(scale) <= 0:
            raise ValueError(f"Not a view description: {message}.")
        rectangles = {}
        for key in ("crop", "tile"):
            if message.get(key) is not None:
                r = tuple(int(c) for c in message[key])
                if len(r) != 4 or r[2] <= r[0] or r[3] <= r[1]:
                    raise ValueError(f"Not a rectangle: the view's {key} {message[key]}.")
                rectangles[key] = r
        iou = message.get("silhouette_iou")
        return cls(tuple(float(b) for b in box), tuple(int(s) for s in shape), tuple(float(s) for s in scale),
                   str(message.get("mask_source") or ""), None if iou is None else float(iou), **rectangles)


# uvs: one per face corner (faces[i, c] has uvs[3 i + c]), into the texture (TEXTURE_ARRAY, rows top-down).
SHEET_ARRAYS = {"vertices": ("float32", 3), "faces": ("int32", 3), "vertex_colors": ("uint8", 4),
                "uvs": ("float32", 2)}
TEXTURE_ARRAY = "texture"
# The engine's atlas is at most 4096 pixels on its longer side (inference.sheet_texture.MAX_ATLAS); an answer
# with more is not from this engine.
TEXTURE_MAX = 8192


@dataclass
class SheetResult:
    """The worker's answer to "reconstruct_views": a closed triangle mesh in the reference (front, else back)
    view's evaluation frame with its texture (an atlas of the views' pictures, UVs per face corner) and the
    same colours per vertex, how each view was read, the warnings (shared extents that disagree, a guessed
    depth...), timings and facts. Arrays in the .npz (SHEET_ARRAYS and the TEXTURE_ARRAY), the rest in the
    result event's meta, marked kind "sheet"."""
    vertices: "np.ndarray"        # (N, 3) float32
    faces: "np.ndarray"           # (M, 3) int32
    vertex_colors: "np.ndarray"   # (N, 4) uint8
    uvs: "np.ndarray"             # (3 M, 2) float32, per face corner, v up
    texture: "np.ndarray"         # (H, W, 4) uint8 RGBA, rows top-down
    views: dict = field(default_factory=dict)    # view name -> SheetViewInfo
    reference: str = "front"
    name: str = "sheet"
    device: str = "cpu"
    warnings: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    info: ResultInfo = field(default_factory=ResultInfo)

    KIND = "sheet"

    def meta_to_wire(self) -> dict:
        return {"kind": self.KIND, "name": self.name, "device": self.device, "reference": self.reference,
                "warnings": [str(w) for w in self.warnings], "timings": dict(self.timings),
                "info": self.info.to_wire(), "views": {k: v.to_wire() for k, v in self.views.items()}}

    def save_arrays(self, path: str) -> None:
        import numpy as np
        with open(path, "wb") as f:
            np.savez(f, **{k: np.asarray(getattr(self, k), dtype=t) for k, (t, _) in SHEET_ARRAYS.items()},
                     **{TEXTURE_ARRAY: np.ascontiguousarray(self.texture, dtype=np.uint8)})

    @classmethod
    def from_wire(cls, meta: dict, arrays) -> "SheetResult":
        import numpy as np
        loaded = _load_arrays(arrays, SHEET_ARRAYS)
        if len(loaded["vertex_colors"]) != len(loaded["vertices"]):
            raise ValueError("The worker's vertex colours do not match its vertices.")
        if len(loaded["uvs"]) != 3 * len(loaded["faces"]) or not np.isfinite(loaded["uvs"]).all():
            raise ValueError("The worker's UVs do not match its faces (one per face corner).")
        texture = np.array(arrays[TEXTURE_ARRAY], dtype=np.uint8)
        if texture.ndim != 3 or texture.shape[2] != 4 or min(texture.shape[:2]) < 1 or \
                max(texture.shape[:2]) > TEXTURE_MAX:
            raise ValueError(f"The worker's texture has shape {texture.shape}, not (h, w, 4) within {TEXTURE_MAX}.")
        loaded["texture"] = texture
        views = {str(k): SheetViewInfo.from_wire(v) for k, v in (meta.get("views") or {}).items()}
        reference = str(meta.get("reference") or "front")
        if reference not in views:
            raise ValueError(f"The worker's answer does not describe its reference view {reference!r}.")
        return cls(**loaded, views=views, reference=reference, name=str(meta.get("name") or "sheet"),
                   device=str(meta.get("device") or ""), warnings=[str(w) for w in meta.get("warnings") or []],
                   timings=dict(meta.get("timings") or {}), info=ResultInfo.from_wire(meta.get("info")))


def answer_from_wire(meta: dict, arrays):
    """A result event's answer: a SheetResult when its meta says kind "sheet", else a MeshResult."""
    if (meta or {}).get("kind") == SheetResult.KIND:
        return SheetResult.from_wire(meta, arrays)
    return MeshResult.from_wire(meta, arrays)


__all__ = ["PROTOCOL_VERSION", "DEVICES", "OptionError", "Spec", "ReconstructionOptions", "BLENDER_SPECS", "spec",
           "default", "check", "add_arguments", "options_from_args", "blender_property", "ImageFrame",
           "ResultInfo", "MeshResult", "SHEET_VIEWS", "sheet_problems", "SheetRequest", "SheetViewInfo",
           "SheetResult", "SHEET_ARRAYS", "TEXTURE_ARRAY", "answer_from_wire", "VERTICES_MIN", "VERTICES_MAX",
           "STEPS_MIN", "STEPS_MAX", "SIZE_MIN"]
