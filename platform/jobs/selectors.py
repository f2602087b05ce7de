from django.db.models import QuerySet

from .access import sees_every_job
from .models import Job


def jobs_visible_to(user) -> QuerySet[Job]:
    """Coordinators, PIs and admins see every job (they run the study: an import, a training or the demo
    pipeline started by someone else is theirs to follow); a reader sees their own."""
    jobs = Job.objects.select_related("owner")
    if sees_every_job(user):
        return jobs
    return jobs.filter(owner=user)


def jobs_active_count(user) -> int:
    """Running or queued jobs the user can see: the one number the home card and /jobs/ both show."""
    return jobs_visible_to(user).filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).count()
