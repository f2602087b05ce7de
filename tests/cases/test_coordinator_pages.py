"""The coordinator's pages, without a browser: each form calls its service and shows what it did."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Assignment
from cases.models import Case, Cohort, Exclusion, QCTMeasurement, Split
from cases.services import cohort_create

HEADER = "study_id,qct_date,femoral_neck_bmd,femoral_neck_t,total_hip_bmd,total_hip_t\n"


@pytest.fixture
def cases(make_case):
    made = []
    for i in range(8):
        case = make_case(
            study_id=f"SYN-{i:04d}",
            size=(16, 16, 16),
            exam_datetime=dt.datetime(2024, 1 + i, 1, tzinfo=dt.UTC),
        )
        Case.objects.filter(pk=case.pk).update(bone_status=["normal", "osteopenia"][i % 2])
        made.append(case)
    return made


@pytest.fixture
def staff(client, coordinator):
    client.force_login(coordinator)
    return client


def test_the_qct_check_lists_every_refused_row_and_column_and_stores_nothing(api_client, coordinator, cases):
    text = HEADER + (
        "SYN-0000,2024-01-02,120,-0.5,110,-1.4\n"
        "SYN-0001,2024-13-02,120,-0.5,110,-1.4\n"
        "SYN-0002,2024-03-02,abc,-9.5,110,-1.4\n"
        "NOBODY,2024-03-02,120,-0.5,110,-1.4\n"
    )
    api_client.force_authenticate(coordinator)
    response = api_client.post(
        "/api/qct/import/",
        {"file": SimpleUploadedFile("q.csv", text.encode()), "dry_run": "true"},
        format="multipart",
    )
    assert response.status_code == 200
    cells = {(p["row"], p["column"]) for p in response.json()["problems"]}
    assert cells == {(3, "qct_date"), (4, "femoral_neck_bmd"), (4, "femoral_neck_t"), (5, "study_id")}
    assert response.json()["rows"] == 4
    assert not QCTMeasurement.objects.exists()


def test_a_clean_qct_check_stores_nothing_until_the_import(api_client, coordinator, cases):
    text = HEADER + "SYN-0000,2024-01-02,120,-0.5,110,-1.4\n"
    api_client.force_authenticate(coordinator)
    checked = api_client.post(
        "/api/qct/import/",
        {"file": SimpleUploadedFile("q.csv", text.encode()), "dry_run": "true"},
        format="multipart",
    )
    assert checked.json() == {"rows": 1, "problems": []}
    assert not QCTMeasurement.objects.exists()
    stored = api_client.post(
        "/api/qct/import/", {"file": SimpleUploadedFile("q.csv", text.encode())}, format="multipart"
    )
    assert stored.status_code == 201 and QCTMeasurement.objects.count() == 1


def test_an_exclusion_is_recorded_and_removed_on_the_case_page(staff, cases):
    response = staff.post(
        f"/cases/{cases[0].pk}/exclusions/", {"reason": "hip_fracture", "note": "left neck"}, follow=True
    )
    assert "Recorded the exclusion: hip fracture." in response.content.decode()
    exclusion = Exclusion.objects.get(case=cases[0])
    assert exclusion.note == "left neck"
    staff.post(f"/cases/{cases[0].pk}/exclusions/{exclusion.pk}/remove/")
    assert not Exclusion.objects.exists()


def test_a_reader_cannot_record_an_exclusion(client, reader, cases):
    client.force_login(reader)
    assert client.post(f"/cases/{cases[0].pk}/exclusions/", {"reason": "hip_fracture"}).status_code == 403
    assert not Exclusion.objects.exists()


def test_a_cohort_is_created_from_a_filter_and_edited_by_filter_and_selection(staff, cases):
    response = staff.post(
        "/cases/cohorts/create/",
        {"name": "Spring", "with_filter": "1", "exam_from": "2024-01-01", "exam_to": "2024-04-15"},
    )
    cohort = Cohort.objects.get(name="Spring")
    assert response.url == f"/cases/cohorts/{cohort.pk}/"
    assert sorted(c.patient.study_id for c in cohort.cases.all()) == [
        "SYN-0000",
        "SYN-0001",
        "SYN-0002",
        "SYN-0003",
    ]
    staff.post(f"/cases/cohorts/{cohort.pk}/cases/", {"action": "add", "study_id": "SYN-0007"})
    staff.post(f"/cases/cohorts/{cohort.pk}/cases/", {"action": "remove", "case": [cases[0].pk, cases[1].pk]})
    assert sorted(c.patient.study_id for c in cohort.cases.all()) == ["SYN-0002", "SYN-0003", "SYN-0007"]


def test_the_split_preview_shows_counts_per_class_and_stores_nothing_until_frozen(staff, cases):
    cohort = cohort_create(name="All", cases=cases)
    page = staff.get(
        f"/cases/cohorts/{cohort.pk}/",
        {
            "preview": "1",
            "seed": "7",
            "test_cutoff": "2024-07-01",
            "validation_fraction": "0.5",
            "stratify": "on",
        },
    )
    preview = {row["subset"]: row for row in page.context["preview"]}
    assert preview["test"]["count"] == 2  # July and August
    assert preview["training"]["count"] + preview["validation"]["count"] == 6
    assert "osteopenia" in page.content.decode() and "Freeze this split" in page.content.decode()
    assert not Split.objects.exists()
    staff.post(
        f"/cases/cohorts/{cohort.pk}/splits/",
        {"seed": "7", "test_cutoff": "2024-07-01", "validation_fraction": "0.5", "stratify": "on"},
    )
    split = Split.objects.get()
    assert split.params["test_cutoff"] == "2024-07-01" and split.seed == 7
    frozen = {s: split.memberships.filter(subset=s).count() for s in ("training", "validation", "test")}
    assert frozen == {row["subset"]: row["count"] for row in page.context["preview"]}


def test_one_case_is_assigned_and_reassigned_before_it_is_started(staff, cases, reader, reader2):
    cohort = cohort_create(name="All", cases=cases)
    staff.post("/reading/cohorts/assign/", {"case": cases[3].pk, "cohort": cohort.pk, "reader": reader.pk})
    assignment = Assignment.objects.get()
    assert (assignment.case_id, assignment.reader) == (cases[3].pk, reader)
    staff.post(f"/reading/assignments/{assignment.pk}/reassign/", {"reader": reader2.pk})
    assignment.refresh_from_db()
    assert assignment.reader == reader2


def test_every_coordinator_page_renders(staff, cases):
    cohort = cohort_create(name="All", cases=cases)
    for url in (
        "/cases/",
        "/cases/import/",
        f"/cases/{cases[0].pk}/",
        "/cases/cohorts/",
        f"/cases/cohorts/{cohort.pk}/",
        f"/cases/cohorts/{cohort.pk}/?preview=1&seed=1",
        f"/reading/cohorts/?case={cases[0].pk}",
    ):
        response = staff.get(url)
        assert response.status_code == 200, url
        assert "{{" not in response.content.decode() and "{#" not in response.content.decode(), url


def test_the_case_page_shows_its_qct_in_the_site_format_and_its_thumbnails(staff, cases):
    from cases.services import qct_set

    qct_set(
        case=cases[0],
        qct_date=dt.date(2024, 1, 4),
        days_from_ct=3,
        values={"femoral_neck_bmd": 0.7, "femoral_neck_t": -1.25, "bmd_unit": "g/cm2"},
    )
    page = staff.get(f"/cases/{cases[0].pk}/").content.decode()
    assert "0.700 g/cm²" in page and "3 days after the CT" in page and "day(s)" not in page
    assert "2024-01-01 00:00" in page  # the exam date, ISO-like
    for plane in ("axial", "coronal"):
        response = staff.get(f"/reading/cases/{cases[0].pk}/{plane}.png")
        assert response.status_code == 200 and response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_reader_gets_no_thumbnail_of_a_case_not_assigned_to_them(client, reader, cases):
    client.force_login(reader)
    assert client.get(f"/reading/cases/{cases[0].pk}/axial.png").status_code == 404
