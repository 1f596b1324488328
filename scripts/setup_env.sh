#!/usr/bin/env bash
# Creates .venv at the repository root and installs what the engine, the tests and the preview renderer need.
# Safe to run again: pip only installs what is missing. Usage: bash scripts/setup_env.sh [runtime|dev]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-dev}"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "Python 3.11 is required (the Python of Blender 4.2-5.0); found $("$python" --version 2>&1)." >&2
  echo "Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
pip=(.venv/bin/python -m pip install --disable-pip-version-check -q)
# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build; numpy is pinned below 2 for Blender.
"${pip[@]}" -r requirements.txt
if [ "$what" = "dev" ]; then
  "${pip[@]}" -r requirements-dev.txt
fi
.venv/bin/python -c 'import torch, numpy, scipy, skimage, PIL, trimesh; print(f"environment ready: torch {torch.__version__}, numpy {numpy.__version__}")'
