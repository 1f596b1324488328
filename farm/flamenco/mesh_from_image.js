// SPDX-License-Identifier: GPL-3.0-or-later
//
// Flamenco 3.x job type: turn a folder of pictures into meshes with the headless command of the
// Mesh from Image Blender extension. Install by copying this file into the `scripts` folder next to
// the flamenco-manager executable and restarting the Manager; the job type is then called
// "mesh-from-image" (Flamenco names job types after the file, "_" becoming "-").
//
// Job compiler scripts run inside the Manager (goja), which cannot list the input folder. So the job
// is split into a number of tasks chosen at submission, and each task asks the command for its share
// with `--chunk K/N`: the command sorts every picture it finds and takes the K-th contiguous slice, so
// the N tasks cover each picture exactly once whatever their count. `--resume` makes a re-run of a
// failed or requeued task skip the meshes that are already complete.

const FORMATS = ["glb", "obj", "fbx", "usd", "ply", "stl", "blend"];
// The command's own defaults, bounds and choices (inference/contract.py). The Manager runs this file alone,
// so they are written into it by a tool, and tests/farm/test_flamenco_job.py fails when they are stale.
// ---- begin: made from inference/contract.py by `python -m tools.make_flamenco_job`; edit the contract ----
const CONTRACT = {
    "vertices": {"default": 2500, "min": 100, "max": 200000},
    "model": {"default": "auto", "choices": ["auto", "none"]},
    "device": {"default": "auto", "choices": ["auto", "cpu", "gpu"]},
    "faces": {"default": 0, "min": 0, "max": 1000000, "help": "Target face count (met within 10%); 0 keeps the reconstruction's"},
    "bake": {"default": 0, "off": 0, "min": 16, "max": 8192},
    "quads": {"default": false},
    "upright": {"default": false},
    "fill_sides": {"default": false},
    "no_refine": {"default": false},
    "fill_holes": {"default": false},
    "jobs": {"default": 1, "min": 1},
};
// ---- end of the contract's block ----
// More tasks than this would only flood the Manager's database with empty chunks.
const TASKS_MAX = 10000;
const REPORT_DIR = "mesh_from_image-reports";

