"""Checks on files a user hands us, done before anything is stored.

Every check raises ImportRejected with a message that names the problem, so the API can answer 400
and the command can print one line. Header checks run before any pixel data is decompressed: a 2 MB
.nii.gz can declare a 2 GB volume.
"""

import gzip
import math
import stat
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nibabel as nib
import numpy as np
from django.conf import settings

from osteoscreen.errors import DomainError

NIFTI_SUFFIXES = (".nii", ".nii.gz")
# Voxel types a CT volume can come in; anything else (RGB, complex) is not a CT.
NIFTI_CT_DTYPES = {
    np.dtype(t) for t in ("int8", "uint8", "int16", "uint16", "int32", "uint32", "float32", "float64")
}
# An orthonormal direction matrix has columns of unit length at right angles; this tolerance absorbs
# float32 rounding of real scanner headers.
DIRECTION_TOLERANCE = 1e-3
ZIP_MAX_ENTRIES = 5000
# The payload of a compressed NIfTI is decompressed in blocks of this size to count it: the check holds
# at most one block in memory whatever the volume's size.
PAYLOAD_BLOCK_BYTES = 1024 * 1024
# Floating-point volumes are checked for NaN and infinity this many slices at a time, so the check needs
# only a slab-sized boolean array, not one as big as the volume.
FINITE_CHECK_SLICES = 16


class ImportRejected(DomainError, ValueError):
    """Input that cannot become a case; the message says why, for the user (400). Still a ValueError for
    callers outside the API that catch bad values generally."""

    status_code = 400


def check_spacing(spacing: Sequence[float], *, where: str = "") -> None:
    for axis, value in zip("xyz", spacing, strict=False):
        if not math.isfinite(value):
            raise ImportRejected(f"{where}voxel spacing along {axis} is {value}: not a number")
        if value <= 0:
            raise ImportRejected(f"{where}voxel spacing along {axis} is {value} mm: it must be positive")
        if value > settings.IMPORT_MAX_SPACING_MM:
            raise ImportRejected(
                f"{where}voxel spacing along {axis} is {value} mm, over the {settings.IMPORT_MAX_SPACING_MM} mm limit"
            )


def check_dimensions(size: Sequence[int], *, where: str = "") -> None:
    if len(size) != 3:
        raise ImportRejected(f"{where}the image has {len(size)} dimensions; a CT volume has 3")
    low, high = settings.IMPORT_MIN_DIM, settings.IMPORT_MAX_DIM
    for axis, n in zip("xyz", size, strict=True):
        if n < low or n > high:
            raise ImportRejected(
                f"{where}the image has {n} voxels along {axis} (allowed {low} to {high}): this is not a whole CT volume"
            )
    voxels = math.prod(int(n) for n in size)
    if voxels > settings.IMPORT_MAX_VOXELS:
        raise ImportRejected(
            f"{where}the header declares {voxels:,} voxels, over the limit of {settings.IMPORT_MAX_VOXELS:,}"
        )


def check_direction(direction: Sequence[float], *, where: str = "") -> None:
    matrix = np.asarray(direction, dtype=float).reshape(3, 3)
    if not np.all(np.isfinite(matrix)) or not np.allclose(
        matrix.T @ matrix, np.eye(3), atol=DIRECTION_TOLERANCE
    ):
        raise ImportRejected(f"{where}the direction matrix is not orthonormal")


def _nifti_header(path: Path) -> nib.Nifti1Header:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read(540)  # a NIfTI-2 header is 540 bytes, NIfTI-1 348: no pixel data is read
    except (OSError, EOFError) as exc:
        raise ImportRejected(f"{path.name} is not a readable NIfTI file ({exc})") from exc
    for header_class in (nib.Nifti1Header, nib.Nifti2Header):
        try:
            header = header_class(raw[: header_class.template_dtype.itemsize], check=False)
        except Exception:  # noqa: BLE001 - nibabel raises many kinds on garbage
            continue
        if header["sizeof_hdr"] == header_class.template_dtype.itemsize and header["magic"] in (
            b"n+1",
            b"ni1",
            b"n+2",
            b"ni2",
        ):
            return header
    raise ImportRejected(f"{path.name} is not a NIfTI image (no NIfTI header found)")


@dataclass(frozen=True)
class NiftiLayout:
    """Where a NIfTI file's voxels are and how many bytes they take, as its header declares them."""

    size: tuple[int, int, int]
    dtype: np.dtype
    vox_offset: int

    @property
    def payload_bytes(self) -> int:
        return math.prod(self.size) * self.dtype.itemsize


