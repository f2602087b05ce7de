"""The generator's DICOM output, with its fake identifiers, re-imports through the platform's importer with
no identifying field left in the database or in the stored volume."""

import csv
import gzip
import zipfile
from pathlib import Path

import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from accounts.models import AuditEvent
from cases.models import Case, Patient

IDENTIFYING = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "InstitutionName",
    "ReferringPhysicianName",
    "AccessionNumber",
)


def test_phantom_dicom_reimports_without_identifiers(api_client, coordinator, tmp_path):
    from phantom.case import CaseOptions
    from phantom.cohort import CohortConfig, write_cohort

    out = tmp_path / "cohort"
    write_cohort(
        CohortConfig(
            out=out,
            cases=1,
            seed=5,
            dicom=True,
            options=CaseOptions(matrix=128, region="hips", exclusion="", readers=False),
        )
    )
    series = next((out / "dicom").iterdir())
    header = pydicom.dcmread(next(series.glob("*.dcm")), stop_before_pixels=True)
    identifiers = [str(header.get(name)) for name in IDENTIFYING]
    assert all(identifiers), "the generator must write identifiers for this test to mean anything"

    archive = tmp_path / "series.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(series.iterdir()):
            zf.write(path, f"{series.name}/{path.name}")
    api_client.force_authenticate(coordinator)
    with open(archive, "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh}, format="multipart")
    assert response.status_code == 201, response.json()

    case = Case.objects.get()
    stored = (
        repr(list(Case.objects.values()))
        + repr(list(Patient.objects.values()))
        + repr(list(AuditEvent.objects.values()))
    )
    volume_bytes = gzip.decompress(Path(case.volume.path).read_bytes()).decode("latin-1")
    for value in identifiers + [str(header.SeriesInstanceUID), str(header.StudyInstanceUID)]:
        assert value not in stored, value
        assert value not in volume_bytes, value
    assert case.patient.study_id.startswith("P-") and case.patient.birth_year == int(identifiers[2][:4])
    # The DLP comes from the generator's dose report (RDSR), as the manifest states it.
    manifest_dlp = float(next(csv.DictReader((out / "manifest.csv").open()))["dlp_mgycm"])
    assert case.dlp_mgycm == pytest.approx(manifest_dlp, abs=0.01)

    # The voxels are the generator's NIfTI, unchanged by the DICOM round trip.
    original = sitk.GetArrayFromImage(sitk.ReadImage(str(out / "images" / f"{series.name}.nii.gz")))
    imported = sitk.GetArrayFromImage(sitk.ReadImage(case.volume.path))
    assert np.array_equal(original, imported)
