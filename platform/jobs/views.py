from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from .selectors import jobs_visible_to


@login_required
def job_list(request):
    return render(request, "jobs/list.html", {"jobs": jobs_visible_to(request.user)[:100]})


@login_required
def job_detail(request, pk: int):
    job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
    return render(request, "jobs/detail.html", {"job": job})
