"""What crosses the boundaries between Blender, the headless commands, the worker and the engine, written once.

The reconstruction's options (each with its default, bounds and help), their worker-message form, the
protocol version, and the typed answer (mesh arrays, the picture transform, the info fields). The Blender
operator's properties, `blender -c mesh_from_image`, `python -m inference`, the worker on both ends and the
benchmark all take their options from here, so a default or a limit changes in one place. The same holds for
the artist options (`ArtistOptions`: what the answer becomes in Blender; the scene code consumes that type),
the device choices of the preferences and redo panels, and the shape-prior choices.

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

# What Blender offers (the preferences and the redo panels); an identifier, lower-cased, is the engine's name.
DEVICE_ITEMS = (
    ('AUTO', "Automatic", "Use a GPU when the worker's PyTorch can reach one, otherwise the CPU"),
    ('CPU', "CPU", "Always run on the CPU"),
    ('GPU', "GPU", "Run on the GPU (CUDA, or Apple MPS); fails clearly when none is usable"),
)
# A run's own choice may defer to the preferences' (the operators resolve it before engine_device).
PREFERENCES_DEVICE = 'PREFERENCES'
# Blender identifier, the engine's model name, the Blender label and tooltip, the command line's word for it.
SHAPE_PRIORS = (
    ('LEARNED', MODEL_AUTO, "Learned",
     "The shipped learned shape prior guesses depth and back from the picture, then the fit follows the silhouette "
     "(falls back to the inflated silhouette when no weights ship)", "the shipped learned model"),
    ('NONE', MODEL_NONE, "Inflated Silhouette",
     "Training-free: the silhouette inflated into a rounded solid, then fitted (softer, rounder, never surprising)",
     "inflated silhouette, training-free"),
)

# One range for every entry point: the engine's own bounds. Everything `python -m inference` and the engine
# accepted keeps working; the operator's narrower 200-50,000 was a choice for the slider, which keeps its
# 200-20,000 soft range (an artist can still type more, and dense meshes are the remesher refining a fit of
# at most pipeline.NETWORK_MAX_VERTICES, 40k in about 13 s here); the headless command's ">= 100" had no
# ceiling, so a typo of 10^7 reached the engine before it was refused.
VERTICES_MIN, VERTICES_MAX = 100, 200_000
# The fit converges within its default 100 steps (realval, 84 views, with two remesh rounds: 150 steps and
# three rounds F@0.05 0.6364, F@0.02 0.336, normal consistency 0.708, IoU 0.965; 100 and two 0.6376, 0.337, 0.704,
# 0.965, 0.15-0.2 s sooner; docs/speed.md); a few thousand are useful to hold a job long enough to cancel it (the
# worker tests use 4,000), and beyond 10,000 it is a typo that would run for minutes.
STEPS_MIN, STEPS_MAX = 1, 10_000
# A millimetre (the operator's old floor); the headless command accepted anything above 0.
SIZE_MIN = 0.001

# The artist options' bounds. Faces: the redo panel's ceiling, now the headless command's too (it had none,
# and a typo of 10^8 would subdivide for minutes before decimating). A target face count is met within
# FACE_TOLERANCE (scene/topology.py keeps that promise, and the help texts state it).
FACES_MAX = 1_000_000
FACE_TOLERANCE = 0.10
SUBDIVISION_MAX = 4
# Below 16 px a bake is no texture; above 8192 px one RGBA float image alone takes 1 GiB.
BAKE_MIN, BAKE_MAX = 16, 8192
# Standing up a view from more than 80 degrees above (or below) turns the picture's depth guess into the
# object's height: scene/placement.py refuses such an estimate, and a typed elevation is bounded here.
MAX_ELEVATION = math.radians(80)
# Blender keeps float properties in single precision: a slider at its max of pi reads back as 3.1415927.
_FLOAT_SLACK = 1e-6
AUTO = "auto"   # --upright's word for the model's estimate
# How long a client waits for one job before it cancels it (the worker, Blender's operators and both commands'
# --timeout). Not a limit inside the geometry, which stops on work budgets: a guard against a hung worker. Ten
# minutes is far above the slowest real job (the 200k-vertex ceiling takes about a minute here).
JOB_TIMEOUT_S = 600.0


class OptionError(InputError, ValueError):
    """An option has the wrong type or lies outside its bounds. An InputError, so the worker answers it as
    kind "input", and a ValueError, so Blender's callers report it as they do other bad values."""


