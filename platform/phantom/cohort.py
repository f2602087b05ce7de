"""Write a synthetic cohort in the layout the platform's importer reads (see README.md):

OUT/manifest.csv, OUT/qct.csv, OUT/images/<id>.nii.gz, OUT/masks/<id>.nii.gz (+ _reader1/_reader2),
OUT/dicom/<id>/*.dcm, OUT/preview/<id>.png, and OUT/phantom_truth.csv (ground truth for checks).
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from . import reference as ref
from .case import CaseOptions, PhantomCase, generate_case

MANIFEST_COLUMNS = (
    "study_id",
    "sex",
    "birth_year",
    "exam_datetime",
    "scanner_model",
    "manufacturer",
    "kvp",
    "slice_thickness_mm",
    "dlp_mgycm",
    "exclusion_reason",
    "image",
    "reference_mask",
    "reader1_mask",
    "reader2_mask",
)
QCT_COLUMNS = (
    ("study_id", "qct_date") + tuple(f"{s}_{k}" for s in ref.QCT_SITES for k in ("bmd", "t")) + ("bmd_unit",)
)
# Hip QCT (CTXA-style) reports areal, DXA-equivalent BMD; the column says so to the importer.
BMD_UNIT = "g/cm2"
TRUTH_COLUMNS = (
    "study_id",
    "bone_status",
    "age",
    "scanner",
    "noise_sd_hu",
    "ctdi_vol_mgy",
    "effective_dose_msv",
    "days_from_ct",
    "image_density_t",
    "neck_bv_tv",
    "osteophytes",
)
MAX_CASES = 100_000


@dataclass(frozen=True)
class CohortConfig:
    out: Path
    cases: int
    seed: int = 0
    options: CaseOptions = field(default_factory=CaseOptions)
    dicom: bool = False
    preview: bool = False

    def __post_init__(self):
        if not 1 <= self.cases <= MAX_CASES:
            raise ValueError(f"cases must be between 1 and {MAX_CASES}, got {self.cases}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")


def _write_case(case: PhantomCase, config: CohortConfig) -> dict:
    sid, out = case.study_id, config.out
    paths = {
        "image": f"images/{sid}.nii.gz",
        "reference_mask": f"masks/{sid}.nii.gz",
        "reader1_mask": "",
        "reader2_mask": "",
    }
    sitk.WriteImage(case.image, str(out / paths["image"]), useCompression=True)
    sitk.WriteImage(case.label, str(out / paths["reference_mask"]), useCompression=True)
    if case.reader_labels is not None:
        for n, reader in enumerate(case.reader_labels, start=1):
            paths[f"reader{n}_mask"] = f"masks/{sid}_reader{n}.nii.gz"
            sitk.WriteImage(reader, str(out / paths[f"reader{n}_mask"]), useCompression=True)
    return paths


def _write_extras(case: PhantomCase, config: CohortConfig, index: int) -> None:
    if config.dicom:
        from .dicom import fake_identity, write_dose_report, write_series

        identity = fake_identity(np.random.default_rng([config.seed, index, 7]), case.metadata)
        write_series(
            case.image,
            case.metadata,
            identity,
            config.out / "dicom" / case.study_id,
            seed=config.seed,
            index=index,
        )
        write_dose_report(
            case.metadata, identity, config.out / "dicom" / case.study_id, seed=config.seed, index=index
        )
    if config.preview:
        from .preview import write_preview

        write_preview(case, config.out / "preview" / f"{case.study_id}.png")


def _rows(case: PhantomCase, paths: dict) -> tuple[dict, dict, dict]:
    m = case.metadata
    manifest = {k: m[k] for k in MANIFEST_COLUMNS if k in m} | paths
    qct = {"study_id": m["study_id"], "qct_date": m["qct_date"], "bmd_unit": BMD_UNIT}
    for site in ref.QCT_SITES:
        qct[f"{site}_bmd"], qct[f"{site}_t"] = case.qct.bmd[site], case.qct.t_score[site]
    return manifest, qct, {k: m[k] for k in TRUTH_COLUMNS}


def write_cohort(config: CohortConfig, progress: Callable[[int, int], None] | None = None) -> Path:
    """Generate and write every case, then the CSV tables; returns the manifest's path."""
    for sub in (
        ("images", "masks") + (("dicom",) if config.dicom else ()) + (("preview",) if config.preview else ())
    ):
        (config.out / sub).mkdir(parents=True, exist_ok=True)
    tables: tuple[list, list, list] = ([], [], [])
    for index in range(config.cases):
        case = generate_case(seed=config.seed, index=index, options=config.options)
        paths = _write_case(case, config)
        _write_extras(case, config, index)
        for table, row in zip(tables, _rows(case, paths), strict=True):
            table.append(row)
        if progress:
            progress(index + 1, config.cases)
    for name, columns, rows in zip(
        ("manifest.csv", "qct.csv", "phantom_truth.csv"),
        (MANIFEST_COLUMNS, QCT_COLUMNS, TRUTH_COLUMNS),
        tables,
        strict=True,
    ):
        with open(config.out / name, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return config.out / "manifest.csv"
