"""Reading, checking and writing proximal-femur labelmaps on a case's grid.

No Django here: the services hand in bytes and a Grid and get back a checked uint8 array [z, y, x] or a
LabelmapInvalid with a message a reader can act on. Two upload formats come in:
- raw: gzip-compressed uint8 labels, x fastest then y then z (what the viewer sends; name ends ".raw.gz");
- NIfTI (.nii or .nii.gz) on the case grid, so masks drawn in other tools can come in.
Every decompression is bounded by the size the case grid implies, so a gzip bomb fails early instead of
filling memory.
"""

from __future__ import annotations

import io
import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import nibabel as nib
import numpy as np
import SimpleITK as sitk

# 0 background, 1 left proximal femur, 2 right proximal femur (the shared label contract).
LABEL_NAMES = {0: "background", 1: "left proximal femur", 2: "right proximal femur"}
MAX_LABEL = max(LABEL_NAMES)
FEMUR_LABELS = (1, 2)
RAW_SUFFIX = ".raw.gz"
NIFTI_SUFFIXES = (".nii.gz", ".nii")
# NIfTI stores geometry as float32: 0.8 mm reads back as 0.800000011920929. A micrometre of spacing,
# a hundredth of a millimetre of origin and 1e-4 of a direction cosine are far below anything a reader
# could mean, and far above float32 rounding.
SPACING_TOLERANCE_MM = 1e-3
ORIGIN_TOLERANCE_MM = 1e-2
DIRECTION_TOLERANCE = 1e-4
# A NIfTI file is a 348-byte (NIfTI-1) or 540-byte (NIfTI-2) header, optional extensions, then the voxels,
# at most 8 bytes each (float64). Extensions beyond a megabyte are not something a mask needs.
NIFTI_HEADER_ALLOWANCE_BYTES = 1 << 20
MAX_NIFTI_BYTES_PER_VOXEL = 8
# Deflate never grows data by more than a few bytes per 16 KiB block; a compressed upload larger than
# this slack over the decompressed bound cannot be a valid labelmap.
COMPRESSED_SLACK_BYTES = 1 << 16
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class LabelmapInvalid(ValueError):
    """A labelmap a reader sent cannot be stored; the message says why."""


@dataclass(frozen=True)
class Grid:
    """The voxel grid of a case: size and spacing in (x, y, z), origin and direction in LPS."""

    size_xyz: tuple[int, int, int]
    spacing_xyz: tuple[float, float, float]
    origin_xyz: tuple[float, float, float]
    direction: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.size_xyz) != 3 or any(int(n) <= 0 for n in self.size_xyz):
            raise ValueError(f"A grid size must be three positive integers, got {self.size_xyz!r}.")
        if len(self.spacing_xyz) != 3 or any(float(s) <= 0 for s in self.spacing_xyz):
            raise ValueError(f"A grid spacing must be three positive numbers, got {self.spacing_xyz!r}.")
        if len(self.origin_xyz) != 3 or len(self.direction) != 9:
            raise ValueError("A grid needs a 3-value origin and a 9-value direction matrix.")

    @classmethod
    def of(cls, *, size, spacing, origin, direction) -> Grid:
        return cls(
            size_xyz=tuple(int(n) for n in size),
            spacing_xyz=tuple(float(s) for s in spacing),
            origin_xyz=tuple(float(o) for o in origin),
            direction=tuple(float(d) for d in direction),
        )

    @classmethod
    def of_image(cls, image: sitk.Image) -> Grid:
        return cls.of(
            size=image.GetSize(),
            spacing=image.GetSpacing(),
            origin=image.GetOrigin(),
            direction=image.GetDirection(),
        )

    @property
    def voxel_count(self) -> int:
        return int(np.prod(self.size_xyz))

    @property
    def shape_zyx(self) -> tuple[int, int, int]:
        return (self.size_xyz[2], self.size_xyz[1], self.size_xyz[0])

    @property
    def voxel_cm3(self) -> float:
        return float(np.prod(self.spacing_xyz)) / 1000.0

    def describe(self) -> str:
        return "x".join(str(n) for n in self.size_xyz)