_UNSET = object()


@dataclass(frozen=True)
class Toggle:
    """The Blender property that switches a value option off (to its Spec.off) or on (to the value typed): a
    checkbox, or with `items` a choice whose first item is off, beside the value in the panel."""
    name: str
    label: str
    help: str
    items: tuple | None = None

    def is_on(self, value) -> bool:
        return value == self.items[1][0] if self.items else bool(value)


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
    flag_help: str = ""                     # help of a flag when it says more than the tooltip (a --no- flag:
                                            # what switching it off does)
    items: tuple | None = None              # Blender enum items (identifier, label, tooltip); the command line
                                            # takes the identifiers in lower case
    kind: type | None = None                # the value's type when the default (None) does not tell it
    off: Any = _UNSET                       # the value meaning "off", allowed outside the bounds
    off_help: str = ""                      # what the off value does, for --help
    angle: bool = False                     # radians in Python and Blender, degrees on the command line
    ui_default: Any = _UNSET                # Blender's default, where the panel starts elsewhere than scripts
                                            # and the headless command
    toggle: Toggle | None = None            # the Blender property that switches it off
    metavar: str = ""
    optional_value: str = ""                # a bool flag that may carry this option's value (--upright [DEG])
    default_flags: tuple[str, ...] = ()     # a bool's spellings that ask for its default: kept so that scripts
                                            # written when the default was the other way still run as they did


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
        100, "Silhouette fit (refinement) iterations", label="Steps", minimum=STEPS_MIN, maximum=STEPS_MAX,
        soft_max=2000, flags=("--refine-steps", "--steps"))
    device: str = _option(
        "auto", "Where the reconstruction computes (gpu: CUDA, else Apple MPS)", label="Device", choices=DEVICES,
        flags=("--device",))
    model: str = _option(
        MODEL_AUTO, "Shape prior: " + ", ".join(f"{m} ({said})" for _, m, _, _, said in SHAPE_PRIORS)
                    + " or a model name", label="Shape Prior", flags=("--model",))
    object_index: int = _option(
        0, "Which separate object of the picture, largest first (info object_count says how many)",
        label="Object", minimum=0)
    untangle: bool = _option(True, "Smooth away self-intersections after the fit", label="Untangle")
    remesh: bool = _option(
        True, "Remesh the surface into even triangles of about the chosen density (off: keep the template's "
              "triangles, which a learned prior stretches)", label="Even Triangles",
        flags=("--no-remesh",), flag_help="keep the template's triangles instead of remeshing them evenly after the fit")
    # Off by default: on realval keeping holes scores F@0.05 0.611 against 0.609 filled and a higher silhouette IoU
    # without filling on the 14 views whose masks show openings (0.877 / 0.850, the mesh's projection against the
    # rendered mask), every mesh closed and crossing-free; no object loses more than 0.006 (the torus: 0.709 /
    # 0.714). Before bench/holes_realval.py sampled the mesh as densely as the truth, kept holes looked worse.
    # docs/cleanup.md, "Holes".
    fill_holes: bool = _option(
        False, "Fill the openings the picture shows through the object (a mug's handle, a ring): one closed "
               "surface without handles. Off: openings the background shows through stay holes", label="Fill Holes",
        flags=("--fill-holes",), default_flags=("--keep-holes",),
        flag_help="fill the openings the picture shows through the object: one closed surface without handles")

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


# -- artist options ---------------------------------------------------------------------------------------
OBJECT_ITEMS = (
    ('LARGEST', "Largest", "Reconstruct the largest separate object of the picture"),
    ('SEPARATE', "One Each", "One object for each separate silhouette, laid out as in the picture"),
    ('JOINED', "Joined", "Every separate silhouette, joined into one object"),
)
ELEVATION_ITEMS = (
    ('ESTIMATED', "Estimated", "The camera elevation the model estimated (level when it gives none)"),
    ('MANUAL', "Manual", "The camera elevation typed below"),
)


