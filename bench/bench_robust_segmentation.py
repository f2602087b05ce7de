"""Does domain randomisation buy robustness? Train the demo segmentation on (a) today's phantoms and
(b) randomised phantoms with intensity augmentation, and print Dice on the in-distribution validation and
on the held-out profile, and the training time (issue 15).

Both arms train on the same patients (cohort seed, case indices) and are validated on the same study-
appearance cases (the demo cohort's look), so (a) and (b) differ only in the appearance of the training
images and in the configuration: (a) "demo" on --appearance study, (b) "demo_robust" (demo + histogram,
bias-field and gamma augmentation) on --appearance randomised. The held-out profile is the one every
training run scores (inference/ml/segmentation/heldout.py: unseen scanner, +/-60 HU calibration, noise x2,
5 mm slices, FOV cut to the hips).

Full run (a quiet machine; about 35-45 min on 2 cores: the demo took 30 min on 40 training cases):
    OMP_NUM_THREADS=2 .venv/bin/python bench/bench_robust_segmentation.py --cases 30 --matrix 256
Reduced run (minutes; figures are NOT the demo's, only a smoke test of the comparison):
    OMP_NUM_THREADS=2 .venv/bin/python bench/bench_robust_segmentation.py --cases 8 --matrix 128 \
        --epochs 3 --heldout-cases 2
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import sys
import time
from pathlib import Path

import SimpleITK as sitk
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from inference.ml.segmentation import HeldoutProfile, configuration, train_segmentation  # noqa: E402
from phantom.case import CaseOptions, generate_case  # noqa: E402

TRAINING_SHARE = 0.7
ARMS = {"study": "demo", "randomised": "demo_robust"}  # training appearance -> configuration


def write_cases(
    folder: Path, *, seed: int, indices: list[int], matrix: int, appearance: str
) -> list[tuple[Path, Path]]:
    """Cases `indices` of cohort `seed` with the given appearance, as NIfTI image and reference mask."""
    folder.mkdir(parents=True, exist_ok=True)
    options = CaseOptions(matrix=matrix, appearance=appearance, exclusion="", readers=False)
    pairs = []
    for index in indices:
        image, mask = folder / f"case{index}.nii.gz", folder / f"case{index}_mask.nii.gz"
        if not (image.exists() and mask.exists()):
            case = generate_case(seed=seed, index=index, options=options)
            sitk.WriteImage(case.image, str(image), useCompression=True, compressionLevel=1)
            sitk.WriteImage(case.label, str(mask), useCompression=True, compressionLevel=1)
        pairs.append((image, mask))
    return pairs


def arm_config(name: str, epochs: int | None, seed: int):
    config = configuration(name).with_overrides(seed=seed)
    if epochs:
        config = config.with_overrides(
            coarse=dataclasses.replace(config.coarse, epochs=epochs, validate_every=epochs),
            fine=dataclasses.replace(config.fine, epochs=epochs, validate_every=epochs),
        )
    return config


def run_arm(appearance: str, args, validation, train_indices) -> dict:
    started = time.perf_counter()
    train = write_cases(
        args.out / f"train_{appearance}",
        seed=args.seed,
        indices=train_indices,
        matrix=args.matrix,
        appearance=appearance,
    )
    generated = time.perf_counter() - started
    config = arm_config(ARMS[appearance], args.epochs, args.seed)
    out = args.out / f"run_{appearance}"
    shutil.rmtree(out, ignore_errors=True)
    print(
        f"[{appearance}] {len(train)} training cases written in {generated:.0f} s; training {config.name}",
        flush=True,
    )
    result = train_segmentation(
        config,
        train,
        validation,
        out,
        resume=False,
        heldout=HeldoutProfile(cases=args.heldout_cases, matrix=args.matrix),
        on_progress=lambda epoch, total, m: print(
            f"[{appearance}] {time.perf_counter() - started:5.0f} s epoch {epoch}/{total} "
            f"{m['stage']} loss {m['loss']:.3f}",
            flush=True,
        ),
    )
    return {
        "appearance": appearance,
        "config": config.name,
        "generate_s": generated,
        "train_s": result.seconds,
        "validation": result.validation,
        "heldout": result.out_of_distribution,
    }


def _dice(summary: dict) -> str:
    if summary.get("dice_mean") is None:
        return "-"
    return f"{summary['dice_mean']:.3f} +/- {summary['dice_sd'] or 0:.3f} (n={summary['n']})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=30, help="patients; 70 %% train, 30 %% validate")
    parser.add_argument("--matrix", type=int, default=256)
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs of each stage (default: the demo's 15/30)"
    )
    parser.add_argument("--heldout-cases", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--arms", default="study,randomised", help="training appearances to compare")
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/robust_segmentation")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cut = max(1, round(TRAINING_SHARE * args.cases))
    train_indices, val_indices = list(range(cut)), list(range(cut, args.cases))
    validation = write_cases(
        args.out / "validation_study",
        seed=args.seed,
        indices=val_indices,
        matrix=args.matrix,
        appearance="study",
    )
    print(
        f"{len(train_indices)} training / {len(val_indices)} validation patients, matrix {args.matrix}, "
        f"epochs {args.epochs or 'demo'}, {args.heldout_cases} held-out cases, {torch.get_num_threads()} threads",
        flush=True,
    )
    rows = [run_arm(a.strip(), args, validation, train_indices) for a in args.arms.split(",") if a.strip()]
    print(
        f"{'training appearance':<22}{'config':<13}{'validation Dice (study look)':<32}"
        f"{'held-out Dice':<28}{'train s':>9}{'generate s':>12}"
    )
    print(
        "(train s: training, validation and held-out scoring; generate s: writing the arm's training cases)"
    )
    for r in rows:
        print(
            f"{r['appearance']:<22}{r['config']:<13}{_dice(r['validation']):<32}{_dice(r['heldout']):<28}"
            f"{r['train_s']:>9.0f}{r['generate_s']:>12.0f}"
        )
        print(
            f"    held-out gap {r['heldout'].get('dice_gap')}, marked {r['heldout'].get('below_validation')}, "
            f"held-out scoring {r['heldout'].get('seconds')} s (generation and coarse+fine inference)"
        )


if __name__ == "__main__":
    main()
