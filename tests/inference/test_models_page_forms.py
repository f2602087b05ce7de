"""The models page's forms: each disabled control says why, and a running training of a family blocks
a second one in the form itself; the job and version pages print no template text."""

import pytest

from cases.services import cohort_create
from inference.training.versions import model_version_create
from jobs.services import job_start


@pytest.fixture
def cohort(db):
    return cohort_create(name="Demo study")


def page(client, user):
    client.force_login(user)
    return client.get("/models/").content.decode()


def test_segmenting_is_disabled_with_its_reason_when_no_model_is_active(client, pi, cohort):
    html = page(client, pi)
    assert "No active segmentation model yet" in html
    assert 'placeholder="default"' in html


def test_a_running_training_disables_the_start_button_of_its_family_and_says_so(client, pi, cohort):
    job = job_start(kind="segmentation.train", owner=pi, params={"subject": cohort.name})
    model_version_create(family="segmentation", name="demo on Demo study", job=job)
    html = page(client, pi)
    segmentation_form = html[html.index("Retrain segmentation") : html.index("Segment cohort")]
    classifier_form = html[html.index("Retrain classifier") :]
    assert "disabled" in segmentation_form and "is training now" in segmentation_form
    assert "is training now" not in classifier_form.split("</form>")[0]


def test_the_coordinator_follows_a_model_job_started_by_the_pi(client, pi, coordinator, cohort):
    job = job_start(kind="segmentation.train", owner=pi, params={"subject": cohort.name})
    client.force_login(coordinator)
    response = client.get(f"/models/jobs/{job.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Train segmentation cascade · Demo study" in html
    assert "{#" not in html and "#}" not in html and "{{" not in html


def test_the_report_and_the_predictions_file_before_any_model_are_a_nothing_yet_state(client, pi):
    client.force_login(pi)
    report = client.get("/models/dashboard/report/")
    assert report.status_code == 200 and "nothing to evaluate yet" in report.content.decode()
    table = client.get("/models/dashboard/predictions.csv")
    assert table.status_code == 200 and table.content.decode().splitlines() == [
        "case_id,study_id,subset,true_class,predicted_class,correct,p_normal,p_osteopenia,p_osteoporosis,dice"
    ]
