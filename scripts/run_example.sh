#!/usr/bin/env bash
# Sets up .venv, reconstructs the bundled example picture and renders a preview of the result.
# Writes out/mug.glb (the mesh, textured) and out/mug_preview.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh dev
mkdir -p out
.venv/bin/python -m inference examples/mug.png -o out/mug.glb --overwrite --report out/mug_report.json
.venv/bin/python tools/render_preview.py out/mug.glb -o out/mug_preview.png
echo "wrote out/mug.glb and out/mug_preview.png"
