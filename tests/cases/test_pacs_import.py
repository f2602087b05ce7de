"""A study stored in a real Orthanc (STOW-RS) is found through the platform (QIDO-RS) by date range,
modality and description, retrieved (WADO-RS) and imported as a background job: the case is created,
de-identified, its series chosen by the rules and its DLP read from the dose report. No UID and no
credential ever reaches a page or an API answer."""

import pydicom
import pytest
from pydicom.uid import generate_uid

from cases.models import Case
from jobs.models import Job

from dicom_helpers import IDENTIFIERS, write_ct_series, write_dose_report, write_localizer

pytest_plugins = ["orthanc_fixtures"]


@pytest.fixture
def stored_study(tmp_path, orthanc):
    study = generate_uid()
    write_localizer(tmp_path / "study", study_uid=study)
    write_ct_series(tmp_path / "study" / "thin", study_uid=study, size=(16, 16, 18), name=lambda k: f"IM{k}")
    write_dose_report(tmp_path / "study" / "dose", study_uid=study, dlp_mgycm=233.0)
    files = [p for p in (tmp_path / "study").rglob("*") if p.is_file()]
    orthanc.client().store_instances([pydicom.dcmread(p) for p in files])
    other = generate_uid()
    write_ct_series(tmp_path / "other", study_uid=other, size=(16, 16, 16), seed=9)
    for path in (tmp_path / "other").iterdir():  # another patient's head CT from another year
        dataset = pydicom.dcmread(path)
        dataset.StudyDate, dataset.StudyDescription = "20210102", "CT HEAD"
        orthanc.client().store_instances([dataset])
    return study


def _search(api_client, **query):
    return api_client.get("/api/pacs/test-pacs/studies/", query)


def test_the_coordinator_finds_a_study_by_date_modality_and_description(
    api_client, coordinator, stored_study
):
    api_client.force_authenticate(coordinator)
    response = _search(
        api_client, date_from="2024-03-01", date_to="2024-03-31", modality="CT", description="abdomen"
    )
    assert response.status_code == 200, response.json()
    found = response.json()
    assert len(found) == 1
    assert (
        found[0]["date"] == "20240315" and found[0]["description"] == "CT ABDOMEN" and found[0]["series"] == 3
    )
    assert stored_study not in response.content.decode() and "pacs-secret" not in response.content.decode()
    assert len(_search(api_client, date_from="2021-01-01", date_to="2021-12-31").json()) == 1
    assert len(_search(api_client, description="knee").json()) == 0
    listing = api_client.get("/api/pacs/").json()
    assert (
        listing[0]["name"] == "test-pacs"
        and "pacs-secret" not in str(listing)
        and "pacs-user" not in str(listing)
    )


def test_picked_studies_import_as_a_job_with_the_case_created(
    api_client, coordinator, stored_study, django_capture_on_commit_callbacks
):
    api_client.force_authenticate(coordinator)
    token = _search(api_client, description="abdomen").json()[0]["token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/pacs/test-pacs/import/", {"studies": [token]}, format="json")
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["job"]["id"])
    assert job.kind == "cases.import_pacs" and job.status == Job.Status.SUCCEEDED, job.error
    assert job.progress == 100 and stored_study not in repr(job.params) + job.log_tail
    case = Case.objects.get(pk=job.result["cases"][0])
    assert case.source == "pacs" and case.size == [16, 16, 18] and case.dlp_mgycm == 233.0
    assert "localizer" in str(case.import_report["passed_over"])
    stored = repr(list(Case.objects.values())) + case.patient.study_id
    assert all(value not in stored for value in IDENTIFIERS.values())


def test_a_forged_token_or_unknown_pacs_is_refused(api_client, coordinator, orthanc):
    api_client.force_authenticate(coordinator)
    response = api_client.post("/api/pacs/test-pacs/import/", {"studies": ["1.2.3.4"]}, format="json")
    assert response.status_code == 400 and "not a token" in response.json()["detail"]
    assert _search(api_client).status_code == 200
    assert api_client.get("/api/pacs/nowhere/studies/").status_code == 400
    assert Job.objects.count() == 0


def test_readers_and_pis_cannot_use_the_pacs(api_client, reader, pi, orthanc):
    for user in (reader, pi):
        api_client.force_authenticate(user)
        assert api_client.get("/api/pacs/").status_code == 403
        assert _search(api_client).status_code == 403


def test_an_unreachable_pacs_answers_502_without_credentials(api_client, coordinator, settings):
    settings.PACS_ENDPOINTS = [
        {"name": "down", "url": "http://127.0.0.1:9/dicom-web", "username": "u", "password": "topsecret"}
    ]
    api_client.force_authenticate(coordinator)
    response = api_client.get("/api/pacs/down/studies/")
    assert response.status_code == 502
    assert "topsecret" not in response.content.decode() and "PACS down" in response.json()["detail"]


def test_the_pacs_page_searches_and_starts_the_import(
    client, coordinator, stored_study, django_capture_on_commit_callbacks
):
    client.force_login(coordinator)
    page = client.get("/cases/pacs/", {"pacs": "test-pacs", "modality": "CT", "description": "abdo"})
    html = page.content.decode()
    assert page.status_code == 200 and "CT ABDOMEN" in html and "CT HEAD" not in html
    assert stored_study not in html and "pacs-secret" not in html and "pacs-user" not in html
    token = page.context["studies"][0]["token"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/cases/pacs/", {"pacs": "test-pacs", "study": [token]})
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    assert Case.objects.count() == 1
