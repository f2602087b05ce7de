"""Reading, checking and writing proximal-femur labelmaps on a case's grid.

No Django here: the services hand in bytes and a Grid and get back a checked uint8 array [z, y, x] or a
LabelmapInvalid with a message a reader can act on. Three upload formats come in:
- box: gzip-compressed uint8 labels of the box that holds every labelled voxel, with the box's offset and
  size in voxels (what the viewer sends; name ends ".box.gz"): a femur VOI fills a few MB of a 52 MB
  grid, so the browser compresses and the server inflates a tenth of the bytes;
- raw: gzip-compressed uint8 labels of the whole grid, x fastest then y then z (name ends ".raw.gz");
- NIfTI (.nii or .nii.gz) on the case grid, so masks drawn in other tools can come in.
Every decompression is bounded by the size the case grid implies, so a gzip bomb fails early instead of
filling memory.

What is stored (encode_labelmap) is a NIfTI .nii.gz and the viewer's raw .gz copy, both deflated from one
pass over the labelled slab only: runs of background are stitched in from deflate segments compressed
once per process (see _DeflateStitcher).
"""

from __future__ import annotations

import functools
import io
import os
import struct
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import nibabel as nib
import numpy as np
import SimpleITK as sitk

from voi.grid import Grid
from voi.labels import FEMUR_LABELS, LABEL_NAMES, MAX_LABEL

RAW_SUFFIX = ".raw.gz"
BOX_SUFFIX = ".box.gz"
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
class LabelBox:
    """A box of voxels on a grid: offset and size in (x, y, z) voxels. Size 0 on any axis is an empty box."""

    offset_xyz: tuple[int, int, int]
    size_xyz: tuple[int, int, int]

    def __post_init__(self) -> None:
        if len(self.offset_xyz) != 3 or len(self.size_xyz) != 3:
            raise LabelmapInvalid("A label box needs three offsets and three sizes (x, y, z).")
        if any(int(n) < 0 for n in (*self.offset_xyz, *self.size_xyz)):
            raise LabelmapInvalid(
                f"A label box cannot have negative offsets or sizes, got {self.describe()}."
            )

    @classmethod
    def parse(cls, *, offset: str, size: str) -> LabelBox:
        """From the upload's form fields "x,y,z" (offset) and "nx,ny,nz" (size)."""
        try:
            offset_xyz = tuple(int(v) for v in offset.split(","))
            size_xyz = tuple(int(v) for v in size.split(","))
        except ValueError as error:
            raise LabelmapInvalid(
                f"box_offset and box_size must be three integers 'x,y,z', got '{offset}' and '{size}'."
            ) from error
        if len(offset_xyz) != 3 or len(size_xyz) != 3:
            raise LabelmapInvalid(
                f"box_offset and box_size must be three integers 'x,y,z', got '{offset}' and '{size}'."
            )
        return cls(offset_xyz=offset_xyz, size_xyz=size_xyz)

    @classmethod
    def around(cls, labels: np.ndarray) -> LabelBox:
        """The smallest box holding every non-zero voxel of labels [z, y, x] (empty when there is none)."""
        z_any = labels.any(axis=(1, 2))
        if not z_any.any():
            return cls(offset_xyz=(0, 0, 0), size_xyz=(0, 0, 0))
        z = np.flatnonzero(z_any)
        slab = labels[z[0] : z[-1] + 1]
        y = np.flatnonzero(slab.any(axis=(0, 2)))
        x = np.flatnonzero(slab[:, y[0] : y[-1] + 1].any(axis=(0, 1)))
        return cls(
            offset_xyz=(int(x[0]), int(y[0]), int(z[0])),
            size_xyz=(int(x[-1] - x[0] + 1), int(y[-1] - y[0] + 1), int(z[-1] - z[0] + 1)),
        )

    @property
    def voxel_count(self) -> int:
        return int(np.prod(self.size_xyz))

    @property
    def shape_zyx(self) -> tuple[int, int, int]:
        return (self.size_xyz[2], self.size_xyz[1], self.size_xyz[0])

    def slices(self) -> tuple[slice, slice, slice]:
        """Index of the box in a [z, y, x] array."""
        (x, y, z), (nx, ny, nz) = self.offset_xyz, self.size_xyz
        return (slice(z, z + nz), slice(y, y + ny), slice(x, x + nx))

    def check_inside(self, grid: Grid) -> None:
        if any(o + n > g for o, n, g in zip(self.offset_xyz, self.size_xyz, grid.size_xyz, strict=True)):
            raise LabelmapInvalid(
                f"The label box {self.describe()} reaches outside the case grid {grid.describe()}."
            )

    def describe(self) -> str:
        return f"at {self.offset_xyz} of size {'x'.join(map(str, self.size_xyz))}"


