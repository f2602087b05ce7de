"""A study export with several series: the platform reads the one its rules choose, says why it passed
over the others, fills the DLP from the dose report, and the coordinator can choose another series."""

import pytest
from django.core.management import call_command
from pydicom.uid import generate_uid

from cases.models import Case, DicomSource
from cases.services import case_import
from cases.validation import ImportRejected

from dicom_helpers import write_ct_series, write_dose_report, write_localizer, zip_folder

NAMES = {"thin": "1.25mm STND", "thick": "5mm STND", "short": "1.25mm HIPS ONLY", "coronal": "COR MPR"}


def write_study(root, *, dose=True):
    """Localizer, a thin and a thick axial series over the same 80 mm, a thin series over 40 mm, a derived
    coronal reformat and the dose report, all under extension-less names as a PACS exports them."""
    study = generate_uid()
    write_localizer(root / "S1", study_uid=study)
    write_ct_series(
        root / "S2",
        study_uid=study,
        size=(16, 16, 65),
        spacing=(0.8, 0.8, 1.25),
        series_number=2,
        description=NAMES["thin"],
        name=lambda k: f"IM{k:04d}",
    )
    write_ct_series(
        root / "S3",
        study_uid=study,
        size=(16, 16, 17),
        spacing=(0.8, 0.8, 5.0),
        series_number=3,
        description=NAMES["thick"],
        name=lambda k: f"IM{k:04d}",
    )
    write_ct_series(
        root / "S4",
        study_uid=study,
        size=(16, 16, 33),
        spacing=(0.8, 0.8, 1.25),
        series_number=4,
        description=NAMES["short"],
        name=lambda k: f"IM{k:04d}",
    )
    write_ct_series(
        root / "S5",
        study_uid=study,
        size=(16, 16, 16),
        spacing=(0.8, 0.8, 2.0),
        series_number=5,
        description=NAMES["coronal"],
        image_type=("DERIVED", "SECONDARY", "REFORMATTED"),
        orientation=(1, 0, 0, 0, 0, -1),
        name=lambda k: f"IM{k:04d}",
        positions=[[-10.0, -8.0 + 2.0 * k, 140.0] for k in range(16)],
    )
    if dose:
        write_dose_report(root / "DOSE0001", study_uid=study, dlp_mgycm=412.7)
    return root


def test_it_reads_the_thin_axial_series_and_says_why_it_passed_over_the_others(tmp_path, db):
    outcome = case_import(path=zip_folder(write_study(tmp_path / "study"), tmp_path / "study.zip"))
    case = outcome.case
    report = case.import_report
    assert report["chosen"]["description"] == NAMES["thin"]
    assert case.size[2] == 65 and case.slice_thickness_mm == 1.25
    reasons = {s["description"] or s["modality"]: s["reason"] for s in report["passed_over"]}
    assert "localizer" in reasons["Topogram"]
    assert "thicker slices (5 mm)" in reasons[NAMES["thick"]]
    assert "covers 40 mm" in reasons[NAMES["short"]]
    assert "ORIGINAL PRIMARY" in reasons[NAMES["coronal"]]
    assert "dose report" in reasons["SR"]
    assert case.dlp_mgycm == pytest.approx(412.7)
    assert any("from the dose report" in note for note in report["notes"])


def test_no_dose_report_leaves_the_dlp_empty_and_says_so(tmp_path, db):
    case = case_import(path=write_study(tmp_path / "study", dose=False)).case
    assert case.dlp_mgycm is None
    assert any("no dose report" in note for note in case.import_report["notes"])


def test_the_coordinator_can_choose_another_series_by_index_or_code(tmp_path, db, capsys):
    study = write_study(tmp_path / "study")
    first = case_import(path=study).case
    thick = next(s for s in first.import_report["passed_over"] if s["description"] == NAMES["thick"])
    call_command("import_cases", str(study), "--series", str(thick["index"]))
    second = Case.objects.exclude(pk=first.pk).get()
    assert second.import_report["chosen"]["description"] == NAMES["thick"] and second.size[2] == 17
    assert "series 3 (5mm STND) read" in capsys.readouterr().out
    Case.objects.filter(pk=second.pk).delete()
    third = case_import(path=study, series=thick["series"]).case
    assert third.size[2] == 17


def test_a_series_that_is_no_volume_cannot_be_chosen(tmp_path, db):
    study = write_study(tmp_path / "study")
    with pytest.raises(ImportRejected, match="cannot be read as a CT volume: localizer"):
        case_import(path=study, series="1")
    with pytest.raises(ImportRejected, match="no series '42'"):
        case_import(path=study, series="42")
    assert Case.objects.count() == 0


def test_the_api_takes_a_series_and_returns_the_report(api_client, coordinator, tmp_path):
    archive = zip_folder(write_study(tmp_path / "study"), tmp_path / "study.zip")
    api_client.force_authenticate(coordinator)
    with open(archive, "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh, "series": "3"}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["import_report"]["chosen"]["index"] == 3 and body["size"][2] == 17


def test_the_case_page_shows_the_series_passed_over(client, coordinator, tmp_path):
    case = case_import(path=write_study(tmp_path / "study")).case
    client.force_login(coordinator)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert "DICOM import" in html and "thicker slices (5 mm)" in html and "localizer" in html


def test_the_source_uids_are_kept_only_sealed(tmp_path, db):
    import pydicom

    from cases.dicom.source import unseal

    study = write_study(tmp_path / "study")
    header = pydicom.dcmread(next((study / "S2").iterdir()), stop_before_pixels=True)
    case = case_import(path=study).case
    sealed = DicomSource.objects.get(case=case).sealed
    stored = repr(list(Case.objects.values())) + sealed
    assert str(header.StudyInstanceUID) not in stored and str(header.SeriesInstanceUID) not in stored
    record = unseal(sealed)
    assert record["study_uid"] == header.StudyInstanceUID and len(record["slices"]) == 65


def test_a_study_of_derived_axial_series_only_reads_the_best_of_them_and_says_so(tmp_path, db):
    study = generate_uid()
    for number, (slices, step) in enumerate(((65, 1.25), (17, 5.0)), start=2):
        write_ct_series(
            tmp_path / "s" / str(number),
            study_uid=study,
            size=(16, 16, slices),
            spacing=(0.8, 0.8, step),
            image_type=("DERIVED", "PRIMARY", "AXIAL"),
            series_number=number,
            description=f"{step} mm",
        )
    case = case_import(path=tmp_path / "s").case
    assert case.size[2] == 65
    assert any("no ORIGINAL PRIMARY AXIAL series" in note for note in case.import_report["notes"])
    assert "thicker slices" in case.import_report["passed_over"][0]["reason"]


def test_series_stripped_of_their_uids_are_still_told_apart(tmp_path, db):
    import pydicom

    root = write_study(tmp_path / "study", dose=False)
    for path in (p for p in root.rglob("*") if p.is_file()):
        dataset = pydicom.dcmread(path)
        dataset.SeriesInstanceUID = ""
        dataset.save_as(path)
    case = case_import(path=root).case
    assert case.import_report["chosen"]["description"] == NAMES["thin"]
    assert len(case.import_report["passed_over"]) == 4
