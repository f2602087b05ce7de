from django.db.models import QuerySet

from .access import sees_every_job
from .models import Job


def jobs_visible_to(user) -> QuerySet[Job]:
    """PIs and admins see every job; everyone else sees their own."""
    jobs = Job.objects.select_related("owner")
    if sees_every_job(user):
        return jobs
    return jobs.filter(owner=user)
