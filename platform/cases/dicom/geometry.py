"""Where a series' slices lie, and whether they make a regular volume.

The slice positions (ImagePositionPatient) decide, never the file order, InstanceNumber or
SliceLocation. A series is read as it is when its slices share one orientation and lie at even steps
along the slice normal. Otherwise:

- copies of the same slice (the same SOPInstanceUID twice) are dropped, with a note;
- two different slices at one position, or a gap of missing slices, are refused: no resampling can
  tell which slice is right or what the missing ones held;
- uneven steps (some scanners reconstruct with varying increments) and gantry tilt (the slices are
  sheared along the body axis) are resampled onto a regular right-angled grid, with a note.
"""

import math
from dataclasses import dataclass, field

import numpy as np
import pydicom
import SimpleITK as sitk
from scipy import ndimage

from ..validation import ImportRejected
from .discovery import DicomFile

# Two positions closer than this are the same place (float rounding of real headers is ~1e-4 mm).
SAME_POSITION_MM = 0.01
# A step over this multiple of the median step means at least one slice is missing.
GAP_FACTOR = 1.5
# Steps may differ from the median by this fraction before the series counts as unevenly spaced.
EVEN_STEP_TOLERANCE = 0.01
# In-plane drift of the slice origins beyond this (mm) is gantry tilt, not rounding.
TILT_TOLERANCE_MM = 0.05
ORIENTATION_TOLERANCE = 1e-4


@dataclass
class SliceGeometry:
    """The slices of one series in order along their normal, and what reading them needs."""

    files: list[DicomFile]
    row: np.ndarray  # unit vector along a row (the column index grows this way)
    column: np.ndarray  # unit vector down a column
    normal: np.ndarray
    heights: np.ndarray  # mm along the normal, from the first slice
    offsets: np.ndarray  # (n, 3) in-plane drift of each slice origin from the first one's, mm
    pixel_spacing: tuple[float, float]  # (between rows, between columns), as DICOM orders it
    step_mm: float
    notes: list[str] = field(default_factory=list)
    needs_resampling: bool = False

    @property
    def extent_mm(self) -> float:
        return float(self.heights[-1] - self.heights[0]) if len(self.heights) else 0.0

    @property
    def tilt_degrees(self) -> float:
        if len(self.heights) < 2 or self.extent_mm <= 0:
            return 0.0
        return math.degrees(math.atan(float(np.linalg.norm(self.offsets[-1])) / self.extent_mm))


def _vector(header, name: str, length: int) -> np.ndarray:
    value = header.get(name)
    if value is None or len(value) != length:
        raise ImportRejected(f"a slice has no usable {name}")
    try:
        return np.asarray([float(v) for v in value], dtype=float)
    except (TypeError, ValueError) as exc:
        raise ImportRejected(f"a slice has an unreadable {name}") from exc


def _shared(files: list[DicomFile], name: str, length: int, tolerance: float) -> np.ndarray:
    values = [_vector(f.header, name, length) for f in files]
    if any(np.max(np.abs(v - values[0])) > tolerance for v in values):
        raise ImportRejected(f"the slices differ in {name}: they do not form one volume")
    return values[0]


def _drop_copies(
    files: list[DicomFile], heights: np.ndarray
) -> tuple[list[DicomFile], np.ndarray, list[str]]:
    order = np.argsort(heights, kind="stable")
    kept: list[int] = []
    copies = 0
    for index in order:
        if kept and abs(heights[index] - heights[kept[-1]]) < SAME_POSITION_MM:
            if str(files[index].header.get("SOPInstanceUID")) != str(
                files[kept[-1]].header.get("SOPInstanceUID")
            ):
                raise ImportRejected(
                    f"two different slices lie at the same position ({heights[index]:.2f} mm along the series): "
                    "duplicate slices, perhaps two acquisitions in one series; export the one wanted"
                )
            copies += 1
            continue
        kept.append(int(index))
    notes = [f"{copies} copy/copies of the same slice ignored"] if copies else []
    return [files[i] for i in kept], heights[kept], notes


def _check_steps(heights: np.ndarray) -> tuple[float, list[str], bool]:
    steps = np.diff(heights)
    step = float(np.median(steps))
    worst = int(np.argmax(steps))
    if steps[worst] > GAP_FACTOR * step:
        raise ImportRejected(
            f"slice(s) missing: a gap of {steps[worst]:.2f} mm after slice {worst + 1} where the series' spacing is "
            f"{step:.2f} mm; export the complete series"
        )
    if np.max(np.abs(steps - step)) > EVEN_STEP_TOLERANCE * step:
        note = (
            f"uneven slice spacing ({steps.min():.3f} to {steps.max():.3f} mm) resampled to a regular "
            f"{step:.3f} mm"
        )
        return step, [note], True
    return step, [], False


