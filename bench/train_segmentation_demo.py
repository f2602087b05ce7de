"""Train the demo segmentation cascade on a synthetic cohort and print time and validation figures.

    OMP_NUM_THREADS=2 .venv/bin/python bench/train_segmentation_demo.py --cohort /tmp/segcohort
    (generate a cohort first: PYTHONPATH=platform .venv/bin/python -m phantom --cases 30 --seed 3
     --out /tmp/segcohort --matrix 256 --no-readers)

Prints Dice mean +/- SD and VD median (IQR) over the validation cases and both labels, like the paper's
Table 2. Uses cases without an exclusion reason that have a reference mask; a seeded 7:3 split.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inference.ml.segmentation import configuration, train_segmentation  # noqa: E402

TRAINING_SHARE = 0.7


def cohort_cases(folder: Path) -> list[tuple[Path, Path]]:
    with open(folder / "manifest.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if not r["exclusion_reason"] and r["reference_mask"]]
    return [(folder / r["image"], folder / r["reference_mask"]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cohort", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("bench/out/segmentation_demo"))
    parser.add_argument("--config", default="demo")
    parser.add_argument("--epochs", type=int, help="epochs of each stage (default: the configuration's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="ignore checkpoints of an earlier run")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    cases = cohort_cases(args.cohort)
    order = np.random.default_rng(args.seed).permutation(len(cases))
    cut = round(TRAINING_SHARE * len(cases))
    train, val = [cases[i] for i in order[:cut]], [cases[i] for i in order[cut:]]
    config = configuration(args.config).with_overrides(seed=args.seed)
    if args.epochs:
        config = config.with_overrides(
            coarse=_epochs(config.coarse, args.epochs), fine=_epochs(config.fine, args.epochs)
        )
    print(
        f"{len(train)} training and {len(val)} validation cases; config {config.name}; "
        f"{torch.get_num_threads()} threads",
        flush=True,
    )
    started = time.perf_counter()
    result = train_segmentation(
        config, train, val, args.out, resume=not args.fresh, on_progress=_print_epoch(started)
    )
    report(result, time.perf_counter() - started)


def _epochs(stage, epochs):
    import dataclasses

    return dataclasses.replace(stage, epochs=epochs)


def _print_epoch(started):
    def show(epoch, total, metrics):
        dice = f" val Dice {metrics['val_dice']:.3f}" if "val_dice" in metrics else ""
        print(
            f"[{time.perf_counter() - started:6.0f} s] epoch {epoch}/{total} {metrics['stage']}: "
            f"loss {metrics['loss']:.4f}{dice}",
            flush=True,
        )

    return show


def report(result, seconds: float) -> None:
    v = result.validation
    print(
        f"training + validation wall time: {seconds:.0f} s ({seconds / 60:.1f} min); completed={result.completed}"
    )
    print(
        f"validation Dice {v['dice_mean']:.3f} +/- {v['dice_sd'] or 0:.3f} (n = {v['n']} cases); "
        f"VD median {v['volume_difference_median']:.2f} cm3 "
        f"(IQR {v['volume_difference_q1']:.2f}, {v['volume_difference_q3']:.2f})"
    )
    for label in (1, 2):
        dices = [case[str(label)]["dice"] for case in result.per_case]
        print(
            f"  label {label}: Dice {np.mean(dices):.3f} +/- {np.std(dices, ddof=1):.3f}, min {np.min(dices):.3f}"
        )
    print(
        "  per case (left, right): "
        + "; ".join(f"{case['1']['dice']:.3f}, {case['2']['dice']:.3f}" for case in result.per_case)
    )


if __name__ == "__main__":
    main()
