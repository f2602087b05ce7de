"""A DICOM series imports as canonical NIfTI with its scanner metadata and none of its identifiers."""

from pathlib import Path

import pytest
import SimpleITK as sitk
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from cases.models import Case, Patient

from dicom_helpers import IDENTIFIERS, write_ct_series, zip_folder


def all_stored_text() -> str:
    rows = [
        repr(list(Case.objects.values())),
        repr(list(Patient.objects.values())),
        repr(list(AuditEvent.objects.values())),
    ]
    return "\n".join(rows)


def test_a_dicom_zip_imports_with_metadata_and_no_identifiers(api_client, coordinator, tmp_path, settings):
    folder = write_ct_series(tmp_path / "s", size=(16, 17, 18), spacing=(0.8, 0.8, 1.25))
    api_client.force_authenticate(coordinator)
    with open(zip_folder(folder, tmp_path / "s.zip"), "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh}, format="multipart")
    assert response.status_code == 201, response.json()
    case = Case.objects.get()
    assert case.size == [16, 17, 18]
    assert case.spacing == [0.8, 0.8, 1.25]
    assert case.kvp == 120 and case.scanner_model == "Revolution 256" and case.manufacturer == "ExampleMed"
    assert case.exam_datetime is not None and case.exam_datetime.isoformat().startswith("2024-03-15T10:15")
    assert case.patient.birth_year == 1951 and case.patient.sex == "F"
    stored = all_stored_text()
    for value in IDENTIFIERS.values():
        assert value not in stored
        assert value.split("^")[0] not in Path(case.volume.path).read_bytes().decode("latin-1")
    image = sitk.ReadImage(case.volume.path)
    assert image.GetPixelID() == sitk.sitkInt16
    assert -1010 < sitk.GetArrayFromImage(image).min() <= -990


def test_the_same_series_imported_twice_is_one_case(tmp_path, db):
    from cases.services import case_import

    folder = write_ct_series(tmp_path / "s")
    first = case_import(path=folder)
    second = case_import(path=zip_folder(folder, tmp_path / "s.zip"))
    assert first.created and not second.created
    assert Case.objects.count() == 1


def test_the_command_imports_a_dicom_folder_and_reports_a_bad_file_in_one_line(tmp_path, db, capsys):
    folder = write_ct_series(tmp_path / "inbox" / "series1")
    (tmp_path / "inbox" / "broken.nii.gz").write_bytes(b"garbage")
    with pytest.raises(CommandError, match="1 input"):  # a rejected input makes the exit non-zero
        call_command("import_cases", str(tmp_path / "inbox"))
    captured = capsys.readouterr()
    assert "error: broken.nii.gz:" in captured.err
    assert Case.objects.count() == 1
    assert folder.exists()