@dataclass(frozen=True)
class CheckedLabelmap:
    """A labelmap that passed every check, with a box known to hold all of its labelled voxels."""

    labels: np.ndarray  # uint8 [z, y, x] on the case grid
    box: LabelBox


def labelmap_from_upload(
    *, content: bytes, filename: str, grid: Grid, box: LabelBox | None = None
) -> np.ndarray:
    """Check an uploaded labelmap against the case grid and return it as uint8 [z, y, x]."""
    return checked_labelmap_from_upload(content=content, filename=filename, grid=grid, box=box).labels


def checked_labelmap_from_upload(
    *, content: bytes, filename: str, grid: Grid, box: LabelBox | None = None
) -> CheckedLabelmap:
    """Check an uploaded labelmap (box, raw or NIfTI) against the case grid; see the module docstring."""
    name = filename.lower()
    if name.endswith(BOX_SUFFIX):
        if box is None:
            raise LabelmapInvalid(
                f"A '{BOX_SUFFIX}' labelmap needs box_offset and box_size (voxels, 'x,y,z')."
            )
        return _labels_from_box_gzip(content, box=box, grid=grid)
    if name.endswith(RAW_SUFFIX):
        labels = _labels_from_raw_gzip(content, grid=grid)
    elif name.endswith(NIFTI_SUFFIXES):
        labels = _labels_from_nifti(content, compressed=name.endswith(".gz"), grid=grid)
    else:
        raise LabelmapInvalid(
            f"The labelmap file '{filename}' is neither raw uint8 labels ('{RAW_SUFFIX}'), a labelled box "
            f"('{BOX_SUFFIX}') nor a NIfTI mask ('.nii' or '.nii.gz')."
        )
    check_label_values(labels)
    return CheckedLabelmap(labels=labels, box=LabelBox.around(labels))


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


def label_voxel_counts(labels: np.ndarray, *, box: LabelBox | None = None) -> dict[str, int]:
    """Voxels per femur label, keyed by the label as a string (JSON keys). Counting inside a box known
    to hold every labelled voxel gives the same numbers in a fraction of the time."""
    inside = labels[box.slices()] if box is not None else labels
    return {str(label): int(np.count_nonzero(inside == label)) for label in FEMUR_LABELS}


def labels_touching_edge(labels: np.ndarray) -> list[str]:
    """The femur labels (as JSON keys) with a voxel on any face of the grid [z, y, x]: a VOI cut off by
    the end of the scan or by the field of view. Reads the six faces only."""
    faces = (labels[0], labels[-1], labels[:, 0], labels[:, -1], labels[:, :, 0], labels[:, :, -1])
    present = np.zeros(MAX_LABEL + 1, dtype=bool)
    for face in faces:
        present |= np.bincount(face.ravel(), minlength=MAX_LABEL + 1)[: MAX_LABEL + 1] > 0
    return [str(label) for label in FEMUR_LABELS if present[label]]


def labels_from_viewer_copy(content: bytes, *, grid: Grid) -> np.ndarray:
    """A stored revision's viewer copy (raw uint8 gzip, x fastest) as labels [z, y, x]."""
    return _labels_from_raw_gzip(content, grid=grid)


