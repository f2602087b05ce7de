"""Radiomics feature vectors of the proximal-femur VOIs, stored per (case, mask source, mask SHA-256,
side, settings hash): computed once, reused by every later training that reads the same mask.

Each vector also carries the VOI's mean trabecular HU (BASELINE_FEATURE), the one number the baseline
model reads; it is not a radiomics feature and the radiomics model never sees it.
"""

from __future__ import annotations

# inference.ml is imported inside the functions that use it: it loads torch, MONAI or pyradiomics, which the
# web process should not pay for at start-up. It is the same app's pure core, so no layer is crossed.
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import SimpleITK as sitk
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction

from cases.models import Case
from cases.selectors import case_image
from cases.spreadsheet import SpreadsheetSafeWriter
from inference import selectors
from inference.errors import InvalidRequest
from inference.models import FeatureVector, ModelVersion, SegmentationPrediction
from jobs.registry import JobContext
from voi import labels as label_contract

MaskSource = FeatureVector.MaskSource
SIDES = tuple(label_contract.SIDES)
BASELINE_FEATURE = "mean_trabecular_hu"


def radiomics_settings():
    """The study's pyradiomics settings: settings.RADIOMICS_PARAMS_PATH, else the repository's params.yaml."""
    from inference.ml.radiomics import PARAMS_PATH, load_settings

    try:
        return load_settings(getattr(django_settings, "RADIOMICS_PARAMS_PATH", None) or PARAMS_PATH)
    except ValueError as error:
        raise InvalidRequest(str(error)) from error


def study_sides() -> tuple[str, ...]:
    """Which proximal femur(s) the study analyses: settings.RADIOMICS_SIDES, else both."""
    sides = tuple(getattr(django_settings, "RADIOMICS_SIDES", SIDES))
    return check_sides(sides)


def check_sides(sides) -> tuple[str, ...]:
    sides = tuple(sides)
    if not sides or any(side not in SIDES for side in sides) or len(set(sides)) != len(sides):
        raise InvalidRequest(f"sides must be a non-empty subset of {list(SIDES)}, got {list(sides)}")
    return tuple(side for side in SIDES if side in sides)


@dataclass(frozen=True)
class CaseMask:
    """The VOI a case's features are read from, and where it came from."""

    case_id: int
    source: str
    sha256: str
    path: str
    segmentation_id: int | None = None


def case_mask(
    case: Case, *, mask_source: str, segmentation_version: ModelVersion | None = None
) -> CaseMask | None:
    """The case's reference VOI, or its mask predicted by the segmentation version; None when it has none."""
    if mask_source == MaskSource.REFERENCE:
        reference = selectors.current_reference_voi(case)
        if reference is None:
            return None
        return CaseMask(
            case.pk, mask_source, reference.revision.labelmap_sha256, reference.revision.labelmap.path
        )
    if mask_source == MaskSource.PREDICTION:
        prediction = SegmentationPrediction.objects.filter(
            case=case, model_version=segmentation_version
        ).first()
        if prediction is None:
            return None
        return CaseMask(case.pk, mask_source, prediction.mask_sha256, prediction.mask.path, prediction.pk)
    raise InvalidRequest(f"features are read from a reference or a predicted mask, not {mask_source!r}")


def stored_features(mask: CaseMask, *, settings_hash: str, sides) -> dict[str, FeatureVector]:
    rows = FeatureVector.objects.filter(
        case_id=mask.case_id,
        mask_source=mask.source,
        mask_sha256=mask.sha256,
        settings_hash=settings_hash,
        side__in=[side_label(s) for s in sides],
    )
    return {side_name(row.side): row for row in rows}


def side_label(side: str) -> int:
    return label_contract.SIDES[side]


def side_name(label: int) -> str:
    return label_contract.SIDE_OF_LABEL[label]


