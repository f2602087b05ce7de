"""Radiomics features of one VOI label: the plain pyradiomics call, and an exact faster path.

Why a fast path: on a full-field CT, ``RadiomicsFeatureExtractor.execute`` spends most of its time on
whole-volume bookkeeping (numpy.unique of the full mask, SHA-1 hashes of image and mask for its diagnostics,
and a B-spline prefilter of the whole CT although only the VOI's neighbourhood is resampled), not on the
feature maths. The fast path does the same steps on the same data, in the same order, with pyradiomics'
own functions, and leaves out only the whole-volume work whose result does not reach a feature:

1. The label's bounding box comes from a numpy view of the mask (no copy, no sort).
2. The CT is cropped to the VOI plus a margin before pyradiomics' own ``resampleImage`` runs. The
   resampling grid is computed, as pyradiomics does it, from the FULL mask, so the grid does not move (a
   naive crop of both would shift it and change the values). The margin covers the padding, the
   interpolation kernel and the decay of the cubic B-spline prefilter, whose boundary influence falls as
   |z|^n with z = sqrt(3) - 2 (Unser 1999), below double precision after ``BSPLINE_PREFILTER_MARGIN``
   voxels.
3. Shape, filters and feature classes then run exactly as ``execute`` runs them, on the resampled VOI;
   the image types are independent, so with ``workers > 1`` they are computed in parallel processes.

Settings the fast path cannot reproduce on a crop (intensity normalisation over the whole CT, no
resampling, resegmentation) fall back to the plain call, so the numbers never depend on the path.
"""

from __future__ import annotations

import atexit
import collections
import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain
from typing import Any

import numpy as np
import radiomics
import SimpleITK as sitk
from radiomics import base, featureextractor, imageoperations
from threadpoolctl import threadpool_limits

from inference.ml.radiomics.params import RadiomicsSettings, load_settings
from voi.labels import SIDES

logger = logging.getLogger(__name__)
# pyradiomics logs a warning per GLCM computation ("GLCM is symmetrical ...") and the chatter of its
# image-type loops at INFO; a screening run would print hundreds of lines. Its errors still show.
logging.getLogger("radiomics").setLevel(logging.ERROR)

# Label value of each side in the VOI volumes (the platform's label contract, voi.labels).
SIDE_LABELS: dict[str, int] = SIDES

# Voxels of CT kept beyond the resampled region so that the cubic B-spline prefilter (an IIR filter with
# pole z = sqrt(3) - 2, |z|^35 < 1e-20) sees the same data as on the full CT (Unser, "Splines: a perfect
# fit for signal and image processing", IEEE SPM 1999).
BSPLINE_PREFILTER_MARGIN = 35
# Voxels kept for interpolators without a prefilter: covers the widest kernel pyradiomics offers
# (windowed sinc, radius 5 in SimpleITK, and the Gaussian kernels).
KERNEL_MARGIN = 8
# Spacing ratios are compared as fractions with denominators up to this: a resampled grid that meets the CT
# voxels only every 1000 points or more does so at most once in a femur VOI (about 100 points a side), and
# treating it as meeting them only costs time, never exactness.
ODD_RATIO_MAX_DENOMINATOR = 1000
_BSPLINE_INTERPOLATORS = {"sitkBSpline", sitk.sitkBSpline}

# BLAS threads while features are computed (see extract_features).
BLAS_THREADS = 1

# Settings whose effect depends on the whole CT or on the un-resampled grid: the fast path hands these
# to the plain pyradiomics call rather than approximate them.
_WHOLE_VOLUME_SETTINGS = ("normalize", "resegmentRange")


@dataclass(frozen=True)
class FeatureProvenance:
    """What made a feature vector: library versions, the settings hash and the label measured."""

    pyradiomics_version: str
    numpy_version: str
    simpleitk_version: str
    settings_hash: str
    label: int


@dataclass(frozen=True)
class FeatureVector:
    """Features of one VOI label, in pyradiomics' order (``<imageType>_<class>_<feature>`` -> float)."""

    features: collections.OrderedDict[str, float]
    provenance: FeatureProvenance

    def __len__(self) -> int:
        return len(self.features)


