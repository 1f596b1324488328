// Runs a Flamenco job compiler script the way Flamenco Manager does, with Node instead of goja.
//
//   node flamenco_harness.js SCRIPT.js compile   < settings.json   -> {"tasks": [...]} on stdout
//   node flamenco_harness.js SCRIPT.js job-type                    -> the script's JOB_TYPE on stdout
//
// A job the script refuses (it throws) prints "error compiling job: ..." on stderr and exits 1, as the
// Manager answers a submission. The stand-ins follow internal/manager/job_compilers/author.go and
// scripts.go (newGojaVM) of Flamenco 3.x. Only some of the globals a script there can reach are defined
// (author, path, print, alert; not frameChunker, frameCount, formatTimestampLocal, shellSplit, process),
// and nothing of Node's, so a script leaning on anything else fails here instead of on the Manager.
"use strict";

const fs = require("fs");
const vm = require("vm");
const crypto = require("crypto");

function usage() {
    process.stderr.write("usage: node flamenco_harness.js SCRIPT.js compile|job-type\n");
    process.exit(2);
}

// Go's author.Task trims both strings and refuses empty ones; a missing argument arrives as "".
function Task(name, taskType) {
    name = String(name === undefined ? "" : name).trim();
    taskType = String(taskType === undefined ? "" : taskType).trim();
    if (name === "") throw new Error("author.Task(name, type): name is required");
    if (taskType === "") throw new Error("author.Task(name, type): type is required");
    const task = {
        uuid: crypto.randomUUID(),
        name: name,
        type: taskType,
        priority: 50,
        commands: [],
        dependencies: [],
        addCommand(command) {
            if (!command || typeof command.name !== "string") {
                throw new TypeError("addCommand() wants what author.Command() returned");
            }
            task.commands.push({ name: command.name, parameters: command.parameters });
        },
        addDependency(other) {
            if (!other || typeof other.uuid !== "string") {
                throw new TypeError("addDependency() wants what author.Task() returned");
            }
            task.dependencies.push(other);
        },
    };
    return task;
}

// goja exports the parameters into a Go map when Command() is called, so later changes to the
// script's object do not reach the command; the JSON round trip copies them the same way and
// refuses what a Go map could not hold.
function Command(name, parameters) {
    if (parameters === null || typeof parameters !== "object" || Array.isArray(parameters)) {
        throw new TypeError("author.Command(name, parameters): parameters must be an object");
    }
    return { name: String(name === undefined ? "" : name), parameters: JSON.parse(JSON.stringify(parameters)) };
}

// Flamenco's `path` module wraps pkg/crosspath: backslashes count as separators on every platform.
const toSlash = (p) => String(p).replace(/\\/g, "/");
const posix = require("path").posix;
const pathModule = {
    basename: (p) => posix.basename(toSlash(p)) || (toSlash(p).startsWith("/") ? "/" : "."),
    dirname: (p) => {
        if (p === "") return ".";
        const slashed = toSlash(p);
        const cut = slashed.lastIndexOf("/");
        if (cut < 0) return ".";
        return cut === 0 ? "/" : slashed.slice(0, cut);
    },
    // Go's path.Join ignores empty elements and gives "" when nothing is left.
    join: (...parts) => {
        const kept = parts.map(String).filter((p) => p !== "");
        return kept.length ? toSlash(posix.join(...kept)) : "";
    },
    stem: (p) => {
        const base = posix.basename(toSlash(p));
        return base.slice(0, base.length - posix.extname(base).length);
    },
};

function log(prefix, args) {
    process.stderr.write(prefix + args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ") + "\n");
}

function loadScript(scriptPath) {
    const context = vm.createContext({
        author: { Task, Command },
        path: pathModule,
        print: (...args) => log("print: ", args),
        alert: (...args) => log("alert: ", args),
    });
    // V8 gives every context a `console`; goja has none, so a script calling it would fail on the Manager.
    vm.runInContext("delete globalThis.console;", context);
    vm.runInContext(fs.readFileSync(scriptPath, "utf8"), context, { filename: scriptPath });
    return context;
}

// Task dependencies are pointers in Go (they see later changes), the task itself is copied into the
// job by AddTask, so commands added after addTask() are lost there and here alike.
function snapshot(task) {
    return {
        name: task.name,
        type: task.type,
        commands: task.commands.map((c) => ({ type: c.name, params: c.parameters })),
        dependencies: task.dependencies.map((d) => d.name),
    };
}

function compile(context, settingsJSON) {
    const tasks = [];
    context.__settingsJSON = settingsJSON;
    context.__job = null;
    // The settings object is built inside the script's realm, as goja's would be.
    vm.runInContext("__job = { settings: JSON.parse(__settingsJSON), metadata: {} };", context);
    const job = context.__job;
    job.name = "harness job";
    job.jobType = "mesh-from-image";
    job.priority = 50;
    job.created = new Date();
    job.addTask = (task) => tasks.push(snapshot(task));
    if (vm.runInContext("typeof compileJob", context) !== "function") {
        throw new Error("script does not define a compileJob(job) function");
    }
    vm.runInContext("compileJob(__job);", context);
    return tasks;
}

function main() {
    const [scriptPath, mode] = process.argv.slice(2);
    if (!scriptPath || !mode) usage();
    let context;
    try {
        context = loadScript(scriptPath);
    } catch (error) {
        process.stderr.write("error loading job compiler script: " + (error && error.stack || error) + "\n");
        process.exit(3);
    }

    if (mode === "job-type") {
        if (vm.runInContext("typeof JOB_TYPE", context) === "undefined") {
            process.stderr.write("script does not define a JOB_TYPE object\n");
            process.exit(3);
        }
        process.stdout.write(vm.runInContext("JSON.stringify(JOB_TYPE)", context) + "\n");
        return;
    }
    if (mode !== "compile") usage();

    const settingsJSON = fs.readFileSync(0, "utf8");
    let tasks;
    try {
        tasks = compile(context, settingsJSON);
    } catch (error) {
        // A thrown string (as Flamenco's own scripts do) or an Error: the Manager shows either.
        const message = error && error.message !== undefined ? error.message : String(error);
        process.stderr.write("error compiling job: " + message + "\n");
        process.exit(1);
    }
    process.stdout.write(JSON.stringify({ tasks: tasks }) + "\n");
}

main();