@dataclass(frozen=True)
class ArtistOptions:
    """What the artist asked the finished object(s) to be, beside what the engine reconstructs: the redo
    panel's and sidebar's Artist Options, the headless command's artist flags, and what scene/build.py and
    scene/topology.py consume. Changing any of them only rebuilds in Blender: the worker's answer is reused.
    The dataclass defaults are the headless command's (and a script's); Spec.ui_default says where the
    panel starts elsewhere (Fill Sides and Stand Upright on). Checked when made (OptionError)."""
    target_faces: int = _option(
        0, f"Target face count (met within {FACE_TOLERANCE:.0%}); 0 keeps the reconstruction's", label="Faces",
        minimum=0, maximum=FACES_MAX, soft_max=100_000, flags=("--faces",))
    quads: bool = _option(False, "Quad remesh with QuadriFlow", label="Quads", flags=("--quads",))
    voxel_first: bool = _option(
        False, "Even out the surface with a voxel remesh before QuadriFlow", label="Voxel Remesh First",
        flags=("--voxel-first",))
    subdivision: int = _option(
        0, "Subdivision Surface levels, a live modifier that exporters apply", label="Subdivision", minimum=0,
        maximum=SUBDIVISION_MAX, flags=("--subdivision",), metavar="LEVELS")
    sharp_angle: float = _option(
        math.radians(60), "Edges sharper than this stay hard under smooth shading", label="Hard Edges",
        minimum=0.0, maximum=math.pi, angle=True, flags=("--sharp-angle",), metavar="DEGREES")
    fill_sides: bool = _option(
        False, "Texture the faces the camera did not see with the picture's own colours grown in from the "
               "silhouette (no backdrop fringe, no streaks on edge-on faces)", label="Fill Sides", ui_default=True,
        flags=("--fill-sides",))
    bake_size: int = _option(
        0, "Width and height of the baked texture in pixels", label="Texture Size", minimum=BAKE_MIN,
        maximum=BAKE_MAX, soft_max=4096, off=0, off_help="no bake", ui_default=1024,
        toggle=Toggle("bake", "Bake Texture", "Bake everything into one texture on a UV unwrap (for glTF and "
                                              "game engines)"),
        flags=("--bake",), metavar="SIZE",
        flag_help="Bake everything into one SIZE x SIZE texture on a UV unwrap, for glTF and game engines")
    upright: bool = _option(
        False, "Undo the camera's elevation, put the origin at the bottom centre and stand the object on the 3D "
               "cursor", label="Stand Upright", ui_default=True, flags=("--upright",), optional_value="elevation",
        flag_help="Stand the object on the ground (y = 0 in glTF), origin at the bottom centre, undoing the camera "
                  "elevation: the model's estimate (auto), or DEGREES when given")
    elevation: float | None = _option(
        None, "How far above the object the camera was (positive: looking down)", label="Camera Elevation",
        kind=float, minimum=-MAX_ELEVATION, maximum=MAX_ELEVATION, angle=True, off=None, ui_default=0.0,
        metavar="DEGREES",
        toggle=Toggle("elevation_source", "Elevation", "Where the camera elevation comes from", ELEVATION_ITEMS))
    objects: str = _option(
        "LARGEST", "What to make of several separate silhouettes", label="Objects", items=OBJECT_ITEMS,
        flags=("--objects",), flag_help="Several objects in a picture: the largest only, one object each (in one "
                                        "file), or joined into one")
    add_camera: bool = _option(
        False, "Add an orthographic camera that shows the object as the picture did, with the picture as its "
               "background", label="Reference Camera")

    def __post_init__(self):
        found = [problem for f in fields(self) for problem in _check(f.name, getattr(self, f.name))]
        if found:
            raise OptionError("Invalid artist option" + ("s" if len(found) > 1 else "") + ": "
                              + "; ".join(found) + ".")


_ARTIST_FIELDS = {f.name: f for f in fields(ArtistOptions)}
# The headless command's artist flags, in --help's order (the Reference Camera is Blender's only).
ARTIST_FLAGS = tuple(name for name, f in _ARTIST_FIELDS.items() if f.metadata["spec"].flags)


