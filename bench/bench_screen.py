"""The whole `manage.py screen` path on one 512 x 512 x 300 CT on 2 CPU cores (target <= 15 s), with a breakdown.

    OMP_NUM_THREADS=2 taskset -c 0,1 .venv/bin/python bench/bench_screen.py --model bench/out/segmentation_demo

--model is a folder holding coarse.pt and fine.pt (bench/train_segmentation_demo.py writes one). The CT is
the 512 x 512 x 300 phantom case bench/bench_segment.py generates (made here too on first use). The timed
span is what `screen` does after finding its versions: read the NIfTI, the cascade, radiomics of both
sides with the paper's parameter file (1,184 features each, image types in parallel processes), the
random forest and the baseline. The classifier is fitted here (untimed) on made-up rows with the real
feature names: its prediction costs the same whatever it learnt.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "osteoscreen.settings.test")

import django  # noqa: E402

django.setup()

import torch  # noqa: E402

from inference.ml.classifier import ClassifierConfig, fit_baseline_model, fit_radiomics_model  # noqa: E402
from inference.ml.radiomics import load_settings, shutdown_workers  # noqa: E402
from inference.ml.segmentation import load_checkpoint  # noqa: E402
from inference.predictions.screening import screen_image  # noqa: E402
from inference.training import features  # noqa: E402

BENCH_CASE = ROOT / "bench/out/segment_case"
SIDES = ("left", "right")
FAKE_CASES = 30


def bench_image() -> tuple[Path, Path]:
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
            env={**os.environ, "PYTHONPATH": str(ROOT / "platform"), "OMP_NUM_THREADS": "1"},
        )
    return image, BENCH_CASE / "masks/SYN-0001.nii.gz"


def stand_in_models(image: sitk.Image, reference: sitk.Image, settings):
    """A radiomics model and a baseline fitted on made-up rows carrying the real feature names."""
    values = {
        side: features.side_features(image, reference, side=side, settings=settings, workers=2)
        for side in SIDES
    }
    from inference.predictions.screening import _model_rows

    row, hu = _model_rows(values, SIDES)
    rng = np.random.default_rng(0)
    classes = ClassifierConfig().classes
    labels = [classes[k % 3] for k in range(FAKE_CASES)]
    rows = [{k: v * rng.normal(1.0, 0.05) for k, v in row.items()} for _ in labels]
    config = ClassifierConfig()
    model = fit_radiomics_model(rows, labels, config=config, settings_hash=settings.settings_hash)
    baseline = fit_baseline_model([hu + rng.normal(0, 20) for _ in labels], labels, config=config)
    return model, baseline, len(row)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=ROOT / "bench/out/segmentation_demo")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="processes for the radiomics image types")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    if not (args.model / "coarse.pt").exists():
        sys.exit(f"no checkpoints in {args.model}: run bench/train_segmentation_demo.py first")
    torch.set_num_threads(args.threads)
    image_path, mask_path = bench_image()
    settings = load_settings()
    print(
        f"CT {image_path}; {args.threads} torch threads, {args.workers} radiomics processes, "
        f"CPUs allowed {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}"
    )
    started = time.perf_counter()
    model, baseline, n_features = stand_in_models(
        sitk.ReadImage(str(image_path)), sitk.ReadImage(str(mask_path), sitk.sitkUInt8), settings
    )
    print(
        f"stand-in classifier fitted on {n_features} features in {time.perf_counter() - started:.1f} s (untimed)"
    )
    coarse, fine = load_checkpoint(args.model / "coarse.pt"), load_checkpoint(args.model / "fine.pt")
    runs = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        image = sitk.ReadImage(str(image_path))
        read = time.perf_counter() - started
        result = screen_image(
            image,
            coarse=coarse,
            fine=fine,
            model=model,
            settings=settings,
            sides=SIDES,
            baseline=baseline,
            workers=args.workers,
        )
        runs.append({"read NIfTI": read, **result.seconds, "TOTAL": time.perf_counter() - started})
    shutdown_workers()
    best = min(runs, key=lambda r: r["TOTAL"])
    for name, seconds in best.items():
        print(f"  {seconds:6.2f} s  {name}")
    print(
        f"screen end to end: best {best['TOTAL']:.2f} s, all runs {[round(r['TOTAL'], 2) for r in runs]} "
        f"(target <= 15 s); result {result.predicted_class}, voxels {result.voxels}"
    )


if __name__ == "__main__":
    main()
