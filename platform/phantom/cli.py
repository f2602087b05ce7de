"""Command-line knobs shared by `python -m phantom` and `manage.py generate_cohort`."""

import argparse
from pathlib import Path

from . import reference as ref
from .appearance import APPEARANCES
from .case import REGIONS, CaseOptions
from .cohort import CohortConfig
from .scanner import ALL_PROFILES, CALIBRATIONS, SCANNER_PROFILES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, required=True, help="number of cases (study ids SYN-0001...)")
    parser.add_argument("--seed", type=int, default=0, help="cohort seed: same seed, same bytes")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--matrix", type=int, default=512, help="in-plane matrix (512 real size, 256 fast)")
    parser.add_argument(
        "--region",
        choices=REGIONS,
        default="pelvis",
        help="pelvis: iliac crest to 3.5 cm below the lesser trochanter; abdomen: 20 cm more "
        "upward; hips: femoral heads to lesser trochanters only",
    )
    parser.add_argument(
        "--slices", type=int, default=None, help="force a slice count (from the range's bottom)"
    )
    parser.add_argument(
        "--slice-mm", type=float, default=ref.SLICE_THICKNESS_MM, help="slice thickness/interval"
    )
    parser.add_argument(
        "--scanners",
        default=",".join(SCANNER_PROFILES),
        help=f"comma list of scanner profiles drawn at random: {', '.join(ALL_PROFILES)} "
        f"(default the study's {', '.join(SCANNER_PROFILES)})",
    )
    parser.add_argument(
        "--appearance",
        choices=APPEARANCES,
        default="study",
        help="study: the paper's scanners and protocol; randomised: every tissue HU, kernel, noise, "
        "slice and pixel size, field of view, arms, contrast, metal and body size drawn per "
        "case (for segmentation training; bone status no longer lives in the HU)",
    )
    parser.add_argument(
        "--calibration",
        choices=CALIBRATIONS,
        default="profile",
        help="profile: each scanner's small fixed calibration error; spread: plus a per-case HU "
        "offset and gain as uncalibrated opportunistic CT has (scanner.py)",
    )
    parser.add_argument(
        "--class-mix",
        default=None,
        help="normal,osteopenia,osteoporosis fractions (default the paper's 0.44,0.38,0.17)",
    )
    parser.add_argument(
        "--exclusion-fraction",
        type=float,
        default=0.0,
        help="share of cases with an exclusion (metastases, fracture, prosthesis, incomplete)",
    )
    parser.add_argument("--no-readers", action="store_true", help="skip the two readers' masks")
    parser.add_argument("--dicom", action="store_true", help="also write DICOM series with fake identifiers")
    parser.add_argument("--preview", action="store_true", help="also write PNG montages")


def _class_mix(text: str | None) -> dict:
    if text is None:
        return dict(ref.PAPER_CLASS_MIX)
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError(f"class mix must be three numbers like 0.44,0.38,0.17, got {text!r}") from None
    if len(values) != 3:
        raise ValueError(f"class mix needs three fractions (normal, osteopenia, osteoporosis), got {text!r}")
    return dict(zip(ref.CLASSES, values, strict=True))


def config_from_args(args) -> CohortConfig:
    options = CaseOptions(
        matrix=args.matrix,
        region=args.region,
        slices=args.slices,
        slice_mm=args.slice_mm,
        scanners=tuple(s.strip() for s in args.scanners.split(",") if s.strip()),
        class_mix=_class_mix(args.class_mix),
        exclusion_fraction=args.exclusion_fraction,
        readers=not args.no_readers,
        appearance=args.appearance,
        calibration=args.calibration,
    )
    return CohortConfig(
        out=Path(args.out),
        cases=args.cases,
        seed=args.seed,
        options=options,
        dicom=args.dicom,
        preview=args.preview,
    )
