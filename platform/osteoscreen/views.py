from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from cases.selectors import cases_visible_to
from jobs.models import Job
from jobs.selectors import jobs_visible_to


@login_required
def home(request):
    cases = cases_visible_to(request.user)
    return render(request, "home.html", {
        "n_cases": cases.count(),
        "n_excluded": cases.filter(exclusions__isnull=False).distinct().count(),
        "n_running": jobs_visible_to(request.user).filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).count(),
    })
