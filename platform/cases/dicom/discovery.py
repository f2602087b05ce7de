"""Finding DICOM files as they are exported: by content, whatever their names, in folders, nested
folders, DICOMDIR media and zips (zips inside zips too).

A file is DICOM when it carries the `DICM` magic after its 128-byte preamble. Old exports and some
PACS write files without the preamble; those are parsed with pydicom's `force` as a fallback and kept
only when the result names a SOP class and instance, which random files never do.
"""

import zipfile
from dataclasses import dataclass
from pathlib import Path

import pydicom
from django.conf import settings
from pydicom.errors import InvalidDicomError

from ..validation import ImportRejected, check_zip

DICM_OFFSET = 128
DICM_MAGIC = b"DICM"
# The directory record of DICOMDIR media: it lists files, it is not an image; the files it lists are
# found by the walk like any other (ISO 9660 names such as IM00001 carry no extension).
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
# Files that are never DICOM are not force-parsed (a forced parse of a big image reads far before failing).
NOT_DICOM_SUFFIXES = (
    ".nii",
    ".nii.gz",
    ".gz",
    ".txt",
    ".csv",
    ".json",
    ".xml",
    ".html",
    ".htm",
    ".pdf",
    ".jpg",
    ".jpeg",
    ".png",
    ".exe",
    ".dll",
    ".inf",
    ".ini",
    ".js",
    ".css",
)
# Zips inside zips inside zips: deeper than this is no export any scanner or PACS writes.
ZIP_MAX_DEPTH = 3


@dataclass
class DicomFile:
    path: Path
    header: pydicom.Dataset  # read without pixel data


def _has_dicm_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            fh.seek(DICM_OFFSET)
            return fh.read(4) == DICM_MAGIC
    except OSError:
        return False


def _has_gzip_magic(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def _read_header(path: Path, *, force: bool) -> pydicom.Dataset | None:
    try:
        header = pydicom.dcmread(path, stop_before_pixels=True, force=force)
    except (InvalidDicomError, OSError, ValueError, EOFError, KeyError, TypeError, AttributeError):
        return None
    except Exception:  # noqa: BLE001 - pydicom on a forced non-DICOM file can raise nearly anything
        return None
    if not force:
        return header
    try:
        return header if header.get("SOPClassUID") and header.get("SOPInstanceUID") else None
    except Exception:  # noqa: BLE001 - a forced parse can fail lazily on first access
        return None


class _Walk:
    """One discovery: the files found so far and the bytes unpacked from zips, bounded as an upload."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.files: list[DicomFile] = []
        self.unpacked_bytes = 0
        self.zips = 0

    def visit(self, path: Path, depth: int) -> None:
        if path.is_symlink():
            return
        if path.is_dir():
            for child in sorted(path.iterdir()):
                self.visit(child, depth)
        elif path.is_file():
            self._visit_file(path, depth)

    def _visit_file(self, path: Path, depth: int) -> None:
        if _has_dicm_magic(path):
            header = _read_header(path, force=False)
        elif zipfile.is_zipfile(path):
            self._unpack(path, depth)
            return
        elif path.name.lower().endswith(NOT_DICOM_SUFFIXES) or _has_gzip_magic(path):
            return
        else:
            header = _read_header(path, force=True)
        if header is not None and not _is_media_directory(header):
            self.files.append(DicomFile(path=path, header=header))

    def _unpack(self, path: Path, depth: int) -> None:
        if depth >= ZIP_MAX_DEPTH:
            raise ImportRejected(f"{path.name}: zips nested more than {ZIP_MAX_DEPTH} deep")
        entries = check_zip(path)
        self.unpacked_bytes += sum(e.file_size for e in entries)
        if self.unpacked_bytes > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise ImportRejected(f"the zips unpack to over {settings.IMPORT_MAX_UPLOAD_BYTES:,} bytes in all")
        self.zips += 1
        target = self.scratch / f"zip{self.zips}"
        with zipfile.ZipFile(path) as archive:
            for info in entries:
                # Entries were checked for absolute paths, `..` and links; extract() also normalises.
                archive.extract(info, target)
        self.visit(target, depth + 1)


def dicom_files(source: Path, *, scratch: Path) -> list[DicomFile]:
    """Every DICOM file in `source` (a file, a folder or a zip), recognised by content. Zips are unpacked
    under `scratch`, which the caller removes."""
    walk = _Walk(scratch)
    walk.visit(Path(source), depth=0)
    return walk.files


def _is_media_directory(header) -> bool:
    """A DICOMDIR names its class only in its file meta (MediaStorageSOPClassUID), not as a SOPClassUID."""
    meta = getattr(header, "file_meta", None)
    classes = {
        str(header.get("SOPClassUID", "")),
        str(getattr(meta, "MediaStorageSOPClassUID", "") if meta else ""),
    }
    return MEDIA_STORAGE_DIRECTORY in classes