def spec(name: str) -> Spec:
    for known in (_FIELDS, _ARTIST_FIELDS):
        if name in known:
            return known[name].metadata["spec"]
    return BLENDER_SPECS[name][1]


def default(name: str):
    for known in (_FIELDS, _ARTIST_FIELDS):
        if name in known:
            return known[name].default
    return BLENDER_SPECS[name][0]


def _kind(name: str) -> type:
    return spec(name).kind or type(default(name))


def _shown(s: Spec, value: float) -> str:
    """A bound or value as the command line writes it: degrees for an angle, whole numbers in full."""
    value = math.degrees(value) if s.angle else value
    shown = f"{value:g}"
    return str(int(value)) if "e" in shown and float(value).is_integer() else shown


def _range_text(s: Spec) -> str:
    unit = " degrees" if s.angle else ""
    if s.minimum is not None and s.maximum is not None:
        text = f"between {_shown(s, s.minimum)} and {_shown(s, s.maximum)}{unit}"
    elif s.minimum is not None:
        text = f"at least {_shown(s, s.minimum)}{unit}"
    else:
        text = f"at most {_shown(s, s.maximum)}{unit}"
    if s.off is not _UNSET and s.off is not None:
        return f"{s.off:g} for {s.off_help or 'off'}, or {text}"
    return text


def _is_off(s: Spec, value) -> bool:
    return s.off is not _UNSET and type(value) is type(s.off) and value == s.off


def _check(name: str, value) -> list[str]:
    s, kind = spec(name), _kind(name)
    if _is_off(s, value):
        return []
    if kind is bool:
        return [] if isinstance(value, bool) else [f"{name} must be true or false (got {value!r})"]
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (kind is int and not float(value).is_integer()) or not math.isfinite(value):
            return [f"{name} must be {'a whole number' if kind is int else 'a number'} (got {value!r})"]
        slack = _FLOAT_SLACK if kind is float else 0.0
        if (s.minimum is not None and value < s.minimum - slack * max(1.0, abs(s.minimum))) or \
                (s.maximum is not None and value > s.maximum + slack * max(1.0, abs(s.maximum))):
            return [f"{name} must be {_range_text(s)} (got {_shown(s, value)})"]
        return []
    if not isinstance(value, str) or not value.strip():
        return [f"{name} must be a non-empty name (got {value!r})"]
    if s.items is not None and value not in [i[0] for i in s.items]:
        return [f"{name} must be one of {', '.join(i[0] for i in s.items)} (got {value!r})"]
    if s.choices is not None and value.lower() not in s.choices:
        return [f"{name} must be one of {', '.join(s.choices)} (got {value!r})"]
    return []


def _coerce(name: str, value):
    """A JSON value as the option's type where that loses nothing (2500.0 -> 2500); anything else is left
    for the check to name."""
    kind = _kind(name)
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


def _arg_type(name: str, words: tuple[str, ...] = ()):
    """The argparse type of an option's flag: the value checked against its bounds (an angle typed in degrees
    and returned in radians); `words` are passed through as typed (--upright's "auto")."""
    s, kind = spec(name), _kind(name)
    what = "a whole number" if kind is int else "a number of degrees" if s.angle else "a number"

    def parse(text: str):
        if text in words:
            return text
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}" + "".join(f" or {w}" for w in words))
        if s.angle and math.isfinite(value):
            value = math.radians(value)
        found = _check(name, value)
        if found:
            raise argparse.ArgumentTypeError(found[0].split(" ", 1)[1])   # "must be between ..."
        return value
    parse.__name__ = kind.__name__   # argparse names the type in "invalid int value" messages
    return parse


def _escaped(text: str) -> str:
    return text.replace("%", "%%")


