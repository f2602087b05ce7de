"""End-to-end cascade inference of one 512 x 512 x 300 CT on 2 CPU cores (target <= 10 s), with a breakdown.

    OMP_NUM_THREADS=2 .venv/bin/python bench/bench_segment.py --model bench/out/segmentation_demo

--model is a folder holding coarse.pt and fine.pt (bench/train_segmentation_demo.py writes one). Without
--image the bench generates a 512 x 512 x 300 phantom case once (platform/phantom) and reuses it. The
timed span is what `manage.py segment` does: read the NIfTI, both stages with their resampling,
post-processing, write the mask.
"""

from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.ml.segmentation import load_checkpoint, reference_agreement, segment_image  # noqa: E402

BENCH_CASE = ROOT / "bench/out/segment_case"


def bench_image() -> tuple[Path, Path]:
    """A 512 x 512 x 300 phantom CT and its reference mask, generated on first use."""
    image = BENCH_CASE / "images/SYN-0001.nii.gz"
    if not image.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "phantom",
                "--cases",
                "1",
                "--seed",
                "7",
                "--matrix",
                "512",
                "--slices",
                "300",
                "--no-readers",
                "--out",
                str(BENCH_CASE),
            ],
            check=True,
            env={"PYTHONPATH": str(ROOT / "platform"), "OMP_NUM_THREADS": "1"},
        )
    return image, BENCH_CASE / "masks/SYN-0001.nii.gz"


def run_once(image_path: Path, model: Path, out: Path) -> tuple[dict, sitk.Image]:
    """One timed run; each mark names the step that starts there, and lasts until the next mark."""
    marks = [("read NIfTI", time.perf_counter())]
    image = sitk.ReadImage(str(image_path))
    marks.append(("load checkpoints", time.perf_counter()))
    coarse, fine = load_checkpoint(model / "coarse.pt"), load_checkpoint(model / "fine.pt")
    mask = segment_image(
        image, coarse, fine, on_progress=lambda percent, message: marks.append((message, time.perf_counter()))
    )
    marks.append(("write mask", time.perf_counter()))
    sitk.WriteImage(mask, str(out), useCompression=True, compressionLevel=1)
    marks.append(("end", time.perf_counter()))
    steps = {start[0]: end[1] - start[1] for start, end in itertools.pairwise(marks)}
    steps["TOTAL"] = marks[-1][1] - marks[0][1]
    return steps, mask


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ROOT / "bench/out/segmentation_demo")
    parser.add_argument("--image", type=Path)
    parser.add_argument("--mask", type=Path, help="reference mask, for Dice/VD of the result")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    image_path, mask_path = (args.image, args.mask) if args.image else bench_image()
    size = sitk.ImageFileReader()
    size.SetFileName(str(image_path))
    size.ReadImageInformation()
    print(
        f"image {image_path}: size {size.GetSize()}, spacing {np.round(size.GetSpacing(), 3)}; "
        f"{torch.get_num_threads()} threads"
    )
    out = ROOT / "bench/out/segment_mask.nii.gz"
    out.parent.mkdir(parents=True, exist_ok=True)
    runs = []
    for _ in range(args.repeats):
        steps, mask = run_once(image_path, args.model, out)
        runs.append(steps)
    best = min(runs, key=lambda s: s["TOTAL"])
    for name, seconds in best.items():
        print(f"  {seconds:6.2f} s  {name}")
    print(
        f"end to end: best {best['TOTAL']:.2f} s, all runs {[round(r['TOTAL'], 2) for r in runs]} (target <= 10 s)"
    )
    if mask_path and Path(mask_path).exists():
        agreement = reference_agreement(sitk.ReadImage(str(mask_path), sitk.sitkUInt8), mask)
        print(
            "agreement with the reference:",
            {k: {m: None if v is None else round(v, 3) for m, v in d.items()} for k, d in agreement.items()},
        )


if __name__ == "__main__":
    main()