const JOB_TYPE = {
    label: "Mesh from Image",
    description: "Turn every picture of a folder into a mesh with the Mesh from Image extension",
    settings: [
        // Where the pictures are and where the meshes go.
        { key: "input_folder", type: "string", subtype: "dir_path", required: true,
          label: "Input Folder",
          description: "Folder of pictures on shared storage, as an absolute path (Flamenco's two-way variables translate it for workers on other operating systems)" },
        { key: "output_folder", type: "string", subtype: "dir_path", required: true,
          label: "Output Folder",
          description: "Folder on shared storage for the meshes, as an absolute path; each task also writes its report to " + REPORT_DIR + "/ inside it" },
        { key: "format", type: "string", choices: FORMATS, default: "glb", required: true,
          label: "Format",
          description: "Mesh file format, written by Blender's own exporter" },
        { key: "recursive", type: "bool", default: false,
          label: "Include Subfolders",
          description: "Also take the pictures of the input folder's subfolders" },
        { key: "pattern", type: "string", default: "",
          label: "File Pattern",
          description: "Only take files whose name matches this glob, e.g. '*.png' or 'shot_*'; empty takes every picture" },
        { key: "tasks", type: "int32", default: 10, required: true, propargs: { min: 1, max: TASKS_MAX },
          label: "Number of Tasks",
          description: "Flamenco cannot list the input folder, so choose how many tasks to split it into, about one per 20 to 50 pictures; each task makes the meshes of its share of the sorted pictures, and a task without a share finishes at once" },

        // Reconstruction options: only those that differ from the command's defaults reach its command line.
        { key: "vertices", type: "int32", default: CONTRACT.vertices.default, propargs: { min: CONTRACT.vertices.min, max: CONTRACT.vertices.max },
          label: "Vertices",
          description: "Approximate number of vertices of each mesh (" + CONTRACT.vertices.min + " to " + CONTRACT.vertices.max + ")" },
        { key: "model", type: "string", choices: CONTRACT.model.choices, default: CONTRACT.model.default,
          label: "Model",
          description: "Shape prior: 'auto' is the shipped learned model, 'none' the training-free Inflated Silhouette" },
        { key: "device", type: "string", choices: CONTRACT.device.choices, default: CONTRACT.device.default,
          label: "Device",
          description: "Where the reconstruction computes on each worker (gpu: CUDA, else Apple MPS)" },
        { key: "faces", type: "int32", default: CONTRACT.faces.default, propargs: { min: CONTRACT.faces.min, max: CONTRACT.faces.max },
          label: "Target Faces",
          description: CONTRACT.faces.help },
        { key: "quads", type: "bool", default: CONTRACT.quads.default,
          label: "Quads",
          description: "Quad remesh with QuadriFlow" },
        { key: "upright", type: "bool", default: CONTRACT.upright.default,
          label: "Upright",
          description: "Stand each object on the ground, origin at the bottom centre, undoing the camera elevation the model estimates" },
        { key: "fill_sides", type: "bool", default: CONTRACT.fill_sides.default,
          label: "Fill Sides",
          description: "Texture the unseen sides with colours grown in from the silhouette" },
        { key: "bake", type: "int32", default: CONTRACT.bake.default, propargs: { min: CONTRACT.bake.off, max: CONTRACT.bake.max },
          label: "Bake Texture Size",
          description: "Bake everything into one texture of this many pixels square on a UV unwrap (" + CONTRACT.bake.min + " to " + CONTRACT.bake.max + "); " + CONTRACT.bake.off + " does not bake" },
        { key: "no_refine", type: "bool", default: CONTRACT.no_refine.default,
          label: "Skip Refinement",
          description: "Skip the silhouette fit after the first estimate" },
        { key: "fill_holes", type: "bool", default: CONTRACT.fill_holes.default,
          label: "Fill Holes",
          description: "Fill the openings the pictures show through the objects (a mug's handle, a ring): one closed surface without handles" },
        { key: "jobs", type: "int32", default: CONTRACT.jobs.default, propargs: { min: CONTRACT.jobs.min },
          label: "Processes per Task",
          description: "Worker processes each task runs side by side on its machine" },

        // How the workers' Blender finds the extension.
        { key: "extension_repo", type: "string", default: "user_default",
          label: "Extension Repository",
          description: "Id of the Blender extension repository the workers installed Mesh from Image in; the command enables bl_ext.<id>.mesh_from_image" },
    ]
};

function compileJob(job) {
    const values = readSettings(job.settings);
    const count = values.tasks;
    for (let k = 1; k <= count; k++) {
        job.addTask(authorChunkTask(values, k, count));
    }
}

// API submissions may leave settings out (Blender's add-on sends them all); those get the defaults
// the add-on would have shown.
function readSettings(settings) {
    const values = {};
    for (const setting of JOB_TYPE.settings) {
        const given = settings[setting.key];
        values[setting.key] = (given === undefined || given === null) ? setting.default : given;
    }

    requireText(values, "input_folder");
    requireText(values, "output_folder");
    requireChoice(values, "format", FORMATS);
    requireChoice(values, "model", CONTRACT.model.choices);
    requireChoice(values, "device", CONTRACT.device.choices);
    requireInteger(values, "tasks", 1, TASKS_MAX);
    requireInteger(values, "vertices", CONTRACT.vertices.min, CONTRACT.vertices.max);
    requireInteger(values, "faces", CONTRACT.faces.min, CONTRACT.faces.max);
    requireInteger(values, "bake", CONTRACT.bake.off, CONTRACT.bake.max);
    if (values.bake !== CONTRACT.bake.off && values.bake < CONTRACT.bake.min) {
        fail("bake", "must be " + CONTRACT.bake.off + " (no baking) or " + CONTRACT.bake.min + " to " + CONTRACT.bake.max
             + " pixels, not " + values.bake);
    }
    requireInteger(values, "jobs", CONTRACT.jobs.min);
    for (const key of ["recursive", "quads", "upright", "fill_sides", "no_refine", "fill_holes"]) {
        if (typeof values[key] !== "boolean") {
            fail(key, "must be true or false, not " + JSON.stringify(values[key]));
        }
    }
    if (typeof values.pattern !== "string") {
        fail("pattern", "must be text, not " + JSON.stringify(values.pattern));
    }
    // It becomes part of a Python module name on the command line.
    if (typeof values.extension_repo !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(values.extension_repo)) {
        fail("extension_repo", "must be an extension repository id such as user_default, not "
             + JSON.stringify(values.extension_repo));
    }
    return values;
}

