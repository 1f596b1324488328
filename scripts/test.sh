#!/usr/bin/env bash
# Sets up .venv and runs every test: the engine without Blender, the worker process, training data and
# networks, and the real extension inside the bpy module.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh dev
exec .venv/bin/python -m pytest tests "$@"