def label_volumes_cm3(counts: dict[str, int], *, grid: Grid) -> dict[str, float]:
    return {label: round(count * grid.voxel_cm3, 4) for label, count in counts.items()}


def labelmap_nifti_bytes(labels: np.ndarray, *, grid: Grid) -> bytes:
    """The labelmap as a gzip-compressed NIfTI uint8 image with the case's geometry (any integer or bool
    array of labels is taken, as long as its values fit uint8)."""
    if labels.dtype != np.uint8:
        if labels.size and (labels.min() < 0 or labels.max() > np.iinfo(np.uint8).max):
            raise ValueError("Labels must fit uint8 (0-255) to be written as a NIfTI labelmap.")
        labels = labels.astype(np.uint8)
    return encode_labelmap(np.ascontiguousarray(labels), grid=grid).nifti_gz


@dataclass(frozen=True)
class EncodedLabelmap:
    """What a revision stores: the canonical NIfTI (.nii.gz) and the viewer's raw uint8 gzip copy."""

    nifti_gz: bytes
    raw_gz: bytes


def encode_labelmap(labels: np.ndarray, *, grid: Grid, box: LabelBox | None = None) -> EncodedLabelmap:
    """Both stored files of a labelmap from one deflate pass over its labelled rows.

    The NIfTI is a standard single-member gzip of a NIfTI-1 header (qform and sform, millimetres, LPS
    geometry turned to NIfTI's RAS) followed by the voxels; the raw copy is the same deflate stream without
    the header segment. Every byte outside the box is background, so those runs come from cached segments.
    """
    if labels.dtype != np.uint8 or labels.shape != grid.shape_zyx or not labels.flags.c_contiguous:
        raise ValueError(f"encode_labelmap needs C-ordered uint8 labels of shape {grid.shape_zyx}.")
    box = box if box is not None else LabelBox.around(labels)
    body = _DeflateStitcher.body_segments(labels, box=box)
    flat = _bytes_of(labels)
    header = _nifti_header(grid)
    raw_crc = zlib.crc32(flat)
    nifti_crc = zlib.crc32(flat, zlib.crc32(header))
    return EncodedLabelmap(
        nifti_gz=_gzip_member(
            [_DeflateStitcher.segment(header), *body], crc=nifti_crc, size=len(header) + flat.nbytes
        ),
        raw_gz=_gzip_member(body, crc=raw_crc, size=flat.nbytes),
    )


# gzip member header (RFC 1952): magic, deflate, no flags, no mtime, no extra flags, unknown OS.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
# An empty final block with fixed Huffman codes: what zlib writes to end a deflate stream with no more data.
_DEFLATE_END = b"\x03\x00"
_NIFTI_VOX_OFFSET = 352  # 348-byte NIfTI-1 header plus the 4-byte "no extensions" flag
_LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


def _gzip_member(segments: list[bytes], *, crc: int, size: int) -> bytes:
    trailer = struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)
    return b"".join([_GZIP_HEADER, *segments, _DEFLATE_END, trailer])


def _nifti_header(grid: Grid) -> bytes:
    """A NIfTI-1 header for uint8 voxels on the grid, as SimpleITK writes one (qform = sform, scanner)."""
    direction = np.array(grid.direction, dtype=float).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = _LPS_TO_RAS @ direction @ np.diag(grid.spacing_xyz)
    affine[:3, 3] = _LPS_TO_RAS @ np.array(grid.origin_xyz, dtype=float)
    header = nib.Nifti1Header()
    header.set_data_shape(grid.size_xyz)
    header.set_data_dtype(np.uint8)
    header.set_qform(affine, code=1)
    header.set_sform(affine, code=1)
    header.set_xyzt_units("mm", "sec")
    header["vox_offset"] = _NIFTI_VOX_OFFSET
    block = header.binaryblock + b"\x00\x00\x00\x00"
    if len(block) != _NIFTI_VOX_OFFSET:
        raise AssertionError("A NIfTI-1 header with its extension flag is 352 bytes.")
    return block