def check_memory_bound(*, voxels: int, bytes_per_voxel: int, where: str = "") -> None:
    """The bytes a volume will take once decompressed, known before any of it is: a few MB of gzip can
    declare many GB of voxels, and a worker that tried to hold them would be killed, not refuse cleanly."""
    needed = voxels * bytes_per_voxel
    if needed > settings.IMPORT_MAX_VOLUME_BYTES:
        raise ImportRejected(
            f"{where}the header declares {voxels:,} voxels of {bytes_per_voxel} byte(s), {needed:,} bytes in memory, "
            f"over the limit of {settings.IMPORT_MAX_VOLUME_BYTES:,} bytes per volume"
        )


def check_nifti_header(path: Path) -> NiftiLayout:
    """Size, dimensions, voxel type, memory and spacing from the header alone; no voxel is read."""
    header = _nifti_header(path)
    if header["magic"] in (b"ni1", b"ni2"):
        raise ImportRejected(
            f"{path.name}: the header says its voxels are in a separate .img file; send one .nii file"
        )
    dims = [int(d) for d in header["dim"]]
    ndim = dims[0]
    if ndim < 3 or ndim > 7 or any(d != 1 for d in dims[4 : ndim + 1]):
        raise ImportRejected(f"{path.name}: a CT volume has 3 dimensions, the header declares {ndim}")
    check_dimensions(dims[1:4], where=f"{path.name}: ")
    try:
        dtype = header.get_data_dtype()
    except Exception as exc:  # noqa: BLE001
        raise ImportRejected(f"{path.name}: unknown voxel type") from exc
    if dtype not in NIFTI_CT_DTYPES:
        raise ImportRejected(f"{path.name}: voxel type {dtype} is not a CT intensity type")
    check_memory_bound(voxels=math.prod(dims[1:4]), bytes_per_voxel=dtype.itemsize, where=f"{path.name}: ")
    _check_scaling(header, where=f"{path.name}: ")
    # SimpleITK silently turns NaN spacing into 1.0, so spacing is checked here, on the raw header.
    zooms = [float(v) for v in header["pixdim"][1:4]]
    check_spacing(zooms, where=f"{path.name}: ")
    rotation = np.asarray(header.get_best_affine(), dtype=float)[:3, :3] / np.asarray(zooms)
    check_direction(rotation.ravel(), where=f"{path.name}: ")
    return NiftiLayout(
        size=(dims[1], dims[2], dims[3]), dtype=dtype, vox_offset=_vox_offset(header, where=f"{path.name}: ")
    )


def _vox_offset(header: nib.Nifti1Header, *, where: str) -> int:
    """Where the voxels start. Readers put them right after the header (and its 4 extension bytes) when
    the field is smaller than that."""
    raw = float(header["vox_offset"])
    if not math.isfinite(raw) or raw < 0 or raw > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ImportRejected(f"{where}the header's voxel offset {raw} is not a place in the file")
    return max(int(raw), int(header["sizeof_hdr"]) + 4)


def _check_scaling(header: nib.Nifti1Header, *, where: str) -> None:
    # Readers multiply every voxel by scl_slope and add scl_inter: a NaN or infinite factor makes every
    # voxel NaN or infinite, whatever the stored integers are.
    for name in ("scl_slope", "scl_inter"):
        value = float(header[name])
        if not math.isfinite(value):
            raise ImportRejected(f"{where}the intensity scaling {name} is {value}: not a number")


def check_nifti_payload(path: Path, layout: NiftiLayout) -> None:
    """The file holds every voxel its header declares, and a floating-point one holds no NaN or infinity.

    Read block by block from the file itself (never the whole volume at once): a cut-short file would be
    read with its missing voxels as zeros, and SimpleITK turns NaN into 0, so after reading, neither can be
    told from water (0 HU)."""
    expected = layout.vox_offset + layout.payload_bytes
    if not path.name.endswith(".gz") and path.stat().st_size < expected:
        raise ImportRejected(_truncated(path, expected, path.stat().st_size))
    floating = np.issubdtype(layout.dtype, np.floating)
    if not floating and not path.name.endswith(".gz"):
        return
    count = 0
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as stream:
            count = _skip(stream, layout.vox_offset)
            for block in _payload_blocks(stream, layout):
                count += len(block)
                if floating and not np.isfinite(np.frombuffer(block, dtype=layout.dtype)).all():
                    raise ImportRejected(f"{path.name}: the volume holds NaN or infinite values: not a CT")
    except (OSError, EOFError, zlib.error) as exc:
        raise ImportRejected(f"{path.name} is truncated or corrupt after {count:,} bytes ({exc})") from exc
    if count < expected:
        raise ImportRejected(_truncated(path, expected, count))