def labelmap_from_upload(*, content: bytes, filename: str, grid: Grid) -> np.ndarray:
    """Check an uploaded labelmap against the case grid and return it as uint8 [z, y, x]."""
    name = filename.lower()
    if name.endswith(RAW_SUFFIX):
        labels = _labels_from_raw_gzip(content, grid=grid)
    elif name.endswith(NIFTI_SUFFIXES):
        labels = _labels_from_nifti(content, compressed=name.endswith(".gz"), grid=grid)
    else:
        raise LabelmapInvalid(
            f"The labelmap file '{filename}' is neither raw uint8 labels ('{RAW_SUFFIX}') "
            f"nor a NIfTI mask ('.nii' or '.nii.gz')."
        )
    check_label_values(labels)
    return labels


def check_label_values(labels: np.ndarray) -> None:
    """Raise LabelmapInvalid unless every voxel is 0, 1 or 2."""
    # max() of uint8 costs a millisecond on a whole CT; the slower search for the offenders only runs
    # when there are some.
    if labels.dtype != np.uint8:
        raise LabelmapInvalid(f"Labels must be uint8, got {labels.dtype}.")
    if int(labels.max(initial=0)) > MAX_LABEL:
        found = np.unique(labels[labels > MAX_LABEL])[:10]
        allowed = ", ".join(f"{value} ({name})" for value, name in LABEL_NAMES.items())
        raise LabelmapInvalid(
            f"The labelmap holds label values {', '.join(map(str, found))}; only {allowed} are allowed."
        )


def label_voxel_counts(labels: np.ndarray) -> dict[str, int]:
    """Voxels per femur label, keyed by the label as a string (JSON keys)."""
    return {str(label): int(np.count_nonzero(labels == label)) for label in FEMUR_LABELS}


def label_volumes_cm3(counts: dict[str, int], *, grid: Grid) -> dict[str, float]:
    return {label: round(count * grid.voxel_cm3, 4) for label, count in counts.items()}


def labelmap_nifti_bytes(labels: np.ndarray, *, grid: Grid) -> bytes:
    """The labelmap as a gzip-compressed NIfTI uint8 image with the case's geometry."""
    image = sitk.GetImageFromArray(labels)
    image.SetSpacing(grid.spacing_xyz)
    image.SetOrigin(grid.origin_xyz)
    image.SetDirection(grid.direction)
    # SimpleITK writes only to paths; a private temporary directory keeps the file from leaking.
    with tempfile.TemporaryDirectory(prefix="labelmap-") as folder:
        path = os.path.join(folder, "labelmap.nii.gz")
        sitk.WriteImage(image, path, True)
        with open(path, "rb") as written:
            return written.read()


def labelmap_from_nifti_path(path: str, *, grid: Grid | None = None) -> np.ndarray:
    """Read a stored labelmap NIfTI as uint8 [z, y, x] (checked against grid when one is given)."""
    image = sitk.ReadImage(path)
    if grid is not None:
        _check_geometry(image, grid=grid)
    return sitk.GetArrayFromImage(image).astype(np.uint8, copy=False)