def add_arguments(parser, names=ENGINE_FLAGS) -> None:
    """Add the named options' flags to an argparse parser (or group), with defaults, bounds and help from here.
    The values land under the option's own name (args.template_vertices, args.refine, ...), angles in radians."""
    for name in names:
        s, value, kind = spec(name), default(name), _kind(name)
        if s.optional_value:
            carried = spec(s.optional_value)
            parser.add_argument(*s.flags, dest=name, nargs="?", const=AUTO, default=None,
                                type=_arg_type(s.optional_value, (AUTO,)), metavar=carried.metavar or "X",
                                help=_escaped(f"{s.flag_help or s.help} ({_range_text(carried)})"))
        elif kind is bool:
            parser.add_argument(*s.flags, dest=name, action="store_false" if value else "store_true",
                                default=value, help=_escaped(s.flag_help or s.help))
            if s.default_flags:
                parser.add_argument(*s.default_flags, dest=name, action="store_true" if value else "store_false",
                                    default=value, help="the default (kept for older scripts)")
        elif kind in (int, float):
            parser.add_argument(*s.flags, dest=name, type=_arg_type(name), default=value,
                                metavar=s.metavar or ("N" if kind is int else "X"),
                                help=_escaped(f"{s.flag_help or s.help} ({_range_text(s)}; default "
                                              f"{_shown(s, value)})"))
        elif s.items is not None:
            parser.add_argument(*s.flags, dest=name, default=value.lower(),
                                choices=[i[0].lower() for i in s.items],
                                help=_escaped(f"{s.flag_help or s.help} (default {value.lower()})"))
        else:
            parser.add_argument(*s.flags, dest=name, default=value, choices=s.choices,
                                help=_escaped(f"{s.flag_help or s.help} (default {value})"))


def options_from_args(args, **overrides) -> ReconstructionOptions:
    """The ReconstructionOptions of parsed arguments (options without a flag keep their defaults)."""
    given = {name: getattr(args, name) for name in _FIELDS if hasattr(args, name)}
    return ReconstructionOptions(**dict(given, **overrides)).validate()


def artist_options_from_args(args) -> ArtistOptions:
    """The ArtistOptions of arguments parsed with add_arguments(..., ARTIST_FLAGS): --upright [DEG] gives both
    upright and elevation (None: the model's estimate), --objects its choice as Blender's identifier."""
    given = {}
    for name in ARTIST_FLAGS:
        if not hasattr(args, name):
            continue
        s, value = spec(name), getattr(args, name)
        if s.optional_value:
            given[name] = value is not None
            given[s.optional_value] = None if value in (None, AUTO) else value
        elif s.items is not None:
            given[name] = value.upper()
        else:
            given[name] = value
    return ArtistOptions(**given)


# -- Blender properties ---------------------------------------------------------------------------------
def blender_property(name: str, **extra) -> dict:
    """Keyword arguments for bpy.props.{Int,Float,Bool,String,Enum}Property: name, description, default (the
    panel's, Spec.ui_default, where it differs), items for a choice and, for numbers, min/max/soft_min/soft_max
    (an angle: radians, subtype ANGLE). `extra` (subtype, unit, options...) is passed through."""
    s, value = spec(name), default(name)
    if s.ui_default is not _UNSET:
        value = s.ui_default
    kwargs = {"name": s.label or name, "description": s.help, "default": value}
    if s.items is not None:
        kwargs["items"] = s.items
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        for key, bound in (("min", s.minimum), ("max", s.maximum), ("soft_min", s.soft_min),
                           ("soft_max", s.soft_max)):
            if bound is not None:
                kwargs[key] = type(value)(bound)
        if s.angle:
            kwargs["subtype"] = 'ANGLE'
    kwargs.update(extra)
    return kwargs


def blender_toggle(name: str) -> dict:
    """Keyword arguments for the Bool (or Enum) property that switches option `name` off (Spec.toggle): off by
    default."""
    toggle = spec(name).toggle
    kwargs = {"name": toggle.label, "description": toggle.help}
    if toggle.items:
        kwargs.update(items=toggle.items, default=toggle.items[0][0])
    else:
        kwargs["default"] = False
    return kwargs


