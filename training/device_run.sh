#!/usr/bin/env bash
# One training run on a lent GPU machine (the `device` tool), prepared here and run there in one call.
#
# Here, once:   bash training/device_run.sh prepare        # copies realtrain and a trimesh wheel into .device/
# There:        run(command="bash training/device_run.sh train 9", carry=[".device"], timeout_s=600)
#
# The device image has python3 3.12 with torch, scipy, scikit-image and Pillow but no trimesh and no network;
# realtrain (21 MB) and the wheel travel in .device/ (git-ignored). The run renders
# its data on the machine's cores (--workers), trains for MINUTES on the GPU from the shipped weights unless
# FROM=scratch, and leaves the run folder and the exported fp16 weights under $OUT. Bring them back, then score
# them here with `python -m bench.realval --run <run folder>` before shipping anything.
# Not yet run on a GPU: no task so far was lent one. Read its output_tail first.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-}"
case "$what" in
prepare)
  mkdir -p .device
  rm -rf .device/realtrain && cp -r ../shared/realtrain .device/realtrain
  .venv/bin/python -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux2014_x86_64 -d .device/wheels "trimesh==$(.venv/bin/python -c 'import trimesh; print(trimesh.__version__)')"
  du -sh .device
  ;;
train)
  minutes="${2:-9}"
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .device/wheels/*.whl
  export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
  out="${OUT:?run this through the device tool, which sets OUT}"
  init=(--init-from inference/networks/weights/atlas-inflation.pt)
  [ "${FROM:-}" = scratch ] && init=()
  { nvidia-smi --query-gpu=name,memory.total --format=csv || echo "no nvidia-smi"; } | tee "$out/gpu.txt"
  python3 -m training.train --out "$out/run" --arch atlas --template inflation "${init[@]}" --device "${DEVICE:-cuda}" \
      --minutes "$minutes" --batch 64 --lr 3e-4 --decay-after-minutes "$(python3 -c "print($minutes * 0.75)")" \
      --workers "$(( $(nproc) - 2 ))" --mesh-folder .device/realtrain/meshes --mesh-up z --mesh-share 0.5 \
      --eval-minutes 0 --checkpoint-minutes 1 --snapshots 2>&1 | tee "$out/train.log"
  python3 -m training.train --out "$out/run" --export --export-name atlas-inflation-gpu \
      --weights-dir "$out/weights" --average-since-minutes "$(python3 -c "print($minutes * 0.75)")" 2>&1 | tee -a "$out/train.log"
  rm -rf "$out/run/snapshots"   # keep what comes back small: the checkpoint, logs and the exported weights
  ;;
*)
  echo "usage: bash training/device_run.sh prepare | train [MINUTES]" >&2
  exit 2
  ;;
esac
