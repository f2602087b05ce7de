"""Who sees and cancels whose jobs: roles decide (registered by the project package, since jobs may not
import accounts)."""

from cases.kinds import IMPORT_FILE_JOB
from jobs.models import Job


def _job_of(owner) -> Job:
    return Job.objects.create(kind=IMPORT_FILE_JOB, owner=owner, queue="cpu")


def test_a_pi_sees_every_job_and_a_reader_only_their_own(api_client, pi, reader, coordinator):
    others = _job_of(coordinator)
    own = _job_of(reader)

    api_client.force_authenticate(pi)
    seen_by_pi = {row["id"] for row in api_client.get("/api/jobs/").json()["results"]}
    api_client.force_authenticate(reader)
    seen_by_reader = {row["id"] for row in api_client.get("/api/jobs/").json()["results"]}

    assert seen_by_pi == {others.pk, own.pk}
    assert seen_by_reader == {own.pk}


def test_only_an_admin_cancels_someone_elses_job(api_client, pi, admin_user, coordinator):
    job = _job_of(coordinator)

    api_client.force_authenticate(pi)
    refused = api_client.post(f"/api/jobs/{job.pk}/cancel/")
    api_client.force_authenticate(admin_user)
    cancelled = api_client.post(f"/api/jobs/{job.pk}/cancel/")

    assert refused.status_code == 403
    assert cancelled.status_code == 200 and cancelled.json()["cancel_requested"] is True