def artist_options_from_properties(props) -> ArtistOptions:
    """The ArtistOptions of an operator's properties (made with blender_property and blender_toggle under the
    options' own names): an option whose toggle is off takes its off value (no bake, the estimated elevation)."""
    given = {}
    for name, f in _ARTIST_FIELDS.items():
        s, value = f.metadata["spec"], getattr(props, name)
        if s.toggle is not None and not s.toggle.is_on(getattr(props, s.toggle.name)):
            value = s.off
        given[name] = value
    return ArtistOptions(**given)


def device_property(per_run: bool = True) -> dict:
    """Keyword arguments for a device EnumProperty: a run's (its default defers to the preferences) or, with
    per_run False, the preferences' own."""
    if not per_run:
        return {"name": spec("device").label, "description": "Where the worker computes by default",
                "items": DEVICE_ITEMS, "default": default("device").upper()}
    return {"name": spec("device").label, "description": "Where the worker computes",
            "items": ((PREFERENCES_DEVICE, "Preferences", "Use the device chosen in the add-on preferences"),)
            + DEVICE_ITEMS, "default": PREFERENCES_DEVICE}


def engine_device(choice: str) -> str:
    """The engine's device name for a Blender device choice ('AUTO', 'CPU', 'GPU': an identifier of
    DEVICE_ITEMS) or an engine name already ('cuda', 'MPS'); anything else is "auto"."""
    name = str(choice).lower()
    return name if name in DEVICES else default("device")


def shape_prior_property() -> dict:
    """Keyword arguments for the Shape Prior EnumProperty, starting at the engine's default model."""
    model = default("model")
    return {"name": spec("model").label, "description": "What guesses the depth and the back before the fit",
            "items": tuple((identifier, label, text) for identifier, _, label, text, _ in SHAPE_PRIORS),
            "default": next(identifier for identifier, m, _, _, _ in SHAPE_PRIORS if m == model)}


def model_of_shape_prior(choice: str) -> str:
    """The engine's model name for a Shape Prior identifier."""
    for identifier, model, _, _, _ in SHAPE_PRIORS:
        if identifier == choice:
            return model
    raise OptionError(f"Unknown shape prior {choice!r} (known: {', '.join(i[0] for i in SHAPE_PRIORS)}).")


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
    holes_not_kept: int | None = None     # openings found but with rims too thin to mesh round, so filled
    thin_share: float | None = None       # share of the silhouette too thin to mesh at this density, left out
    extra: dict = field(default_factory=dict)

    # What `python -m inference --report` writes of it besides sizes and timings.
    REPORTED = ("model", "mask_source", "warning", "self_intersections", "remeshed", "remesh_rejected", "elevation",
                "holes", "hole_areas", "genus", "holes_not_kept", "thin_share")

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

    def holes_said(self) -> str:
        """The openings kept, for a report line ("" when none): '1 hole kept (4.3 % of the silhouette)'."""
        if not self.holes:
            return ""
        sizes = ", ".join(f"{100 * a:.1f}" for a in (self.hole_areas or []))
        return (f"{self.holes} hole{'s' if self.holes > 1 else ''} kept"
                + (f" ({sizes} % of the silhouette)" if sizes else ""))

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


__all__ = ["PROTOCOL_VERSION", "DEVICES", "DEVICE_ITEMS", "SHAPE_PRIORS", "OptionError", "Spec", "Toggle",
           "ReconstructionOptions", "BLENDER_SPECS", "ArtistOptions", "ARTIST_FLAGS", "OBJECT_ITEMS",
           "ELEVATION_ITEMS", "spec", "default", "check", "add_arguments", "options_from_args",
           "artist_options_from_args", "blender_property", "blender_toggle", "artist_options_from_properties",
           "device_property", "engine_device", "shape_prior_property", "model_of_shape_prior", "ImageFrame",
           "ResultInfo", "MeshResult", "SHEET_VIEWS", "sheet_problems", "SheetRequest", "SheetViewInfo",
           "SheetResult", "SHEET_ARRAYS", "TEXTURE_ARRAY", "answer_from_wire", "VERTICES_MIN", "VERTICES_MAX",
           "STEPS_MIN", "STEPS_MAX", "SIZE_MIN", "FACES_MAX", "FACE_TOLERANCE", "SUBDIVISION_MAX", "BAKE_MIN",
           "BAKE_MAX", "MAX_ELEVATION"]