def extract_features(
    image: sitk.Image,
    mask: sitk.Image,
    *,
    label: int,
    settings: RadiomicsSettings | None = None,
    workers: int = 1,
) -> FeatureVector:
    """Radiomics features of one label of ``mask`` on ``image``, equal to pyradiomics' own call.

    Args:
        image: the CT (any scalar pixel type; int16 HU for the platform's volumes).
        mask: a label volume on the same grid as ``image``.
        label: the label value to measure (see ``SIDE_LABELS``).
        settings: validated parameters; default: the repository's ``params.yaml``.
        workers: processes to spread the image types over; 1 computes everything in this process.

    Raises:
        ValueError: the mask is not on the image grid, has no voxel of ``label``, or the ROI is too small
            for pyradiomics.

    Example:
        >>> vector = extract_features(ct, voi, label=SIDE_LABELS["left"])  # doctest: +SKIP
        >>> vector.features["original_firstorder_Mean"]  # doctest: +SKIP
    """
    settings = settings or load_settings()
    _check_inputs(image, mask, label=label, workers=workers)
    if not _fast_path_applies(settings):
        logger.info("settings need the whole CT; using the plain pyradiomics call")
        return extract_features_plain(image, mask, label=label, settings=settings)
    if workers > 1:
        _start_workers(workers)  # they boot while this process resamples
    run_settings = _run_settings(settings, label)
    resampled_image, resampled_mask = _resample_voi(image, mask, label=label, run_settings=run_settings)
    # GLCM's MCC solves small eigenvalue problems; OpenBLAS threads spin on them and slow the call (more so
    # on a busy machine). One BLAS thread gave bitwise the same features in our measurements.
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        features = _features_of_resampled_voi(
            resampled_image, resampled_mask, settings=settings, run_settings=run_settings, workers=workers
        )
    return FeatureVector(features=features, provenance=provenance(settings, label))


def extract_features_plain(
    image: sitk.Image, mask: sitk.Image, *, label: int, settings: RadiomicsSettings | None = None
) -> FeatureVector:
    """The reference: ``RadiomicsFeatureExtractor(params).execute(image, mask, label=label)``, features only."""
    settings = settings or load_settings()
    _check_label_present(mask, label)
    result = featureextractor.RadiomicsFeatureExtractor(settings.as_dict()).execute(image, mask, label=label)
    features = collections.OrderedDict(
        (name, float(value)) for name, value in result.items() if not name.startswith("diagnostics_")
    )
    return FeatureVector(features=features, provenance=provenance(settings, label))


def extract_sides(
    image: sitk.Image,
    mask: sitk.Image,
    *,
    sides: Iterable[str] = ("left", "right"),
    settings: RadiomicsSettings | None = None,
    workers: int = 1,
) -> dict[str, FeatureVector]:
    """Features per proximal femur: ``{"left": FeatureVector, "right": ...}`` for the sides asked for.

    Raises:
        ValueError: a side is not "left"/"right", or its label has no voxel in the mask.
    """
    sides = list(sides)
    unknown = [side for side in sides if side not in SIDE_LABELS]
    if unknown or not sides:
        raise ValueError(f"sides must be a non-empty subset of {sorted(SIDE_LABELS)}, got {sides}")
    settings = settings or load_settings()
    return {
        side: extract_features(image, mask, label=SIDE_LABELS[side], settings=settings, workers=workers)
        for side in sides
    }


def provenance(settings: RadiomicsSettings, label: int) -> FeatureProvenance:
    """The versions and settings hash stored beside every feature vector."""
    return FeatureProvenance(
        pyradiomics_version=str(radiomics.__version__),
        numpy_version=np.__version__,
        simpleitk_version=sitk.Version.VersionString(),
        settings_hash=settings.settings_hash,
        label=int(label),
    )


# --- checks -------------------------------------------------------------------------------------------


def _check_inputs(image: sitk.Image, mask: sitk.Image, *, label: int, workers: int) -> None:
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if image.GetDimension() != 3 or mask.GetDimension() != 3:
        raise ValueError("image and mask must be 3-D volumes")
    if mask.GetNumberOfComponentsPerPixel() != 1:
        raise ValueError("mask must be a scalar label volume (0 background, 1 left, 2 right)")
    if image.GetSize() != mask.GetSize():
        raise ValueError(f"mask size {mask.GetSize()} differs from image size {image.GetSize()}")
    spacing = np.array(image.GetSpacing())
    same_grid = (
        np.allclose(image.GetSpacing(), mask.GetSpacing(), rtol=0, atol=1e-6 * spacing.min())
        and np.allclose(image.GetOrigin(), mask.GetOrigin(), rtol=0, atol=1e-3 * spacing.min())
        and np.allclose(image.GetDirection(), mask.GetDirection(), rtol=0, atol=1e-6)
    )
    if not same_grid:
        raise ValueError("mask is not on the image grid (spacing, origin or direction differ)")
    _check_label_present(mask, label)