def _truncated(path: Path, expected: int, present: int) -> str:
    return f"{path.name} is truncated: its header declares {expected:,} bytes of image, the file holds {present:,}"


def _skip(stream, n_bytes: int) -> int:
    skipped = 0
    while skipped < n_bytes:
        block = stream.read(min(PAYLOAD_BLOCK_BYTES, n_bytes - skipped))
        if not block:
            break
        skipped += len(block)
    return skipped


def _payload_blocks(stream, layout: NiftiLayout):
    """The voxel bytes in blocks of whole voxels, up to the declared payload and no further."""
    remaining = layout.payload_bytes
    block_bytes = PAYLOAD_BLOCK_BYTES - PAYLOAD_BLOCK_BYTES % layout.dtype.itemsize
    while remaining > 0:
        block = stream.read(min(block_bytes, remaining))
        if not block:
            return
        remaining -= len(block)
        usable = len(block) - len(block) % layout.dtype.itemsize
        yield block[:usable] if usable < len(block) else block


def check_finite(values: np.ndarray, *, where: str = "") -> None:
    """No NaN or infinity among the voxels (checked a slab at a time). Only floating-point volumes can hold
    them; converting one to HU would silently turn it into 0 HU or the type's extreme."""
    if not np.issubdtype(values.dtype, np.floating):
        return
    for first in range(0, values.shape[0], FINITE_CHECK_SLICES):
        slab = values[first : first + FINITE_CHECK_SLICES]
        if not np.isfinite(slab).all():
            bad = int(np.count_nonzero(~np.isfinite(slab)))
            raise ImportRejected(
                f"{where}the volume holds NaN or infinite values ({bad:,} in slices from {first}): not a CT"
            )


def _zip_entry_is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def check_zip(path: Path) -> list[zipfile.ZipInfo]:
    """Entries safe to extract: no absolute paths, no `..`, no links, bounded count and total size."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ImportRejected(f"{path.name} is not a zip archive") from exc
    with archive:
        entries = archive.infolist()
    if len(entries) > ZIP_MAX_ENTRIES:
        raise ImportRejected(f"{path.name} holds {len(entries)} entries, over the limit of {ZIP_MAX_ENTRIES}")
    total = 0
    for info in entries:
        name = info.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
            raise ImportRejected(f"{path.name}: entry {name!r} has an absolute path")
        if ".." in parts:
            raise ImportRejected(f"{path.name}: entry {name!r} points outside the archive (..)")
        if _zip_entry_is_link(info):
            raise ImportRejected(f"{path.name}: entry {name!r} is a link")
        total += info.file_size
    if total > settings.IMPORT_MAX_UPLOAD_BYTES:
        raise ImportRejected(
            f"{path.name} unpacks to {total:,} bytes, over the limit of {settings.IMPORT_MAX_UPLOAD_BYTES:,}"
        )
    return [e for e in entries if not e.is_dir()]


def check_hu_range(minimum: float, maximum: float, *, where: str = "") -> None:
    """A CT in Hounsfield units spans air (about -1000) to bone (hundreds to over a thousand)."""
    if maximum - minimum < HU_MIN_CONTRAST:
        raise ImportRejected(
            f"{where}intensities span only {minimum:.0f} to {maximum:.0f}: this does not look like a CT in Hounsfield units"
        )
    if minimum < HU_LOWEST or maximum > HU_HIGHEST:
        raise ImportRejected(
            f"{where}intensities {minimum:.0f} to {maximum:.0f} fall outside the Hounsfield range"
        )


# Air is -1000 HU and cortical bone over +1000, so any abdominal CT spans well over 500 HU.
HU_MIN_CONTRAST = 500.0
# Scanners pad outside the reconstruction circle with -3024 at the lowest; extended-scale CT stores up to
# 30710 for metal. Values beyond these are not Hounsfield units.
HU_LOWEST = -4096.0
HU_HIGHEST = 32767.0
