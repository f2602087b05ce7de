"""QCT results from CSV: every row checked first, a clear row/column message, nothing stored on error."""

import pytest

from cases.models import QCTMeasurement

HEADER = "study_id,qct_date,femoral_neck_bmd,femoral_neck_t,trochanter_bmd,trochanter_t,intertrochanter_bmd,intertrochanter_t,total_hip_bmd,total_hip_t\n"


def post_csv(api_client, user, text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    api_client.force_authenticate(user)
    return api_client.post(
        "/api/qct/import/", {"file": SimpleUploadedFile("qct.csv", text.encode())}, format="multipart"
    )


@pytest.fixture
def two_cases(make_case):
    import datetime as dt

    a = make_case(study_id="P-1", exam_datetime=dt.datetime(2024, 3, 1, 9, tzinfo=dt.UTC))
    b = make_case(study_id="P-2", exam_datetime=dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC))
    return a, b


def test_it_stores_qct_and_derives_bone_status_from_the_lowest_site(api_client, coordinator, two_cases):
    text = (
        HEADER
        + "P-1,2024-03-04,120,-0.5,100,-0.8,150,-0.2,110,-1.4\nP-2,2024-05-02,60,-2.9,70,-2.0,80,-1.5,75,-2.0\n"
    )
    response = post_csv(api_client, coordinator, text)
    assert response.status_code == 201, response.json()
    a, b = (c.__class__.objects.get(pk=c.pk) for c in two_cases)
    assert a.bone_status == "osteopenia"  # total hip -1.4 is the lowest of neck and total hip
    assert b.bone_status == "osteoporosis"
    assert a.qct.days_from_ct == 3


@pytest.mark.parametrize(
    "text, words",
    [
        ("study_id,femoral_neck_t\nP-1,-1\n", ["missing column", "qct_date"]),
        (HEADER + "P-1,2024-03-04,120,-0.5,100,-0.8,150,-0.2,110\n", ["row 2", "columns"]),
        (
            HEADER + "P-9,2024-03-04,120,-0.5,100,-0.8,150,-0.2,110,-1.4\n",
            ["row 2", "study_id", "unknown patient"],
        ),
        (
            HEADER
            + "P-1,2024-03-04,120,-0.5,100,-0.8,150,-0.2,110,-1.4\nP-2,2024-05-02,60,-9.5,70,-2,80,-1.5,75,-2\n",
            ["row 3", "femoral_neck_t", "-9.5"],
        ),
        (
            HEADER + "P-1,2024-03-04,120,-0.5,100,abc,150,-0.2,110,-1.4\n",
            ["row 2", "trochanter_t", "not a number"],
        ),
        (
            HEADER + "P-1,2024-03-04,nan,-0.5,100,-0.8,150,-0.2,110,-1.4\n",
            ["row 2", "femoral_neck_bmd", "not a number"],
        ),
        (HEADER + "P-1,04/03/2024,120,-0.5,100,-0.8,150,-0.2,110,-1.4\n", ["row 2", "qct_date"]),
    ],
)
def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_stored(
    api_client, coordinator, two_cases, text, words
):
    # A good first row must not be stored when a later row is bad.
    response = post_csv(api_client, coordinator, text)
    assert response.status_code == 400
    for word in words:
        assert word in response.json()["detail"]
    assert QCTMeasurement.objects.count() == 0
    assert all(c.__class__.objects.get(pk=c.pk).bone_status == "" for c in two_cases)


def test_areal_bmd_is_stored_with_its_unit_and_an_unknown_unit_is_refused(api_client, coordinator, two_cases):
    header = HEADER.rstrip("\n") + ",bmd_unit\n"
    bad = header + "P-1,2024-03-04,0.71,-1.2,0.6,-0.8,0.9,-0.2,0.8,-1.4,furlongs\n"
    response = post_csv(api_client, coordinator, bad)
    assert response.status_code == 400 and "bmd_unit" in response.json()["detail"]
    good = header + "P-1,2024-03-04,0.71,-1.2,0.6,-0.8,0.9,-0.2,0.8,-1.4,g/cm2\n"
    assert post_csv(api_client, coordinator, good).status_code == 201
    qct = QCTMeasurement.objects.get()
    assert qct.bmd_unit == "g/cm2" and qct.femoral_neck_bmd == 0.71