class _DeflateStitcher:
    """Deflate segments that can be concatenated into one stream.

    Each segment is compressed by a fresh compressor and ended with a full flush: it ends on a byte
    boundary, is not final and refers to no data before it, so segments join in any order. Background
    runs (zeros) of the same length compress to the same bytes, so they are compressed once and cached.
    """

    LEVEL = 1  # the fastest level for the labelled rows: they are mostly zero runs, packed well at level 1
    ZEROS_LEVEL = 9  # cached background runs are compressed once, so they get the tightest level
    ZERO_BLOCK = 1 << 20

    @staticmethod
    def segment(data, level: int = LEVEL) -> bytes:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)

    @staticmethod
    @functools.lru_cache(maxsize=32)
    def _zeros_segment(length: int) -> bytes:
        return _DeflateStitcher.segment(bytes(length), _DeflateStitcher.ZEROS_LEVEL)

    @staticmethod
    def zeros(length: int) -> list[bytes]:
        block = _DeflateStitcher.ZERO_BLOCK
        whole, rest = divmod(length, block)
        segments = [_DeflateStitcher._zeros_segment(block)] * whole
        if rest:
            segments.append(_DeflateStitcher._zeros_segment(rest))
        return segments

    @staticmethod
    def body_segments(labels: np.ndarray, *, box: LabelBox) -> list[bytes]:
        """The deflate segments of labels' bytes, given that every voxel outside `box` is 0.

        Per slice of the box, its rows (full width: x is the fastest axis) are compressed; the rows
        above and below it and the slices outside it are background."""
        nz, ny, nx = labels.shape
        if box.voxel_count == 0:
            return _DeflateStitcher.zeros(labels.size)
        (_, y0, z0), (_, h, d) = box.offset_xyz, box.size_xyz
        row_bytes = nx
        segments = _DeflateStitcher.zeros((z0 * ny + y0) * row_bytes)
        between = (ny - h) * row_bytes
        flat = _bytes_of(labels)
        for z in range(z0, z0 + d):
            start = (z * ny + y0) * row_bytes
            segments.append(_DeflateStitcher.segment(flat[start : start + h * row_bytes]))
            if z + 1 < z0 + d and between:
                segments.extend(_DeflateStitcher.zeros(between))
        end = ((z0 + d - 1) * ny + y0 + h) * row_bytes
        segments.extend(_DeflateStitcher.zeros(labels.size - end))
        return segments


def labelmap_from_nifti_path(path: str, *, grid: Grid | None = None) -> np.ndarray:
    """Read a stored labelmap NIfTI as uint8 [z, y, x] (checked against grid when one is given)."""
    image = sitk.ReadImage(path)
    if grid is not None:
        _check_geometry(image, grid=grid)
    return sitk.GetArrayFromImage(image).astype(np.uint8, copy=False)


def _bytes_of(labels: np.ndarray) -> memoryview:
    """The array's bytes without a copy (C order)."""
    return memoryview(np.ascontiguousarray(labels).data).cast("B")


def raw_gzip_bytes(labels: np.ndarray) -> bytes:
    """Raw uint8 labels (x fastest), gzip level 1: the viewer's wire format; fast and, for masks, small."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, _GZIP_WBITS)
    return compressor.compress(_bytes_of(labels)) + compressor.flush()


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


def _labels_from_box_gzip(content: bytes, *, box: LabelBox, grid: Grid) -> CheckedLabelmap:
    box.check_inside(grid)
    raw = bounded_gunzip(content, limit=box.voxel_count) if content else b""
    if len(raw) != box.voxel_count:
        raise LabelmapInvalid(
            f"The labelled box {box.describe()} needs {box.voxel_count} voxels but the upload has {len(raw)}."
        )
    inside = np.frombuffer(raw, dtype=np.uint8).reshape(box.shape_zyx)
    check_label_values(inside)
    # np.zeros maps zeroed pages lazily: only the box's pages are written here.
    labels = np.zeros(grid.shape_zyx, dtype=np.uint8)
    labels[box.slices()] = inside
    return CheckedLabelmap(labels=labels, box=box)


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
