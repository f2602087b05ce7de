"""Ids and whole numbers from URLs and forms are parsed once, strictly: a bad one is a 4xx, never a 500.

The first six tests are the 500s found by trying the demo as an outsider would (issue 16); each raised
(ValueError from int('²'), OverflowError from a 23-digit id) before the strict parser existed.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from osteoscreen.parsing import ID_MAX, INT_MAX, InvalidNumber, parse_id, parse_int

SUPERSCRIPT_TWO = "\u00b2"  # '²': str.isdigit() says yes, int() says no
ARABIC_INDIC_TWELVE = "\u0661\u0662"  # int() reads this as 12; an id is typed in ASCII digits
TOO_BIG = "99999999999999999999999"


@pytest.fixture
def assignment(make_case, reader, coordinator):
    from annotations.services import assignment_create
    from cases.models import Cohort

    case = make_case()
    cohort = Cohort.objects.create(name="Ids")
    cohort.cases.add(case)
    return assignment_create(
        case=case, reader=reader, cohort=cohort, created_by=coordinator, study_role="primary"
    )


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def test_a_labelmap_revision_in_superscript_digits_is_a_400(assignment, reader):
    response = signed_in(reader).get(f"/api/assignments/{assignment.pk}/labelmap/?revision={SUPERSCRIPT_TWO}")
    assert response.status_code == 400


def test_the_case_list_filtered_by_a_superscript_cohort_is_a_404(coordinator):
    assert signed_in(coordinator).get(f"/cases/?cohort={SUPERSCRIPT_TWO}").status_code == 404


def test_the_interobserver_page_with_a_superscript_cohort_is_a_404(coordinator):
    assert signed_in(coordinator).get(f"/reading/interobserver/?cohort={SUPERSCRIPT_TWO}").status_code == 404


def test_the_dashboard_with_a_superscript_version_is_a_404(pi):
    assert signed_in(pi).get(f"/models/dashboard/?version={SUPERSCRIPT_TWO}").status_code == 404


def test_a_save_based_on_a_superscript_revision_is_a_400(assignment, reader):
    upload = SimpleUploadedFile("labelmap.raw.gz", b"\x1f\x8b", content_type="application/octet-stream")
    response = signed_in(reader).post(
        f"/api/assignments/{assignment.pk}/revisions/", {"labelmap": upload, "base_revision": SUPERSCRIPT_TWO}
    )
    assert response.status_code == 400
    assert "base_revision" in response.json()["detail"]


def test_an_assignment_list_filtered_by_a_23_digit_cohort_is_a_400(coordinator):
    response = signed_in(coordinator).get(f"/api/assignments/?cohort={TOO_BIG}")
    assert response.status_code == 400
    assert "cohort" in response.json()


@pytest.mark.parametrize(
    "url",
    [
        f"/api/cases/{TOO_BIG}/",
        f"/api/jobs/{TOO_BIG}/",
        f"/cases/{TOO_BIG}/",
        f"/api/models/versions/{TOO_BIG}/",
        f"/api/assignments/{TOO_BIG}/volume/",
        f"/reading/assignments/{TOO_BIG}/",
    ],
)
def test_an_id_in_the_path_too_big_for_the_database_is_a_404(admin_user, url):
    assert signed_in(admin_user).get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        f"cohort={TOO_BIG}",
        f"cohort={SUPERSCRIPT_TWO}",
        f"split={TOO_BIG}",
        "cohort=1e30",
        f"cohort={ARABIC_INDIC_TWELVE}",
    ],
)
def test_the_case_api_filters_refuse_what_is_not_an_id(coordinator, query):
    assert signed_in(coordinator).get(f"/api/cases/?{query}").status_code == 400


def test_the_coordinators_reading_form_with_a_huge_cohort_id_says_so_instead_of_failing(coordinator, reader):
    response = signed_in(coordinator).post(
        "/reading/cohorts/",
        {
            "cohort": TOO_BIG,
            "primary_reader": str(reader.pk),
            "second_reader": str(reader.pk),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert b"whole numbers" in response.content


def test_a_model_job_form_with_a_huge_cohort_id_is_a_404(pi):
    assert signed_in(pi).post("/models/train/segmentation/", {"cohort": TOO_BIG}).status_code == 404


def test_a_training_request_naming_a_huge_cohort_is_a_400(api_client, pi):
    api_client.force_authenticate(pi)
    response = api_client.post("/api/models/segmentation/train/", {"cohort": TOO_BIG}, format="json")
    assert response.status_code == 400


def test_a_byte_range_in_superscript_digits_sends_the_whole_volume(assignment, reader):
    response = signed_in(reader).get(
        f"/api/assignments/{assignment.pk}/volume.raw", HTTP_RANGE=f"bytes={SUPERSCRIPT_TWO}-5"
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "text",
    [
        SUPERSCRIPT_TWO,
        ARABIC_INDIC_TWELVE,
        " 7",
        "7 ",
        "+7",
        "0x1f",
        "1.0",
        "",
        "-",
        "1_000",
        TOO_BIG,
        "0",
        "-3",
    ],
)
def test_parse_id_accepts_only_ascii_digits_of_a_positive_id(text):
    with pytest.raises(InvalidNumber):
        parse_id(text, name="cohort")


def test_parse_id_and_parse_int_keep_to_the_columns_range():
    assert parse_id("42", name="x") == 42
    assert parse_id(str(ID_MAX), name="x") == ID_MAX
    assert parse_int("-5", name="x") == -5
    with pytest.raises(InvalidNumber, match="seed"):
        parse_int(str(INT_MAX + 1), name="seed")
