"""Does domain randomisation buy robustness, and what does it cost? (issue 15)

Trains segmentation configurations on the demo cohort, one after the other, on the same split (the seeded
7:3 split of train_segmentation_demo.py), and prints for each: Dice on the in-distribution validation (the
cohort's own look), Dice on the held-out profile every training scores (inference/ml/segmentation/heldout.py:
an unseen scanner, +/-60 HU calibration, noise x2, 5 mm slices, the field of view cut to the hips), the gap
between the two, and the wall time of training (with the generation of its randomised cases, validation
and the held-out scoring).

The default pair is the comparison of the issue:
  before  demo_study_look  the demo's design trained on the cohort's look alone (what "demo" was)
  after   demo             the same, plus randomised phantom cases in training and intensity augmentation

The demo cohort, as `manage.py load_demo` generates it (60 cases, 256 matrix, calibration spread):
    PYTHONPATH=platform .venv/bin/python -m phantom --cases 60 --seed 2024 --out COHORT --matrix 256 \
        --exclusion-fraction 0.12 --no-readers --calibration spread
Full run (about 65 min on 2 cores; run it on a quiet machine, the time is one of its figures):
    OMP_NUM_THREADS=2 .venv/bin/python bench/bench_robust_segmentation.py --cohort COHORT
A reduced smoke run (minutes; its Dice figures say nothing about the demo):
    OMP_NUM_THREADS=2 .venv/bin/python bench/bench_robust_segmentation.py --cohort COHORT --epochs 2 \
        --limit 8 --heldout-cases 1
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "platform")]

from inference.ml.segmentation import HeldoutProfile, configuration, train_segmentation  # noqa: E402

TRAINING_SHARE = 0.7


def cohort_split(folder: Path, seed: int, limit: int | None) -> tuple[list, list]:
    """The included cases with a reference mask, split 7:3 by a seeded permutation (as
    train_segmentation_demo.py splits them)."""
    from train_segmentation_demo import cohort_cases

    cases = cohort_cases(folder)[:limit]
    order = np.random.default_rng(seed).permutation(len(cases))
    cut = round(TRAINING_SHARE * len(cases))
    return [cases[i] for i in order[:cut]], [cases[i] for i in order[cut:]]


def arm_config(name: str, args):
    config = configuration(name).with_overrides(seed=args.seed)
    if args.epochs:
        config = config.with_overrides(
            coarse=dataclasses.replace(config.coarse, epochs=args.epochs, validate_every=args.epochs),
            fine=dataclasses.replace(config.fine, epochs=args.epochs, validate_every=args.epochs),
        )
    if args.randomised_cases is not None and config.randomised_cases:
        config = config.with_overrides(randomised_cases=args.randomised_cases)
    return config


def run_arm(name: str, args, train, validation) -> dict:
    config = arm_config(name, args)
    out = args.out / name
    shutil.rmtree(out, ignore_errors=True)
    print(
        f"[{name}] {len(train)} cohort + {config.randomised_cases} randomised training cases, "
        f"{len(validation)} validation; coarse {config.coarse.epochs} / fine {config.fine.epochs} epochs",
        flush=True,
    )
    started = time.perf_counter()
    result = train_segmentation(
        config,
        train,
        validation,
        out,
        resume=False,
        heldout=HeldoutProfile(cases=args.heldout_cases),
        on_progress=lambda epoch, total, m: print(
            f"[{name}] {time.perf_counter() - started:5.0f} s epoch {epoch}/{total} {m['stage']} "
            f"loss {m['loss']:.3f}" + (f" stage val Dice {m['val_dice']:.3f}" if "val_dice" in m else ""),
            flush=True,
        ),
    )
    row = {
        "config": name,
        "randomised_cases": config.randomised_cases,
        "seconds": round(time.perf_counter() - started, 1),
        "validation": result.validation,
        "heldout": result.out_of_distribution,
        "heldout_per_case": [c["overall"]["dice"] for c in result.out_of_distribution_per_case],
        "validation_min": min((c["overall"]["dice"] for c in result.per_case), default=None),
    }
    print(f"[{name}] {json.dumps(row)}", flush=True)
    return row


def _dice(summary: dict) -> str:
    if summary.get("dice_mean") is None:
        return "-"
    return f"{summary['dice_mean']:.3f} +/- {summary['dice_sd'] or 0:.3f} (n={summary['n']})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cohort", type=Path, required=True, help="a phantom cohort folder (manifest.csv)")
    parser.add_argument("--configs", default="demo_study_look,demo", help="configurations, in order")
    parser.add_argument("--epochs", type=int, default=None, help="epochs of each stage (default: each's)")
    parser.add_argument("--randomised-cases", type=int, default=None, help="override where a config has some")
    parser.add_argument("--limit", type=int, default=None, help="use only the cohort's first N cases")
    parser.add_argument("--heldout-cases", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/out/robust_segmentation")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    train, validation = cohort_split(args.cohort, args.seed, args.limit)
    print(
        f"cohort {args.cohort}: {len(train)} training / {len(validation)} validation cases; "
        f"{args.heldout_cases} held-out cases; {torch.get_num_threads()} threads",
        flush=True,
    )
    rows = [run_arm(n.strip(), args, train, validation) for n in args.configs.split(",") if n.strip()]
    print()
    print(
        f"{'config':<17}{'randomised':>11}  {'validation Dice (cohort look)':<31}{'held-out Dice':<28}"
        f"{'gap':>7}{'marked':>8}{'time s':>9}"
    )
    for r in rows:
        gap = r["heldout"].get("dice_gap")
        print(
            f"{r['config']:<17}{r['randomised_cases']:>11}  {_dice(r['validation']):<31}"
            f"{_dice(r['heldout']):<28}{'-' if gap is None else f'{gap:.3f}':>7}"
            f"{str(r['heldout'].get('below_validation')):>8}{r['seconds']:>9.0f}"
        )
    for r in rows:
        lowest = r["validation_min"]
        print(
            f"{r['config']}: lowest validation Dice {'-' if lowest is None else f'{lowest:.3f}'}; held-out per case "
            + ", ".join(f"{d:.3f}" if d is not None else "-" for d in r["heldout_per_case"])
        )
    seconds = {r["config"]: r["seconds"] for r in rows}
    if seconds.get("demo_study_look") and "demo" in seconds:
        print(f"training time demo / demo_study_look: {seconds['demo'] / seconds['demo_study_look']:.2f}")


if __name__ == "__main__":
    main()
