"""The deployed path on one CT: active segmentation -> mask -> QC -> radiomics -> classifier -> bone status.

`screen_image` is the path itself (models in, numbers out; no database); `screen_ct` finds the versions
to use (the active ones, or those named) and their files, checked against their SHA-256.

QC (platform/imageqc) judges each side from the image and the model's own mask. The classifier reads
both sides at once, so a CT gets a class only when every side it reads is assessable; otherwise it is
"not assessable" with each side's reasons, and no radiomics are computed.
"""

from __future__ import annotations

# inference.ml is imported inside the functions that use it: it loads torch, MONAI or pyradiomics, which the
# web process should not pay for at start-up. It is the same app's pure core, so no layer is crossed.
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import SimpleITK as sitk

from cases.qc import case_image_qc
from imageqc import by_side, sides_qc
from inference import selectors
from inference.errors import InvalidRequest
from inference.models import ModelVersion
from inference.training import features

Family = ModelVersion.Family


@dataclass
class ScreenResult:
    predicted_class: str | None  # None when a side the classifier reads is not assessable
    probabilities: dict[str, float]
    sides: list[str]
    voxels: dict[str, int]
    seconds: dict[str, float]
    baseline_probabilities: dict[str, float] | None = None
    versions: dict[str, int | None] = field(default_factory=dict)
    # Per side: {"assessable": bool, "qc": [reasons], "flags": [...], "volume_cm3": float, "voxels": int}.
    per_side: dict[str, dict] = field(default_factory=dict)

    @property
    def assessable(self) -> bool:
        return all(self.per_side[side]["assessable"] for side in self.sides)

    def as_dict(self) -> dict:
        return {**asdict(self), "assessable": self.assessable}


def screen_image(
    image: sitk.Image,
    *,
    coarse,
    fine,
    model,
    settings,
    sides,
    baseline=None,
    workers: int = 1,
    mask_out: Path | None = None,
) -> ScreenResult:
    """Segment, QC, measure and classify one CT (HU); no class when a side the model reads is not assessable."""
    from inference.ml.segmentation import segment_image

    seconds, started = {}, time.perf_counter()
    confidence: dict[int, float] = {}
    mask = segment_image(image, coarse, fine, confidence_out=confidence)
    seconds["segmentation"] = time.perf_counter() - started
    if mask_out is not None:
        sitk.WriteImage(mask, str(mask_out), useCompression=True)
    voxels = {
        side: int((sitk.GetArrayViewFromImage(mask) == features.side_label(side)).sum()) for side in sides
    }
    mark = time.perf_counter()
    qc = screening_qc(image, mask, sides=sides, voxels=voxels, confidence=confidence)
    seconds["qc"] = time.perf_counter() - mark
    if not all(qc[side]["assessable"] for side in sides):
        seconds["total"] = time.perf_counter() - started
        return ScreenResult(
            predicted_class=None,
            probabilities={},
            sides=list(sides),
            voxels=voxels,
            seconds={k: round(v, 3) for k, v in seconds.items()},
            per_side=qc,
        )
    mark = time.perf_counter()
    side_values = {
        side: features.side_features(image, mask, side=side, settings=settings, workers=workers)
        for side in sides
    }
    seconds["features"] = time.perf_counter() - mark
    mark = time.perf_counter()
    row, hu = _model_rows(side_values, sides)
    probabilities = model.probabilities(row)
    baseline_probabilities = baseline.probabilities({features.BASELINE_FEATURE: hu}) if baseline else None
    seconds["classification"] = time.perf_counter() - mark
    seconds["total"] = time.perf_counter() - started
    return ScreenResult(
        predicted_class=max(probabilities, key=probabilities.get),
        probabilities=probabilities,
        sides=list(sides),
        voxels=voxels,
        seconds={k: round(v, 3) for k, v in seconds.items()},
        baseline_probabilities=baseline_probabilities,
        per_side=qc,
    )


def screening_qc(
    image: sitk.Image,
    mask: sitk.Image,
    *,
    sides,
    voxels: dict[str, int] | None = None,
    confidence: dict[int, float] | None = None,
) -> dict[str, dict]:
    """Each side's QC verdict from the CT and the model's mask (and its mean probability per label, when
    known), as JSON-ready dicts."""
    verdicts = sides_qc(case_image_qc(image), mask, sides=tuple(sides), mean_probability=by_side(confidence))
    return {
        side: {**verdicts[side].as_dict(), **({"voxels": voxels[side]} if voxels else {})} for side in sides
    }


def _model_rows(side_values: dict, sides) -> tuple[dict, float]:
    from inference.ml.classifier import case_feature_row

    nan = float("nan")
    radiomics = {
        side: {
            k: (nan if v is None else v)
            for k, v in side_values[side].items()
            if k != features.BASELINE_FEATURE
        }
        for side in sides
    }
    hu = [side_values[side][features.BASELINE_FEATURE] for side in sides]
    hu = [nan if v is None else v for v in hu]
    return case_feature_row(radiomics), sum(hu) / len(hu)


@lru_cache(maxsize=4)
def _load_model(path: Path):
    from inference.ml.classifier import BoneStatusModel

    return BoneStatusModel.load(path)


def bone_status_model(version: ModelVersion):
    return _load_model(selectors.model_file_path(version, "pipeline"))


def screen_ct(
    image: sitk.Image,
    *,
    classifier_number: int | None = None,
    segmentation_number: int | None = None,
    workers: int | None = None,
    mask_out: Path | None = None,
) -> ScreenResult:
    """The deployed path with the active versions (or the numbered ones). NoActiveModel when one is missing."""
    from inference.ml.radiomics import default_workers, settings_from_dict

    classifier = selectors.deployed_version(Family.CLASSIFIER, classifier_number)
    segmentation = selectors.deployed_version(Family.SEGMENTATION, segmentation_number)
    baseline = selectors.active_version(Family.BASELINE)
    try:
        settings = settings_from_dict(classifier.config["radiomics_params"], source=str(classifier))
        sides = classifier.config["sides"]
    except (KeyError, ValueError) as error:
        raise InvalidRequest(f"{classifier} does not record its radiomics settings: {error}") from error
    coarse, fine = selectors.segmentation_checkpoints(segmentation)
    result = screen_image(
        image,
        coarse=coarse,
        fine=fine,
        model=bone_status_model(classifier),
        settings=settings,
        sides=sides,
        baseline=bone_status_model(baseline) if baseline else None,
        workers=workers or default_workers(),
        mask_out=mask_out,
    )
    result.versions = {
        "segmentation": segmentation.number,
        "classifier": classifier.number,
        "baseline": baseline.number if baseline else None,
    }
    return result


def read_ct(path: str | Path) -> sitk.Image:
    """A CT from a NIfTI file or a folder of one DICOM series; InvalidRequest with the reason otherwise."""
    path = Path(path)
    if not path.exists():
        raise InvalidRequest(f"{path} does not exist")
    try:
        if path.is_dir():
            reader = sitk.ImageSeriesReader()
            files = reader.GetGDCMSeriesFileNames(str(path))
            if not files:
                raise InvalidRequest(f"{path} holds no DICOM series")
            reader.SetFileNames(files)
            image = reader.Execute()
        else:
            image = sitk.ReadImage(str(path))
    except RuntimeError as error:
        raise InvalidRequest(
            f"{path} could not be read as a CT image: {str(error).strip().splitlines()[0][:200]}"
        ) from error
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise InvalidRequest(f"{path} is not a 3-D scalar image (a CT volume in HU)")
    return image