def _check_label_present(mask: sitk.Image, label: int) -> None:
    if _label_bounding_box(mask, label) is None:
        raise ValueError(f"mask has no voxel of label {label}; nothing to measure")


def _label_bounding_box(mask: sitk.Image, label: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(lower, upper) voxel indices in x, y, z order, inclusive; None when the label is absent."""
    voxels = sitk.GetArrayViewFromImage(mask) == label  # numpy axes are z, y, x
    if not voxels.any():
        return None
    lower, upper = [], []
    for axis in (2, 1, 0):
        others = tuple(a for a in (0, 1, 2) if a != axis)
        present = np.flatnonzero(voxels.any(axis=others))
        lower.append(present[0])
        upper.append(present[-1])
    return np.array(lower), np.array(upper)


def _fast_path_applies(settings: RadiomicsSettings) -> bool:
    setting = settings.setting
    resampled = setting.get("resampledPixelSpacing") is not None and setting.get(
        "interpolator", "sitkBSpline"
    )
    whole_volume = any(setting.get(name) not in (None, False) for name in _WHOLE_VOLUME_SETTINGS)
    return bool(resampled) and not whole_volume and not settings.params.get("voxelSetting")


def _run_settings(settings: RadiomicsSettings, label: int) -> dict[str, Any]:
    """The settings ``execute`` hands to each step: defaults, then the file's, then the label."""
    run = featureextractor.RadiomicsFeatureExtractor._getDefaultSettings()
    run.update(settings.setting)
    run["label"] = int(label)
    return run


# --- resampling on a crop -----------------------------------------------------------------------------


def _resample_voi(
    image: sitk.Image, mask: sitk.Image, *, label: int, run_settings: dict[str, Any]
) -> tuple[sitk.Image, sitk.Image]:
    """pyradiomics' own resampling, fed the full (uncropped) mask and, where exact, a cropped CT."""
    label_mask = _integer_labels(mask)
    if _resampled_grid_meets_ct_voxels(image, run_settings):
        # Some resampled points fall exactly on CT voxels, where the interpolated value is a whole number
        # that ITK truncates to the pixel type; the last-bit noise of a cropped prefilter would flip those.
        source = image
    else:
        source = _crop_around_label(image, mask, label=label, run_settings=run_settings)
    return imageoperations.resampleImage(source, label_mask, **run_settings)


def _integer_labels(mask: sitk.Image) -> sitk.Image:
    """pyradiomics casts every mask to UInt32 (a full-volume copy); nearest-neighbour resampling copies
    label values unchanged, so an integer mask is resampled as it is and the small result cast after."""
    integer_types = {
        sitk.sitkUInt8,
        sitk.sitkInt8,
        sitk.sitkUInt16,
        sitk.sitkInt16,
        sitk.sitkUInt32,
        sitk.sitkInt32,
        sitk.sitkUInt64,
        sitk.sitkInt64,
    }
    return mask if mask.GetPixelID() in integer_types else sitk.Cast(mask, sitk.sitkUInt32)


def _resampled_grid_meets_ct_voxels(image: sitk.Image, run_settings: dict[str, Any]) -> bool:
    """True when, in every axis, some resampled point lies exactly on a CT voxel centre.

    pyradiomics centres the new grid so that point k sits at CT index ((2k + 1) * new / old - 1) / 2,
    a whole number for some k exactly when new / old is a ratio of two odd integers (0.6 mm -> 1 mm:
    5/3; 3 mm slices: 1/3). Then points exist where the interpolated value equals a CT value exactly.
    """
    spacing = np.array(image.GetSpacing())
    target = np.array(run_settings["resampledPixelSpacing"], dtype=float)
    target = np.where(target == 0, spacing, target)
    if np.allclose(spacing, target):
        return False  # pyradiomics does not interpolate the CT at all then
    return all(_is_odd_ratio(new / old) for new, old in zip(target, spacing, strict=True))


def _is_odd_ratio(ratio: float) -> bool:
    fraction = Fraction(ratio).limit_denominator(ODD_RATIO_MAX_DENOMINATOR)
    if abs(float(fraction) - ratio) > 1e-9 * ratio:
        return False
    return fraction.numerator % 2 == 1 and fraction.denominator % 2 == 1


def _crop_around_label(image: sitk.Image, mask: sitk.Image, *, label: int, run_settings: dict) -> sitk.Image:
    box = _label_bounding_box(mask, label)
    assert box is not None  # checked by _check_inputs
    margin = _crop_margin(image, run_settings)
    size = np.array(image.GetSize())
    lower = np.maximum(box[0] - margin, 0)
    upper = np.minimum(box[1] + margin, size - 1)
    return sitk.RegionOfInterest(image, (upper - lower + 1).tolist(), lower.tolist())


def _crop_margin(image: sitk.Image, run_settings: dict[str, Any]) -> np.ndarray:
    """Voxels of CT needed around the label's box so that the resampled values do not change."""
    spacing = np.array(image.GetSpacing())
    target = np.array(run_settings["resampledPixelSpacing"], dtype=float)
    target = np.where(target == 0, spacing, target)
    # The resampled region reaches padDistance target voxels (plus rounding) beyond the label.
    padding = np.ceil((run_settings.get("padDistance", 5) + 2) * target / spacing).astype(int)
    interpolator = run_settings.get("interpolator", "sitkBSpline")
    tail = BSPLINE_PREFILTER_MARGIN if interpolator in _BSPLINE_INTERPOLATORS else KERNEL_MARGIN
    return padding + tail


# --- features on the resampled VOI, as execute() computes them ------------------------------------------


def _features_of_resampled_voi(
    image: sitk.Image,
    mask: sitk.Image,
    *,
    settings: RadiomicsSettings,
    run_settings: dict[str, Any],
    workers: int,
) -> collections.OrderedDict[str, float]:
    extractor = _extractor(settings)
    mask = sitk.Cast(mask, sitk.sitkUInt32)
    bounding_box, corrected_mask = imageoperations.checkMask(image, mask, **run_settings)
    if corrected_mask is not None:
        mask = corrected_mask
    filtered = _filtered_images(extractor, image, mask, bounding_box, run_settings)
    # Texture work is handed out first so that worker processes run while shape is computed here.
    texture = _texture_features(extractor.enabledFeatures, filtered, workers=workers)
    features: collections.OrderedDict[str, Any] = collections.OrderedDict()
    features.update(extractor.computeShape(image, mask, bounding_box, **run_settings))
    for part in texture:
        features.update(part.result() if isinstance(part, Future) else part)
    return collections.OrderedDict((name, float(value)) for name, value in features.items())


def _filtered_images(
    extractor: featureextractor.RadiomicsFeatureExtractor,
    image: sitk.Image,
    mask: sitk.Image,
    bounding_box: np.ndarray,
    run_settings: dict[str, Any],
) -> Iterator[tuple[sitk.Image, sitk.Image, str, dict[str, Any]]]:
    """Each enabled image type (original, wavelet sub-bands, LoG sigmas), cropped to the VOI, in order."""
    generators = []
    for image_type, custom in extractor.enabledImagetypes.items():
        kwargs = dict(run_settings, **(custom or {}))
        generators.append(getattr(imageoperations, f"get{image_type}Image")(image, mask, **kwargs))
    for input_image, type_name, input_kwargs in chain(*generators):
        cropped_image, cropped_mask = imageoperations.cropToTumorMask(
            input_image, mask, bounding_box, padDistance=0
        )
        yield cropped_image, cropped_mask, type_name, input_kwargs


def _texture_features(
    enabled_features: dict[str, Any],
    filtered: Iterator[tuple[sitk.Image, sitk.Image, str, dict[str, Any]]],
    *,
    workers: int,
) -> Iterable[dict[str, Any] | Future]:
    """Per image type: lazily here (one worker), or submitted at once to the process pool."""
    if workers == 1:
        return (_image_type_features(enabled_features, *item) for item in filtered)
    pool = _process_pool(workers)
    return [pool.submit(_image_type_features, enabled_features, *item) for item in filtered]


def _image_type_features(
    enabled_features: dict[str, Any], image: sitk.Image, mask: sitk.Image, type_name: str, kwargs: dict
) -> dict[str, Any]:
    """Texture and first-order features of one (filtered) image: runs in a worker process too."""
    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        return _computed_features(enabled_features, image, mask, type_name, kwargs)


def _computed_features(
    enabled_features: dict[str, Any], image: sitk.Image, mask: sitk.Image, type_name: str, kwargs: dict
) -> dict[str, Any]:
    """``RadiomicsFeatureExtractor.computeFeatures``, with the gray-level binning done once per image.

    pyradiomics bins the same image with the same mask and settings once per feature class (six times);
    binning is a fifth of the feature time, so the classes here share one result. It is reused only for
    an identical input array, so the numbers cannot change.
    """
    classes = radiomics.getFeatureClasses()
    binning = _SharedBinning()
    values: collections.OrderedDict[str, float] = collections.OrderedDict()
    for class_name, feature_names in enabled_features.items():
        if class_name.startswith("shape") or class_name not in classes:
            continue  # shape is computed once, on the original image (as execute() does)
        feature_class = binning.around(classes[class_name])(image, mask, **kwargs)
        for feature in feature_names or []:
            feature_class.enableFeatureByName(feature)
        for name, value in feature_class.execute().items():
            values[f"{type_name}_{class_name}_{name}"] = float(value)
    return values


class _SharedBinning:
    """The discretised image of one (image, mask, settings), handed to every feature class that asks."""

    def __init__(self) -> None:
        self.source: np.ndarray | None = None
        self.result: tuple[np.ndarray, np.ndarray, int] | None = None

    def around(self, feature_class: type[base.RadiomicsFeaturesBase]) -> type[base.RadiomicsFeaturesBase]:
        shared = self

        def _applyBinning(instance, matrix):  # noqa: N802 (pyradiomics' name)
            # source and result are set together; both are checked so that neither is read as None.
            if (
                shared.result is not None
                and shared.source is not None
                and np.array_equal(matrix, shared.source)
            ):
                binned, gray_levels, levels = shared.result
                instance.coefficients["grayLevels"] = gray_levels.copy()
                instance.coefficients["Ng"] = levels
                return binned.copy()
            source = matrix.copy()
            binned = feature_class._applyBinning(instance, matrix)
            shared.source = source
            shared.result = (
                binned.copy(),
                instance.coefficients["grayLevels"].copy(),
                instance.coefficients["Ng"],
            )
            return binned

        return type(
            feature_class.__name__,
            (feature_class,),
            {"_applyBinning": _applyBinning, "__module__": feature_class.__module__},
        )


_EXTRACTORS: dict[str, featureextractor.RadiomicsFeatureExtractor] = {}


def _extractor(settings: RadiomicsSettings) -> featureextractor.RadiomicsFeatureExtractor:
    """One validated extractor per parameter set (pyradiomics validates on construction, which costs)."""
    if settings.settings_hash not in _EXTRACTORS:
        # Built from the parameters as written: their order is the order of the features.
        _EXTRACTORS[settings.settings_hash] = featureextractor.RadiomicsFeatureExtractor(settings.as_dict())
    return _EXTRACTORS[settings.settings_hash]


# --- worker processes ---------------------------------------------------------------------------------

_POOL: ProcessPoolExecutor | None = None
_POOL_SIZE = 0


def _process_pool(workers: int) -> ProcessPoolExecutor:
    """One pool per process, kept for later calls; forkserver workers never inherit ITK's threads."""
    global _POOL, _POOL_SIZE
    if _POOL is None or _POOL_SIZE != workers or getattr(_POOL, "_broken", False):
        shutdown_workers()
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["numpy", "SimpleITK", "radiomics.featureextractor"])
        _POOL = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        _POOL_SIZE = workers
    return _POOL


def _start_workers(workers: int) -> None:
    pool = _process_pool(workers)
    for _ in range(workers):
        pool.submit(_load_feature_classes)


def _load_feature_classes() -> int:
    """Imports pyradiomics' feature-class modules (it does so lazily, on first use)."""
    return len(radiomics.getFeatureClasses())


def worker_pids() -> list[int]:
    """Process ids of the running workers (for benchmarks that count their CPU time)."""
    return sorted(_POOL._processes) if _POOL is not None and _POOL._processes else []


def shutdown_workers() -> None:
    """Stops the worker processes of the parallel path (they are also stopped at exit)."""
    global _POOL, _POOL_SIZE
    if _POOL is not None:
        _POOL.shutdown(wait=True, cancel_futures=True)
    _POOL, _POOL_SIZE = None, 0


def default_workers() -> int:
    """Processes worth using for one extraction: the CPUs this process may run on, at most 4."""
    return max(1, min(4, len(os.sched_getaffinity(0))))


atexit.register(shutdown_workers)
