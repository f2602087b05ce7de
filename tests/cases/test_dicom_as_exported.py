"""DICOM imports as hospitals export it: files found by content whatever their names, in nested folders,
on DICOMDIR media and in zips inside zips."""

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from pydicom.fileset import FileSet

from cases.models import Case
from cases.services import case_import

from dicom_helpers import write_ct_series


def test_the_command_imports_a_folder_of_extension_less_slices(tmp_path, db, capsys):
    export = tmp_path / "export"
    write_ct_series(export / "PAT1" / "STUDY1" / "SER1", name=lambda k: f"IM{k + 1:05d}")
    write_ct_series(export / "PAT2", name=lambda k: f"CT.1.3.12.2.{k}", seed=3)
    call_command("import_cases", str(export))
    out = capsys.readouterr().out
    assert "2 case(s) imported" in out
    assert Case.objects.count() == 2
    assert all(case.size == [16, 16, 16] for case in Case.objects.all())


def test_a_preambleless_file_is_still_recognised_by_its_content(tmp_path, db):
    import pydicom

    folder = write_ct_series(tmp_path / "s", name=lambda k: f"slice{k}")
    for path in folder.iterdir():  # no preamble, no DICM, no meta header: as old exports write them
        dataset = pydicom.dcmread(path)
        dataset.preamble, dataset.file_meta = None, pydicom.dataset.FileMetaDataset()
        dataset.save_as(path, enforce_file_format=False, implicit_vr=True, little_endian=True)
        assert path.read_bytes()[128:132] != b"DICM"
    (folder / "notes.txt").write_text("not a slice")
    outcome = case_import(path=folder)
    assert outcome.case.size == [16, 16, 16]


def test_a_dicomdir_medium_imports(tmp_path, db):
    slices = write_ct_series(tmp_path / "slices")
    medium = tmp_path / "cdrom"
    fileset = FileSet()
    for path in sorted(slices.iterdir()):
        fileset.add(str(path))
    fileset.write(str(medium))
    assert (medium / "DICOMDIR").exists()
    assert not any(p.suffix for p in medium.rglob("*") if p.is_file() and p.name != "DICOMDIR")
    call_command("import_cases", str(medium / "DICOMDIR"))
    case = Case.objects.get()
    assert case.size == [16, 16, 16]


def _zip(target: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for name, path in members.items():
            archive.write(path, name)
    return target


def test_zips_inside_zips_import(tmp_path, db):
    series = write_ct_series(tmp_path / "series", name=lambda k: f"IMG{k}")
    inner = _zip(tmp_path / "inner.zip", {f"DICOM/{p.name}": p for p in sorted(series.iterdir())})
    middle = _zip(tmp_path / "middle.zip", {"export/inner.zip": inner})
    outer = _zip(tmp_path / "outer.zip", {"middle.zip": middle})
    shutil.rmtree(series)
    outcome = case_import(path=outer)
    assert outcome.created and outcome.case.size == [16, 16, 16]


def test_zips_nested_too_deep_are_refused(tmp_path, db):
    from cases.validation import ImportRejected

    series = write_ct_series(tmp_path / "series")
    current = _zip(tmp_path / "z0.zip", {p.name: p for p in series.iterdir()})
    for depth in range(1, 4):
        current = _zip(tmp_path / f"z{depth}.zip", {current.name: current})
    with pytest.raises(ImportRejected, match="nested"):
        case_import(path=current)
    assert Case.objects.count() == 0


def test_an_anonymised_series_asks_for_a_study_id_and_says_why(api_client, coordinator, tmp_path):
    from dicom_helpers import zip_folder

    folder = write_ct_series(
        tmp_path / "anon", identifiers={"PatientID": "", "PatientName": ""}, study_uid=""
    )
    api_client.force_authenticate(coordinator)
    with open(zip_folder(folder, tmp_path / "anon.zip"), "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh}, format="multipart")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "DICOM series carries no patient identity" in detail and "study id" in detail
    assert "NIfTI" not in detail
    assert Case.objects.count() == 0
    with open(tmp_path / "anon.zip", "rb") as fh:
        response = api_client.post(
            "/api/cases/import/", {"file": fh, "study_id": "ANON-7"}, format="multipart"
        )
    assert response.status_code == 201, response.json()
    assert Case.objects.get().patient.study_id == "ANON-7"


def test_a_zip_of_two_studies_is_refused_with_what_to_do(api_client, coordinator, tmp_path):
    from dicom_helpers import zip_folder

    write_ct_series(tmp_path / "two" / "a")
    write_ct_series(tmp_path / "two" / "b", seed=4)
    api_client.force_authenticate(coordinator)
    with open(zip_folder(tmp_path / "two", tmp_path / "two.zip"), "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh}, format="multipart")
    assert response.status_code == 400
    assert "holds 2 DICOM studies; import one study at a time" in response.json()["detail"]
    assert Case.objects.count() == 0


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.5"], ids=["jpeg-ls", "rle"])
def test_a_compressed_export_reads_the_same_voxels(tmp_path, syntax):
    import pydicom
    import SimpleITK as sitk

    from cases.dicom.reader import read_dicom

    folder = write_ct_series(tmp_path / "s", name=lambda k: f"IM{k}")
    plain = sitk.GetArrayFromImage(read_dicom(folder, key="k").image)
    for path in folder.iterdir():  # PACS often export losslessly compressed
        dataset = pydicom.dcmread(path)
        dataset.compress(syntax)
        dataset.save_as(path)
    assert pydicom.dcmread(next(folder.iterdir())).file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(sitk.GetArrayFromImage(read_dicom(folder, key="k").image), plain)


def test_a_folder_without_any_image_is_an_error_not_a_silent_zero(tmp_path, db):
    from django.core.management.base import CommandError

    (tmp_path / "inbox" / "sub").mkdir(parents=True)
    (tmp_path / "inbox" / "sub" / "README").write_text("exported by a PACS viewer")
    with pytest.raises(CommandError, match="no NIfTI file, zip or DICOM study found"):
        call_command("import_cases", str(tmp_path / "inbox"))