def slice_geometry(files: list[DicomFile]) -> SliceGeometry:
    """Orders the slices along their normal and checks them; raises ImportRejected when they cannot be
    read right."""
    if len(files) < 2:
        raise ImportRejected(f"the series has {len(files)} slice(s); a volume needs at least 2")
    orientation = _shared(files, "ImageOrientationPatient", 6, ORIENTATION_TOLERANCE)
    pixel_spacing = _shared(files, "PixelSpacing", 2, 1e-6)
    if len({(int(f.header.get("Rows", 0)), int(f.header.get("Columns", 0))) for f in files}) != 1:
        raise ImportRejected("the slices differ in size (Rows, Columns): they do not form one volume")
    row, column = orientation[:3], orientation[3:]
    normal = np.cross(row, column)
    positions = np.asarray([_vector(f.header, "ImagePositionPatient", 3) for f in files])
    heights = (positions - positions[0]) @ normal
    files, heights, notes = _drop_copies(files, heights)
    if len(files) < 2:
        raise ImportRejected("the series holds one slice (in several copies); a volume needs at least 2")
    positions = np.asarray([_vector(f.header, "ImagePositionPatient", 3) for f in files])
    heights = heights - heights[0]
    offsets = (positions - positions[0]) - np.outer(heights, normal)
    step, step_notes, uneven = _check_steps(heights)
    geometry = SliceGeometry(
        files=files,
        row=row,
        column=column,
        normal=normal,
        heights=heights,
        offsets=offsets,
        pixel_spacing=(float(pixel_spacing[0]), float(pixel_spacing[1])),
        step_mm=step,
        notes=notes + step_notes,
        needs_resampling=uneven,
    )
    if float(np.max(np.linalg.norm(offsets, axis=1))) > TILT_TOLERANCE_MM:
        geometry.notes.append(
            f"gantry tilt of {geometry.tilt_degrees:.1f} degrees corrected by resampling onto a "
            "right-angled grid"
        )
        geometry.needs_resampling = True
    return geometry


def _slice_hu(file: DicomFile) -> np.ndarray:
    """One slice in HU as (rows, columns) float32. SimpleITK/GDCM decodes every transfer syntax; pydicom
    reads what GDCM does not recognise (files without preamble and meta header)."""
    try:
        image = sitk.ReadImage(str(file.path), sitk.sitkFloat32)
        return sitk.GetArrayFromImage(image).reshape(image.GetSize()[1], image.GetSize()[0])
    except RuntimeError:
        pass
    try:
        dataset = pydicom.dcmread(file.path, force=True)
        pixels = dataset.pixel_array.astype(np.float32)
    except Exception as exc:  # noqa: BLE001 - pydicom raises many kinds on undecodable pixel data
        raise ImportRejected(f"a slice's pixels could not be read ({str(exc)[:200]})") from exc
    slope, intercept = (
        float(dataset.get("RescaleSlope", 1) or 1),
        float(dataset.get("RescaleIntercept", 0) or 0),
    )
    return pixels * slope + intercept


def _aligned_slice(pixels: np.ndarray, offset: np.ndarray, geometry: SliceGeometry) -> np.ndarray:
    """The slice shifted in its plane so that its origin sits over the first slice's (tilt undone)."""
    shift_rows = float(offset @ geometry.column) / geometry.pixel_spacing[0]
    shift_columns = float(offset @ geometry.row) / geometry.pixel_spacing[1]
    if abs(shift_rows) < 1e-6 and abs(shift_columns) < 1e-6:
        return pixels
    return ndimage.shift(
        pixels, (shift_rows, shift_columns), order=1, mode="constant", cval=float(pixels.min())
    )


def geometry_shape(geometry: SliceGeometry) -> tuple[int, int]:
    header = geometry.files[0].header
    return int(header.Rows), int(header.Columns)


def _image(volume: np.ndarray, geometry: SliceGeometry) -> sitk.Image:
    image = sitk.GetImageFromArray(volume.astype(np.float32))
    image.SetSpacing((geometry.pixel_spacing[1], geometry.pixel_spacing[0], geometry.step_mm))
    image.SetOrigin(tuple(float(v) for v in _vector(geometry.files[0].header, "ImagePositionPatient", 3)))
    image.SetDirection(
        tuple(float(v) for v in np.column_stack([geometry.row, geometry.column, geometry.normal]).ravel())
    )
    return image


def resampled_volume(geometry: SliceGeometry) -> sitk.Image:
    """The series on a regular right-angled grid: slices aligned in-plane, then linear interpolation
    along the normal at the median step."""
    stack = np.empty((len(geometry.files), *geometry_shape(geometry)), dtype=np.float32)
    for k, (file, offset) in enumerate(zip(geometry.files, geometry.offsets, strict=True)):
        stack[k] = _aligned_slice(_slice_hu(file), offset, geometry)
    n_out = int(math.floor(geometry.extent_mm / geometry.step_mm + 1e-6)) + 1
    targets = np.arange(n_out) * geometry.step_mm
    upper = np.clip(np.searchsorted(geometry.heights, targets, side="right"), 1, len(geometry.heights) - 1)
    lower = upper - 1
    span = geometry.heights[upper] - geometry.heights[lower]
    weights = np.clip((targets - geometry.heights[lower]) / span, 0.0, 1.0).astype(np.float32)
    volume = np.empty((n_out, *stack.shape[1:]), dtype=np.float32)
    for j, weight in enumerate(weights):  # one slice at a time: no volume-sized float64 temporaries
        np.multiply(stack[lower[j]], 1.0 - weight, out=volume[j])
        volume[j] += weight * stack[upper[j]]
    return _image(volume, geometry)


def regular_volume(geometry: SliceGeometry) -> sitk.Image:
    """A regular series read as it is, in the order of its positions (slice by slice where GDCM cannot
    read the series at once)."""
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames([str(f.path) for f in geometry.files])
    try:
        return reader.Execute()
    except RuntimeError:
        return _image(np.stack([_slice_hu(f) for f in geometry.files]), geometry)


def read_volume(geometry: SliceGeometry) -> sitk.Image:
    return resampled_volume(geometry) if geometry.needs_resampling else regular_volume(geometry)
