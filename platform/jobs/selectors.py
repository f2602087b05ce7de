from django.db.models import QuerySet

from accounts.roles import Role, has_role

from .models import Job


def jobs_visible_to(user) -> QuerySet[Job]:
    """PIs and admins see every job; everyone else sees their own."""
    jobs = Job.objects.select_related("owner")
    if has_role(user, Role.PI, Role.ADMIN):
        return jobs
    return jobs.filter(owner=user)