def side_features(
    image: sitk.Image, mask: sitk.Image, *, side: str, settings, workers: int = 1
) -> dict[str, float | None]:
    """Radiomics features of one side plus its mean trabecular HU, as JSON-safe numbers (NaN -> None)."""
    from inference.ml.radiomics import extract_features
    from inference.ml.radiomics.trabecular import mean_trabecular_hu

    vector = extract_features(image, mask, label=side_label(side), settings=settings, workers=workers)
    try:
        trabecular = mean_trabecular_hu(image, mask, label=side_label(side))
    except ValueError:  # a VOI too thin to have bone below its cortex: the baseline imputes the value
        trabecular = float("nan")
    values = {**vector.features, BASELINE_FEATURE: trabecular}
    return {name: (None if not math.isfinite(value) else float(value)) for name, value in values.items()}


def case_features_extract(*, mask: CaseMask, sides, settings) -> dict[str, FeatureVector]:
    """Compute and store the sides still missing for this mask; returns every side's row.

    Raises ValueError (from the extractor) when the mask has no voxel of a side.
    """
    from inference.ml.radiomics import provenance

    rows = stored_features(mask, settings_hash=settings.settings_hash, sides=sides)
    missing = [side for side in sides if side not in rows]
    if not missing:
        return rows
    case = Case.objects.get(pk=mask.case_id)
    image, labels = case_image(case), sitk.ReadImage(mask.path)
    for side in missing:
        started = time.perf_counter()
        values = side_features(image, labels, side=side, settings=settings)
        versions = dataclasses.asdict(provenance(settings, side_label(side)))
        rows[side] = _feature_vector_store(
            mask=mask,
            side=side,
            settings_hash=settings.settings_hash,
            values=values,
            versions=versions,
            seconds=time.perf_counter() - started,
        )
    return rows


def _feature_vector_store(
    *, mask: CaseMask, side: str, settings_hash: str, values: dict, versions: dict, seconds: float
) -> FeatureVector:
    key = {
        "case_id": mask.case_id,
        "mask_source": mask.source,
        "mask_sha256": mask.sha256,
        "side": side_label(side),
        "settings_hash": settings_hash,
    }
    try:
        with transaction.atomic():
            return FeatureVector.objects.create(
                **key, features=values, versions=versions, seconds=round(seconds, 3)
            )
    except IntegrityError:  # a parallel task stored the same vector first; the numbers are the same
        return FeatureVector.objects.get(**key)


def case_feature_row(rows: dict[str, FeatureVector], sides) -> tuple[dict[str, float], float]:
    """(radiomics model input "<side>_<feature>" -> value, mean trabecular HU over the sides)."""
    from inference.ml.classifier import case_feature_row as combine

    radiomics = {
        side: {k: _number(v) for k, v in rows[side].features.items() if k != BASELINE_FEATURE}
        for side in sides
    }
    hu = [_number(rows[side].features.get(BASELINE_FEATURE)) for side in sides]
    return combine(radiomics), float(sum(hu) / len(hu))


def _number(value) -> float:
    return float("nan") if value is None else float(value)


# --- the per-case extraction job (run in parallel on the cpu queue) -------------------------------------


def extract_case_run(ctx: JobContext) -> dict:
    params = ctx.params
    segmentation_id = params.get("segmentation_version_id")  # None: the masks come from the readers
    segmentation = (
        ModelVersion.objects.filter(pk=segmentation_id).first() if segmentation_id is not None else None
    )
    case = Case.objects.get(pk=params["case_id"])
    mask = case_mask(case, mask_source=params["mask_source"], segmentation_version=segmentation)
    if mask is None:
        raise InvalidRequest(f"case {case.pk} has no {params['mask_source']} mask")
    ctx.progress(10, f"radiomics of {case.patient.study_id} ({', '.join(params['sides'])})")
    rows = case_features_extract(mask=mask, sides=params["sides"], settings=radiomics_settings())
    return {"case_id": case.pk, "feature_vectors": sorted(row.pk for row in rows.values())}


def feature_table_csv(path: Path, table: list[tuple[int, str, str, dict[str, float]]]) -> Path:
    """Write (case id, study id, subset, features) rows as CSV, feature columns in the first row's order."""
    names = list(table[0][3]) if table else []
    with open(path, "w", newline="") as handle:
        writer = SpreadsheetSafeWriter(handle)
        writer.writerow(["case_id", "study_id", "subset", *names])
        for case_id, study_id, subset, features in table:
            writer.writerow([case_id, study_id, subset, *(features.get(n, "") for n in names)])
    return path
