"""Client side of the inference worker: starts ``python -m inference.worker`` and talks to it in JSON lines.

Standard library and numpy only (no bpy, no torch), so Blender can import it and tests can run it anywhere."""
from .client import Job, WorkerClient, WorkerError, get_client, shutdown_all
from .runtime import Runtime, choose_runtime

__all__ = ["Job", "Runtime", "WorkerClient", "WorkerError", "choose_runtime", "get_client", "shutdown_all"]
