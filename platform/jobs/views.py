from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .access import cancels_any_job
from .selectors import jobs_active_count, jobs_visible_to

# The list shows the newest jobs; older ones stay reachable through the API.
JOBS_SHOWN = 100


@login_required
def job_list(request):
    return render(
        request,
        "jobs/list.html",
        {
            "jobs": jobs_visible_to(request.user)[:JOBS_SHOWN],
            "n_active": jobs_active_count(request.user),
        },
    )


@login_required
def job_detail(request, pk: int):
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    return render(
        request,
        "jobs/detail.html",
        {
            "job": job,
            "traceback": job.data.get("traceback", "") if cancels_any_job(request.user) else "",
            "result": job.result or {},
        },
    )
