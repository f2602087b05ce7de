"""What people read about jobs: one count on the home card and /jobs/, titles in the study's words,
a parent bar that follows the child it runs, and a failure told in plain words (traceback for admins)."""

from django.utils import timezone

from inference.training.jobgroups import jobs_await
from jobs.models import Job
from jobs.registry import JobContext, job_handler
from jobs.services import job_run

from selftest_job import SELFTEST_JOB

PARENT_PROGRESS_SEEN: list[float] = []


@job_handler("tests.probe_parent", queue="cpu")
def probe_parent(ctx: JobContext) -> dict:
    """Half way through, note how far its parent's bar has moved."""
    ctx.progress(50, "half way")
    PARENT_PROGRESS_SEEN.append(Job.objects.get(pk=ctx.params["parent_id"]).progress)
    return {}


@job_handler("tests.fails_with_a_path", queue="cpu")
def fails_with_a_path(ctx: JobContext) -> dict:
    raise ValueError("cannot read /srv/osteoscreen/media/staging/tmpab12cd.nii.gz: truncated")


@job_handler("tests.crashes", queue="cpu")
def crashes(ctx: JobContext) -> dict:
    raise KeyError("model_version_id")


def running(kind=SELFTEST_JOB, owner=None, **params) -> Job:
    return Job.objects.create(
        kind=kind,
        owner=owner,
        status=Job.Status.RUNNING,
        params=params,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def test_the_coordinator_sees_the_jobs_others_run_on_the_home_card_and_the_jobs_page(client, coordinator, pi):
    running(owner=pi)
    running(kind="segmentation.train", owner=None, subject="Demo study")
    client.force_login(coordinator)
    assert "2 running or queued." in client.get("/").content.decode()
    page = client.get("/jobs/").content.decode()
    assert "<b>2</b> running or queued." in page
    assert "Train segmentation cascade · Demo study" in page and "No jobs yet" not in page


def test_a_reader_sees_only_their_own_jobs(client, reader, pi):
    running(owner=pi)
    client.force_login(reader)
    assert "0 running or queued." in client.get("/").content.decode()


def test_a_job_title_names_the_kind_and_the_study_id_never_a_database_id(db):
    job = running(kind="annotations.agreement", first_revision_id=3, subject="SYN-0056")
    assert job.title == "Interobserver agreement · SYN-0056"


def test_the_parent_bar_follows_the_child_it_runs_in_its_own_process(db):
    parent = running(kind="models.demo_pipeline")
    child = Job.objects.create(kind="tests.probe_parent", params={"parent_id": parent.pk})
    PARENT_PROGRESS_SEEN.clear()
    jobs_await(JobContext(parent), [child.pk], percent_from=0, percent_to=70, what="segmentation training")
    assert PARENT_PROGRESS_SEEN == [35.0]


def test_a_failed_job_tells_the_user_without_server_paths_and_keeps_the_traceback_for_admins(
    client, admin_user, coordinator
):
    refused = Job.objects.create(kind="tests.fails_with_a_path", owner=coordinator)
    crashed = Job.objects.create(kind="tests.crashes", owner=coordinator)
    job_run(job_id=refused.pk)
    job_run(job_id=crashed.pk)
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert refused.error == "cannot read (a file on the server): truncated"
    assert "Traceback" not in crashed.error and "internal error" in crashed.error
    client.force_login(coordinator)
    assert "Traceback" not in client.get(f"/jobs/{crashed.pk}/").content.decode()
    assert "traceback" not in client.get(f"/api/jobs/{crashed.pk}/").json()["data"]
    client.force_login(admin_user)
    assert "KeyError" in client.get(f"/jobs/{crashed.pk}/").content.decode()