def raw_gzip_bytes(labels: np.ndarray) -> bytes:
    """Raw uint8 labels (x fastest), gzip level 1: the viewer's wire format; fast and, for masks, small."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(memoryview(np.ascontiguousarray(labels)).cast("B")) + compressor.flush()


def bounded_gunzip(content: bytes, *, limit: int) -> bytes:
    """Decompress gzip data (one or more members) but never more than `limit` bytes."""
    if len(content) > limit + COMPRESSED_SLACK_BYTES:
        raise LabelmapInvalid(
            f"The compressed labelmap is larger ({len(content)} bytes) than any labelmap of this case."
        )
    parts: list[bytes] = []
    produced, remaining = 0, content
    try:
        while remaining:
            decompressor = zlib.decompressobj(_GZIP_WBITS)
            part = decompressor.decompress(remaining, limit + 1 - produced)
            produced += len(part)
            parts.append(part)
            if produced > limit or decompressor.unconsumed_tail:
                raise LabelmapInvalid(
                    f"The labelmap decompresses to more than the {limit} bytes the case grid allows."
                )
            if not decompressor.eof:
                raise LabelmapInvalid("The labelmap's gzip stream is truncated.")
            remaining = decompressor.unused_data
    except zlib.error as error:
        raise LabelmapInvalid(f"The labelmap is not valid gzip data ({error}).") from error
    # One member (what the viewer sends) is returned as is: joining would copy the whole volume.
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _labels_from_raw_gzip(content: bytes, *, grid: Grid) -> np.ndarray:
    raw = bounded_gunzip(content, limit=grid.voxel_count)
    if len(raw) != grid.voxel_count:
        raise LabelmapInvalid(
            f"The labelmap has {len(raw)} voxels but the case grid {grid.describe()} has {grid.voxel_count}."
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(grid.shape_zyx)


def _labels_from_nifti(content: bytes, *, compressed: bool, grid: Grid) -> np.ndarray:
    limit = grid.voxel_count * MAX_NIFTI_BYTES_PER_VOXEL + NIFTI_HEADER_ALLOWANCE_BYTES
    data = bounded_gunzip(content, limit=limit) if compressed else content
    if len(data) > limit:
        raise LabelmapInvalid("The NIfTI mask is larger than any mask of this case's grid.")
    _check_nifti_header_size(data, grid=grid)
    image = _read_nifti_bytes(data)
    _check_geometry(image, grid=grid)
    return _integer_labels(sitk.GetArrayFromImage(image))


def _check_nifti_header_size(data: bytes, *, grid: Grid) -> None:
    # Read the dimensions from the header before SimpleITK does, so a header claiming a huge image cannot
    # make it allocate one.
    try:
        header = nib.Nifti1Header.from_fileobj(io.BytesIO(data), check=True)
    except Exception as error:  # nibabel raises several types for a malformed header
        try:
            header = nib.Nifti2Header.from_fileobj(io.BytesIO(data), check=True)
        except Exception:
            raise LabelmapInvalid(f"The file is not a readable NIfTI image ({error}).") from error
    shape = tuple(int(n) for n in header.get_data_shape())
    while len(shape) > 3 and shape[-1] == 1:
        shape = shape[:-1]
    if shape != grid.size_xyz:
        raise LabelmapInvalid(
            f"The NIfTI mask is {'x'.join(map(str, shape))} voxels but the case grid is {grid.describe()}."
        )


def _read_nifti_bytes(data: bytes) -> sitk.Image:
    with tempfile.TemporaryDirectory(prefix="labelmap-upload-") as folder:
        path = os.path.join(folder, "upload.nii")
        with open(path, "wb") as file:
            file.write(data)
        try:
            image = sitk.ReadImage(path, imageIO="NiftiImageIO")
        except RuntimeError as error:
            raise LabelmapInvalid("The file is not a readable NIfTI image.") from error
    if image.GetDimension() != 3 or image.GetNumberOfComponentsPerPixel() != 1:
        raise LabelmapInvalid("A NIfTI mask must be a 3-D image with one value per voxel.")
    return image


def _check_geometry(image: sitk.Image, *, grid: Grid) -> None:
    found = Grid.of_image(image)
    if found.size_xyz != grid.size_xyz:
        raise LabelmapInvalid(
            f"The mask is {found.describe()} voxels but the case grid is {grid.describe()}."
        )
    _check_close("spacing (mm)", found.spacing_xyz, grid.spacing_xyz, SPACING_TOLERANCE_MM)
    _check_close("origin (mm)", found.origin_xyz, grid.origin_xyz, ORIGIN_TOLERANCE_MM)
    _check_close("direction", found.direction, grid.direction, DIRECTION_TOLERANCE)


def _check_close(what: str, found: Sequence[float], expected: Sequence[float], tolerance: float) -> None:
    if not np.allclose(found, expected, rtol=0.0, atol=tolerance):
        shown = ", ".join(f"{v:.4g}" for v in found)
        wanted = ", ".join(f"{v:.4g}" for v in expected)
        raise LabelmapInvalid(f"The mask's {what} is ({shown}) but the case's is ({wanted}).")


def _integer_labels(values: np.ndarray) -> np.ndarray:
    """Masks from other tools come as any numeric type; accept them when every value is 0, 1 or 2."""
    if values.dtype == np.uint8:
        return values
    low, high = values.min(initial=0), values.max(initial=0)
    if low < 0 or high > MAX_LABEL or not np.array_equal(values, np.round(values)):
        raise LabelmapInvalid(
            "The NIfTI mask holds values other than 0 (background), 1 (left proximal femur) and "
            "2 (right proximal femur)."
        )
    return values.astype(np.uint8)
