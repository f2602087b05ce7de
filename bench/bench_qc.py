"""Automatic QC against the phantom's ground truth: confusion counts of flagged / not flagged by truth.

Run: PYTHONPATH=platform .venv/bin/python bench/bench_qc.py [--cases 20] [--matrix 256] [--seed 2025]
Generates N cases of each kind: clean (no exclusion), hip replacement and incomplete CT (the phantom's
exclusions QC must flag), an upper-abdominal field of view (an abdominal phantom cropped 20 mm above the
iliac crest: no femur), and, for reference, the exclusions QC is not built to see (fracture, bone and
extra-osseous metastases). Each case is judged twice: by the image checks alone (what import stores) and
per side with the phantom's reference VOI standing in for a perfect model's mask (what screening
does; for a replaced hip the phantom has no VOI on that side, as a model that finds no femur there).
"""

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "platform"))

import numpy as np  # noqa: E402
import SimpleITK as sitk  # noqa: E402

from imageqc import image_qc, sides_qc  # noqa: E402
from phantom.case import CaseOptions, generate_case  # noqa: E402

MUST_FLAG = ("hip_replacement", "incomplete_ct", "no_femur_fov")
NOT_QC = ("hip_fracture", "bone_metastases", "extraosseous_metastases")


def case_of(kind: str, index: int, args) -> tuple[sitk.Image, sitk.Image]:
    if kind == "no_femur_fov":
        case = generate_case(
            seed=args.seed,
            index=index,
            options=CaseOptions(matrix=args.matrix, region="abdomen", readers=False),
        )
        first = int(np.ceil((case.anatomy.crest_z + 20.0 - case.grid.origin[2]) / case.grid.spacing[2]))
        return case.image[:, :, first:], case.label[:, :, first:]
    case = generate_case(
        seed=args.seed, index=index, options=CaseOptions(matrix=args.matrix, exclusion=kind, readers=False)
    )
    return case.image, case.label


def judge(kind: str, image: sitk.Image, label: sitk.Image) -> dict:
    started = time.perf_counter()
    found = image_qc(image)
    imaging = time.perf_counter() - started
    verdicts = sides_qc(found, label)
    sides_flagged = [side for side, verdict in verdicts.items() if not verdict.assessable]
    codes = sorted({f.code for verdict in verdicts.values() for f in verdict.flags})
    return {
        "kind": kind,
        "import_flagged": bool(found.flags),
        "screen_flagged": bool(sides_flagged),
        "sides_flagged": sides_flagged,
        "codes": codes,
        "seconds": imaging + 0.0,
        "screen_seconds": time.perf_counter() - started,
    }


def confusion(rows: list[dict], key: str) -> str:
    counts = Counter((row["kind"] in MUST_FLAG, row[key]) for row in rows if row["kind"] not in NOT_QC)
    return (
        f"truth exclusion: flagged {counts[(True, True)]}, not flagged {counts[(True, False)]}; "
        f"truth clean: flagged {counts[(False, True)]}, not flagged {counts[(False, False)]}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=20, help="cases of each kind")
    parser.add_argument("--matrix", type=int, default=256)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--skip-other", action="store_true", help="leave out fracture and metastases")
    args = parser.parse_args()
    kinds = ("",) + MUST_FLAG + (() if args.skip_other else NOT_QC)
    rows = []
    for kind in kinds:
        for index in range(args.cases):
            row = judge(kind or "clean", *case_of(kind, index, args))
            rows.append(row)
            print(
                f"{row['kind']:<24} case {index:3d}: import {'FLAG' if row['import_flagged'] else 'ok  '} "
                f"screen {'FLAG' if row['screen_flagged'] else 'ok  '} sides {row['sides_flagged']} {row['codes']} "
                f"({row['seconds']:.2f} s image, {row['screen_seconds']:.2f} s both)",
                flush=True,
            )
    print(f"\n{args.cases} cases per kind, matrix {args.matrix}, seed {args.seed}")
    for kind in kinds:
        own = [r for r in rows if r["kind"] == (kind or "clean")]
        print(
            f"  {kind or 'clean':<24} import flagged {sum(r['import_flagged'] for r in own):3d}/{len(own)}, "
            f"screen flagged {sum(r['screen_flagged'] for r in own):3d}/{len(own)}"
        )
    replaced = [r for r in rows if r["kind"] == "hip_replacement"]
    one_side = sum(len(r["sides_flagged"]) == 1 and "metal" in r["codes"] for r in replaced)
    print(f"  hip replacement: exactly one side flagged, with metal: {one_side}/{len(replaced)}")
    print("import (image checks):   " + confusion(rows, "import_flagged"))
    print("screen (image + mask):   " + confusion(rows, "screen_flagged"))
    print(
        f"median seconds per case: image checks {np.median([r['seconds'] for r in rows]):.2f}, "
        f"image + mask {np.median([r['screen_seconds'] for r in rows]):.2f}"
    )


if __name__ == "__main__":
    main()
