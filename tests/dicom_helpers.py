"""Writes small CT DICOM series with identifying fields, so tests can check de-identification."""

import datetime as dt
from pathlib import Path

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

IDENTIFIERS = {
    "PatientName": "Doe^Jane",
    "PatientID": "HOSP-123456",
    "PatientBirthDate": "19510203",
    "InstitutionName": "Saint Example Hospital",
    "ReferringPhysicianName": "House^Gregory",
}


def write_ct_series(folder: Path, *, size=(16, 16, 16), spacing=(0.8, 0.8, 1.25), seed=0, series_uid=None,
                    pixel_spacing=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    nx, ny, nz = size
    series_uid = series_uid or generate_uid()
    study_uid = generate_uid()
    for k in range(nz):
        stored = np.full((ny, nx), 24, dtype=np.int16)  # -1000 HU with intercept -1024
        stored[2 : ny - 2, 2 : nx - 2] = 1064 + rng.integers(0, 40, (ny - 4, nx - 4))
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{k:03d}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        for key, value in IDENTIFIERS.items():
            setattr(ds, key, value)
        ds.PatientSex = "F"
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.Modality = "CT"
        ds.Manufacturer, ds.ManufacturerModelName = "ExampleMed", "Revolution 256"
        ds.KVP = "120"
        ds.SliceThickness = str(spacing[2])
        ds.AcquisitionDate = ds.StudyDate = "20240315"
        ds.AcquisitionTime = ds.StudyTime = "101500"
        ds.ImagePositionPatient = [-10.0, -8.0, 100.0 + k * spacing[2]]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = pixel_spacing if pixel_spacing is not None else [spacing[1], spacing[0]]
        ds.InstanceNumber = k + 1
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
        ds.PixelData = stored.tobytes()
        ds.save_as(folder / f"{k:03d}.dcm", enforce_file_format=True)
    return folder


def zip_folder(folder: Path, archive: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"series/{path.name}")
    return archive


_ = dt  # kept for callers building dates
