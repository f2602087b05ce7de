"""Readers are blinded to the reference standard (QCT T-scores and BMD, bone status, exclusions, split
subsets, predictions) on every page and endpoint they reach, unless STUDY_UNBLINDED says the study is
unblinded; coordinators and PIs see it."""

import datetime as dt

import pytest
from django.test import Client

from cases import services

# Values that appear nowhere on a page unless the reference standard is shown.
T_SCORE, BMD, NOTE = -2.87, 61.37, "NOTE-REFSTD-7"
KEYS = ("bone_status", "qct", "exclusions")


@pytest.fixture
def blinded_case(make_case, reader, coordinator):
    """A case read by `reader`, with a QCT, a bone status, an exclusion and a split subset."""
    from annotations.services import assignment_create
    from cases.models import Cohort

    cases = [make_case(exam_datetime=dt.datetime(2024, 1, 1 + i, tzinfo=dt.UTC)) for i in range(4)]
    case = cases[0]
    services.qct_set(
        case=case,
        qct_date=dt.date(2024, 1, 2),
        days_from_ct=1,
        values={"femoral_neck_t": T_SCORE, "femoral_neck_bmd": BMD, "total_hip_t": -2.9},
    )
    cohort = Cohort.objects.create(name="Blinding")
    cohort.cases.add(*cases)
    services.split_create(cohort=cohort, params=services.SplitParams(test_fraction=0.25))
    services.exclusion_add(case=cases[1], reason="hip_replacement", note=NOTE)
    for other in cases[:2]:
        assignment_create(
            case=other, reader=reader, cohort=cohort, created_by=coordinator, study_role="primary"
        )
    case.refresh_from_db()
    assert case.bone_status == "osteoporosis"
    return case


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def reader_pages(case) -> list[str]:
    from annotations.models import Assignment

    assignment = Assignment.objects.get(case=case)
    return [
        "/",
        "/cases/",
        f"/cases/{case.pk}/",
        "/reading/",
        f"/reading/assignments/{assignment.pk}/",
        "/reading/interobserver/",
        "/jobs/",
    ]


def test_a_reader_sees_no_reference_standard_in_the_case_api(blinded_case, reader):
    client = signed_in(reader)
    listed = client.get("/api/cases/").json()["results"]
    assert len(listed) == 2
    one = client.get(f"/api/cases/{blinded_case.pk}/").json()
    for body in [*listed, one]:
        assert not set(KEYS) & set(body), body
    text = (
        client.get("/api/cases/").content.decode()
        + client.get(f"/api/cases/{blinded_case.pk}/").content.decode()
    )
    for value in (str(T_SCORE), str(BMD), "osteoporosis", NOTE, "hip_replacement"):
        assert value not in text


@pytest.mark.parametrize(
    "query", ["bone_status=osteoporosis", "excluded=true", "excluded=false", "subset=test"]
)
def test_a_reader_cannot_learn_the_reference_standard_by_filtering(blinded_case, reader, query):
    assert signed_in(reader).get(f"/api/cases/?{query}").json()["count"] == 2


@pytest.mark.parametrize(
    "query", ["bone_status=osteoporosis", "status=excluded", "status=included", "subset=test"]
)
def test_a_reader_cannot_filter_the_case_page_by_the_reference_standard(blinded_case, reader, query):
    assert b"(2 cases)" in signed_in(reader).get(f"/cases/?{query}").content


def test_a_reader_sees_no_reference_standard_on_any_page(blinded_case, reader):
    client = signed_in(reader)
    for url in reader_pages(blinded_case):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        for value in (
            "-2.87",
            "61.4",
            "61.37",
            ">osteoporosis<",
            NOTE,
            "Hip replacement",
            "class-",
            "QCT on",
        ):
            assert value not in text, (url, value)


def test_a_coordinator_and_a_pi_see_the_reference_standard(blinded_case, coordinator, pi):
    for user in (coordinator, pi):
        client = signed_in(user)
        body = client.get(f"/api/cases/{blinded_case.pk}/").json()
        assert body["bone_status"] == "osteoporosis" and body["qct"]["femoral_neck_t"] == T_SCORE
        assert "osteoporosis" in client.get(f"/cases/{blinded_case.pk}/").content.decode()
        assert client.get("/api/cases/?bone_status=osteoporosis").json()["count"] == 1


def test_an_unblinded_study_shows_readers_the_reference_standard(blinded_case, reader, settings):
    settings.STUDY_UNBLINDED = True
    client = signed_in(reader)
    assert client.get(f"/api/cases/{blinded_case.pk}/").json()["qct"]["femoral_neck_t"] == T_SCORE
    assert "-2.87" in client.get(f"/cases/{blinded_case.pk}/").content.decode()
