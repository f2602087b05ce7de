from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from cases.selectors import cases_visible_to
from jobs.selectors import jobs_active_count


@login_required
def home(request):
    cases = cases_visible_to(request.user)
    return render(
        request,
        "home.html",
        {
            "n_cases": cases.count(),
            "n_excluded": cases.filter(exclusions__isnull=False).distinct().count(),
            "n_running": jobs_active_count(request.user),
        },
    )
