#!/usr/bin/env bash
# Segmentation training on a GPU machine: the demo configuration end to end, then a short run of the
# paper's configuration, on the demo cohort generated there. Prints per-epoch times, from which the
# 1001-epoch figure of the paper configuration is extrapolated (README, "Segmentation").
#
#   bash bench/segmentation_gpu.sh OUT_DIR [PAPER_EPOCHS] [CASES] [MATRIX]
#
# Needs python3 with torch (CUDA), SimpleITK, MONAI, scipy, pydicom and Pillow. Checkpoints of the demo run
# land in OUT_DIR/demo, logs in OUT_DIR/*.log.
set -uo pipefail
out=${1:?usage: segmentation_gpu.sh OUT_DIR [PAPER_EPOCHS] [CASES] [MATRIX]}
paper_epochs=${2:-10}
cases=${3:-60}
matrix=${4:-256}
threads=$(nproc)
cohort=$(mktemp -d)/cohort
export PYTHONUNBUFFERED=1
mkdir -p "$out"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
  torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' | tee "$out/device.log"
start=$(date +%s)
PYTHONPATH=platform${PYTHONPATH:+:$PYTHONPATH} python3 -m phantom --cases "$cases" --seed 2024 --out "$cohort" \
  --matrix "$matrix" --exclusion-fraction 0.12 --no-readers | tail -1 | tee -a "$out/device.log"
echo "cohort generated in $(( $(date +%s) - start )) s" | tee -a "$out/device.log"
python3 bench/train_segmentation_demo.py --cohort "$cohort" --out "$out/demo" --fresh --threads "$threads" \
  2>&1 | tee "$out/demo.log"
python3 bench/train_segmentation_demo.py --cohort "$cohort" --out "$cohort/paper" --config paper \
  --epochs "$paper_epochs" --fresh --threads "$threads" 2>&1 | tee "$out/paper.log"