// Command type `exec`, not `blender-render`: the worker's blender-render refuses a command without a
// `blendfile` and puts that file before `args`, but this command opens no blend file, and everything
// after `-c mesh_from_image` belongs to it. `exec` runs `exe` with `args` as given, each list item one
// argument, so paths with spaces stay whole and no shell is involved. It exists since Flamenco 3.3.
// `{blenderArgs}` is left out on purpose: it holds several arguments in one string (by default
// "-b -y"), which exec would pass as a single argument, so `-b` is written here instead.
function authorChunkTask(values, k, count) {
    const chunk = k + "/" + count;
    const report = joinPath(values.output_folder, REPORT_DIR, "chunk-" + k + "-of-" + count + ".json");

    const args = [
        "-b",
        "--addons", "bl_ext." + values.extension_repo + ".mesh_from_image",
        "-c", "mesh_from_image",
        values.input_folder,
        "--output-dir", values.output_folder,
        "--format", values.format,
    ];
    if (values.recursive) {
        args.push("--recursive");
    }
    if (values.pattern !== "") {
        args.push("--pattern", values.pattern);
    }
    args.push("--chunk", chunk, "--resume", "--report", report);
    args.push.apply(args, reconstructionArgs(values));

    // Named like its report, so a failed task's report is easy to find.
    const task = author.Task("chunk-" + k + "-of-" + count, "blender");
    task.addCommand(author.Command("exec", {
        exe: "{blender}",
        args: args,
    }));
    return task;
}

// Each option appears only when it differs from the command's own default, which keeps the task logs'
// command lines short enough to read.
function reconstructionArgs(values) {
    const args = [];
    if (values.vertices !== defaultOf("vertices")) args.push("--vertices", String(values.vertices));
    if (values.model !== defaultOf("model")) args.push("--model", values.model);
    if (values.device !== defaultOf("device")) args.push("--device", values.device);
    if (values.faces !== defaultOf("faces")) args.push("--faces", String(values.faces));
    if (values.quads) args.push("--quads");
    if (values.upright) args.push("--upright");
    if (values.fill_sides) args.push("--fill-sides");
    if (values.bake !== defaultOf("bake")) args.push("--bake", String(values.bake));
    if (values.no_refine) args.push("--no-refine");
    if (values.fill_holes) args.push("--fill-holes");
    if (values.jobs !== defaultOf("jobs")) args.push("--jobs", String(values.jobs));
    return args;
}

function defaultOf(key) {
    for (const setting of JOB_TYPE.settings) {
        if (setting.key === key) return setting.default;
    }
    throw new Error("Mesh from Image job type: no setting " + key);
}

// Not Flamenco's path.join: that cleans the path the POSIX way, which turns a Windows share
// (\\server\share) into /server/share. The folder is kept as given, and its own separator is used,
// so two-way variables still recognise its start and the worker's OS reads it as it read the folder.
function joinPath(folder) {
    const separator = (folder.indexOf("\\") >= 0 && folder.indexOf("/") < 0) ? "\\" : "/";
    let result = folder.replace(/[\\/]+$/, "");
    for (let i = 1; i < arguments.length; i++) {
        result += separator + arguments[i];
    }
    return result;
}

function requireText(values, key) {
    const value = values[key];
    if (typeof value !== "string" || value.trim() === "") {
        fail(key, "is empty; give a folder on shared storage");
    }
}

function requireChoice(values, key, choices) {
    if (choices.indexOf(values[key]) < 0) {
        fail(key, "must be one of " + choices.join(", ") + ", not " + JSON.stringify(values[key]));
    }
}

function requireInteger(values, key, min, max) {
    const value = values[key];
    if (typeof value !== "number" || !isFinite(value) || Math.floor(value) !== value) {
        fail(key, "must be a whole number, not " + JSON.stringify(value));
    }
    if (value < min || (max !== undefined && value > max)) {
        const range = max !== undefined ? "from " + min + " to " + max : "at least " + min;
        fail(key, "must be " + range + ", not " + value);
    }
}

function fail(key, message) {
    let label = key;
    for (const setting of JOB_TYPE.settings) {
        if (setting.key === key) label = setting.label;
    }
    throw new Error("Mesh from Image: " + label + " (" + key + ") " + message);
}
